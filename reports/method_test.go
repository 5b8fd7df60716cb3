package reports

import (
	"testing"

	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// TestMethodLine: the method sentence names each test, relative interval
// and correction by the typed value of results.json.
func TestMethodLine(t *testing.T) {
	for _, tc := range []struct {
		ex   results.Experiment
		want string
	}{
		{results.Experiment{Correction: stats.HolmCorrection, CorrectionScope: "family"},
			"Welch t test · delta-method interval for relative lift · Holm correction within the primary, secondary and guardrail metrics apart"},
		{results.Experiment{Test: stats.Z, RelativeCI: stats.FiellerCI, Correction: stats.NoCorrection, CUPED: true},
			"z test · Fieller interval for relative lift (agrees with the test) · CUPED adjustment"},
		{results.Experiment{Test: stats.StudentPooled, RelativeCI: stats.LogCI, Correction: stats.BYCorrection, CorrectionScope: "all"},
			"Student t test with pooled variance · log-scale interval for relative lift · Benjamini–Yekutieli correction across all metrics"},
		{results.Experiment{Correction: stats.BonferroniCorrection, CorrectionScope: "metric", Segments: []string{"channel"},
			SegmentCorrection: stats.BHCorrection},
			"Welch t test · delta-method interval for relative lift · Bonferroni correction within each metric across variants · " +
				"Benjamini–Hochberg within each segment column"},
		{results.Experiment{Correction: stats.HolmCorrection, CorrectionScope: "none"},
			"Welch t test · delta-method interval for relative lift"},
	} {
		tc.ex.Alpha = 0.05
		if got := methodLine(&results.Results{Experiment: tc.ex}); got != tc.want+" · α = 0.05" {
			t.Errorf("methodLine(%+v) =\n%q\nwant\n%q", tc.ex, got, tc.want)
		}
	}
	// Rows randomized by shop name their cluster tests instead of Welch.
	res := &results.Results{Experiment: results.Experiment{Alpha: 0.05, Unit: "shop_id", Inference: stats.InferenceAuto},
		Rows: []results.Row{{Inference: "randomization"}, {Inference: "cr2"}}}
	want := "randomization test and CR2 t test (inference auto, randomized by shop_id) · α = 0.05"
	if got := methodLine(res); got != want {
		t.Errorf("clustered: %q, want %q", got, want)
	}
}

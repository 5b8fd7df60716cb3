package analysis

import (
	"testing"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/stats"
)

// TestConfigValidate: the options are judged as given and keyed as in the
// analysis: block; the metrics' shapes are checked; every problem is listed.
func TestConfigValidate(t *testing.T) {
	o := DefaultOptions()
	if err := o.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	bad := Options{Alpha: 0, Test: stats.StudentPooled, RelativeCI: stats.LogCI, Correction: "sidak",
		CorrectionScope: "everything", SegmentCorrection: "sidak", Population: "some", Currency: "usd"}
	want := "alpha: 0 is outside (0, 1); test: pooled is not offered by the analysis (want welch, z); " +
		"relative_ci: log is not offered by the analysis (want delta, fieller); " +
		`correction: "sidak" is not one of none, holm, bh, bonferroni, by, hochberg; ` +
		`correction_scope: "everything" is not one of none, metric, family, all; ` +
		`segment_correction: "sidak" is not one of none, holm, bh, bonferroni, by, hochberg; ` +
		`population: "some" is not triggered or all; ` +
		`currency: "usd" is not an ISO 4217 code such as USD (three capital letters) or "mixed"`
	if err := bad.Validate(); err == nil || err.Error() != want {
		t.Errorf("Options.Validate:\n%v\nwant\n%s", err, want)
	}
	cfg := Config{VariantCol: "v", Options: DefaultOptions(), Metrics: []Metric{
		{Name: "r", Type: metrics.Ratio, Columns: []string{"y"}},
		{Name: "q", Type: metrics.Quantile, Columns: []string{"y"}, Q: 1},
		{Name: "m", Type: "median", Columns: []string{"y"}},
	}}
	want = "metric r: a ratio metric reads a numerator and a denominator column; metric q: quantile level 1 is not in (0, 1); " +
		`metric m: type "median" is not one of proportion, mean, ratio, quantile`
	if err := cfg.Validate(); err == nil || err.Error() != want {
		t.Errorf("Config.Validate:\n%v\nwant\n%s", err, want)
	}
	// Analyze fills the zero values that have defaults before judging.
	var z Config
	z.applyDefaults()
	if z.Alpha != DefaultAlpha || z.SRMAlpha != DefaultSRMAlpha || z.Correction != DefaultCorrection || z.Test != stats.Welch ||
		z.CorrectionScope != ScopeFamily || z.SegmentCorrection != DefaultSegmentCorrection || z.Population != "triggered" {
		t.Errorf("defaults %+v", z)
	}
}

package analysis

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/metrics"
)

// TestZeroControlKeepsAbsoluteEffect: 200 control conversations without an
// order and 200 treatment conversations with 20 (issue 12's case). The
// absolute effect (+0.10) and its p-value (Welch t = 0.1/√(0.1·0.9/200)
// = 4.714 on 199 df: p = 4.6e-6, scipy.stats.t.sf(4.714, 199)·2) stand and
// the row is significant; only the relative effect is null, with its
// reason.
func TestZeroControlKeepsAbsoluteEffect(t *testing.T) {
	var b strings.Builder
	b.WriteString("variant,converted\n")
	for i := range 400 {
		arm, y := "control", 0
		if i >= 200 {
			arm = "treatment"
			if i < 220 {
				y = 1
			}
		}
		fmt.Fprintf(&b, "%s,%d\n", arm, y)
	}
	p := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Name: "z", VariantCol: "variant", Control: "control",
		Metrics: []Metric{{Name: "conversion", Type: metrics.Proportion, Columns: []string{"converted"}}}}
	res := analyzeCSV(t, cfg, p)
	row := res.Rows[0]
	if row.Reason != "" || !row.Significant || row.Inference != "welch" {
		t.Fatalf("row %+v", row)
	}
	if math.Abs(float64(row.Absolute.Estimate)-0.1) > 1e-12 {
		t.Errorf("absolute effect %v, want 0.1", row.Absolute.Estimate)
	}
	if pv := float64(row.PValue); math.Abs(pv-4.6e-6)/4.6e-6 > 0.05 {
		t.Errorf("p = %v, want about 4.6e-6", pv)
	}
	if row.Relative.Estimate.Valid() || row.RelativeReason != "control mean is zero: relative effect undefined" {
		t.Errorf("relative %+v, reason %q", row.Relative, row.RelativeReason)
	}
}

// TestIndependenceAndDesignWarnings: without a cluster column results.json
// says rows are assumed independent; with one, it names the unit, and an arm
// of few shops, one of which holds most rows, draws both design warnings.
func TestIndependenceAndDesignWarnings(t *testing.T) {
	var b strings.Builder
	b.WriteString("variant,shop,converted\n")
	for arm, name := range []string{"control", "treatment"} {
		for s := range 6 {
			n := 5
			if s == 0 && arm == 1 {
				n = 200 // one shop with most of the treatment arm
			}
			for i := range n {
				fmt.Fprintf(&b, "%s,%s-%d,%d\n", name, name, s, (i+s)%3/2)
			}
		}
	}
	p := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Name: "w", VariantCol: "variant", Control: "control",
		Metrics: []Metric{{Name: "conversion", Type: metrics.Proportion, Columns: []string{"converted"}}}}
	res := analyzeCSV(t, cfg, p)
	if !strings.Contains(res.Experiment.Independence, "no cluster column") || len(res.Warnings) != 0 {
		t.Errorf("unclustered: independence %q, warnings %q", res.Experiment.Independence, res.Warnings)
	}
	cfg.ClusterCol = "shop"
	res = analyzeCSV(t, cfg, p)
	if !strings.Contains(res.Experiment.Independence, "grouped by shop") || res.Rows[0].Inference != "randomization" ||
		res.Experiment.Redraw != "permutation" {
		t.Errorf("clustered: independence %q, inference %q, redraw %q", res.Experiment.Independence, res.Rows[0].Inference, res.Experiment.Redraw)
	}
	joined := strings.Join(res.Warnings, "\n")
	if strings.Contains(joined, "arm control: one shop") {
		t.Errorf("six equal shops draw a concentration warning:\n%s", joined)
	}
	for _, want := range []string{"arm control has only 6 shops", "arm treatment has only 6 shops", "arm treatment: one shop holds 89% of the arm's rows"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
}

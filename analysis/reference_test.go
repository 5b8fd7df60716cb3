package analysis

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// writeCSV writes a per-unit table: for each arm, count[v] rows with value v.
func writeCSV(t *testing.T, header string, arms map[string][][2]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(header + "\n")
	for _, arm := range []string{"control", "treatment"} {
		for _, vc := range arms[arm] {
			var n int
			fmt.Sscan(vc[1], &n)
			for i := 0; i < n; i++ {
				fmt.Fprintf(&b, "%s,%s\n", arm, vc[0])
			}
		}
	}
	p := filepath.Join(t.TempDir(), "units.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func near(t *testing.T, what string, got results.Num, want, tol float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > tol {
		t.Errorf("%s = %.7f, want %.7f ± %g", what, float64(got), want, tol)
	}
}

// TT-1 (../shared/REFERENCES.md; tea-tasting tests/metrics/test_mean.py::
// test_ratio_of_means_analyze_basic): orders per user, control n=53 Σ=30
// Σ²=58, treatment n=47 Σ=18 Σ²=30, Welch t. The CSV below has exactly those
// sufficient statistics: control 37×0, 2×1, 14×2 (Σ=30, Σ²=58); treatment
// 35×0, 6×1, 6×2 (Σ=18, Σ²=30).
func TestGenericCSVReproducesTT1(t *testing.T) {
	p := writeCSV(t, "group,orders", map[string][][2]string{
		"control":   {{"0", "37"}, {"1", "2"}, {"2", "14"}},
		"treatment": {{"0", "35"}, {"1", "6"}, {"2", "6"}},
	})
	tbl, err := OpenTable(p)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{VariantCol: "group", Control: "control", Options: Options{Correction: stats.NoCorrection},
		Metrics: []Metric{{Name: "orders", Type: metrics.Mean, Columns: []string{"orders"}}}}
	res, err := Analyze(cfg, tbl, Context{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rows[0]
	near(t, "control mean", r.Control.Mean, 0.5660377, 1e-7)
	near(t, "treatment mean", r.Treatment.Mean, 0.3829787, 1e-7)
	near(t, "diff", r.Absolute.Estimate, -0.183059, 1e-6)
	near(t, "ci lower", r.Absolute.CILower, -0.500436, 1e-6)
	near(t, "ci upper", r.Absolute.CIUpper, 0.134318, 1e-6)
	near(t, "p", r.PValue, 0.2551231, 1e-7)
	if r.Significant || r.Control.Units != 53 || r.Treatment.Units != 47 {
		t.Errorf("row %+v", r)
	}
}

// GB-2 (REFERENCES.md; GrowthBook test_tests.py::test_two_sided_ttest_binom):
// A 14/28, B 16/30 as a proportion, written as True/False text: relative lift
// 0.06667, CI (−0.47767, 0.61101). (GrowthBook's p 0.80707 tests the
// relative effect; results.json's p_value tests the absolute difference.)
func TestGenericCSVReproducesGB2Booleans(t *testing.T) {
	p := writeCSV(t, "variant,converted", map[string][][2]string{
		"control":   {{"True", "14"}, {"False", "14"}},
		"treatment": {{"true", "16"}, {"0", "14"}},
	})
	tbl, _ := OpenTable(p)
	cfg := Config{VariantCol: "variant", Control: "control",
		Metrics: []Metric{{Name: "converted", Type: metrics.Proportion, Columns: []string{"converted"}}}}
	res, err := Analyze(cfg, tbl, Context{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rows[0]
	near(t, "relative", r.Relative.Estimate, 0.06667, 1e-5)
	near(t, "rel ci lower", r.Relative.CILower, -0.47767, 1e-5)
	near(t, "rel ci upper", r.Relative.CIUpper, 0.61101, 1e-5)
}

func TestGenericCSVNonNumberNamesRowAndColumn(t *testing.T) {
	p := filepath.Join(t.TempDir(), "u.csv")
	os.WriteFile(p, []byte("variant,y\ncontrol,1\ntreatment,2\ncontrol,abc\n"), 0o644)
	tbl, _ := OpenTable(p)
	_, err := Analyze(Config{VariantCol: "variant", Metrics: []Metric{{Name: "y", Type: metrics.Mean, Columns: []string{"y"}}}}, tbl, Context{})
	if err == nil || !strings.Contains(err.Error(), "row 3") || !strings.Contains(err.Error(), "column y") {
		t.Fatalf("want an error naming row 3 and column y, got %v", err)
	}
}

// TestAnalyzeDeterministic: the metrics are accumulated concurrently; the
// output bytes must not depend on scheduling.
func TestAnalyzeDeterministic(t *testing.T) {
	p := filepath.Join(t.TempDir(), "units.parquet")
	if err := writeBenchUnits(p, 200_000); err != nil {
		t.Fatal(err)
	}
	var first []byte
	for i := 0; i < 3; i++ {
		tbl, _ := OpenTable(p)
		cfg := benchConfig()
		cfg.Sequential, cfg.Bayesian = true, true
		res, err := Analyze(cfg, tbl, Context{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := results.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
			if len(res.Rows) != 3*4*2 || len(res.TimeSeries) != 2 || len(res.TimeSeries[0].Points) != 28 {
				t.Fatalf("rows %d, series %d", len(res.Rows), len(res.TimeSeries))
			}
			// The series is cumulative: its last point counts every row of
			// the all-population, all-segment comparison.
			pts := res.TimeSeries[0].Points
			last, row := pts[len(pts)-1], res.Rows[0]
			if last.ControlUnits != row.Control.Units || last.TreatmentUnits != row.Treatment.Units {
				t.Errorf("last point units %d/%d, row units %d/%d", last.ControlUnits, last.TreatmentUnits, row.Control.Units, row.Treatment.Units)
			}
			if pts[0].ControlUnits >= last.ControlUnits {
				t.Errorf("series not cumulative: first %d, last %d", pts[0].ControlUnits, last.ControlUnits)
			}
		} else if string(b) != string(first) {
			t.Fatalf("run %d differs from run 0", i)
		}
	}
}

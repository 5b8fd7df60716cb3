package analysis

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
)

func tableFile(t *testing.T, csv string) Table {
	t.Helper()
	p := filepath.Join(t.TempDir(), "units.csv")
	if err := os.WriteFile(p, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	tbl, err := OpenTable(p)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestUndefinedIsAnError: an arm of the experiment without rows, a
// quantile metric without any value, and a ratio whose denominator is 0
// in every arm are errors saying what is missing and what to try, not
// tables of NaN.
func TestUndefinedIsAnError(t *testing.T) {
	arms := []results.Variant{{Name: "control", Weight: 0.5}, {Name: "treatment", Weight: 0.5}}
	for _, c := range []struct {
		name   string
		csv    string
		metric Metric
		want   string
	}{
		{"empty arm", "variant,y\ncontrol,1\ncontrol,0\n", Metric{Name: "conv", Type: metrics.Proportion, Columns: []string{"y"}},
			"arm treatment has no rows (column variant: control 2)"},
		{"quantile without values", "variant,y\ncontrol,\ntreatment,\n", Metric{Name: "reply", Type: metrics.Quantile, Q: 0.5, Columns: []string{"y"}},
			"metric reply: column y has no value in any row"},
		{"ratio with zero denominators", "variant,n,d\ncontrol,0,0\ntreatment,1,0\n", Metric{Name: "aov", Type: metrics.Ratio, Columns: []string{"n", "d"}},
			"metric aov: the denominator d sums to 0 in every arm"},
	} {
		cfg := Config{VariantCol: "variant", Variants: arms, Control: "control", Metrics: []Metric{c.metric}}
		_, err := Analyze(cfg, tableFile(t, c.csv), Context{})
		var ue *UndefinedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
}

// TestUndefinedInOneArmHasAReason: a ratio undefined in one arm only
// (no orders in control) is analysed; its row carries a reason and null
// numbers rather than NaN, and results.json has no NaN.
func TestUndefinedInOneArmHasAReason(t *testing.T) {
	cfg := Config{VariantCol: "variant", Metrics: []Metric{{Name: "aov", Type: metrics.Ratio, Columns: []string{"rev", "orders"}}}}
	res, err := Analyze(cfg, tableFile(t, "variant,rev,orders\ncontrol,0,0\ncontrol,0,0\ntreatment,10,1\ntreatment,30,1\n"), Context{})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rows[0]
	if r.Reason == "" || r.Relative.Estimate.Valid() || r.PValue.Valid() {
		t.Errorf("row %+v: want a reason and undefined numbers", r)
	}
	b, err := results.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "NaN") || strings.Contains(string(b), "Inf") {
		t.Errorf("results.json holds NaN or Inf:\n%s", b)
	}
}

// TestSRMNotRun: an SRM test that cannot run (one weighted arm) is a
// not_run gate with a null p-value, never a pass.
func TestSRMNotRun(t *testing.T) {
	cfg := Config{VariantCol: "variant", Variants: []results.Variant{{Name: "control", Weight: 1}, {Name: "treatment", Weight: 0}},
		Control: "control", Metrics: []Metric{{Name: "conv", Type: metrics.Proportion, Columns: []string{"y"}}}}
	res, err := Analyze(cfg, tableFile(t, "variant,y\ncontrol,1\ncontrol,0\ntreatment,1\ntreatment,0\n"), Context{})
	if err != nil {
		t.Fatal(err)
	}
	if srm := res.Health.SRM; srm == nil || srm.Reason == "" || srm.PValue.Valid() {
		t.Fatalf("srm %+v: want a reason and a null p-value", res.Health.SRM)
	}
	g := res.Gates.Checks[0]
	if g.Kind != "srm" || !g.NotRun || !strings.HasPrefix(g.Reason, "not run: ") || g.Value.Valid() {
		t.Errorf("gate %+v: want not run", g)
	}
}

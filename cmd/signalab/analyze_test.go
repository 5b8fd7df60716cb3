package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
)

// tt1CSV is a per-user table whose sufficient statistics are tea-tasting's
// TT-1 (../shared/REFERENCES.md): orders, control n=53 Σ=30 Σ²=58,
// treatment n=47 Σ=18 Σ²=30 (control 37×0, 2×1, 14×2; treatment 35×0, 6×1,
// 6×2), plus a boolean has_order written True/False.
func tt1CSV(t *testing.T) string {
	var b strings.Builder
	b.WriteString("user,group,orders,has_order\n")
	u := 0
	add := func(group string, v string, n int) {
		for i := 0; i < n; i++ {
			u++
			has := "False"
			if v != "0" {
				has = "True"
			}
			b.WriteString("u" + string(rune('a'+u%26)) + "," + group + "," + v + "," + has + "\n")
		}
	}
	add("A", "0", 37)
	add("A", "1", 2)
	add("A", "2", 14)
	add("B", "0", 35)
	add("B", "1", 6)
	add("B", "2", 6)
	p := filepath.Join(t.TempDir(), "users.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAnalyzeGenericCSVMatchesTT1(t *testing.T) {
	csv, out := tt1CSV(t), t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"analyze", "--units", csv, "--variant", "group", "--control", "A",
		"--metric", "orders:mean", "--metric", "has_order:proportion", "--correction", "none", "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	r, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	row := r.Rows[0]
	// TT-1: diff −0.183059, CI (−0.500436, 0.134318), p 0.2551231.
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"diff", float64(row.Absolute.Estimate), -0.183059},
		{"ci lower", float64(row.Absolute.CILower), -0.500436},
		{"ci upper", float64(row.Absolute.CIUpper), 0.134318},
		{"p", float64(row.PValue), 0.2551231},
	} {
		if math.Abs(c.got-c.want) > 1e-6 {
			t.Errorf("%s = %.7f, want %.7f", c.name, c.got, c.want)
		}
	}
	// has_order: 16/53 vs 12/47 (a second, independent count of the same rows).
	hr := r.Rows[1]
	if hr.Control.Units != 53 || float64(hr.Control.Numerator) != 16 || float64(hr.Treatment.Numerator) != 12 {
		t.Errorf("has_order row %+v", hr.Control)
	}
	if !strings.Contains(stdout.String(), "orders") || !strings.Contains(stdout.String(), "gate srm: pass") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	if _, err := os.Stat(filepath.Join(out, "results.parquet")); err != nil {
		t.Error(err)
	}
}

func TestAnalyzeErrors(t *testing.T) {
	csv := tt1CSV(t)
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("group,y\nA,1\nB,2\nA,n/a\n"), 0o644)
	cases := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"analyze", "--units", csv, "--out", t.TempDir()}, 2, []string{"--experiment", "Try:"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:median", "--out", t.TempDir()}, 2,
			[]string{`--metric "orders:median": unknown metric type "median" (want proportion, mean, ratio or quantile)`, "Try:"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:mean", "--test", "t", "--out", t.TempDir()}, 2,
			[]string{`invalid argument "t" for "--test" flag: unknown test "t" (want welch, z or pooled)`, "Try:"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:mean", "--test", "pooled", "--out", t.TempDir()}, 2,
			[]string{"test: pooled is not offered by the analysis (want welch, z)"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:mean", "--correction", "sidak", "--out", t.TempDir()}, 2,
			[]string{`unknown correction "sidak" (want none, holm, bh, bonferroni, by or hochberg)`}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:ratio", "--out", t.TempDir()}, 2, []string{"NUM/DEN:ratio"}},
		{[]string{"analyze", "--units", bad, "--variant", "group", "--metric", "y:mean", "--out", t.TempDir()}, 2, []string{"row 3", "column y", `"n/a"`}},
		{[]string{"analyze", "--units", csv, "--variant", "nosuch", "--metric", "orders:mean", "--out", t.TempDir()}, 2, []string{"nosuch", "have:"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--control", "Z", "--metric", "orders:mean", "--out", t.TempDir()}, 2, []string{`control "Z"`, "values found: A, B"}},
		// Without --control and no value named "control", the command does not guess (the first value seen depends on row order).
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:mean", "--out", t.TempDir()}, 2,
			[]string{`no value of column group is named "control" (values found: A, B)`, "Try: --control A"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--control", "A", "--metric", "orders:mean", "--guardrail", "orders=x", "--out", t.TempDir()}, 2,
			[]string{`--guardrail "orders=x": want NAME=MARGIN`}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--control", "A", "--metric", "orders:mean", "--primary", "nope", "--out", t.TempDir()}, 2,
			[]string{`--primary "nope" names no --metric (metrics: orders)`}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--control", "A", "--metric", "orders:mean", "--guardrail", "orders=0.05", "--out", t.TempDir()}, 2,
			[]string{"want a negative margin"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--control", "A", "--metric", "orders:mean", "--gate", "always", "--out", t.TempDir()}, 2,
			[]string{`unknown gate "always"`}},
		{[]string{"analyze", "--units", "/nonexistent.csv", "--variant", "group", "--metric", "orders:mean", "--out", t.TempDir()}, 2, []string{"nonexistent"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:proportion", "--out", t.TempDir()}, 2, []string{"column orders", "is not 0 or 1"}},
		{[]string{"metrics", "--in", t.TempDir(), "--out", "y"}, 2, []string{"--experiment is required", "Try:"}},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code != c.code {
			t.Errorf("%v: exit %d, want %d (stderr %s)", c.args, code, c.code, stderr.String())
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr.String(), w)
			}
		}
	}
}

func TestParseMetricFlag(t *testing.T) {
	m, err := parseMetricFlag("aov=revenue/orders:ratio")
	if err != nil || m.Name != "aov" || m.Type != metrics.Ratio || m.Columns[0] != "revenue" || m.Columns[1] != "orders" {
		t.Errorf("%+v %v", m, err)
	}
	m, err = parseMetricFlag("reply:quantile:0.9")
	if err != nil || m.Name != "reply" || m.Q != 0.9 {
		t.Errorf("%+v %v", m, err)
	}
	for _, s := range []string{"x", ":mean", "x:quantile", "x:quantile:2", "x:mean:3", "a/:ratio"} {
		if _, err := parseMetricFlag(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

// momentsColumn returns n values whose Σy and Σy² equal sum and sumSq (up to
// rounding): a fixed pattern standardised, then scaled to the target mean
// and sample variance.
func momentsColumn(n int, sum, sumSq float64) []float64 {
	x := make([]float64, n)
	var m, ss float64
	for i := range x {
		x[i] = float64((i*7919)%101) + float64(i%3) // any non-constant pattern
		m += x[i]
	}
	m /= float64(n)
	for _, v := range x {
		ss += (v - m) * (v - m)
	}
	mean := sum / float64(n)
	targetSS := sumSq - sum*sum/float64(n)
	scale := math.Sqrt(targetSS / ss)
	for i := range x {
		x[i] = mean + (x[i]-m)*scale
	}
	return x
}

// GB-1 (REFERENCES.md; GrowthBook test_tests.py::TestTwoSidedTTest): a CSV
// with A: Σy=1396.87, Σy²=52377.9767, n=3407 and B: Σy=2422.7,
// Σy²=134698.29, n=3461 gives absolute 0.29, CI (0.04538, 0.53462), p 0.02016
// and relative 0.70732, CI (−0.03526, 1.44989) (5 decimals upstream).
func TestAnalyzeGenericCSVMatchesGB1(t *testing.T) {
	var b strings.Builder
	b.WriteString("arm,y\n")
	for _, arm := range []struct {
		name       string
		n          int
		sum, sumSq float64
	}{{"A", 3407, 1396.87, 52377.9767}, {"B", 3461, 2422.7, 134698.29}} {
		for _, v := range momentsColumn(arm.n, arm.sum, arm.sumSq) {
			fmt.Fprintf(&b, "%s,%.17g\n", arm.name, v)
		}
	}
	csv := filepath.Join(t.TempDir(), "gb1.csv")
	os.WriteFile(csv, []byte(b.String()), 0o644)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	// GrowthBook's relative interval is the delta method's (signalab's
	// default is Fieller's, which agrees with the test).
	if code := run([]string{"analyze", "--units", csv, "--variant", "arm", "--control", "A", "--metric", "y:mean",
		"--relative-ci", "delta", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	r, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	row := r.Rows[0]
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"abs", float64(row.Absolute.Estimate), 0.29}, {"abs lower", float64(row.Absolute.CILower), 0.04538},
		{"abs upper", float64(row.Absolute.CIUpper), 0.53462}, {"p", float64(row.PValue), 0.02016},
		{"rel", float64(row.Relative.Estimate), 0.70732}, {"rel lower", float64(row.Relative.CILower), -0.03526},
		{"rel upper", float64(row.Relative.CIUpper), 1.44989},
	} {
		if math.Abs(c.got-c.want) > 1e-5 {
			t.Errorf("%s = %.6f, want %.5f ± 1e-5", c.name, c.got, c.want)
		}
	}
}

// TestAnalyzeGenericCUPEDFlag: --cuped on a table built as y = 0.8·x +
// bounded noise (+0.5 in treatment) must estimate θ near 0.8 with a large
// variance reduction (the reference values of CUPED itself are stats' GB-9
// and GB-10 tests); malformed --cuped values are usage errors.
func TestAnalyzeGenericCUPEDFlag(t *testing.T) {
	var b strings.Builder
	b.WriteString("arm,y,x\n")
	for i := 0; i < 400; i++ {
		x := float64(i % 17)
		y := 0.8*x + float64((i*31)%7)
		arm := "c"
		if i%2 == 1 {
			arm, y = "t", y+0.5
		}
		fmt.Fprintf(&b, "%s,%g,%g\n", arm, y, x)
	}
	csv := filepath.Join(t.TempDir(), "cuped.csv")
	os.WriteFile(csv, []byte(b.String()), 0o644)
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"analyze", "--units", csv, "--variant", "arm", "--control", "c", "--metric", "y:mean", "--cuped", "y=x", "--out", out}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	r, _ := results.Read(filepath.Join(out, "results.json"))
	row := r.Rows[0]
	if row.CUPED == nil || float64(row.CUPED.VarianceReduction) < 0.5 || math.Abs(float64(row.CUPED.Theta)-0.8) > 0.2 {
		t.Errorf("CUPED %+v: y = 0.8x + noise should give θ ≈ 0.8 and a large variance reduction", row.CUPED)
	}
	for _, bad := range []string{"nosuch=x", "y", "y=x/z"} {
		stderr.Reset()
		if code := run([]string{"analyze", "--units", csv, "--variant", "arm", "--control", "c", "--metric", "y:mean", "--cuped", bad, "--out", out}, &stdout, &stderr); code != 2 {
			t.Errorf("--cuped %s: exit %d", bad, code)
		}
	}
}

// TestAnalyzeGatesAndRoles: analyze exits as run does. A generic table with
// 600 control and 400 treatment rows (planned equal: χ² = 40, p = 2.5e-10)
// fails the SRM gate (exit 1, like run; it used to print "gate srm: FAIL"
// and exit 0); --gate none lets it through. The roles flags reach
// results.json and the verdict.
func TestAnalyzeGatesAndRoles(t *testing.T) {
	var b strings.Builder
	b.WriteString("arm,converted,revenue_cents,orders\n")
	for i := 0; i < 1000; i++ {
		arm := "control"
		if i >= 600 {
			arm = "treatment"
		}
		conv := 0
		if (i*7)%10 < 3 {
			conv = 1
		}
		fmt.Fprintf(&b, "%s,%d,%d,%d\n", arm, conv, conv*(1000+(i*37)%900), conv)
	}
	csv := filepath.Join(t.TempDir(), "srm.csv")
	os.WriteFile(csv, []byte(b.String()), 0o644)
	args := []string{"analyze", "--units", csv, "--variant", "arm", "--metric", "converted:proportion",
		"--metric", "aov=revenue_cents/orders:ratio", "--metric", "revenue_cents:mean", "--primary", "converted",
		"--guardrail", "aov=-5%", "--currency", "EUR"}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	if code := run(append(args, "--out", out), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "srm: sample ratio mismatch") {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "verdict: don't ship") || !strings.Contains(stdout.String(), "gate srm: FAIL") ||
		!strings.Contains(stdout.String(), "aov (EUR)") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	stderr.Reset()
	if code := run(append(args, "--out", out, "--gate", "none"), &stdout, &stderr); code != 0 {
		t.Fatalf("--gate none: exit %d: %s", code, stderr.String())
	}
	r, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	roles := map[string]string{}
	for _, m := range r.Metrics {
		roles[m.Name] = m.Role
	}
	if roles["converted"] != "primary" || roles["aov"] != "guardrail" || roles["revenue_cents"] != "secondary" ||
		r.Experiment.Currency != "EUR" || r.Experiment.Control != "control" || len(r.Guardrails) != 1 ||
		r.Guardrails[0].Margin != -0.05 || r.Verdict.Decision != "dont_ship" {
		t.Errorf("roles %v, currency %q, control %q, guardrails %+v, verdict %+v", roles, r.Experiment.Currency,
			r.Experiment.Control, r.Guardrails, r.Verdict)
	}
	// Money is in major units: the mean revenue per row is about 0.3 × 14.5 EUR.
	for _, row := range r.Rows {
		if row.Metric == "revenue_cents" && (float64(row.Control.Mean) < 2 || float64(row.Control.Mean) > 7) {
			t.Errorf("revenue mean %v: not in euros", row.Control.Mean)
		}
	}
}

// TestAnalyzeRecordedUnit: a unit table beside a metrics.json that records
// a coarser randomization unit (here 4 shops for 100 rows) is refused as
// independent rows (exit 2 naming the unit and the file, with the command
// to run), analysed with --cluster shop_id, and analysed as independent
// rows when --cluster "" is given explicitly; without metrics.json, or when
// every row is its own unit, nothing is refused.
func TestAnalyzeRecordedUnit(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("shop_id,variant,converted\n")
	for i := range 100 {
		fmt.Fprintf(&b, "s%d,%s,%d\n", i%4, []string{"control", "treatment"}[i%4/2], i%3/2)
	}
	table := filepath.Join(dir, "units.csv")
	if err := os.WriteFile(table, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	writeMetrics := func(units, shops int) {
		m := fmt.Sprintf(`{"unit": "shop_id", "arms": [{"variant": "control", "units": %d, "randomization_units": %d},
			{"variant": "treatment", "units": %d, "randomization_units": %d}]}`, units, shops, units, shops)
		if err := os.WriteFile(filepath.Join(dir, "metrics.json"), []byte(m), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	analyze := func(extra ...string) (int, string) {
		args := append([]string{"analyze", "--units", table, "--variant", "variant", "--metric", "converted:proportion",
			"--out", t.TempDir(), "--gate", "none"}, extra...)
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		return code, stdout.String() + stderr.String()
	}
	writeMetrics(50, 2)
	code, stderr := analyze()
	for _, want := range []string{"100 rows of 4 randomization units", "shop_id", "metrics.json", "--cluster shop_id", "Try:"} {
		if code != 2 || !strings.Contains(stderr, want) {
			t.Fatalf("rows of 4 shops as independent: exit %d, want 2 and %q in:\n%s", code, want, stderr)
		}
	}
	if code, stderr := analyze("--cluster", "shop_id"); code != 0 {
		t.Fatalf("--cluster shop_id: exit %d: %s", code, stderr)
	}
	if code, out := analyze("--cluster", ""); code != 0 || !strings.Contains(out, "its own randomization unit and rows are independent") {
		t.Fatalf(`--cluster "": exit %d: %s`, code, out)
	}
	writeMetrics(50, 50) // every row its own unit
	if code, stderr := analyze(); code != 0 {
		t.Fatalf("rows that are their own units: exit %d: %s", code, stderr)
	}
	os.Remove(filepath.Join(dir, "metrics.json"))
	if code, stderr := analyze(); code != 0 {
		t.Fatalf("no metrics.json: exit %d: %s", code, stderr)
	}
}

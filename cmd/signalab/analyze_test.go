package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:median", "--out", t.TempDir()}, 2, []string{"median", "Try:"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--metric", "orders:ratio", "--out", t.TempDir()}, 2, []string{"NUM/DEN:ratio"}},
		{[]string{"analyze", "--units", bad, "--variant", "group", "--metric", "y:mean", "--out", t.TempDir()}, 2, []string{"row 3", "column y", `"n/a"`}},
		{[]string{"analyze", "--units", csv, "--variant", "nosuch", "--metric", "orders:mean", "--out", t.TempDir()}, 2, []string{"nosuch", "have:"}},
		{[]string{"analyze", "--units", csv, "--variant", "group", "--control", "Z", "--metric", "orders:mean", "--out", t.TempDir()}, 2, []string{`control "Z"`}},
		{[]string{"analyze", "--units", "/nonexistent.csv", "--variant", "group", "--metric", "orders:mean", "--out", t.TempDir()}, 2, []string{"nonexistent"}},
		{[]string{"metrics", "--in", "x", "--out", "y"}, 2, []string{"--experiment is required", "Try:"}},
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
	if err != nil || m.Name != "aov" || m.Type != "ratio" || m.Columns[0] != "revenue" || m.Columns[1] != "orders" {
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

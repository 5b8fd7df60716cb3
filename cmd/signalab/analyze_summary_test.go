package main

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signalab/signalab/results"
)

// TestAnalyzeSummaryASOS: one ASOS experiment read straight from the
// dataset's file (../shared, skipped when absent) with --arm, --where and
// --latest gives SciPy's Welch test (testdata/asos/reference.csv).
func TestAnalyzeSummaryASOS(t *testing.T) {
	data := filepath.Join(sharedDatasets(t), "asos_digital_experiments", "asos_digital_experiments_dataset.csv")
	f, err := os.Open(filepath.Join(repoRoot(t), "testdata", "asos", "reference.csv"))
	if err != nil {
		t.Fatal(err)
	}
	ref, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want := ref[1] // 036afc, variant 2, metric 1
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "analyze", "--summary", data, "--arm", "_c=control", "--arm", "_t=treatment",
		"--metric", "value=:mean", "--where", "experiment_id="+want[0], "--where", "variant_id="+want[1],
		"--where", "metric_id="+want[2], "--latest", "time_since_start", "--out", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	res, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := res.Rows[0]
	p, _ := strconv.ParseFloat(want[11], 64)
	d, _ := strconv.ParseFloat(want[6], 64)
	nc, _ := strconv.ParseFloat(want[4], 64)
	if math.Abs(float64(r.PValue)-p) > 1e-9*p || math.Abs(float64(r.Absolute.Estimate)-d) > 1e-9*math.Abs(d) || float64(r.Control.Units) != nc {
		t.Errorf("p %v diff %v n %d; SciPy p %v diff %v n %v", r.PValue, r.Absolute.Estimate, r.Control.Units, p, d, nc)
	}
}

// TestAnalyzeSummaryHint: a per-unit analysis of a table of per-arm
// summaries (count, mean, variance) is refused with a hint toward
// --summary, which then reads it.
func TestAnalyzeSummaryHint(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "arms.csv")
	os.WriteFile(p, []byte("arm,count,mean,variance\ncontrol,1000,0.10,0.09\ntreatment,1000,0.12,0.1056\n"), 0o644)
	code, _, stderr := runCLI(t, "analyze", "--units", p, "--variant", "arm", "--metric", "mean:mean", "--out", filepath.Join(dir, "a"))
	if code != 2 || !strings.Contains(stderr, "looks like summary statistics") || !strings.Contains(stderr, "--summary") {
		t.Errorf("per-unit: exit %d, stderr %q", code, stderr)
	}
	code, stdout, stderr := runCLI(t, "analyze", "--summary", p, "--variant", "arm", "--metric", "conv=:mean", "--out", filepath.Join(dir, "b"))
	if code != 0 || !strings.Contains(stdout, "conv") {
		t.Errorf("summary: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--summary", p, "--units", p, "--variant", "arm", "--metric", "m:mean"}, "--units and --summary are alternatives"},
		{[]string{"--summary", p, "--arm", "_c=control", "--metric", "m:mean"}, "give a suffix for the control and for each treatment"},
		{[]string{"--summary", p, "--variant", "arm", "--metric", "mean"}, "want [NAME=]STEM:TYPE"},
		{[]string{"--units", p, "--variant", "arm", "--metric", "x:mean", "--where", "a=b"}, "--arm, --where and --latest shape a --summary table"},
	} {
		code, _, stderr := runCLI(t, append(append([]string{"analyze"}, c.args...), "--out", filepath.Join(dir, "x"))...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q", c.args, code, stderr)
		}
	}
}

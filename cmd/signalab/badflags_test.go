package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signalab/signalab/internal/exitcode"
)

// TestAnalyzeBadNumbers: numbers that make no sense as flags are usage
// errors naming the flag, never a silent default or a JSON encoder failure
// (issue 16, class 9).
func TestAnalyzeBadNumbers(t *testing.T) {
	csv := tt1CSV(t)
	timed := filepath.Join(t.TempDir(), "timed.csv")
	os.WriteFile(timed, []byte("group,y,ts\nA,1,2026-03-01T00:00:00Z\nB,2,yesterday\nA,3,2026-03-02\nB,1,2026-03-02\n"), 0o644)
	base := []string{"analyze", "--units", csv, "--variant", "group"}
	cases := []struct {
		args []string
		want []string
	}{
		{append(base, "--metric", "orders:mean", "--alpha", "0", "--out", t.TempDir()), []string{"--alpha 0", "(0, 1)"}},
		{append(base, "--metric", "orders:mean", "--alpha", "NaN", "--out", t.TempDir()), []string{"--alpha NaN", "(0, 1)"}},
		{append(base, "--metric", "orders:mean", "--alpha", "1", "--out", t.TempDir()), []string{"--alpha 1", "(0, 1)"}},
		{append(base, "--metric", "orders:quantile:NaN", "--out", t.TempDir()), []string{`quantile level "NaN"`}},
		{append(base, "--metric", "orders:quantile:Inf", "--out", t.TempDir()), []string{`quantile level "Inf"`}},
		{append(base, "--metric", "orders:mean", "--metric", "orders:mean", "--out", t.TempDir()), []string{`metric "orders" is given twice`}},
		{append(base, "--metric", "x=orders:mean", "--metric", "x=has_order:proportion", "--out", t.TempDir()), []string{`metric "x" is given twice`}},
		{[]string{"analyze", "--units", timed, "--variant", "group", "--metric", "y:mean", "--time", "ts", "--out", t.TempDir()},
			[]string{"row 2", "column ts", `"yesterday"`, "timestamp"}},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		code := run(c.args, &stdout, &stderr)
		if code != exitcode.Error {
			t.Errorf("%v: exit %d, want %d (stderr %s)", c.args, code, exitcode.Error, stderr.String())
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, stderr.String(), w)
			}
		}
		if strings.Contains(stderr.String(), "json:") {
			t.Errorf("%v: an encoder error reached the user: %s", c.args, stderr.String())
		}
	}
}

// TestPowerNotReachable: a plan no experiment can run is reported as "not
// reachable" with its reason, promptly, never as +Inf units or a number of
// days with 150 digits (issue 16, class 4).
func TestPowerNotReachable(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--baseline", "0.1", "--mde", "1e-6"}, "units per arm: not reachable"},
		{[]string{"--baseline", "0.1", "--mde", "1e-6", "--sequential"}, "units per arm: not reachable"},
		{[]string{"--baseline", "1", "--variance", "1e300", "--mde", "1e-300", "--absolute"}, "units per arm: not reachable"},
		{[]string{"--baseline", "0.1", "--mde", "0.05", "--units-per-day", "1e-150"}, "days:          not reachable"},
	}
	for _, c := range cases {
		code, out, errOut := runPower(t, c.args...)
		if code != exitcode.OK {
			t.Errorf("%v: exit %d: %s", c.args, code, errOut)
			continue
		}
		if !strings.Contains(out, c.want) {
			t.Errorf("%v: output lacks %q:\n%s", c.args, c.want, out)
		}
		if strings.Contains(out, "Inf") || regexp.MustCompile(`[0-9]{16}`).MatchString(out) || len(out) > 1000 {
			t.Errorf("%v: absurd number in output:\n%s", c.args, out)
		}
		code, out, errOut = runPower(t, append(c.args, "--json")...)
		if code != exitcode.OK {
			t.Fatalf("%v --json: exit %d: %s", c.args, code, errOut)
		}
		var rep map[string]any
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v --json: %v\n%s", c.args, err, out)
		}
		if rep["reachable"] != false || rep["reason"] == "" {
			t.Errorf("%v --json: reachable %v, reason %v", c.args, rep["reachable"], rep["reason"])
		}
	}
}

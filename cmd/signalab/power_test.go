package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/signalab/signalab/internal/exitcode"
)

func runPower(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"power"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestPowerTable(t *testing.T) {
	// 10% baseline, +5% relative, α 0.05, power 0.8: (z.975 + z.8)²·(p_B q_B + r² p_A q_A)/(p_A δ)²
	// = 60 656.3, and 60 656 per arm already reaches 80% counting both
	// rejection regions (stats.ExamplePowerSpec_SampleSize).
	code, out, errOut := runPower(t, "--baseline", "0.10", "--mde", "0.05", "--units-per-day", "2000", "--variants", "3")
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"units per arm: 60656", "total units:   181968 (3 arms)", "days:          91 at 2000 units per day"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// powerJSONFields pins the --json contract of signalab power.
var powerJSONFields = []string{"alpha", "alternative", "baseline", "days", "mde", "metric", "per_arm", "power", "reachable", "reason",
	"relative", "sequential", "total", "tuning_n", "units_per_day", "variance", "variants"}

func TestPowerJSON(t *testing.T) {
	code, out, errOut := runPower(t, "--baseline", "42", "--variance", "900", "--mde", "0.02", "--sequential", "--json")
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, powerJSONFields) {
		t.Errorf("fields %v, want %v", keys, powerJSONFields)
	}
	if m["metric"] != "mean" || m["sequential"] != true || m["days"] != nil {
		t.Errorf("unexpected values: %v", m)
	}
	// Fixed horizon for comparison: the sequential plan must need more.
	_, fixedOut, _ := runPower(t, "--baseline", "42", "--variance", "900", "--mde", "0.02", "--json")
	var f map[string]any
	if err := json.Unmarshal([]byte(fixedOut), &f); err != nil {
		t.Fatal(err)
	}
	if !(m["per_arm"].(float64) > f["per_arm"].(float64)) {
		t.Errorf("sequential per arm %v not above fixed %v", m["per_arm"], f["per_arm"])
	}
}

func TestPowerErrors(t *testing.T) {
	cases := []struct {
		args []string
		msg  string
	}{
		{[]string{"--mde", "0.05"}, "--baseline is required"},
		{[]string{"--baseline", "0.1"}, "--mde is required"},
		{[]string{"--baseline", "1.5", "--mde", "0.05"}, "baseline 1.5"},
		{[]string{"--baseline", "0.1", "--mde", "0.05", "--variants", "1"}, "--variants 1"},
		{[]string{"--baseline", "0.1", "--mde", "0.05", "--alpha", "2"}, "--alpha 2"},
		{[]string{"--baseline", "0.1", "--mde", "abc"}, "invalid argument"},
		{[]string{"--baseline", "0.5", "--mde", "1.5"}, "outside (0, 1)"},
	}
	for _, c := range cases {
		code, _, errOut := runPower(t, c.args...)
		if code != exitcode.Error {
			t.Errorf("%v: exit %d, want %d", c.args, code, exitcode.Error)
		}
		if !strings.Contains(errOut, c.msg) || !strings.Contains(errOut, "Try:") {
			t.Errorf("%v: stderr %q lacks %q and a Try: line", c.args, errOut, c.msg)
		}
	}
}

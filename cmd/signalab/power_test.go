package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
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
	// 10% baseline, +5% relative, α 0.05, power 0.8, sized for the test of
	// the absolute difference p_A·δ that decides significance:
	// (z.975 + z.8)²·(p_A q_A + p_B q_B)/(p_A δ)² = 57 759.9 (scipy), and
	// 57 760 per arm reaches 80% counting both rejection regions
	// (stats.ExamplePowerSpec_SampleSize). The delta-method relative test
	// GrowthBook sizes would need 60 656.
	code, out, errOut := runPower(t, "--baseline", "0.10", "--mde", "0.05", "--units-per-day", "2000", "--variants", "3")
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"units per arm: 57760", "total units:   173280 (3 arms)", "days:          87 at 2000 units per day"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// powerJSONFields pins the --json contract of signalab power.
var powerJSONFields = []string{"alpha", "alternative", "baseline", "clusters", "days", "mde", "metric", "per_arm", "power", "reachable", "reason",
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

// TestPowerClusters: a cluster design's JSON carries the cluster fields,
// the plan reaches the requested power, and more clusters per arm lower the
// MDE; a relative MDE is sized for the absolute test (fewer units than the
// delta-method relative test).
func TestPowerClusters(t *testing.T) {
	code, out, errOut := runPower(t, "--baseline", "0.1", "--mde", "0.8", "--cluster-size", "40",
		"--cluster-size-cv", "1.8", "--icc", "0.03", "--json")
	if code != exitcode.OK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var m struct {
		PerArm   float64 `json:"per_arm"`
		Clusters *struct {
			PerArm       float64 `json:"per_arm"`
			ICC          float64 `json:"icc"`
			DesignEffect float64 `json:"design_effect"`
			PowerAt      float64 `json:"power_at"`
			MDEAt        float64 `json:"mde_at"`
			MeanDF       float64 `json:"mean_df"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("bad JSON %q: %v", out, err)
	}
	c := m.Clusters
	if c == nil || c.PerArm != m.PerArm || c.PowerAt < 0.8 || c.PowerAt > 0.86 || c.ICC != 0.03 || c.MeanDF <= 1 {
		t.Fatalf("cluster plan %+v (per arm %v)", c, m.PerArm)
	}
	// 1 + ((1 + 1.8²)·40 − 1)·0.03 = 6.058
	if math.Abs(c.DesignEffect-6.058) > 1e-9 {
		t.Errorf("design effect %v, want 6.058", c.DesignEffect)
	}
	_, more, _ := runPower(t, "--baseline", "0.1", "--cluster-size", "40", "--cluster-size-cv", "1.8", "--icc", "0.03",
		"--clusters-per-arm", fmt.Sprint(2*int(m.PerArm)), "--json")
	var m2 struct {
		Clusters struct {
			MDEAt float64 `json:"mde_at"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(more), &m2); err != nil {
		t.Fatal(err)
	}
	if !(m2.Clusters.MDEAt < 0.8) {
		t.Errorf("twice the clusters: MDE %v, want below 0.8", m2.Clusters.MDEAt)
	}
	if code, _, errOut := runPower(t, "--baseline", "0.1", "--mde", "0.3", "--cluster-size", "40", "--icc", "0.03", "--design-effect", "2"); code != exitcode.Error || !strings.Contains(errOut, "not both") {
		t.Errorf("--icc with --design-effect: exit %d, %s", code, errOut)
	}
}

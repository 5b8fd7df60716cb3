package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/signal"
)

const assignTestSpec = `name: cli-test
unit: shop_id
salt: cli-salt
variants: [{name: control, weight: 0.5}, {name: treatment, weight: 0.5}]
window: {start: 2026-03-01T00:00:00Z, end: 2026-03-29T00:00:00Z}
analysis: {segments: [channel]}
`

// assignFixture writes a spec and a conversations.parquet with nControl and
// nTreatment shops (by the spec's hash), two conversations each.
func assignFixture(t *testing.T, nControl, nTreatment int) (spec, in string) {
	t.Helper()
	dir := t.TempDir()
	spec = filepath.Join(dir, "experiment.yaml")
	if err := os.WriteFile(spec, []byte(assignTestSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := experiment.Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	a, err := assign.NewConfigAssigner(s.AssignConfig())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC).UnixMicro()
	var rows []signal.Conversation
	want := [2]int{nControl, nTreatment}
	var got [2]int
	for i := 0; got != want; i++ {
		id := "shop-" + strconv.Itoa(i)
		arm, _, _ := a.Assign(id)
		if got[arm] == want[arm] {
			continue
		}
		got[arm]++
		for k := 0; k < 2; k++ {
			rows = append(rows, signal.Conversation{ConversationID: id + "-" + strconv.Itoa(k), ShopID: id, BuyerID: "b" + strconv.Itoa(k),
				Channel: []string{"messenger", "online_store_chat"}[k], StartedAt: start, LastActivityAt: start})
		}
	}
	in = filepath.Join(dir, "replay")
	err = atomicfile.Write(filepath.Join(in, "conversations.parquet"), func(w io.Writer) error {
		pw := parquet.NewGenericWriter[signal.Conversation](w)
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		return pw.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	return spec, in
}

func TestAssignCommand(t *testing.T) {
	spec, in := assignFixture(t, 50, 53)
	out := filepath.Join(t.TempDir(), "assign")
	var stdout, stderr bytes.Buffer
	code := run([]string{"assign", "--experiment", spec, "--in", in, "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr.String())
	}
	for _, w := range []string{"experiment cli-test: unit shop_id, growthbook-v2, 103 of 103 units", "control", "treatment", "SRM: chi2 = ", ": ok"} {
		if !strings.Contains(stdout.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
		}
	}
	rows, err := assign.ReadAssignments(filepath.Join(out, "assignments.parquet"))
	if err != nil || len(rows) != 103 {
		t.Fatalf("assignments: %d rows, %v", len(rows), err)
	}
	if _, err := os.Stat(filepath.Join(out, "assign.json")); err != nil {
		t.Error(err)
	}
}

// TestAssignJSONFields pins the top-level field list of assign.json (the
// --json contract, docs/assignment.md).
func TestAssignJSONFields(t *testing.T) {
	spec, in := assignFixture(t, 20, 20)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"assign", "--experiment", spec, "--in", in, "--out", t.TempDir(), "--json"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, stdout.String())
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"arms", "conversations", "coverage", "experiment", "hash", "salt", "segments", "source", "srm", "tool_version", "unit", "units", "window"}
	if !slices.Equal(keys, want) {
		t.Errorf("assign.json keys\n  %v\nwant\n  %v", keys, want)
	}
	var srm map[string]json.RawMessage
	if err := json.Unmarshal(m["srm"], &srm); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"observed", "expected", "chi_square", "df", "p_value", "alpha", "flagged"} {
		if _, ok := srm[k]; !ok {
			t.Errorf("srm lacks %s", k)
		}
	}
}

// TestAssignSRMCheck: 600 vs 400 shops at 50/50 (χ² = 40, p ≈ 2.54e−10) is
// only a warning without --check, and exit 1 with it.
func TestAssignSRMCheck(t *testing.T) {
	spec, in := assignFixture(t, 600, 400)
	var stdout, stderr bytes.Buffer
	code := run([]string{"assign", "--experiment", spec, "--in", in, "--out", t.TempDir()}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "warning: sample ratio mismatch: overall: observed [600 400] units, p = 2.54e-10 < 0.001") {
		t.Errorf("without --check: exit %d, stderr %q", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "chi2 = 40,") || !strings.Contains(stdout.String(), "MISMATCH") {
		t.Errorf("stdout: %s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"assign", "--experiment", spec, "--in", in, "--out", t.TempDir(), "--check"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "assign: sample ratio mismatch (overall") {
		t.Errorf("with --check: exit %d, stderr %q", code, stderr.String())
	}
}

func TestAssignCommandErrors(t *testing.T) {
	spec, in := assignFixture(t, 3, 3)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte(strings.Replace(assignTestSpec, "weight: 0.5}]", "weight: 0.7}]", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(t.TempDir(), "exp.csv")
	if err := os.WriteFile(exp, []byte("unit_id,variant,first_exposure_time\nshop-1,contrl,2026-03-02T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no experiment", []string{"assign", "--in", in, "--out", out}, []string{"--experiment is required", "Try: signalab assign"}},
		{"no in", []string{"assign", "--experiment", spec, "--out", out}, []string{"--in is required"}},
		{"bad flag", []string{"assign", "--experimnt", spec}, []string{"unknown flag: --experimnt", "Try: signalab assign --help"}},
		{"bad spec", []string{"assign", "--experiment", bad, "--in", in, "--out", out}, []string{bad + ": line 4: variants: weights sum to 1.2, want 1"}},
		{"missing input", []string{"assign", "--experiment", spec, "--in", filepath.Join(out, "nope"), "--out", out}, []string{"read conversations", "run signalab replay first"}},
		{"bad exposures", []string{"assign", "--experiment", spec, "--in", in, "--out", out, "--exposures", exp}, []string{`row 1: variant "contrl" is not a variant`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2; stderr %s", code, stderr.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q lacks %q", stderr.String(), w)
				}
			}
		})
	}
}

// TestAssignExposures: --exposures uses the logged cohorts and reports the
// disagreements on standard error; --in may name the file itself.
func TestAssignExposures(t *testing.T) {
	spec, in := assignFixture(t, 3, 3)
	exp := filepath.Join(t.TempDir(), "exp.csv")
	// shop-0 logged under both variants; every other shop is missing from the log.
	if err := os.WriteFile(exp, []byte("unit_id,variant,first_exposure_time\nshop-0,control,2026-03-02T00:00:00Z\nshop-0,treatment,2026-03-03T00:00:00Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"assign", "--experiment", spec, "--in", filepath.Join(in, "conversations.parquet"), "--out", out,
		"--exposures", exp, "--json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var sum assign.Summary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatal(err)
	}
	if sum.Source != "exposures" || sum.Exposures == nil || sum.Exposures.MultipleVariants != 1 || sum.Exposures.NotExposed != 5 ||
		sum.Units.InExperiment != 0 {
		t.Errorf("summary: source %s exposures %+v units %+v", sum.Source, sum.Exposures, sum.Units)
	}
	if !strings.Contains(stderr.String(), "1 logged under several variants (excluded)") {
		t.Errorf("stderr: %s", stderr.String())
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signalab/signalab/internal/outdir"
)

func runGenerate(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(append([]string{"generate"}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestGenerateWritesLogAndTruth(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runGenerate(t, "--out", dir, "--buyers", "300", "--shops", "20", "--seed", "5")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.HasPrefix(out, "wrote "+filepath.Join(dir, "events.parquet")+": ") || strings.Count(out, "\n") != 1 {
		t.Errorf("summary line: %q", out)
	}
	for _, f := range []string{"events.parquet", "truth.json"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.Name() != outdir.LockFile {
			names = append(names, e.Name())
		}
	}
	if len(names) != 2 {
		t.Errorf("want only events.parquet and truth.json (and the folder's lock) in the folder, got %v", names)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "events.parquet"))

	// Same flags, same bytes.
	dir2 := t.TempDir()
	if code, _, errOut := runGenerate(t, "--out", dir2, "--buyers", "300", "--shops", "20", "--seed", "5"); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	b, _ := os.ReadFile(filepath.Join(dir2, "events.parquet"))
	if !bytes.Equal(a, b) {
		t.Error("same flags gave different events.parquet bytes")
	}
}

// TestGenerateJSONFields pins the --json field list (a documented contract,
// docs/synth.md).
func TestGenerateJSONFields(t *testing.T) {
	code, out, errOut := runGenerate(t, "--out", t.TempDir(), "--buyers", "200", "--unit", "buyer_id", "--lift", "0.2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"buyers", "conversations", "duplicates", "elapsed_seconds", "events", "late", "lift", "out_of_order",
		"rows", "seed", "shops", "triggered", "truth", "unique_events", "unit"}
	if !slices.Equal(keys, want) {
		t.Errorf("fields %v, want %v", keys, want)
	}
	if m["unit"] != "buyer_id" || m["lift"] != 0.2 {
		t.Errorf("unit %v lift %v", m["unit"], m["lift"])
	}
}

func TestGenerateEventsTarget(t *testing.T) {
	code, out, errOut := runGenerate(t, "--out", t.TempDir(), "--events", "20000", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var s struct{ Rows int64 }
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if s.Rows < 19400 || s.Rows > 20600 {
		t.Errorf("--events 20000 wrote %d rows, want within 3%%", s.Rows)
	}
}

func TestGenerateUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--buyers", "10"}, "--out is required"},
		{[]string{"--out", "x", "--events", "100", "--buyers", "10"}, "--events and --buyers"},
		{[]string{"--out", "x", "--unit", "session_id"}, `unit: "session_id"`},
		{[]string{"--out", "x", "--treatment-weight", "1.5"}, "treatment-weight"},
		{[]string{"--out", "x", "--days", "0"}, "days: 0"},
		{[]string{"--out", "x", "--start", "March 1st"}, "--start"},
		{[]string{"--out", "x", "--events", "-5"}, "--events -5"},
		{[]string{"--out", "x", "--shops", "many"}, "invalid argument"},
	} {
		code, _, errOut := runGenerate(t, tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) || !strings.Contains(errOut, "Try: ") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 naming %q with a Try: line", tc.args, code, errOut, tc.want)
		}
	}
}

func TestGenerateUnwritableOut(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runGenerate(t, "--out", filepath.Join(file, "sub"), "--buyers", "50")
	if code != 2 || !strings.Contains(errOut, filepath.Join(file, "sub")) || !strings.Contains(errOut, "not a directory") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the output folder", code, errOut)
	}
}

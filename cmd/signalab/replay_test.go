package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signalab/signalab/replay/output"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden from the regression replay of testdata/events")

// repoRoot walks up from the test's folder to the folder holding go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test folder")
		}
		dir = parent
	}
}

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestRegressionReplay is the CI regression replay: testdata/events through
// the CLI, compared with the committed golden set testdata/golden. After a
// deliberate change of the logic or of the log, rewrite the golden set with
// go test ./cmd/signalab -run TestRegressionReplay -update-golden and review
// the diff.
func TestRegressionReplay(t *testing.T) {
	root := repoRoot(t)
	events := filepath.Join(root, "testdata", "events")
	golden := filepath.Join(root, "testdata", "golden")
	mode := "--check"
	if *updateGolden {
		mode = "--update"
	}
	code, stdout, stderr := runCLI(t, "replay", "--events", events, "--out", t.TempDir(), "--golden", golden, mode)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !*updateGolden && !strings.Contains(stderr, "outputs match the golden set") {
		t.Errorf("stderr = %q", stderr)
	}
}

// TestRegressionReplayMismatch breaks a copy of the golden set (one signal
// removed, one changed, one count changed) and expects exit 1 with a
// readable summary naming each difference.
func TestRegressionReplayMismatch(t *testing.T) {
	root := repoRoot(t)
	golden := t.TempDir()
	for _, f := range []string{"signals.jsonl", "conversations.jsonl", "orders.jsonl", "counts.json"} {
		b, err := os.ReadFile(filepath.Join(root, "testdata", "golden", f))
		if err != nil {
			t.Fatal(err)
		}
		switch f {
		case "signals.jsonl":
			lines := strings.SplitAfter(string(b), "\n")
			lines = lines[1:] // the first signal is removed from the golden set: the replay adds it
			lines[0] = strings.Replace(lines[0], `"emit_time":"2026`, `"emit_time":"2025`, 1)
			b = []byte(strings.Join(lines, ""))
		case "counts.json":
			b = bytes.Replace(b, []byte(`"read": 4589`), []byte(`"read": 4590`), 1)
		}
		if err := os.WriteFile(filepath.Join(golden, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := runCLI(t, "replay", "--events", filepath.Join(root, "testdata", "events"),
		"--out", t.TempDir(), "--golden", golden, "--check")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s", code, stderr)
	}
	for _, want := range []string{"differ from the golden set", "signals:", "1 added", "1 changed",
		"counts.read", "added signal", "changed signal", "(fields: emit_time)", "--update"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("summary lacks %q:\n%s", want, stderr)
		}
	}
}

func TestReplayUsageErrors(t *testing.T) {
	root := repoRoot(t)
	events := filepath.Join(root, "testdata", "events")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--out", "x"}, "--events is required"},
		{[]string{"replay", "--events", events}, "--out is required"},
		{[]string{"replay", "--events", events, "--out", "x", "--check"}, "need --golden"},
		{[]string{"replay", "--events", events, "--out", "x", "--golden", "g"}, "--golden needs --check"},
		{[]string{"replay", "--events", events, "--out", "x", "--golden", "g", "--check", "--update"}, "exclude each other"},
		{[]string{"replay", "--events", events, "--out", "x", "--order", "sideways"}, `unknown order "sideways"`},
		{[]string{"replay", "--events", events, "--out", "x", "--memory", "1MiB"}, "--memory 1MiB: want at least 16MiB"},
		{[]string{"replay", "--events", events, "--out", "x", "--memory", "lots"}, `"lots" is not a size`},
		{[]string{"diff", "only-one"}, "want two replay output folders"},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "Try:") {
			t.Errorf("%v: exit %d, stderr %q; want 2 with %q and a Try: line", tc.args, code, stderr, tc.want)
		}
	}
}

func TestReplayMissingInput(t *testing.T) {
	out := t.TempDir()
	code, _, stderr := runCLI(t, "replay", "--events", filepath.Join(out, "nope.parquet"), "--out", out)
	if code != 2 || !strings.Contains(stderr, "nope.parquet") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestReplayQuarantineAndStrict: a row with negative money is quarantined
// (counted, written to quarantine.parquet with file and row) and the run
// succeeds; with --strict it fails naming the row, and leaves no outputs.
func TestReplayQuarantineAndStrict(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "events.jsonl")
	log := `{"event_id":"c1","kind":"conversation_started","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b","conversation_id":"conv"}
{"event_id":"u1","kind":"cart_update","event_time":"2026-03-01T10:01:00Z","shop_id":"s","buyer_id":"b","cart_token":"t","item_count":1,"cart_value_cents":-5}
{"event_id":"u2","kind":"cart_update","event_time":"2026-03-01T10:02:00Z","shop_id":"s","buyer_id":"b","cart_token":"t","item_count":1,"cart_value_cents":500}
`
	if err := os.WriteFile(in, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	code, stdout, stderr := runCLI(t, "replay", "--events", in, "--out", out, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s output.Summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if s.Counts.Read != 3 || s.Counts.Quarantined != 1 || s.Counts.QuarantinedByReason["negative_money"] != 1 || s.Outputs.Signals != 1 {
		t.Errorf("counts = %+v, outputs = %+v", s.Counts, s.Outputs)
	}
	o, err := output.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Quarantine) != 1 || o.Quarantine[0].Row != 2 || o.Quarantine[0].Reason != "negative_money" || o.Quarantine[0].File != in {
		t.Errorf("quarantine rows = %+v", o.Quarantine)
	}

	strictOut := filepath.Join(dir, "strict")
	code, _, stderr = runCLI(t, "replay", "--events", in, "--out", strictOut, "--strict")
	if code != 2 || !strings.Contains(stderr, "row 2") || !strings.Contains(stderr, "cart_value_cents") {
		t.Errorf("strict: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(strictOut, output.SignalsFile)); err == nil {
		t.Error("a failed run left signals.parquet behind")
	}
}

// TestReplayJSONFields pins the top-level keys of replay.json (--json), the
// documented contract of docs/replay.md.
func TestReplayJSONFields(t *testing.T) {
	root := repoRoot(t)
	code, stdout, stderr := runCLI(t, "replay", "--events", filepath.Join(root, "testdata", "events"), "--out", t.TempDir(), "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(stdout), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"counts", "elapsed_seconds", "events_per_second", "inputs", "order", "outputs", "params",
		"schema", "time_range", "tool_version", "watermark_lag", "workers"}
	if !slices.Equal(keys, want) {
		t.Errorf("replay.json keys = %v\nwant %v", keys, want)
	}
	var counts map[string]json.RawMessage
	json.Unmarshal(m["counts"], &counts)
	var logic map[string]json.RawMessage
	json.Unmarshal(counts["logic"], &logic)
	for _, k := range []string{"read", "quarantined", "quarantined_by_reason", "currencies", "logic"} {
		if _, ok := counts[k]; !ok {
			t.Errorf("counts lacks %q", k)
		}
	}
	// The committed log's shops use five currencies (synth's default mix).
	var cur map[string]int64
	json.Unmarshal(counts["currencies"], &cur)
	if len(cur) != 5 || cur["EUR"] == 0 {
		t.Errorf("counts.currencies = %v, want the five currencies of the committed log", cur)
	}
	for _, k := range []string{"applied", "accepted", "accepted_by_kind", "dropped", "signals", "cart_actions",
		"conversations", "triggered", "implicit_starts", "orders", "expiries"} {
		if _, ok := logic[k]; !ok {
			t.Errorf("counts.logic lacks %q", k)
		}
	}
}

// TestDiff compares a replay with itself (exit 0), with the golden set
// (exit 0: Parquet and canonical JSON Lines are read alike) and with an
// event-time replay of the same log (exit 1, differences listed).
func TestDiff(t *testing.T) {
	root := repoRoot(t)
	events := filepath.Join(root, "testdata", "events")
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	if code, _, stderr := runCLI(t, "replay", "--events", events, "--out", a); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := runCLI(t, "replay", "--events", events, "--out", b, "--order", "event-time"); code != 0 {
		t.Fatal(stderr)
	}
	if code, stdout, stderr := runCLI(t, "diff", a, a); code != 0 || !strings.Contains(stdout, "no differences") {
		t.Errorf("diff a a: exit %d\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, "diff", filepath.Join(root, "testdata", "golden"), a); code != 0 {
		t.Errorf("diff golden a: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := runCLI(t, "diff", a, b)
	if code != 1 || !strings.Contains(stdout, "signals:") || !strings.Contains(stdout, `A "arrival"  B "event-time"`) ||
		!strings.Contains(stderr, "differ") {
		t.Errorf("diff arrival event-time: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "diff", a, b, "--json")
	var d struct {
		Equal   bool `json:"equal"`
		Signals struct {
			RowsA int `json:"rows_a"`
		} `json:"signals"`
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil || code != 1 || d.Equal || d.Signals.RowsA == 0 {
		t.Errorf("diff --json: exit %d, err %v, %+v", code, err, d)
	}
}

// TestDiffSessions: signalab diff compares sessions.parquet when both
// replays tracked sessions (a changed and a removed session are found, with
// examples, and make it exit 1), and a replay with sessions against one
// without is a difference with a line saying which side has them.
func TestDiffSessions(t *testing.T) {
	root := repoRoot(t)
	events := filepath.Join(root, "testdata", "events")
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	for _, r := range []struct {
		out  string
		args []string
	}{{a, []string{"--sessions"}}, {b, []string{"--sessions"}}, {c, nil}} {
		if code, _, stderr := runCLI(t, append([]string{"replay", "--events", events, "--out", r.out}, r.args...)...); code != 0 {
			t.Fatal(stderr)
		}
	}
	code, stdout, stderr := runCLI(t, "diff", a, b)
	if code != 0 || !strings.Contains(stdout, "no differences") || !strings.Contains(stdout, " sessions)") {
		t.Fatalf("diff of two replays with sessions: exit %d\n%s%s", code, stdout, stderr)
	}

	// B's sessions.parquet: one session changed, one removed.
	tb, err := output.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	tb.Sessions[0].PageViews++
	tb.Sessions = tb.Sessions[:len(tb.Sessions)-1]
	if err := output.WriteRows(filepath.Join(b, output.SessionsFile), tb.Sessions); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr = runCLI(t, "diff", a, b)
	if code != 1 || !strings.Contains(stderr, "sessions +0 -1 ~1") {
		t.Errorf("diff with a changed and a removed session: exit %d, stderr %q; want 1 naming them", code, stderr)
	}
	for _, want := range []string{"sessions:", "0 added, 1 removed, 1 changed", "changed session", "(fields: page_views)", "removed session"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("diff output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCLI(t, "diff", a, b, "--json")
	var d struct {
		Equal    bool `json:"equal"`
		Sessions *struct {
			Removed, Changed int
		} `json:"sessions"`
	}
	if err := json.Unmarshal([]byte(stdout), &d); err != nil || code != 1 || d.Equal || d.Sessions == nil || d.Sessions.Removed != 1 || d.Sessions.Changed != 1 {
		t.Errorf("diff --json: exit %d, err %v, %+v", code, err, d)
	}

	// Sessions on one side only.
	for _, tc := range []struct{ x, y, only string }{{a, c, "A"}, {c, a, "B"}} {
		code, stdout, stderr := runCLI(t, "diff", tc.x, tc.y)
		if code != 1 || !strings.Contains(stdout, "only "+tc.only+" = ") || !strings.Contains(stdout, "--sessions") ||
			!strings.Contains(stderr, "sessions only in "+tc.only) {
			t.Errorf("diff with sessions only in %s: exit %d\n%s%s", tc.only, code, stdout, stderr)
		}
	}
}

// TestRegressionReplaySessions: a golden set written by a replay that tracks
// sessions holds sessions.jsonl and is checked with them; checking it with
// a replay that does not track sessions exits 1 saying so; rewriting it
// without sessions removes sessions.jsonl.
func TestRegressionReplaySessions(t *testing.T) {
	root := repoRoot(t)
	events := filepath.Join(root, "testdata", "events")
	golden := filepath.Join(t.TempDir(), "golden")
	replayCmd := func(args ...string) (int, string) {
		code, _, stderr := runCLI(t, append([]string{"replay", "--events", events, "--out", t.TempDir(), "--golden", golden}, args...)...)
		return code, stderr
	}
	if code, stderr := replayCmd("--sessions", "--update"); code != 0 || !strings.Contains(stderr, " sessions\n") {
		t.Fatalf("--sessions --update: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(golden, output.GoldenSessionsFile)); err != nil {
		t.Fatalf("golden set of a replay with sessions: %v", err)
	}
	if code, stderr := replayCmd("--sessions", "--check"); code != 0 || !strings.Contains(stderr, "outputs match the golden set") {
		t.Errorf("--sessions --check: exit %d\n%s", code, stderr)
	}
	code, stderr := replayCmd("--check")
	if code != 1 || !strings.Contains(stderr, "only A = golden") || !strings.Contains(stderr, "--sessions") {
		t.Errorf("--check without --sessions against a golden set with sessions: exit %d\n%s", code, stderr)
	}
	if code, stderr := replayCmd("--update"); code != 0 {
		t.Fatalf("--update without --sessions: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(golden, output.GoldenSessionsFile)); err == nil {
		t.Error("rewriting the golden set without sessions left its sessions.jsonl")
	}
	if code, stderr := replayCmd("--check"); code != 0 {
		t.Errorf("--check after the rewrite: exit %d\n%s", code, stderr)
	}
}

// TestReplayExperimentParams: the signals: block of --experiment sets the
// parameters (recorded in replay.json); an invalid value is an error naming
// the key.
func TestReplayExperimentParams(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	spec := filepath.Join(dir, "experiment.yaml")
	demo, err := os.ReadFile(filepath.Join(root, "testdata", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	withSignals := func(block string) []byte {
		out := strings.Replace(string(demo), "signals: {conversation_inactivity: 24h}", "signals: "+block, 1)
		if out == string(demo) {
			t.Fatal("testdata/experiment.yaml has no signals: line to replace")
		}
		return []byte(out)
	}
	if err := os.WriteFile(spec, withSignals("{conversation_inactivity: 2h, min_cart_value_cents: 5000}"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "replay", "--events", filepath.Join(root, "testdata", "events"), "--out", filepath.Join(dir, "out"),
		"--experiment", spec, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var s output.Summary
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatal(err)
	}
	if s.Params.ConversationInactivity != "2h0m0s" || s.Params.MinCartValueCents != 5000 || s.Params.StateTTL != "168h0m0s" {
		t.Errorf("params = %+v", s.Params)
	}
	if err := os.WriteFile(spec, withSignals("{state_ttl: -1h}"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runCLI(t, "replay", "--events", filepath.Join(root, "testdata", "events"), "--out", filepath.Join(dir, "out2"),
		"--experiment", spec)
	if code != 2 || !strings.Contains(stderr, "signals.state_ttl") {
		t.Errorf("negative state_ttl: exit %d, stderr %q", code, stderr)
	}
}

// TestReplayTrace: SIGNALAB_TRACE in the environment makes the CLI give the
// engine its standard error for phase timings (the engine itself reads no
// environment); without it nothing is traced.
func TestReplayTrace(t *testing.T) {
	in := filepath.Join(repoRoot(t), "testdata", "events", "events.parquet")
	t.Setenv("SIGNALAB_TRACE", "")
	code, _, stderr := runCLI(t, "replay", "--events", in, "--out", filepath.Join(t.TempDir(), "a"))
	if code != 0 || strings.Contains(stderr, "trace:") {
		t.Errorf("without SIGNALAB_TRACE: exit %d, stderr %q", code, stderr)
	}
	t.Setenv("SIGNALAB_TRACE", "1")
	code, _, stderr = runCLI(t, "replay", "--events", in, "--out", filepath.Join(t.TempDir(), "b"))
	if code != 0 || !strings.Contains(stderr, "trace: partitioned at") || !strings.Contains(stderr, "trace: written at") {
		t.Errorf("with SIGNALAB_TRACE=1: exit %d, stderr %q", code, stderr)
	}
}

// refusedSpecs lists testdata/specs/refused/*.yaml with the message each
// must be refused with (its first line, "# want: ...").
func refusedSpecs(t *testing.T, root string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "testdata", "specs", "refused", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no refused specs under %s: %v", root, err)
	}
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		want, ok := strings.CutPrefix(first, "# want: ")
		if !ok {
			t.Fatalf("%s: first line is not # want: ...", p)
		}
		out[p] = want
	}
	return out
}

// TestRefusedSpecs: signalab replay refuses each spec of
// testdata/specs/refused with its expected message (signalab-beam's
// TestRefusedSpecsLikeSignalab checks the same files and messages).
func TestRefusedSpecs(t *testing.T) {
	for path, want := range refusedSpecs(t, filepath.Join("..", "..")) {
		events := filepath.Join("..", "..", "testdata", "events", "events.parquet")
		code, _, stderr := runCLI(t, "replay", "--events", events, "--out", t.TempDir(), "--experiment", path)
		if got := "signalab: " + path + ": " + want + "\n"; code != 2 || stderr != got {
			t.Errorf("%s: exit %d, stderr\n%q\nwant exit 2 and\n%q", filepath.Base(path), code, stderr, got)
		}
	}
}

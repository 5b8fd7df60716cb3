package main

import (
	"bytes"
	"context"
	"flag"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/memfs"
)

func TestMain(m *testing.M) {
	beam.Init()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// committedLog is testdata/events/events.parquet of the main module.
func committedLog(t *testing.T) string {
	p := filepath.Join("..", "..", "..", "testdata", "events", "events.parquet")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("committed log not present: %v", err)
	}
	return p
}

func TestHelpListsOurFlagsThenBeams(t *testing.T) {
	code, out, _ := runCLI("replay", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	out = out[strings.Index(out, "\nFlags:"):] // skip the examples
	ours := strings.Index(out, "--events")
	beamSection := strings.Index(out, "Beam runner flags")
	for _, want := range []string{"--out", "--experiment", "--order", "--runner", "--strict"} {
		if i := strings.Index(out, want); i < 0 || i > beamSection {
			t.Errorf("help: %s missing or not among our flags", want)
		}
	}
	if ours < 0 || beamSection < ours {
		t.Fatalf("help: want our flags before the Beam section:\n%s", out)
	}
	for _, want := range []string{"--endpoint", "--project", "--region", "--temp_location", "--worker_binary", "--environment_type"} {
		if i := strings.Index(out, want); i < beamSection {
			t.Errorf("help: Beam flag %s missing from the Beam section", want)
		}
	}
	// Beam's own --runner must not appear twice, nor the harness flags.
	if strings.Count(out, "--runner ") != 1 || strings.Contains(out, "--control_endpoint") {
		t.Errorf("help: duplicate --runner or harness flags shown:\n%s", out)
	}
	code, all, _ := runCLI("replay", "--help-beam")
	if code != 0 || !strings.Contains(all, "Beam runner flags (all") || len(all) <= len(out) {
		t.Errorf("--help-beam: exit %d, want the full Beam flag list:\n%s", code, all)
	}
}

func TestUsageErrors(t *testing.T) {
	flag.Set("endpoint", "") // an earlier Prism run leaves its job server's address
	t.Chdir(t.TempDir())     // relative --out folders must not appear anyway
	// --events must name files that exist (the list rule of every command);
	// the other checks are reached with one.
	if err := os.WriteFile("x.parquet", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"replay", "--out", "x"}, "no --events given"},
		{[]string{"replay", "--events", "x.parquet"}, "no --out folder given"},
		{[]string{"replay", "--events", "x.parquet", "--out", "o", "--order", "sideways"}, "--order"},
		{[]string{"replay", "--events", "x.parquet", "--out", "o", "--runner", "mapreduce"}, "unknown runner"},
		{[]string{"replay", "--no-such-flag"}, "unknown flag"},
		{[]string{"bogus"}, "unknown command"},
		{[]string{"replay", "--events", "x.parquet", "--out", "o", "--runner", "flink"}, "needs --endpoint"},
		{[]string{"replay", "--events", "missing.parquet", "--out", "o"}, "missing.parquet: no such file, folder or glob"},
		{[]string{"replay", "--events", "x.parquet,missing.parquet", "--out", "o"}, "missing.parquet: no such file, folder or glob"},
		{[]string{"reply", "--events", "x.parquet"}, "unknown command \"reply\", did you mean replay?"},
	} {
		code, _, stderr := runCLI(tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || !strings.Contains(stderr, "Try:") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q and a Try: line", tc.args, code, stderr, tc.want)
		}
		if _, err := os.Stat("o"); err == nil {
			t.Errorf("%v: created the output folder before failing", tc.args)
			os.Remove("o")
		}
	}
}

func TestMissingInputIsAnError(t *testing.T) {
	code, _, stderr := runCLI("replay", "--events", filepath.Join(t.TempDir(), "nope.parquet"), "--out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "nope.parquet") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the file", code, stderr)
	}
}

func TestReplayOnPrism(t *testing.T) {
	log := committedLog(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI("replay", "--events", log, "--out", out, "--json", "--order", "event-time")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, `"schema": "signalab.replay/v1"`) || !strings.Contains(stdout, `"order": "event-time"`) {
		t.Errorf("--json: stdout is not replay.json:\n%s", stdout)
	}
	for _, f := range []string{"signals.parquet", "conversations.parquet", "orders.parquet", "quarantine.parquet", "replay.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	if strings.Contains(stderr, "level=INFO") {
		t.Errorf("Beam's INFO logs shown without --verbose:\n%s", stderr)
	}
}

func TestStrictNamesTheRow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "bad.jsonl")
	row := `{"event_id":"e1","kind":"teleport","event_time":"2026-03-01T00:00:00Z","shop_id":"s","buyer_id":"b"}` + "\n"
	if err := os.WriteFile(path, []byte(row), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCLI("replay", "--events", path, "--out", filepath.Join(dir, "out"), "--strict")
	if _, err := os.Stat(filepath.Join(dir, "out", "_beam")); err == nil {
		t.Error("a failed run left its shard folder behind")
	}
	if code != 2 || !strings.Contains(stderr, "bad.jsonl: row 1: column kind") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming file, row and column", code, stderr)
	}
	if lines := strings.Count(strings.TrimSpace(stderr), "\n"); lines > 3 {
		t.Errorf("error is %d lines; want the cause, not the runner's stack:\n%s", lines+1, stderr)
	}
}

func TestWorkerMode(t *testing.T) {
	for args, want := range map[string]bool{
		"--worker": true, "-worker": true, "--worker=true": true, "--events x": false, "worker": false,
	} {
		if got := workerMode(strings.Fields(args)); got != want {
			t.Errorf("workerMode(%q) = %v, want %v", args, got, want)
		}
	}
}

// TestBeamFlagsReachBeam: a Beam option given on our command line must be
// set in Go's flag set the way flag.Parse would set it, because Beam's
// runners read some options with flag.Visit (which sees only set flags).
func TestBeamFlagsReachBeam(t *testing.T) {
	code, _, _ := runCLI("replay", "--job_name", "nightly-replay", "--num_workers=3", "--out", t.TempDir())
	if code != 2 { // no --events: stops before running anything
		t.Fatalf("exit %d, want 2", code)
	}
	seen := map[string]string{}
	flag.Visit(func(f *flag.Flag) { seen[f.Name] = f.Value.String() })
	if seen["job_name"] != "nightly-replay" || seen["num_workers"] != "3" {
		t.Errorf("flag.Visit saw %v; want job_name=nightly-replay and num_workers=3", seen)
	}
}

// TestObjectStoreURLs: --events and --out as file-system URLs (Beam's
// in-memory memfs:// stands in for gs://).
func TestObjectStoreURLs(t *testing.T) {
	b, err := os.ReadFile(committedLog(t))
	if err != nil {
		t.Fatal(err)
	}
	memfs.Write("memfs://cli/in/events.parquet", b)
	code, _, stderr := runCLI("replay", "--events", "memfs://cli/in/", "--out", "memfs://cli/out")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	ctx := context.Background()
	if n, err := memfs.New(ctx).Size(ctx, "memfs://cli/out/replay.json"); err != nil || n == 0 {
		t.Errorf("replay.json in the store: %d bytes, %v", n, err)
	}
	code, _, stderr = runCLI("replay", "--events", "memfs://cli/nothing/", "--out", "memfs://cli/out2")
	if code != 2 || !strings.Contains(stderr, "memfs://cli/nothing/") {
		t.Errorf("empty URL folder: exit %d, stderr %q", code, stderr)
	}
}

func TestUnreachableJobServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	code, _, stderr := runCLI("replay", "--events", committedLog(t), "--out", t.TempDir(), "--runner", "spark", "--endpoint", addr)
	if code != 2 || !strings.Contains(stderr, "cannot reach the Beam job server") {
		t.Errorf("exit %d, stderr %q; want exit 2 saying the job server is unreachable", code, stderr)
	}
	flag.Set("endpoint", "") // Prism in later tests starts its own
}

// TestRefusedSpecsLikeSignalab: signalab-beam replay refuses each spec of
// the main module's testdata/specs/refused with the message on its first
// line ("# want: ..."), the message signalab replay gives (its
// TestRefusedSpecs checks the same files): both engines read the spec
// through experiment.Signals.
func TestRefusedSpecsLikeSignalab(t *testing.T) {
	flag.Set("endpoint", "")
	paths, err := filepath.Glob(filepath.Join("..", "..", "..", "testdata", "specs", "refused", "*.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no refused specs: %v", err)
	}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		first, _, _ := strings.Cut(string(b), "\n")
		want, ok := strings.CutPrefix(first, "# want: ")
		if !ok {
			t.Fatalf("%s: first line is not # want: ...", path)
		}
		out := filepath.Join(t.TempDir(), "out")
		events := filepath.Join("..", "..", "..", "testdata", "events", "events.parquet")
		code, _, stderr := runCLI("replay", "--events", events, "--out", out, "--experiment", path)
		if got := "signalab-beam: " + path + ": " + want + "\n"; code != 2 || stderr != got {
			t.Errorf("%s: exit %d, stderr\n%q\nwant exit 2 and\n%q", filepath.Base(path), code, stderr, got)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%s: created the output folder before refusing the spec", filepath.Base(path))
		}
	}
}

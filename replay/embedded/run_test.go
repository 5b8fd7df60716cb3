package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

// smallLog generates a modest synthetic log in process (synth, fixed seed)
// and returns its events in the generator's arrival order with its truth.
func smallLog(t *testing.T, buyers int) ([]event.Event, *synth.Truth) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed = 7
	cfg.Shops = 12
	cfg.Buyers = buyers
	cfg.Days = 14
	cfg.PreDays = 7
	var evs []event.Event
	truth, err := synth.Generate(context.Background(), cfg, func(b []event.Event) error {
		evs = append(evs, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, truth
}

func writeParquetEvents(t *testing.T, path string, evs []event.Event, rowGroup int64) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	w, err := event.NewParquetWriter(f, event.WithRowGroupRows(rowGroup))
	must(t, err)
	must(t, w.Write(evs))
	must(t, w.Close())
	must(t, f.Close())
}

func writeJSONLEvents(t *testing.T, path string, evs []event.Event) {
	t.Helper()
	f, err := os.Create(path)
	must(t, err)
	must(t, event.WriteJSONL(f, evs))
	must(t, f.Close())
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// replayInMemory groups events by buyer with a map, runs each buyer through
// a replay.Buyer and returns the sorted rows and the merged counts: the
// engine without partitions, spill or workers.
func replayInMemory(p signal.Params, o replay.Order, evs []event.Event) replay.Output {
	groups := map[event.BuyerKey][]event.Event{}
	for _, e := range evs {
		groups[e.Key()] = append(groups[e.Key()], e)
	}
	var out replay.Output
	for k, g := range groups {
		replay.NewBuyer(k, p, o).Replay(g, &out)
	}
	output.SortSignals(out.Signals)
	output.SortConversations(out.Conversations)
	output.SortOrders(out.Orders)
	return out
}

func readSummary(t *testing.T, dir string) output.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, output.SummaryFile))
	must(t, err)
	var s output.Summary
	must(t, json.Unmarshal(b, &s))
	return s
}

// TestRunDeterminism replays the same log (a) as one Parquet file with one
// worker and (b) shuffled, split into a Parquet file with small row groups
// and two JSON Lines files, listed in another order, with two workers, 7
// partitions, a tiny memory budget that forces spilling events, every
// partition bucketed (run A decodes them in place: processDirect) and a
// small output budget that forces sorted output runs merged at the end; the output
// files must be byte-identical and the summaries equal but for run-specific
// fields. The rows must also equal an independent in-memory replay (group
// by buyer with a map, replay.Buyer, sort).
func TestRunDeterminism(t *testing.T) {
	evs, _ := smallLog(t, 2000)
	if len(evs) < 5000 {
		t.Fatalf("log too small: %d events", len(evs))
	}
	dir := t.TempDir()
	single := filepath.Join(dir, "single.parquet")
	writeParquetEvents(t, single, evs, 1<<20)

	shuffled := append([]event.Event(nil), evs...)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	n := len(shuffled)
	split := filepath.Join(dir, "split")
	must(t, os.MkdirAll(split, 0o755))
	writeJSONLEvents(t, filepath.Join(split, "c.jsonl"), shuffled[:n/3])
	writeParquetEvents(t, filepath.Join(split, "a.parquet"), shuffled[n/3:2*n/3], 500)
	writeJSONLEvents(t, filepath.Join(split, "b.jsonl"), shuffled[2*n/3:])

	p := signal.DefaultParams()
	outA, outB := filepath.Join(dir, "outA"), filepath.Join(dir, "outB")
	if _, err := Run(Config{Events: []string{single}, Out: outA, Params: p, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	sb, err := Run(Config{Events: []string{filepath.Join(split, "b.jsonl"), filepath.Join(split, "a.parquet"), filepath.Join(split, "c.jsonl")},
		Out: outB, Params: p, Workers: 2, Partitions: 7, MemoryBudget: 4096, OutputRows: 100, directMax: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !sb.Spilled {
		t.Error("run B did not spill; the test wants the spill path")
	}
	for _, f := range []string{output.SignalsFile, output.ConversationsFile, output.OrdersFile, output.QuarantineFile} {
		a, err := os.ReadFile(filepath.Join(outA, f))
		must(t, err)
		b, err := os.ReadFile(filepath.Join(outB, f))
		must(t, err)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the runs (%d vs %d bytes)", f, len(a), len(b))
		}
	}
	sa, sB := readSummary(t, outA).Deterministic(), readSummary(t, outB).Deterministic()
	if !reflect.DeepEqual(sa, sB) {
		ja, _ := json.Marshal(sa)
		jb, _ := json.Marshal(sB)
		t.Errorf("summaries differ:\n%s\n%s", ja, jb)
	}
	if sa.Counts.Read != int64(len(evs)) || sa.Outputs.Signals == 0 {
		t.Errorf("read %d of %d events, %d signals", sa.Counts.Read, len(evs), sa.Outputs.Signals)
	}

	got, err := output.Read(outA)
	must(t, err)
	want := replayInMemory(p, replay.OrderArrival, append([]event.Event(nil), evs...))
	if !reflect.DeepEqual(got.Signals, want.Signals) || !reflect.DeepEqual(got.Conversations, want.Conversations) ||
		!reflect.DeepEqual(got.Orders, want.Orders) {
		t.Errorf("engine rows differ from the in-memory replay: %d/%d signals, %d/%d conversations, %d/%d orders",
			len(got.Signals), len(want.Signals), len(got.Conversations), len(want.Conversations), len(got.Orders), len(want.Orders))
	}
	if got.Summary == nil || got.Summary.Counts.Logic != want.Counts.Signal {
		t.Errorf("engine counts differ from the in-memory replay")
	}
}

// TestRunSessions: with Config.Sessions the engine also writes
// sessions.parquet, byte-identical between the in-memory and the spilled,
// split and shuffled run, with the rows of an independent in-memory replay;
// the other output files are byte-identical to a run without sessions.
func TestRunSessions(t *testing.T) {
	evs, _ := smallLog(t, 1000)
	dir := t.TempDir()
	single := filepath.Join(dir, "single.parquet")
	writeParquetEvents(t, single, evs, 1<<20)
	shuffled := append([]event.Event(nil), evs...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	split := filepath.Join(dir, "split")
	must(t, os.MkdirAll(split, 0o755))
	writeParquetEvents(t, filepath.Join(split, "a.parquet"), shuffled[:len(shuffled)/2], 300)
	writeJSONLEvents(t, filepath.Join(split, "b.jsonl"), shuffled[len(shuffled)/2:])
	p := signal.DefaultParams()
	gap := replay.DefaultSessionGap
	plain, outA, outB := filepath.Join(dir, "plain"), filepath.Join(dir, "A"), filepath.Join(dir, "B")
	if _, err := Run(Config{Events: []string{single}, Out: plain, Params: p, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(plain, output.SessionsFile)); err == nil {
		t.Error("a replay without sessions wrote sessions.parquet")
	}
	sa, err := Run(Config{Events: []string{single}, Out: outA, Params: p, Workers: 1, Sessions: gap})
	must(t, err)
	sb, err := Run(Config{Events: []string{split}, Out: outB, Params: p, Workers: 2, Partitions: 5, MemoryBudget: 4096,
		OutputRows: 100, Sessions: gap})
	must(t, err)
	if !sb.Spilled || sa.Outputs.Sessions == nil || *sa.Outputs.Sessions < 1000 || *sb.Outputs.Sessions != *sa.Outputs.Sessions {
		t.Fatalf("spilled %v, sessions %v / %v", sb.Spilled, sa.Outputs.Sessions, sb.Outputs.Sessions)
	}
	for _, f := range []string{output.SignalsFile, output.ConversationsFile, output.OrdersFile, output.QuarantineFile, output.SessionsFile} {
		a, err := os.ReadFile(filepath.Join(outA, f))
		must(t, err)
		b, err := os.ReadFile(filepath.Join(outB, f))
		must(t, err)
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the in-memory and the spilled run", f)
		}
		if f == output.SessionsFile {
			continue
		}
		c, err := os.ReadFile(filepath.Join(plain, f))
		must(t, err)
		if !bytes.Equal(a, c) {
			t.Errorf("%s differs between the runs with and without sessions", f)
		}
	}
	got, err := output.Read(outA)
	must(t, err)
	var want replay.Output
	groups := map[event.BuyerKey][]event.Event{}
	for _, e := range evs {
		groups[e.Key()] = append(groups[e.Key()], e)
	}
	for k, g := range groups {
		b := replay.NewBuyer(k, p, replay.OrderArrival)
		b.TrackSessions(gap)
		b.Replay(g, &want)
	}
	output.SortSessions(want.Sessions)
	if !got.WithSessions || !reflect.DeepEqual(got.Sessions, want.Sessions) {
		t.Errorf("sessions.parquet differs from the in-memory replay: %d rows, want %d", len(got.Sessions), len(want.Sessions))
	}
}

// TestRunTruth replays a generated log and checks the replay's counts
// against the generator's truth.json. Tolerances (docs/replay.md, "Truth
// check"): duplicates, late and stale drops and conversation counts are
// exact; triggered conversations within 2 % (the generator decides
// triggering from its own session model, the replay from the events it
// sees, e.g. a cart updated just before a conversation starts but
// delivered after it).
func TestRunTruth(t *testing.T) {
	evs, truth := smallLog(t, 5000)
	dir := t.TempDir()
	in := filepath.Join(dir, "events.parquet")
	writeParquetEvents(t, in, evs, 4096)
	out := filepath.Join(dir, "out")
	s, err := Run(Config{Events: []string{in}, Out: out, Params: signal.DefaultParams()})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Counts.Logic
	tc := truth.Counts
	t.Logf("truth: %+v", tc)
	t.Logf("replay: read %d, duplicate %d, late %d, stale %d, conversations %d, triggered %d, signals %v",
		s.Counts.Read, c.Dropped[signal.DropDuplicate], c.Dropped[signal.DropLate], c.Dropped[signal.DropStale],
		c.Conversations, c.Triggered, c.Signals)
	exact := func(name string, got, want int64) {
		if got != want {
			t.Errorf("%s: replay %d, truth %d", name, got, want)
		}
	}
	exact("rows read", s.Counts.Read, tc.Rows)
	exact("duplicate", c.Dropped[signal.DropDuplicate], tc.DuplicatesInjected)
	exact("late", c.Dropped[signal.DropLate], tc.LateEvents)
	exact("stale", c.Dropped[signal.DropStale], tc.StaleCartUpdatesArrival)
	exact("conversations", c.Conversations, tc.Conversations-tc.ConversationsNotVisible)
	if rel := math.Abs(float64(c.Triggered)/float64(tc.ConversationsTriggered) - 1); rel > 0.02 {
		t.Errorf("triggered: replay %d, truth %d (%.1f %% off, tolerance 2 %%)", c.Triggered, tc.ConversationsTriggered, 100*rel)
	}
}

// BenchmarkRun replays the log named by SIGNALAB_BENCH_EVENTS (for example
// the events.parquet of "signalab generate --events 1000000"); it is skipped
// without it. See docs/benchmarks/replay.md.
func BenchmarkRun(b *testing.B) {
	in := os.Getenv("SIGNALAB_BENCH_EVENTS")
	if in == "" {
		b.Skip("set SIGNALAB_BENCH_EVENTS to an event log")
	}
	out := b.TempDir()
	cpu := func() float64 {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	}
	c0 := cpu()
	for b.Loop() {
		s, err := Run(Config{Events: []string{in}, Out: out, Params: signal.DefaultParams()})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(s.Counts.Read)/s.ElapsedSeconds, "events/s")
	}
	// Process CPU (user + sys) per replay: the steadier measure on a
	// shared machine (compare builds with benchstat).
	b.ReportMetric((cpu()-c0)/float64(b.N), "cpu-s/op")
}

// TestRunTruthEventTime: in event-time order nothing is stale (truth.json:
// stale_cart_updates_arrival counts arrival order only), a conversation only
// starts implicitly when its conversation_started was dropped as late (so
// there are at most as many as late events), and duplicates and late drops
// do not depend on the order.
func TestRunTruthEventTime(t *testing.T) {
	evs, truth := smallLog(t, 2000)
	dir := t.TempDir()
	in := filepath.Join(dir, "events.parquet")
	writeParquetEvents(t, in, evs, 4096)
	s, err := Run(Config{Events: []string{in}, Out: filepath.Join(dir, "out"), Params: signal.DefaultParams(), Order: replay.OrderEventTime})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Counts.Logic
	if c.Dropped[signal.DropStale] != 0 || c.ImplicitStarts > c.Dropped[signal.DropLate] {
		t.Errorf("event-time order: stale %d (want 0), implicit starts %d (want ≤ late %d)",
			c.Dropped[signal.DropStale], c.ImplicitStarts, c.Dropped[signal.DropLate])
	}
	if c.Dropped[signal.DropDuplicate] != truth.Counts.DuplicatesInjected || c.Dropped[signal.DropLate] != truth.Counts.LateEvents {
		t.Errorf("duplicate %d (truth %d), late %d (truth %d)", c.Dropped[signal.DropDuplicate], truth.Counts.DuplicatesInjected,
			c.Dropped[signal.DropLate], truth.Counts.LateEvents)
	}
}

// TestRunTruthLong is TestRunTruth's check on a log of about a million rows
// (100,000 buyers). Opt in with SIGNALAB_LONG=1; it takes about a minute.
func TestRunTruthLong(t *testing.T) {
	if os.Getenv("SIGNALAB_LONG") != "1" {
		t.Skip("set SIGNALAB_LONG=1 to run")
	}
	cfg := synth.DefaultConfig()
	cfg.Buyers = 100000
	dir := t.TempDir()
	truth, err := synth.WriteDir(context.Background(), cfg, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Run(Config{Events: []string{filepath.Join(dir, synth.EventsFile)}, Out: filepath.Join(dir, "out"), Params: signal.DefaultParams()})
	if err != nil {
		t.Fatal(err)
	}
	c, tc := s.Counts.Logic, truth.Counts
	if s.Counts.Read != tc.Rows || c.Dropped[signal.DropDuplicate] != tc.DuplicatesInjected || c.Dropped[signal.DropLate] != tc.LateEvents ||
		c.Dropped[signal.DropStale] != tc.StaleCartUpdatesArrival || c.Conversations != tc.Conversations-tc.ConversationsNotVisible {
		t.Errorf("replay %+v\ntruth %+v", s.Counts, tc)
	}
	if rel := math.Abs(float64(c.Triggered)/float64(tc.ConversationsTriggered) - 1); rel > 0.02 {
		t.Errorf("triggered: replay %d, truth %d", c.Triggered, tc.ConversationsTriggered)
	}
}

// TestRunProgress draws the progress bars into a buffer (the CLI passes
// standard error only when it is a terminal).
func TestRunProgress(t *testing.T) {
	evs, _ := smallLog(t, 200)
	dir := t.TempDir()
	in := filepath.Join(dir, "events.parquet")
	writeParquetEvents(t, in, evs, 1<<20)
	var buf bytes.Buffer
	if _, err := Run(Config{Events: []string{in}, Out: filepath.Join(dir, "out"), Params: signal.DefaultParams(), Progress: &buf}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"replay: reading events", "replay: running the signal logic"} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("progress output lacks %q: %q", want, buf.String())
		}
	}
}

// TestRunTrace: Config.Trace receives one line per phase (the CLI gives it
// standard error when SIGNALAB_TRACE is set); without it nothing is traced.
func TestRunTrace(t *testing.T) {
	evs, _ := smallLog(t, 100)
	dir := t.TempDir()
	in := filepath.Join(dir, "events.parquet")
	writeParquetEvents(t, in, evs, 1<<20)
	var buf bytes.Buffer
	if _, err := Run(Config{Events: []string{in}, Out: filepath.Join(dir, "out"), Params: signal.DefaultParams(), Trace: &buf}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"record bytes in memory", "trace: partitioned at", "trace: logic at", "trace: written at"} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("trace lacks %q:\n%s", want, buf.String())
		}
	}
}

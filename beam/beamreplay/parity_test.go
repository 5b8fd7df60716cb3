package beamreplay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec/optimized"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/embedded"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

// The parity tests are the point of this package: the embedded engine
// (embedded.Run) and the Beam pipeline on Prism must write identical outputs
// for the same input. "Identical" is checked at the strictest level that the
// contract allows: the four Parquet tables byte for byte, and replay.json
// field for field except the run-specific fields (tool version... timing)
// that Summary.Deterministic strips; the inputs list (paths, sizes,
// SHA-256) must match too.

func TestMain(m *testing.M) {
	beam.Init()
	// Prism logs every job at INFO level; keep test output readable.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

// repoRoot walks up from the test's folder to the main module's go.mod (the
// one above beam/).
func repoRoot(t testing.TB) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.Contains(b, []byte("module github.com/signalab/signalab\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("main module's go.mod not found above the test folder")
		}
		dir = parent
	}
}

// runBeam runs the pipeline on Prism, in process.
func runBeam(t testing.TB, opts Options) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	if _, err := Build(s, opts); err != nil {
		t.Fatalf("build pipeline: %v", err)
	}
	if _, err := beam.Run(context.Background(), "prism", p); err != nil {
		t.Fatalf("run pipeline on prism: %v", err)
	}
}

// runEmbedded runs the embedded engine.
func runEmbedded(t testing.TB, events []string, out string, params signal.Params, order replay.Order) {
	t.Helper()
	runEmbeddedSessions(t, events, out, params, order, 0)
}

// runEmbeddedSessions runs the embedded engine with sessions of gap (0:
// none).
func runEmbeddedSessions(t testing.TB, events []string, out string, params signal.Params, order replay.Order, gap time.Duration) {
	t.Helper()
	if _, err := embedded.Run(embedded.Config{Events: events, Out: out, Params: params, Order: order, Sessions: gap}); err != nil {
		t.Fatalf("embedded replay: %v", err)
	}
}

// compareOutputs fails t unless the two output folders are identical (see
// the comment at the top of this file). It returns the embedded summary.
func compareOutputs(t *testing.T, embedded, beamOut string) output.Summary {
	t.Helper()
	for _, d := range diffOutputs(t, embedded, beamOut) {
		t.Error(d)
	}
	if t.Failed() {
		// Say which rows differ, not just that bytes do.
		ea, err := output.Read(embedded)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := output.Read(beamOut)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("row-level diff (embedded → beam): %+v", output.Compare(ea, eb))
	}
	return readSummary(t, embedded)
}

// diffOutputs lists the differences between two output folders.
func diffOutputs(t *testing.T, embedded, beamOut string) []string {
	t.Helper()
	var diffs []string
	names := []string{output.SignalsFile, output.ConversationsFile, output.OrdersFile, output.QuarantineFile}
	if _, err := os.Stat(filepath.Join(embedded, output.SessionsFile)); err == nil {
		names = append(names, output.SessionsFile) // the replay tracked sessions: Beam must write the same
	}
	for _, name := range names {
		a, err := os.ReadFile(filepath.Join(embedded, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(beamOut, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			diffs = append(diffs, fmt.Sprintf("%s differs: embedded %d bytes, beam %d bytes", name, len(a), len(b)))
		}
	}
	sa, sb := readSummary(t, embedded), readSummary(t, beamOut)
	if !reflect.DeepEqual(sa.Inputs, sb.Inputs) {
		diffs = append(diffs, fmt.Sprintf("replay.json inputs differ:\nembedded %+v\nbeam     %+v", sa.Inputs, sb.Inputs))
	}
	ja, _ := json.MarshalIndent(sa.Deterministic(), "", " ")
	jb, _ := json.MarshalIndent(sb.Deterministic(), "", " ")
	if !bytes.Equal(ja, jb) {
		diffs = append(diffs, fmt.Sprintf("replay.json differs:\nembedded %s\nbeam     %s", ja, jb))
	}
	if left, _ := filepath.Glob(filepath.Join(beamOut, "_beam", "*")); len(left) > 0 {
		diffs = append(diffs, fmt.Sprintf("shards left behind: %v", left))
	}
	return diffs
}

func readSummary(t *testing.T, dir string) output.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, output.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s output.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestParityCommittedLog: the committed synthetic log (testdata/events/,
// 4,589 rows with duplicates, out-of-order and late rows), in both
// processing orders.
func TestParityCommittedLog(t *testing.T) {
	log := filepath.Join(repoRoot(t), "testdata", "events", "events.parquet")
	if _, err := os.Stat(log); err != nil {
		t.Skipf("committed log not present: %v", err)
	}
	for _, order := range []replay.Order{replay.OrderArrival, replay.OrderEventTime} {
		t.Run(order.String(), func(t *testing.T) {
			dir := t.TempDir()
			emb, bo := filepath.Join(dir, "embedded"), filepath.Join(dir, "beam")
			params := signal.DefaultParams()
			// Sessions on in arrival order: sessions.parquet is compared too.
			gap := time.Duration(0)
			if order == replay.OrderArrival {
				gap = replay.DefaultSessionGap
			}
			runEmbeddedSessions(t, []string{log}, emb, params, order, gap)
			runBeam(t, Options{Events: []string{log}, Out: bo, Params: params, Order: order, Sessions: gap})
			if _, err := os.Stat(filepath.Join(bo, output.SessionsFile)); (err == nil) != (gap > 0) {
				t.Errorf("sessions.parquet present %v with gap %s", err == nil, gap)
			}
			sum := compareOutputs(t, emb, bo)
			if sum.Counts.Read != 4589 || sum.Outputs.Signals == 0 || sum.Counts.Logic.Dropped[signal.DropDuplicate] == 0 {
				t.Errorf("unexpected embedded counts (is this the documented committed log?): read %d, signals %d, duplicates %d",
					sum.Counts.Read, sum.Outputs.Signals, sum.Counts.Logic.Dropped[signal.DropDuplicate])
			}
		})
	}
}

// writeEventFiles writes events as n files in the given formats, cycling,
// so one log exercises several splits and every reader.
func writeEventFiles(t testing.TB, dir string, events []event.Event, formats []string) []string {
	t.Helper()
	n := len(formats)
	var paths []string
	per := (len(events) + n - 1) / n
	for i, format := range formats {
		lo, hi := i*per, min((i+1)*per, len(events))
		path := filepath.Join(dir, fmt.Sprintf("part-%02d.%s", i, format))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		switch format {
		case "parquet":
			w, err := event.NewParquetWriter(f, event.WithRowGroupRows(5000))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(events[lo:hi]); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
		case "jsonl":
			for _, e := range events[lo:hi] {
				fmt.Fprintln(f, jsonLine(e))
			}
		default:
			t.Fatalf("format %s", format)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	return paths
}

// jsonLine renders an event as a v1 JSON Lines row.
func jsonLine(e event.Event) string {
	m := map[string]any{"event_id": e.EventID, "kind": e.Kind, "event_time": event.FormatTimestamp(e.EventTime),
		"shop_id": e.ShopID, "buyer_id": e.BuyerID}
	if e.HasIngestTime {
		m["ingest_time"] = event.FormatTimestamp(e.IngestTime)
	}
	for k, v := range map[string]string{"conversation_id": e.ConversationID, "channel": e.Channel, "sender": e.Sender,
		"cart_token": e.CartToken, "order_id": e.OrderID, "currency": e.Currency} {
		if v != "" {
			m[k] = v
		}
	}
	if e.HasItemCount {
		m["item_count"] = e.ItemCount
	}
	if e.HasCartValue {
		m["cart_value_cents"] = e.CartValueCents
	}
	if e.HasOrderValue {
		m["order_value_cents"] = e.OrderValueCents
	}
	if len(e.ProductIDs) > 0 {
		m["product_ids"] = e.ProductIDs
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// generate makes a synthetic log of about buyers × 11.5 rows in memory.
func generate(t testing.TB, buyers, shops int) []event.Event {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Buyers, cfg.Shops, cfg.Seed = buyers, shops, 8
	var all []event.Event
	if _, err := synth.Generate(context.Background(), cfg, func(b []event.Event) error {
		all = append(all, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return all
}

// TestParityGenerated: a generated log of at least 100,000 events, cut into
// Parquet files (several row groups each) and JSON Lines files, with a small
// spill threshold so workers write many shards and the merge has work to do,
// and Parquet files cut into row-group splits.
func TestParityGenerated(t *testing.T) {
	events := generate(t, 9000, 300)
	if len(events) < 100_000 {
		t.Fatalf("generated %d events, want at least 100,000: raise the buyer count", len(events))
	}
	dir := t.TempDir()
	paths := writeEventFiles(t, dir, events, []string{"parquet", "parquet", "jsonl", "parquet", "jsonl", "parquet"})
	emb, bo := filepath.Join(dir, "embedded"), filepath.Join(dir, "beam")
	params := signal.DefaultParams()
	runEmbeddedSessions(t, []string{dir + "/*"}, emb, params, replay.OrderArrival, replay.DefaultSessionGap)
	// Row groups of 5,000 rows, splits of about 12,000: two row groups per
	// split. Sessions on: sessions.parquet is compared too.
	runBeam(t, Options{Events: []string{dir + "/*"}, Out: bo, Params: params, Order: replay.OrderArrival,
		SpillRows: 5000, SplitRows: 12000, Sessions: replay.DefaultSessionGap})
	sum := compareOutputs(t, emb, bo)
	if _, splits, err := PlanSplits([]string{dir + "/*"}, 12000, true); err != nil || len(splits) <= len(paths) {
		t.Errorf("%d splits for %d files (%v): the test no longer exercises row-group splits", len(splits), len(paths), err)
	}
	if sum.Counts.Read != int64(len(events)) || len(sum.Inputs) != len(paths) {
		t.Errorf("read %d rows from %d inputs, want %d from %d", sum.Counts.Read, len(sum.Inputs), len(events), len(paths))
	}
	t.Logf("%d events, %d signals, %d conversations, %d orders", sum.Counts.Read, sum.Outputs.Signals,
		sum.Outputs.Conversations, sum.Outputs.Orders)
}

// TestParityQuarantine: rows that break the schema are quarantined by the
// same reader on both engines, with the same counts and rows.
func TestParityQuarantine(t *testing.T) {
	events := generate(t, 60, 5)
	dir := t.TempDir()
	var lines []string
	for i, e := range events {
		lines = append(lines, jsonLine(e))
		switch i {
		case 10:
			lines = append(lines, `{"event_id":"bad1","kind":"teleport","event_time":"2026-03-01T00:00:00Z","shop_id":"s","buyer_id":"b"}`)
		case 20:
			lines = append(lines, `{"event_id":"bad2","kind":"order_placed","event_time":"2026-03-01T00:00:00Z","shop_id":"s","buyer_id":"b","order_id":"o","order_value_cents":-5}`)
		case 30:
			lines = append(lines, `not json at all`)
		}
	}
	path := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same events as Parquet in row groups of 50, two of them with
	// negative money in later row groups: quarantined rows of a row-group
	// split must name the original file and its row numbers.
	bad := slices.Clone(events)
	for _, i := range []int{120, 333} {
		bad[i].Kind, bad[i].OrderID, bad[i].OrderValueCents, bad[i].HasOrderValue = event.KindOrderPlaced, "o-bad", -1, true
	}
	pq := filepath.Join(dir, "events.parquet")
	writeParquet(t, pq, bad, 50)
	emb, bo := filepath.Join(dir, "embedded"), filepath.Join(dir, "beam")
	in := []string{path, pq}
	runEmbedded(t, in, emb, signal.DefaultParams(), replay.OrderArrival)
	runBeam(t, Options{Events: in, Out: bo, Params: signal.DefaultParams(), SplitRows: 100})
	sum := compareOutputs(t, emb, bo)

	// --strict on a row-group split names the original file and row.
	p, sc := beam.NewPipelineWithRoot()
	if _, err := Build(sc, Options{Events: []string{pq}, Out: filepath.Join(dir, "strict"), Params: signal.DefaultParams(),
		SplitRows: 100, Strict: true}); err != nil {
		t.Fatal(err)
	}
	_, err := beam.Run(context.Background(), "prism", p)
	want := pq + ": row 121: column order_value_cents"
	if err == nil || !strings.HasPrefix(Cause(err).Error(), "read events "+want) {
		t.Errorf("strict run: error %v\nwant the cause to start with %q", Cause(err), "read events "+want)
	}

	if sum.Counts.Quarantined != 5 || sum.Outputs.Quarantine != 5 {
		t.Errorf("quarantined %d rows (%d in the file), want 5", sum.Counts.Quarantined, sum.Outputs.Quarantine)
	}
}

// TestParityDetectsDifference guards the parity tests against passing
// vacuously: the committed log replayed in event-time order by Beam and in
// arrival order by the embedded engine must differ (the log has out-of-order
// arrivals, so signals' order and counts change), and the comparison must
// say so.
func TestParityDetectsDifference(t *testing.T) {
	log := filepath.Join(repoRoot(t), "testdata", "events", "events.parquet")
	if _, err := os.Stat(log); err != nil {
		t.Skipf("committed log not present: %v", err)
	}
	dir := t.TempDir()
	emb, bo := filepath.Join(dir, "embedded"), filepath.Join(dir, "beam")
	runEmbedded(t, []string{log}, emb, signal.DefaultParams(), replay.OrderArrival)
	runBeam(t, Options{Events: []string{log}, Out: bo, Params: signal.DefaultParams(), Order: replay.OrderEventTime})
	diffs := diffOutputs(t, emb, bo)
	if len(diffs) == 0 {
		t.Fatal("arrival vs event-time outputs compare equal: the comparison cannot see differences")
	}
	joined := strings.Join(diffs, "\n")
	if !strings.Contains(joined, output.SignalsFile) || !strings.Contains(joined, "replay.json differs") {
		t.Errorf("expected signals.parquet and replay.json to differ, got:\n%s", joined)
	}
}

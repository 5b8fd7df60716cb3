package embedded

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

// TestRunConflictingRedeliveries: a generated log plus conflicting
// redeliveries (same event_id, ingest_time and event_time, another order
// value, cart or sender) replayed shuffled into different file splits,
// with 1 or 2 workers, gives byte-identical tables (issue 16, class 8;
// before, the survivor was the first by file and row).
func TestRunConflictingRedeliveries(t *testing.T) {
	evs, _ := smallLog(t, 300)
	var extra []event.Event
	for _, e := range evs {
		if len(extra) >= 300 {
			break
		}
		c := e
		switch e.Kind {
		case event.KindOrderPlaced:
			c.OrderValueCents++
		case event.KindCartUpdate:
			c.ItemCount++
			c.CartValueCents += 7
		case event.KindMessage:
			c.Sender = map[string]string{"buyer": "merchant", "merchant": "buyer"}[e.Sender]
		default:
			continue
		}
		extra = append(extra, c)
	}
	all := append(append([]event.Event(nil), evs...), extra...)
	var want map[string][]byte
	for trial, workers := range []int{1, 2, 2} {
		rng := rand.New(rand.NewPCG(uint64(trial), 16))
		shuffled := append([]event.Event(nil), all...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		dir := t.TempDir()
		half := len(shuffled) / (2 + trial)
		writeParquetEvents(t, filepath.Join(dir, "a.parquet"), shuffled[:half], 500)
		writeJSONLEvents(t, filepath.Join(dir, "b.jsonl"), shuffled[half:])
		out := filepath.Join(dir, "out")
		if _, err := Run(Config{Events: []string{dir}, Out: out, Params: signal.DefaultParams(), Order: replay.OrderArrival, Workers: workers}); err != nil {
			t.Fatal(err)
		}
		got := map[string][]byte{}
		for _, f := range []string{output.SignalsFile, output.ConversationsFile, output.OrdersFile} {
			b, err := os.ReadFile(filepath.Join(out, f))
			must(t, err)
			got[f] = b
		}
		if want == nil {
			want = got
			continue
		}
		for f := range want {
			if !bytes.Equal(got[f], want[f]) {
				t.Errorf("trial %d (workers %d): %s differs", trial, workers, f)
			}
		}
	}
}

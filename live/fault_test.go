package live

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/signal"
)

// TestFaultBetweenProduceAndCommit: every third transaction fails after its
// outputs (signals, rows, state changes, counts) were written to the topics
// and before it commits. The transaction is aborted, the processor rolls its
// state back from the changelog and consumes the records again. No signal
// is lost and none is seen twice by a read_committed consumer: the dump
// equals the replay, and the aborted records are really in the log.
func TestFaultBetweenProduceAndCommit(t *testing.T) {
	h := newHarness(t, "fault")
	h.produce(committedLog)
	var injected atomic.Int64
	cfg := h.config("a")
	cfg.MaxPollRecords = 200
	cfg.BeforeCommit = func(txn int64) error {
		if txn%3 == 0 {
			injected.Add(1)
			return errors.New("injected fault")
		}
		return nil
	}
	m := h.start(cfg)
	d := h.dump()
	m.stop(t)
	if injected.Load() < 5 {
		t.Fatalf("only %d faults injected; the test needs several", injected.Load())
	}
	if got := counterValue(m.metrics.Transactions.WithLabelValues("aborted")); got != float64(injected.Load()) {
		t.Errorf("%v transactions aborted, want the %d injected faults", got, injected.Load())
	}
	seen := map[string]bool{}
	for _, s := range d.Outputs.Signals {
		k := s.ShopID + "/" + s.BuyerID + "/" + s.SignalID
		if seen[k] {
			t.Fatalf("signal %s seen twice", k)
		}
		seen[k] = true
	}
	assertParity(t, d, replayOf(t, signal.DefaultParams(), committedLog))

	// The aborted transactions' signals are in the log, hidden from
	// read_committed consumers: a read_uncommitted reader sees more.
	all := h.countRecords(h.topics.Signals, kgo.ReadUncommitted())
	if all <= len(d.Outputs.Signals) {
		t.Errorf("signals topic holds %d records read uncommitted, %d committed: the faults hit no produced signal", all, len(d.Outputs.Signals))
	}
	t.Logf("%d faults; %d signals committed, %d records in the signals topic with the aborted ones", injected.Load(), len(d.Outputs.Signals), all)
}

// countRecords counts the data records of topic at an isolation level.
func (h *harness) countRecords(topic string, iso kgo.IsolationLevel) int {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cl := h.client()
	defer cl.Close()
	ends, err := endOffsets(ctx, cl, topic, allPartitions(testPartitions), readUncommitted)
	if err != nil {
		h.t.Fatal(err)
	}
	start := map[int32]kgo.Offset{}
	for p, e := range ends {
		if e > 0 {
			start[p] = kgo.NewOffset().AtStart()
		}
	}
	rc, err := kgo.NewClient(h.opts(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchIsolationLevel(iso), kgo.KeepControlRecords(), kgo.FetchMaxWait(100*time.Millisecond))...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rc.Close()
	n := 0
	done := map[int32]bool{}
	for len(done) < len(start) {
		fs := rc.PollFetches(ctx)
		if ctx.Err() != nil {
			h.t.Fatal(ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				n++
			}
			if r.Offset >= ends[r.Partition]-1 {
				done[r.Partition] = true
			}
		})
	}
	return n
}

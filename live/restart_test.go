package live

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

// generatedLog writes the default generated log (about 119,000 rows with
// at-least-once duplicates, out-of-order and late rows) for seed.
func generatedLog(t *testing.T, seed uint64) string {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed = seed
	dir := t.TempDir()
	truth, err := synth.WriteDir(context.Background(), cfg, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if truth.Counts.Rows < 100000 || truth.Counts.DuplicatesInjected == 0 || truth.Counts.LateEvents == 0 || truth.Counts.OutOfOrder == 0 {
		t.Fatalf("generated log too tame: %d rows, %d duplicates, %d late, %d out of order",
			truth.Counts.Rows, truth.Counts.DuplicatesInjected, truth.Counts.LateEvents, truth.Counts.OutOfOrder)
	}
	return filepath.Join(dir, synth.EventsFile)
}

// TestParityRestartAndRebalance: the committed log and a generated log of
// about 119,000 events in one topic of 4 partitions; consumer a is killed
// in the middle of a transaction (its connections cut after its outputs
// were produced, before the commit) and restarted; once it has caught up
// with the first 60 % of the stream, consumer b joins the group (a
// rebalance moves partitions and their state), and the rest of the stream
// is produced. The dump equals the arrival-order replay of both logs.
func TestParityRestartAndRebalance(t *testing.T) {
	gen := generatedLog(t, 11)
	paths := []string{committedLog, gen}
	want := replayOf(t, signal.DefaultParams(), paths...)

	h := newHarness(t, "restart")
	evs, r, err := event.ReadAll(paths, event.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ArrivalOrder(evs)
	cut := len(evs) * 6 / 10
	h.produceEvents(evs[:cut], r.Quarantined())

	var a *member
	cfg := h.config("a")
	cfg.BeforeCommit = func(txn int64) error {
		if txn == 8 {
			a.kill.cut()
			return ErrCrash
		}
		return nil
	}
	a = h.start(cfg)
	if err := a.wait(t); err != ErrCrash {
		t.Fatalf("consumer a ended with %v, want the simulated crash", err)
	}

	t0 := time.Now()
	a2 := h.start(h.config("a")) // the same instance: fences a's open transaction
	h.waitCaughtUp()
	t.Logf("a restarted and caught up in %s", time.Since(t0))
	if a2.restored() == 0 {
		t.Fatal("restarted consumer a restored no buyer state")
	}
	t0 = time.Now()
	b := h.start(h.config("b"))
	eventually(t, "consumer b joins and restores its partitions", 2*time.Minute, func() bool {
		select {
		case <-b.p.Ready():
			return true
		default:
			return false
		}
	})
	t.Logf("b joined in %s", time.Since(t0))
	t0 = time.Now()
	h.produceEvents(evs[cut:], nil)
	d := h.dump()
	t.Logf("rest produced and processed in %s", time.Since(t0))

	// Each member serves the buyers of its partitions and sends the
	// others away with 421, naming the partition.
	srvA, srvB := httptest.NewServer(Handler(a2.p, nil)), httptest.NewServer(Handler(b.p, nil))
	defer srvA.Close()
	defer srvB.Close()
	eventually(t, "both members publish their partitions", time.Minute, func() bool {
		return len(a2.p.Position())+len(b.p.Position()) == testPartitions && len(b.p.Position()) > 0
	})
	var checked int
	for _, s := range d.Outputs.Signals {
		k := event.BuyerKey{ShopID: s.ShopID, BuyerID: s.BuyerID}
		if _, held := b.p.Position()[PartitionOf(k, testPartitions)]; !held {
			continue
		}
		getView(t, srvB.URL, k, http.StatusOK)
		code, body := get(t, srvA.URL+"/v1/shops/"+url.PathEscape(k.ShopID)+"/buyers/"+url.PathEscape(k.BuyerID)+"/signals")
		if code != http.StatusMisdirectedRequest || !strings.Contains(body, `"partition"`) {
			t.Fatalf("buyer %s/%s of b's partition asked of a: %d %s, want 421 naming the partition", k.ShopID, k.BuyerID, code, body)
		}
		if checked++; checked == 20 {
			break
		}
	}
	if checked == 0 {
		t.Fatal("no buyer with signals in b's partitions")
	}
	a2.stop(t)
	b.stop(t)
	if b.restored() == 0 || b.committed() == 0 {
		t.Fatalf("consumer b restored %v buyers and committed %v transactions: the rebalance moved no partition with state", b.restored(), b.committed())
	}
	assertParity(t, d, want)
	t.Logf("%d events; dump: %d signals, %d conversations (%d final), %d orders; live %+v",
		len(evs), len(d.Outputs.Signals), len(d.Outputs.Conversations), d.Info.FinalConversations, len(d.Outputs.Orders), d.Info.Live)
}

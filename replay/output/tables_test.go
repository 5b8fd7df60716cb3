package output

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// replayLog generates a small synthetic log (synth, fixed seed), replays it
// in memory (replay.Buyer per buyer) and writes the outputs into dir.
func replayLog(t *testing.T, buyers int, dir string) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Shops, cfg.Buyers, cfg.Days, cfg.PreDays = 7, 12, buyers, 14, 7
	groups := map[event.BuyerKey][]event.Event{}
	var keys []event.BuyerKey
	_, err := synth.Generate(context.Background(), cfg, func(b []event.Event) error {
		for _, e := range b {
			if _, ok := groups[e.Key()]; !ok {
				keys = append(keys, e.Key())
			}
			groups[e.Key()] = append(groups[e.Key()], e)
		}
		return nil
	})
	must(t, err)
	p := signal.DefaultParams()
	b := replay.NewBuyer(event.BuyerKey{}, p, replay.OrderArrival)
	var out replay.Output
	for _, k := range keys {
		b.Replay(groups[k], &out)
	}
	tables := &Tables{Signals: out.Signals, Conversations: out.Conversations, Orders: out.Orders}
	sum := NewSummary(p, replay.OrderArrival, &out.Counts, tables)
	must(t, Write(dir, tables, &sum))
}

// TestReadShards: a replay written as shards (signals-00000.parquet,
// ..., as distributed engines write them, each shard sorted on its own)
// reads back as the same rows as the single files, and Compare finds no
// difference; a golden set (JSON Lines) of it does too.
func TestReadShards(t *testing.T) {
	dir := t.TempDir()
	single := filepath.Join(dir, "single")
	replayLog(t, 300, single)
	a, err := Read(single)
	must(t, err)
	if len(a.Signals) < 10 || len(a.Conversations) < 10 {
		t.Fatalf("too few rows to shard: %d signals, %d conversations", len(a.Signals), len(a.Conversations))
	}

	sharded := filepath.Join(dir, "sharded")
	must(t, os.MkdirAll(sharded, 0o755))
	// Three shards per table, rows dealt round-robin (so no shard is a
	// contiguous range), each shard sorted.
	for s := range 3 {
		var sig []signal.Signal
		var conv []signal.Conversation
		var ord []signal.Order
		for i := s; i < len(a.Signals); i += 3 {
			sig = append(sig, a.Signals[i])
		}
		for i := s; i < len(a.Conversations); i += 3 {
			conv = append(conv, a.Conversations[i])
		}
		for i := s; i < len(a.Orders); i += 3 {
			ord = append(ord, a.Orders[i])
		}
		name := func(base string) string { return filepath.Join(sharded, base+"-0000"+string(rune('0'+s))+".parquet") }
		must(t, WriteRows(name("signals"), sig))
		must(t, WriteRows(name("conversations"), conv))
		must(t, WriteRows(name("orders"), ord))
	}
	b, err := Read(sharded)
	must(t, err)
	if !reflect.DeepEqual(a.Signals, b.Signals) || !reflect.DeepEqual(a.Conversations, b.Conversations) || !reflect.DeepEqual(a.Orders, b.Orders) {
		t.Error("sharded outputs read back differently")
	}
	if d := Compare(a, b); !d.Signals.equal() || !d.Conversations.equal() || !d.Orders.equal() {
		t.Errorf("Compare(single, sharded) = %+v", d)
	}

	golden := filepath.Join(dir, "golden")
	must(t, WriteGolden(golden, a, *a.Summary))
	g, err := Read(golden)
	must(t, err)
	if d := Compare(g, a); !d.Equal() {
		t.Errorf("golden set differs from the replay it was written from: %+v", d)
	}
}

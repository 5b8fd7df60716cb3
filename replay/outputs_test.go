package replay

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signalab/signalab/signal"
)

// TestReadOutputsShards: a replay written as shards (signals-00000.parquet,
// ..., as distributed engines write them, each shard sorted on its own)
// reads back as the same rows as the single files, and Compare finds no
// difference; a golden set (JSON Lines) of it does too.
func TestReadOutputsShards(t *testing.T) {
	evs, _ := smallLog(t, 300)
	dir := t.TempDir()
	in := filepath.Join(dir, "events.parquet")
	writeParquetEvents(t, in, evs, 1<<20)
	single := filepath.Join(dir, "single")
	if _, err := Run(Config{Events: []string{in}, Out: single, Params: signal.DefaultParams()}); err != nil {
		t.Fatal(err)
	}
	a, err := ReadOutputs(single)
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
		must(t, writeParquet(name("signals"), sig))
		must(t, writeParquet(name("conversations"), conv))
		must(t, writeParquet(name("orders"), ord))
	}
	b, err := ReadOutputs(sharded)
	must(t, err)
	if !reflect.DeepEqual(a.Signals, b.Signals) || !reflect.DeepEqual(a.Conversations, b.Conversations) || !reflect.DeepEqual(a.Orders, b.Orders) {
		t.Error("sharded outputs read back differently")
	}
	if d := Compare(a, b); !d.Signals.equal() || !d.Conversations.equal() || !d.Orders.equal() {
		t.Errorf("Compare(single, sharded) = %+v", d)
	}

	golden := filepath.Join(dir, "golden")
	must(t, WriteGolden(golden, a, *a.Summary))
	g, err := ReadOutputs(golden)
	must(t, err)
	if d := Compare(g, a); !d.Equal() {
		t.Errorf("golden set differs from the replay it was written from: %+v", d)
	}
}

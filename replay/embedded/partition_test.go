package embedded

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay/wire"
)

func randomEvent(r *rand.Rand) event.Event {
	str := func() string {
		if r.IntN(3) == 0 {
			return ""
		}
		b := make([]byte, r.IntN(300))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	e := event.Event{EventID: str(), Kind: event.Kinds[r.IntN(len(event.Kinds))], EventTime: r.Int64() - r.Int64(),
		ShopID: str(), BuyerID: str(), ConversationID: str(), Channel: str(), Sender: str(), CartToken: str(),
		OrderID: str(), Currency: str(), File: int32(r.Uint32()), Row: r.Int64()}
	if r.IntN(2) == 0 {
		e.IngestTime, e.HasIngestTime = r.Int64()-r.Int64(), true
	}
	if r.IntN(2) == 0 {
		e.ItemCount, e.HasItemCount = int32(r.Uint32()), true
	}
	if r.IntN(2) == 0 {
		e.CartValueCents, e.HasCartValue = r.Int64()-r.Int64(), true
	}
	if r.IntN(2) == 0 {
		e.OrderValueCents, e.HasOrderValue = r.Int64(), true
	}
	if r.IntN(8) == 0 {
		e.Kind = event.Kind(str())
	}
	for range r.IntN(4) {
		e.ProductIDs = append(e.ProductIDs, str())
	}
	return e
}

// TestSpillRoundTrip: events with random values in every field (extreme
// numbers, empty and binary strings, unknown kinds) survive the partition
// entries as their wire.View, across chunk boundaries and through index().
func TestSpillRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var p partition
	pool := &chunkPool{size: minChunkSize, budget: 1 << 40}
	var want []event.Event
	dir := t.TempDir()
	for i := range 20000 {
		e := randomEvent(r)
		if !p.add(&e, buyerHash(e.ShopID, e.BuyerID), pool) {
			t.Fatal("add refused within the budget")
		}
		want = append(want, wire.View(e))
		if i == 7000 || i == 15000 {
			must(t, p.flush(dir, "p", pool)) // some in the file, some in chunks
		}
	}
	data, err := p.readFile(nil)
	must(t, err)
	for _, c := range p.chunks {
		data = append(data, c...)
	}
	keys, err := index(data, 0, nil)
	must(t, err)
	if len(keys) != len(want) {
		t.Fatalf("%d records, want %d", len(keys), len(want))
	}
	var d wire.Decoder
	for i, k := range keys {
		if k.hash != uint32(buyerHash(want[i].ShopID, want[i].BuyerID)) {
			t.Fatalf("record %d: hash differs", i)
		}
		var got event.Event
		if _, err := d.Decode(data[k.off+hashLen:k.off+k.size], &got); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Fatalf("record %d:\n got %+v\nwant %+v", i, got, want[i])
		}
	}
	// A truncated buffer is an error, not a panic.
	if _, err := index(data[:len(data)-1], 0, nil); err == nil {
		t.Error("truncated spill buffer not detected")
	}
}

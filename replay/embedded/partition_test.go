package embedded

import (
	"fmt"
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
// numbers, empty and binary strings, unknown kinds, shops numbered beyond a
// byte) survive the partition entries as their wire.View: through stages
// (one partition has them, the other writes to its chunks directly), chunk
// boundaries, spill files and bucketRecords, which keeps each bucket in
// input order.
func TestSpillRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	parts := make([]partition, 2)
	withStages(parts[:1])
	pool := &chunkPool{size: minChunkSize, budget: 1 << 40}
	want := make([][]event.Event, len(parts))
	dir := t.TempDir()
	var shops shopTable
	var cache shopCache
	for i := range 20000 {
		e := randomEvent(r)
		if i%3 == 0 {
			e.ShopID = fmt.Sprint("shop", i%200) // many numbers, some beyond a byte
		}
		w := wire.View(e)
		p := &parts[i%2]
		if !p.add(&e, buyerHash(e.ShopID, e.BuyerID), cache.number(&shops, e.ShopID), pool) {
			t.Fatal("add refused within the budget")
		}
		want[i%2] = append(want[i%2], w)
		if i == 7000 || i == 15000 {
			for j := range parts {
				must(t, parts[j].flush(dir, fmt.Sprint("p", j), pool)) // some in the file, some in chunks
			}
		}
	}
	for j := range parts {
		p := &parts[j]
		p.unstageAll(pool)
		data, err := p.readFile(nil)
		must(t, err)
		srcs := append([][]byte{data}, p.chunks...)
		buf, keys, bounds, err := bucketRecords(srcs, nil, nil)
		must(t, err)
		if len(keys) != len(want[j]) || bounds[numBuckets] != len(keys) {
			t.Fatalf("partition %d: %d records, bounds end at %d, want %d", j, len(keys), bounds[numBuckets], len(want[j]))
		}
		// Expected: the events bucket by bucket, each bucket in input order.
		var expect []event.Event
		for b := range numBuckets {
			for _, e := range want[j] {
				if h := uint32(buyerHash(e.ShopID, e.BuyerID)); int(h>>16)&(numBuckets-1) == b {
					expect = append(expect, e)
				}
			}
		}
		var d wire.Decoder
		for i, k := range keys {
			if k.hash != uint32(buyerHash(expect[i].ShopID, expect[i].BuyerID)) {
				t.Fatalf("partition %d record %d: hash differs", j, i)
			}
			var got event.Event
			if err := decodeEntry(&d, buf[k.off:k.off+k.size], shops.names, &got); err != nil {
				t.Fatalf("partition %d record %d: %v", j, i, err)
			}
			if !reflect.DeepEqual(got, expect[i]) {
				t.Fatalf("partition %d record %d:\n got %+v\nwant %+v", j, i, got, expect[i])
			}
		}
		// A truncated source is an error, not a panic.
		last := p.chunks[len(p.chunks)-1]
		if _, _, _, err := bucketRecords([][]byte{data, last[:len(last)-1]}, nil, nil); err == nil {
			t.Error("truncated spill buffer not detected")
		}
	}
}

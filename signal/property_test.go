package signal

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/signalab/signalab/event"
)

// randomStream makes n events of one buyer with colliding ids, times,
// conversations, carts and orders, so that every rule fires.
func randomStream(r *rand.Rand, n int) []event.Event {
	base := us("2026-03-01T00:00:00Z")
	evs := make([]event.Event, n)
	for i := range evs {
		e := &evs[i]
		e.EventID = fmt.Sprintf("e%d", r.IntN(n))
		e.Kind = event.Kinds[r.IntN(len(event.Kinds))]
		e.EventTime = base + r.Int64N(int64(20*24*time.Hour/time.Microsecond))
		if r.IntN(5) > 0 {
			e.IngestTime, e.HasIngestTime = e.EventTime+r.Int64N(int64(3*time.Hour/time.Microsecond)), true
		}
		e.ShopID, e.BuyerID = "s", "b"
		e.ConversationID = fmt.Sprintf("c%d", r.IntN(4))
		e.Sender = []string{"buyer", "merchant"}[r.IntN(2)]
		e.CartToken = fmt.Sprintf("t%d", r.IntN(3))
		e.ItemCount, e.HasItemCount = int32(r.IntN(5)), true
		e.CartValueCents, e.HasCartValue = int64(r.IntN(5))*1000, true
		e.OrderID = fmt.Sprintf("o%d", r.IntN(6))
		e.OrderValueCents, e.HasOrderValue = int64(r.IntN(9))*500, true
		for range r.IntN(3) {
			e.ProductIDs = append(e.ProductIDs, fmt.Sprintf("p%d", r.IntN(4)))
		}
		if !e.Kind.IsConversation() {
			e.ConversationID = ""
		}
	}
	return evs
}

// TestRandomStreams checks invariants of the logic on random streams:
// every applied event is accepted or dropped for one reason; signal counts
// match the rows; each conversation appears once; every signal goes to a
// conversation of the buyer; checkpoint/restore at a random point changes
// nothing.
func TestRandomStreams(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	p := DefaultParams()
	p.StateTTL = 5 * 24 * time.Hour // make expiry happen within the 20-day streams
	var all Counts
	defer func() {
		// The streams must exercise every rule, or the invariants prove little.
		for i, v := range all.Dropped {
			if DropReason(i) != DropInvalid && v == 0 {
				t.Errorf("no event dropped as %s in any stream", DropReason(i))
			}
		}
		for i, v := range all.Signals {
			if v == 0 {
				t.Errorf("no %s signal in any stream", SignalKinds[i])
			}
		}
		if all.Expiries == 0 || all.ImplicitStarts == 0 {
			t.Errorf("expiries %d, implicit starts %d: want some of each", all.Expiries, all.ImplicitStarts)
		}
	}()
	for run := range 300 {
		evs := randomStream(r, 5+r.IntN(200))
		b := NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, p)
		var out Output
		for i := range evs {
			b.Apply(&evs[i], &out)
		}
		b.Finish(&out)
		c := out.Counts
		all.Add(c)
		var dropped int64
		for _, v := range c.Dropped {
			dropped += v
		}
		var byKind int64
		for _, v := range c.AcceptedByKind {
			byKind += v
		}
		if c.Applied != int64(len(evs)) || c.Accepted+dropped != c.Applied || byKind != c.Accepted {
			t.Fatalf("run %d: applied %d, accepted %d, dropped %d, by kind %d", run, c.Applied, c.Accepted, dropped, byKind)
		}
		if c.SignalTotal() != int64(len(out.Signals)) || c.Conversations != int64(len(out.Conversations)) || c.Orders != int64(len(out.Orders)) {
			t.Fatalf("run %d: counts disagree with rows: %+v", run, c)
		}
		perConv := map[string]int32{}
		for _, s := range out.Signals {
			perConv[s.ConversationID]++
			if s.SignalID != SignalID(s.ConversationID, s.Kind, s.SourceEventID) {
				t.Fatalf("run %d: signal id mismatch", run)
			}
		}
		var total int32
		seen := map[string]int{}
		for _, cv := range out.Conversations {
			seen[cv.ConversationID]++
			total += cv.Signals
		}
		if c.Expiries == 0 {
			for id, n := range seen {
				if n != 1 {
					t.Fatalf("run %d: conversation %s has %d rows without expiry", run, id, n)
				}
			}
			for id, n := range perConv {
				if seen[id] == 0 {
					t.Fatalf("run %d: %d signals for unknown conversation %s", run, n, id)
				}
			}
		}
		if int64(total) != c.SignalTotal() {
			t.Fatalf("run %d: conversation signal counts %d, signals %d", run, total, c.SignalTotal())
		}

		// Conversations shows, at any point, what Finish would write then.
		{
			k := r.IntN(len(evs) + 1)
			b := NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, p)
			var o Output
			for i := range evs[:k] {
				b.Apply(&evs[i], &o)
			}
			peek := b.Conversations(nil)
			o.Conversations = o.Conversations[:0]
			b.Finish(&o)
			if !reflect.DeepEqual(peek, o.Conversations) && (len(peek) > 0 || len(o.Conversations) > 0) {
				t.Fatalf("run %d: after %d events Conversations = %+v, Finish wrote %+v", run, k, peek, o.Conversations)
			}
		}

		// Checkpoint after k events, restore, continue.
		k := r.IntN(len(evs) + 1)
		b1 := NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, p)
		var got Output
		for i := range evs[:k] {
			b1.Apply(&evs[i], &got)
		}
		snap, err := b1.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		b2 := NewBuyer(event.BuyerKey{}, p)
		if err := b2.UnmarshalBinary(snap); err != nil {
			t.Fatal(err)
		}
		for i := k; i < len(evs); i++ {
			b2.Apply(&evs[i], &got)
		}
		b2.Finish(&got)
		if !reflect.DeepEqual(got, out) {
			t.Fatalf("run %d: restore after %d of %d events changed the output", run, k, len(evs))
		}
	}
}

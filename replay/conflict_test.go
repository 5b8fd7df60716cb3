package replay

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
)

// TestConflictingRedeliveriesOrderFree: redeliveries with the same
// event_id, ingest_time and event_time but different content (another
// order value, cart, kind or conversation) give the same rows and counts in
// whatever order and at whatever input positions they come: the survivor
// is chosen by a total order over the content (before: by file and row, so
// a shuffle changed signals.parquet; issue 16, class 8).
func TestConflictingRedeliveriesOrderFree(t *testing.T) {
	at := func(s string) int64 {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t.UnixMicro()
	}
	base := []event.Event{
		{EventID: "c1", Kind: event.KindConversationStarted, EventTime: at("2026-03-01T10:00:00Z"), IngestTime: at("2026-03-01T10:00:01Z"), HasIngestTime: true, ConversationID: "conv"},
		{EventID: "u1", Kind: event.KindCartUpdate, EventTime: at("2026-03-01T10:01:00Z"), IngestTime: at("2026-03-01T10:01:01Z"), HasIngestTime: true,
			CartToken: "t", ItemCount: 1, HasItemCount: true, CartValueCents: 500, HasCartValue: true, ProductIDs: []string{"p1"}},
		{EventID: "u1", Kind: event.KindCartUpdate, EventTime: at("2026-03-01T10:01:00Z"), IngestTime: at("2026-03-01T10:01:01Z"), HasIngestTime: true,
			CartToken: "t", ItemCount: 2, HasItemCount: true, CartValueCents: 900, HasCartValue: true, ProductIDs: []string{"p1", "p2"}},
		{EventID: "u1", Kind: event.KindCartUpdate, EventTime: at("2026-03-01T10:01:00Z"), IngestTime: at("2026-03-01T10:01:01Z"), HasIngestTime: true,
			CartToken: "t", ItemCount: 2, HasItemCount: true, CartValueCents: 900, HasCartValue: true, ProductIDs: []string{"p1", "p3"}},
		{EventID: "o1", Kind: event.KindOrderPlaced, EventTime: at("2026-03-01T10:05:00Z"), IngestTime: at("2026-03-01T10:05:01Z"), HasIngestTime: true,
			OrderID: "o", OrderValueCents: 900, HasOrderValue: true},
		{EventID: "o1", Kind: event.KindOrderPlaced, EventTime: at("2026-03-01T10:05:00Z"), IngestTime: at("2026-03-01T10:05:01Z"), HasIngestTime: true,
			OrderID: "o", OrderValueCents: 901, HasOrderValue: true, Currency: "EUR"},
		{EventID: "o1", Kind: event.KindCheckoutStarted, EventTime: at("2026-03-01T10:05:00Z"), IngestTime: at("2026-03-01T10:05:01Z"), HasIngestTime: true,
			CartToken: "t", CartValueCents: 900, HasCartValue: true},
		{EventID: "m1", Kind: event.KindMessage, EventTime: at("2026-03-01T10:06:00Z"), IngestTime: at("2026-03-01T10:06:01Z"), HasIngestTime: true, ConversationID: "conv", Sender: "buyer"},
		{EventID: "m1", Kind: event.KindMessage, EventTime: at("2026-03-01T10:06:00Z"), IngestTime: at("2026-03-01T10:06:01Z"), HasIngestTime: true, ConversationID: "conv", Sender: "merchant"},
	}
	for _, order := range []Order{OrderArrival, OrderEventTime} {
		var want Output
		rng := rand.New(rand.NewPCG(16, 8))
		for trial := 0; trial < 50; trial++ {
			evs := append([]event.Event(nil), base...)
			rng.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
			for i := range evs {
				evs[i].File, evs[i].Row = int32(rng.IntN(3)), int64(i+1)
			}
			var out Output
			NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, signal.DefaultParams(), order).Replay(evs, &out)
			if trial == 0 {
				want = out
				continue
			}
			if !reflect.DeepEqual(out, want) {
				t.Fatalf("%s: shuffle %d changed the output:\n got %+v\nwant %+v", order, trial, out, want)
			}
		}
	}
}

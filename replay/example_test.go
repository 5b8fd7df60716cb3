package replay_test

import (
	"fmt"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// A stream consumer feeds one buyer's events as they arrive, takes the
// rows each call produced, and advances the buyer's watermark; once no
// event still to come can change the conversation, Advance writes its row
// and the buyer is settled (only its dedupe memory is left).
func ExampleBuyer_Feed() {
	p := signal.DefaultParams()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).UnixMicro()
	min := time.Minute.Microseconds()
	ev := func(id string, kind event.Kind, at int64) event.Event {
		return event.Event{EventID: id, Kind: kind, ShopID: "s1", BuyerID: "b1", ConversationID: "c1",
			CartToken: "t1", ItemCount: 2, CartValueCents: 4500, EventTime: at, IngestTime: at + 2e6, HasIngestTime: true}
	}
	b := replay.NewBuyer(event.BuyerKey{ShopID: "s1", BuyerID: "b1"}, p, replay.OrderArrival)
	var out replay.Output
	for _, e := range []event.Event{
		ev("e1", event.KindConversationStarted, t0),
		ev("e2", event.KindCartUpdate, t0+1*min),
		ev("e2", event.KindCartUpdate, t0+1*min), // a redelivery
	} {
		if err := b.Feed(&e, &out); err != nil {
			fmt.Println(err)
		}
		for _, s := range out.Signals {
			fmt.Println("signal", s.Kind, *s.Action)
		}
		out.Signals = out.Signals[:0] // taken
	}
	due, _ := b.Due()
	fmt.Println("due after the clock by", time.Duration(due-(t0+1*min))*time.Microsecond)
	fmt.Println(b.Advance(due-1, &out), len(out.Conversations))
	fmt.Println(b.Advance(due, &out), len(out.Conversations))
	fmt.Println("duplicates", out.Counts.Signal.Dropped[signal.DropDuplicate])
	// Output:
	// signal cart_action added
	// due after the clock by 169h5m0.000001s
	// active 0
	// settled 1
	// duplicates 1
}

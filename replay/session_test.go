package replay_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// TestSessions checks one buyer's sessions by hand: the gap splits them,
// dropped events (duplicate, stale) are not activity, cart changes and
// checkouts without an open conversation count as would-be signals, an
// unchanged cart does not, and had_cart_at_start reads the cart before the
// session's first event.
func TestSessions(t *testing.T) {
	const t0 = 1_772_323_200_000_000 // 2026-03-01
	min := int64(time.Minute / time.Microsecond)
	ev := func(id string, kind event.Kind, at, arrive int64) event.Event {
		return event.Event{EventID: id, Kind: kind, ShopID: "s", BuyerID: "b", EventTime: t0 + at,
			IngestTime: t0 + arrive, HasIngestTime: true}
	}
	cart := func(id string, at, arrive int64, items int32, value int64) event.Event {
		e := ev(id, event.KindCartUpdate, at, arrive)
		e.CartToken, e.ItemCount, e.HasItemCount, e.CartValueCents, e.HasCartValue = "k", items, true, value, true
		e.ProductIDs = []string{"p"}
		return e
	}
	conv := ev("c1", event.KindConversationStarted, 20*min, 20*min)
	conv.ConversationID = "c"
	msg := ev("m1", event.KindMessage, 21*min, 21*min)
	msg.ConversationID, msg.Sender = "c", event.SenderMerchant
	order := ev("o1", event.KindOrderPlaced, 25*min, 25*min)
	order.OrderID, order.OrderValueCents, order.HasOrderValue = "o", 500, true
	checkout := ev("k1", event.KindCheckoutStarted, 12*min, 12*min)
	checkout.CartToken, checkout.CartValueCents, checkout.HasCartValue = "k", 500, true
	evs := []event.Event{
		ev("v1", event.KindPageView, 0, 0),
		cart("a1", 5*min, 5*min, 1, 500),
		cart("a1", 5*min, 6*min, 1, 500),   // a redelivery: duplicate
		cart("a2", 10*min, 10*min, 1, 500), // unchanged snapshot: accepted, no signal
		checkout, conv, msg, order,
		ev("v2", event.KindPageView, 120*min, 120*min),
		cart("a3", 130*min, 130*min, 1, 700),
		cart("a4", 125*min, 131*min, 2, 900), // older than the snapshot: stale
		ev("v3", event.KindPageView, 180*min, 180*min),
	}
	var out replay.Output
	b := replay.NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, signal.DefaultParams(), replay.OrderArrival)
	b.TrackSessions(30 * time.Minute)
	b.Replay(evs, &out)
	ptr := func(v int64) *int64 { return &v }
	want := []replay.Session{
		{ShopID: "s", BuyerID: "b", StartedAt: t0, EndedAt: t0 + 25*min, Events: 7, PageViews: 1, CartUpdates: 2,
			Checkouts: 1, Orders: 1, OrderValueCents: 500, Conversations: 1, MerchantMessages: 1, Signals: 2,
			SignalEvents: 3, FirstTriggerAt: ptr(t0 + 5*min), Triggered: true},
		{ShopID: "s", BuyerID: "b", StartedAt: t0 + 120*min, EndedAt: t0 + 130*min, Events: 2, PageViews: 1,
			CartUpdates: 1, Signals: 1, SignalEvents: 1, FirstTriggerAt: ptr(t0 + 130*min), Triggered: true},
		{ShopID: "s", BuyerID: "b", StartedAt: t0 + 180*min, EndedAt: t0 + 180*min, Events: 1, PageViews: 1, HadCartAtStart: true},
	}
	if !reflect.DeepEqual(out.Sessions, want) {
		t.Errorf("sessions:\n got %+v\nwant %+v", out.Sessions, want)
	}
	if out.Counts.Signal.Dropped[signal.DropDuplicate] != 1 || out.Counts.Signal.Dropped[signal.DropStale] != 1 {
		t.Errorf("dropped %v: the test wants one duplicate and one stale event", out.Counts.Signal.Dropped)
	}
	// The session id is the documented hash: sha256 of "s\x00b\x001"
	// (printf 's\0b\0001' | sha256sum | cut -c1-32).
	if id := replay.SessionID("s", "b", 1); id != sessionIDOfS0B01 {
		t.Errorf("SessionID = %q, want %q", id, sessionIDOfS0B01)
	}
}

// TestSessionsDue: an open session makes the buyer due at its last event +
// gap + max_out_of_orderness + allowed_lateness + 1 µs (before the state's
// own timer), and Advance to that writes the session and keeps the buyer
// active while its cart is held; a buyer with page views only settles.
func TestSessionsDue(t *testing.T) {
	p := signal.DefaultParams()
	b := replay.NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, p, replay.OrderArrival)
	b.TrackSessions(30 * time.Minute)
	e := event.Event{EventID: "v", Kind: event.KindCartUpdate, ShopID: "s", BuyerID: "b", EventTime: 1_000_000_000,
		IngestTime: 1_000_000_000, HasIngestTime: true, CartToken: "k", ItemCount: 1, HasItemCount: true, HasCartValue: true}
	var out replay.Output
	must(t, b.Feed(&e, &out))
	due, ok := b.Due()
	want := e.EventTime + (30 * time.Minute).Microseconds() + p.MaxOutOfOrderness.Microseconds() + p.AllowedLateness.Microseconds() + 1
	if !ok || due != want || b.Status() != replay.Active {
		t.Fatalf("Due = %d, %v (status %v); want %d", due, ok, b.Status(), want)
	}
	if b.Advance(due-1, &out); len(out.Sessions) != 0 {
		t.Fatal("Advance(due-1) wrote the session")
	}
	if s := b.Advance(due, &out); len(out.Sessions) != 1 || s != replay.Active {
		t.Fatalf("Advance(due) = %v with %d sessions", s, len(out.Sessions))
	}
	if next, ok := b.Due(); !ok || next <= due {
		t.Errorf("after the session, Due = %d, %v: the state's timer", next, ok)
	}
	v := replay.NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "v"}, p, replay.OrderArrival)
	v.TrackSessions(30 * time.Minute)
	pv := event.Event{EventID: "v", Kind: event.KindPageView, ShopID: "s", BuyerID: "v", EventTime: 1_000_000_000,
		IngestTime: 1_000_000_000, HasIngestTime: true}
	must(t, v.Feed(&pv, &out))
	if d, ok := v.Due(); !ok || d != due || v.Status() != replay.Active {
		t.Fatalf("page view buyer: Due = %d, %v, status %v", d, ok, v.Status())
	}
	if s := v.Advance(due, &out); s != replay.Settled || len(out.Sessions) != 2 {
		t.Errorf("page view buyer: Advance(due) = %v with %d sessions", s, len(out.Sessions))
	}
}

// sessionIDOfS0B01 is SessionID("s", "b", 1), computed outside Go:
// printf 's\0b\0001' | sha256sum | cut -c1-32
const sessionIDOfS0B01 = "bce7261be4f5cfe51dd1ec6630a6192d"

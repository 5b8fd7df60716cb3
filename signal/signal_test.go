package signal

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/signalab/signalab/event"
)

// The expected id was computed independently with coreutils:
//
//	printf 'conv1\0cart_action\0u1' | sha256sum | cut -c1-32
func TestSignalID(t *testing.T) {
	if got, want := SignalID("conv1", KindCartAction, "u1"), "ee66c88f974f41ee7e62211046215368"; got != want {
		t.Errorf("SignalID = %s, want %s", got, want)
	}
	if SignalID("a", "b\x00c", "d") == SignalID("a\x00b", "c", "d") {
		// Both hash the same bytes; ids are only unambiguous for fields
		// without NUL, which the readers guarantee for text formats.
		t.Log("NUL inside fields is ambiguous, as documented")
	}
}

func TestCountsJSONRoundTrip(t *testing.T) {
	c := Counts{Applied: 10, Accepted: 7, Conversations: 2, Triggered: 1, ImplicitStarts: 1, Orders: 1, Expiries: 3}
	c.AcceptedByKind[KindIndex(event.KindMessage)] = 4
	c.Dropped[DropLate] = 2
	c.Dropped[DropStale] = 1
	c.Signals[signalKindIndex(KindCheckoutStarted)] = 5
	c.CartActions[1] = 6
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var back Counts
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back != c {
		t.Errorf("round trip changed counts:\n got %+v\nwant %+v", back, c)
	}
	if err := json.Unmarshal([]byte(`{"dropped":{"nope":1}}`), &back); err == nil {
		t.Error("unknown drop reason accepted")
	}
}

func TestCountsAdd(t *testing.T) {
	a := Counts{Applied: 1, Accepted: 1}
	a.Dropped[DropDuplicate] = 2
	b := Counts{Applied: 3, Orders: 4}
	b.Dropped[DropDuplicate] = 5
	a.Add(b)
	if a.Applied != 4 || a.Dropped[DropDuplicate] != 7 || a.Orders != 4 || a.Accepted != 1 {
		t.Errorf("Add = %+v", a)
	}
}

func us(s string) int64 {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return v.UnixMicro()
}

// TestSettle checks the timer of stream consumers: nothing settles while an
// event still to come could find the state alive (lowest − clock ≤
// state_ttl); after that the conversation row is written, the cart and
// orders are forgotten, and the dedupe memory and the expiry count behave as
// if Settle had not been called.
func TestSettle(t *testing.T) {
	p := DefaultParams()
	key := event.BuyerKey{ShopID: "s", BuyerID: "b"}
	evs := []event.Event{
		{EventID: "c1", Kind: event.KindConversationStarted, EventTime: us("2026-03-01T00:00:00Z"), ConversationID: "conv"},
		{EventID: "u1", Kind: event.KindCartUpdate, EventTime: us("2026-03-01T00:01:00Z"), CartToken: "t", ItemCount: 1, CartValueCents: 5},
		{EventID: "o1", Kind: event.KindOrderPlaced, EventTime: us("2026-03-01T00:00:30Z"), OrderID: "o", OrderValueCents: 9},
	}
	later := []event.Event{
		{EventID: "c1", Kind: event.KindConversationStarted, EventTime: us("2026-03-01T00:00:00Z"), ConversationID: "conv"}, // redelivery
		{EventID: "m1", Kind: event.KindMessage, EventTime: us("2026-03-09T00:00:00Z"), ConversationID: "conv", Sender: "buyer"},
	}
	var want Output
	plain := NewBuyer(key, p)
	for i := range evs {
		plain.Apply(&evs[i], &want)
	}
	for i := range later {
		plain.Apply(&later[i], &want)
	}
	plain.Finish(&want)

	b := NewBuyer(key, p)
	var got Output
	for i := range evs {
		b.Apply(&evs[i], &got)
	}
	clock := us("2026-03-01T00:01:00Z")
	if b.Settle(clock+p.StateTTL.Microseconds(), &got) { // exactly state_ttl: an event then would not expire it
		t.Fatal("settled at exactly state_ttl")
	}
	if !b.Settle(clock+p.StateTTL.Microseconds()+1, &got) {
		t.Fatal("not settled after state_ttl")
	}
	if len(got.Conversations) != 1 || got.Counts.Expiries != 0 || !b.Settled() || b.Empty() {
		t.Fatalf("after Settle: %d conversations, %d expiries, settled %v, empty %v (want 1, 0, true, false)",
			len(got.Conversations), got.Counts.Expiries, b.Settled(), b.Empty())
	}
	if b.Settle(clock+p.StateTTL.Microseconds()+2, &got) {
		t.Error("settled twice")
	}
	for i := range later {
		b.Apply(&later[i], &got)
	}
	b.Finish(&got)
	if got.Counts.Dropped[DropDuplicate] != 1 || got.Counts.Expiries != 1 {
		t.Errorf("after the later events: %d duplicates, %d expiries, want 1 and 1", got.Counts.Dropped[DropDuplicate], got.Counts.Expiries)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("with Settle:\n got %+v\nwant %+v", got, want)
	}
}

func TestInvalidEventsAreCounted(t *testing.T) {
	b := NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, DefaultParams())
	var out Output
	for _, e := range []event.Event{
		{EventID: "x", Kind: "bogus"},
		{EventID: "y", Kind: event.KindMessage}, // no conversation_id
	} {
		b.Apply(&e, &out)
	}
	if out.Counts.Dropped[DropInvalid] != 2 || out.Counts.Accepted != 0 {
		t.Errorf("counts = %+v", out.Counts)
	}
}

func TestStateRoundTripIsStable(t *testing.T) {
	b := NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, DefaultParams())
	var out Output
	for _, e := range []event.Event{
		{EventID: "c1", Kind: event.KindConversationStarted, EventTime: us("2026-03-01T00:00:00Z"), ConversationID: "conv"},
		{EventID: "u1", Kind: event.KindCartUpdate, EventTime: us("2026-03-01T00:01:00Z"), CartToken: "t", ItemCount: 2, CartValueCents: 10, ProductIDs: []string{"b", "a"}},
		{EventID: "o1", Kind: event.KindOrderPlaced, EventTime: us("2026-03-01T00:02:00Z"), OrderID: "o", OrderValueCents: 10},
		{EventID: "k1", Kind: event.KindCheckoutStarted, EventTime: us("2026-03-01T00:03:00Z"), CartToken: "t"},
	} {
		b.Apply(&e, &out)
	}
	s1, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r := NewBuyer(event.BuyerKey{}, DefaultParams())
	if err := r.UnmarshalBinary(s1); err != nil {
		t.Fatal(err)
	}
	s2, _ := r.MarshalBinary()
	if string(s1) != string(s2) || r.Key() != b.Key() {
		t.Errorf("state changed in a round trip:\n%s\n%s", s1, s2)
	}
	if !reflect.DeepEqual(r.st.Cart, b.st.Cart) {
		t.Errorf("cart %+v, want %+v", r.st.Cart, b.st.Cart)
	}
	if err := r.UnmarshalBinary([]byte(`{"version":99}`)); err == nil {
		t.Error("accepted an unknown state version")
	}
}

// TestPriorOrderValueSaturates: prior_order_value_cents is a checked sum:
// orders whose values leave int64 give the int64 maximum, never a wrapped
// negative total (the event readers keep each value within
// event.MaxMoneyCents; this guards callers that feed events directly;
// issue 16, class 5).
func TestPriorOrderValueSaturates(t *testing.T) {
	b := NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, DefaultParams())
	var out Output
	for _, e := range []event.Event{
		{EventID: "o1", Kind: event.KindOrderPlaced, EventTime: us("2026-03-01T00:00:00Z"), OrderID: "a", OrderValueCents: math.MaxInt64, HasOrderValue: true},
		{EventID: "o2", Kind: event.KindOrderPlaced, EventTime: us("2026-03-01T00:01:00Z"), OrderID: "b", OrderValueCents: math.MaxInt64, HasOrderValue: true},
		{EventID: "c1", Kind: event.KindConversationStarted, EventTime: us("2026-03-01T00:02:00Z"), ConversationID: "c"},
	} {
		b.Apply(&e, &out)
	}
	b.Finish(&out)
	if len(out.Conversations) != 1 || out.Conversations[0].PriorOrderValueCents != math.MaxInt64 {
		t.Fatalf("conversations %+v, want prior_order_value_cents = int64 max", out.Conversations)
	}
}

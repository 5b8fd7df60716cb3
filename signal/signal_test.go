package signal

import (
	"encoding/json"
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

// TestAdvanceExpires checks the timer API: state is kept up to state_ttl
// after the last accepted event and dropped (conversations flushed) after.
func TestAdvanceExpires(t *testing.T) {
	p := DefaultParams()
	b := NewBuyer(event.BuyerKey{ShopID: "s", BuyerID: "b"}, p)
	var out Output
	e := event.Event{EventID: "c1", Kind: event.KindConversationStarted, EventTime: us("2026-03-01T00:00:00Z"),
		ShopID: "s", BuyerID: "b", ConversationID: "conv"}
	b.Apply(&e, &out)
	if b.Advance(us("2026-03-08T00:00:00Z"), &out) { // exactly 168h: not more than state_ttl
		t.Fatal("expired at exactly state_ttl")
	}
	if !b.Advance(us("2026-03-08T00:00:01Z"), &out) {
		t.Fatal("not expired after state_ttl")
	}
	if len(out.Conversations) != 1 || out.Counts.Expiries != 1 || !b.Empty() {
		t.Fatalf("after expiry: %d conversations, %d expiries, empty %v", len(out.Conversations), out.Counts.Expiries, b.Empty())
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

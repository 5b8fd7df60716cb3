package beamreplay

import (
	"reflect"
	"strings"
	"testing"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay/wire"
)

func sampleEvents() []event.Event {
	return []event.Event{
		{EventID: "e1", Kind: event.KindCartUpdate, EventTime: 1_700_000_000_000_000,
			IngestTime: 1_700_000_000_500_000, HasIngestTime: true, ShopID: "shop-1", BuyerID: "b-9",
			CartToken: "ct", ItemCount: 3, HasItemCount: true, CartValueCents: 4599, HasCartValue: true,
			ProductIDs: []string{"p1", "p2", ""}, Currency: "EUR", File: 2, Row: 123456789},
		{EventID: "e2", Kind: event.KindOrderPlaced, EventTime: -5, ShopID: "", BuyerID: "ünïcode",
			OrderID: "o1", OrderValueCents: 0, HasOrderValue: true, File: 0, Row: 1},
		{EventID: "e3", Kind: event.KindMessage, EventTime: 1, ShopID: "s", BuyerID: "b",
			ConversationID: "c", Channel: "messenger", Sender: event.SenderMerchant, ItemCount: -2147483648},
		{},
	}
}

func TestBuyerKeyStringInjective(t *testing.T) {
	// Without the length prefix these pairs would collide under plain
	// concatenation.
	a := BuyerKeyString(event.BuyerKey{ShopID: "ab", BuyerID: "c"})
	b := BuyerKeyString(event.BuyerKey{ShopID: "a", BuyerID: "bc"})
	if a == b {
		t.Fatalf("keys collide: %q", a)
	}
	if BuyerKeyString(event.BuyerKey{ShopID: "s", BuyerID: "b"}) != BuyerKeyString(event.BuyerKey{ShopID: "s", BuyerID: "b"}) {
		t.Fatal("equal keys encode differently")
	}
}

// TestEventPacks: a split's events packed per buyer (one value per buyer,
// first-seen order) unpack as their wire.View; damaged packs are errors.
func TestEventPacks(t *testing.T) {
	evs := sampleEvents()
	evs[1].ShopID, evs[1].BuyerID = evs[0].ShopID, evs[0].BuyerID // two events of one buyer
	var p eventPacks
	for i := range evs {
		p.add(&evs[i])
	}
	got := map[string][]event.Event{}
	var order []string
	p.flush(func(k string, v []byte) {
		es, err := unpackEvents(&wire.Decoder{Copy: true}, v, nil)
		if err != nil {
			t.Fatal(err)
		}
		got[k] = es
		order = append(order, k)
	})
	if len(got) != 3 || len(got[BuyerKeyString(evs[0].Key())]) != 2 {
		t.Fatalf("packs: %d keys (%v), want 3 with 2 events for the first buyer", len(got), order)
	}
	if order[0] != BuyerKeyString(evs[0].Key()) {
		t.Errorf("packs not emitted in first-seen order: %q", order)
	}
	if !reflect.DeepEqual(got[BuyerKeyString(evs[0].Key())], []event.Event{wire.View(evs[0]), wire.View(evs[1])}) {
		t.Errorf("pack round trip changed events")
	}
	if p.bytes != 0 || len(p.keys) != 0 {
		t.Errorf("flush left %d bytes, %d keys", p.bytes, len(p.keys))
	}
	var pack []byte
	p.add(&evs[0])
	p.flush(func(_ string, v []byte) { pack = v })
	for n := 0; n < len(pack); n++ {
		if n == 1 {
			continue // the version byte alone is an empty pack
		}
		if _, err := unpackEvents(&wire.Decoder{}, pack[:n], nil); err == nil {
			t.Fatalf("pack truncated to %d of %d bytes: no error", n, len(pack))
		}
	}
	bad := append([]byte{wire.Version + 1}, pack[1:]...)
	if _, err := unpackEvents(&wire.Decoder{}, bad, nil); err == nil || !strings.Contains(err.Error(), "same build") {
		t.Errorf("pack of another record version: err = %v", err)
	}
}

package wire

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/signalab/signalab/event"
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
		OrderID: str(), Currency: str(), File: int32(r.Uint32()), Row: r.Int64() - r.Int64()}
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
		e.OrderValueCents, e.HasOrderValue = r.Int64()-r.Int64(), true
	}
	if r.IntN(8) == 0 {
		e.Kind = event.Kind(str())
	}
	if r.IntN(3) == 0 {
		e.Kind = event.KindCartUpdate // the kind whose products are kept
	}
	for range r.IntN(4) {
		e.ProductIDs = append(e.ProductIDs, str())
	}
	return e
}

// TestRoundTrip: events with random values in every field (extreme and
// negative numbers, empty and binary strings, unknown kinds) decode as their
// View, in both decoding modes, from records appended back to back; MaxLen
// bounds every record and RecordLen finds each without decoding.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var buf []byte
	var want []event.Event
	for k := range 5000 {
		e := randomEvent(r)
		if k%1000 == 0 {
			// A record whose length takes 3 bytes (its payload is
			// written after a 1-byte length, then moved up).
			e.CartToken = string(make([]byte, 20000+k))
		}
		at := len(buf)
		buf = AppendEvent(buf, &e)
		if n := len(buf) - at; n > MaxLen(&e) {
			t.Fatalf("record of %d bytes, MaxLen %d", n, MaxLen(&e))
		}
		want = append(want, View(e))
	}
	for _, copyStrings := range []bool{false, true} {
		d := Decoder{Copy: copyStrings}
		b := buf
		for i := range want {
			n, err := RecordLen(b)
			if err != nil {
				t.Fatalf("record %d: RecordLen: %v", i, err)
			}
			var got event.Event
			m, err := d.Decode(b, &got)
			if err != nil || m != n {
				t.Fatalf("record %d: Decode = %d, %v; RecordLen %d", i, m, err, n)
			}
			if !reflect.DeepEqual(got, want[i]) {
				t.Fatalf("record %d (copy %v):\n got %+v\nwant %+v", i, copyStrings, got, want[i])
			}
			b = b[n:]
		}
		if len(b) != 0 {
			t.Fatalf("%d bytes left", len(b))
		}
	}
}

// TestView: the record keeps products only on cart_update and never the
// currency.
func TestView(t *testing.T) {
	e := event.Event{EventID: "e", Kind: event.KindPageView, ProductIDs: []string{"p"}, Currency: "EUR"}
	if v := View(e); v.ProductIDs != nil || v.Currency != "" {
		t.Errorf("page_view view = %+v", v)
	}
	e.Kind = event.KindCartUpdate
	if v := View(e); len(v.ProductIDs) != 1 || v.Currency != "" {
		t.Errorf("cart_update view = %+v", v)
	}
}

// TestDecodeRejectsDamage: every truncation of a record, and a kind index
// out of range, is ErrCorrupt, not a panic or a wrong event.
func TestDecodeRejectsDamage(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var d Decoder
	for range 50 {
		e := randomEvent(r)
		b := AppendEvent(nil, &e)
		for n := 0; n < len(b); n++ {
			var got event.Event
			if _, err := d.Decode(b[:n], &got); err == nil {
				t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
			}
			if _, err := RecordLen(b[:n]); err == nil {
				t.Fatalf("RecordLen of %d of %d bytes: no error", n, len(b))
			}
		}
	}
	e := event.Event{EventID: "e", Kind: event.KindMessage}
	b := AppendEvent(nil, &e)
	b[1] = byte(len(event.Kinds)) // the kind index follows the one-byte length
	if _, err := d.Decode(b, &e); err == nil {
		t.Error("kind index out of range: no error")
	}
}

func FuzzDecode(f *testing.F) {
	r := rand.New(rand.NewPCG(7, 8))
	for range 8 {
		e := randomEvent(r)
		f.Add(AppendEvent(nil, &e))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Decoder
		var e event.Event
		n, err := d.Decode(b, &e)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("record length %d beyond %d bytes", n, len(b))
		}
		// Whatever decodes re-encodes to a record that decodes the same
		// (varints have non-canonical forms, so bytes may differ).
		var e2 event.Event
		if _, err := d.Decode(AppendEvent(nil, &e), &e2); err != nil || !reflect.DeepEqual(e2, View(e)) {
			t.Fatalf("re-encode not stable: %v\n%+v\n%+v", err, e2, e)
		}
	})
}

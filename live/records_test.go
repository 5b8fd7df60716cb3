package live

import (
	"bytes"
	"testing"

	"github.com/signalab/signalab/replay"
)

// TestBuyerRecordRoundTrip: every combination of the optional fields
// reads back as written; truncated or foreign values are errors.
func TestBuyerRecordRoundTrip(t *testing.T) {
	for _, r := range []buyerRecord{
		{State: []byte(`{"version":1}`)},
		{Birth: -5, HasBirth: true, State: []byte(`{}`)},
		{SettledAt: 1772361120000000, HasSettledAt: true, Signals: []byte(`[{"signal_id":"x"}]`), State: []byte(`{"a":1}`)},
		{Birth: 1, HasBirth: true, SettledAt: 2, HasSettledAt: true, Signals: []byte(`[]`), State: []byte(`{"b":2}`)},
	} {
		b := r.append(nil)
		var got buyerRecord
		if err := got.parse(b); err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if got.Birth != r.Birth || got.HasBirth != r.HasBirth || got.SettledAt != r.SettledAt || got.HasSettledAt != r.HasSettledAt ||
			!bytes.Equal(got.Signals, r.Signals) || !bytes.Equal(got.State, r.State) {
			t.Errorf("round trip of %+v gave %+v", r, got)
		}
		// Cut before the state (which the buyer core's decoder checks), a
		// record is an error.
		for n := range len(b) - len(r.State) {
			var short buyerRecord
			if err := short.parse(b[:n]); err == nil {
				t.Errorf("%+v cut to %d of %d bytes parsed", r, n, len(b))
			}
		}
	}
	var r buyerRecord
	if err := r.parse([]byte(`{"v":1}`)); err == nil {
		t.Error("a JSON value parsed as a buyer record")
	}
}

// TestCountsJSONRoundTrip: replay.Counts survive the counts record,
// histogram included; a bucket out of range is an error.
func TestCountsJSONRoundTrip(t *testing.T) {
	var c replay.Counts
	c.Read = 7
	c.Quarantine("bad_value")
	for _, v := range []int64{0, 3, 1e6, 4e9, -2} {
		c.Lag.Observe(v)
		c.EventTime.Observe(v)
	}
	c.IngestTime.Observe(42)
	c.Signal.Accepted = 5
	back, err := CountsToJSON(&c).Counts()
	if err != nil {
		t.Fatal(err)
	}
	if back.Read != c.Read || back.Lag != c.Lag || back.EventTime != c.EventTime || back.IngestTime != c.IngestTime ||
		back.Signal != c.Signal || back.Quarantined["bad_value"] != 1 {
		t.Errorf("round trip changed the counts:\n got %+v\nwant %+v", back, c)
	}
	j := CountsToJSON(&c)
	j.Lag.Buckets[100000] = 1
	if _, err := j.Counts(); err == nil {
		t.Error("a lag bucket out of range was accepted")
	}
}

// FuzzBuyerRecord: parsing any bytes never panics, and what parses writes
// back to the same bytes.
func FuzzBuyerRecord(f *testing.F) {
	f.Add((&buyerRecord{Birth: 3, HasBirth: true, Signals: []byte(`[]`), State: []byte(`{}`)}).append(nil))
	f.Add([]byte{2, 3, 0x80})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r buyerRecord
		if err := r.parse(b); err != nil {
			return
		}
		if again := r.append(nil); !bytes.Equal(again, b) {
			// Varints have one shortest form; a longer one parses too.
			var r2 buyerRecord
			if err := r2.parse(again); err != nil || r2.Birth != r.Birth || !bytes.Equal(r2.State, r.State) {
				t.Fatalf("%x parsed as %+v, which writes %x", b, r, again)
			}
		}
	})
}

package event

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

// writeAllFormats writes evs as Parquet, JSONL and CSV into dir and returns
// the three paths.
func writeAllFormats(t *testing.T, dir, name string, evs []Event) []string {
	t.Helper()
	return []string{
		writeFile(t, dir, name+".parquet", writeParquet(t, evs)),
		writeFile(t, dir, name+".jsonl", jsonlBytesRaw(evs)),
		writeFile(t, dir, name+".csv", csvBytes(t, evs)),
	}
}

// jsonlBytesRaw writes events as JSON Lines keeping string bytes as they
// are (encoding/json would replace invalid UTF-8 with U+FFFD).
func jsonlBytesRaw(evs []Event) []byte {
	var b bytes.Buffer
	str := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, `,"%s":"%s"`, k, v)
		}
	}
	for _, e := range evs {
		fmt.Fprintf(&b, `{"event_id":"%s","kind":"%s","event_time":%d`, e.EventID, e.Kind, e.EventTime)
		if e.HasIngestTime {
			fmt.Fprintf(&b, `,"ingest_time":%d`, e.IngestTime)
		}
		str("shop_id", e.ShopID)
		str("buyer_id", e.BuyerID)
		str("conversation_id", e.ConversationID)
		str("channel", e.Channel)
		str("sender", e.Sender)
		str("cart_token", e.CartToken)
		if e.HasItemCount {
			fmt.Fprintf(&b, `,"item_count":%d`, e.ItemCount)
		}
		if e.HasCartValue {
			fmt.Fprintf(&b, `,"cart_value_cents":%d`, e.CartValueCents)
		}
		if len(e.ProductIDs) > 0 {
			fmt.Fprintf(&b, `,"product_ids":["%s"]`, strings.Join(e.ProductIDs, `","`))
		}
		str("order_id", e.OrderID)
		if e.HasOrderValue {
			fmt.Fprintf(&b, `,"order_value_cents":%d`, e.OrderValueCents)
		}
		str("currency", e.Currency)
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// readQuarantine reads paths and returns the quarantined rows by file
// format, failing on a read error.
func readQuarantine(t *testing.T, paths []string) ([]Event, []Quarantined) {
	t.Helper()
	evs, r, err := ReadAll(paths, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return evs, r.Quarantined()
}

// TestInvalidUTF8Quarantined: a string that is not valid UTF-8, in any
// string column of any format, quarantines its row (reason invalid_utf8,
// the column named, the bytes escaped as \xNN in detail and raw), and the
// quarantine rows are valid UTF-8 (issue 16, class 6).
func TestInvalidUTF8Quarantined(t *testing.T) {
	const bad = "id\xff\xfe"
	set := map[string]func(e *Event){
		"event_id":        func(e *Event) { e.EventID = bad },
		"shop_id":         func(e *Event) { e.ShopID = bad },
		"buyer_id":        func(e *Event) { e.BuyerID = bad },
		"conversation_id": func(e *Event) { e.ConversationID = bad },
		"channel":         func(e *Event) { e.Channel = bad },
		"cart_token":      func(e *Event) { e.CartToken = bad },
		"product_ids":     func(e *Event) { e.ProductIDs = []string{"ok", bad} },
		"order_id":        func(e *Event) { e.OrderID = bad },
		"currency":        func(e *Event) { e.Currency = bad },
	}
	for col, mutate := range set {
		t.Run(col, func(t *testing.T) {
			evs := sampleEvents(14)
			// The first event of a kind that has the column.
			i := map[string]int{"conversation_id": 4, "channel": 4, "cart_token": 1, "product_ids": 1, "order_id": 3, "currency": 1}[col]
			mutate(&evs[i])
			for _, p := range writeAllFormats(t, t.TempDir(), "u", evs) {
				got, qs := readQuarantine(t, []string{p})
				if len(got) != len(evs)-1 || len(qs) != 1 {
					t.Fatalf("%s: %d events, %d quarantined; want %d and 1", filepath.Base(p), len(got), len(qs), len(evs)-1)
				}
				q := qs[0]
				if q.Reason != ReasonInvalidUTF8 || q.Column != col {
					t.Errorf("%s: reason %s column %q, want invalid_utf8 %s (%s)", filepath.Base(p), q.Reason, q.Column, col, q.Detail)
				}
				row := q.ToRow()
				for _, s := range []string{row.File, row.Column, row.Detail, row.Raw} {
					if !utf8.ValidString(s) {
						t.Errorf("%s: quarantine row field %q is not valid UTF-8", filepath.Base(p), s)
					}
				}
				// Raw is the line (text) or a JSON rendering (Parquet, where
				// JSON doubles the backslash).
				if !strings.Contains(row.Detail, `\xff\xfe`) || !strings.Contains(row.Raw, `xff`) {
					t.Errorf("%s: bytes not escaped: detail %q raw %q", filepath.Base(p), row.Detail, row.Raw)
				}
			}
		})
	}
}

// TestTimeRange: times outside [MinTime, MaxTime) quarantine the row as
// bad_timestamp in every format, including timestamps that overflow when a
// Parquet unit is converted to µs (issue 16, class 2).
func TestTimeRange(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(e *Event)
		col  string
	}{
		{"year 9999", func(e *Event) { e.EventTime = 253402300799000000 }, "event_time"},
		{"max int64", func(e *Event) { e.EventTime = math.MaxInt64 }, "event_time"},
		{"before 1970", func(e *Event) { e.EventTime = -1 }, "event_time"},
		{"ingest year 2200", func(e *Event) { e.IngestTime, e.HasIngestTime = 7258118400000000, true }, "ingest_time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			evs := sampleEvents(10)
			c.set(&evs[5])
			for _, p := range writeAllFormats(t, t.TempDir(), "t", evs) {
				got, qs := readQuarantine(t, []string{p})
				if len(got) != len(evs)-1 || len(qs) != 1 {
					t.Fatalf("%s: %d events, %d quarantined", filepath.Base(p), len(got), len(qs))
				}
				// (CSV and JSONL carry year 294247 as text, which does not
				// parse: the same reason with another detail.)
				if qs[0].Reason != ReasonBadTimestamp || qs[0].Column != c.col {
					t.Errorf("%s: %+v", filepath.Base(p), qs[0])
				}
			}
		})
	}
	// Seconds and milliseconds that overflow int64 µs when converted (they
	// used to wrap around into a plausible time): files written by another
	// tool with TIMESTAMP(MILLIS).
	type msRow struct {
		EventID   string `parquet:"event_id"`
		Kind      string `parquet:"kind"`
		EventTime int64  `parquet:"event_time,timestamp(millisecond)"`
		ShopID    string `parquet:"shop_id"`
		BuyerID   string `parquet:"buyer_id"`
	}
	var buf bytes.Buffer
	// Row b overflows to a negative time; row c (2^64 µs + 2026-03-01, in
	// ms) wraps around to exactly 2026-03-01 without an overflow check.
	rows := []msRow{{"a", "page_view", 1772323200000, "s", "b"}, {"b", "page_view", math.MaxInt64/1000 + 1, "s", "b"},
		{"c", "page_view", 18446744073709 + 1772323200000, "s", "b"}}
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	got, qs := readQuarantine(t, []string{writeFile(t, t.TempDir(), "ms.parquet", buf.Bytes())})
	if len(got) != 1 || len(qs) != 2 || qs[0].Reason != ReasonBadTimestamp || qs[1].Reason != ReasonBadTimestamp {
		t.Errorf("millisecond overflow: %d events, quarantined %+v", len(got), qs)
	}
}

// TestMoneyCeiling: money above MaxMoneyCents quarantines the row as
// bad_value in every format (before: order_value_cents at the int64 maximum
// was accepted and a revenue sum wrapped to -2; issue 16, class 5).
func TestMoneyCeiling(t *testing.T) {
	for _, c := range []struct {
		col string
		i   int
		set func(e *Event, v int64)
	}{
		{"order_value_cents", 3, func(e *Event, v int64) { e.OrderValueCents = v }},
		{"cart_value_cents", 1, func(e *Event, v int64) { e.CartValueCents = v }},
	} {
		for _, v := range []int64{MaxMoneyCents + 1, math.MaxInt64} {
			evs := sampleEvents(10)
			c.set(&evs[c.i], v)
			for _, p := range writeAllFormats(t, t.TempDir(), "m", evs) {
				got, qs := readQuarantine(t, []string{p})
				if len(got) != len(evs)-1 || len(qs) != 1 {
					t.Fatalf("%s %s %d: %d events, %d quarantined", filepath.Base(p), c.col, v, len(got), len(qs))
				}
				if qs[0].Reason != ReasonBadValue || qs[0].Column != c.col || !strings.Contains(qs[0].Detail, "ceiling") {
					t.Errorf("%s: %+v", filepath.Base(p), qs[0])
				}
			}
		}
		// The ceiling itself is accepted.
		evs := sampleEvents(10)
		c.set(&evs[c.i], MaxMoneyCents)
		for _, p := range writeAllFormats(t, t.TempDir(), "m", evs) {
			if got, qs := readQuarantine(t, []string{p}); len(got) != len(evs) || len(qs) != 0 {
				t.Errorf("%s: the ceiling itself was quarantined: %+v", filepath.Base(p), qs)
			}
		}
	}
}

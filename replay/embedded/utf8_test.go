package embedded

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/duckcheck"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

// TestInvalidUTF8OutputsReadable replays a log whose ids and unknown
// columns hold bytes that are not UTF-8 (in accepted-looking rows and in
// rows quarantined for other reasons), then reads every output with DuckDB:
// each file must load (before: DuckDB refused conversations.parquet with
// "Invalid string encoding", and quarantine.parquet when the bad bytes were
// in a quarantined row; issue 16, class 6). Skips without DuckDB
// (internal/duckcheck).
func TestInvalidUTF8OutputsReadable(t *testing.T) {
	if ok, why := duckcheck.Available(); !ok {
		t.Skip("DuckDB not available: " + why)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "bad\xffname.jsonl")
	lines := []string{
		`{"event_id":"e1","kind":"conversation_started","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b\xff","conversation_id":"c1"}`,
		`{"event_id":"e2","kind":"conversation_started","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"ok","conversation_id":"c\xfe2"}`,
		`{"event_id":"e3","kind":"conversation_started","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"ok","conversation_id":"c3"}`,
		`{"event_id":"e4","kind":"bogus\xc3","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"ok"}`,
		"not json \xff\xfe",
		`{"event_id":"e5","kind":"order_placed","event_time":"2026-03-01T10:05:00Z","shop_id":"s","buyer_id":"ok","order_id":"o\xe2\x82","order_value_cents":5}`,
	}
	// Backquoted lines spell the bytes as \xNN: put the real bytes in.
	text := strings.Join(lines, "\n") + "\n"
	for _, b := range []string{"ff", "fe", "c3", "e2", "82"} {
		v, _ := strconv.ParseUint(b, 16, 8)
		text = strings.ReplaceAll(text, `\x`+b, string([]byte{byte(v)}))
	}
	if err := os.WriteFile(in, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	// Parquet carries the bytes as they are (no JSON decoder to replace
	// them): a conversation of buyer "p\xff" and one with id "pc\xfe".
	pq := filepath.Join(dir, "p.parquet")
	t0 := int64(1772359200000000) // 2026-03-01T10:00:00Z
	writeParquetEvents(t, pq, []event.Event{
		{EventID: "p1", Kind: event.KindConversationStarted, EventTime: t0, ShopID: "s", BuyerID: "p\xff", ConversationID: "pc1"},
		{EventID: "p2", Kind: event.KindConversationStarted, EventTime: t0, ShopID: "s", BuyerID: "p", ConversationID: "pc\xfe"},
		{EventID: "p3", Kind: event.KindConversationStarted, EventTime: t0, ShopID: "s", BuyerID: "p", ConversationID: "pc3"},
	}, 1024)
	out := filepath.Join(dir, "out")
	sum, err := Run(Config{Events: []string{in, pq}, Out: out, Params: signal.DefaultParams(), Order: replay.OrderArrival, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Counts.QuarantinedByReason["invalid_utf8"] != 6 || sum.Counts.QuarantinedByReason["malformed_row"] != 1 {
		t.Errorf("quarantined %v, want 6 invalid_utf8 and 1 malformed_row", sum.Counts.QuarantinedByReason)
	}
	for _, f := range []string{output.SignalsFile, output.ConversationsFile, output.OrdersFile, output.QuarantineFile} {
		n, err := duckcheck.ReadAll(t, filepath.Join(out, f))
		if err != nil {
			t.Errorf("%s: DuckDB cannot read it: %v", f, err)
		}
		if f == output.QuarantineFile && n != 7 {
			t.Errorf("%s: %d rows, want 7", f, n)
		}
		if f == output.ConversationsFile && n != 2 {
			t.Errorf("%s: %d rows, want 2 (c3, pc3)", f, n)
		}
	}
}

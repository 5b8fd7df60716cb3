package event

import (
	"os"
	"path/filepath"
	"testing"
)

// TestEdgeFixtures reads testdata/edge (see its README.md, which states the
// expectations checked here).
func TestEdgeFixtures(t *testing.T) {
	dir := filepath.Join("..", "testdata", "edge")
	type quar struct {
		row    int64
		reason Reason
		column string
	}
	cases := []struct {
		file     string
		accepted int
		quar     []quar
	}{
		{"duplicates.jsonl", 6, nil},
		{"out_of_order_cart.csv", 6, nil},
		{"late.jsonl", 4, nil},
		{"idle_conversation.jsonl", 4, nil},
		{"bad_rows.jsonl", 2, []quar{
			{2, ReasonMissingField, "event_id"}, {3, ReasonUnknownKind, "kind"}, {4, ReasonNegativeMoney, "order_value_cents"},
			{5, ReasonBadTimestamp, "event_time"}, {6, ReasonBadValue, "item_count"}, {7, ReasonMissingField, "conversation_id"},
			{8, ReasonMalformedRow, ""},
		}},
		{"bad_rows.csv", 2, []quar{
			{3, ReasonMissingField, "cart_value_cents"}, {4, ReasonBadValue, "item_count"}, {5, ReasonNegativeMoney, "cart_value_cents"},
			{6, ReasonMissingField, "event_time"}, {7, ReasonMalformedRow, ""},
		}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			p := filepath.Join(dir, c.file)
			if _, err := os.Stat(p); err != nil {
				t.Fatal(err)
			}
			evs, r, err := ReadAll([]string{p}, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != c.accepted {
				t.Errorf("accepted %d, want %d", len(evs), c.accepted)
			}
			q := r.Quarantined()
			if len(q) != len(c.quar) {
				t.Fatalf("quarantined %+v, want %+v", q, c.quar)
			}
			for i, w := range c.quar {
				if q[i].Row != w.row || q[i].Reason != w.reason || q[i].Column != w.column {
					t.Errorf("quarantine %d = row %d %s %q, want %+v", i, q[i].Row, q[i].Reason, q[i].Column, w)
				}
			}
		})
	}
	evs, _, err := ReadAll([]string{filepath.Join(dir, "late.jsonl")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if evs[3].EventTime != 1772361120000000 { // date -u -d 2026-03-01T10:32:00Z +%s → 1772361120
		t.Errorf("late-4 event_time = %d", evs[3].EventTime)
	}
	evs, _, err = ReadAll([]string{filepath.Join(dir, "bad_rows.csv")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatTimestamp(evs[1].EventTime); got != "2026-03-01T09:00:06Z" {
		t.Errorf("ok-7 event_time = %s, want 2026-03-01T09:00:06Z", got)
	}
}

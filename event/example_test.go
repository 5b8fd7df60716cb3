package event_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/signalab/signalab/event"
)

// Reading a log: batches in input order, bad rows quarantined with a reason.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	log := `{"event_id":"e1","kind":"cart_update","event_time":"2026-03-01T10:00:00Z","shop_id":"s1","buyer_id":"b1","cart_token":"c1","item_count":2,"cart_value_cents":4500}
{"event_id":"e2","kind":"refund","event_time":"2026-03-01T10:01:00Z","shop_id":"s1","buyer_id":"b1"}
{"event_id":"e3","kind":"order_placed","event_time":"2026-03-01T10:02:00Z","shop_id":"s1","buyer_id":"b1","order_id":"o1","order_value_cents":4500}
`
	os.WriteFile(filepath.Join(dir, "events.jsonl"), []byte(log), 0o644)

	r, err := event.Open([]string{dir}, event.ReadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	for {
		batch, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		for _, e := range batch {
			fmt.Println(e.Row, e.EventID, e.Kind, event.FormatTimestamp(e.EventTime))
		}
	}
	for _, q := range r.Quarantined() {
		fmt.Println("quarantined: row", q.Row, q.Column, q.Reason)
	}
	// Output:
	// 1 e1 cart_update 2026-03-01T10:00:00Z
	// 3 e3 order_placed 2026-03-01T10:02:00Z
	// quarantined: row 2 kind unknown_kind
}

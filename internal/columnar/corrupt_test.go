package columnar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/internal/parquetsafe"
)

// TestScanCorruptNeverPanics scans damaged copies of the committed test log
// (parquetsafe.Corruptions) with every column: each scan ends with the rows
// or an error naming the file, never a panic (before: arrow-go panicked on
// its own goroutines, and Scan had no recovery at all; issue 16, class 1).
func TestScanCorruptNeverPanics(t *testing.T) {
	cs, err := parquetsafe.CorruptionsOfFile(filepath.Join("..", "..", "testdata", "events", "events.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"event_id", "kind", "event_time", "ingest_time", "shop_id", "buyer_id", "conversation_id", "channel",
		"sender", "cart_token", "item_count", "cart_value_cents", "order_id", "order_value_cents", "currency"}
	optional := map[string]bool{}
	for _, n := range names {
		optional[n] = true
	}
	dir := t.TempDir()
	failed := 0
	for i, c := range cs {
		p := filepath.Join(dir, "c"+string(rune('a'+i%26))+strings.Repeat("x", i/26)+".parquet")
		if err := os.WriteFile(p, c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		err := Scan(p, names, optional, func(cols []*Column, rows int, first int64) error {
			for _, c := range cols {
				if c != nil {
					for r := 0; r < rows; r++ {
						_ = c.String(r)
					}
				}
			}
			return nil
		})
		if err != nil {
			failed++
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error does not name the file: %v", c.Name, err)
			}
		}
	}
	t.Logf("%d corruptions, %d scans failed cleanly", len(cs), failed)
}

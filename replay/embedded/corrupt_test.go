package embedded

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/internal/parquetsafe"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// TestRunCorruptInputCleanError replays damaged copies of the committed log
// with two workers: each run either succeeds or fails with an error naming
// the file, and leaves no spill folder behind (before: a decoder panic on
// an arrow-go goroutine killed the process and left .spill-*; issue 16,
// class 1).
func TestRunCorruptInputCleanError(t *testing.T) {
	cs, err := parquetsafe.CorruptionsOfFile(filepath.Join("..", "..", "testdata", "events", "events.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	failed := 0
	for i, c := range cs {
		if i%4 != 0 {
			continue // a quarter is enough here; event tests read them all
		}
		in := filepath.Join(dir, "in.parquet")
		if err := os.WriteFile(in, c.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		_, err := Run(Config{Events: []string{in}, Out: out, Params: signal.DefaultParams(), Order: replay.OrderArrival, Workers: 2})
		if err != nil {
			failed++
			if !strings.Contains(err.Error(), in) {
				t.Errorf("%s: error does not name the file: %v", c.Name, err)
			}
		}
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".spill-") || strings.HasPrefix(e.Name(), ".staging-") {
				t.Errorf("%s: left %s behind", c.Name, e.Name())
			}
		}
	}
	t.Logf("%d runs failed cleanly", failed)
}

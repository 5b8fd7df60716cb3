package synth

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signalab/signalab/event"
)

var update = flag.Bool("update", false, "regenerate testdata/events (the committed small log)")

// committedLog is the configuration of testdata/events/, made by
//
//	signalab generate --out testdata/events --shops 40 --buyers 400 --seed 2026
//
// (or go test ./synth -run TestCommittedLog -update).
func committedLog() Config {
	cfg := DefaultConfig()
	cfg.Shops, cfg.Buyers, cfg.Seed = 40, 400, 2026
	return cfg
}

// TestCommittedLog checks that testdata/events/ is what the generator makes
// for its documented flags, row by row and count by count, so the fixture
// cannot silently drift from the generator.
func TestCommittedLog(t *testing.T) {
	dir := filepath.Join("..", "testdata", "events")
	cfg := committedLog()
	if *update {
		if _, err := WriteDir(context.Background(), cfg, dir, nil); err != nil {
			t.Fatal(err)
		}
	}
	got, _, err := event.ReadAll([]string{filepath.Join(dir, EventsFile)}, event.ReadOptions{Strict: true})
	if err != nil {
		t.Fatalf("%v (regenerate with: go test ./synth -run TestCommittedLog -update)", err)
	}
	want, truth := collect(t, cfg)
	if len(got) != len(want) {
		t.Fatalf("%s has %d rows, the generator makes %d (regenerate with -update)", dir, len(got), len(want))
	}
	for i := range got {
		got[i].File, got[i].Row = 0, 0
		w := want[i]
		if len(w.ProductIDs) == 0 {
			w.ProductIDs = nil
		}
		if len(got[i].ProductIDs) == 0 {
			got[i].ProductIDs = nil
		}
		if !reflect.DeepEqual(got[i], w) {
			t.Fatalf("row %d differs from the generator (regenerate with -update):\n got %+v\nwant %+v", i+1, got[i], w)
		}
	}
	f, err := os.Open(filepath.Join(dir, TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	committed, err := ReadTruth(f)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(committed.Counts, truth.Counts) || !reflect.DeepEqual(committed.Arms, truth.Arms) {
		t.Errorf("%s/truth.json counts differ from the generator's (regenerate with -update)", dir)
	}
}

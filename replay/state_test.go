package replay

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
)

// TestSnapshotRestoreMidStream checks that a Buyer checkpointed after any
// number of events (MarshalBinary) and restored into a fresh Buyer
// (UnmarshalBinary) continues exactly as the uninterrupted one: identical
// signals, conversations, orders and counts, for every buyer of every case
// in testdata/replay and every split point.
func TestSnapshotRestoreMidStream(t *testing.T) {
	root := filepath.Join("..", "testdata", "replay")
	dirs, err := os.ReadDir(root)
	must(t, err)
	splits := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir := filepath.Join(root, d.Name())
		p, o := loadCaseParams(t, dir)
		groups := map[event.BuyerKey][]event.Event{}
		for _, e := range readCaseEvents(t, filepath.Join(dir, "events.jsonl")) {
			groups[e.Key()] = append(groups[e.Key()], e)
		}
		for key, evs := range groups {
			SortBuyerEvents(evs, o)
			var want signal.Output
			b := signal.NewBuyer(key, p)
			for i := range evs {
				b.Apply(&evs[i], &want)
			}
			b.Finish(&want)
			for k := 0; k <= len(evs); k++ {
				var got signal.Output
				b1 := signal.NewBuyer(key, p)
				for i := range evs[:k] {
					b1.Apply(&evs[i], &got)
				}
				snap, err := b1.MarshalBinary()
				must(t, err)
				b2 := signal.NewBuyer(event.BuyerKey{}, p)
				must(t, b2.UnmarshalBinary(snap))
				for i := k; i < len(evs); i++ {
					b2.Apply(&evs[i], &got)
				}
				b2.Finish(&got)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s, buyer %v, restored after %d events: output differs\n got %+v\nwant %+v", d.Name(), key, k, got, want)
				}
				splits++
			}
		}
	}
	if splits < 50 {
		t.Fatalf("only %d split points tested", splits)
	}
}

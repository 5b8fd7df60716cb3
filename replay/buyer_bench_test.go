package replay_test

import (
	"cmp"
	"context"
	"slices"
	"testing"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

// BenchmarkBuyerReplay measures the per-buyer core alone (ordering and the
// signal logic, the work every engine shares) on generated events already
// grouped by buyer, without reading or writing files:
//
//	go test ./replay -run '^$' -bench BuyerReplay -count 6
//
// Compare builds with benchstat; docs/benchmarks.md has the numbers.
func BenchmarkBuyerReplay(b *testing.B) {
	cfg := synth.DefaultConfig()
	cfg.Buyers = 20000
	var evs []event.Event
	if _, err := synth.Generate(context.Background(), cfg, func(batch []event.Event) error {
		evs = append(evs, batch...)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	// Group by buyer, keeping each buyer's events in log order.
	slices.SortStableFunc(evs, func(x, y event.Event) int {
		return cmp.Or(cmp.Compare(x.ShopID, y.ShopID), cmp.Compare(x.BuyerID, y.BuyerID))
	})
	var groups [][]event.Event
	for lo := 0; lo < len(evs); {
		hi := lo + 1
		for hi < len(evs) && evs[hi].Key() == evs[lo].Key() {
			hi++
		}
		groups = append(groups, evs[lo:hi])
		lo = hi
	}
	for _, order := range []replay.Order{replay.OrderArrival, replay.OrderEventTime} {
		b.Run(order.String(), func(b *testing.B) {
			buyer := replay.NewBuyer(event.BuyerKey{}, signal.DefaultParams(), order)
			var out replay.Output
			for b.Loop() {
				for _, g := range groups {
					out.Reset()
					buyer.Replay(g, &out)
				}
			}
			b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(evs)), "ns/event")
		})
	}
}

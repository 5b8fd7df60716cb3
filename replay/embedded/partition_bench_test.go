package embedded

import (
	"fmt"
	"testing"

	"github.com/signalab/signalab/event"
)

// BenchmarkPartitionAdd appends page views of many buyers to 1 to 1024
// partitions, as a scan goroutine does, with and without stages
// (withStages), and reports CPU ns per event (user+sys of the process):
// the cost of scattering entries over partitions (see withStages).
func BenchmarkPartitionAdd(b *testing.B) {
	evs := make([]event.Event, 4096)
	for i := range evs {
		evs[i] = event.Event{EventID: fmt.Sprint("ev_", i), Kind: event.KindPageView, EventTime: 1772359200000001 + int64(i),
			IngestTime: 1772359201000001 + int64(i), HasIngestTime: true, BuyerID: fmt.Sprint("buyer_", i*7919%100003), Row: 1234567 + int64(i)}
	}
	for _, np := range []int{1, 64, 256, 1024} {
		for _, stages := range []bool{false, true} {
			b.Run(fmt.Sprintf("partitions=%d/stages=%v", np, stages), func(b *testing.B) {
				parts := make([]partition, np)
				if stages {
					withStages(parts)
				}
				pool := &chunkPool{size: 512 << 10, budget: 1 << 40}
				var shops shopTable
				var cache shopCache
				n := 0
				c0 := processCPU()
				for b.Loop() {
					for i := range evs {
						e := evs[i] // appendEntry clears ShopID
						e.ShopID = "shop_0012"
						h := buyerHash(e.ShopID, e.BuyerID)
						parts[h%uint64(np)].add(&e, h, cache.number(&shops, e.ShopID), pool)
					}
					if n += len(evs); n%(1<<22) == 0 { // reuse the chunks, as after a spill
						for i := range parts {
							parts[i].stage = parts[i].stage[:0]
							for _, c := range parts[i].chunks {
								pool.put(c)
							}
							parts[i].chunks = parts[i].chunks[:0]
						}
					}
				}
				b.ReportMetric(float64((processCPU()-c0).Nanoseconds())/float64(n), "cpu-ns/event")
				for i := range parts {
					parts[i].release(pool, false)
				}
				pool.drop(nil)
			})
		}
	}
}

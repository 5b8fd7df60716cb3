package wire

import (
	"syscall"
	"testing"
	"time"

	"github.com/signalab/signalab/event"
)

// benchEvents are a page view and a cart update as the generator writes
// them (most records of a log are page views).
var benchEvents = map[string]event.Event{
	"page_view": {EventID: "ev_12345", Kind: event.KindPageView, EventTime: 1772359200000001, IngestTime: 1772359201000001,
		HasIngestTime: true, ShopID: "shop_0012", BuyerID: "buyer_4abc", ProductIDs: []string{"p12_2"}, Row: 4234567},
	"cart_update": {EventID: "ev_12346", Kind: event.KindCartUpdate, EventTime: 1772359200000001, IngestTime: 1772359201000001,
		HasIngestTime: true, ShopID: "shop_0012", BuyerID: "buyer_4abc", CartToken: "cart_4abc", ItemCount: 3, HasItemCount: true,
		CartValueCents: 12999, HasCartValue: true, ProductIDs: []string{"p12_2", "p12_17", "p12_30"}, Row: 4234568},
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncode and BenchmarkDecode report CPU ns per record (user+sys
// of the process, steadier than wall time on a shared machine) and the
// record's size.
func BenchmarkEncode(b *testing.B) {
	for name, e := range benchEvents {
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 0, 1<<20)
			c0 := cpuTime()
			for b.Loop() {
				buf = buf[:0]
				for range 1000 {
					buf = AppendEvent(buf, &e)
				}
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N*1000), "cpu-ns/record")
			b.ReportMetric(float64(len(buf))/1000, "B/record")
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for name, e := range benchEvents {
		b.Run(name, func(b *testing.B) {
			var buf []byte
			for range 1000 {
				buf = AppendEvent(buf, &e)
			}
			var d Decoder
			var out event.Event
			c0 := cpuTime()
			for b.Loop() {
				for off := 0; off < len(buf); {
					n, err := d.Decode(buf[off:], &out)
					if err != nil {
						b.Fatal(err)
					}
					off += n
				}
				d.Reset()
			}
			b.ReportMetric(float64(cpuTime()-c0)/float64(b.N*1000), "cpu-ns/record")
		})
	}
}

package synth

import (
	"context"
	"io"
	"testing"

	"github.com/signalab/signalab/event"
)

// BenchmarkGenerate measures generation at three sizes, streaming only
// (rows discarded) and with Parquet encoding (to io.Discard). Numbers and the
// command are in docs/benchmarks/synth.md:
//
//	go test ./synth -run '^$' -bench BenchmarkGenerate -benchtime 1x
func BenchmarkGenerate(b *testing.B) {
	for _, size := range []struct {
		name   string
		buyers int
	}{{"Small", 1000}, {"Medium", 10000}, {"Large", 100000}} {
		for _, sink := range []string{"stream", "parquet"} {
			b.Run(size.name+"/"+sink, func(b *testing.B) {
				cfg := DefaultConfig()
				cfg.Buyers = size.buyers
				var rows int64
				for b.Loop() {
					emit := func(batch []event.Event) error { rows += int64(len(batch)); return nil }
					var pw *event.ParquetWriter
					if sink == "parquet" {
						var err error
						if pw, err = event.NewParquetWriter(io.Discard); err != nil {
							b.Fatal(err)
						}
						emit = func(batch []event.Event) error { rows += int64(len(batch)); return pw.Write(batch) }
					}
					if _, err := Generate(context.Background(), cfg, emit); err != nil {
						b.Fatal(err)
					}
					if pw != nil {
						if err := pw.Close(); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
				b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
			})
		}
	}
}

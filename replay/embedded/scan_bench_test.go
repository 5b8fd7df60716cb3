package embedded

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// BenchmarkPqarrowScan is the baseline of docs/benchmarks/replay.md: arrow-go
// pqarrow decoding every column of SIGNALAB_BENCH_EVENTS, one row group per
// goroutine on two goroutines, 64k-row batches, doing nothing with the rows
// (DuckDB, the baseline the issue names, is not installed here).
func BenchmarkPqarrowScan(b *testing.B) {
	in := os.Getenv("SIGNALAB_BENCH_EVENTS")
	if in == "" {
		b.Skip("set SIGNALAB_BENCH_EVENTS to an event log")
	}
	for b.Loop() {
		f, err := os.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		pf, err := file.NewParquetReader(f)
		if err != nil {
			b.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		var rows atomic.Int64
		next := make(chan int)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for rg := range next {
					rr, err := fr.GetRecordReader(context.Background(), nil, []int{rg})
					if err != nil {
						b.Error(err)
						return
					}
					for rr.Next() {
						rows.Add(rr.RecordBatch().NumRows())
					}
					rr.Release()
				}
			}()
		}
		for rg := range pf.NumRowGroups() {
			next <- rg
		}
		close(next)
		wg.Wait()
		pf.Close()
		b.ReportMetric(float64(rows.Load()), "rows")
	}
}

package event

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// benchEvents builds n realistic-looking events (see sampleEvents, with more
// distinct buyers and products) for the benchmarks.
func benchEvents(n int) []Event {
	evs := sampleEvents(n)
	for i := range evs {
		evs[i].BuyerID = "buyer-" + itoa(int64(i%50000))
		evs[i].EventID = "evt-" + itoa(int64(i)) + "-" + itoa(int64(i*7919%100003))
	}
	return evs
}

var benchFiles struct {
	sync.Once
	dir string
	n   int
}

// benchInputs writes a 1M-event Parquet file (with the package writer) and
// the same events as JSONL and CSV, once: they are kept in
// $TMPDIR/signalab-event-bench-v1 and reused by later runs.
func benchInputs(b *testing.B) (dir string, n int) {
	benchFiles.Do(func() {
		n := 1 << 20
		dir := filepath.Join(os.TempDir(), "signalab-event-bench-v1")
		if _, err := os.Stat(filepath.Join(dir, "done")); err == nil {
			benchFiles.dir, benchFiles.n = dir, n
			return
		}
		evs := benchEvents(n)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		f, _ := os.Create(filepath.Join(dir, "e.parquet"))
		w, _ := NewParquetWriter(f)
		if err := w.Write(evs); err != nil {
			b.Fatal(err)
		}
		w.Close()
		f.Close()
		os.WriteFile(filepath.Join(dir, "e.jsonl"), jsonlBytes(b, evs), 0o644)
		os.WriteFile(filepath.Join(dir, "e.csv"), csvBytes(b, evs), 0o644)
		os.WriteFile(filepath.Join(dir, "done"), nil, 0o644)
		benchFiles.dir, benchFiles.n = dir, n
	})
	return benchFiles.dir, benchFiles.n
}

func benchRead(b *testing.B, name string, opts ReadOptions) {
	dir, n := benchInputs(b)
	p := filepath.Join(dir, name)
	b.ReportAllocs()
	cpu0 := cpuTime()
	var peak uint64
	b.ResetTimer()
	for b.Loop() {
		r, err := Open([]string{p}, opts)
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for {
			evs, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			got += len(evs)
			if got%(1<<18) < len(evs) { // sample the heap every ~256k events
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
		r.Close()
		if got != n {
			b.Fatalf("read %d events, want %d", got, n)
		}
	}
	b.StopTimer()
	reportRates(b, n, cpu0)
	b.ReportMetric(float64(peak)/(1<<20), "heap-MiB")
}

// reportRates reports events/s of wall time and CPU ns per event (user+sys
// of the whole process, so it does not depend on how busy the machine is).
func reportRates(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(n*b.N), "cpu-ns/event")
	b.ReportMetric(0, "ns/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkReadParquet(b *testing.B)        { benchRead(b, "e.parquet", ReadOptions{}) }
func BenchmarkReadParquet1Worker(b *testing.B) { benchRead(b, "e.parquet", ReadOptions{Workers: 1}) }
func BenchmarkReadJSONL(b *testing.B)          { benchRead(b, "e.jsonl", ReadOptions{}) }
func BenchmarkReadCSV(b *testing.B)            { benchRead(b, "e.csv", ReadOptions{}) }
func BenchmarkReadParquetColumns(b *testing.B) {
	benchRead(b, "e.parquet", ReadOptions{Columns: []string{"cart_value_cents", "item_count", "cart_token"}})
}

func BenchmarkWriteParquet(b *testing.B) {
	const n = 1 << 20
	evs := benchEvents(n)
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.ResetTimer()
	for b.Loop() {
		w, _ := NewParquetWriter(io.Discard)
		if err := w.Write(evs); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRates(b, n, cpu0)
}

// BenchmarkReadParquetRowGroups reads the same 1M events written as 8 row
// groups of 128k rows, where the two workers decode row groups in parallel.
func BenchmarkReadParquetRowGroups(b *testing.B) {
	dir, _ := benchInputs(b)
	p := filepath.Join(dir, "e-rg8.parquet")
	if _, err := os.Stat(p); err != nil {
		f, _ := os.Create(p)
		w, _ := NewParquetWriter(f, WithRowGroupRows(1<<17))
		if err := w.Write(benchEvents(1 << 20)); err != nil {
			b.Fatal(err)
		}
		w.Close()
		f.Close()
	}
	benchRead(b, "e-rg8.parquet", ReadOptions{})
}

// benchScan reads the benchmark's Parquet file (or SIGNALAB_BENCH_EVENTS,
// e.g. a 10M-event generated log) with Scan and 2 goroutines, the columns
// a replay reads: the page decoder, or the Arrow decoder with arrowOnly.
func benchScan(b *testing.B, arrowOnly bool) {
	p := os.Getenv("SIGNALAB_BENCH_EVENTS")
	if p == "" {
		dir, _ := benchInputs(b)
		p = filepath.Join(dir, "e.parquet")
	}
	cols := []string{"ingest_time", "conversation_id", "channel", "sender", "cart_token",
		"item_count", "cart_value_cents", "product_ids", "order_id", "order_value_cents"}
	cpu0 := cpuTime()
	var n atomic.Int64
	for b.Loop() {
		r, err := Open([]string{p}, ReadOptions{Workers: 2, Columns: cols, arrowOnly: arrowOnly})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Scan(func(_ int, evs []Event) error { n.Add(int64(len(evs))); return nil }); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	b.StopTimer()
	reportRates(b, int(n.Load())/b.N, cpu0)
}

func BenchmarkScanParquet(b *testing.B)      { benchScan(b, false) }
func BenchmarkScanParquetArrow(b *testing.B) { benchScan(b, true) }

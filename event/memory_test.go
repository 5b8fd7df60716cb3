package event

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"unsafe"
)

// TestReadMemoryBounded checks that reading does not hold the file in
// memory: the live heap while reading 8 row groups of 128k events stays
// below a bound that does not grow with the file. Opt-in (SIGNALAB_LONG=1):
// it writes a million events.
func TestReadMemoryBounded(t *testing.T) {
	if os.Getenv("SIGNALAB_LONG") == "" {
		t.Skip("set SIGNALAB_LONG=1 to run")
	}
	const n = 1 << 20
	p := filepath.Join(t.TempDir(), "big.parquet")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w, _ := NewParquetWriter(f, WithRowGroupRows(n/8))
	evs := benchEvents(n)
	if err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	w.Close()
	f.Close()
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	allEvents := uint64(n) * uint64(unsafe.Sizeof(Event{})) // the events slice alone
	evs = nil
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc

	r, err := Open([]string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var peak uint64
	got := 0
	for {
		b, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got += len(b)
		if got%(1<<16) < len(b) {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc-min(ms.HeapAlloc, base))
		}
	}
	if got != n {
		t.Fatalf("read %d, want %d", got, n)
	}
	t.Logf("peak live heap while reading: %d MiB (all events in memory would be ≥ %d MiB)", peak>>20, allEvents>>20)
	if peak > allEvents/4 {
		t.Errorf("peak live heap %d MiB is more than a quarter of the whole file's events (%d MiB): reading is not streaming", peak>>20, allEvents>>20)
	}
}

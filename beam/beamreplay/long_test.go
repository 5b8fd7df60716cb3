package beamreplay

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// TestParityMillion is the parity test at about one million events (86,000
// buyers from the generator, six Parquet files of 100,000-row row groups read
// as row-group splits). It takes about 10 s and 1.3 GiB of memory (Prism keeps
// the shuffle in memory), so it runs only with SIGNALAB_LONG=1:
//
//	cd beam && SIGNALAB_LONG=1 go test -run TestParityMillion -v ./beamreplay
func TestParityMillion(t *testing.T) {
	if os.Getenv("SIGNALAB_LONG") != "1" {
		t.Skip("long: set SIGNALAB_LONG=1")
	}
	events := generate(t, 86000, 300)
	if len(events) < 1_000_000 {
		t.Fatalf("generated %d events, want at least 1,000,000", len(events))
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	if err := os.MkdirAll(in, 0o755); err != nil {
		t.Fatal(err)
	}
	per := (len(events) + 5) / 6
	for i := 0; i < 6; i++ {
		lo, hi := i*per, min((i+1)*per, len(events))
		writeParquet(t, filepath.Join(in, "part-"+string(rune('a'+i))+".parquet"), events[lo:hi], 100_000)
	}
	events = nil
	emb, bo := filepath.Join(dir, "embedded"), filepath.Join(dir, "beam")
	runEmbedded(t, []string{in}, emb, signal.DefaultParams(), replay.OrderArrival)
	runBeam(t, Options{Events: []string{in}, Out: bo, Params: signal.DefaultParams(), SplitRows: 200_000})
	sum := compareOutputs(t, emb, bo)
	t.Logf("%d events, %d signals, %d conversations, %d orders", sum.Counts.Read, sum.Outputs.Signals,
		sum.Outputs.Conversations, sum.Outputs.Orders)
}

// BenchmarkBeamReplay times the whole pipeline on Prism (plan, read,
// shuffle, logic, shards, merge) at three sizes, against BenchmarkEmbedded
// on the same files. One iteration is enough to compare:
//
//	cd beam && go test -run XXX -bench . -benchtime 1x ./beamreplay
func BenchmarkBeamReplay(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			in := benchInput(b, size.buyers)
			for i := 0; i < b.N; i++ {
				runBeam(b, Options{Events: []string{in}, Out: b.TempDir(), Params: signal.DefaultParams()})
			}
		})
	}
}

// BenchmarkEmbedded is the embedded engine on the inputs of BenchmarkBeamReplay.
func BenchmarkEmbedded(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(size.name, func(b *testing.B) {
			in := benchInput(b, size.buyers)
			for i := 0; i < b.N; i++ {
				runEmbedded(b, []string{in}, b.TempDir(), signal.DefaultParams(), replay.OrderArrival)
			}
		})
	}
}

var benchSizes = []struct {
	name   string
	buyers int
}{{"Small-4k", 400}, {"Medium-100k", 9000}, {"Large-500k", 43000}}

// benchInput writes the generated log for buyers once per size and run.
func benchInput(b *testing.B, buyers int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "events.parquet")
	b.StopTimer()
	writeParquet(b, path, generate(b, buyers, 100), 100_000)
	b.StartTimer()
	b.ResetTimer()
	return path
}

package metrics

import (
	"os"
	"testing"

	"github.com/signalab/signalab/assign"
)

// BenchmarkBuild runs the metrics stage on a replay output folder named by
// SIGNALAB_BENCH_REPLAY (e.g. the --out of `signalab run` on a 10M-event
// log) with the spec SIGNALAB_BENCH_SPEC; it is skipped without them.
func BenchmarkBuild(b *testing.B) {
	dir, specPath := os.Getenv("SIGNALAB_BENCH_REPLAY"), os.Getenv("SIGNALAB_BENCH_SPEC")
	if dir == "" || specPath == "" {
		b.Skip("set SIGNALAB_BENCH_REPLAY and SIGNALAB_BENCH_SPEC")
	}
	spec, err := assign.LoadSpec(specPath)
	if err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	for i := 0; i < b.N; i++ {
		if _, err := Build(Options{Spec: spec, In: []string{dir}, Out: out}); err != nil {
			b.Fatal(err)
		}
	}
}

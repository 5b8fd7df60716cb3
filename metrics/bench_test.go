package metrics_test

import (
	"os"
	"testing"

	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/metrics"
)

// BenchmarkBuild runs the metrics stage on a replay output folder named by
// SIGNALAB_BENCH_REPLAY (e.g. the --out of `signalab run` on a 10M-event
// log) with the spec SIGNALAB_BENCH_SPEC; it is skipped without them.
func BenchmarkBuild(b *testing.B) {
	dir, specPath := os.Getenv("SIGNALAB_BENCH_REPLAY"), os.Getenv("SIGNALAB_BENCH_SPEC")
	if dir == "" || specPath == "" {
		b.Skip("set SIGNALAB_BENCH_REPLAY and SIGNALAB_BENCH_SPEC")
	}
	spec, err := experiment.Load(specPath)
	if err != nil {
		b.Fatal(err)
	}
	ms := spec.MetricsSpec()
	out := b.TempDir()
	for i := 0; i < b.N; i++ {
		if _, err := metrics.Build(metrics.Options{Spec: ms, In: []string{dir}, Out: out}); err != nil {
			b.Fatal(err)
		}
	}
}

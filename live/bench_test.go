package live

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

// Benchmarks of live mode (docs/benchmarks.md "Live mode"; scripts/bench-live
// runs them). The log is $SIGNALAB_BENCH_LOG, or the default generated log
// (about 119,000 events). Each benchmark runs its workload once per
// iteration; run with -benchtime 1x.

func benchEvents(b *testing.B) ([]event.Event, string) {
	b.Helper()
	path := os.Getenv("SIGNALAB_BENCH_LOG")
	if path == "" {
		dir := b.TempDir()
		if _, err := synth.WriteDir(context.Background(), synth.DefaultConfig(), dir, nil); err != nil {
			b.Fatal(err)
		}
		path = filepath.Join(dir, synth.EventsFile)
	}
	evs, _, err := event.ReadAll([]string{path}, event.ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	ArrivalOrder(evs)
	return evs, path
}

// cpuSeconds is the process's user + system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func benchHarness(b *testing.B, name string) *harness {
	b.Helper()
	c, err := StartCluster(ClusterConfig{Partitions: testPartitions})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(c.Close)
	h := &harness{brokers: c.ListenAddrs(), group: name + "-group"}
	h.topics = TopicsFor(name+"-events", name+"-signals", h.group)
	cl, err := kgo.NewClient(h.opts()...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if err := EnsureTopics(context.Background(), cl, -1, TopicSpec{Name: h.topics.Input, Partitions: testPartitions}); err != nil {
		b.Fatal(err)
	}
	return h
}

// BenchmarkLiveThroughput: the log is produced to 4 partitions first; then
// one live consumer processes it; events/s is the log's size over the time
// from the consumer's start until every record is committed (outputs,
// changelog, counts and offsets), cpu-s the whole process's CPU time over
// that span (the in-process cluster included).
func BenchmarkLiveThroughput(b *testing.B) {
	evs, _ := benchEvents(b)
	for range b.N {
		h := benchHarness(b, "tp")
		cl, _ := kgo.NewClient(h.opts()...)
		if _, err := Produce(context.Background(), cl, h.topics.Input, evs, nil); err != nil {
			b.Fatal(err)
		}
		cl.Close()
		runtime.GC()
		cfg := Config{Brokers: h.brokers, Group: h.group, Instance: "bench", Topics: h.topics,
			Params: signal.DefaultParams(), CreateTopics: true}
		p, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		if f := os.Getenv("SIGNALAB_BENCH_CPUPROFILE"); f != "" {
			pf, err := os.Create(f)
			if err != nil {
				b.Fatal(err)
			}
			pprof.StartCPUProfile(pf)
			defer func() { pprof.StopCPUProfile(); pf.Close() }()
		}
		start, cpu0 := time.Now(), cpuSeconds()
		go func() { defer wg.Done(); p.Run(ctx) }()
		waitPosition(b, h, p, time.Now().Add(10*time.Minute))
		el, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
		cancel()
		wg.Wait()
		b.ReportMetric(float64(len(evs))/el, "events/s")
		b.ReportMetric(el, "wall-s")
		b.ReportMetric(cpu, "cpu-s")
	}
}

// waitPosition waits until p has committed every record of the input.
func waitPosition(b *testing.B, h *harness, p *Processor, deadline time.Time) {
	b.Helper()
	cl, err := kgo.NewClient(h.opts()...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	ends, err := endOffsets(ctx, cl, h.topics.Input, allPartitions(testPartitions), readCommitted)
	if err != nil {
		b.Fatal(err)
	}
	for {
		pos, done := p.Position(), true
		for part, end := range ends {
			if pos[part] < end {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("live consumer did not catch up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

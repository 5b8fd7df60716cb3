package live

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
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

// BenchmarkLiveLatency: a consumer runs; the log is produced at
// $SIGNALAB_BENCH_RATE events/s (default 50,000); a read_committed consumer
// of the signals topic measures, per signal, the time from the produce of the
// input record that caused it (its timestamp, which live mode gives its
// outputs) to the signal's arrival: p50, p99 and the maximum, in ms.
func BenchmarkLiveLatency(b *testing.B) {
	evs, _ := benchEvents(b)
	rate := 50000.0
	if v := os.Getenv("SIGNALAB_BENCH_RATE"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r <= 0 {
			b.Fatalf("SIGNALAB_BENCH_RATE=%q: want events per second", v)
		}
		rate = r
	}
	for range b.N {
		h := benchHarness(b, "lat")
		p, err := New(Config{Brokers: h.brokers, Group: h.group, Instance: "bench", Topics: h.topics,
			Params: signal.DefaultParams(), CreateTopics: true})
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); p.Run(ctx) }()
		<-p.Ready()

		// The measuring consumer, from the start of the signals topic.
		mc, err := kgo.NewClient(h.opts(kgo.ConsumeTopics(h.topics.Signals), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))...)
		if err != nil {
			b.Fatal(err)
		}
		var lats []float64
		mdone := make(chan struct{})
		mctx, mcancel := context.WithCancel(context.Background())
		go func() {
			defer close(mdone)
			for {
				fs := mc.PollFetches(mctx)
				now := time.Now()
				if mctx.Err() != nil {
					return
				}
				fs.EachRecord(func(r *kgo.Record) {
					lats = append(lats, float64(now.Sub(r.Timestamp))/1e6)
				})
			}
		}()

		// The producer sends at once (no linger): the latency measured is
		// live mode's, not the upstream producer's batching delay.
		pc, err := kgo.NewClient(h.opts(kgo.ProducerLinger(0))...)
		if err != nil {
			b.Fatal(err)
		}
		start, cpu0 := time.Now(), cpuSeconds()
		for i := range evs {
			if i%64 == 0 {
				if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
					time.Sleep(d)
				}
			}
			e := &evs[i]
			pc.Produce(ctx, &kgo.Record{Topic: h.topics.Input, Key: BuyerRecordKey(e.Key()), Value: event.AppendJSON(nil, e)}, nil)
		}
		pc.Flush(ctx)
		produced := time.Since(start).Seconds()
		waitPosition(b, h, p, time.Now().Add(10*time.Minute))
		el, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
		// Let the measuring consumer read the last commit.
		time.Sleep(500 * time.Millisecond)
		mcancel()
		<-mdone
		mc.Close()
		pc.Close()
		cancel()
		wg.Wait()
		if len(lats) == 0 {
			b.Fatal("no signal measured")
		}
		slices.Sort(lats)
		q := func(p float64) float64 { return lats[min(len(lats)-1, int(p*float64(len(lats))))] }
		b.ReportMetric(float64(len(evs))/produced, "events/s")
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(lats[len(lats)-1], "max-ms")
		b.ReportMetric(float64(len(lats)), "signals")
		b.ReportMetric(el, "wall-s")
		b.ReportMetric(cpu, "cpu-s")
	}
}

package live

import (
	"bytes"
	"context"
	"encoding/json"
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
	"github.com/signalab/signalab/replay"
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
			Params: signal.DefaultParams(), CreateTopics: true, CommitInterval: DefaultCommitInterval}
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
	// The records are encoded beforehand into one buffer without pointers
	// and the events let go, so that the benchmark's own data does not
	// weigh on the garbage collector of the process under test (in a real
	// deployment the producer runs elsewhere).
	var buf []byte
	var ends []int // record i: key buf[ends[2i-1]:ends[2i]], value buf[ends[2i]:ends[2i+1]] (ends[-1] = 0)
	{
		evs, _ := benchEvents(b)
		for i := range evs {
			buf = append(buf, BuyerRecordKey(evs[i].Key())...)
			ends = append(ends, len(buf))
			buf = event.AppendJSON(buf, &evs[i])
			ends = append(ends, len(buf))
		}
	}
	n := len(ends) / 2
	record := func(i int) (key, value []byte) {
		lo := 0
		if i > 0 {
			lo = ends[2*i-1]
		}
		return buf[lo:ends[2*i]:ends[2*i]], buf[ends[2*i]:ends[2*i+1]:ends[2*i+1]]
	}
	runtime.GC()
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
			Params: signal.DefaultParams(), CreateTopics: true, CommitInterval: DefaultCommitInterval})
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
		for i := range n {
			if i%64 == 0 {
				if d := time.Until(start.Add(time.Duration(float64(i) / rate * float64(time.Second)))); d > 0 {
					time.Sleep(d)
				}
			}
			k, v := record(i)
			pc.Produce(ctx, &kgo.Record{Topic: h.topics.Input, Key: k, Value: v}, nil)
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
		b.ReportMetric(float64(n)/produced, "events/s")
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(lats[len(lats)-1], "max-ms")
		b.ReportMetric(float64(len(lats)), "signals")
		b.ReportMetric(el, "wall-s")
		b.ReportMetric(cpu, "cpu-s")
	}
}

// discard is an emitter that drops records.
type discard struct{}

func (discard) emit(*kgo.Record) {}

// BenchmarkStateMemory: the log through one task (no Kafka); the heap held
// by its buyer states afterwards, per buyer held, and the changelog bytes
// per buyer.
func BenchmarkStateMemory(b *testing.B) {
	evs, _ := benchEvents(b)
	recs := make([]*kgo.Record, len(evs))
	s := &settings{params: signal.DefaultParams(), topics: TopicsFor("in", "out", "g")}
	for i := range evs {
		e := &evs[i]
		recs[i] = &kgo.Record{Topic: "in", Offset: int64(i), Key: BuyerRecordKey(e.Key()), Value: event.AppendJSON(nil, e)}
	}
	evs = nil
	for range b.N {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		t := newTask(s, 0)
		for lo := 0; lo < len(recs); lo += 10000 {
			for _, r := range recs[lo:min(lo+10000, len(recs))] {
				if err := t.record(r, discard{}); err != nil {
					b.Fatal(err)
				}
			}
			t.scheduleDirty()
			if err := t.fireTimers(discard{}); err != nil {
				b.Fatal(err)
			}
			if err := t.flushDirty(discard{}); err != nil {
				b.Fatal(err)
			}
			t.changed = t.changed[:0]
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		var active, settled, bytes int
		for _, bu := range t.buyers {
			if bu.rb.Status() != replay.Active {
				settled++
			} else {
				active++
			}
			bytes += bu.stateBytes
		}
		n := float64(len(t.buyers))
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/n, "heap-B/buyer")
		b.ReportMetric(float64(bytes)/n, "changelog-B/buyer")
		b.ReportMetric(float64(active), "active")
		b.ReportMetric(float64(settled), "settled")
		// Drop the settled states (and the timers that point at them) to
		// split the heap between the two phases.
		for k, bu := range t.buyers {
			if bu.rb.Status() != replay.Active {
				delete(t.buyers, k)
			}
		}
		t.rebuildTimers()
		runtime.GC()
		var m2 runtime.MemStats
		runtime.ReadMemStats(&m2)
		b.ReportMetric(float64(m2.HeapAlloc-m0.HeapAlloc)/float64(active), "heap-B/active")
		b.ReportMetric(float64(m1.HeapAlloc-m2.HeapAlloc)/float64(settled), "heap-B/settled")
		runtime.KeepAlive(t)
	}
	runtime.KeepAlive(recs)
}

// BenchmarkRestore: a changelog of $SIGNALAB_BENCH_RESTORE_BUYERS buyer
// states (default 1,000,000; the states of the log's buyers, copied under
// new buyer ids until there are that many) in 4 partitions of the in-process
// cluster is restored by a processor, as on assignment: the wall and CPU
// time of the restore, and the heap it holds per buyer afterwards (task
// states and HTTP views).
func BenchmarkRestore(b *testing.B) {
	want := 1000000
	if v := os.Getenv("SIGNALAB_BENCH_RESTORE_BUYERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("SIGNALAB_BENCH_RESTORE_BUYERS=%q: want a positive number", v)
		}
		want = n
	}
	evs, _ := benchEvents(b)
	// The states of the log's buyers, as the changelog holds them.
	s := &settings{params: signal.DefaultParams(), topics: TopicsFor("rs-events", "rs-signals", "rs-group")}
	t := newTask(s, 0)
	states := map[string][]byte{}
	var em recordsTo = func(r *kgo.Record) {
		if r.Topic == s.topics.Changelog && string(r.Key) != changelogPartitionKey {
			states[string(r.Key)] = r.Value
		}
	}
	for lo := 0; lo < len(evs); lo += 10000 {
		for i := lo; i < min(lo+10000, len(evs)); i++ {
			e := &evs[i]
			if err := t.record(&kgo.Record{Topic: "in", Offset: int64(i), Key: BuyerRecordKey(e.Key()), Value: event.AppendJSON(nil, e)}, em); err != nil {
				b.Fatal(err)
			}
		}
		t.scheduleDirty()
		t.fireTimers(em)
		if err := t.flushDirty(em); err != nil {
			b.Fatal(err)
		}
	}
	evs, t = nil, nil

	for range b.N {
		h := benchHarness(b, "rs")
		cl, err := kgo.NewClient(h.opts(kgo.ProducerBatchCompression(kgo.Lz4Compression()), kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if err := EnsureTopics(ctx, cl, -1, TopicSpec{Name: h.topics.Changelog, Partitions: testPartitions, Configs: compacted}); err != nil {
			b.Fatal(err)
		}
		var bytesN int64
		n := 0
		for copyNo := 0; n < want; copyNo++ {
			for key, val := range states {
				if n == want {
					break
				}
				k, _ := parseChangelogKey([]byte(key))
				nk := event.BuyerKey{ShopID: k.ShopID, BuyerID: k.BuyerID + "~" + strconv.Itoa(copyNo)}
				old, _ := json.Marshal(k.BuyerID)
				nid, _ := json.Marshal(nk.BuyerID)
				var rec buyerRecord
				if err := rec.parse(val); err != nil {
					b.Fatal(err)
				}
				from, to := append([]byte(`"buyer_id":`), old...), append([]byte(`"buyer_id":`), nid...)
				rec.Signals, rec.State = bytes.ReplaceAll(rec.Signals, from, to), bytes.ReplaceAll(rec.State, from, to)
				v := rec.append(nil)
				cl.Produce(ctx, &kgo.Record{Topic: h.topics.Changelog, Partition: PartitionOf(nk, testPartitions),
					Key: changelogKey(nk), Value: v}, nil)
				bytesN += int64(len(v))
				n++
			}
		}
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		cl.Close()
		evs = nil
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)

		p, err := New(Config{Brokers: h.brokers, Group: h.group, Instance: "bench", Topics: h.topics, Params: s.params})
		if err != nil {
			b.Fatal(err)
		}
		if p.admin, err = kgo.NewClient(h.opts()...); err != nil {
			b.Fatal(err)
		}
		start, cpu0 := time.Now(), cpuSeconds()
		if err := p.restore(ctx, allPartitions(testPartitions)); err != nil {
			b.Fatal(err)
		}
		el, cpu := time.Since(start).Seconds(), cpuSeconds()-cpu0
		runtime.GC()
		runtime.ReadMemStats(&m1)
		var held int
		for _, t := range p.tasks {
			held += len(t.buyers)
		}
		p.admin.Close()
		if held != want {
			b.Fatalf("restored %d buyers, want %d", held, want)
		}
		b.ReportMetric(float64(held), "buyers")
		b.ReportMetric(el, "wall-s")
		b.ReportMetric(cpu, "cpu-s")
		b.ReportMetric(float64(held)/el, "buyers/s")
		b.ReportMetric(float64(bytesN)/float64(held), "changelog-B/buyer")
		b.ReportMetric(float64(m1.HeapAlloc-m0.HeapAlloc)/float64(held), "heap-B/buyer")
		runtime.KeepAlive(p)
	}
}

// recordsTo is an emitter calling a function.
type recordsTo func(*kgo.Record)

func (f recordsTo) emit(r *kgo.Record) { f(r) }

package live

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/embedded"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

// The test harness: an in-process cluster over TCP, a producer of event
// logs, live processors that can be stopped, killed and restarted, and the
// comparison of a dump with `signalab replay --order arrival`. Nothing here
// waits for a fixed time: everything polls with generous deadlines.

const testPartitions = 4

type harness struct {
	t       *testing.T
	brokers []string
	topics  Topics
	group   string
}

func newHarness(t *testing.T, name string) *harness {
	t.Helper()
	c, err := StartCluster(ClusterConfig{Partitions: testPartitions, MinSessionTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	h := &harness{t: t, brokers: c.ListenAddrs(), group: name + "-group"}
	h.topics = TopicsFor(name+"-events", name+"-signals", h.group)
	cl := h.client()
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := EnsureTopics(ctx, cl, -1, TopicSpec{Name: h.topics.Input, Partitions: testPartitions}); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) opts(extra ...kgo.Opt) []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(h.brokers...)}, extra...)
}

func (h *harness) client() *kgo.Client {
	h.t.Helper()
	cl, err := kgo.NewClient(h.opts()...)
	if err != nil {
		h.t.Fatal(err)
	}
	return cl
}

// produce writes the events of paths (in arrival order) and their bad rows
// to the input topic.
func (h *harness) produce(paths ...string) ProduceStats {
	h.t.Helper()
	evs, r, err := event.ReadAll(paths, event.ReadOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return h.produceEvents(evs, r.Quarantined())
}

func (h *harness) produceEvents(evs []event.Event, bad []event.Quarantined) ProduceStats {
	h.t.Helper()
	ArrivalOrder(evs)
	cl := h.client()
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := Produce(ctx, cl, h.topics.Input, evs, bad)
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// member is one running processor.
type member struct {
	p       *Processor
	metrics *Metrics
	cancel  context.CancelFunc
	done    chan struct{}
	err     error
	kill    *killSwitch
}

// killSwitch is a dialer whose connections can all be cut at once, and
// which refuses new ones after: a process killed without a word to the
// cluster.
type killSwitch struct {
	mu    sync.Mutex
	dead  bool
	conns []net.Conn
}

func (k *killSwitch) dial(ctx context.Context, network, host string) (net.Conn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return nil, errors.New("killed")
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, host)
	if err == nil {
		k.conns = append(k.conns, c)
	}
	return c, err
}

func (k *killSwitch) cut() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead = true
	for _, c := range k.conns {
		c.Close()
	}
}

// testLog writes log lines to the test's log (seen with -v or on failure).
type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (h *harness) config(instance string) Config {
	return Config{Logger: slog.New(slog.NewTextHandler(testLog{h.t}, nil)), Brokers: h.brokers, Group: h.group, Instance: instance, Topics: h.topics,
		Params: signal.DefaultParams(), CreateTopics: true, MaxPollRecords: 2000, CommitInterval: DefaultCommitInterval,
		SessionTimeout: 2 * time.Second, RebalanceTimeout: 10 * time.Second, TransactionTimeout: 10 * time.Second}
}

// start runs a processor with cfg until stopped.
func (h *harness) start(cfg Config) *member {
	h.t.Helper()
	m := &member{done: make(chan struct{}), kill: &killSwitch{}}
	cfg.ClientOptions = append(cfg.ClientOptions, kgo.Dialer(m.kill.dial))
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	m.metrics = cfg.Metrics
	p, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	m.p = p
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		m.err = p.Run(ctx)
	}()
	return m
}

// stop shuts a member down gracefully (as on SIGTERM) and checks it ended well.
func (m *member) stop(t *testing.T) {
	t.Helper()
	m.cancel()
	select {
	case <-m.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("processor did not stop within 2 minutes")
	}
	if m.err != nil {
		t.Fatalf("processor: %v", m.err)
	}
}

// wait waits for a member that ends by itself (a simulated crash).
func (m *member) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-m.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("processor did not end within 2 minutes")
	}
	return m.err
}

// dump waits until the live consumers processed the whole input and reads
// the outputs.
func (h *harness) dump() *DumpResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	d, err := Dump(ctx, h.opts(), h.topics.Signals, 2*time.Minute)
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// replayOf runs `signalab replay --order arrival` on paths.
func replayOf(t *testing.T, p signal.Params, paths ...string) *output.Tables {
	t.Helper()
	return replayOfSessions(t, p, 0, paths...)
}

// replayOfSessions is replayOf with sessions of the given gap (0: none).
func replayOfSessions(t *testing.T, p signal.Params, gap time.Duration, paths ...string) *output.Tables {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "replay")
	if _, err := embedded.Run(embedded.Config{Events: paths, Out: dir, Params: p, Order: replay.OrderArrival, Workers: 2, Sessions: gap}); err != nil {
		t.Fatal(err)
	}
	o, err := output.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// assertParity checks that the dump equals the replay, counts included, as
// `signalab diff` would, after writing and reading the dump back.
func assertParity(t *testing.T, d *DumpResult, want *output.Tables) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dump")
	if err := output.Write(dir, d.Outputs, &d.Summary); err != nil {
		t.Fatal(err)
	}
	got, err := output.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	diff := output.Compare(want, got)
	if !diff.Equal() {
		var b stringsBuilder
		diff.WriteText(&b, "replay", "live dump")
		t.Fatalf("live dump differs from the arrival-order replay:\n%s", b.String())
	}
	if !d.Info.Complete {
		t.Fatalf("dump not complete: %v behind", d.Info.Behind)
	}
}

type stringsBuilder struct{ b []byte }

func (s *stringsBuilder) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *stringsBuilder) String() string              { return string(s.b) }

func eventually(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitCaughtUp waits until the committed counts cover every input record.
func (h *harness) waitCaughtUp() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cl := h.client()
	defer cl.Close()
	var last map[int32]int64
	eventually(h.t, "live consumers catch up with the input", 2*time.Minute, func() bool {
		parts, err := readCounts(ctx, cl, h.opts(), h.topics.Counts)
		if err != nil {
			return false
		}
		ends, err := endOffsets(ctx, cl, h.topics.Input, allPartitions(testPartitions), readCommitted)
		if err != nil {
			h.t.Fatal(err)
		}
		last = behind(parts, ends)
		return len(last) == 0
	})
}

// restored and committed return what a member's metrics counted.
func (m *member) restored() float64 { return counterValue(m.metrics.Restored) }
func (m *member) committed() float64 {
	return counterValue(m.metrics.Transactions.WithLabelValues("committed"))
}

func counterValue(c prometheus.Metric) float64 {
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		panic(err)
	}
	return d.GetCounter().GetValue()
}

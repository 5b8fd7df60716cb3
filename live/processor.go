package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// Config configures a Processor.
type Config struct {
	// Brokers are the seed brokers (host:port).
	Brokers []string
	// Group is the consumer group; the changelog is named after it.
	Group string
	// Instance names this process among the group's members; with Group it
	// makes the transactional id (Group-Instance). Give every process its
	// own, and the same one again after a restart: the restart then fences
	// a transaction the dead process left open at once, instead of after
	// TransactionTimeout.
	Instance string
	// Topics are the topic names (see TopicsFor).
	Topics Topics
	// Params are the signal logic's parameters.
	Params signal.Params
	// Sessions, when positive, is the session gap: every buyer's sessions
	// are tracked (replay.Buyer.TrackSessions) and written to the
	// sessions topic, as signalab replay writes sessions.parquet. Keep it
	// the same across restarts of a group.
	Sessions time.Duration
	// ForgetAfter drops a settled buyer's state (tombstoning it) once the
	// partition's watermark is this far past the moment it settled; 0 keeps
	// it. Forgetting bounds memory, at the price of the count differences
	// docs/live.md describes ("State, restore and memory").
	ForgetAfter time.Duration
	// IngestTimeFromRecord gives an event without ingest_time its record's
	// timestamp as ingest_time: when the pipeline received it, in a
	// stream. The buyer core orders and judges lateness by ingest_time;
	// without it arrival is event_time, and a buyer's events must then come
	// in event-time order. (Its dump then equals a replay of the records as
	// consumed, ingest_time filled in, not of the original log.)
	IngestTimeFromRecord bool
	// MaxPollRecords bounds the input records of one transaction (default 10,000).
	MaxPollRecords int
	// CommitInterval is how long a transaction keeps taking records after
	// its first one before it commits (unless MaxPollRecords came first):
	// the latency it adds against the per-transaction cost it saves. 0
	// commits each poll at once.
	CommitInterval time.Duration
	// CreateTopics creates missing output topics and the changelog with the
	// input's partition count (replication factor ReplicationFactor, -1 for
	// the broker's default).
	CreateTopics      bool
	ReplicationFactor int16
	// SessionTimeout, RebalanceTimeout and TransactionTimeout are the
	// group's and the producer's timeouts (0: 45 s, 60 s, 40 s).
	SessionTimeout, RebalanceTimeout, TransactionTimeout time.Duration
	// ClientOptions are more client options: TLS, SASL, a dialer.
	ClientOptions []kgo.Opt
	// Metrics, when set, receive the processor's metrics.
	Metrics *Metrics
	// Logger receives progress and problems (nil: none).
	Logger *slog.Logger
	// BeforeCommit, when set, is called after a transaction's output
	// records are flushed and before it commits (fault injection in
	// tests). An error aborts the transaction; the processor rolls its
	// state back and goes on. ErrCrash makes Run return at once, leaving
	// the transaction open, as a killed process would.
	BeforeCommit func(txn int64) error
}

// DefaultCommitInterval is the commit interval of `signalab live` (see
// Config.CommitInterval): at 50,000 events/s it makes transactions of about
// 500 records, about 100 a second.
const DefaultCommitInterval = 10 * time.Millisecond

// maxProduceFailures is how many transactions in a row may fail to write
// their outputs before the processor gives up.
const maxProduceFailures = 5

// ErrCrash, returned by Config.BeforeCommit, makes Run stop at once without
// ending its open transaction (see Config.BeforeCommit).
var ErrCrash = errors.New("live: simulated crash")

// Processor is a live consumer: it consumes events from the input topic in a
// consumer group, runs each buyer's events through the signal logic in
// arrival order, and writes signals, conversations, orders, quarantined
// records, counts and state changes in Kafka transactions together with the
// input offsets (exactly once). See docs/live.md.
type Processor struct {
	cfg     Config
	s       settings
	log     *slog.Logger
	admin   *kgo.Client
	parts   atomic.Int32 // input partitions
	tasks   map[int32]*task
	views   *views
	fatal   error
	fatalMu sync.Mutex
	txns    int64
	// produceFailures counts the transactions in a row whose outputs
	// could not be written.
	produceFailures int
	ready           chan struct{}
	readyOne        sync.Once
}

// New checks cfg and returns a Processor; Run starts it.
func New(cfg Config) (*Processor, error) {
	switch {
	case len(cfg.Brokers) == 0:
		return nil, errors.New("live: no brokers; give --brokers host:port")
	case cfg.Group == "":
		return nil, errors.New("live: no consumer group; give --group")
	case cfg.Instance == "":
		return nil, errors.New("live: no instance name; give --instance (unique per process, stable across restarts)")
	case cfg.Topics.Input == "" || cfg.Topics.Signals == "" || cfg.Topics.Changelog == "":
		return nil, errors.New("live: topics not set; use live.TopicsFor")
	case cfg.ForgetAfter < 0:
		return nil, fmt.Errorf("live: --forget-after %s: want a duration ≥ 0 (0 keeps settled states)", cfg.ForgetAfter)
	}
	if err := cfg.Params.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxPollRecords <= 0 {
		cfg.MaxPollRecords = 10000
	}
	if cfg.CommitInterval < 0 {
		return nil, fmt.Errorf("live: --commit-interval %s: want a duration ≥ 0", cfg.CommitInterval)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Processor{cfg: cfg, s: settings{params: cfg.Params, topics: cfg.Topics, forgetAfter: cfg.ForgetAfter,
		ingestFromRecord: cfg.IngestTimeFromRecord, sessions: cfg.Sessions},
		log: log, tasks: map[int32]*task{}, views: newViews(), ready: make(chan struct{})}, nil
}

// Ready is closed once the processor has joined the group and restored the
// state of its first assignment.
func (p *Processor) Ready() <-chan struct{} { return p.ready }

func (p *Processor) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(p.cfg.Brokers...)}
	opts = append(opts, p.cfg.ClientOptions...)
	return append(opts, extra...)
}

func (p *Processor) fail(err error) {
	p.fatalMu.Lock()
	defer p.fatalMu.Unlock()
	if p.fatal == nil {
		p.fatal = err
	}
}

func (p *Processor) failed() error {
	p.fatalMu.Lock()
	defer p.fatalMu.Unlock()
	return p.fatal
}

// Run consumes until ctx is canceled or an error occurs. On cancellation
// (SIGTERM in the CLI) it finishes and commits the transaction under way,
// then leaves the group, and returns nil.
func (p *Processor) Run(ctx context.Context) error {
	admin, err := kgo.NewClient(p.clientOpts()...)
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	defer admin.Close()
	p.admin = admin
	if err := p.prepareTopics(ctx); err != nil {
		return err
	}

	timeouts := []kgo.Opt{}
	if p.cfg.SessionTimeout > 0 {
		timeouts = append(timeouts, kgo.SessionTimeout(p.cfg.SessionTimeout), kgo.HeartbeatInterval(p.cfg.SessionTimeout/5))
	}
	if p.cfg.RebalanceTimeout > 0 {
		timeouts = append(timeouts, kgo.RebalanceTimeout(p.cfg.RebalanceTimeout))
	}
	if p.cfg.TransactionTimeout > 0 {
		timeouts = append(timeouts, kgo.TransactionTimeout(p.cfg.TransactionTimeout))
	}
	manual := map[string]bool{p.cfg.Topics.Changelog: true, p.cfg.Topics.Counts: true}
	sess, err := kgo.NewGroupTransactSession(p.clientOpts(append(timeouts,
		kgo.ConsumerGroup(p.cfg.Group),
		kgo.ConsumeTopics(p.cfg.Topics.Input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.TransactionalID(p.cfg.Group+"-"+p.cfg.Instance),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(p.assigned),
		kgo.OnPartitionsRevoked(p.revoked),
		kgo.OnPartitionsLost(p.revoked),
		kgo.RecordPartitioner(partitioner{manual: manual, hash: kgo.StickyKeyPartitioner(nil)}),
		kgo.ProducerBatchCompression(kgo.Lz4Compression(), kgo.NoCompression()),
		kgo.FetchMaxWait(500*time.Millisecond),
	)...)...)
	if err != nil {
		return fmt.Errorf("live: %w", err)
	}
	p.log.Info("live: started", "group", p.cfg.Group, "instance", p.cfg.Instance, "input", p.cfg.Topics.Input, "partitions", p.parts.Load())
	err = p.loop(ctx, sess)
	if errors.Is(err, ErrCrash) {
		// As if killed: no transaction end, no leave. The caller's dialer
		// (tests) has cut the connections; Close then cannot reach the group.
		go sess.Close()
		return err
	}
	sess.Close() // leaves the group; revocation callbacks drop the tasks
	return err
}

// prepareTopics checks (and with CreateTopics creates) the topics.
func (p *Processor) prepareTopics(ctx context.Context) error {
	n, err := PartitionCount(ctx, p.admin, p.cfg.Topics.Input)
	if err != nil {
		return fmt.Errorf("live: input %w", err)
	}
	p.parts.Store(n)
	if p.cfg.CreateTopics {
		rf := p.cfg.ReplicationFactor
		if rf == 0 {
			rf = -1
		}
		specs := p.cfg.Topics.Specs(n)
		if p.cfg.Sessions > 0 {
			specs = append(specs, p.cfg.Topics.SessionsSpec(n))
		}
		if err := EnsureTopics(ctx, p.admin, rf, specs...); err != nil {
			return fmt.Errorf("live: %w", err)
		}
	}
	for _, c := range []struct {
		topic string
		exact bool
	}{{p.cfg.Topics.Changelog, true}, {p.cfg.Topics.Counts, false}} {
		m, err := PartitionCount(ctx, p.admin, c.topic)
		if err != nil {
			return fmt.Errorf("live: %w", err)
		}
		if m < n || (c.exact && m != n) {
			return fmt.Errorf("live: topic %s has %d partitions; it needs %d, as many as the input %s (it is co-partitioned with it): recreate it", c.topic, m, n, p.cfg.Topics.Input)
		}
	}
	return nil
}

func (p *Processor) loop(ctx context.Context, sess *kgo.GroupTransactSession) error {
	// Transactions are finished even when ctx is canceled: a SIGTERM
	// commits the work under way before leaving.
	work := context.WithoutCancel(ctx)
	for {
		fetches := sess.PollRecords(ctx, p.cfg.MaxPollRecords)
		if err := p.failed(); err != nil {
			sess.AllowRebalance()
			return err
		}
		if fetches.IsClientClosed() {
			return nil
		}
		if err := p.fetchErrors(fetches); err != nil {
			sess.AllowRebalance()
			return err
		}
		if fetches.NumRecords() > 0 {
			if err := p.transact(ctx, work, sess, fetches); err != nil {
				sess.AllowRebalance()
				return err
			}
		}
		sess.AllowRebalance()
		if ctx.Err() != nil {
			return nil
		}
	}
}

// fetchErrors logs the errors of a poll and returns the one that must stop
// the processor (data loss).
func (p *Processor) fetchErrors(fetches kgo.Fetches) error {
	var fatal error
	fetches.EachError(func(topic string, part int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		p.log.Warn("live: fetch error", "topic", topic, "partition", part, "err", err)
		var de *kgo.ErrDataLoss
		if errors.As(err, &de) && fatal == nil {
			fatal = fmt.Errorf("live: %s partition %d: %w", topic, part, err)
		}
	})
	return fatal
}

// txnEmitter produces a transaction's records and keeps the first error.
type txnEmitter struct {
	ctx  context.Context
	sess *kgo.GroupTransactSession
	mu   sync.Mutex
	err  error
	n    int
}

func (e *txnEmitter) emit(r *kgo.Record) {
	e.n++
	e.sess.Produce(e.ctx, r, func(r *kgo.Record, err error) {
		if err != nil {
			e.mu.Lock()
			if e.err == nil {
				e.err = fmt.Errorf("produce to %s: %w", r.Topic, err)
			}
			e.mu.Unlock()
		}
	})
}

// transact processes one poll's records in one transaction.
//
// A transaction takes what polls return for up to Config.CommitInterval
// after its first record (or until MaxPollRecords): each transaction costs
// a few requests whatever its size, so at moderate rates this bounds their
// number (and their CPU) at the price of that much latency; under load the
// first poll fills it at once.
func (p *Processor) transact(pollCtx, ctx context.Context, sess *kgo.GroupTransactSession, fetches kgo.Fetches) error {
	if err := sess.Begin(); err != nil {
		return fmt.Errorf("live: begin transaction: %w", err)
	}
	deadline := time.Now().Add(p.cfg.CommitInterval)
	p.txns++
	em := &txnEmitter{ctx: ctx, sess: sess}
	var touched []*task
	var snaps []snapshot
	var procErr error
	hw := map[int32]int64{}
	take := func(fetches kgo.Fetches) {
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			if procErr != nil || len(fp.Records) == 0 {
				return
			}
			t := p.tasks[fp.Partition]
			if t == nil {
				procErr = fmt.Errorf("live: records of partition %d, which has no restored state (assignment callback failed?)", fp.Partition)
				return
			}
			if !slices.Contains(touched, t) {
				touched = append(touched, t)
				snaps = append(snaps, t.snapshot())
			}
			hw[fp.Partition] = fp.HighWatermark
			for _, r := range fp.Records {
				if r.Offset < t.next {
					continue // already in the state (a fetch that raced a restore)
				}
				if err := t.record(r, em); err != nil {
					procErr = fmt.Errorf("live: %s partition %d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
					return
				}
			}
		})
	}
	take(fetches)
	for n := fetches.NumRecords(); procErr == nil && n < p.cfg.MaxPollRecords && pollCtx.Err() == nil; {
		wait := time.Until(deadline)
		if wait <= 0 {
			break
		}
		pctx, cancel := context.WithTimeout(pollCtx, wait)
		more := sess.PollRecords(pctx, p.cfg.MaxPollRecords-n)
		cancel()
		if more.IsClientClosed() {
			break
		}
		if err := p.fetchErrors(more); err != nil {
			return err
		}
		take(more)
		n += more.NumRecords()
	}
	for _, t := range touched {
		if procErr != nil {
			break
		}
		t.scheduleDirty()
		if err := t.fireTimers(em); err != nil {
			procErr = err
		} else if err := t.flushDirty(em); err != nil {
			procErr = err
		} else {
			procErr = t.emitCounts(em)
		}
	}
	if procErr != nil {
		return procErr
	}
	start := time.Now()
	if err := sess.Client().Flush(ctx); err != nil {
		return fmt.Errorf("live: flush: %w", err)
	}
	em.mu.Lock()
	prodErr := em.err
	em.mu.Unlock()
	try := kgo.TryCommit
	var hookErr error
	if prodErr != nil {
		p.produceFailures++
		if p.produceFailures > maxProduceFailures {
			// Nothing will change by trying again (a topic deleted, no
			// permission): abort and stop.
			sess.End(ctx, kgo.TryAbort)
			return fmt.Errorf("live: %d transactions in a row could not write their outputs; last: %w", p.produceFailures, prodErr)
		}
		p.log.Warn("live: aborting transaction", "err", prodErr)
		try = kgo.TryAbort
	} else if p.cfg.BeforeCommit != nil {
		hookErr = p.cfg.BeforeCommit(p.txns)
		if errors.Is(hookErr, ErrCrash) {
			return hookErr
		}
		if hookErr != nil {
			try = kgo.TryAbort
		}
	}
	committed, err := sess.End(ctx, try)
	if err != nil {
		return fmt.Errorf("live: end transaction: %w", err)
	}
	if m := p.cfg.Metrics; m != nil {
		m.CommitSeconds.Observe(time.Since(start).Seconds())
	}
	if !committed {
		if m := p.cfg.Metrics; m != nil {
			m.Transactions.WithLabelValues("aborted").Inc()
		}
		parts := make([]int32, len(touched))
		for i, t := range touched {
			parts[i] = t.part
		}
		p.log.Info("live: transaction aborted; restoring the partitions it touched", "partitions", parts, "hook", hookErr)
		return p.restore(ctx, parts)
	}
	p.produceFailures = 0
	if m := p.cfg.Metrics; m != nil {
		m.Transactions.WithLabelValues("committed").Inc()
		for i, t := range touched {
			m.observe(t, snaps[i])
			m.Lag.WithLabelValues(strconv.Itoa(int(t.part))).Set(float64(max(0, hw[t.part]-t.next)))
		}
	}
	for _, t := range touched {
		p.views.publish(t)
	}
	p.gauges()
	return nil
}

// gauges sets the state gauges from the tasks.
func (p *Processor) gauges() {
	m := p.cfg.Metrics
	if m == nil {
		return
	}
	var active, settled, bytes int
	for _, t := range p.tasks {
		for _, b := range t.buyers {
			if b.rb.Status() == replay.Active {
				active++
			} else {
				settled++
			}
			bytes += b.stateBytes
		}
	}
	m.Buyers.WithLabelValues("active").Set(float64(active))
	m.Buyers.WithLabelValues("settled").Set(float64(settled))
	m.StateBytes.Set(float64(bytes))
}

// assigned restores the state of newly assigned input partitions before
// their records are fetched.
func (p *Processor) assigned(ctx context.Context, cl *kgo.Client, m map[string][]int32) {
	// Initialising the producer id fences the transaction a previous
	// incarnation of this instance left open (it is aborted), which
	// the restore would otherwise wait for until it times out.
	if _, _, err := cl.ProducerID(ctx); err != nil {
		p.fail(fmt.Errorf("live: initialise the transactional producer %s-%s: %w", p.cfg.Group, p.cfg.Instance, err))
		return
	}
	parts := m[p.cfg.Topics.Input]
	if len(parts) > 0 {
		if err := p.restore(ctx, parts); err != nil {
			p.fail(err)
			return
		}
	}
	p.readyOne.Do(func() { close(p.ready) })
}

// revoked drops the state of partitions given away (or lost).
func (p *Processor) revoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	for _, part := range m[p.cfg.Topics.Input] {
		delete(p.tasks, part)
		p.views.drop(part)
	}
	p.gauges()
}

// partitioner sends records of the manual topics (changelog, counts) to the
// partition set on the record (the input partition they belong to) and
// every other record by the hash of its key.
type partitioner struct {
	manual map[string]bool
	hash   kgo.Partitioner
}

func (p partitioner) ForTopic(t string) kgo.TopicPartitioner {
	if p.manual[t] {
		return kgo.ManualPartitioner().ForTopic(t)
	}
	return p.hash.ForTopic(t)
}

package live

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
)

// Metrics are the Prometheus metrics of a processor (docs/live.md,
// "Metrics"). Counters move when a transaction commits, so they count
// exactly what the outputs hold; gauges are set after every transaction
// and restore.
type Metrics struct {
	Events         *prometheus.CounterVec
	Dropped        *prometheus.CounterVec
	Signals        *prometheus.CounterVec
	Lag            *prometheus.GaugeVec
	Watermark      *prometheus.GaugeVec
	Buyers         *prometheus.GaugeVec
	StateBytes     prometheus.Gauge
	CommitSeconds  prometheus.Histogram
	Transactions   *prometheus.CounterVec
	RestoreSeconds prometheus.Histogram
	Restored       prometheus.Counter
	Timers         *prometheus.CounterVec
	Violations     *prometheus.CounterVec
}

// NewMetrics creates the metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signalab_live_events_total",
			Help: "Input records processed and committed, by outcome: accepted, dropped (by the signal logic) or quarantined (broke the schema)."},
			[]string{"outcome"}),
		Dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signalab_live_dropped_total",
			Help: "Input records not used, by reason: the signal logic's drop reasons (duplicate, late, stale, duplicate_order, invalid) and the quarantine reason codes."},
			[]string{"reason"}),
		Signals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signalab_live_signals_total",
			Help: "Signals produced, by kind."}, []string{"kind"}),
		Lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "signalab_live_consumer_lag_records",
			Help: "Input records after the last one processed (high watermark minus next offset), by partition."},
			[]string{"partition"}),
		Watermark: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "signalab_live_watermark_seconds",
			Help: "Event-time watermark of a partition (latest arrival minus max_out_of_orderness), Unix seconds."},
			[]string{"partition"}),
		Buyers: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "signalab_live_state_buyers",
			Help: "Buyer states held, by phase: active (rows may change) or settled (rows final; clock and dedupe memory kept)."},
			[]string{"phase"}),
		StateBytes: prometheus.NewGauge(prometheus.GaugeOpts{Name: "signalab_live_state_bytes",
			Help: "Size of the held buyer states as last written to the changelog."}),
		CommitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "signalab_live_commit_seconds",
			Help:    "Time to end a transaction (flush outputs, commit offsets, commit).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		Transactions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signalab_live_transactions_total",
			Help: "Transactions ended, by result: committed or aborted."}, []string{"result"}),
		RestoreSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "signalab_live_restore_seconds",
			Help:    "Time to restore the state of newly assigned (or rolled back) partitions from the changelog.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18)}),
		Restored: prometheus.NewCounter(prometheus.CounterOpts{Name: "signalab_live_restored_buyers_total",
			Help: "Buyer states restored from the changelog."}),
		Timers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signalab_live_timers_total",
			Help: "Buyer states the watermark settled (conversation rows written out as final) or forgot (tombstoned)."},
			[]string{"action"}),
		Violations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "signalab_live_violations_total",
			Help: "Records that broke an assumption of the parity with replay: key_mismatch, behind_watermark, out_of_order (refused by the buyer core, quarantined; see docs/live.md)."},
			[]string{"kind"}),
	}
	reg.MustRegister(m.Events, m.Dropped, m.Signals, m.Lag, m.Watermark, m.Buyers, m.StateBytes,
		m.CommitSeconds, m.Transactions, m.RestoreSeconds, m.Restored, m.Timers, m.Violations)
	// Every label value exists from the start, so rate() works from zero.
	for _, o := range []string{"accepted", "dropped", "quarantined"} {
		m.Events.WithLabelValues(o)
	}
	for i := range signal.NumDropReasons {
		m.Dropped.WithLabelValues(signal.DropReason(i).String())
	}
	for _, r := range event.Reasons {
		m.Dropped.WithLabelValues(string(r))
	}
	m.Dropped.WithLabelValues(ReasonOutOfOrder)
	for _, k := range signal.SignalKinds {
		m.Signals.WithLabelValues(k)
	}
	for _, r := range []string{"committed", "aborted"} {
		m.Transactions.WithLabelValues(r)
	}
	for _, a := range []string{"settled", "forgotten"} {
		m.Timers.WithLabelValues(a)
	}
	for _, k := range []string{"key_mismatch", "behind_watermark", "out_of_order"} {
		m.Violations.WithLabelValues(k)
	}
	return m
}

// snapshot is a task's counters at the start of a transaction.
type snapshot struct {
	read  int64
	logic signal.Counts
	quar  map[string]int64
	stats LiveStats
}

func (t *task) snapshot() snapshot {
	t.fold()
	s := snapshot{read: t.counts.Read, logic: t.counts.Signal, stats: t.stats, quar: make(map[string]int64, len(t.counts.Quarantined))}
	for k, v := range t.counts.Quarantined {
		s.quar[k] = v
	}
	return s
}

// observe adds what t did since s to the counters.
func (m *Metrics) observe(t *task, s snapshot) {
	if m == nil {
		return
	}
	t.fold()
	var quar int64
	for k, v := range t.counts.Quarantined {
		if d := v - s.quar[k]; d > 0 {
			m.Dropped.WithLabelValues(k).Add(float64(d))
			quar += d
		}
	}
	l, o := t.counts.Signal, s.logic
	m.Events.WithLabelValues("quarantined").Add(float64(quar))
	m.Events.WithLabelValues("accepted").Add(float64(l.Accepted - o.Accepted))
	var dropped int64
	for i := range l.Dropped {
		d := l.Dropped[i] - o.Dropped[i]
		dropped += d
		m.Dropped.WithLabelValues(signal.DropReason(i).String()).Add(float64(d))
	}
	m.Events.WithLabelValues("dropped").Add(float64(dropped))
	for i, k := range signal.SignalKinds {
		m.Signals.WithLabelValues(k).Add(float64(l.Signals[i] - o.Signals[i]))
	}
	st, os := t.stats, s.stats
	m.Timers.WithLabelValues("settled").Add(float64(st.Settled - os.Settled))
	m.Timers.WithLabelValues("forgotten").Add(float64(st.Forgotten - os.Forgotten))
	m.Violations.WithLabelValues("key_mismatch").Add(float64(st.KeyMismatches - os.KeyMismatches))
	m.Violations.WithLabelValues("behind_watermark").Add(float64(st.BehindWatermark - os.BehindWatermark))
	m.Violations.WithLabelValues("out_of_order").Add(float64(st.OutOfOrder - os.OutOfOrder))
	if w, ok := t.watermark(); ok {
		m.Watermark.WithLabelValues(strconv.Itoa(int(t.part))).Set(float64(w) / 1e6)
	}
}

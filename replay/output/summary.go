package output

import (
	"time"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// SummarySchema identifies the replay.json format.
const SummarySchema = "signalab.replay/v1"

// GoldenCountsFile is the counts file of a golden set: replay.json without
// its run-specific fields (inputs, tool version, timing).
const GoldenCountsFile = "counts.json"

// Summary is replay.json. Its fields are a documented contract
// (docs/replay.md); TestSummaryFields pins the key list.
type Summary struct {
	Schema      string        `json:"schema"`
	ToolVersion string        `json:"tool_version,omitempty"`
	Order       string        `json:"order"`
	Params      ParamsJSON    `json:"params"`
	Inputs      []InputFile   `json:"inputs,omitempty"`
	Counts      CountsJSON    `json:"counts"`
	Lag         LagJSON       `json:"watermark_lag"`
	TimeRange   TimeRangeJSON `json:"time_range"`
	Outputs     RowCounts     `json:"outputs"`
	// Run-specific fields, absent from golden counts.json.
	Workers         int     `json:"workers,omitempty"`
	Spilled         bool    `json:"spilled,omitempty"`
	ElapsedSeconds  float64 `json:"elapsed_seconds,omitempty"`
	EventsPerSecond float64 `json:"events_per_second,omitempty"`
}

// Deterministic returns s without the fields that change from run to run
// (tool version, input paths and checksums, workers, timing): the content of
// a golden set's counts.json.
func (s Summary) Deterministic() Summary {
	s.ToolVersion, s.Inputs, s.Workers, s.Spilled, s.ElapsedSeconds, s.EventsPerSecond = "", nil, 0, false, 0, 0
	return s
}

// ParamsJSON are the signal parameters with durations as Go duration strings.
type ParamsJSON struct {
	ConversationInactivity string `json:"conversation_inactivity"`
	CartLookback           string `json:"cart_lookback"`
	OrderLookback          string `json:"order_lookback"`
	DedupeWindow           string `json:"dedupe_window"`
	StateTTL               string `json:"state_ttl"`
	MaxOutOfOrderness      string `json:"max_out_of_orderness"`
	AllowedLateness        string `json:"allowed_lateness"`
	MinCartValueCents      int64  `json:"min_cart_value_cents"`
}

// ParamsToJSON converts p.
func ParamsToJSON(p signal.Params) ParamsJSON {
	d := func(v time.Duration) string { return v.String() }
	return ParamsJSON{d(p.ConversationInactivity), d(p.CartLookback), d(p.OrderLookback), d(p.DedupeWindow),
		d(p.StateTTL), d(p.MaxOutOfOrderness), d(p.AllowedLateness), p.MinCartValueCents}
}

// InputFile describes one input file.
type InputFile struct {
	Path   string `json:"path"`
	Format string `json:"format"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// CountsJSON is the counts block of replay.json.
type CountsJSON struct {
	// Read is the number of input rows, quarantined ones included.
	Read int64 `json:"read"`
	// Quarantined is the number of rows that broke the schema, and
	// QuarantinedByReason splits it by reason code.
	Quarantined         int64            `json:"quarantined"`
	QuarantinedByReason map[string]int64 `json:"quarantined_by_reason"`
	// Currencies counts the valid events by currency code (ISO 4217, as the
	// events' optional currency column gives it); empty when they carry
	// none. The analysis reports money in this currency.
	Currencies map[string]int64 `json:"currencies"`
	// Logic are the signal logic's counts over the valid events: applied,
	// accepted (and per kind), dropped per reason (duplicate, late, stale,
	// duplicate_order, invalid), signals per kind, cart actions,
	// conversations, triggered, implicit_starts, orders, expiries.
	Logic signal.Counts `json:"logic"`
}

// LagJSON summarises ingest_time − event_time (how far events trail their
// occurrence when they reach the pipeline; the late rule thresholds it) over
// the events with an ingest_time. Quantiles are read from a log-linear
// histogram: within 12.5 % of the exact value (see replay.LagHistogram).
type LagJSON struct {
	Events     int64   `json:"events"`
	Negative   int64   `json:"negative"`
	P50Seconds float64 `json:"p50_seconds"`
	P90Seconds float64 `json:"p90_seconds"`
	P99Seconds float64 `json:"p99_seconds"`
	MaxSeconds float64 `json:"max_seconds"`
}

// TimeRangeJSON is the range of event and ingest times of the valid events.
type TimeRangeJSON struct {
	EventTimeMin  *Timestamp `json:"event_time_min,omitempty"`
	EventTimeMax  *Timestamp `json:"event_time_max,omitempty"`
	IngestTimeMin *Timestamp `json:"ingest_time_min,omitempty"`
	IngestTimeMax *Timestamp `json:"ingest_time_max,omitempty"`
}

// RowCounts are the row counts of the output tables.
type RowCounts struct {
	Signals       int `json:"signals"`
	Conversations int `json:"conversations"`
	Orders        int `json:"orders"`
	Quarantine    int `json:"quarantine"`
	// Sessions is set when the replay tracked sessions (sessions.parquet).
	Sessions *int `json:"sessions,omitempty"`
}

// NewSummary builds the deterministic part of replay.json from the merged
// counts and, when o is not nil, the row counts of the tables o.
func NewSummary(p signal.Params, order replay.Order, c *replay.Counts, o *Tables) Summary {
	s := Summary{Schema: SummarySchema, Order: order.String(), Params: ParamsToJSON(p)}
	s.Counts = CountsJSON{Read: c.Read, Quarantined: c.QuarantinedTotal(), QuarantinedByReason: map[string]int64{},
		Currencies: map[string]int64{}, Logic: c.Signal}
	for k, v := range c.Currencies {
		s.Counts.Currencies[k] = v
	}
	for k, v := range c.Quarantined {
		s.Counts.QuarantinedByReason[k] = v
	}
	sec := func(us int64) float64 { return float64(us) / 1e6 }
	s.Lag = LagJSON{Events: c.Lag.N, Negative: c.Lag.Negative, P50Seconds: sec(c.Lag.Quantile(0.5)),
		P90Seconds: sec(c.Lag.Quantile(0.9)), P99Seconds: sec(c.Lag.Quantile(0.99)), MaxSeconds: sec(c.Lag.Max)}
	if c.EventTime.N > 0 {
		lo, hi := Timestamp(c.EventTime.Min), Timestamp(c.EventTime.Max)
		s.TimeRange.EventTimeMin, s.TimeRange.EventTimeMax = &lo, &hi
	}
	if c.IngestTime.N > 0 {
		lo, hi := Timestamp(c.IngestTime.Min), Timestamp(c.IngestTime.Max)
		s.TimeRange.IngestTimeMin, s.TimeRange.IngestTimeMax = &lo, &hi
	}
	if o != nil {
		s.Outputs = RowCounts{Signals: len(o.Signals), Conversations: len(o.Conversations), Orders: len(o.Orders),
			Quarantine: len(o.Quarantine)}
		if o.WithSessions {
			n := len(o.Sessions)
			s.Outputs.Sessions = &n
		}
	}
	return s
}

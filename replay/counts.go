package replay

import (
	"math"
	"math/bits"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
)

// Counts are the tallies of a replay. They are additive: counts of disjoint
// parts of the input (files, partitions, buyers, shards) merge with Add in
// any order and give the same total.
type Counts struct {
	// Read is the number of input rows read, quarantined rows included.
	Read int64
	// Quarantined counts rows that broke the schema, by reason.
	Quarantined map[string]int64
	// Signal are the signal logic's counts (accepted, dropped by reason,
	// signals per kind, ...).
	Signal signal.Counts
	// Lag is the distribution of ingest_time − event_time over the events
	// given to the logic that have an ingest_time.
	Lag LagHistogram
	// EventTime and IngestTime are the ranges of those timestamps.
	EventTime, IngestTime TimeRange
	// Currencies counts the valid events by currency code (events without
	// one are not counted), so that the analysis knows the unit of money.
	Currencies map[string]int64
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Read += o.Read
	for k, v := range o.Quarantined {
		if c.Quarantined == nil {
			c.Quarantined = map[string]int64{}
		}
		c.Quarantined[k] += v
	}
	for k, v := range o.Currencies {
		if c.Currencies == nil {
			c.Currencies = map[string]int64{}
		}
		c.Currencies[k] += v
	}
	c.Signal.Add(o.Signal)
	c.Lag.Add(&o.Lag)
	c.EventTime.Add(o.EventTime)
	c.IngestTime.Add(o.IngestTime)
}

// Quarantine counts one quarantined row with reason.
func (c *Counts) Quarantine(reason string) {
	if c.Quarantined == nil {
		c.Quarantined = map[string]int64{}
	}
	c.Quarantined[reason]++
}

// QuarantinedTotal is the number of quarantined rows.
func (c *Counts) QuarantinedTotal() int64 {
	var n int64
	for _, v := range c.Quarantined {
		n += v
	}
	return n
}

func (c *Counts) observe(e *event.Event) {
	c.EventTime.Observe(e.EventTime)
	if e.HasIngestTime {
		c.IngestTime.Observe(e.IngestTime)
		c.Lag.Observe(e.IngestTime - e.EventTime)
	}
}

// TimeRange is the [Min, Max] of a set of timestamps (µs since epoch, UTC);
// N is the set's size (Min and Max are meaningless when N is 0).
type TimeRange struct {
	N        int64
	Min, Max int64
}

// Observe adds t to the range.
func (r *TimeRange) Observe(t int64) {
	if r.N == 0 || t < r.Min {
		r.Min = t
	}
	if r.N == 0 || t > r.Max {
		r.Max = t
	}
	r.N++
}

// Add merges o into r.
func (r *TimeRange) Add(o TimeRange) {
	if o.N == 0 {
		return
	}
	if r.N == 0 {
		*r = o
		return
	}
	r.Min, r.Max, r.N = min(r.Min, o.Min), max(r.Max, o.Max), r.N+o.N
}

// lagBuckets is the number of LagHistogram buckets: 8 exact buckets for
// 0..7 µs, then 8 per power of two up to 2^63.
const lagBuckets = 8 + 60*8

// LagHistogram is a mergeable log-linear histogram of non-negative
// durations in µs, in the manner of HdrHistogram with 3 bits of mantissa:
// values below 8 have their own bucket; a value v ≥ 8 with e = ⌊log2 v⌋
// falls in bucket 8 + 8(e−3) + ((v >> (e−3)) − 8), whose width is 2^(e−3),
// so a quantile read from it is within 12.5 % of the exact one (and exact
// below 8 µs). Negative values (ingest_time before event_time: clock skew)
// are counted in Negative and treated as 0.
type LagHistogram struct {
	N        int64
	Negative int64
	Max      int64
	Buckets  [lagBuckets]int64
}

func lagBucket(v int64) int {
	if v < 8 {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - 1
	return 8 + 8*(e-3) + int(v>>(e-3)) - 8
}

// lagBucketUpper is the largest value that falls in bucket i.
func lagBucketUpper(i int) int64 {
	if i < 8 {
		return int64(i)
	}
	e := (i-8)/8 + 3
	m := int64((i-8)%8 + 8)
	hi := (m+1)<<(e-3) - 1
	if hi < 0 {
		return math.MaxInt64
	}
	return hi
}

// Observe adds one duration v (µs).
func (h *LagHistogram) Observe(v int64) {
	if v < 0 {
		h.Negative++
		v = 0
	}
	h.N++
	h.Buckets[lagBucket(v)]++
	if v > h.Max {
		h.Max = v
	}
}

// Add merges o into h.
func (h *LagHistogram) Add(o *LagHistogram) {
	h.N += o.N
	h.Negative += o.Negative
	h.Max = max(h.Max, o.Max)
	for i, v := range o.Buckets {
		h.Buckets[i] += v
	}
}

// Quantile returns the q-quantile (0 < q ≤ 1) in µs: the upper bound of the
// bucket holding the ⌈qN⌉-th smallest value, capped at Max. It returns 0 for
// an empty histogram.
func (h *LagHistogram) Quantile(q float64) int64 {
	if h.N == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.N)))
	rank = max(1, min(rank, h.N))
	var cum int64
	for i, v := range h.Buckets {
		cum += v
		if cum >= rank {
			return min(lagBucketUpper(i), h.Max)
		}
	}
	return h.Max
}

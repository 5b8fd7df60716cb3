package analysis

import (
	"fmt"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/stats"
)

// clusterSum is one randomization unit's sums within a cell: M, D of the
// metric and U, V of its covariate; id is the unit.
type clusterSum struct {
	m, d, u, v float64
	id         int32
}

// accum holds one metric's sufficient statistics in one cell (variant ×
// segment value × population).
type accum struct {
	units int64
	cm    stats.CovariateMoments      // mean, proportion (X = 0 without covariate)
	rm    stats.RatioCovariateMoments // ratio
	vals  []float64                   // quantile
	// vcl is the cluster of each value in vals (quantile metrics under
	// coarser randomization only: 4 bytes per value) for the cluster
	// bootstrap; cq caches that bootstrap's result for the cell.
	vcl []int32
	cq  *stats.ClusterQuantileStat
	// gIDs and gVals are the cell's clusters and their values, grouped
	// before vals is sorted (quantile tests under clustering).
	gIDs  []int32
	gVals [][]float64
	cl    map[int32]int32 // cluster → index in cs
	cs    []clusterSum
	// last is the cluster of the previous clustered row and lastIdx its
	// index in cs: tables sorted by cluster (units.parquet is sorted by
	// shop and buyer) skip the map lookup.
	last, lastIdx int32
}

// metricKind is a metric type as a small integer for the hot loop.
type metricKind uint8

const (
	kMean metricKind = iota
	kProportion
	kRatio
	kQuantile
)

func kindOf(t metrics.Type) metricKind {
	switch t {
	case metrics.Proportion:
		return kProportion
	case metrics.Ratio:
		return kRatio
	case metrics.Quantile:
		return kQuantile
	}
	return kMean
}

// observe adds one row: value y (or numerator), den (ratios; 1 otherwise),
// covariates x (or numerator) and xd (ratios; 1 otherwise).
func (a *accum) observe(kind metricKind, clustered bool, cluster int32, y, den, x, xd float64) {
	a.units++
	if kind == kQuantile {
		a.vals = append(a.vals, y)
		if clustered {
			a.vcl = append(a.vcl, cluster)
		}
		return
	}
	if clustered {
		var k int32
		if a.cs != nil && cluster == a.last {
			k = a.lastIdx
		} else {
			if a.cl == nil {
				a.cl = map[int32]int32{}
			}
			var ok bool
			k, ok = a.cl[cluster]
			if !ok {
				k = int32(len(a.cs))
				a.cl[cluster] = k
				a.cs = append(a.cs, clusterSum{id: cluster})
			}
			a.last, a.lastIdx = cluster, k
		}
		s := &a.cs[k]
		s.m += y
		s.d += den
		s.u += x
		s.v += xd
		return
	}
	if kind == kRatio {
		a.rm.Observe(y, den, x, xd)
		return
	}
	a.cm.Observe(y, x)
}

// merge adds the statistics of o (rows disjoint from a's) to a.
func (a *accum) merge(o *accum) {
	a.units += o.units
	a.cm = a.cm.Add(o.cm)
	a.rm = a.rm.Add(o.rm)
	a.vals = append(a.vals, o.vals...)
	a.vcl = append(a.vcl, o.vcl...)
	for _, c := range o.cs {
		if a.cl == nil {
			a.cl = map[int32]int32{}
		}
		k, ok := a.cl[c.id]
		if !ok {
			k = int32(len(a.cs))
			a.cl[c.id] = k
			a.cs = append(a.cs, clusterSum{id: c.id})
		}
		s := &a.cs[k]
		s.m += c.m
		s.d += c.d
		s.u += c.u
		s.v += c.v
	}
}

// clusters returns the number of randomization units in the cell.
func (a *accum) clusters() int64 {
	if a.cs != nil {
		return int64(len(a.cs))
	}
	if a.vcl != nil {
		seen := make(map[int32]struct{}, 64)
		for _, c := range a.vcl {
			seen[c] = struct{}{}
		}
		return int64(len(seen))
	}
	return a.units
}

// clusterValues groups a clustered quantile cell's values by cluster (in
// order of first appearance; stats.ClusterQuantile puts them in a canonical
// order itself). It copies the values (8 bytes each) so that vals may be
// sorted independently of vcl afterwards.
func (a *accum) clusterValues() [][]float64 {
	idx := make(map[int32]int, 64)
	var counts []int
	for _, c := range a.vcl {
		k, ok := idx[c]
		if !ok {
			k = len(counts)
			idx[c] = k
			counts = append(counts, 0)
		}
		counts[k]++
	}
	flat := make([]float64, len(a.vcl))
	out := make([][]float64, len(counts))
	off := 0
	for k, n := range counts {
		out[k] = flat[off : off : off+n]
		off += n
	}
	for j, c := range a.vcl {
		k := idx[c]
		out[k] = append(out[k], a.vals[j])
	}
	return out
}

// ratioMoments returns the per-cluster (or per-row) ratio moments.
func (a *accum) ratioMoments() stats.RatioCovariateMoments {
	if a.cs == nil {
		return a.rm
	}
	var r stats.RatioCovariateMoments
	for _, s := range a.cs {
		r.Observe(s.m, s.d, s.u, s.v)
	}
	return r
}

// cell holds the accumulators of every metric for one variant × segment
// value × population.
type cell []accum

// daySum is one randomization unit's (or, unclustered, one day's) sums of
// the primary metric on one day: M, D of the metric, X, XD of its CUPED
// covariate, and the rows.
type daySum struct {
	m, d, x, xd float64
	rows        int64
}

// daySums are one randomization unit's sums per day, days base, base+1, ….
type daySums struct {
	base int64
	sums []daySum
}

func (d *daySums) at(day int64) *daySum {
	if d.sums == nil {
		d.base = day
	}
	if day < d.base {
		grow := int(d.base - day)
		d.sums = append(make([]daySum, grow, grow+len(d.sums)), d.sums...)
		d.base = day
	}
	for int(day-d.base) >= len(d.sums) {
		d.sums = append(d.sums, daySum{})
	}
	return &d.sums[day-d.base]
}

// series accumulates the primary metric per day for one variant and
// population.
type series struct {
	mom map[int64]*stats.RatioCovariateMoments // unclustered: per-row moments per day
	cl  map[int32]*daySums                     // clustered: per unit, per day
	// order lists clusters in order of first appearance (deterministic
	// sums); last* cache the previous row's cluster and day.
	order   []int32
	last    int32
	lastDay *daySums
	lastMom *stats.RatioCovariateMoments
	lastD   int64
}

func newSeries() *series {
	return &series{mom: map[int64]*stats.RatioCovariateMoments{}, cl: map[int32]*daySums{}}
}

// observe adds one row on day: per-row moments of (y, den, x, xd) when
// unclustered, else the cluster's daily sums.
func (s *series) observe(clustered bool, cluster int32, day int64, y, den, x, xd float64) {
	if clustered {
		ds := s.lastDay
		if ds == nil || cluster != s.last {
			ds = s.cl[cluster]
			if ds == nil {
				ds = &daySums{}
				s.cl[cluster] = ds
				s.order = append(s.order, cluster)
			}
			s.last, s.lastDay = cluster, ds
		}
		c := ds.at(day)
		c.m += y
		c.d += den
		c.x += x
		c.xd += xd
		c.rows++
		return
	}
	m := s.lastMom
	if m == nil || day != s.lastD {
		m = s.mom[day]
		if m == nil {
			m = &stats.RatioCovariateMoments{}
			s.mom[day] = m
		}
		s.lastMom, s.lastD = m, day
	}
	m.Observe(y, den, x, xd)
}

// rowError names a bad cell of the input table.
func rowError(path string, row int64, col, got string) error {
	return fmt.Errorf("%s: row %d: column %s: %q is not a number (want a number, 0/1 or true/false)", path, row, col, got)
}

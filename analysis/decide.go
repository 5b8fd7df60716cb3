package analysis

import (
	"math"
	"sort"
	"strconv"

	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// Correction families and the intervals that agree with them.
//
// Every row belongs to one family, corrected on its own (docs/statistics.md,
// "Correction families"):
//
//   - segment "all": by Options.CorrectionScope, separately per population:
//     "primary", "secondary" and "guardrail" (ScopeFamily, default), one
//     family per metric ("metric:<name>", ScopeMetric), one for all metrics
//     ("all", ScopeAll), or none ("none", every row alone);
//   - segment rows: one family per segment column ("segment:<column>": every
//     metric, variant, population and value of that column), corrected by
//     Options.SegmentCorrection (Benjamini–Hochberg by default).
//
// Within a family the decision p-values (fixed-horizon, or the confidence
// sequence's when the analysis is sequential) are adjusted, Significant is
// adjusted p < α, and Adjusted holds the decision test's intervals at the
// row's critical level λ in its family (criticalLevels), which exclude 0
// exactly when the row is significant.

// Decision tests.
const (
	DecisionFixed      = "fixed"
	DecisionSequential = "sequential"
)

// decide assigns families, adjusts p-values and sets Significant and the
// adjusted intervals of every row.
func (s *state) decide(rows []results.Row) {
	seq := s.cfg.Sequential
	kind := DecisionFixed
	if seq {
		kind = DecisionSequential
	}
	type family struct {
		corr stats.Correction
		idx  []int
	}
	fams := map[string]*family{}
	var order []string
	for k := range rows {
		r := &rows[k]
		name, corr := s.familyOf(k, r)
		key := name + "\x00" + r.Population
		switch {
		case r.Segment != results.SegmentAll:
			key = name
		case s.cfg.CorrectionScope == ScopeNone:
			key = name + "\x00" + strconv.Itoa(k)
		}
		r.Family, r.Correction, r.DecisionTest = name, corr, kind
		r.Significant = false
		f := fams[key]
		if f == nil {
			f = &family{corr: corr}
			fams[key] = f
			order = append(order, key)
		}
		if r.Reason == "" && decisionP(r, seq).Valid() {
			f.idx = append(f.idx, k)
		}
	}
	for _, key := range order {
		f := fams[key]
		ps := make([]float64, len(f.idx))
		for j, k := range f.idx {
			ps[j] = float64(decisionP(&rows[k], seq))
		}
		adj := stats.AdjustPValues(ps, f.corr)
		levels := criticalLevels(ps, adj, f.corr, s.cfg.Alpha)
		for j, k := range f.idx {
			r := &rows[k]
			r.PValueAdjusted = num(adj[j])
			r.Significant = adj[j] < s.cfg.Alpha
			r.FamilySize = len(f.idx)
			r.Adjusted = s.adjustedIntervals(k, r, levels[j], seq)
		}
	}
	for k := range rows {
		if r := &rows[k]; r.FamilySize == 0 && r.Reason == "" {
			r.FamilySize = 1
		}
	}
}

// familyOf names row k's family and its correction.
func (s *state) familyOf(k int, r *results.Row) (string, stats.Correction) {
	if r.Segment != results.SegmentAll {
		return "segment:" + r.Segment, s.cfg.SegmentCorrection
	}
	switch s.cfg.CorrectionScope {
	case ScopeNone:
		return "none", stats.NoCorrection
	case ScopeMetric:
		return "metric:" + r.Metric, s.cfg.Correction
	case ScopeAll:
		return "all", s.cfg.Correction
	}
	return string(s.cfg.role(s.refs[k].i)), s.cfg.Correction
}

// decisionP is the p-value the decision uses: the confidence sequence's when
// the analysis is sequential, else the fixed-horizon test's.
func decisionP(r *results.Row, sequential bool) results.Num {
	if sequential {
		if r.Sequential == nil {
			return results.NaN()
		}
		return r.Sequential.PValue
	}
	return r.PValue
}

// adjustedIntervals are row k's decision intervals at level λ: the row's own
// intervals when λ = α, else the comparison recomputed at α = λ. A
// sequential comparison keeps the mixture parameter ρ of the configured α
// (by scaling its tuning size), so that its intervals at λ exclude 0
// exactly when its p-value (computed with that ρ) is below λ.
func (s *state) adjustedIntervals(k int, r *results.Row, lambda float64, seq bool) *results.Adjusted {
	a := &results.Adjusted{Confidence: 1 - lambda}
	if lambda == s.cfg.Alpha {
		src := [2]results.Effect{r.Absolute, r.Relative}
		if seq && r.Sequential != nil {
			src = [2]results.Effect{r.Sequential.Absolute, r.Sequential.Relative}
		}
		a.Absolute = results.Interval{CILower: src[0].CILower, CIUpper: src[0].CIUpper}
		a.Relative = results.Interval{CILower: src[1].CILower, CIUpper: src[1].CIUpper}
		return a
	}
	res := s.compareAt(s.refs[k], lambda, seq)
	a.Absolute = results.Interval{CILower: num(res.AbsCI[0]), CIUpper: num(res.AbsCI[1])}
	a.Relative = results.Interval{CILower: num(res.RelCI[0]), CIUpper: num(res.RelCI[1])}
	if res.Reason != "" || res.RelSE == 0 {
		a.Relative = results.Interval{CILower: results.NaN(), CIUpper: results.NaN()}
	}
	return a
}

// compareAt runs a row's decision comparison at level alpha; a sequential
// one keeps the ρ of the configured α (see adjustedIntervals).
func (s *state) compareAt(ref rowRef, alpha float64, seq bool) stats.Result {
	if !seq {
		return s.compareRef(ref, alpha, false)
	}
	o := s.optionsAt(alpha, true)
	o.Sequential.TuningN *= rhoScale(alpha) / rhoScale(s.cfg.Alpha)
	return s.compareRefOpts(ref, o)
}

// rhoScale is −2 ln a + ln(1 − 2 ln a): N*·ρ² of the two-sided confidence
// sequence at level a (stats.SequentialRho).
func rhoScale(a float64) float64 {
	l := math.Log(a)
	return -2*l + math.Log(1-2*l)
}

// criticalLevels are the levels λ_i of a family's adjusted intervals: a
// row is significant (adjusted p < α) exactly when its p-value is below its
// λ_i, so its interval at 1 − λ_i excludes 0 exactly then. With m tests, r
// rejections and k the rank of p_i among the p-values (ascending):
//
//	none        α
//	Bonferroni  α/m                                   simultaneous intervals
//	Holm        rejected α/(m − k + 1) (its step's level: α/m for the
//	            smallest p), retained α/(m − r)       Strassburger & Bretz (2008): simultaneous for the retained rows
//	Hochberg    rejected α/(m − r + 1), retained α/(m − r)
//	BH          max(r, 1)·α/m                         FCR-adjusted intervals, Benjamini & Yekutieli (2005)
//	BY          max(r, 1)·α/(m·Σ_{j≤m} 1/j)           the same for Benjamini–Yekutieli
//
// Every procedure rejects the r smallest p-values, so these separate the
// decisions; the levels are checked against them all the same, and a
// level that rounding put on the wrong side of its p-value moves just
// past it.
func criticalLevels(ps, adj []float64, c stats.Correction, alpha float64) []float64 {
	m := len(ps)
	out := make([]float64, m)
	if m == 0 {
		return out
	}
	rejected := func(j int) bool { return adj[j] < alpha }
	r := 0
	for j := range adj {
		if rejected(j) {
			r++
		}
	}
	rank := make([]int, m) // 1-based rank of p_j, ties in input order
	idx := make([]int, m)
	for j := range idx {
		idx[j] = j
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	for k, j := range idx {
		rank[j] = k + 1
	}
	fm := float64(m)
	retained := alpha
	if r < m {
		retained = alpha / float64(m-r)
	}
	for j := range out {
		switch c {
		case stats.BonferroniCorrection:
			out[j] = alpha / fm
		case stats.HolmCorrection:
			out[j] = retained
			if rejected(j) {
				out[j] = alpha / float64(m-rank[j]+1)
			}
		case stats.HochbergCorrection:
			out[j] = retained
			if rejected(j) {
				out[j] = alpha / float64(m-r+1)
			}
		case stats.BHCorrection:
			out[j] = float64(max(r, 1)) * alpha / fm
		case stats.BYCorrection:
			h := 0.0
			for k := 1; k <= m; k++ {
				h += 1 / float64(k)
			}
			out[j] = float64(max(r, 1)) * alpha / (fm * h)
		default:
			out[j] = alpha
		}
		// A p-value at (or, after rounding, just past) its level would give
		// an interval with an end at zero; move the level clear of it.
		switch p := ps[j]; {
		case rejected(j) && p >= out[j]*(1-1e-9):
			out[j] = (p + alpha) / 2 // adjusted p ≥ p, so p < α here
		case !rejected(j) && p < out[j]*(1+1e-9):
			out[j] = p * (1 - 1e-9)
		}
	}
	return out
}

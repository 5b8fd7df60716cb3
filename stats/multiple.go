package stats

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// order returns the indices of p sorted by ascending p (stable).
func order(p []float64) []int {
	idx := make([]int, len(p))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	return idx
}

// stepDown applies a step-down procedure: with p_(1) ≤ … ≤ p_(m),
// q_(i) = max_{j ≤ i} f(p_(j), i), capped at 1, returned in input order.
func stepDown(p []float64, f func(p float64, rank, m int) float64) []float64 {
	m := len(p)
	out := make([]float64, m)
	running := 0.0
	for rank, i := range order(p) {
		running = math.Max(running, math.Min(1, f(p[i], rank+1, m)))
		out[i] = running
	}
	return out
}

// stepUp applies a step-up procedure: q_(i) = min_{j ≥ i} f(p_(j), j),
// capped at 1, returned in input order.
func stepUp(p []float64, f func(p float64, rank, m int) float64) []float64 {
	m := len(p)
	out := make([]float64, m)
	idx := order(p)
	running := 1.0
	for r := m - 1; r >= 0; r-- {
		i := idx[r]
		running = math.Min(running, math.Min(1, f(p[i], r+1, m)))
		out[i] = running
	}
	return out
}

// Bonferroni returns the single-step Bonferroni adjusted p-values min(1, m·p).
func Bonferroni(p []float64) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = math.Min(1, v*float64(len(p)))
	}
	return out
}

// Holm returns Holm's (1979) step-down adjusted p-values, controlling the
// family-wise error rate under any dependence:
//
//	q_(i) = max_{j ≤ i} min(1, (m − j + 1)·p_(j))
//
// Reference: Holm (1979), Scand. J. Statist. 6; GrowthBook
// packages/shared experiments.ts (adjustPValuesHolmBonferroni).
func Holm(p []float64) []float64 {
	return stepDown(p, func(v float64, i, m int) float64 { return float64(m-i+1) * v })
}

// HolmSidak is the step-down Šidák variant: q_(i) = max_{j ≤ i} 1 − (1 − p_(j))^(m−j+1).
// Reference: Šidák (1967), JASA 62; tea-tasting adjust_fwer.
func HolmSidak(p []float64) []float64 {
	return stepDown(p, func(v float64, i, m int) float64 { return -math.Expm1(float64(m-i+1) * math.Log1p(-v)) })
}

// Hochberg returns Hochberg's (1988) step-up adjusted p-values (FWER under
// independence or positive dependence):
//
//	q_(i) = min_{j ≥ i} min(1, (m − j + 1)·p_(j))
//
// tea-tasting calls this "bonferroni" with arbitrary_dependence=False.
// Reference: Hochberg (1988), Biometrika 75.
func Hochberg(p []float64) []float64 {
	return stepUp(p, func(v float64, i, m int) float64 { return float64(m-i+1) * v })
}

// HochbergSidak is the step-up Šidák variant: q_(i) = min_{j ≥ i} 1 − (1 − p_(j))^(m−j+1).
// Reference: tea-tasting adjust_fwer (its default).
func HochbergSidak(p []float64) []float64 {
	return stepUp(p, func(v float64, i, m int) float64 { return -math.Expm1(float64(m-i+1) * math.Log1p(-v)) })
}

// BenjaminiHochberg returns the Benjamini–Hochberg (1995) adjusted p-values
// (q-values), controlling the false discovery rate under independence or
// positive dependence:
//
//	q_(i) = min_{j ≥ i} min(1, m·p_(j)/j)
//
// Reference: Benjamini, Hochberg (1995), JRSS B 57; GrowthBook
// experiments.ts (adjustPValuesBenjaminiHochberg).
func BenjaminiHochberg(p []float64) []float64 {
	return stepUp(p, func(v float64, i, m int) float64 { return float64(m) * v / float64(i) })
}

// BenjaminiYekutieli is BH multiplied by c(m) = Σ_{k=1}^{m} 1/k, valid under
// any dependence. Reference: Benjamini, Yekutieli (2001), Ann. Statist. 29.
func BenjaminiYekutieli(p []float64) []float64 {
	c := 0.0
	for k := 1; k <= len(p); k++ {
		c += 1 / float64(k)
	}
	return stepUp(p, func(v float64, i, m int) float64 { return c * float64(m) * v / float64(i) })
}

// AdjustedCI is the confidence interval implied by an adjusted p-value, so
// that the interval excludes zero exactly when the adjusted p-value is below
// α:
//
//	z_adj = Φ⁻¹(1 − p_adj/2),   SE_adj = |est|/z_adj,   CI = est ± Φ⁻¹(1 − α/2)·SE_adj
//
// When p_adj = 1 or est = 0 the interval is unbounded (−∞, +∞).
// Reference: GrowthBook packages/shared experiments.ts (adjustedCI).
func AdjustedCI(pAdj, est, alpha float64) Interval {
	if alpha <= 0 || alpha >= 1 {
		alpha = 0.05
	}
	if pAdj >= 1 || est == 0 || math.IsNaN(pAdj) {
		return Interval{math.Inf(-1), math.Inf(1)}
	}
	if pAdj <= 0 {
		return Interval{est, est}
	}
	zAdj := distuv.UnitNormal.Quantile(1 - pAdj/2)
	se := math.Abs(est) / zAdj
	w := distuv.UnitNormal.Quantile(1-alpha/2) * se
	return Interval{est - w, est + w}
}

// Correction names a multiple-testing correction.
type Correction string

// Corrections accepted by Adjust.
const (
	NoCorrection         Correction = "none"
	HolmCorrection       Correction = "holm"
	BHCorrection         Correction = "bh"
	BonferroniCorrection Correction = "bonferroni"
	BYCorrection         Correction = "by"
	HochbergCorrection   Correction = "hochberg"
)

// AdjustPValues applies the correction c to p.
func AdjustPValues(p []float64, c Correction) []float64 {
	switch c {
	case HolmCorrection:
		return Holm(p)
	case BHCorrection:
		return BenjaminiHochberg(p)
	case BonferroniCorrection:
		return Bonferroni(p)
	case BYCorrection:
		return BenjaminiYekutieli(p)
	case HochbergCorrection:
		return Hochberg(p)
	}
	return append([]float64(nil), p...)
}

// Adjust corrects a family of results in place: it sets AdjustedPValue from
// each result's PValue (undefined results, with a Reason and no SE, keep p = 1
// but still count in m), AdjustedAbsCI and AdjustedRelCI by AdjustedCI
// (one-sided results by AdjustedCIOneSided, in the direction of their
// interval), and recomputes Significant as AdjustedPValue < α. Sequential
// results are adjusted the same way.
func Adjust(results []*Result, c Correction, alpha float64) {
	if alpha <= 0 || alpha >= 1 {
		alpha = 0.05
	}
	p := make([]float64, len(results))
	for i, r := range results {
		p[i] = r.PValue
	}
	q := AdjustPValues(p, c)
	for i, r := range results {
		r.AdjustedPValue = q[i]
		r.Correction = string(c)
		if r.AbsSE > 0 {
			r.AdjustedAbsCI = adjustedCIFor(r.AbsCI, q[i], r.AbsEffect, alpha)
		}
		if r.RelSE > 0 {
			r.AdjustedRelCI = adjustedCIFor(r.RelCI, q[i], r.RelEffect, alpha)
		}
		r.Significant = r.AbsSE > 0 && q[i] < alpha
	}
}

// AdjustedCIOneSided is AdjustedCI for a one-sided test: with
// z_adj = Φ⁻¹(1 − p_adj) and SE_adj = |est|/z_adj, the interval is
// (est − Φ⁻¹(1 − α)·SE_adj, +∞) when greater is true, else
// (−∞, est + Φ⁻¹(1 − α)·SE_adj). It excludes 0 exactly when p_adj < α. When
// p_adj ≥ 0.5 (z_adj ≤ 0) or est = 0 the interval is unbounded.
func AdjustedCIOneSided(pAdj, est, alpha float64, greater bool) Interval {
	if alpha <= 0 || alpha >= 1 {
		alpha = 0.05
	}
	all := Interval{math.Inf(-1), math.Inf(1)}
	if pAdj >= 0.5 || est == 0 || math.IsNaN(pAdj) {
		return all
	}
	if pAdj <= 0 {
		if greater {
			return Interval{est, math.Inf(1)}
		}
		return Interval{math.Inf(-1), est}
	}
	se := math.Abs(est) / distuv.UnitNormal.Quantile(1-pAdj)
	w := distuv.UnitNormal.Quantile(1-alpha) * se
	if greater {
		return Interval{est - w, math.Inf(1)}
	}
	return Interval{math.Inf(-1), est + w}
}

// adjustedCIFor picks the two- or one-sided adjusted interval matching the
// shape of the unadjusted interval ci.
func adjustedCIFor(ci Interval, pAdj, est, alpha float64) Interval {
	switch {
	case math.IsInf(ci[1], 1) && !math.IsInf(ci[0], -1):
		return AdjustedCIOneSided(pAdj, est, alpha, true)
	case math.IsInf(ci[0], -1) && !math.IsInf(ci[1], 1):
		return AdjustedCIOneSided(pAdj, est, alpha, false)
	}
	return AdjustedCI(pAdj, est, alpha)
}

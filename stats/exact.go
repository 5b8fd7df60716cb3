package stats

import (
	"fmt"
	"math"
)

// maxExactTables bounds the table enumeration of the unconditional exact
// tests: (n_A + 1)(n_B + 1) tables are summed at each of ~1,100 values of
// the nuisance parameter.
const maxExactTables = 250_000

// BarnardExact is the two-sided p-value of Barnard's unconditional exact
// test of the 2×2 table [[xA, nA − xA], [xB, nB − xB]] with the pooled Wald
// statistic
//
//	T = (p̂_A − p̂_B) / √(p̄(1 − p̄)(1/n_A + 1/n_B)),   p̄ = (x_A + x_B)/(n_A + n_B)   (T = 0 if p̄ ∈ {0, 1})
//	p = max_π Σ_{tables with |T| ≥ |T_obs|} Bin(x_A; n_A, π)·Bin(x_B; n_B, π)
//
// The nuisance parameter π is maximised over a grid of 1,001 points refined
// by golden-section search around the best ones. Exact tests suit small
// arms; beyond (n_A + 1)(n_B + 1) = 250,000 tables an error suggests the z
// test. Reference: Barnard (1945), Nature 156; scipy.stats.barnard_exact.
func BarnardExact(xA, nA, xB, nB int64) (float64, error) {
	if err := checkTable(xA, nA, xB, nB); err != nil {
		return 1, err
	}
	wald := func(a, b int64) float64 {
		pb := float64(a+b) / float64(nA+nB)
		if pb <= 0 || pb >= 1 {
			return 0
		}
		return (float64(a)/float64(nA) - float64(b)/float64(nB)) / math.Sqrt(pb*(1-pb)*(1/float64(nA)+1/float64(nB)))
	}
	obs := math.Abs(wald(xA, xB))
	mask := tableMask(nA, nB, func(a, b int64) bool { return math.Abs(wald(a, b)) >= obs*(1-1e-12) })
	return maxOverNuisance(nA, nB, mask), nil
}

// BoschlooExact is the two-sided p-value of Boschloo's unconditional exact
// test: the statistic is Fisher's one-sided p-value, the one-sided p-values
// are maximised over the nuisance π as in BarnardExact, and the two-sided
// p-value is 2·min(p_less, p_greater), capped at 1 (scipy's convention).
// Reference: Boschloo (1970), Statistica Neerlandica 24;
// scipy.stats.boschloo_exact.
func BoschlooExact(xA, nA, xB, nB int64) (float64, error) {
	if err := checkTable(xA, nA, xB, nB); err != nil {
		return 1, err
	}
	less, greater := fisherOneSided(nA, nB)
	idx := func(a, b int64) int { return int(a*(nB+1) + b) }
	lo, go_ := less[idx(xA, xB)], greater[idx(xA, xB)]
	pl := maxOverNuisance(nA, nB, tableMask(nA, nB, func(a, b int64) bool { return less[idx(a, b)] <= lo*(1+1e-12) }))
	pg := maxOverNuisance(nA, nB, tableMask(nA, nB, func(a, b int64) bool { return greater[idx(a, b)] <= go_*(1+1e-12) }))
	return math.Min(1, 2*math.Min(pl, pg)), nil
}

func checkTable(xA, nA, xB, nB int64) error {
	switch {
	case nA <= 0 || nB <= 0:
		return fmt.Errorf("exact test: empty arm (n_A = %d, n_B = %d)", nA, nB)
	case xA < 0 || xA > nA || xB < 0 || xB > nB:
		return fmt.Errorf("exact test: successes outside [0, n] (%d/%d, %d/%d)", xA, nA, xB, nB)
	case float64(nA+1)*float64(nB+1) > maxExactTables:
		return fmt.Errorf("exact test: %d × %d units is too many tables for an unconditional exact test; use the z test (CompareMeans with Proportion)", nA, nB)
	}
	return nil
}

// tableMask marks the tables (a, b), a ∈ [0, nA], b ∈ [0, nB], in the
// rejection region, indexed a·(nB + 1) + b.
func tableMask(nA, nB int64, in func(a, b int64) bool) []bool {
	m := make([]bool, (nA+1)*(nB+1))
	for a := int64(0); a <= nA; a++ {
		for b := int64(0); b <= nB; b++ {
			m[a*(nB+1)+b] = in(a, b)
		}
	}
	return m
}

// fisherOneSided returns, for every table, Fisher's one-sided p-values
// P(X ≤ a) and P(X ≥ a) under the hypergeometric law of X = successes in A
// given the total a + b.
func fisherOneSided(nA, nB int64) (less, greater []float64) {
	size := (nA + 1) * (nB + 1)
	less, greater = make([]float64, size), make([]float64, size)
	n := nA + nB
	for k := int64(0); k <= n; k++ {
		lo, hi := max(0, k-nB), min(k, nA)
		pmf := make([]float64, hi-lo+1)
		for a := lo; a <= hi; a++ {
			pmf[a-lo] = math.Exp(logChoose(float64(nA), float64(a)) + logChoose(float64(nB), float64(k-a)) - logChoose(float64(n), float64(k)))
		}
		cum := 0.0
		for a := lo; a <= hi; a++ {
			cum += pmf[a-lo]
			less[a*(nB+1)+k-a] = math.Min(cum, 1)
		}
		cum = 0
		for a := hi; a >= lo; a-- {
			cum += pmf[a-lo]
			greater[a*(nB+1)+k-a] = math.Min(cum, 1)
		}
	}
	return less, greater
}

// maxOverNuisance maximises P_π(table ∈ mask) over π ∈ (0, 1).
func maxOverNuisance(nA, nB int64, mask []bool) float64 {
	lcA, lcB := logChooseRow(nA), logChooseRow(nB)
	prob := func(pi float64) float64 {
		la, lb := math.Log(pi), math.Log1p(-pi)
		bA, bB := binomRow(nA, lcA, la, lb), binomRow(nB, lcB, la, lb)
		var s float64
		for a := int64(0); a <= nA; a++ {
			row := mask[a*(nB+1) : (a+1)*(nB+1)]
			var r float64
			for b, in := range row {
				if in {
					r += bB[b]
				}
			}
			s += bA[a] * r
		}
		return s
	}
	const grid = 1000
	const eps = 1e-10
	vals := make([]float64, grid+1)
	for i := range vals {
		vals[i] = prob(eps + (1-2*eps)*float64(i)/grid)
	}
	best := 0.0
	for i, v := range vals {
		best = math.Max(best, v)
		// Refine every local maximum of the grid by golden-section search.
		if (i == 0 || v >= vals[i-1]) && (i == grid || v >= vals[i+1]) {
			lo := eps + (1-2*eps)*float64(max(i-1, 0))/grid
			hi := eps + (1-2*eps)*float64(min(i+1, grid))/grid
			best = math.Max(best, goldenMax(prob, lo, hi))
		}
	}
	return clamp01(best)
}

func logChooseRow(n int64) []float64 {
	r := make([]float64, n+1)
	for k := range r {
		r[k] = logChoose(float64(n), float64(k))
	}
	return r
}

func binomRow(n int64, lc []float64, logPi, logQ float64) []float64 {
	r := make([]float64, n+1)
	for k := range r {
		r[k] = math.Exp(lc[k] + float64(k)*logPi + float64(n-int64(k))*logQ)
	}
	return r
}

// goldenMax maximises a unimodal f on [lo, hi] to 1e-12.
func goldenMax(f func(float64) float64, lo, hi float64) float64 {
	g := (math.Sqrt(5) - 1) / 2
	c, d := hi-g*(hi-lo), lo+g*(hi-lo)
	fc, fd := f(c), f(d)
	for hi-lo > 1e-12 {
		if fc >= fd {
			hi, d, fd = d, c, fc
			c = hi - g*(hi-lo)
			fc = f(c)
		} else {
			lo, c, fc = c, d, fd
			d = lo + g*(hi-lo)
			fd = f(d)
		}
	}
	return math.Max(fc, fd)
}

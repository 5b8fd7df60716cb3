package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// BinomialBand is the Monte Carlo band of a rejection count: with n
// independent experiments each rejecting with probability p (α under a
// true null), the count lies in [lo, hi] with probability at least level,
// where lo is the largest count with P(X < lo) ≤ (1 − level)/2 and hi the
// smallest with P(X > hi) ≤ (1 − level)/2 (exact binomial tails, equal
// tails). With n = 1000, p = 0.05, level 0.95 the band is [37, 64]
// (3.7%–6.4%).
func BinomialBand(n int, p, level float64) (lo, hi int) {
	b := distuv.Binomial{N: float64(n), P: p}
	tail := (1 - level) / 2
	lo = 0
	for k := 1; k <= n; k++ {
		if b.CDF(float64(k-1)) > tail {
			break
		}
		lo = k
	}
	hi = n
	for k := n - 1; k >= 0; k-- {
		if 1-b.CDF(float64(k)) > tail {
			break
		}
		hi = k
	}
	return lo, hi
}

// ClopperPearson is the exact (Clopper & Pearson 1934) interval of a
// binomial proportion from k successes in n trials at level (0.95):
//
//	lower = Beta⁻¹((1 − level)/2; k, n − k + 1)   (0 when k = 0)
//	upper = Beta⁻¹((1 + level)/2; k + 1, n − k)   (1 when k = n)
func ClopperPearson(k, n int, level float64) Interval {
	if n <= 0 {
		return Interval{0, 1}
	}
	a := (1 - level) / 2
	lo, hi := 0.0, 1.0
	if k > 0 {
		lo = distuv.Beta{Alpha: float64(k), Beta: float64(n - k + 1)}.Quantile(a)
	}
	if k < n {
		hi = distuv.Beta{Alpha: float64(k + 1), Beta: float64(n - k)}.Quantile(1 - a)
	}
	return Interval{math.Max(lo, 0), math.Min(hi, 1)}
}

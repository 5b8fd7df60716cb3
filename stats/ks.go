package stats

import (
	"math"
	"slices"
)

// KSUniform is the one-sample Kolmogorov–Smirnov test of xs against the
// uniform distribution on (0, 1) (e.g. p-values under a true null):
//
//	D = max_i max(i/n − x_(i), x_(i) − (i − 1)/n)
//	p = Q_KS((√n + 0.12 + 0.11/√n)·D),   Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}
//
// Stephens' (1970) finite-n correction of the asymptotic Kolmogorov
// distribution (Press et al., Numerical Recipes, 3rd ed., §14.3.3),
// accurate to about 0.01 in p for n ≥ 10 and better for larger n. An empty
// sample gives D = 0, p = 1. p-values of discrete tests (randomization
// tests, few conversions) are not exactly uniform, so for them p is only
// indicative.
func KSUniform(xs []float64) (d, p float64) {
	if len(xs) == 0 {
		return 0, 1
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := float64(len(s))
	for i, x := range s {
		d = math.Max(d, math.Max(float64(i+1)/n-x, x-float64(i)/n))
	}
	sn := math.Sqrt(n)
	return d, kolmogorovQ((sn + 0.12 + 0.11/sn) * d)
}

// kolmogorovQ is the Kolmogorov survival function
// Q(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²} (1 for λ < 0.2, where the
// alternating series converges slowly and Q is 1 to 15 digits).
func kolmogorovQ(lambda float64) float64 {
	if lambda < 0.2 {
		return 1
	}
	var q float64
	sign := 1.0
	for k := 1; k <= 100; k++ {
		term := 2 * sign * math.Exp(-2*float64(k*k)*lambda*lambda)
		q += term
		if math.Abs(term) < 1e-16 {
			break
		}
		sign = -sign
	}
	return clamp01(q)
}

package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// logChoose is log C(n, k).
func logChoose(n, k float64) float64 {
	a, _ := math.Lgamma(n + 1)
	b, _ := math.Lgamma(k + 1)
	c, _ := math.Lgamma(n - k + 1)
	return a - b - c
}

// FisherExact is the two-sided p-value of Fisher's exact test of the 2×2
// table [[xA, nA − xA], [xB, nB − xB]]: the hypergeometric probability of all
// tables with the same margins that are no more likely than the observed one
// (relative tolerance 1e-7, as scipy.stats.fisher_exact).
// Reference: Fisher (1935), J. R. Statist. Soc. 98; Agresti (2002),
// Categorical Data Analysis, §3.5.
func FisherExact(xA, nA, xB, nB int64) float64 {
	if nA <= 0 || nB <= 0 {
		return 1
	}
	k := xA + xB
	n := nA + nB
	lp := func(x int64) float64 {
		return logChoose(float64(nA), float64(x)) + logChoose(float64(nB), float64(k-x)) - logChoose(float64(n), float64(k))
	}
	obs := lp(xA)
	var p float64
	for x := max(0, k-nB); x <= min(k, nA); x++ {
		if l := lp(x); l <= obs+1e-7 {
			p += math.Exp(l)
		}
	}
	return clamp01(p)
}

// BinomialTest is the exact two-sided binomial test of x successes in n
// trials against success probability p: the total probability of outcomes no
// more likely than x (relative tolerance 1e-7, as scipy.stats.binomtest).
// With p = 0.5 and x = units in one of two equal arms it is an exact SRM test.
func BinomialTest(x, n int64, p float64) float64 {
	if n <= 0 || p <= 0 || p >= 1 {
		return 1
	}
	b := distuv.Binomial{N: float64(n), P: p}
	obs := b.LogProb(float64(x))
	var sum float64
	for k := int64(0); k <= n; k++ {
		if l := b.LogProb(float64(k)); l <= obs+1e-7 {
			sum += math.Exp(l)
		}
	}
	return clamp01(sum)
}

// SampleRatioZ is the two-sided z test of nA units in arm A out of nA + nB
// against the planned share w of arm A:
//
//	z = (|nA − N·w| − c) / √(N·w(1 − w)),   c = 0.5 with continuity correction, else 0
//
// Without correction it equals the χ² goodness-of-fit test (SRM).
// Reference: tea-tasting SampleRatio (method "norm").
func SampleRatioZ(nA, nB int64, w float64, continuity bool) float64 {
	n := float64(nA + nB)
	if n == 0 || w <= 0 || w >= 1 {
		return 1
	}
	d := math.Abs(float64(nA) - n*w)
	if continuity {
		d = math.Max(d-0.5, 0)
	}
	return clamp01(2 * normalSurvival(d/math.Sqrt(n*w*(1-w))))
}

// GTest is the likelihood-ratio (G) test of independence of the 2×2 table
// [[xA, nA − xA], [xB, nB − xB]]:
//
//	G = 2 Σ O·ln(O/E),   p = 1 − F_χ²(G; 1)
//
// With yates each observed count is first moved 0.5 towards its expected
// count (not past it), as scipy.stats.chi2_contingency(lambda_=
// "log-likelihood", correction=True). Reference: Sokal, Rohlf (1995),
// Biometry, §17.
func GTest(xA, nA, xB, nB int64, yates bool) float64 {
	if nA <= 0 || nB <= 0 {
		return 1
	}
	obs := [4]float64{float64(xA), float64(nA - xA), float64(xB), float64(nB - xB)}
	n := float64(nA + nB)
	col := [2]float64{float64(xA + xB), n - float64(xA+xB)}
	row := [2]float64{float64(nA), float64(nB)}
	var g float64
	for i := range 4 {
		e := row[i/2] * col[i%2] / n
		if e == 0 {
			return 1
		}
		o := obs[i]
		if yates {
			d := e - o
			o += math.Copysign(math.Min(0.5, math.Abs(d)), d)
		}
		if o > 0 {
			g += 2 * o * math.Log(o/e)
		}
	}
	return distuv.ChiSquared{K: 1}.Survival(g)
}

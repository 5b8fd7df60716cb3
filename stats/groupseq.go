package stats

import (
	"fmt"
	"math"
)

// GroupSequentialBounds returns, for a group-sequential design analysed at
// the cumulative sample sizes looks (both arms pooled, increasing), the
// nominal two-sided significance level at each look: a comparison at look k
// is significant when its fixed-horizon two-sided p-value is below
// nominal[k] (equivalently, its 1 − nominal[k] interval excludes 0). The
// levels spend α by the power family
//
//	α(t) = α·t^ρ,   t_k = n_k / max(planned, n_K)
//
// (ρ = 2 is Spotify confidence's default; Kim & DeMets 1987), so that the
// probability of ever rejecting a true null over all looks is α. Information
// fractions are rescaled by the largest observed n once the sample overruns
// the plan. The bounds c_k solve
//
//	P(|Z_k| ≥ c_k, |Z_j| < c_j for j < k) = α(t_k) − α(t_{k−1})
//
// for the Brownian motion of the cumulative z-statistics, computed by the
// recursive numerical integration of Armitage, McPherson and Rowe (1969)
// (Jennison & Turnbull 2000, ch. 19) on a grid of 2,001 points per look;
// nominal[k] = 2(1 − Φ(c_k)).
//
// This complements the confidence sequences of Options.Sequential, which
// need no plan and allow any number of looks; group-sequential bounds are
// tighter when the looks are few and planned.
func GroupSequentialBounds(looks []float64, planned, alpha, rho float64) ([]float64, error) {
	if len(looks) == 0 {
		return nil, fmt.Errorf("group-sequential bounds: no looks")
	}
	if !(alpha > 0 && alpha < 1) || !(rho > 0) {
		return nil, fmt.Errorf("group-sequential bounds: alpha %v must be in (0, 1) and rho %v positive", alpha, rho)
	}
	maxN := math.Max(planned, looks[len(looks)-1])
	prev := 0.0
	for i, n := range looks {
		if !(n > prev) {
			return nil, fmt.Errorf("group-sequential bounds: look %d at n = %v is not after the previous look (%v)", i+1, n, prev)
		}
		prev = n
	}
	const grid = 2001
	nominal := make([]float64, len(looks))
	// f holds the sub-density of S_k (the score, Var = information t_k) on
	// the continuation region, on a uniform grid s[0..grid-1].
	var s, f []float64
	spentBefore, tPrev := 0.0, 0.0
	for k, n := range looks {
		t := n / maxN
		spend := alpha*math.Pow(t, rho) - spentBefore
		spentBefore += spend
		if spend <= 0 {
			nominal[k] = 0
			continue
		}
		var c float64
		if f == nil {
			// First look: Z_1 ~ N(0, 1).
			c = normalQuantileUpper(spend / 2)
		} else {
			dt := t - tPrev
			cross := func(c float64) float64 {
				b := c * math.Sqrt(t)
				g := make([]float64, len(s))
				for i, u := range s {
					g[i] = f[i] * (normalCDF((-b-u)/math.Sqrt(dt)) + normalSurvival((b-u)/math.Sqrt(dt)))
				}
				return simpson(g, s[1]-s[0])
			}
			lo, hi := 0.0, 40.0
			for range 60 {
				mid := (lo + hi) / 2
				if cross(mid) > spend {
					lo = mid
				} else {
					hi = mid
				}
			}
			c = (lo + hi) / 2
		}
		nominal[k] = 2 * normalSurvival(c)
		// Propagate the density to this look, restricted to |S| < c√t.
		b := c * math.Sqrt(t)
		ns := make([]float64, grid)
		nf := make([]float64, grid)
		h := 2 * b / float64(grid-1)
		for i := range ns {
			ns[i] = -b + float64(i)*h
		}
		if f == nil {
			for i, x := range ns {
				nf[i] = math.Exp(-x*x/(2*t)) / math.Sqrt(2*math.Pi*t)
			}
		} else {
			dt := t - tPrev
			sd := math.Sqrt(dt)
			g := make([]float64, len(s))
			for i, x := range ns {
				for j, u := range s {
					z := (x - u) / sd
					g[j] = f[j] * math.Exp(-z*z/2) / (sd * math.Sqrt(2*math.Pi))
				}
				nf[i] = simpson(g, s[1]-s[0])
			}
		}
		s, f, tPrev = ns, nf, t
	}
	return nominal, nil
}

// normalQuantileUpper is the z with 1 − Φ(z) = p.
func normalQuantileUpper(p float64) float64 {
	lo, hi := -40.0, 40.0
	for range 100 {
		mid := (lo + hi) / 2
		if normalSurvival(mid) > p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// simpson integrates equally spaced samples (odd count) by Simpson's rule.
func simpson(y []float64, h float64) float64 {
	n := len(y)
	if n < 3 {
		if n == 2 {
			return h * (y[0] + y[1]) / 2
		}
		return 0
	}
	sum := y[0] + y[n-1]
	for i := 1; i < n-1; i++ {
		if i%2 == 1 {
			sum += 4 * y[i]
		} else {
			sum += 2 * y[i]
		}
	}
	return sum * h / 3
}

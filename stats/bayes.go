package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Posterior is the Gaussian posterior of an effect whose estimate est has
// standard error se (likelihood N(est, se²)), under the prior N(μ₀, σ₀²)
// when prior.Proper, else a flat prior:
//
//	precision = 1/se² + 1/σ₀²,   mean = (est/se² + μ₀/σ₀²)/precision,   sd = 1/√precision
//	CrI = mean ± Φ⁻¹(1 − α/2)·sd
//	chance to win = Φ(mean/sd)
//	risk = [E max(L, 0), E max(−L, 0)],   E max(L, 0) = mean·Φ(mean/sd) + sd·φ(mean/sd)
//
// Risk[0] is the expected loss of keeping control (the lift forgone), Risk[1]
// that of shipping treatment. signalab applies it to the relative effect.
// With se ≤ 0 the posterior is the prior (or zero with a flat prior).
//
// Reference: GrowthBook gbstats bayesian/tests.py (EffectBayesianABTest);
// Gelman et al., Bayesian Data Analysis, 3rd ed., §2.5 (normal with known
// variance).
func Posterior(est, se float64, prior Bayesian, alpha float64) BayesianResult {
	if alpha <= 0 || alpha >= 1 {
		alpha = 0.05
	}
	prec, num := 0.0, 0.0
	if se > 0 {
		prec = 1 / (se * se)
		num = est * prec
	}
	if prior.Proper && prior.PriorVariance > 0 {
		prec += 1 / prior.PriorVariance
		num += prior.PriorMean / prior.PriorVariance
	}
	if prec == 0 {
		return BayesianResult{ChanceToWin: 0.5}
	}
	mean := num / prec
	sd := 1 / math.Sqrt(prec)
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	u := mean / sd
	gain := mean*normalCDF(u) + sd*distuv.UnitNormal.Prob(u)
	return BayesianResult{
		Mean:        mean,
		SD:          sd,
		CrI:         Interval{mean - z*sd, mean + z*sd},
		ChanceToWin: normalCDF(u),
		Risk:        [2]float64{gain, gain - mean},
	}
}

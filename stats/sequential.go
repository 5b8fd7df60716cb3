package stats

import "math"

// DefaultTuningN is the default N* of confidence sequences (GrowthBook's default).
const DefaultTuningN = 5000

// SequentialRho is the mixing parameter of the normal-mixture confidence
// sequence tuned to be tightest at total sample size N*:
//
//	ρ = sqrt((−2 ln a + ln(1 − 2 ln a)) / N*),   a = α (two-sided) or 2α (one-sided)
//
// Reference: Waudby-Smith, Arnold, Wu, Howard, Ramdas (2023), "Time-uniform
// central limit theory and asymptotic confidence sequences", eq. 161;
// GrowthBook gbstats sequentialRho.
func SequentialRho(alpha, tuningN float64, twoSided bool) float64 {
	a := alpha
	if !twoSided {
		a = 2 * alpha
	}
	l := math.Log(a)
	return math.Sqrt((-2*l + math.Log(1-2*l)) / tuningN)
}

// SequentialHalfwidth is the half-width of the two-sided asymptotic
// confidence sequence for an estimate with standard error se after n units
// in total (both arms):
//
//	s² = se²·n,   h = s·sqrt( 2(nρ² + 1)/(nρ)² · ln(√(nρ² + 1)/α) )
//
// and of the one-sided sequence (ρ from 2α):
//
//	h = s·sqrt( 2(nρ² + 1)/(nρ)² · ln(1 + √(nρ² + 1)/(2α)) )
//
// Reference: Waudby-Smith et al. (2023) eq. 9; Howard, Ramdas, McAuliffe,
// Sekhon (2021), "Time-uniform, nonparametric, nonasymptotic confidence
// sequences", Ann. Statist.; GrowthBook gbstats
// sequential_interval_halfwidth(_one_sided).
func SequentialHalfwidth(se, n, tuningN, alpha float64, twoSided bool) float64 {
	rho := SequentialRho(alpha, tuningN, twoSided)
	return sequentialHalfwidthRho(se, n, rho, alpha, twoSided)
}

func sequentialHalfwidthRho(se, n, rho, alpha float64, twoSided bool) float64 {
	nr2 := n*rho*rho + 1
	f := 2 * nr2 / (n * rho * n * rho)
	if twoSided {
		return se * math.Sqrt(n*f*math.Log(math.Sqrt(nr2)/alpha))
	}
	return se * math.Sqrt(n*f*math.Log(1+math.Sqrt(nr2)/(2*alpha)))
}

// sequentialPValue is the always-valid p-value of the estimate est (minus its
// null value) with standard error se at total size n.
//
// Two-sided: p = min(1, 1/E) with the mixture e-value
//
//	E = exp(ρ²·n·est²/se² / (2(nρ² + 1))) / √(nρ² + 1)
//
// (Waudby-Smith et al. 2023, eq. 155), so that p < α exactly when the
// sequence excludes the null. One-sided: the α at which the one-sided
// sequence's bound touches the null, solved in closed form with ρ held fixed
//
//	α = √(nρ² + 1) / (2(exp(est²/(se²·n·2(nρ²+1)/(nρ)²)) − 1)),
//
// clamped to [0, 0.4999] as GrowthBook does (its bisection range; the
// one-sided sequence is defined for α < 0.5), and 1 when the estimate lies
// on the wrong side of the null.
func sequentialPValue(est, se, n, rho float64, alt Alternative) float64 {
	nr2 := n*rho*rho + 1
	if alt == TwoSided {
		st2 := est * est * n / (se * se)
		logE := rho*rho*st2/(2*nr2) - 0.5*math.Log(nr2)
		return clamp01(math.Exp(-logE))
	}
	if (alt == Greater && est <= 0) || (alt == Less && est >= 0) {
		return 1
	}
	f := 2 * nr2 / (n * rho * n * rho)
	k := est * est / (se * se * n * f)
	a := math.Sqrt(nr2) / (2 * math.Expm1(k))
	return math.Min(math.Max(a, 0), 0.4999)
}

// applySequential replaces the fixed-horizon intervals and p-values of res
// with those of the asymptotic confidence sequence.
func applySequential(res *Result, e effect, opts Options) {
	alpha := opts.alpha()
	nStar := opts.Sequential.TuningN
	if nStar <= 0 {
		nStar = DefaultTuningN
	}
	two := opts.Alternative == TwoSided
	rho := SequentialRho(alpha, nStar, two)
	n := e.nA + e.nB
	abs0, rel0 := marginNull(e, opts)
	seqCI := func(est, se float64) Interval {
		h := sequentialHalfwidthRho(se, n, rho, alpha, two)
		switch opts.Alternative {
		case Greater:
			return Interval{est - h, math.Inf(1)}
		case Less:
			return Interval{math.Inf(-1), est + h}
		}
		return Interval{est - h, est + h}
	}
	res.Sequential = true
	res.DF = 0
	res.AbsCI = seqCI(res.AbsEffect, res.AbsSE)
	res.PValue = sequentialPValue(res.AbsEffect-abs0, res.AbsSE, n, rho, opts.Alternative)
	res.Significant = res.PValue < alpha
	if res.RelSE > 0 {
		res.RelCI = seqCI(res.RelEffect, res.RelSE)
		if opts.RelativeCI == FiellerCI {
			// Fieller's set with the sequence's multiplier, so the relative
			// interval excludes 0 exactly when the sequential test rejects.
			q := sequentialHalfwidthRho(1, n, rho, alpha, two)
			if iv, ok := fiellerInterval(e, res.AbsSE*res.AbsSE, q, opts.Alternative); ok {
				res.RelCI = iv
			}
		}
		res.RelPValue = sequentialPValue(res.RelEffect-rel0, res.RelSE, n, rho, opts.Alternative)
	}
}

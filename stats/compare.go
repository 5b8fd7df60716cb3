package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// effect is the internal form every comparison reduces to before intervals
// and p-values: the absolute and relative point estimates with their
// variances, and the per-arm variance components for Welch–Satterthwaite.
type effect struct {
	nA, nB    float64
	muA, muB  float64 // reported (unadjusted) arm means
	abs       float64
	absVar    float64 // Var(abs) = sA + sB
	sA, sB    float64 // per-arm contributions vA/nA, vB/nB to absVar
	rel       float64
	relVar    float64
	pooledVar float64 // per-unit pooled variance, for StudentPooled
	// proportion marks a proportion metric; pooledBernoulli is p̄(1 − p̄) of
	// both arms merged, for PooledProportionSE.
	proportion      bool
	pooledBernoulli float64
	baseForRel      float64 // denominator of the relative effect (|μ_A| unadjusted)
	// baseVar is Var(μ̂_A) of the unadjusted control mean and covBase
	// Cov(Δ̂, μ̂_A), for Fieller's interval of L = Δ/|μ_A| (−baseVar for two
	// independent arms without adjustment).
	baseVar, covBase float64
	// logVar is Var(log μ_B − log μ_A) = sB/μ_B² + sA/μ_A², for LogCI,
	// around logRatio = log(μ_B/μ_A) (adjusted means under CUPED).
	logVar      float64
	logRatio    float64
	hasLogRatio bool
	adjA, adjB  float64 // CUPED-adjusted arm means for LogCI (0: unadjusted)
	// df, when positive, replaces the Welch–Satterthwaite degrees of
	// freedom (the Bell–McCaffrey df of a CR2 cluster comparison).
	df float64
}

func (o Options) alpha() float64 {
	if o.Alpha <= 0 || o.Alpha >= 1 {
		return 0.05
	}
	return o.Alpha
}

// armMoments returns n, mean and per-unit variance of one arm. Mean metrics
// use the unbiased sample variance (divisor n − 1); proportions use p(1 − p).
func armMoments(m Moments, kind MetricKind) (n, mean, v float64) {
	n = m.N
	if n <= 0 {
		return 0, 0, 0
	}
	mean = m.Sum / n
	switch kind {
	case Proportion:
		v = mean * (1 - mean)
	default:
		if n > 1 {
			v = (m.SumSq - m.Sum*m.Sum/n) / (n - 1)
		}
	}
	if v < 0 { // rounding of Σy² − (Σy)²/n
		v = 0
	}
	return n, mean, v
}

// SE is the standard error of one arm's mean, √(v/n) with v the per-unit
// variance of CompareMeans: the sample variance (divisor n − 1) for a Mean,
// μ(1 − μ) for a Proportion. It is NaN for an empty arm, and for a Mean with
// fewer than 2 units.
func (m Moments) SE(kind MetricKind) float64 {
	n, _, v := armMoments(m, kind)
	if n <= 0 || (kind != Proportion && n < 2) {
		return math.NaN()
	}
	return math.Sqrt(v / n)
}

// CompareMeans compares a treatment arm with control for a mean or proportion
// metric from per-arm sufficient statistics.
//
//	μ = Σy/n,   v = (Σy² − (Σy)²/n)/(n − 1)  (Mean)   or   v = μ(1 − μ)  (Proportion)
//	Δ = μ_B − μ_A,            Var(Δ) = v_A/n_A + v_B/n_B
//	L = Δ/|μ_A|,              Var(L) = v_B/(n_B μ_A²) + μ_B² v_A/(n_A μ_A⁴)   (delta method)
//	df = Var(Δ)² / ((v_A/n_A)²/(n_A − 1) + (v_B/n_B)²/(n_B − 1))            (Welch–Satterthwaite)
//
// The interval is estimate ± q·SE with q the t(df) (Welch), normal (Z) or
// t(n_A + n_B − 2) with pooled variance (StudentPooled) quantile, at 1 − α/2
// (two-sided) or 1 − α (one-sided). The relative interval is delta-method by
// default, Fieller or log-scale by option. Sequential, Bayesian,
// non-inferiority and continuity options apply as documented on Options.
//
// Degenerate cases return PValue 1 and a Reason: an empty arm, n < 2 for a
// mean, zero variance in both arms (for proportions: no or all conversions in
// both), a zero control mean (relative effect undefined; absolute kept).
//
// References: Welch (1947), Biometrika 34; GrowthBook gbstats
// frequentist/tests.py; Deng, Knoblich, Lu (2018) KDD for the delta method.
func CompareMeans(control, treatment Moments, kind MetricKind, opts Options) Result {
	if !control.finite() || !treatment.finite() {
		return undefined(Result{}, "non-finite input (NaN or Inf in the moments)")
	}
	nA, muA, vA := armMoments(control, kind)
	nB, muB, vB := armMoments(treatment, kind)
	if opts.PopulationVariance && kind == Mean && nA > 0 && nB > 0 {
		vA, vB = vA*(nA-1)/nA, vB*(nB-1)/nB
	}
	res := Result{ControlN: control.N, TreatmentN: treatment.N, ControlMean: muA, TreatmentMean: muB}
	if reason := checkArms(nA, nB, kind == Proportion); reason != "" {
		return undefined(res, reason)
	}
	e := meanEffect(nA, muA, vA, nB, muB, vB)
	if kind == Proportion {
		p := (control.Sum + treatment.Sum) / (nA + nB)
		e.proportion, e.pooledBernoulli = true, p*(1-p)
	}
	return finish(res, e, opts)
}

func checkArms(nA, nB float64, proportion bool) string {
	switch {
	case !finite(nA) || !finite(nB):
		return "non-finite unit count"
	case nA <= 0 && nB <= 0:
		return "both arms are empty"
	case nA <= 0:
		return "control arm is empty"
	case nB <= 0:
		return "treatment arm is empty"
	case !proportion && (nA < 2 || nB < 2):
		return "fewer than 2 units in an arm"
	}
	return ""
}

// meanEffect builds the effect of two independent arm means with per-unit
// variances vA, vB.
func meanEffect(nA, muA, vA, nB, muB, vB float64) effect {
	e := effect{nA: nA, nB: nB, muA: muA, muB: muB, sA: vA / nA, sB: vB / nB}
	e.baseVar, e.covBase = e.sA, -e.sA
	e.abs = muB - muA
	e.absVar = e.sA + e.sB
	e.baseForRel = math.Abs(muA)
	if muA != 0 {
		e.rel = e.abs / e.baseForRel
		e.relVar = e.sB/(muA*muA) + muB*muB*e.sA/(muA*muA*muA*muA)
		if muB != 0 {
			e.logVar = e.sB/(muB*muB) + e.sA/(muA*muA)
			e.hasLogRatio = muB/muA > 0
			if e.hasLogRatio {
				e.logRatio = math.Log(muB / muA)
			}
		}
	}
	if nA+nB > 2 {
		e.pooledVar = ((nA-1)*vA + (nB-1)*vB) / (nA + nB - 2)
	}
	return e
}

func undefined(res Result, reason string) Result {
	res.PValue, res.RelPValue = 1, 1
	res.Significant = false
	res.Reason = reason
	zeroNonFinite(&res)
	return res
}

// zeroNonFinite replaces NaN and ±Inf in the scalar fields of res by 0 (so a
// Result is always JSON-safe) and reports whether it had to.
func zeroNonFinite(res *Result) bool {
	bad := false
	for _, p := range []*float64{&res.ControlN, &res.TreatmentN, &res.ControlMean, &res.TreatmentMean,
		&res.AbsEffect, &res.AbsSE, &res.PValue, &res.Statistic, &res.DF, &res.RelEffect, &res.RelSE,
		&res.RelPValue, &res.Theta, &res.VarianceReduction} {
		if !finite(*p) {
			*p, bad = 0, true
		}
	}
	for _, iv := range []*Interval{&res.AbsCI, &res.RelCI} {
		if math.IsNaN(iv[0]) || math.IsNaN(iv[1]) {
			*iv, bad = Interval{}, true
		}
	}
	if b := res.Bayesian; b != nil && !allFinite(b.Mean, b.SD, b.CrI[0], b.CrI[1], b.ChanceToWin, b.Risk[0], b.Risk[1]) {
		res.Bayesian, bad = nil, true
	}
	return bad
}

// overflowed turns a Result whose computation overflowed (inputs near the
// float64 range) into an undefined one.
func overflowed(res Result) Result {
	probe := res
	if zeroNonFinite(&probe) {
		return undefined(res, "numeric overflow: the moments are too large to compare in float64")
	}
	return res
}

// welchDF is the Welch–Satterthwaite degrees of freedom of sA + sB, where
// sX = v_X/n_X. It is +Inf when both components are zero.
func welchDF(sA, sB, nA, nB float64) float64 {
	den := 0.0
	if nA > 1 {
		den += sA * sA / (nA - 1)
	}
	if nB > 1 {
		den += sB * sB / (nB - 1)
	}
	if den == 0 {
		return math.Inf(1)
	}
	return (sA + sB) * (sA + sB) / den
}

// reference is the distribution of the standardized statistic: Student's t
// with df degrees of freedom, or the standard normal when df ≤ 0 or +Inf.
// It remembers its last quantile, which an analysis asks for twice (absolute
// and relative interval).
type reference struct {
	df           float64
	memoP, memoQ float64
}

func (r *reference) quantile(p float64) float64 {
	if p == r.memoP && r.memoQ != 0 {
		return r.memoQ
	}
	var q float64
	if r.df <= 0 || math.IsInf(r.df, 1) {
		q = distuv.UnitNormal.Quantile(p)
	} else {
		q = studentTQuantile(p, r.df)
	}
	r.memoP, r.memoQ = p, q
	return q
}

func (r *reference) cdf(x float64) float64 {
	if r.df <= 0 || math.IsInf(r.df, 1) {
		return normalCDF(x)
	}
	return studentTSurvival(-x, r.df)
}

func (r *reference) survival(x float64) float64 {
	if r.df <= 0 || math.IsInf(r.df, 1) {
		return normalSurvival(x)
	}
	return studentTSurvival(x, r.df)
}

// pValue of statistic z under alt.
func (r *reference) pValue(z float64, alt Alternative) float64 {
	var p float64
	switch alt {
	case Greater:
		p = r.survival(z)
	case Less:
		p = r.cdf(z)
	default:
		p = 2 * r.survival(math.Abs(z))
	}
	return clamp01(p)
}

// interval around est with standard error se.
func (r *reference) interval(est, se, alpha float64, alt Alternative) Interval {
	switch alt {
	case Greater:
		return Interval{est - r.quantile(1-alpha)*se, math.Inf(1)}
	case Less:
		return Interval{math.Inf(-1), est + r.quantile(1-alpha)*se}
	default:
		q := r.quantile(1 - alpha/2)
		return Interval{est - q*se, est + q*se}
	}
}

func clamp01(p float64) float64 {
	if p < 0 || math.IsNaN(p) {
		return 0
	}
	if p > 1 {
		return 1
	}
	return p
}

// marginNull returns the null values of the absolute and relative effect for
// a non-inferiority margin m: −m·|μ_A| (Greater) or +m·|μ_A| (Less).
func marginNull(e effect, opts Options) (abs0, rel0 float64) {
	m := opts.NonInferiorityMargin
	if m == 0 {
		return 0, 0
	}
	switch opts.Alternative {
	case Greater:
		return -m * e.baseForRel, -m
	case Less:
		return m * e.baseForRel, m
	}
	return 0, 0
}

// finish turns an effect into a Result: reference distribution, intervals,
// p-values, then the sequential and Bayesian layers; a computation that
// overflowed becomes an undefined Result.
func finish(res Result, e effect, opts Options) Result {
	return overflowed(finishRaw(res, e, opts))
}

func finishRaw(res Result, e effect, opts Options) Result {
	alpha := opts.alpha()
	ref := reference{}
	absVar := e.absVar
	switch opts.Test {
	case Welch:
		ref.df = welchDF(e.sA, e.sB, e.nA, e.nB)
		if e.df > 0 {
			ref.df = e.df
		}
	case StudentPooled:
		ref.df = e.nA + e.nB - 2
		absVar = e.pooledVar * (1/e.nA + 1/e.nB)
	}
	if absVar <= 0 || math.IsNaN(absVar) {
		res.AbsEffect = e.abs
		res.RelEffect = e.rel
		return undefined(res, "zero variance in both arms")
	}
	if !math.IsInf(ref.df, 1) {
		res.DF = ref.df
	}
	res.AbsEffect = e.abs
	res.AbsSE = math.Sqrt(absVar)
	abs0, rel0 := marginNull(e, opts)
	pvSE := res.AbsSE
	pooledZ := e.proportion && opts.PooledProportionSE && opts.Test == Z && e.pooledBernoulli > 0
	if pooledZ {
		pvSE = math.Sqrt(e.pooledBernoulli * (1/e.nA + 1/e.nB))
	}
	diff := e.abs - abs0
	cc := 0.0
	if opts.ContinuityCorrection && e.proportion {
		cc = 0.5 * (1/e.nA + 1/e.nB)
		diff = math.Copysign(math.Max(math.Abs(diff)-cc, 0), diff)
	}
	res.Statistic = diff / pvSE
	res.PValue = ref.pValue(res.Statistic, opts.Alternative)
	ciSE := res.AbsSE
	if opts.PooledProportionCI && pooledZ {
		ciSE = pvSE
	}
	res.AbsCI = ref.interval(e.abs, ciSE, alpha, opts.Alternative)
	if cc > 0 {
		res.AbsCI = widen(res.AbsCI, cc)
	}
	res.Significant = res.PValue < alpha

	if e.muA == 0 || e.relVar <= 0 {
		res.RelPValue = 1
		res.RelReason = reasonZeroControl
		if e.muA != 0 {
			res.RelReason = "zero variance of the relative effect"
		}
	} else {
		res.RelEffect = e.rel
		res.RelSE = math.Sqrt(e.relVar)
		res.RelPValue = ref.pValue((e.rel-rel0)/res.RelSE, opts.Alternative)
		res.RelCI = relativeInterval(e, absVar, &ref, alpha, opts)
		if cc > 0 {
			res.RelCI = widen(res.RelCI, cc/e.baseForRel)
		}
	}
	if opts.Sequential.Enabled {
		applySequential(&res, e, opts)
	}
	if opts.Bayesian.Enabled && res.RelSE > 0 {
		b := Posterior(res.RelEffect, res.RelSE, opts.Bayesian, alpha)
		res.Bayesian = &b
	}
	return res
}

// reasonZeroControl is the RelReason of a comparison whose control mean is
// zero: the absolute effect and its p-value stand, the relative effect is
// undefined.
const reasonZeroControl = "control mean is zero: relative effect undefined"

func widen(iv Interval, w float64) Interval { return Interval{iv[0] - w, iv[1] + w} }

// relativeInterval forms the interval of L = Δ/|μ_A| by the method opts
// selects (delta, Fieller, log); absVar is the variance of Δ̂ the absolute
// test uses. Fieller's set may be unbounded (see fiellerInterval); it falls
// back to the delta-method interval only when its quadratic is degenerate.
func relativeInterval(e effect, absVar float64, ref *reference, alpha float64, opts Options) Interval {
	se := math.Sqrt(e.relVar)
	switch opts.RelativeCI {
	case FiellerCI:
		q := ref.quantile(1 - alpha/2)
		if opts.Alternative != TwoSided {
			q = ref.quantile(1 - alpha)
		}
		if iv, ok := fiellerInterval(e, absVar, q, opts.Alternative); ok {
			return iv
		}
	case LogCI:
		if e.hasLogRatio && e.logVar > 0 {
			// The log-scale SE has its own Welch–Satterthwaite df (or, with
			// pooled variance, the pooled per-unit variance scaled by each
			// arm's mean), as in tea-tasting.
			lref, lv := &reference{df: ref.df}, e.logVar
			if ref.df > 0 && !math.IsInf(ref.df, 1) {
				lA, lB := e.sA/(e.muA*e.muA), e.sB/(e.muB*e.muB)
				if e.adjA != 0 && e.adjB != 0 {
					lA, lB = e.sA/(e.adjA*e.adjA), e.sB/(e.adjB*e.adjB)
				}
				switch opts.Test {
				case Welch:
					lref.df = welchDF(lA, lB, e.nA, e.nB)
					if e.df > 0 {
						lref.df = e.df
					}
				case StudentPooled:
					// Pool the per-unit log-scale variances v/μ².
					uA, uB := lA*e.nA, lB*e.nB
					pv := ((e.nA-1)*uA + (e.nB-1)*uB) / (e.nA + e.nB - 2)
					lv = pv * (1/e.nA + 1/e.nB)
				}
			}
			// With μ_A < 0, L = Δ/|μ_A| = −(ρ − 1): the interval of ρ − 1
			// is formed for the mirrored alternative, then negated.
			alt := opts.Alternative
			if e.muA < 0 {
				alt = mirror(alt)
			}
			iv := lref.interval(e.logRatio, math.Sqrt(lv), alpha, alt)
			lo, hi := math.Expm1(iv[0]), math.Expm1(iv[1])
			if e.muA < 0 {
				lo, hi = -hi, -lo
			}
			// The open side of a one-sided interval is infinite, as for the
			// other methods (tea-tasting reports it so too).
			switch opts.Alternative {
			case Greater:
				hi = math.Inf(1)
			case Less:
				lo = math.Inf(-1)
			}
			return Interval{lo, hi}
		}
	}
	return ref.interval(e.rel, se, alpha, opts.Alternative)
}

// fiellerInterval is Fieller's (1954) interval for the relative effect
// L = Δ/b, b = |μ_A|, obtained by inverting the test of the absolute
// effect: the set of L for which Δ̂ − L·b̂ is not significantly different
// from zero,
//
//	f(L) = (Δ̂ − L·b̂)² − q²·(V − 2L·c + L²·s) ≤ 0,
//
// with V = Var(Δ̂) (the variance the absolute test uses), s = Var(μ̂_A),
// c = sign(μ_A)·Cov(Δ̂, μ̂_A) and q the critical value of the test. At
// L = 0 the inequality is the absolute test itself, so the interval
// excludes 0 exactly when the absolute test rejects, whatever V is (CUPED,
// clustered or pooled). For two independent unadjusted arms c = −s and the
// set is the classical {ρ = 1 + L : (μ̂_B − ρμ̂_A)² ≤ q²(s_B + ρ²s_A)}:
//
//	ρ = (ab ± q·sqrt(a²s_B + b²s_A − q²s_As_B)) / (a² − q²s_A).
//
// The set is bounded when b̂² > q²s (the control mean itself is
// significantly different from zero). Otherwise it is the whole line or
// two rays, and the interval returned is the whole line, or the ray that
// holds the estimate when that ray does not also hold 0 while the other
// does (so it still contains 0 exactly when the test does not reject);
// its open end is infinite. ok is false only for a degenerate quadratic
// (inconsistent variances), where the caller falls back to the delta
// method.
//
// References: Fieller (1954), JRSS B 16; Hirschberg & Lye (2010), "A
// geometric comparison of the delta and Fieller confidence intervals", The
// American Statistician 64(3); Franz (2007), "Ratios: a short guide to
// confidence limits and proper use", arXiv:0710.2024.
func fiellerInterval(e effect, absVar, q float64, alt Alternative) (Interval, bool) {
	b := e.baseForRel
	s := e.baseVar
	c := e.covBase
	if e.muA < 0 {
		c = -c
	}
	d := e.abs
	q2 := q * q
	a2 := b*b - q2*s
	h := d*b - q2*c // f(L) = a2·L² − 2h·L + a0
	a0 := d*d - q2*absVar
	disc := h*h - a2*a0
	all := Interval{math.Inf(-1), math.Inf(1)}
	var iv Interval
	switch {
	case a2 > 0:
		if disc < 0 {
			return Interval{}, false
		}
		r := math.Sqrt(disc)
		iv = Interval{(h - r) / a2, (h + r) / a2}
	case a2 < 0 && disc > 0:
		// f ≤ 0 outside the roots: two rays.
		r := math.Sqrt(disc)
		lo, hi := (h+r)/a2, (h-r)/a2
		est := e.rel
		zeroIn := a0 <= 0
		left := est <= lo
		zeroLeft := 0 <= lo
		switch {
		case !zeroIn && left:
			iv = Interval{math.Inf(-1), lo}
		case !zeroIn:
			iv = Interval{hi, math.Inf(1)}
		case left && zeroLeft:
			iv = Interval{math.Inf(-1), lo}
		case !left && !zeroLeft:
			iv = Interval{hi, math.Inf(1)}
		default:
			iv = all
		}
	case a2 < 0:
		iv = all
	default:
		return Interval{}, false
	}
	switch alt {
	case Greater:
		return Interval{iv[0], math.Inf(1)}, true
	case Less:
		return Interval{math.Inf(-1), iv[1]}, true
	}
	return iv, true
}

func (m Moments) finite() bool { return finite(m.N) && finite(m.Sum) && finite(m.SumSq) }

func allFinite(xs ...float64) bool {
	for _, x := range xs {
		if !finite(x) {
			return false
		}
	}
	return true
}

// mirror swaps Greater and Less.
func mirror(a Alternative) Alternative {
	switch a {
	case Greater:
		return Less
	case Less:
		return Greater
	}
	return a
}

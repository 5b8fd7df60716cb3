package stats

import (
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// QuantileStat summarises one arm for a quantile metric: the sample quantile
// at level Q of N observations and its (1 − 0.05) distribution-free interval
// [Lower, Upper], computed on NStar observations (NStar = N unless the
// interval came from a subsample). QuantileCI produces it from raw data; a
// warehouse can produce it in SQL.
type QuantileStat struct {
	N        float64 `json:"n"`
	NStar    float64 `json:"n_star"`
	Q        float64 `json:"q"`
	Estimate float64 `json:"estimate"`
	Lower    float64 `json:"lower"`
	Upper    float64 `json:"upper"`
}

// quantileZ is the normal quantile of the 95% per-arm quantile intervals that
// QuantileStat carries (GrowthBook's convention).
var quantileZ = distuv.UnitNormal.Quantile(0.975)

// QuantileCI returns the sample quantile of sorted (ascending) data at level
// q and its distribution-free "outer" 1 − α interval from binomial order
// statistics (normal approximation to the binomial count below the quantile):
//
//	estimate = x_(⌈nq⌉)                           (1-based order statistic)
//	l = ⌊nq − z·√(nq(1 − q))⌋,   u = ⌈nq + z·√(nq(1 − q))⌉ + 1,   z = Φ⁻¹(1 − α/2)
//	interval = [x_(max(l,1)), x_(min(u,n))]
//
// Rounding outward keeps the coverage at or above 1 − α. sorted must be in
// ascending order; with no data the result is all zeros.
//
// Reference: Hahn, Meeker (1991), Statistical Intervals, §5.2; GrowthBook's
// quantile metrics (outer-interval method).
func QuantileCI(sorted []float64, q, alpha float64) QuantileStat {
	n := len(sorted)
	st := QuantileStat{N: float64(n), NStar: float64(n), Q: q}
	if n == 0 {
		return st
	}
	if alpha <= 0 || alpha >= 1 {
		alpha = 0.05
	}
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	nf := float64(n)
	at := func(rank int) float64 { return sorted[min(max(rank, 1), n)-1] }
	st.Estimate = at(int(math.Ceil(nf * q)))
	h := z * math.Sqrt(nf*q*(1-q))
	st.Lower = at(int(math.Floor(nf*q - h)))
	st.Upper = at(int(math.Ceil(nf*q+h)) + 1)
	return st
}

// quantileVariance is the per-unit variance implied by an arm's 95% quantile
// interval:
//
//	v = (n*/n)·(n − 1)·((upper − lower)/(2·1.959964))²
//
// so that Var(q̂) ≈ v/n. Reference: GrowthBook gbstats QuantileStatistic.
func quantileVariance(s QuantileStat) float64 {
	if s.N <= 1 {
		return 0
	}
	nStar := s.NStar
	if nStar <= 0 {
		nStar = s.N
	}
	w := (s.Upper - s.Lower) / (2 * quantileZ)
	return nStar / s.N * (s.N - 1) * w * w
}

// CompareQuantiles compares a quantile metric (for example the median first
// merchant reply time) between arms from each arm's quantile and interval
// (QuantileStat): the per-unit variance comes from quantileVariance and the
// comparison then proceeds as CompareMeans with (n, q̂, v). Use Test Z for the
// usual large-sample normal reference.
//
// Degenerate cases: an empty arm, n < 2, or too few observations for the
// quantile to have a two-sided interval (n ≤ z²·q/(1 − q) or
// n ≤ z²·(1 − q)/q), reported with a Reason.
//
// Reference: GrowthBook gbstats QuantileStatistic; Hahn, Meeker (1991).
func CompareQuantiles(control, treatment QuantileStat, opts Options) Result {
	if !allFinite(control.N, control.NStar, control.Q, control.Estimate, control.Lower, control.Upper,
		treatment.N, treatment.NStar, treatment.Q, treatment.Estimate, treatment.Lower, treatment.Upper) {
		return undefined(Result{}, "non-finite input (NaN or Inf in the quantile summaries)")
	}
	res := Result{ControlN: control.N, TreatmentN: treatment.N, ControlMean: control.Estimate, TreatmentMean: treatment.Estimate}
	if reason := checkArms(control.N, treatment.N, false); reason != "" {
		return undefined(res, reason)
	}
	for _, s := range []QuantileStat{control, treatment} {
		z2 := quantileZ * quantileZ
		if s.Q <= 0 || s.Q >= 1 || s.N <= z2*s.Q/(1-s.Q) || s.N <= z2*(1-s.Q)/s.Q {
			return undefined(res, "too few units for a quantile interval at this level")
		}
	}
	e := meanEffect(control.N, control.Estimate, quantileVariance(control),
		treatment.N, treatment.Estimate, quantileVariance(treatment))
	return finish(res, e, opts)
}

// BootstrapQuantiles compares the q-quantile of two samples by the
// percentile bootstrap: B resamples of each arm with replacement (seeded, so
// reproducible), the difference and the relative difference of the sample
// quantiles (type 7, linear interpolation) in each, and intervals from the
// α/2 and 1 − α/2 percentiles of those (one-sided: α). The SEs are the
// bootstrap standard deviations; the p-values are the two-sided
// percentile-bootstrap p-values 2·min(P*(θ* ≤ 0), P*(θ* ≥ 0)) (one-sided:
// the matching tail). A zero control quantile leaves the relative effect
// undefined with a Reason. B ≤ 0 means 2000.
//
// Reference: Efron, Tibshirani (1993), An Introduction to the Bootstrap,
// ch. 13.
func BootstrapQuantiles(control, treatment []float64, q float64, b int, seed uint64, opts Options) Result {
	a := slices.Clone(control)
	t := slices.Clone(treatment)
	slices.Sort(a)
	slices.Sort(t)
	res := Result{ControlN: float64(len(a)), TreatmentN: float64(len(t))}
	if reason := checkArms(float64(len(a)), float64(len(t)), false); reason != "" {
		return undefined(res, reason)
	}
	if b <= 0 {
		b = 2000
	}
	res.ControlMean, res.TreatmentMean = Quantile7(a, q), Quantile7(t, q)
	res.AbsEffect = res.TreatmentMean - res.ControlMean
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	abs := make([]float64, b)
	rel := make([]float64, 0, b)
	ra, rt := make([]float64, len(a)), make([]float64, len(t))
	for i := range b {
		resample(rng, a, ra)
		resample(rng, t, rt)
		qa, qt := Quantile7(ra, q), Quantile7(rt, q)
		abs[i] = qt - qa
		if qa != 0 {
			rel = append(rel, (qt-qa)/math.Abs(qa))
		}
	}
	alpha := opts.alpha()
	res.AbsSE = sd(abs)
	res.AbsCI = percentileInterval(abs, alpha, opts.Alternative)
	res.PValue = bootstrapP(abs, opts.Alternative)
	res.Significant = res.PValue < alpha
	if res.ControlMean == 0 || len(rel) < b/2 {
		res.RelPValue = 1
		res.Reason = "control quantile is zero: relative effect undefined"
		return res
	}
	res.RelEffect = res.AbsEffect / math.Abs(res.ControlMean)
	res.RelSE = sd(rel)
	res.RelCI = percentileInterval(rel, alpha, opts.Alternative)
	res.RelPValue = bootstrapP(rel, opts.Alternative)
	return res
}

func resample(rng *rand.Rand, src, dst []float64) {
	for i := range dst {
		dst[i] = src[rng.IntN(len(src))]
	}
	slices.Sort(dst)
}

// Quantile7 is the q-quantile of sorted (ascending) x by linear
// interpolation between order statistics (Hyndman & Fan 1996 type 7, R's
// default, numpy "linear"):
//
//	h = (n − 1)·q,  Q = x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])   (0-based)
//
// q is clamped to [0, 1]. It returns NaN for an empty x.
//
// Reference: Hyndman, Fan (1996), "Sample Quantiles in Statistical
// Packages", The American Statistician 50(4).
func Quantile7(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * math.Min(math.Max(q, 0), 1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

func sd(x []float64) float64 {
	if len(x) < 2 {
		return 0
	}
	var m, s float64
	for _, v := range x {
		m += v
	}
	m /= float64(len(x))
	for _, v := range x {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(x)-1))
}

func percentileInterval(x []float64, alpha float64, alt Alternative) Interval {
	s := slices.Clone(x)
	slices.Sort(s)
	switch alt {
	case Greater:
		return Interval{Quantile7(s, alpha), math.Inf(1)}
	case Less:
		return Interval{math.Inf(-1), Quantile7(s, 1-alpha)}
	}
	return Interval{Quantile7(s, alpha/2), Quantile7(s, 1-alpha/2)}
}

func bootstrapP(x []float64, alt Alternative) float64 {
	var le, ge float64
	for _, v := range x {
		if v <= 0 {
			le++
		}
		if v >= 0 {
			ge++
		}
	}
	n := float64(len(x))
	switch alt {
	case Greater:
		return clamp01(le / n)
	case Less:
		return clamp01(ge / n)
	}
	return clamp01(2 * math.Min(le, ge) / n)
}

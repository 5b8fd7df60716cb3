package stats

import "math"

// ratioArm returns n, the ratio r = ΣM/ΣD and the per-unit delta-method
// variance of r for one arm:
//
//	μ_M = ΣM/n, μ_D = ΣD/n, s_MM, s_DD, s_MD sample (co)variances (divisor n − 1)
//	v = s_MM/μ_D² + s_DD·μ_M²/μ_D⁴ − 2·s_MD·μ_M/μ_D³
//
// so that Var(r̂) ≈ v/n. ok is false when ΣD = 0.
func ratioArm(r RatioMoments) (n, ratio, v float64, ok bool) {
	n = r.N
	if n <= 0 || r.SumD == 0 {
		return n, 0, 0, false
	}
	mM, mD := r.SumM/n, r.SumD/n
	ratio = r.SumM / r.SumD
	if n < 2 {
		return n, ratio, 0, true
	}
	sMM := covariance(n, r.SumM, r.SumM, r.SumM2)
	sDD := covariance(n, r.SumD, r.SumD, r.SumD2)
	sMD := covariance(n, r.SumM, r.SumD, r.SumMD)
	v = sMM/(mD*mD) + sDD*mM*mM/(mD*mD*mD*mD) - 2*sMD*mM/(mD*mD*mD)
	if v < 0 {
		v = 0
	}
	return n, ratio, v, true
}

// SE is the delta-method standard error of one arm's ratio ΣM/ΣD,
// √(v/n) with v the per-unit variance of CompareRatios (formula there). It
// is NaN when n < 2 or ΣD = 0.
//
// Reference: Deng, Knoblich, Lu (2018), KDD (see CompareRatios).
func (r RatioMoments) SE() float64 {
	n, _, v, ok := ratioArm(r)
	if !ok || n < 2 {
		return math.NaN()
	}
	return math.Sqrt(v / n)
}

// covariance is the sample covariance (Σab − ΣaΣb/n)/(n − 1).
func covariance(n, sumA, sumB, sumAB float64) float64 {
	if n < 2 {
		return 0
	}
	return (sumAB - sumA*sumB/n) / (n - 1)
}

// CompareRatios compares a ratio metric ΣM/ΣD between arms by the delta
// method. Each arm's ratio r = ΣM/ΣD has per-unit variance
//
//	v = s_MM/μ_D² + s_DD·μ_M²/μ_D⁴ − 2·s_MD·μ_M/μ_D³     (covariances with divisor n − 1)
//
// and then the comparison proceeds exactly as CompareMeans with (n, r, v).
//
// This is also the estimator for cluster randomization: when shops are
// randomized and conversations measured, pass one row per shop with M = the
// shop's conversions (or revenue) and D = its conversations. The variance
// then accounts for the within-shop correlation that a naive
// per-conversation test ignores.
//
// Degenerate cases: an empty arm, fewer than 2 units per arm, ΣD = 0 in an
// arm ("denominator sum is zero"), zero variance.
//
// Reference: Deng, Knoblich, Lu (2018), "Applying the Delta Method in Metric
// Analytics: A Practical Guide with Novel Ideas", KDD; GrowthBook gbstats
// RatioStatistic.
func CompareRatios(control, treatment RatioMoments, opts Options) Result {
	if !allFinite(control.N, control.SumM, control.SumM2, control.SumD, control.SumD2, control.SumMD,
		treatment.N, treatment.SumM, treatment.SumM2, treatment.SumD, treatment.SumD2, treatment.SumMD) {
		return undefined(Result{}, "non-finite input (NaN or Inf in the moments)")
	}
	nA, rA, vA, okA := ratioArm(control)
	nB, rB, vB, okB := ratioArm(treatment)
	res := Result{ControlN: control.N, TreatmentN: treatment.N, ControlMean: rA, TreatmentMean: rB}
	if reason := checkArms(nA, nB, false); reason != "" {
		return undefined(res, reason)
	}
	if !okA || !okB {
		return undefined(res, "denominator sum is zero in an arm")
	}
	return finish(res, meanEffect(nA, rA, vA, nB, rB, vB), opts)
}

// quad returns gᵀ·S·g for a symmetric matrix S.
func quad(g []float64, s [][]float64) float64 {
	var q float64
	for i := range g {
		for j := range g {
			q += g[i] * s[i][j] * g[j]
		}
	}
	return q
}

// bilinear returns aᵀ·S·b.
func bilinear(a []float64, s [][]float64, b []float64) float64 {
	var q float64
	for i := range a {
		for j := range b {
			q += a[i] * s[i][j] * b[j]
		}
	}
	return q
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

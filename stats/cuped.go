package stats

import "math"

// CUPEDTheta is the pooled regression-adjustment coefficient of outcome Y on
// covariate X over both arms:
//
//	θ = Ĉov(Y, X) / V̂ar(X)     on the pooled sample (divisor n − 1)
//
// It is 0 when the pooled covariate has no variance.
//
// Reference: Deng, Xu, Kohavi, Walker (2013), "Improving the Sensitivity of
// Online Controlled Experiments by Utilizing Pre-Experiment Data", WSDM;
// GrowthBook gbstats compute_theta.
func CUPEDTheta(control, treatment CovariateMoments) float64 {
	p := control.Add(treatment)
	vx := covariance(p.N, p.SumX, p.SumX, p.SumX2)
	if vx <= 0 {
		return 0
	}
	return covariance(p.N, p.SumY, p.SumX, p.SumXY) / vx
}

// CompareMeansCUPED compares a mean or proportion metric with regression
// adjustment on a pre-period covariate (CUPED) using a pooled θ:
//
//	θ = CUPEDTheta(control, treatment)
//	Δ = (ȳ_B − ȳ_A) − θ(x̄_B − x̄_A)
//	v_arm = v_y + θ²·s_xx − 2θ·s_xy                      (per unit; Var(Δ) = Σ v_arm/n_arm)
//	L = Δ/|ȳ_A|
//	Var(L) = v_B/(n_B ȳ_A²) + (v_y,A·ȳ_B²/ȳ_A² − 2θ·s_xy,A·ȳ_B/ȳ_A + θ²·s_xx,A)/(n_A ȳ_A²)
//
// v_y is the sample variance (Mean) or p(1 − p) (Proportion); s_xx and s_xy
// use divisor n − 1. The reported arm means stay unadjusted; Theta and
// VarianceReduction = 1 − Var(Δ_adjusted)/Var(Δ_unadjusted) are reported.
// With no covariate variance (θ = 0) the result equals CompareMeans.
//
// Reference: Deng et al. (2013) WSDM; GrowthBook gbstats
// frequentist_variance_relative_cuped (the relative variance above).
func CompareMeansCUPED(control, treatment CovariateMoments, kind MetricKind, opts Options) Result {
	if !allFinite(control.N, control.SumY, control.SumY2, control.SumX, control.SumX2, control.SumXY,
		treatment.N, treatment.SumY, treatment.SumY2, treatment.SumX, treatment.SumX2, treatment.SumXY) {
		return undefined(Result{}, "non-finite input (NaN or Inf in the moments)")
	}
	theta := CUPEDTheta(control, treatment)
	nA, muA, vyA := armMoments(control.Outcome(), kind)
	nB, muB, vyB := armMoments(treatment.Outcome(), kind)
	res := Result{ControlN: control.N, TreatmentN: treatment.N, ControlMean: muA, TreatmentMean: muB}
	if reason := checkArms(nA, nB, kind == Proportion); reason != "" {
		return undefined(res, reason)
	}
	if theta == 0 {
		return CompareMeans(control.Outcome(), treatment.Outcome(), kind, opts)
	}
	xA, xB := control.SumX/nA, treatment.SumX/nB
	sxxA := covariance(nA, control.SumX, control.SumX, control.SumX2)
	sxxB := covariance(nB, treatment.SumX, treatment.SumX, treatment.SumX2)
	sxyA := covariance(nA, control.SumX, control.SumY, control.SumXY)
	sxyB := covariance(nB, treatment.SumX, treatment.SumY, treatment.SumXY)
	vA := math.Max(vyA+theta*theta*sxxA-2*theta*sxyA, 0)
	vB := math.Max(vyB+theta*theta*sxxB-2*theta*sxyB, 0)

	e := meanEffect(nA, muA, vA, nB, muB, vB)
	e.abs = (muB - muA) - theta*(xB-xA)
	// Fieller's interval needs Var(ȳ_A) and Cov(Δ̂, ȳ_A) = −Cov(ȳ_A − θx̄_A, ȳ_A).
	e.baseVar, e.covBase = vyA/nA, -(vyA-theta*sxyA)/nA
	unadjusted := vyA/nA + vyB/nB
	if muA != 0 {
		e.rel = e.abs / e.baseForRel
		a2 := muA * muA
		vCtrl := (vyA*muB*muB/a2 - 2*theta*sxyA*muB/muA + theta*theta*sxxA) / (nA * a2)
		e.relVar = vB/(nB*a2) + vCtrl
		// Adjusted arm means centred at the pooled covariate mean, for LogCI.
		xBar := (control.SumX + treatment.SumX) / (nA + nB)
		adjA, adjB := muA-theta*(xA-xBar), muB-theta*(xB-xBar)
		e.logVar = 0
		if adjA != 0 && adjB != 0 {
			e.logVar = e.sB/(adjB*adjB) + e.sA/(adjA*adjA)
			e.logRatio = math.Log(math.Abs(adjB / adjA))
			e.hasLogRatio = adjB/adjA > 0
			e.adjA, e.adjB = adjA, adjB
		}
	}
	res.Theta = theta
	if unadjusted > 0 {
		res.VarianceReduction = 1 - e.absVar/unadjusted
	}
	return finish(res, e, opts)
}

// ratioCovArm holds one arm's means β = (M̄, D̄, Ū, V̄) and per-unit
// covariance matrix Λ (divisor n − 1) for ratio CUPED.
type ratioCovArm struct {
	n    float64
	beta [4]float64
	lam  [][]float64
}

func newRatioCovArm(r RatioCovariateMoments) ratioCovArm {
	n := r.N
	a := ratioCovArm{n: n, beta: [4]float64{r.SumM / n, r.SumD / n, r.SumU / n, r.SumV / n}}
	sums := [4]float64{r.SumM, r.SumD, r.SumU, r.SumV}
	cross := [4][4]float64{
		{r.SumM2, r.SumMD, r.SumMU, r.SumMV},
		{r.SumMD, r.SumD2, r.SumDU, r.SumDV},
		{r.SumMU, r.SumDU, r.SumU2, r.SumUV},
		{r.SumMV, r.SumDV, r.SumUV, r.SumV2},
	}
	a.lam = make([][]float64, 4)
	for i := range 4 {
		a.lam[i] = make([]float64, 4)
		for j := range 4 {
			a.lam[i][j] = covariance(n, sums[i], sums[j], cross[i][j])
		}
	}
	return a
}

// gradients of r = M/D and c = U/V with respect to (M, D, U, V).
func (a ratioCovArm) gradR() []float64 {
	m, d := a.beta[0], a.beta[1]
	return []float64{1 / d, -m / (d * d), 0, 0}
}

func (a ratioCovArm) gradC() []float64 {
	u, v := a.beta[2], a.beta[3]
	return []float64{0, 0, 1 / v, -u / (v * v)}
}

// CUPEDThetaRatio is the pooled adjustment coefficient of a ratio metric
// r = M/D on a ratio covariate c = U/V, from the delta-method per-unit
// (co)variances of each arm:
//
//	θ = (Ĉov_A(r, c) + Ĉov_B(r, c)) / (V̂ar_A(c) + V̂ar_B(c)),
//	Ĉov(r, c) = ∇rᵀ Λ ∇c,   V̂ar(c) = ∇cᵀ Λ ∇c
//
// with Λ the sample covariance of (M, D, U, V). It is 0 when the covariate
// has no variance or a denominator mean is zero.
//
// Reference: GrowthBook gbstats compute_theta_regression_adjusted_ratio;
// tea-tasting RatioOfMeans with covariates.
func CUPEDThetaRatio(control, treatment RatioCovariateMoments) float64 {
	if control.N < 2 || treatment.N < 2 || control.SumD == 0 || treatment.SumD == 0 ||
		control.SumV == 0 || treatment.SumV == 0 {
		return 0
	}
	a, b := newRatioCovArm(control), newRatioCovArm(treatment)
	den := quad(a.gradC(), a.lam) + quad(b.gradC(), b.lam)
	if den <= 0 {
		return 0
	}
	return (bilinear(a.gradR(), a.lam, a.gradC()) + bilinear(b.gradR(), b.lam, b.gradC())) / den
}

// CompareRatiosCUPED compares a ratio metric M/D with regression adjustment
// on a ratio covariate U/V (for example last period's orders per session):
//
//	g = M̄/D̄ − θ·Ū/V̄,   Δ = g_B − g_A,   θ = CUPEDThetaRatio
//	∇g = (1/D̄, −M̄/D̄², −θ/V̄, θŪ/V̄²),   v_arm = ∇gᵀ Λ ∇g   (per unit)
//	L = Δ/|r_A|   with r_A the unadjusted control ratio; its variance by the
//	delta method with the full gradient in the control arm:
//	∂L/∂(M̄_A, D̄_A) = −(r_A + Δ)/(r_A²)·(1/D̄_A, −M̄_A/D̄_A²),  ∂L/∂(Ū_A, V̄_A) = −∇g_A[2:4]/r_A,
//	∂L/∂(treatment) = ∇g_B/r_A
//
// Reported arm means stay unadjusted. With θ = 0 the result equals
// CompareRatios.
//
// Reference: Deng et al. (2013); GrowthBook gbstats
// frequentist_variance_relative_cuped_ratio; tea-tasting RatioOfMeans.
func CompareRatiosCUPED(control, treatment RatioCovariateMoments, opts Options) Result {
	if !allFinite(control.N, control.SumM, control.SumM2, control.SumD, control.SumD2, control.SumU, control.SumU2,
		control.SumV, control.SumV2, control.SumMD, control.SumMU, control.SumMV, control.SumDU, control.SumDV, control.SumUV,
		treatment.N, treatment.SumM, treatment.SumM2, treatment.SumD, treatment.SumD2, treatment.SumU, treatment.SumU2,
		treatment.SumV, treatment.SumV2, treatment.SumMD, treatment.SumMU, treatment.SumMV, treatment.SumDU, treatment.SumDV, treatment.SumUV) {
		return undefined(Result{}, "non-finite input (NaN or Inf in the moments)")
	}
	nA, rA, vrA, okA := ratioArm(control.Ratio())
	nB, rB, vrB, okB := ratioArm(treatment.Ratio())
	if checkArms(nA, nB, false) != "" || !okA || !okB || vrA+vrB <= 0 {
		return CompareRatios(control.Ratio(), treatment.Ratio(), opts) // defined degenerate Result
	}
	theta := CUPEDThetaRatio(control, treatment)
	if opts.ThetaFromPooledSample {
		theta = cupedThetaRatioPooledSample(control, treatment)
	}
	if math.Abs(theta) < 1e-12 {
		return CompareRatios(control.Ratio(), treatment.Ratio(), opts)
	}
	a, b := newRatioCovArm(control), newRatioCovArm(treatment)
	grad := func(x ratioCovArm) []float64 {
		g := x.gradR()
		c := x.gradC()
		for i := range g {
			g[i] -= theta * c[i]
		}
		return g
	}
	gA, gB := grad(a), grad(b)
	vA, vB := math.Max(quad(gA, a.lam), 0), math.Max(quad(gB, b.lam), 0)
	cA, cB := a.beta[2]/a.beta[3], b.beta[2]/b.beta[3]
	e := meanEffect(a.n, rA, vA, b.n, rB, vB)
	e.abs = (rB - theta*cB) - (rA - theta*cA)
	// Fieller's interval needs Var(r̂_A) and Cov(Δ̂, r̂_A) = −∇g_Aᵀ Λ_A ∇r_A / n_A.
	e.baseVar, e.covBase = vrA/nA, -bilinear(gA, a.lam, a.gradR())/a.n
	res := Result{ControlN: control.N, TreatmentN: treatment.N, ControlMean: rA, TreatmentMean: rB, Theta: theta}
	if rA != 0 {
		base := math.Abs(rA)
		e.rel = e.abs / base
		m, d := a.beta[0], a.beta[1]
		k := -(base + e.abs) / (base * base)
		ga := []float64{k / d, -k * m / (d * d), -gA[2] / base, -gA[3] / base}
		gb := make([]float64, 4)
		for i := range gB {
			gb[i] = gB[i] / base
		}
		e.relVar = quad(ga, a.lam)/a.n + quad(gb, b.lam)/b.n
		// Adjusted ratios centred at the pooled covariate ratio, for LogCI.
		cBar := (control.SumU + treatment.SumU) / (control.SumV + treatment.SumV)
		adjA, adjB := rA-theta*(cA-cBar), rB-theta*(cB-cBar)
		e.logVar = 0
		if adjA != 0 && adjB != 0 {
			e.logVar = e.sB/(adjB*adjB) + e.sA/(adjA*adjA)
			e.logRatio = math.Log(math.Abs(adjB / adjA))
			e.hasLogRatio = adjB/adjA > 0
			e.adjA, e.adjB = adjA, adjB
		}
	}
	if unadjusted := vrA/nA + vrB/nB; unadjusted > 0 {
		res.VarianceReduction = 1 - e.absVar/unadjusted
	}
	return finish(res, e, opts)
}

// cupedThetaRatioPooledSample is tea-tasting's θ for ratio CUPED: the
// delta-method Ĉov(r, c)/V̂ar(c) of the two arms merged into one sample.
func cupedThetaRatioPooledSample(control, treatment RatioCovariateMoments) float64 {
	p := control.Add(treatment)
	if p.N < 2 || p.SumD == 0 || p.SumV == 0 {
		return 0
	}
	a := newRatioCovArm(p)
	den := quad(a.gradC(), a.lam)
	if den <= 0 {
		return 0
	}
	return bilinear(a.gradR(), a.lam, a.gradC()) / den
}

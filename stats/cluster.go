package stats

import "math"

// Cluster holds one randomization unit's sums of a metric that is measured
// on finer analysis units (a shop's conversations when shops are
// randomized): M is the outcome summed over the cluster's rows (a ratio
// metric's numerator sum), D the number of rows (the ratio's denominator
// sum), and, for CUPED, U and V the pre-period covariate's numerator and
// denominator sums (V = rows for the covariate of a mean or proportion
// metric). Each arm's unadjusted estimate is the ratio of sums ΣM/ΣD.
type Cluster struct {
	M float64 `json:"m"`
	D float64 `json:"d"`
	U float64 `json:"u,omitempty"`
	V float64 `json:"v,omitempty"`
}

// ClusterArms splits clusters by arm: arms[i] = 0 puts cluster i in the
// control arm, 1 in the treatment arm, any other value leaves it out.
func ClusterArms(clusters []Cluster, arms []int8) (control, treatment []Cluster) {
	for i, c := range clusters {
		switch arms[i] {
		case 0:
			control = append(control, c)
		case 1:
			treatment = append(treatment, c)
		}
	}
	return control, treatment
}

// mat3 is a symmetric p×p matrix, p ≤ 3.
type mat3 [3][3]float64

// inverse of the leading p×p block (p = 2 or 3) by cofactors; ok is false
// when it is singular (relative to its scale).
func (a mat3) inverse(p int) (mat3, bool) {
	var inv mat3
	if p == 2 {
		det := a[0][0]*a[1][1] - a[0][1]*a[1][0]
		if !(math.Abs(det) > 1e-13*math.Abs(a[0][0]*a[1][1])) {
			return inv, false
		}
		inv[0][0], inv[1][1] = a[1][1]/det, a[0][0]/det
		inv[0][1], inv[1][0] = -a[0][1]/det, -a[1][0]/det
		return inv, true
	}
	c00 := a[1][1]*a[2][2] - a[1][2]*a[2][1]
	c01 := a[1][2]*a[2][0] - a[1][0]*a[2][2]
	c02 := a[1][0]*a[2][1] - a[1][1]*a[2][0]
	det := a[0][0]*c00 + a[0][1]*c01 + a[0][2]*c02
	scale := a[0][0] * a[1][1] * a[2][2]
	if !(math.Abs(det) > 1e-13*math.Abs(scale)) {
		return inv, false
	}
	inv[0][0] = c00 / det
	inv[0][1] = (a[0][2]*a[2][1] - a[0][1]*a[2][2]) / det
	inv[0][2] = (a[0][1]*a[1][2] - a[0][2]*a[1][1]) / det
	inv[1][0] = c01 / det
	inv[1][1] = (a[0][0]*a[2][2] - a[0][2]*a[2][0]) / det
	inv[1][2] = (a[0][2]*a[1][0] - a[0][0]*a[1][2]) / det
	inv[2][0] = c02 / det
	inv[2][1] = (a[0][1]*a[2][0] - a[0][0]*a[2][1]) / det
	inv[2][2] = (a[0][0]*a[1][1] - a[0][1]*a[1][0]) / det
	return inv, true
}

func (a mat3) quad(x [3]float64, p int) float64 {
	var s float64
	for i := range p {
		for j := range p {
			s += x[i] * a[i][j] * x[j]
		}
	}
	return s
}

func (a mat3) mul(x [3]float64, p int) [3]float64 {
	var y [3]float64
	for i := range p {
		for j := range p {
			y[i] += a[i][j] * x[j]
		}
	}
	return y
}

// crRow is one cluster in the regression: arm 0/1, outcome total M,
// weight D and design row x = (1[control], 1[treatment], z).
type crRow struct {
	m, d float64
	x    [3]float64
	arm  int8
}

// crFit is the weighted least-squares fit of the cluster regression and its
// CR2 variance (see CompareClustersCR2).
type crFit struct {
	p      int
	b      mat3 // (X'WX)⁻¹
	beta   [3]float64
	kA, kB int
	sumMA  float64 // control ΣM, ΣD (unadjusted control mean)
	sumDA  float64
	sumMB  float64
	sumDB  float64
	abs    float64 // β_1 − β_0
	absVar float64 // CR2 variance of abs
	relVar float64 // CR2 variance of abs/|r_A| (delta method)
	varA   float64 // control clusters' part of absVar
	varB   float64
	// covAR and varR are the CR2 covariance of Δ with the control mean
	// r_A = ΣM_A/ΣD_A and the CR2 variance of r_A (for Fieller's interval).
	covAR, varR float64
	reason      string
}

// contrast c = (−1, 1, 0): the treatment effect β_1 − β_0.
var crContrast = [3]float64{-1, 1, 0}

// fitCR2 fits M_k = D_k·x_k'β + ε_k by weighted least squares (the
// estimating equations Σ_k x_k(M_k − D_k·x_k'β) = 0, which is WLS of the
// cluster ratio M_k/D_k on x_k with weights D_k and keeps clusters with
// D_k = 0) and returns the CR2 variances of β_1 − β_0 and of the relative
// effect (see CompareClustersCR2). rows must be in arms 0 and 1.
func fitCR2(rows []crRow, p int) crFit {
	f := crFit{p: p}
	var xtwx mat3
	var xtm [3]float64
	for _, r := range rows {
		for i := range p {
			xtm[i] += r.x[i] * r.m
			for j := range p {
				xtwx[i][j] += r.d * r.x[i] * r.x[j]
			}
		}
		if r.arm == 0 {
			f.kA++
			f.sumMA += r.m
			f.sumDA += r.d
		} else {
			f.kB++
			f.sumMB += r.m
			f.sumDB += r.d
		}
	}
	switch {
	case f.kA == 0 && f.kB == 0:
		f.reason = "both arms are empty"
	case f.kA == 0:
		f.reason = "control arm is empty"
	case f.kB == 0:
		f.reason = "treatment arm is empty"
	case f.kA < 2 || f.kB < 2:
		f.reason = "fewer than 2 units in an arm"
	case f.sumDA == 0 || f.sumDB == 0:
		f.reason = "denominator sum is zero in an arm"
	}
	if f.reason != "" {
		return f
	}
	b, ok := xtwx.inverse(p)
	if !ok {
		f.reason = "singular design: the covariate does not vary within arms"
		return f
	}
	f.b = b
	f.beta = b.mul(xtm, p)
	f.abs = f.beta[1] - f.beta[0]
	bc := b.mul(crContrast, p) // B·c, so g_k = x_k'Bc
	rA := f.sumMA / f.sumDA
	base := math.Abs(rA)
	for _, r := range rows {
		h := r.d * b.quad(r.x, p)
		if h >= 1-1e-12 {
			f.reason = "one cluster holds the whole denominator of an arm: CR2 undefined"
			return f
		}
		var fit float64
		for i := range p {
			fit += r.x[i] * f.beta[i]
		}
		eps := r.m - r.d*fit
		var g float64
		for i := range p {
			g += r.x[i] * bc[i]
		}
		adj := 1 / (1 - h)
		l := g * eps
		f.absVar += l * l * adj
		if r.arm == 0 {
			f.varA += l * l * adj
		} else {
			f.varB += l * l * adj
		}
		psi := 0.0 // the cluster's part of r̂_A − r_A
		if r.arm == 0 {
			psi = (r.m - rA*r.d) / f.sumDA
			f.covAR += l * psi * adj
			f.varR += psi * psi * adj
		}
		if rA != 0 {
			// The control mean in the denominator of L = Δ/|r_A|.
			lr := l/base - f.abs/(rA*base)*psi
			f.relVar += lr * lr * adj
		}
	}
	return f
}

// randomEffectsRatio estimates ρ' = σ²_ν/σ²_ε of the random-effects working
// model Var ε_k = σ²_ε·D_k + σ²_ν·D_k² (D_k units with a common variance
// σ²_ε plus a cluster effect of variance σ²_ν on each; Imbens & Kolesár
// 2016, §6) from the residual totals ε̂ = (I − H)M by the method of
// moments. Under the model E ε̂_k² = σ²_ε·a_k + σ²_ν·b_k with
//
//	a_k = [(I − H)·diag(D)·(I − H)']_kk = D_k(1 − h_k)
//	b_k = [(I − H)·diag(D²)·(I − H)']_kk = D_k²(1 − 2h_k) + D_k²·x_k'B·S·B·x_k,   S = Σ_j D_j²·x_j·x_j'
//
// and (σ²_ε, σ²_ν) solve Σ ε̂_k² = σ²_ε Σ a_k + σ²_ν Σ b_k together with the
// same sums weighted by D_k. The ratio is clamped to [0, +Inf] (+Inf: the
// clusters' variance is all between-cluster); with equal cluster sizes the
// equations coincide and it is 0 (any value gives the same df).
func (f crFit) randomEffectsRatio(rows []crRow) float64 {
	p := f.p
	var s mat3
	for _, r := range rows {
		for i := range p {
			for j := range p {
				s[i][j] += r.d * r.d * r.x[i] * r.x[j]
			}
		}
	}
	var e1, e2, a1, a2, b1, b2 float64
	for _, r := range rows {
		var fit float64
		for i := range p {
			fit += r.x[i] * f.beta[i]
		}
		eps := r.m - r.d*fit
		h := r.d * f.b.quad(r.x, p)
		a := r.d * (1 - h)
		b := r.d*r.d*(1-2*h) + r.d*r.d*s.quad(f.b.mul(r.x, p), p)
		e1 += eps * eps
		a1 += a
		b1 += b
		e2 += eps * eps * r.d
		a2 += a * r.d
		b2 += b * r.d
	}
	det := a1*b2 - a2*b1
	if !(math.Abs(det) > 1e-12*math.Abs(a1*b2)) {
		// Equal cluster sizes: the two equations coincide, ρ' is not
		// identified and does not change the degrees of freedom.
		return 0
	}
	sigE := (e1*b2 - e2*b1) / det
	sigN := (a1*e2 - a2*e1) / det
	switch {
	case !(sigN > 0):
		return 0
	case !(sigE > 0):
		return math.Inf(1)
	}
	return sigN / sigE
}

// dfIK is the degrees of freedom of the CR2 variance of Δ under the
// random-effects working model with ρ' = randomEffectsRatio (φ_k = D_k +
// ρ'·D_k², or D_k² when ρ' = +Inf): the Imbens & Kolesár (2016) choice.
// ρ' = 0 gives Bell and McCaffrey's degrees of freedom.
func (f crFit) dfIK(rows []crRow) float64 {
	rho := f.randomEffectsRatio(rows)
	phi := make([]float64, len(rows))
	for k, r := range rows {
		if math.IsInf(rho, 1) {
			phi[k] = r.d * r.d
		} else {
			phi[k] = r.d + rho*r.d*r.d
		}
	}
	return crDFTarget(rows, f, phi)
}

// crRows builds the regression rows of the control and treatment clusters:
// x = (1[control], 1[treatment]) and, with cuped, the cluster's pre-period
// ratio z = U/V as a third column (the pooled ratio ΣU/ΣV of both arms for
// a cluster with V = 0). cuped is ignored when no cluster has V ≠ 0.
func crRows(control, treatment []Cluster, cuped bool, buf []crRow) ([]crRow, int) {
	p := 2
	var su, sv float64
	if cuped {
		for _, cs := range [][]Cluster{control, treatment} {
			for _, c := range cs {
				su += c.U
				sv += c.V
			}
		}
		if sv != 0 {
			p = 3
		}
	}
	rows := buf[:0]
	for arm, cs := range [][]Cluster{control, treatment} {
		for _, c := range cs {
			r := crRow{m: c.M, d: c.D, arm: int8(arm)}
			r.x[arm] = 1
			if p == 3 {
				if c.V != 0 {
					r.x[2] = c.U / c.V
				} else {
					r.x[2] = su / sv
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, p
}

// CompareClustersCR2 compares a metric between arms randomized by cluster
// (shops randomized, conversations measured) with the CR2 cluster-robust
// variance of Bell & McCaffrey (2002) and their degrees of freedom: the
// small-sample correction for few, unequal clusters, where the delta
// method with Welch degrees of freedom (CompareRatios on per-cluster
// moments) rejects a true null up to twice too often.
//
// The estimate is the coefficient of the treatment dummy in the regression
// of the row outcome on arm indicators (and, with cuped, the cluster's
// pre-period covariate ratio z_k = U_k/V_k), fitted on cluster totals:
//
//	M_k = D_k·(β_arm(k) + θ·z_k) + ε_k,   Σ_k x_k(M_k − D_k·x_k'β) = 0,   x_k = (1[control], 1[treatment], z_k)
//	Δ = β_1 − β_0;  without cuped β_a = ΣM/ΣD of arm a (the ratio of sums),
//	with cuped Δ = (r_B − r_A) − θ(z̄_B − z̄_A), z̄ the D-weighted arm means and
//	θ the pooled within-arm weighted least-squares slope
//
// (weighted least squares of M_k/D_k with weights D_k: for a proportion or
// mean metric, the conversation-level regression of the outcome on a
// treatment dummy and the shop's covariate mean). With B = (X'WX)⁻¹,
// g_k = x_k'B·c (c = (−1, 1, 0)) and the leverage h_k = D_k·x_k'B·x_k:
//
//	Var_CR2(Δ) = Σ_k g_k²·ε̂_k²/(1 − h_k)
//	Var_CR2(L) = Σ_k ℓ_k²/(1 − h_k),   L = Δ/|r_A|,
//	  ℓ_k = g_k·ε̂_k/|r_A| − [k in control]·Δ/(r_A·|r_A|)·(M_k − r_A·D_k)/ΣD_A
//	df = (tr P)²/tr(P²),   P = diag(u²·D) − Y·B·Y',   u_k = g_k/√(1 − h_k),   y_k = u_k·D_k·x_k
//
// The degrees of freedom are Bell and McCaffrey's under the working model
// in which every unit of D is independent with a common variance (Var ε_k
// ∝ D_k, the model under which CR2 is unbiased): the variance estimator is
// then a weighted sum of χ²₁ with weights the eigenvalues of P, matched by
// Satterthwaite's approximation (Bell & McCaffrey 2002, §4; Pustejovsky &
// Tipton 2018, §3.2). With K equal clusters per arm and no covariate,
// df = 2(K − 1) and Var_CR2 is the pooled t test's. The reference
// distribution is Student's t with df, also for the relative interval;
// Options select α, the alternative, a margin, the relative interval
// (delta, Fieller, log) and the sequential and Bayesian layers as for
// CompareMeans; Test: Z uses the normal reference, StudentPooled is
// treated as Welch (that is, the CR2 df).
//
// Reported: the unadjusted arm ratios ΣM/ΣD as arm means, Theta = θ and
// VarianceReduction = 1 − Var_CR2(Δ)/Var_CR2(Δ without covariate) under
// cuped.
//
// Degenerate cases return p = 1 and a Reason: an empty arm, fewer than 2
// clusters in an arm, ΣD = 0 in an arm, one cluster holding all of an
// arm's weight (h = 1), a singular design, zero variance. A zero control
// mean keeps the absolute effect and p-value and sets RelReason.
//
// References: Bell, R. M., McCaffrey, D. F. (2002), Bias reduction in
// standard errors for linear regression with multi-stage samples, Survey
// Methodology 28(2); Imbens, G. W., Kolesár, M. (2016), Robust standard
// errors in small samples: some practical advice, Review of Economics and
// Statistics 98(4); Pustejovsky, J. E., Tipton, E. (2018), Small-sample
// methods for cluster-robust variance estimation and hypothesis testing in
// fixed effects models, Journal of Business & Economic Statistics 36(4)
// (R package clubSandwich, against which stats/testdata/cr2_reference.json
// checks this function); Su, F., Ding, P. (2021), Model-assisted analyses
// of cluster-randomized experiments, JRSS B 83(5) (regression on cluster
// totals with a cluster-robust variance).
func CompareClustersCR2(control, treatment []Cluster, cuped bool, opts Options) Result {
	for _, cs := range [][]Cluster{control, treatment} {
		for _, c := range cs {
			if !allFinite(c.M, c.D, c.U, c.V) {
				return undefined(Result{}, "non-finite input (NaN or Inf in the cluster sums)")
			}
		}
	}
	rows, p := crRows(control, treatment, cuped, make([]crRow, 0, len(control)+len(treatment)))
	f := fitCR2(rows, p)
	res := Result{ControlN: float64(f.kA), TreatmentN: float64(f.kB)}
	if f.sumDA != 0 {
		res.ControlMean = f.sumMA / f.sumDA
	}
	if f.sumDB != 0 {
		res.TreatmentMean = f.sumMB / f.sumDB
	}
	if f.reason != "" {
		return undefined(res, f.reason)
	}
	if p == 3 {
		res.Theta = f.beta[2]
		if crude := fitCR2(rows, 2); crude.reason == "" && crude.absVar > 0 {
			res.VarianceReduction = 1 - f.absVar/crude.absVar
		}
	}
	if opts.Test == StudentPooled {
		opts.Test = Welch
	}
	e := f.effect(res.ControlMean, res.TreatmentMean)
	e.df = f.dfIK(rows)
	res = finish(res, e, opts)
	if res.Reason == "" && res.RelSE > 0 && !opts.Sequential.Enabled && opts.RelativeCI != LogCI {
		ref := reference{df: e.df}
		if opts.Test == Z {
			ref.df = 0
		}
		if iv, ok := f.fieller(res.ControlMean, &ref, opts.alpha(), opts.Alternative); ok {
			res.RelCI = iv
		}
	}
	return res
}

// effect turns the fit into the common effect form, with the CR2 variances
// and the Bell–McCaffrey degrees of freedom.
func (f crFit) effect(rA, rB float64) effect {
	e := effect{nA: float64(f.kA), nB: float64(f.kB), muA: rA, muB: rB, abs: f.abs, absVar: f.absVar,
		sA: f.varA, sB: f.varB, baseForRel: math.Abs(rA)}
	if rA != 0 {
		e.rel, e.relVar = f.abs/e.baseForRel, f.relVar
		// Log scale: under CUPED the treatment mean is the control mean
		// plus the adjusted effect.
		mA, mB := rA, rB
		if f.p == 3 {
			mB = rA + f.abs
		}
		if mA != 0 && mB != 0 && mB/mA > 0 {
			e.logVar = f.varB/(mB*mB) + f.varA/(mA*mA)
			e.logRatio = math.Log(mB / mA)
			e.hasLogRatio = true
			if f.p == 3 {
				e.adjA, e.adjB = mA, mB
			}
		}
	}
	return e
}

// crDFTarget is the Satterthwaite degrees of freedom of the CR2 variance of
// fit under the working model Var(ε_k) ∝ φ_k (independent clusters):
//
//	df = (tr P)²/tr(P²),  P_kl = u_k·u_l·[(I − H)Φ(I − H)']_kl,  u_k = g_k/√(1 − h_k),
//	[(I − H)Φ(I − H)']_kl = δ_kl·φ_k − D_k·x_k'B·x_l·φ_l − φ_k·x_k'B·x_l·D_l + D_k·D_l·x_k'B·S_φ·B·x_l
//
// with H_kl = D_k·x_k'B·x_l the hat matrix on cluster totals and
// S_φ = Σ φ_j·x_j·x_j'. P is diagonal plus rank 2p, so the traces cost
// O(K·p²). φ = D gives fit.df (Bell–McCaffrey).
func crDFTarget(rows []crRow, f crFit, phi []float64) float64 {
	return crDFContrast(rows, f, phi, crContrast)
}

// crDFContrast is crDFTarget for the contrast c'β.
func crDFContrast(rows []crRow, f crFit, phi []float64, contrast [3]float64) float64 {
	p := f.p
	b := f.b
	bc := b.mul(contrast, p)
	var sphi mat3
	for k, r := range rows {
		for i := range p {
			for j := range p {
				sphi[i][j] += phi[k] * r.x[i] * r.x[j]
			}
		}
	}
	// B·S_φ·B
	var bsb, tmp mat3
	for i := range p {
		for j := range p {
			for k := range p {
				tmp[i][j] += sphi[i][k] * b[k][j]
			}
		}
	}
	for i := range p {
		for j := range p {
			for k := range p {
				bsb[i][j] += b[i][k] * tmp[k][j]
			}
		}
	}
	// U = [a_k, c_k] with a_k = u_k·D_k·x_k, c_k = u_k·φ_k·x_k;
	// L = U·C·U', C = [[BSB, −B], [−B, 0]].
	n := 2 * p
	var cm [6][6]float64
	for i := range p {
		for j := range p {
			cm[i][j] = bsb[i][j]
			cm[i][p+j] = -b[i][j]
			cm[p+i][j] = -b[i][j]
		}
	}
	var utu [6][6]float64
	var tr1, trD2, trDL float64
	for k, r := range rows {
		h := r.d * b.quad(r.x, p)
		var g float64
		for i := range p {
			g += r.x[i] * bc[i]
		}
		u := g / math.Sqrt(1-h)
		var uk [6]float64
		for i := range p {
			uk[i] = u * r.d * r.x[i]
			uk[p+i] = u * phi[k] * r.x[i]
		}
		dg := u * u * phi[k]
		var lkk float64
		for i := range n {
			for j := range n {
				lkk += uk[i] * cm[i][j] * uk[j]
				utu[i][j] += uk[i] * uk[j]
			}
		}
		tr1 += dg + lkk
		trD2 += dg * dg
		trDL += dg * lkk
	}
	// tr(L²) = tr((C·U'U)²)
	var cu [6][6]float64
	for i := range n {
		for j := range n {
			for k := range n {
				cu[i][j] += cm[i][k] * utu[k][j]
			}
		}
	}
	var trL2 float64
	for i := range n {
		for j := range n {
			trL2 += cu[i][j] * cu[j][i]
		}
	}
	tr2 := trD2 + 2*trDL + trL2
	if !(tr2 > 0) {
		return math.Inf(1)
	}
	return tr1 * tr1 / tr2
}

// fieller is Fieller's (1954) interval for λ = Δ/r_A from the CR2
// (co)variances: the λ with (Δ − λ·r_A)² ≤ q²·(V_Δ − 2λ·C + λ²·V_r), V_Δ
// the CR2 variance of Δ, V_r that of the control mean r_A and C their
// covariance (both sums over the same clusters):
//
//	λ = (b ± √(b² − a·c))/a,   a = r_A² − q²V_r,   b = Δ·r_A − q²C,   c = Δ² − q²V_Δ
//
// It is bounded only when a > 0 (the control mean significantly nonzero);
// ok is false otherwise. The relative effect is Δ/|r_A|, so the interval is
// mirrored when r_A < 0. Unlike the delta method it does not treat the
// control mean in the denominator as known, which with few clusters makes
// the delta interval cover too rarely (see docs/statistics.md).
func (f crFit) fieller(rA float64, ref *reference, alpha float64, alt Alternative) (Interval, bool) {
	q := ref.quantile(1 - alpha/2)
	if alt != TwoSided {
		q = ref.quantile(1 - alpha)
	}
	q2 := q * q
	a := rA*rA - q2*f.varR
	b := f.abs*rA - q2*f.covAR
	c := f.abs*f.abs - q2*f.absVar
	disc := b*b - a*c
	if !(a > 0) || disc < 0 {
		return Interval{}, false
	}
	lo, hi := (b-math.Sqrt(disc))/a, (b+math.Sqrt(disc))/a
	if rA < 0 {
		lo, hi = -hi, -lo
	}
	switch alt {
	case Greater:
		return Interval{lo, math.Inf(1)}, true
	case Less:
		return Interval{math.Inf(-1), hi}, true
	}
	return Interval{lo, hi}, true
}

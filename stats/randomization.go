package stats

import (
	"math"
	"math/rand/v2"
)

// DefaultRandomizationDraws is the number of assignment redraws of a
// randomization test when none is given; MaxRandomizationDraws caps it. With
// B draws the Monte Carlo standard error of a p-value near 0.05 is
// √(0.05·0.95/B): 0.0049 at B = 2000.
const (
	DefaultRandomizationDraws = 2000
	MaxRandomizationDraws     = 1000000
)

// Redraw fills arms with the arm that draw number draw (0, 1, …) of the
// experiment's assignment mechanism gives each cluster: 0 control, 1
// treatment, any other value leaves the cluster out of that draw. It must
// be deterministic (the same draw, the same arms) and must draw from the
// mechanism that assigned the clusters, conditional on anything the
// analysis conditions on (for example the set of clusters in the
// comparison).
type Redraw func(draw int, arms []int8)

// Randomization configures a randomization (permutation) test.
type Randomization struct {
	// Draws is the number of redraws B (≤ 0: DefaultRandomizationDraws).
	Draws int
	// Redraw redraws the assignment.
	Redraw Redraw
}

// PermutationRedraw returns the Redraw of complete randomization: each draw
// is a uniformly random permutation of the observed labels arms (the same
// number of clusters in each arm), from a PCG generator seeded with
// (seed, draw). Conditional on the arm sizes this is also the distribution
// of any mechanism that treats clusters exchangeably (Bernoulli
// assignment), so it suits a table whose assignment mechanism is unknown.
func PermutationRedraw(arms []int8, seed uint64) Redraw {
	labels := append([]int8(nil), arms...)
	return func(draw int, out []int8) {
		copy(out, labels)
		rng := rand.New(rand.NewPCG(seed, splitmix(uint64(draw))))
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
}

// BernoulliRedraw returns the Redraw of independent assignment: each of the
// clusters is treatment with probability pTreatment and control otherwise,
// from a PCG generator seeded with (seed, draw).
func BernoulliRedraw(pTreatment float64, seed uint64) Redraw {
	return func(draw int, out []int8) {
		rng := rand.New(rand.NewPCG(seed, splitmix(uint64(draw))))
		for i := range out {
			out[i] = 0
			if rng.Float64() < pTreatment {
				out[i] = 1
			}
		}
	}
}

// riBasis is the number of outcome vectors whose linear combinations give
// the data of every hypothesis and draw (see riDraw).
const riBasis = 6

// riDraw holds what one assignment (a draw, or the observed one) implies
// for the statistic of any outcome totals M^b = Σ_j a_j·V_j, V_j the basis
// vectors
//
//	V = (M, D∘W, D∘W^b, M∘W, M∘W^b, M∘W∘W^b)   (W observed, W^b drawn treatment indicators)
//
// By linearity of the regression of CompareClustersCR2 in the outcome:
// Δ = a·delta, r_A = a·rA, Var_CR2(Δ) = a'·E·a and
// Var_CR2(L) = (a'Ea − 2(Δ/r_A)·a'Fa + (Δ/r_A)²·a'Pa)/r_A², with
// E_ij = Σ_k g_k²·ε_ik·ε_jk/(1 − h_k), F_ij = Σ_control g_k·ε_ik·ψ_jk/(1 − h_k),
// P_ij = Σ_control ψ_ik·ψ_jk/(1 − h_k), ε_j the regression residuals of V_j
// and ψ_jk = (V_jk − r_A,j·D_k)/ΣD_A. A hypothesis then costs O(1) per draw.
type riDraw struct {
	ok      bool
	nb      int // basis vectors in use: 1 (p-value of no effect only) or riBasis
	delta   [riBasis]float64
	rA      [riBasis]float64
	e, f, p [riBasis][riBasis]float64
}

// riTest holds the draws of one randomization test.
type riTest struct {
	alt   Alternative
	obs   riDraw
	draws []riDraw
}

// newRITest draws rz's assignments for the clusters and reduces each to its
// riDraw. With nullOnly, only the sharp null of no effect can be tested
// (one basis vector: a sixth of the work, for A/A and calibration runs).
func newRITest(clusters []Cluster, arms []int8, cuped bool, alt Alternative, rz Randomization, nullOnly bool) *riTest {
	b := rz.Draws
	if b <= 0 {
		b = DefaultRandomizationDraws
	}
	b = min(b, MaxRandomizationDraws)
	// The covariate column of CompareClustersCR2, from the clusters of the
	// observed comparison.
	z := make([]float64, len(clusters))
	p := 2
	var su, sv float64
	for i, c := range clusters {
		if arms[i] == 0 || arms[i] == 1 {
			su += c.U
			sv += c.V
		}
	}
	if cuped && sv != 0 {
		p = 3
		for i, c := range clusters {
			z[i] = su / sv
			if c.V != 0 {
				z[i] = c.U / c.V
			}
		}
	}
	t := &riTest{alt: alt, draws: make([]riDraw, b)}
	w := make([]int8, len(clusters))
	var rows []crRow
	var basis [][riBasis]float64
	nb := riBasis
	if nullOnly {
		nb = 1
	}
	reduce := func(w []int8) riDraw {
		if nullOnly {
			return nullDraw(clusters, w, z, p)
		}
		return reduceDraw(clusters, arms, w, z, p, nb, &rows, &basis)
	}
	t.obs = reduce(arms)
	for i := range t.draws {
		rz.Redraw(i, w)
		t.draws[i] = reduce(w)
	}
	return t
}

// nullDraw is reduceDraw for the outcome alone (the sharp null of no
// effect): the regression fit and the CR2 variance of Δ in two passes over
// the clusters, without buffers.
func nullDraw(clusters []Cluster, w []int8, z []float64, p int) riDraw {
	d := riDraw{nb: 1}
	var xtwx mat3
	var xtm [3]float64
	var k0, k1 int
	for i, c := range clusters {
		a := w[i]
		if a != 0 && a != 1 {
			continue
		}
		zi := z[i]
		xtwx[a][a] += c.D
		xtwx[a][2] += c.D * zi
		xtwx[2][2] += c.D * zi * zi
		xtm[a] += c.M
		xtm[2] += zi * c.M
		if a == 0 {
			k0++
		} else {
			k1++
		}
	}
	if k0 < 2 || k1 < 2 || xtwx[0][0] == 0 || xtwx[1][1] == 0 {
		return d
	}
	xtwx[2][0], xtwx[2][1] = xtwx[0][2], xtwx[1][2]
	b, ok := xtwx.inverse(p)
	if !ok {
		return d
	}
	bc := b.mul(crContrast, p)
	beta := b.mul(xtm, p)
	var v float64
	for i, c := range clusters {
		a := w[i]
		if a != 0 && a != 1 {
			continue
		}
		zi := z[i]
		h := c.D * (b[a][a] + 2*zi*b[a][2] + zi*zi*b[2][2])
		if h >= 1-1e-12 {
			return riDraw{nb: 1}
		}
		g := bc[a] + zi*bc[2]
		e := c.M - c.D*(beta[a]+zi*beta[2])
		v += g * g * e * e / (1 - h)
	}
	d.ok = true
	d.delta[0] = beta[1] - beta[0]
	d.e[0][0] = v
	return d
}

// reduceDraw fits the regression of CompareClustersCR2 for assignment w and
// returns its riDraw (ok false when the fit is degenerate). The design
// row of cluster k is x_k = (1[control], 1[treatment], z_k) (z = 0 when
// p = 2), so every product with B = (X'WX)⁻¹ is a few multiplications.
func reduceDraw(clusters []Cluster, observed, w []int8, z []float64, p, nb int, rowsBuf *[]crRow, basisBuf *[][riBasis]float64) riDraw {
	// Internal basis (the riBasis layout without D∘W^b, whose part is
	// analytic): u = (M, D∘W, M∘W, M∘W^b, M∘W∘W^b) → riBasis indices 0, 1, 3, 4, 5.
	const nu = 5
	toBasis := [nu]int{0, 1, 3, 4, 5}
	mu := nu
	if nb == 1 {
		mu = 1
	}
	rows, basis := (*rowsBuf)[:0], (*basisBuf)[:0]
	var xtwx mat3
	var xtv [nu][3]float64
	var ctl [nu]float64 // control sums of u
	var k0, k1 int
	var sd0, sd1 float64
	for i, c := range clusters {
		a := w[i]
		if a != 0 && a != 1 {
			continue
		}
		zi := z[i]
		var wo, wb float64
		if observed[i] == 1 {
			wo = 1
		}
		if a == 1 {
			wb = 1
		}
		u := [riBasis]float64{c.M, c.D * wo, c.M * wo, c.M * wb, c.M * wo * wb}
		r := crRow{m: c.M, d: c.D, arm: a}
		r.x[a] = 1
		r.x[2] = zi
		rows = append(rows, r)
		basis = append(basis, u)
		xtwx[a][a] += c.D
		xtwx[a][2] += c.D * zi
		xtwx[2][2] += c.D * zi * zi
		for j := range mu {
			xtv[j][a] += u[j]
			xtv[j][2] += zi * u[j]
		}
		if a == 0 {
			k0++
			sd0 += c.D
			for j := range mu {
				ctl[j] += u[j]
			}
		} else {
			k1++
			sd1 += c.D
		}
	}
	*rowsBuf, *basisBuf = rows, basis
	d := riDraw{nb: nb}
	if k0 < 2 || k1 < 2 || sd0 == 0 || sd1 == 0 {
		return d
	}
	xtwx[2][0], xtwx[2][1] = xtwx[0][2], xtwx[1][2]
	b, ok := xtwx.inverse(p)
	if !ok {
		return d
	}
	bc := b.mul(crContrast, p)
	var beta [nu][3]float64
	for j := range mu {
		beta[j] = b.mul(xtv[j], p)
	}
	var eps [nu]float64
	var psi [3]float64
	var e [nu][nu]float64
	var f [nu][3]float64
	var pp [3][3]float64
	var rA [nu]float64
	for j := range mu {
		rA[j] = ctl[j] / sd0
	}
	np := min(mu, 3) // u_0..u_2 (M, D∘W, M∘W) can be nonzero on control clusters
	for k, r := range rows {
		a := r.arm
		zi := r.x[2]
		h := r.d * (b[a][a] + 2*zi*b[a][2] + zi*zi*b[2][2])
		if h >= 1-1e-12 {
			return riDraw{nb: nb}
		}
		adj := 1 / (1 - h)
		g := bc[a] + zi*bc[2]
		u := &basis[k]
		for j := range mu {
			eps[j] = u[j] - r.d*(beta[j][a]+zi*beta[j][2])
		}
		ga := g * g * adj
		for i := range mu {
			ei := eps[i] * ga
			for j := i; j < mu; j++ {
				e[i][j] += ei * eps[j]
			}
		}
		if a != 0 {
			continue
		}
		for j := range np {
			psi[j] = (u[j] - rA[j]*r.d) / sd0
		}
		for i := range mu {
			ei := g * eps[i] * adj
			for j := range np {
				f[i][j] += ei * psi[j]
			}
		}
		for i := range np {
			pi := psi[i] * adj
			for j := i; j < np; j++ {
				pp[i][j] += pi * psi[j]
			}
		}
	}
	d.ok = true
	for i := range mu {
		bi := toBasis[i]
		d.delta[bi] = beta[i][1] - beta[i][0]
		d.rA[bi] = rA[i]
		for j := i; j < mu; j++ {
			bj := toBasis[j]
			d.e[bi][bj], d.e[bj][bi] = e[i][j], e[i][j]
		}
		for j := range np {
			d.f[bi][toBasis[j]] = f[i][j]
		}
	}
	for i := range np {
		for j := i; j < np; j++ {
			d.p[toBasis[i]][toBasis[j]], d.p[toBasis[j]][toBasis[i]] = pp[i][j], pp[i][j]
		}
	}
	if nb > 1 {
		d.delta[2] = 1 // D∘W^b: the draw's treatment column
	}
	return d
}

// effectModel says how a hypothesised effect changes a treated cluster's
// outcome sum, so that a sharp null can be imputed and tested.
type effectModel int

const (
	// additive: every row's outcome moves by τ, M(1) = M(0) + τ·D (the
	// absolute effect is τ).
	additive effectModel = iota
	// multiplicative: every row's outcome is scaled by 1 + λ,
	// M(1) = (1 + λ)·M(0) (the relative effect is λ).
	multiplicative
)

// coefficients returns a with M^b = Σ a_j·V_j for the data of draw b under
// the sharp null "the effect is null under model": the observed treated
// clusters' effect removed (M(0) = M − null·D∘W, or M − s·M∘W with
// s = null/(1 + null)) and the effect of the draw's treated clusters added.
func coefficients(model effectModel, null float64) [riBasis]float64 {
	if model == additive {
		return [riBasis]float64{1, -null, null, 0, 0, 0}
	}
	s := null / (1 + null)
	return [riBasis]float64{1, 0, 0, -s, null, -null * s}
}

// statistic of draw d for coefficients a: (Δ − null)/SE_CR2(Δ) or
// (L − null)/SE_CR2(L); ok is false when it is undefined.
func (d *riDraw) statistic(a [riBasis]float64, model effectModel, null float64) (float64, bool) {
	if !d.ok {
		return 0, false
	}
	var delta, rA, ea, fa, pa float64
	for i := range d.nb {
		if a[i] == 0 {
			continue
		}
		delta += a[i] * d.delta[i]
		rA += a[i] * d.rA[i]
		for j := range d.nb {
			if a[j] == 0 {
				continue
			}
			ea += a[i] * d.e[i][j] * a[j]
			fa += a[i] * d.f[i][j] * a[j]
			pa += a[i] * d.p[i][j] * a[j]
		}
	}
	if model == additive {
		if !(ea > 0) {
			return 0, false
		}
		return (delta - null) / math.Sqrt(ea), true
	}
	if rA == 0 {
		return 0, false
	}
	// Fieller's statistic of L = Δ/|r_A| at L = null: the studentized
	// contrast Δ − null·|r_A|, with Var = Var(Δ) − 2·null·Cov(Δ, |r_A|) +
	// null²·Var(r_A). At null = 0 it is the additive statistic Δ/SE(Δ), so
	// the relative interval excludes 0 exactly when the test of the
	// absolute effect rejects (as Fieller's interval does for the
	// parametric tests; the delta-method statistic (L − null)/SE(L) ranks
	// the draws differently and could disagree with it).
	sign := 1.0
	if rA < 0 {
		sign = -1
	}
	v := ea - 2*null*sign*fa + null*null*pa
	if !(v > 0) {
		return 0, false
	}
	return (delta - null*math.Abs(rA)) / math.Sqrt(v), true
}

// pValue is the randomization p-value of the sharp null "the effect is
// null under model" (Fisher 1935; Imbens & Rubin 2015, ch. 5):
//
//	M_k(0) = M_k − null·D_k (additive) or M_k/(1 + null) (multiplicative) for treated k
//	data_b = M(0) with the effect added back to the clusters draw b treats
//	p = (1 + #{b : T_b ≥ T_obs}) / (1 + B')
//
// with T the studentized statistic (|T| for two-sided tests, −T for Less)
// and B' the draws whose statistic is defined.
func (t *riTest) pValue(model effectModel, null float64) float64 {
	a := coefficients(model, null)
	obs, ok := t.obs.statistic(a, model, null)
	if !ok {
		return 1
	}
	return randomizationP(t.alt, obs, len(t.draws), func(b int) (float64, bool) { return t.draws[b].statistic(a, model, null) })
}

// randomizationP is p = (1 + #{b : T_b ≥ T_obs}) / (1 + B') for the
// observed statistic obs and the statistics draw(b) of draws b < draws
// (ok false: undefined, left out of B'), each oriented by alt (|T| for
// two-sided tests, −T for Less).
func randomizationP(alt Alternative, obs float64, draws int, draw func(b int) (float64, bool)) float64 {
	orient := func(x float64) float64 {
		switch alt {
		case Greater:
			return x
		case Less:
			return -x
		}
		return math.Abs(x)
	}
	obs = orient(obs)
	// A relative tolerance counts draws whose statistic equals the observed
	// one up to rounding as "as extreme".
	thr := obs - 1e-9*math.Abs(obs)
	hits, valid := 1, 1
	for b := range draws {
		s, ok := draw(b)
		if !ok {
			continue
		}
		valid++
		if orient(s) >= thr {
			hits++
		}
	}
	return float64(hits) / float64(valid)
}

// invert returns the confidence bound of the effect on one side by test
// inversion (invertPValue), starting the search at guess (a parametric
// bound) with at most 40 doublings of the step.
func (t *riTest) invert(model effectModel, est, guess, dir, alpha, limit float64) float64 {
	p := func(x float64) float64 { return t.pValue(model, x) }
	return invertPValue(p, est, math.Abs(guess-est), dir, alpha, limit, 40)
}

// invertPValue returns the confidence bound of an effect on one side by
// test inversion: the boundary of {τ : p(τ) > α} beyond est in direction
// dir (+1 upper, −1 lower). The search steps away from est by step
// (max(|est|, 1)·10⁻³ when step is not a positive finite number), doubling
// it at most expansions times until a value with p ≤ α is found; p is a
// step function of τ, and the bound is then found by bisection between a
// value with p > α and one with p ≤ α to 1e-4 of its distance from est.
// limit bounds the search below (−1 for a multiplicative effect, returned
// when every value above it is accepted); ±Inf is returned when no
// rejected value is found.
func invertPValue(p func(float64) float64, est, step, dir, alpha, limit float64, expansions int) float64 {
	if !(step > 0) || math.IsInf(step, 0) {
		step = math.Max(math.Abs(est), 1) * 1e-3
	}
	in, out := est, math.NaN()
	for range expansions {
		x := est + dir*step
		if dir < 0 && !(x > limit) {
			x = (in + limit) / 2
		}
		if p(x) > alpha {
			in = x
			step *= 2
			continue
		}
		out = x
		break
	}
	if math.IsNaN(out) {
		if dir < 0 && !math.IsInf(limit, 0) {
			return limit
		}
		return dir * math.Inf(1)
	}
	tol := 1e-4 * math.Abs(out-est)
	for range 60 {
		if math.Abs(out-in) <= tol {
			break
		}
		mid := (in + out) / 2
		if p(mid) > alpha {
			in = mid
		} else {
			out = mid
		}
	}
	return (in + out) / 2
}

// CompareClustersRandomization compares a cluster-randomized metric by a
// randomization test that redraws the assignment with the experiment's own
// mechanism (rz.Redraw). clusters are all clusters of the comparison,
// arms[i] their observed arm (0 control, 1 treatment, other values
// excluded).
//
// The statistic is the CR2-studentized effect of CompareClustersCR2
// (θ re-estimated in every draw under cuped). Studentizing makes the test
// exact under the sharp null of no effect on any unit and asymptotically
// valid under the weak null of no average effect (Wu & Ding 2021; Zhao &
// Ding 2021), where an unstudentized difference is not (Young 2019 shows
// the same for regressions with few, unequal clusters).
//
//   - PValue: the randomization p-value (1 + #{T_b as extreme as T})/(1 + B)
//     of the absolute effect (two-sided: |T|), see riTest.pValue;
//     RelPValue: the same for the studentized relative effect.
//   - AbsCI: test inversion under the additive model M_k(1) = M_k(0) + τ·D_k
//     (every row's outcome moves by τ): the τ whose sharp null is not
//     rejected at α, found by bisection from the CR2 interval.
//   - RelCI: test inversion under the multiplicative model
//     M_k(1) = (1 + λ)·M_k(0) (every row's outcome scaled).
//   - Estimates, AbsSE, RelSE, Statistic and DF are CR2's; Draws is B.
//
// Randomization inference is fixed-horizon: with opts.Sequential the
// CR2 result (with its confidence sequence) is returned. Bayesian
// posteriors use the CR2 standard error. Draws whose statistic is
// undefined (an arm left with fewer than 2 clusters) are dropped, which
// conditions on a non-degenerate assignment and keeps the test exact.
//
// References: Fisher, R. A. (1935), The Design of Experiments; Imbens, G.
// W., Rubin, D. B. (2015), Causal Inference for Statistics, Social, and
// Biomedical Sciences, ch. 5; Wu, J., Ding, P. (2021), Randomization tests
// for weak null hypotheses in randomized experiments, JASA 116(536);
// Young, A. (2019), Channeling Fisher: randomization tests and the
// statistical insignificance of seemingly significant experimental results,
// QJE 134(2); Rosenbaum, P. R. (2002), Observational Studies, §2.6
// (intervals by inverting tests of shift models).
func CompareClustersRandomization(clusters []Cluster, arms []int8, cuped bool, opts Options, rz Randomization) Result {
	ctrl, trt := ClusterArms(clusters, arms)
	res := CompareClustersCR2(ctrl, trt, cuped, opts)
	if res.Reason != "" || opts.Sequential.Enabled || rz.Redraw == nil {
		return res
	}
	t := newRITest(clusters, arms, cuped, opts.Alternative, rz, false)
	b := len(t.draws)
	alpha := opts.alpha()
	abs0, rel0 := marginNull(effect{baseForRel: math.Abs(res.ControlMean)}, opts)
	res.Draws = b
	res.PValue = t.pValue(additive, abs0)
	res.Significant = res.PValue < alpha
	// Two-sided intervals invert the two-sided test; one-sided ones the
	// one-sided test, on their bounded side only.
	lo, hi := res.AbsCI[0], res.AbsCI[1]
	if opts.Alternative != Less {
		lo = t.invert(additive, res.AbsEffect, res.AbsCI[0], -1, alpha, math.Inf(-1))
	}
	if opts.Alternative != Greater {
		hi = t.invert(additive, res.AbsEffect, res.AbsCI[1], 1, alpha, math.Inf(-1))
	}
	res.AbsCI = Interval{lo, hi}
	if res.RelSE > 0 {
		res.RelPValue = t.pValue(multiplicative, rel0)
		lo, hi := res.RelCI[0], res.RelCI[1]
		if opts.Alternative != Less {
			lo = t.invert(multiplicative, res.RelEffect, math.Max(res.RelCI[0], (res.RelEffect-1)/2), -1, alpha, -1)
		}
		if opts.Alternative != Greater {
			hi = t.invert(multiplicative, res.RelEffect, res.RelCI[1], 1, alpha, -1)
		}
		res.RelCI = Interval{lo, hi}
	}
	return overflowed(res)
}

// RandomizationPValue is the p-value of CompareClustersRandomization alone
// (no estimates, no intervals): the randomization test of the sharp null
// of no effect, with a sixth of the work per draw. For A/A studies that
// redraw an experiment many times (signalab aa).
func RandomizationPValue(clusters []Cluster, arms []int8, cuped bool, alt Alternative, rz Randomization) float64 {
	for _, c := range clusters {
		if !allFinite(c.M, c.D, c.U, c.V) {
			return 1
		}
	}
	if !cuped {
		d, m := make([]float64, len(clusters)), make([]float64, len(clusters))
		for i, c := range clusters {
			d[i], m[i] = c.D, c.M
		}
		return newRatioDraws(d, arms, rz).pValue(m, alt)
	}
	return newRITest(clusters, arms, cuped, alt, rz, true).pValue(additive, 0)
}

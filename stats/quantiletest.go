package stats

import (
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// quantileTest is the clustered quantile comparison of
// CompareClusterQuantilesTest: both arms' values sorted once, per cluster
// and per arm.
type quantileTest struct {
	q        float64
	clusters [][]float64 // each sorted
	arms     []int8
	ctrl     []float64 // control values, sorted
	trt      []float64 // treatment values, sorted
	rz       Randomization
	alt      Alternative
	buf      []Cluster
	draws    *ratioDraws // the redraws when rz has a Redraw
}

// ratioDraws are the redraws of a randomization test of a proportion or
// mean of cluster sums without covariate, kept so that many outcome
// vectors M can be tested against the same draws. Per assignment (each
// draw and the observed one) it holds each arm's clusters with their CR2
// factors 1/(1 − h_k), h_k = D_k/ΣD_arm, and Σ D_k²/(1 − h_k), so that the
// statistic of an outcome vector is one pass over the clusters:
//
//	Σ_arm (M_k − r·D_k)²/(1 − h_k) = Σ M²/(1 − h) − 2r·Σ M·D/(1 − h) + r²·Σ D²/(1 − h)
type ratioDraws struct {
	d     []float64
	obs   ratioDraw
	draws []ratioDraw
}

// ratioDraw is one assignment: each cluster's arm and CR2 factor
// 1/(1 − h_k) (0 for clusters left out), and each arm's ΣD and ΣD²/(1 − h).
type ratioDraw struct {
	ok    bool
	arms  []int8
	adj   []float64
	sumD  [2]float64
	sumDD [2]float64
}

func newRatioDraw(d []float64, w []int8, adj []float64) ratioDraw {
	rd := ratioDraw{arms: w, adj: adj}
	var k [2]int
	for i, a := range w {
		if a == 0 || a == 1 {
			rd.sumD[a] += d[i]
			k[a]++
		}
	}
	if k[0] < 2 || k[1] < 2 || !(rd.sumD[0] > 0 && rd.sumD[1] > 0) {
		return rd
	}
	for i, a := range w {
		if a != 0 && a != 1 {
			adj[i] = 0
			continue
		}
		h := d[i] / rd.sumD[a]
		if h >= 1-1e-12 {
			return ratioDraw{}
		}
		adj[i] = 1 / (1 - h)
		rd.sumDD[a] += d[i] * d[i] * adj[i]
	}
	rd.ok = true
	return rd
}

func newRatioDraws(d []float64, obs []int8, rz Randomization) *ratioDraws {
	b := rz.Draws
	if b <= 0 {
		b = DefaultRandomizationDraws
	}
	b = min(b, MaxRandomizationDraws)
	k := len(d)
	arms := make([]int8, (b+1)*k)
	adj := make([]float64, (b+1)*k)
	copy(arms, obs)
	rd := &ratioDraws{d: d, obs: newRatioDraw(d, arms[:k], adj[:k]), draws: make([]ratioDraw, b)}
	for i := range rd.draws {
		w := arms[(i+1)*k : (i+2)*k]
		rz.Redraw(i, w)
		rd.draws[i] = newRatioDraw(d, w, adj[(i+1)*k:(i+2)*k])
	}
	return rd
}

// statistic is the CR2-studentized difference of the arms' ratios ΣM/ΣD
// under assignment x (CompareClustersCR2 without covariate); ok is false
// when it is undefined.
func (rd *ratioDraws) statistic(m []float64, x *ratioDraw) (float64, bool) {
	if !x.ok {
		return 0, false
	}
	var sm, smm, smd [2]float64
	for i, a := range x.arms {
		if a != 0 && a != 1 {
			continue
		}
		mk, adj := m[i], x.adj[i]
		sm[a] += mk
		smm[a] += mk * mk * adj
		smd[a] += mk * rd.d[i] * adj
	}
	var r, v [2]float64
	for a := range 2 {
		r[a] = sm[a] / x.sumD[a]
		v[a] = (smm[a] - 2*r[a]*smd[a] + r[a]*r[a]*x.sumDD[a]) / (x.sumD[a] * x.sumD[a])
	}
	vv := v[0] + v[1]
	if !(vv > 0) {
		return 0, false
	}
	return (r[1] - r[0]) / math.Sqrt(vv), true
}

// pValue is the randomization p-value of no effect for outcome totals m
// (see riTest.pValue).
func (rd *ratioDraws) pValue(m []float64, alt Alternative) float64 {
	obs, ok := rd.statistic(m, &rd.obs)
	if !ok {
		return 1
	}
	return randomizationP(alt, obs, len(rd.draws), func(b int) (float64, bool) { return rd.statistic(m, &rd.draws[b]) })
}

// rankOf is the 1-based rank ⌈n·q⌉ of the q-quantile of n values (clamped
// to [1, n]), as QuantileCI and ClusterQuantile use.
func rankOf(n int, q float64) int {
	return min(max(int(math.Ceil(float64(n)*q)), 1), n)
}

// kthOfTwo returns the k-th smallest (1-based) of the union of sorted a and
// the sorted values f(b_j) (f increasing), in O(log(len a + len b)).
func kthOfTwo(a, b []float64, f func(float64) float64, k int) float64 {
	// Binary search on how many come from a.
	lo, hi := max(0, k-len(b)), min(k, len(a))
	for lo < hi {
		i := (lo + hi) / 2 // take i from a, k − i from b
		j := k - i
		if j > 0 && i < len(a) && f(b[j-1]) > a[i] {
			lo = i + 1
		} else {
			hi = i
		}
	}
	i := lo
	j := k - i
	switch {
	case i == 0:
		return f(b[j-1])
	case j == 0:
		return a[i-1]
	}
	return math.Max(a[i-1], f(b[j-1]))
}

// shifted returns the map from an observed treated value to its value
// under the sharp null of effect null: y − null (additive) or y/(1 + null)
// (multiplicative); both are increasing.
func shifted(model effectModel, null float64) func(float64) float64 {
	if model == additive {
		return func(y float64) float64 { return y - null }
	}
	return func(y float64) float64 { return y / (1 + null) }
}

// pValue tests the sharp null "the treated values are the control values
// moved by null under model" by the clustered median (quantile) test:
// with the treated clusters' values mapped back, every cluster's count of
// values at or below the pooled q-quantile q* is compared between arms as a
// proportion metric (M_k = #{y ≤ q*}, D_k = n_k) with
// CompareClustersCR2, or with the randomization test when qt.rz has a
// Redraw. Under the null the arms share every quantile, so the proportions
// below q* agree.
func (qt *quantileTest) pValue(model effectModel, null float64) float64 {
	f := shifted(model, null)
	n := len(qt.ctrl) + len(qt.trt)
	qs := kthOfTwo(qt.ctrl, qt.trt, f, rankOf(n, qt.q))
	cs := qt.buf[:0]
	for i, c := range qt.clusters {
		thr := qs
		if qt.arms[i] == 1 {
			// #{f(y) ≤ q*} = #{y ≤ f⁻¹(q*)}
			if model == additive {
				thr = qs + null
			} else {
				thr = qs * (1 + null)
			}
		}
		m := sort.Search(len(c), func(j int) bool { return c[j] > thr })
		cs = append(cs, Cluster{M: float64(m), D: float64(len(c))})
	}
	qt.buf = cs
	// A larger treated quantile means fewer treated values below q*.
	alt := mirror(qt.alt)
	if qt.rz.Redraw != nil {
		if qt.draws == nil {
			d := make([]float64, len(cs))
			for i, c := range cs {
				d[i] = c.D
			}
			qt.draws = newRatioDraws(d, qt.arms, qt.rz)
		}
		m := make([]float64, len(cs))
		for i, c := range cs {
			m[i] = c.M
		}
		return qt.draws.pValue(m, alt)
	}
	ctrl, trt := ClusterArms(cs, qt.arms)
	return CompareClustersCR2(ctrl, trt, false, Options{Alternative: alt}).PValue
}

// invert is riTest.invert for the quantile test: the search starts at
// step from est, with at most 60 doublings.
func (qt *quantileTest) invert(model effectModel, est, step, dir, alpha, limit float64) float64 {
	p := func(x float64) float64 { return qt.pValue(model, x) }
	return invertPValue(p, est, step, dir, alpha, limit, 60)
}

// CompareClusterQuantilesTest compares the q-quantile of a metric between
// arms randomized by cluster (the median first-reply time of
// conversations when shops are randomized). clusters holds each cluster's
// values, arms[i] its arm (0 control, 1 treatment, other values excluded).
//
// Estimate: Δ = q̂_B − q̂_A, each arm's x₍⌈Nq⌉₎ (as QuantileCI), and the
// relative difference Δ/|q̂_A|.
//
// Test (a clustered form of Mood's median test): under the null that both
// arms have the same q-quantile, the proportion of each arm's values at or
// below the pooled quantile q* is q in both. Each cluster's count below q*
// is a proportion metric of cluster sums (M_k = #{y ≤ q*}, D_k = n_k),
// compared by CompareClustersCR2 (CR2 variance, Imbens–Kolesár degrees of
// freedom) or, when rz has a Redraw, by the randomization test of
// CompareClustersRandomization; the p-value is that comparison's
// (alternatives mirrored: a larger treated quantile leaves fewer treated
// values below q*).
//
// Intervals invert the same test (Lehmann 1963; Rosenbaum 2002, §2.6): the
// absolute interval is the set of shifts τ for which "the treated values
// are control values + τ" is not rejected at α, the relative one the set
// of λ for "treated values are control values × (1 + λ)" (values must be
// positive for that model). So the interval excludes 0 exactly when
// p < α. Each hypothesis costs O(K·log n) (the pooled quantile of two
// sorted arrays, then a binary search per cluster) plus the test; the
// bound is found by doubling then bisection to 1e-4 of its distance from
// the estimate.
//
// AbsSE and RelSE are interval-implied: (upper − lower)/(2·z_{1−α/2})
// (one-sided, or one bound infinite: the finite side over z); 0 when no
// value is rejected (with very few clusters a randomization test cannot
// reach α, and the interval is the whole line); DF is 0. With
// opts.Bayesian the posterior of the relative effect uses the
// interval-implied RelSE; sequential options are ignored (fixed-horizon
// test). Degenerate cases
// (an empty arm, fewer than 2 clusters with values in an arm, non-finite
// values) give p = 1 and a Reason; a zero control quantile leaves the
// relative effect undefined (RelReason).
//
// Why not the cluster bootstrap of ClusterQuantile: with lognormal shop
// sizes (σ = 1.2) its A/A rejection is 6.3–8.7% at 10–50 shops per arm
// (its variance is 8–31% too small), see docs/statistics.md.
//
// References: Mood, A. M. (1950), Introduction to the Theory of Statistics
// (the median test); Woodruff, R. S. (1952), Confidence intervals for
// medians and other position measures, JASA 47 (quantiles through the
// proportion below them in clustered samples); Lehmann, E. L. (1963),
// Nonparametric confidence intervals for a shift parameter, Ann. Math.
// Statist. 34.
func CompareClusterQuantilesTest(clusters [][]float64, arms []int8, q float64, opts Options, rz Randomization) Result {
	qt, kA, kB, ok := newQuantileTest(clusters, arms, q, opts.Alternative, rz)
	if !ok {
		return undefined(Result{}, "non-finite input (NaN or Inf in the observations)")
	}
	res := Result{ControlN: float64(len(qt.ctrl)), TreatmentN: float64(len(qt.trt))}
	if !(q > 0 && q < 1) {
		return undefined(res, "quantile level not in (0, 1)")
	}
	if reason := checkArms(float64(kA), float64(kB), false); reason != "" {
		return undefined(res, reason)
	}
	res.ControlMean = qt.ctrl[rankOf(len(qt.ctrl), q)-1]
	res.TreatmentMean = qt.trt[rankOf(len(qt.trt), q)-1]
	res.AbsEffect = res.TreatmentMean - res.ControlMean
	alpha := opts.alpha()
	if rz.Redraw != nil {
		res.Draws = max(rz.Draws, 0)
		if res.Draws == 0 {
			res.Draws = DefaultRandomizationDraws
		}
	}
	res.PValue = qt.pValue(additive, 0)
	res.Significant = res.PValue < alpha
	res.Statistic = 0
	// A first step for the search: the spread of the values near the
	// quantile (the distance between the control's q ± 0.1 quantiles).
	spread := func(v []float64) float64 {
		return v[rankOf(len(v), math.Min(q+0.1, 1))-1] - v[rankOf(len(v), math.Max(q-0.1, 0))-1]
	}
	step := math.Max(math.Abs(res.AbsEffect), 0.25*math.Max(spread(qt.ctrl), spread(qt.trt)))
	z := distuv.UnitNormal.Quantile(1 - alpha/2)
	if opts.Alternative != TwoSided {
		z = distuv.UnitNormal.Quantile(1 - alpha)
	}
	bounds := func(model effectModel, est, step, limit float64) (Interval, float64) {
		lo, hi := math.Inf(-1), math.Inf(1)
		if opts.Alternative != Less {
			lo = qt.invert(model, est, step, -1, alpha, limit)
		}
		if opts.Alternative != Greater {
			hi = qt.invert(model, est, step, 1, alpha, limit)
		}
		// The interval-implied SE, from the finite side(s); 0 when the
		// test cannot reject any value (too few clusters).
		var se float64
		switch {
		case opts.Alternative == TwoSided && !math.IsInf(lo, 0) && !math.IsInf(hi, 0):
			se = (hi - lo) / (2 * z)
		case opts.Alternative != Less && !math.IsInf(lo, 0):
			se = (est - lo) / z
		case opts.Alternative != Greater && !math.IsInf(hi, 0):
			se = (hi - est) / z
		}
		return Interval{lo, hi}, se
	}
	res.AbsCI, res.AbsSE = bounds(additive, res.AbsEffect, step, math.Inf(-1))
	if res.ControlMean == 0 {
		res.RelPValue = 1
		res.RelReason = reasonZeroControl
		return overflowed(res)
	}
	res.RelEffect = res.AbsEffect / math.Abs(res.ControlMean)
	if res.ControlMean < 0 || qt.ctrl[0] <= 0 || qt.trt[0] <= 0 {
		res.RelPValue = 1
		res.RelReason = "values are not all positive: no multiplicative model for the relative interval"
		return overflowed(res)
	}
	res.RelPValue = res.PValue // λ = 0 is the same hypothesis as τ = 0
	res.RelCI, res.RelSE = bounds(multiplicative, res.RelEffect, math.Max(step/math.Abs(res.ControlMean), 1e-3), -1)
	if opts.Bayesian.Enabled && res.RelSE > 0 {
		b := Posterior(res.RelEffect, res.RelSE, opts.Bayesian, alpha)
		res.Bayesian = &b
	}
	return overflowed(res)
}

// ClusterQuantilesPValue is the p-value of CompareClusterQuantilesTest
// alone (no estimates, no intervals): one pooled quantile and one test.
func ClusterQuantilesPValue(clusters [][]float64, arms []int8, q float64, alt Alternative, rz Randomization) float64 {
	qt, kA, kB, ok := newQuantileTest(clusters, arms, q, alt, rz)
	if !ok || kA < 2 || kB < 2 || !(q > 0 && q < 1) {
		return 1
	}
	return qt.pValue(additive, 0)
}

// newQuantileTest sorts the values of every cluster of arm 0 or 1 (other
// clusters are nil) and pools them by arm, sorted; kA and kB count the
// clusters with values in each arm. ok is false when a value is not
// finite.
func newQuantileTest(clusters [][]float64, arms []int8, q float64, alt Alternative, rz Randomization) (qt *quantileTest, kA, kB int, ok bool) {
	qt = &quantileTest{q: q, arms: arms, rz: rz, alt: alt}
	for i, c := range clusters {
		if arms[i] != 0 && arms[i] != 1 {
			qt.clusters = append(qt.clusters, nil)
			continue
		}
		for _, v := range c {
			if !finite(v) {
				return nil, 0, 0, false
			}
		}
		s := slices.Clone(c)
		slices.Sort(s)
		qt.clusters = append(qt.clusters, s)
		if len(s) == 0 {
			continue
		}
		if arms[i] == 0 {
			qt.ctrl = append(qt.ctrl, s...)
			kA++
		} else {
			qt.trt = append(qt.trt, s...)
			kB++
		}
	}
	slices.Sort(qt.ctrl)
	slices.Sort(qt.trt)
	return qt, kA, kB, true
}

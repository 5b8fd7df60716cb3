package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	gquad "gonum.org/v1/gonum/integrate/quad"
)

// DefaultClusterPowerDraws is the number of simulated designs a
// ClusterPowerSpec averages over.
const DefaultClusterPowerDraws = 2000

// ClusterPowerSpec plans a cluster-randomized experiment analysed per row
// (shops randomized, conversations measured): the metric (PowerSpec: kind,
// baseline, per-row variance, effect scale, α, alternative, sequential),
// the intraclass correlation of the outcome and the distribution of cluster
// sizes (rows per cluster).
type ClusterPowerSpec struct {
	PowerSpec
	// ICC is the intraclass correlation ρ of the outcome among the rows of
	// one cluster (0 ≤ ρ < 1): a cluster's total has variance
	// σ²·(n(1 − ρ) + n²ρ) for n rows of per-row variance σ².
	ICC float64
	// Sizes are observed cluster sizes (a past run's shops). With Fixed,
	// the experiment has exactly these clusters, each assigned to
	// treatment with probability 1/2 (clustersPerArm is then ignored);
	// otherwise each arm's sizes are drawn from them with replacement.
	Sizes []float64
	Fixed bool
	// MeanSize and SizeCV describe lognormal cluster sizes (rounded, at
	// least 1) when Sizes is empty: mean rows per cluster and coefficient
	// of variation (σ = 1.2 on the log scale is CV = 1.8).
	MeanSize float64
	SizeCV   float64
	// Draws is the number of simulated designs (default
	// DefaultClusterPowerDraws); Seed seeds them (same seed, same answer).
	Draws int
	Seed  uint64
	// Inference is the test the plan is for: randomization, cr2, or auto
	// (the default: randomization below AutoRandomizationClusters per arm,
	// as the analysis' auto rule, else cr2).
	Inference Inference
}

// DesignEffect is the variance inflation of a cluster-randomized ratio
// estimator over row randomization with mean cluster size m, size
// coefficient of variation cv and intraclass correlation ρ:
//
//	DE = 1 + ((1 + cv²)·m − 1)·ρ
//
// (Eldridge, Ashby & Kerry 2006, eq. 3; Kerry & Bland 2001).
func DesignEffect(icc, meanSize, cv float64) float64 {
	return 1 + ((1+cv*cv)*meanSize-1)*icc
}

// ICCFromDesignEffect inverts DesignEffect for ρ.
func ICCFromDesignEffect(de, meanSize, cv float64) float64 {
	return (de - 1) / ((1+cv*cv)*meanSize - 1)
}

func (s ClusterPowerSpec) validate() error {
	if err := s.PowerSpec.validate(); err != nil {
		return err
	}
	switch {
	case !(s.ICC >= 0 && s.ICC < 1):
		return fmt.Errorf("icc %v: must be in [0, 1)", s.ICC)
	case len(s.Sizes) == 0 && !(s.MeanSize >= 1):
		return fmt.Errorf("mean cluster size %v: must be at least 1 row (or give observed sizes)", s.MeanSize)
	case len(s.Sizes) == 0 && s.SizeCV < 0:
		return fmt.Errorf("cluster size cv %v: must not be negative", s.SizeCV)
	case s.Fixed && len(s.Sizes) < 4:
		return fmt.Errorf("%d clusters: a fixed set needs at least 4", len(s.Sizes))
	}
	for _, n := range s.Sizes {
		if !(n > 0) || math.IsInf(n, 0) {
			return fmt.Errorf("cluster size %v: must be positive", n)
		}
	}
	return nil
}

// clusterDraw is one simulated design: its clusters' sizes and arms, and
// the standard normal draws of each cluster's within- and between-cluster
// deviation (the same for every effect tried: common random numbers keep
// power monotone in the effect).
type clusterDraw struct {
	rows   []crRow
	z1, z2 []float64
	df     float64 // Imbens–Kolesár df without effect (set by dfs)
}

// designs simulates the spec's designs with clustersPerArm clusters per
// arm (or splits of the fixed set).
func (s ClusterPowerSpec) designs(clustersPerArm int) []clusterDraw {
	r := s.Draws
	if r <= 0 {
		r = DefaultClusterPowerDraws
	}
	rng := rand.New(rand.NewPCG(s.Seed, 0x5eed))
	sigma := math.Sqrt(math.Log(1 + s.SizeCV*s.SizeCV))
	mu := math.Log(s.MeanSize) - sigma*sigma/2
	size := func() float64 {
		if len(s.Sizes) > 0 {
			return s.Sizes[rng.IntN(len(s.Sizes))]
		}
		return math.Max(1, math.Round(math.Exp(mu+sigma*rng.NormFloat64())))
	}
	out := make([]clusterDraw, 0, r)
	for len(out) < r {
		var rows []crRow
		if s.Fixed {
			for _, n := range s.Sizes {
				arm := int8(rng.IntN(2))
				row := crRow{d: n, arm: arm}
				row.x[arm] = 1
				rows = append(rows, row)
			}
		} else {
			for arm := range int8(2) {
				for range clustersPerArm {
					row := crRow{d: size(), arm: arm}
					row.x[arm] = 1
					rows = append(rows, row)
				}
			}
		}
		if f := fitCR2(rows, 2); f.reason != "" {
			continue // a fixed set split with fewer than 2 clusters in an arm: no test
		}
		d := clusterDraw{rows: rows, z1: make([]float64, len(rows)), z2: make([]float64, len(rows))}
		for i := range rows {
			d.z1[i], d.z2[i] = rng.NormFloat64(), rng.NormFloat64()
		}
		out = append(out, d)
	}
	return out
}

// Power is the probability that the cluster comparison is significant
// with clustersPerArm clusters per arm when the true effect is effect
// (relative unless Absolute; a relative effect is tested as the absolute
// difference μ_A·δ, as the analysis decides significance), estimated by
// running the test on simulated experiments. In each simulated design d
// (cluster sizes drawn, arms assigned) cluster k's outcome total is
//
//	M_k = D_k·μ_arm + √(D_k·σ²_ε,arm)·z1_k + D_k·σ_ν,arm·z2_k,   z ~ N(0, 1)
//
// (the normal approximation of a cluster of D_k rows with a cluster
// effect), with σ²_ν,A = ρ·σ²_A the between-cluster and σ²_ε = σ² − σ²_ν
// the within-cluster variance (σ² = p(1 − p) for proportions, Variance for
// means), the treatment's between-cluster variance scaled by (1 + δ)² for
// a relative effect (each cluster's mean moves by the same factor), and the
// CR2 test with Imbens–Kolesár degrees of freedom decides (the
// randomization test, the default below 200 clusters per arm, has the same
// power to Monte Carlo error); Sequential uses the CR2 confidence sequence
// at the design's number of clusters (TuningN counts clusters of both
// arms). Power is the share of the Draws designs that reject. An analytic
// normal approximation is not used: with heavy-tailed cluster sizes the
// studentized statistic is far from a shifted normal (it predicted 16% for
// a design the test detects 26% of the time).
func (s ClusterPowerSpec) Power(effect float64, clustersPerArm int) (float64, error) {
	if err := s.validate(); err != nil {
		return 0, err
	}
	if !s.Fixed && clustersPerArm < 2 {
		return 0, fmt.Errorf("clusters per arm %d: need at least 2", clustersPerArm)
	}
	return s.power(effect, s.designs(clustersPerArm)), nil
}

// components returns the within- and between-cluster variances of each
// arm for effect.
func (s ClusterPowerSpec) components(effect float64) (within, between [2]float64) {
	muA, muB := s.means(effect)
	vA, vB := s.Variance, s.Variance
	if s.Kind == Proportion {
		vA, vB = muA*(1-muA), muB*(1-muB)
	}
	between[0] = s.ICC * vA
	between[1] = between[0]
	if !s.Absolute {
		between[1] *= (1 + effect) * (1 + effect)
	}
	within[0] = math.Max(vA-between[0], 0)
	within[1] = math.Max(vB-between[1], 0)
	return within, between
}

// outcomes fills each design row's outcome total for effect (see Power).
func (s ClusterPowerSpec) outcomes(effect float64, d clusterDraw) {
	rows := d.rows
	if s.Kind == Proportion {
		l0, sa := logitNormal(s.Baseline, s.ICC)
		for i := range rows {
			r := &rows[i]
			p := logistic(l0 + sa*d.z2[i])
			if r.arm == 1 {
				if s.Absolute {
					p += effect
				} else {
					p *= 1 + effect
				}
				p = math.Min(math.Max(p, 0), 1)
			}
			r.m = r.d*p + math.Sqrt(r.d*p*(1-p))*d.z1[i]
		}
		return
	}
	muA, muB := s.means(effect)
	mu := [2]float64{muA, muB}
	within, between := s.components(effect)
	for i := range rows {
		r := &rows[i]
		r.m = r.d*mu[r.arm] + math.Sqrt(r.d*within[r.arm])*d.z1[i] + r.d*math.Sqrt(between[r.arm])*d.z2[i]
	}
}

func (s ClusterPowerSpec) power(effect float64, ds []clusterDraw) float64 {
	a := s.alpha()
	randomization := s.randomization(ds)
	if !randomization && !s.Sequential.Enabled && len(ds) > 0 && ds[0].df == 0 {
		s.dfs(ds)
	}
	var crit float64
	if randomization && !s.Sequential.Enabled {
		crit = s.nullCritical(ds)
	}
	reject := 0
	for _, d := range ds {
		rows := d.rows
		s.outcomes(effect, d)
		f := fitCR2(rows, 2)
		if f.reason != "" || !(f.absVar > 0) {
			continue
		}
		se := math.Sqrt(f.absVar)
		var p float64
		if randomization && !s.Sequential.Enabled {
			if s.oriented(f.abs/se) > crit {
				reject++
			}
			continue
		}
		if s.Sequential.Enabled {
			nStar := s.Sequential.TuningN
			if nStar <= 0 {
				nStar = float64(len(rows))
			}
			rho := SequentialRho(a, nStar, s.Alternative == TwoSided)
			p = sequentialPValue(f.abs, se, float64(len(rows)), rho, s.Alternative)
		} else {
			ref := reference{df: d.df}
			p = ref.pValue(f.abs/se, s.Alternative)
		}
		if p < a {
			reject++
		}
	}
	return float64(reject) / float64(len(ds))
}

// dfs sets each design's Imbens–Kolesár degrees of freedom from its data
// without effect (the df varies little with the effect; computing it once
// per design keeps searches fast).
func (s ClusterPowerSpec) dfs(ds []clusterDraw) {
	for i := range ds {
		s.outcomes(0, ds[i])
		ds[i].df = fitCR2(ds[i].rows, 2).dfIK(ds[i].rows)
	}
}

// randomization reports whether the plan is for the randomization test.
func (s ClusterPowerSpec) randomization(ds []clusterDraw) bool {
	switch s.Inference {
	case InferenceRandomization:
		return true
	case InferenceCR2, InferenceDelta:
		return false
	}
	return len(ds) > 0 && len(ds[0].rows) < 2*AutoRandomizationClusters
}

// oriented is the statistic on the side of the alternative (|t| for
// two-sided tests).
func (s ClusterPowerSpec) oriented(t float64) float64 {
	switch s.Alternative {
	case Greater:
		return t
	case Less:
		return -t
	}
	return math.Abs(t)
}

// nullCritical is the critical value of an exactly calibrated test based
// on the CR2 statistic: the 1 − α quantile of the oriented statistic over
// the designs without effect. The randomization test is such a test
// conditionally on each design; its power over designs is that of this
// rule to Monte Carlo error (checked by TestClusterPowerMatchesSimulation).
func (s ClusterPowerSpec) nullCritical(ds []clusterDraw) float64 {
	ts := make([]float64, 0, len(ds))
	for _, d := range ds {
		rows := d.rows
		s.outcomes(0, d)
		f := fitCR2(rows, 2)
		if f.reason != "" || !(f.absVar > 0) {
			continue
		}
		ts = append(ts, s.oriented(f.abs/math.Sqrt(f.absVar)))
	}
	if len(ts) == 0 {
		return math.Inf(1)
	}
	slices.Sort(ts)
	return ts[min(int(math.Ceil(float64(len(ts))*(1-s.alpha())))-1, len(ts)-1)]
}

// ClustersPerArm is the smallest number of clusters per arm whose Power
// reaches power (default 0.8) for effect, by doubling then bisection (at
// most 1,000,000).
func (s ClusterPowerSpec) ClustersPerArm(effect, power float64) (int, error) {
	if power <= 0 || power >= 1 {
		power = 0.8
	}
	if err := s.validate(); err != nil {
		return 0, err
	}
	if s.Fixed {
		return 0, fmt.Errorf("a fixed set of clusters has no cluster count to choose")
	}
	reach := func(k int) bool { return s.power(effect, s.designs(k)) >= power }
	hi := 2
	for !reach(hi) {
		hi *= 2
		if hi > 1000000 {
			return 0, fmt.Errorf("no number of clusters up to 1,000,000 per arm reaches power %v: the intraclass correlation caps what more rows per cluster can give", power)
		}
	}
	lo := max(hi/2, 1)
	if hi == 2 {
		return 2, nil
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if reach(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi, nil
}

// MDE is the smallest positive effect (relative unless Absolute) detected
// with probability power (default 0.8) with clustersPerArm clusters per
// arm (ignored with Fixed), by bisection on Power to 1e-4 relative.
func (s ClusterPowerSpec) MDE(power float64, clustersPerArm int) (float64, error) {
	if power <= 0 || power >= 1 {
		power = 0.8
	}
	if err := s.validate(); err != nil {
		return 0, err
	}
	ds := s.designs(clustersPerArm)
	sign := 1.0
	if s.Alternative == Less {
		sign = -1
	}
	limit := math.Inf(1)
	if s.Kind == Proportion {
		limit = (1 - s.Baseline) / s.Baseline
		if s.Absolute {
			limit = 1 - s.Baseline
		}
		if sign < 0 {
			limit = 1
			if s.Absolute {
				limit = s.Baseline
			}
		}
	}
	hi := 1e-6
	for s.power(sign*hi, ds) < power {
		hi *= 2
		if hi >= limit || hi > 1e12 {
			return 0, fmt.Errorf("no effect reaches power %v with these clusters", power)
		}
	}
	lo := 0.0
	for hi-lo > 1e-4*hi {
		mid := (lo + hi) / 2
		if s.power(sign*mid, ds) < power {
			lo = mid
		} else {
			hi = mid
		}
	}
	return sign * hi, nil
}

// MeanDF is the mean Imbens–Kolesár degrees of freedom of the test over
// the simulated designs with no effect (for reports: how far from normal
// the test's reference is).
func (s ClusterPowerSpec) MeanDF(clustersPerArm int) float64 {
	ds := s.designs(clustersPerArm)
	var sum float64
	for _, d := range ds {
		rows := d.rows
		s.outcomes(0, d)
		sum += math.Min(fitCR2(rows, 2).dfIK(rows), 1e6)
	}
	return sum / float64(len(ds))
}

// EstimateICC estimates, from clusters of one population (a past run's
// shops, both arms pooled), the mean r = ΣM/ΣD, the per-row variance σ²
// and the intraclass correlation ρ of the model Var(M_k − r·D_k) =
// σ²(D_k(1 − ρ) + D_k²ρ), by the moment equations of
// crFit.randomEffectsRatio for an intercept-only fit (h_k = D_k/ΣD):
//
//	Σ ε̂_k² = σ²_ε Σ D_k(1 − h_k) + σ²_ν Σ D_k²(1 − 2h_k + ΣD²/(ΣD)²)
//
// and the same sums weighted by D_k; σ² = σ²_ε + σ²_ν, ρ = σ²_ν/σ², ρ
// clamped to [0, 1). Pooling arms that differed by a treatment effect
// adds that effect's spread to ρ (slightly conservative for planning).
func EstimateICC(clusters []Cluster) (mean, rowVar, icc float64, err error) {
	var sm, sd, sd2 float64
	for _, c := range clusters {
		sm += c.M
		sd += c.D
		sd2 += c.D * c.D
	}
	if len(clusters) < 3 || !(sd > 0) {
		return 0, 0, 0, fmt.Errorf("need at least 3 clusters with rows to estimate the intraclass correlation")
	}
	r := sm / sd
	var e1, e2, a1, a2, b1, b2 float64
	for _, c := range clusters {
		e := c.M - r*c.D
		h := c.D / sd
		a := c.D * (1 - h)
		b := c.D * c.D * (1 - 2*h + sd2/(sd*sd))
		e1 += e * e
		e2 += e * e * c.D
		a1 += a
		a2 += a * c.D
		b1 += b
		b2 += b * c.D
	}
	det := a1*b2 - a2*b1
	var sigE, sigN float64
	if math.Abs(det) > 1e-12*math.Abs(a1*b2) {
		sigE = (e1*b2 - e2*b1) / det
		sigN = (a1*e2 - a2*e1) / det
	} else {
		sigE = e1 / a1 // equal sizes: no separation, all within
	}
	switch {
	case sigN < 0:
		sigN = 0
		sigE = e1 / a1
	case sigE < 0:
		sigE = 0
		sigN = e1 / b1
	}
	rowVar = sigE + sigN
	if !(rowVar > 0) {
		return r, 0, 0, fmt.Errorf("the metric does not vary between clusters")
	}
	icc = math.Min(sigN/rowVar, 0.999)
	return r, rowVar, icc, nil
}

// logitNormal returns the logit-scale location l0 and spread σ of cluster
// rates p = logistic(l0 + σZ), Z ~ N(0, 1), whose mean is mean and whose
// variance is icc·mean·(1 − mean) (the intraclass correlation of a 0/1
// outcome), by bisection on Gauss–Hermite (64-point) moments. Cluster
// rates of a proportion metric are skewed (a few shops convert far
// better); a normal model of them misplaces the power of small designs.
func logitNormal(mean, icc float64) (l0, sigma float64) {
	key := [2]float64{mean, icc}
	logitCache.Lock()
	defer logitCache.Unlock()
	if v, ok := logitCache.m[key]; ok {
		return v[0], v[1]
	}
	x, w := hermiteNodes()
	moments := func(l, sg float64) (m, v float64) {
		var s1, s2 float64
		for i := range x {
			p := logistic(l + sg*math.Sqrt2*x[i])
			s1 += w[i] * p
			s2 += w[i] * p * p
		}
		s1 /= math.SqrtPi
		s2 /= math.SqrtPi
		return s1, s2 - s1*s1
	}
	locate := func(sg float64) float64 { // l with mean m(l, sg) = mean
		lo, hi := -40.0, 40.0
		for range 100 {
			mid := (lo + hi) / 2
			if m, _ := moments(mid, sg); m < mean {
				lo = mid
			} else {
				hi = mid
			}
		}
		return (lo + hi) / 2
	}
	target := icc * mean * (1 - mean)
	lo, hi := 0.0, 10.0
	for range 100 {
		mid := (lo + hi) / 2
		if _, v := moments(locate(mid), mid); v < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	sigma = (lo + hi) / 2
	l0 = locate(sigma)
	logitCache.m[key] = [2]float64{l0, sigma}
	return l0, sigma
}

var logitCache = struct {
	sync.Mutex
	m map[[2]float64][2]float64
}{m: map[[2]float64][2]float64{}}

var hermite struct {
	once sync.Once
	x, w []float64
}

func hermiteNodes() ([]float64, []float64) {
	hermite.once.Do(func() {
		hermite.x, hermite.w = make([]float64, 64), make([]float64, 64)
		gquad.Hermite{}.FixedLocations(hermite.x, hermite.w, math.Inf(-1), math.Inf(1))
	})
	return hermite.x, hermite.w
}

func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

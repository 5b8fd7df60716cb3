package stats

import (
	"math"
	"math/rand/v2"
	"slices"
)

// DefaultClusterBootstrapReplicates is the number of cluster-bootstrap
// replicates when none is given; MaxClusterBootstrapReplicates caps it.
// Standard errors stabilise with a few hundred replicates (Efron &
// Tibshirani 1993, §6.4: the coefficient of variation of a bootstrap SE is
// about √(1/(2B)) on top of the sampling noise, 2.2% at B = 1000).
const (
	DefaultClusterBootstrapReplicates = 1000
	MaxClusterBootstrapReplicates     = 100000
)

// MinBootstrapClusters is the fewest randomization units (clusters) per arm
// for which ClusterQuantile reports a standard error. With fewer, the
// cluster bootstrap has too few distinct resamples and underestimates the
// variance badly (Field & Welsh 2007, §4; Cameron, Gelbach & Miller 2008
// report poor cluster-robust inference below about 10–20 clusters), so the
// comparison is left undefined with a Reason.
const MinBootstrapClusters = 10

// ClusterQuantileStat summarises one arm of a quantile metric measured on
// observations grouped in clusters (randomization units coarser than an
// observation): N observations in K clusters, the sample quantile Estimate
// at level Q, and its cluster-bootstrap standard error SE from B replicates.
// Reason is non-empty when the SE is not defined (too few clusters, no
// data).
type ClusterQuantileStat struct {
	N        float64 `json:"n"`
	K        float64 `json:"k"`
	Q        float64 `json:"q"`
	Estimate float64 `json:"estimate"`
	SE       float64 `json:"se"`
	B        int     `json:"b"`
	Reason   string  `json:"reason,omitempty"`
}

// ClusterQuantile computes one arm's q-quantile and its cluster (block)
// bootstrap standard error. clusters holds each cluster's observations
// (empty clusters are ignored). Method (Davison & Hinkley 1997, §3.8,
// "strategy 1": resample clusters, keep each cluster whole; Field & Welsh
// 2007):
//
//  1. Estimate = x_(⌈Nq⌉) of all N observations (the order statistic of
//     QuantileCI; rank clamped to [1, N]).
//  2. For b = 1..B draw K clusters with replacement (multinomial counts
//     w_1..w_K, Σw = K); the replicate sample is every observation of
//     cluster k repeated w_k times (N* = Σ w_k·n_k observations) and
//     θ*_b = x*_(⌈N*q⌉).
//  3. SE² = Var_b(θ*), the sample variance (divisor B − 1) of the
//     replicates. The K/(K − 1) factor that makes the cluster bootstrap of
//     a mean match the K − 1-divisor sandwich variance (Davison & Hinkley
//     1997, §3.8) is not applied: the bootstrap variance of a sample
//     quantile is already too large in simulation (E[Δ²]/E[SE²] ≈ 0.95 at
//     K = 40 clusters per arm, 0.88 at K = 12; see
//     TestClusterQuantileCalibration), so intervals are slightly
//     conservative rather than anti-conservative.
//
// Reproducibility: the generator is PCG seeded with seed, and the clusters
// are put in a canonical order (each cluster's values sorted, clusters sorted
// lexicographically) before resampling, so the result depends only on the
// multiset of clusters, q, b and seed, not on the order of the input.
//
// Preconditions: observations are exchangeable between clusters of an arm
// and clusters are independent (true when clusters are the randomization
// units). With fewer than MinBootstrapClusters non-empty clusters, SE is 0
// and Reason says so. Non-finite values give a Reason. b ≤ 0 means
// DefaultClusterBootstrapReplicates; b is capped at
// MaxClusterBootstrapReplicates.
//
// Cost: O(N log N) to sort once, then O(K + d) per replicate, d the distance
// in ranks between the replicate's quantile and the sample's (a weighted walk
// over the sorted values from the sample quantile; no re-sorting). Memory: about 24 bytes per
// observation (a sorted copy of each cluster and a 16-byte (value, cluster)
// array), 8 per replicate and 4 per cluster.
func ClusterQuantile(clusters [][]float64, q float64, b int, seed uint64) ClusterQuantileStat {
	st := ClusterQuantileStat{Q: q}
	if b <= 0 {
		b = DefaultClusterBootstrapReplicates
	}
	b = min(b, MaxClusterBootstrapReplicates)
	st.B = b
	if !(q > 0 && q < 1) {
		st.Reason = "quantile level not in (0, 1)"
		return st
	}
	cs := make([][]float64, 0, len(clusters))
	n := 0
	for _, c := range clusters {
		n += len(c)
	}
	st.N = float64(n)
	for _, c := range clusters {
		if len(c) == 0 {
			continue
		}
		for _, v := range c {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				st.Reason = "non-finite input (NaN or Inf in the observations)"
				return st
			}
		}
		s := slices.Clone(c)
		slices.Sort(s)
		cs = append(cs, s)
	}
	k := len(cs)
	st.N, st.K = float64(n), float64(k)
	if n == 0 {
		st.Reason = "no observations"
		return st
	}
	slices.SortFunc(cs, slices.Compare[[]float64])
	// All observations sorted by (value, cluster), with their cluster.
	type obs struct {
		v float64
		c int32
	}
	all := make([]obs, 0, n)
	for ci, c := range cs {
		for _, v := range c {
			all = append(all, obs{v, int32(ci)})
		}
	}
	slices.SortFunc(all, func(x, y obs) int {
		if x.v != y.v {
			if x.v < y.v {
				return -1
			}
			return 1
		}
		return int(x.c - y.c)
	})
	rank := func(total int) int { return min(max(int(math.Ceil(float64(total)*q)), 1), total) }
	st.Estimate = all[rank(n)-1].v
	if k < MinBootstrapClusters {
		st.Reason = "too few clusters for a cluster bootstrap"
		return st
	}
	// Each replicate's quantile is the first observation (in sorted order)
	// at which the weighted count Σ w_c over all[0..i] reaches the rank. The
	// walk starts at the pivot p (the full sample's quantile), where that
	// count is Σ_k w_k·below[k], and goes forward or backward from there:
	// replicate quantiles lie within a few standard errors of the pivot, so
	// a replicate costs O(K + distance) instead of O(N).
	p := rank(n) - 1
	below := make([]int32, k) // observations of cluster k in all[0:p]
	for _, o := range all[:p] {
		below[o.c]++
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	w := make([]int32, k)
	reps := make([]float64, b)
	for i := range reps {
		clear(w)
		total := 0
		for range k {
			j := rng.IntN(k)
			w[j]++
			total += len(cs[j])
		}
		r := rank(total)
		cum := 0
		for c, m := range below {
			cum += int(w[c]) * int(m)
		}
		if cum < r { // forward: the first j ≥ p with count through j ≥ r
			for _, o := range all[p:] {
				cum += int(w[o.c])
				if cum >= r {
					reps[i] = o.v
					break
				}
			}
		} else { // backward: the j < p with count through j ≥ r > count through j − 1
			for j := p - 1; ; j-- {
				prev := cum - int(w[all[j].c])
				if prev < r {
					reps[i] = all[j].v
					break
				}
				cum = prev
			}
		}
	}
	st.SE = sd(reps)
	return st
}

// CompareClusterQuantiles compares a quantile metric between two independent
// arms summarised by ClusterQuantile. The per-arm cluster-bootstrap
// variances SE²_A, SE²_B give Var(q̂_B − q̂_A) = SE²_A + SE²_B, and the
// comparison proceeds as for means with K clusters as the unit counts:
// normal-approximation (Test Z) or t (Welch: Welch–Satterthwaite df from the
// cluster counts) intervals and p-values for the absolute difference, and
// the delta method (or Fieller / log, per opts.RelativeCI) for the relative
// difference (q̂_B − q̂_A)/|q̂_A|. Sequential and Bayesian options apply as
// in CompareMeans.
//
// Why a normal approximation rather than bootstrap percentiles: the sample
// quantile is asymptotically normal in the number of clusters, the SE needs
// far fewer replicates than tail percentiles do (Efron & Tibshirani 1993,
// §6.4 and §13.3: B ≈ 200 for an SE, ≥ 1000 for percentile endpoints), the
// p-value is continuous (a percentile p-value cannot go below 2/B, which
// would defeat Holm/BH adjustment across many rows) and agrees with the
// interval, and the sequential and Bayesian machinery takes (estimate, SE).
//
// A Reason from either arm (too few clusters, no data) makes the result
// undefined (p = 1) with that Reason.
func CompareClusterQuantiles(control, treatment ClusterQuantileStat, opts Options) Result {
	res := Result{ControlN: control.N, TreatmentN: treatment.N, ControlMean: control.Estimate, TreatmentMean: treatment.Estimate}
	if !allFinite(control.N, control.K, control.Estimate, control.SE, treatment.N, treatment.K, treatment.Estimate, treatment.SE) {
		return undefined(res, "non-finite input (NaN or Inf in the quantile summaries)")
	}
	if reason := checkArms(control.N, treatment.N, false); reason != "" {
		return undefined(res, reason)
	}
	for _, s := range []ClusterQuantileStat{control, treatment} {
		if s.Reason != "" {
			return undefined(res, s.Reason)
		}
	}
	e := meanEffect(control.K, control.Estimate, control.SE*control.SE*control.K,
		treatment.K, treatment.Estimate, treatment.SE*treatment.SE*treatment.K)
	return finish(res, e, opts)
}

// BootstrapClusterQuantiles is ClusterQuantile of each arm (seeds derived
// from seed, one per arm) followed by CompareClusterQuantiles: the cluster
// bootstrap comparison of the q-quantile when whole clusters were
// randomized. See ClusterQuantile for the method and
// CompareClusterQuantiles for the intervals.
func BootstrapClusterQuantiles(control, treatment [][]float64, q float64, b int, seed uint64, opts Options) Result {
	c := ClusterQuantile(control, q, b, seed)
	t := ClusterQuantile(treatment, q, b, splitmix(seed))
	return CompareClusterQuantiles(c, t, opts)
}

// splitmix is the SplitMix64 finalizer (Steele, Lea & Flood 2014), used to
// derive independent seeds.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

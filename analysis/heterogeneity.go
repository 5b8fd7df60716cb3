package analysis

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
)

// MinHeteroClusters is the fewest randomization units a segment value needs
// in each arm to enter the heterogeneity test: a cluster-robust covariance
// from fewer is too unstable (the test then rejects far more often than
// α).
const MinHeteroClusters = 10

// Heterogeneity methods.
const (
	HeteroWaldCluster = "wald-cluster"
	HeteroCochranQ    = "cochran-q"
)

// heterogeneity tests, for every segment column × metric × variant ×
// population, H0: the relative effect L_s = R_T,s/R_C,s − 1 is the same for
// every value s of the column ("does the effect differ across channels?").
//
// With the k values' estimates L̂ and their covariance Σ, the Wald statistic
// of the k − 1 contrasts δ = (L̂_2 − L̂_1, …, L̂_k − L̂_1) is
//
//	W = δᵀ (C Σ Cᵀ)⁻¹ δ  ~  χ²(k − 1)
//
// When each row is its own randomization unit, a unit has one value of the
// column, the segments are independent, Σ is diagonal with the delta-method
// variances of the rows, and W is Cochran's Q = Σ w_s (L̂_s − L̄)²,
// w_s = 1/Var(L̂_s) (Cochran 1954). Under cluster randomization a shop has
// conversations in several channels, so the segment estimates share
// clusters and are correlated: Σ is then the cluster-robust (linearization)
// covariance, per arm
//
//	Cov(R̂_s, R̂_t) = K/(K − 1) · Σ_c e_cs·e_ct / (D_s·D_t),   e_cs = M_cs − R̂_s·D_cs
//
// over the arm's K clusters (D_s = Σ_c D_cs), and by the delta method
// Cov(L̂_s, L̂_t) = Cov_T(s, t)/(R_C,s R_C,t) + R_T,s R_T,t Cov_C(s, t)/(R_C,s² R_C,t²)
// (arms independent). Values whose row has no estimate, or with fewer than
// MinHeteroClusters clusters in an arm, are left out; the test needs two
// values. With clusters, W/(k − 1) is referred to F(k − 1, G − 1), G the
// clusters of the smaller arm, which accounts for estimating the
// covariance from G clusters (Cameron & Miller 2015); without, χ²(k − 1).
// Unadjusted estimates (no CUPED); quantile metrics under cluster
// randomization are not tested (the bootstrap gives no cross-segment
// covariance).
//
// References: Cochran (1954), "The combination of estimates from different
// experiments", Biometrics 10; Wooldridge (2010), Econometric Analysis of
// Cross Section and Panel Data, §7.8 and §20.3 (cluster-robust Wald tests);
// Deng, Knoblich, Lu (2018) for the delta method; Cameron, A. C., Miller, D.
// L. (2015), A practitioner's guide to cluster-robust inference, Journal of
// Human Resources 50(2), §VI.D.
func (s *state) heterogeneity(rows []results.Row) []results.Heterogeneity {
	out := []results.Heterogeneity{}
	if len(s.cfg.Segments) == 0 {
		return out
	}
	type key struct {
		seg, metric, variant, pop string
	}
	groups := map[key][]int{}
	var order []key
	for k := range rows {
		r := &rows[k]
		if r.Segment == results.SegmentAll {
			continue
		}
		kk := key{r.Segment, r.Metric, r.Variant, r.Population}
		if _, ok := groups[kk]; !ok {
			order = append(order, kk)
		}
		groups[kk] = append(groups[kk], k)
	}
	clustered := s.cfg.ClusterCol != ""
	for _, kk := range order {
		idx := groups[kk]
		h := results.Heterogeneity{Segment: kk.seg, Metric: kk.metric, Variant: kk.variant, Population: kk.pop,
			Method: HeteroCochranQ, Statistic: results.NaN(), PValue: results.NaN()}
		if clustered {
			h.Method = HeteroWaldCluster
		}
		m := s.cfg.Metrics[s.refs[idx[0]].i]
		if clustered && m.Type == metrics.Quantile {
			h.Reason = "not tested for quantile metrics under cluster randomization"
			out = append(out, h)
			continue
		}
		var use []int
		for _, k := range idx {
			r := &rows[k]
			if r.Reason == "" && r.Control.Mean.Valid() && r.Treatment.Mean.Valid() && float64(r.Control.Mean) != 0 &&
				r.Control.SE.Valid() && r.Treatment.SE.Valid() &&
				(!clustered || (r.Control.Clusters >= MinHeteroClusters && r.Treatment.Clusters >= MinHeteroClusters)) {
				use = append(use, k)
			}
		}
		h.Values = len(use)
		if len(use) < 2 {
			h.Reason = "fewer than two segment values with an estimate"
			out = append(out, h)
			continue
		}
		var est []float64
		var sigma *mat.SymDense
		if clustered {
			est, sigma = s.clusterCovariance(rows, use)
		} else {
			est = make([]float64, len(use))
			sigma = mat.NewSymDense(len(use), nil)
			for j, k := range use {
				r := &rows[k]
				a, b := float64(r.Control.Mean), float64(r.Treatment.Mean)
				sa, sb := float64(r.Control.SE), float64(r.Treatment.SE)
				est[j] = (b - a) / math.Abs(a)
				sigma.SetSym(j, j, sb*sb/(a*a)+b*b*sa*sa/(a*a*a*a))
			}
		}
		w, ok := waldEqual(est, sigma)
		if !ok {
			h.Reason = "the covariance of the segment estimates is not invertible"
			out = append(out, h)
			continue
		}
		h.DF = len(use) - 1
		h.Statistic = num(w)
		h.PValue = num(distuv.ChiSquared{K: float64(h.DF)}.Survival(w))
		if clustered {
			// The covariance is estimated from G clusters: W/(k − 1) is
			// referred to F(k − 1, G − 1) (Cameron & Miller 2015, §VI.D),
			// G the randomization units of the smaller arm.
			g := float64(s.heteroClusters(rows, use))
			if g-1 < 1 {
				h.Reason = "too few randomization units for a cluster-robust test"
				h.PValue = results.NaN()
				out = append(out, h)
				continue
			}
			h.DF2 = int(g) - 1
			h.Statistic = num(w / float64(h.DF))
			h.PValue = num(distuv.F{D1: float64(h.DF), D2: g - 1}.Survival(w / float64(h.DF)))
		}
		out = append(out, h)
	}
	return out
}

// clusterCovariance returns the relative effects of rows use (segment values
// of one column) and their cluster-robust covariance (see heterogeneity).
func (s *state) clusterCovariance(rows []results.Row, use []int) ([]float64, *mat.SymDense) {
	k := len(use)
	armCov := func(arm int) (ratios []float64, cov *mat.SymDense) {
		// Per cluster, per segment value: (M, D).
		type md struct{ m, d float64 }
		per := map[int32][]md{}
		ratios = make([]float64, k)
		dsum := make([]float64, k)
		for j, ri := range use {
			ref := s.refs[ri]
			c, t := s.cellsOf(ref)
			a := c
			if arm == 1 {
				a = t
			}
			var sm, sd float64
			for _, cs := range a.cs {
				v := per[cs.id]
				if v == nil {
					v = make([]md, k)
					per[cs.id] = v
				}
				v[j].m += cs.m
				v[j].d += cs.d
				sm += cs.m
				sd += cs.d
			}
			dsum[j] = sd
			ratios[j] = sm / sd
		}
		cov = mat.NewSymDense(k, nil)
		kk := float64(len(per))
		if kk < 2 {
			return ratios, cov
		}
		// Clusters in id order, so the sums do not depend on map order.
		ids := make([]int32, 0, len(per))
		for id := range per {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		e := make([]float64, k)
		for _, id := range ids {
			v := per[id]
			for j := range e {
				e[j] = v[j].m - ratios[j]*v[j].d
			}
			for a := 0; a < k; a++ {
				for b := a; b < k; b++ {
					cov.SetSym(a, b, cov.At(a, b)+e[a]*e[b])
				}
			}
		}
		f := kk / (kk - 1)
		for a := 0; a < k; a++ {
			for b := a; b < k; b++ {
				cov.SetSym(a, b, f*cov.At(a, b)/(dsum[a]*dsum[b]))
			}
		}
		return ratios, cov
	}
	rc, cc := armCov(0)
	rt, ct := armCov(1)
	est := make([]float64, k)
	for j := range est {
		est[j] = (rt[j] - rc[j]) / math.Abs(rc[j])
	}
	sigma := mat.NewSymDense(k, nil)
	for a := 0; a < k; a++ {
		for b := a; b < k; b++ {
			v := ct.At(a, b)/(rc[a]*rc[b]) + rt[a]*rt[b]*cc.At(a, b)/(rc[a]*rc[a]*rc[b]*rc[b])
			sigma.SetSym(a, b, v)
		}
	}
	return est, sigma
}

// heteroClusters is G of the F reference: the number of randomization
// units with data in the values use, in the smaller arm.
func (s *state) heteroClusters(rows []results.Row, use []int) int {
	var ids [2]map[int32]bool
	for a := range ids {
		ids[a] = map[int32]bool{}
	}
	for _, k := range use {
		c, t := s.cellsOf(s.refs[k])
		for _, x := range c.cs {
			ids[0][x.id] = true
		}
		for _, x := range t.cs {
			ids[1][x.id] = true
		}
	}
	return min(len(ids[0]), len(ids[1]))
}

// waldEqual is the Wald statistic of H0: all est equal, with covariance
// sigma: δᵀ (C Σ Cᵀ)⁻¹ δ for the contrasts δ_j = est_{j+1} − est_0. ok is
// false when C Σ Cᵀ is not positive definite.
func waldEqual(est []float64, sigma *mat.SymDense) (float64, bool) {
	k := len(est)
	d := make([]float64, k-1)
	cs := mat.NewSymDense(k-1, nil)
	for a := 1; a < k; a++ {
		d[a-1] = est[a] - est[0]
		for b := a; b < k; b++ {
			// Cov(est_a − est_0, est_b − est_0)
			v := sigma.At(a, b) - sigma.At(a, 0) - sigma.At(0, b) + sigma.At(0, 0)
			cs.SetSym(a-1, b-1, v)
		}
	}
	var ch mat.Cholesky
	if !ch.Factorize(cs) {
		return 0, false
	}
	x := mat.NewVecDense(k-1, nil)
	if err := ch.SolveVecTo(x, mat.NewVecDense(k-1, d)); err != nil {
		return 0, false
	}
	w := mat.Dot(mat.NewVecDense(k-1, d), x)
	if math.IsNaN(w) || w < 0 {
		return 0, false
	}
	return w, true
}

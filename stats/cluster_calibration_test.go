package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// Calibration of the cluster comparisons on the design signalab's users
// run: shops randomized, conversations analysed, few shops (10–150 per arm)
// of lognormal size (σ = 1.2 on the log scale, median 40 conversations:
// the largest of 40 shops often holds a third of the conversations), a
// shop effect on the logit of conversion (sd 0.6, base rate 10%) and on the
// log order value (sd 0.5), and a pre-period covariate from the same shop
// effect (clustersim_test.go). Every experiment draws fresh shops; arms are
// a random half (complete randomization, which the permutation redraws
// reproduce). Fixed seeds; SIGNALAB_LONG=1 runs more experiments and
// K = 150 (numbers in docs/statistics.md, "Calibration of the cluster
// tests").
//
// Bands: a check of an exact method (the randomization test) passes when
// its count is inside the exact binomial band at level 1 − 0.05/m for the m
// checks of the test (so that a calibrated method fails the whole test by
// chance at most 5% of the time a seed changes); CR2, approximate, must not
// be anti-conservative beyond that band and may be conservative down to
// α/2 (see clusterCheck). The log also shows the plain 95% band.

func long() bool { return os.Getenv("SIGNALAB_LONG") == "1" }

// clusterCheck is one rejection (or coverage) count.
type clusterCheck struct {
	name    string
	hits, n int
	target  float64
	// expectFail: the check documents a method that is known to fail
	// (the count must lie above the band).
	expectFail bool
	// approximate: the method (CR2) is only approximately calibrated; it
	// must not err on the anti-conservative side (rejections above the
	// band, coverage below it) and may be conservative down to half of α
	// (rejections ≥ α/2, coverage ≤ 1 − α/2). Exact methods (the
	// randomization test) must lie inside the band.
	approximate bool
	// logOnly: shown, not asserted (a documented weakness of a method
	// that auto does not choose there).
	logOnly bool
}

func checkBands(t *testing.T, checks []clusterCheck) {
	t.Helper()
	m := float64(len(checks))
	for _, c := range checks {
		lo, hi := BinomialBand(c.n, c.target, 1-0.05/m)
		lo95, hi95 := BinomialBand(c.n, c.target, 0.95)
		rate := float64(c.hits) / float64(c.n)
		t.Logf("%-48s %5.2f%% of %5d (95%% band %.1f–%.1f%%, test band %.1f–%.1f%%)", c.name, 100*rate, c.n,
			100*float64(lo95)/float64(c.n), 100*float64(hi95)/float64(c.n), 100*float64(lo)/float64(c.n), 100*float64(hi)/float64(c.n))
		coverage := c.target > 0.5
		switch {
		case c.logOnly:
		case c.expectFail && c.hits <= hi:
			t.Errorf("%s: %.2f%% is inside the band; the check is meant to show this method failing", c.name, 100*rate)
		case c.expectFail:
		case c.approximate && !coverage && (c.hits > hi || rate < c.target/2):
			t.Errorf("%s: %.2f%% outside %.1f–%.1f%% (approximate method)", c.name, 100*rate, 100*c.target/2, 100*float64(hi)/float64(c.n))
		case c.approximate && coverage && (c.hits < lo || rate > 1-(1-c.target)/2):
			t.Errorf("%s: %.2f%% outside %.1f–%.1f%% (approximate method)", c.name, 100*rate, 100*float64(lo)/float64(c.n), 100*(1-(1-c.target)/2))
		case !c.approximate && (c.hits < lo || c.hits > hi):
			t.Errorf("%s: %.2f%% outside %.1f–%.1f%%", c.name, 100*rate, 100*float64(lo)/float64(c.n), 100*float64(hi)/float64(c.n))
		}
	}
}

// TestClusterCalibrationAA: A/A rejection at α = 0.05 of the randomization
// test (the default below 200 shops per arm) and of CR2 (the default
// above), for proportion, mean and ratio metrics with and without CUPED and
// for the clustered median, at 10, 20 and 50 shops per arm (and 150 with
// SIGNALAB_LONG=1). The delta method with Welch degrees of freedom (the
// method before CR2) and the cluster bootstrap of the median are shown
// failing at 10 shops per arm. Default: 1,000 experiments per K, 200
// redraws per randomization test (exact for any number of redraws);
// SIGNALAB_LONG=1: 4,000 and 500.
func TestClusterCalibrationAA(t *testing.T) {
	runs, draws := 1000, 200
	ks := []int{10, 20, 50}
	if long() {
		runs, draws = 4000, 500
		ks = append(ks, 150)
	}
	var checks []clusterCheck
	for _, k := range ks {
		d := defaultClusterDesign(k)
		rng := rand.New(rand.NewPCG(uint64(k), 2026))
		rej := map[string]int{}
		for r := range runs {
			shops, arms := d.draw(rng, true)
			rz := Randomization{Draws: draws, Redraw: PermutationRedraw(arms, uint64(r))}
			for m := range 3 {
				cs := simClusters(shops, m)
				c, tr := ClusterArms(cs, arms)
				for _, cuped := range []bool{false, true} {
					name := simMetricNames[m]
					if cuped {
						name += "+cuped"
					}
					if RandomizationPValue(cs, arms, cuped, TwoSided, rz) < 0.05 {
						rej["randomization "+name]++
					}
					if res := CompareClustersCR2(c, tr, cuped, Options{}); res.Reason == "" && res.PValue < 0.05 {
						rej["cr2 "+name]++
					}
					if k == 10 && m == simConversion && !cuped {
						if deltaWelch(cs, arms, false).PValue < 0.05 {
							rej["delta "+name]++
						}
					}
				}
			}
			vals := make([][]float64, len(shops))
			for i, s := range shops {
				vals[i] = s.vals
			}
			if ClusterQuantilesPValue(vals, arms, 0.5, TwoSided, rz) < 0.05 {
				rej["randomization median"]++
			}
			if ClusterQuantilesPValue(vals, arms, 0.5, TwoSided, Randomization{}) < 0.05 {
				rej["cr2 median"]++
			}
			if k == 10 {
				var ca, cb [][]float64
				for i, v := range vals {
					if arms[i] == 0 {
						ca = append(ca, v)
					} else {
						cb = append(cb, v)
					}
				}
				if res := BootstrapClusterQuantiles(ca, cb, 0.5, 200, uint64(r), Options{}); res.Reason == "" && res.PValue < 0.05 {
					rej["bootstrap median"]++
				}
			}
		}
		names := make([]string, 0, len(rej))
		for n := range rej {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fail := n == "delta proportion" || n == "bootstrap median"
			approx := strings.HasPrefix(n, "cr2 ")
			// CR2's clustered median test is slightly liberal at 10 shops
			// per arm (6.5% over 4,000 experiments): documented, and auto
			// uses the randomization test there.
			logOnly := n == "cr2 median" && k < 20
			checks = append(checks, clusterCheck{name: fmt.Sprintf("K=%d %s", k, n), hits: rej[n], n: runs, target: 0.05,
				expectFail: fail, approximate: approx, logOnly: logOnly})
		}
		if k == 10 {
			for _, n := range []string{"delta proportion", "bootstrap median"} {
				if _, ok := rej[n]; !ok {
					checks = append(checks, clusterCheck{name: fmt.Sprintf("K=%d %s", k, n), n: runs, target: 0.05, expectFail: true})
				}
			}
		}
	}
	checkBands(t, checks)
}

// TestClusterCalibrationCoverage: coverage of the 95% intervals of a planted
// +20% lift on every shop's conversion probability (absolute truth 0.2·E p
// for the proportion, relative truth 0.2 for proportion and mean, 0 for the
// ratio, whose numerator and denominator both scale): the randomization
// test's intervals by inversion (additive model for the absolute,
// multiplicative for the relative interval) and CR2's (t for the absolute,
// Fieller for the relative). 20 shops per arm; default 300 experiments for
// the randomization intervals (each needs ~100 tests) and 1,000 for CR2;
// SIGNALAB_LONG=1: 10, 20 and 50 shops per arm, 1,000 and 4,000.
func TestClusterCalibrationCoverage(t *testing.T) {
	runsRI, runsCR2 := 300, 1000
	ks := []int{20}
	if long() {
		runsRI, runsCR2 = 1000, 4000
		ks = []int{10, 20, 50}
	}
	const lift = 0.2
	ep := meanShopRate(defaultClusterDesign(1))
	var checks []clusterCheck
	for _, k := range ks {
		d := defaultClusterDesign(k)
		d.lift = lift
		rng := rand.New(rand.NewPCG(uint64(k), 7))
		cov := map[string]int{}
		for r := range runsCR2 {
			shops, arms := d.draw(rng, false)
			for m := range 3 {
				cs := simClusters(shops, m)
				c, tr := ClusterArms(cs, arms)
				wantRel, wantAbs := lift, lift*ep
				if m == simAOV {
					wantRel, wantAbs = 0, 0
				}
				res := map[string]Result{"cr2": CompareClustersCR2(c, tr, true, Options{})}
				if r < runsRI {
					res["randomization"] = CompareClustersRandomization(cs, arms, true, Options{},
						Randomization{Draws: 200, Redraw: PermutationRedraw(arms, uint64(r))})
				}
				for name, x := range res {
					if x.Reason != "" {
						continue
					}
					if m != simRevenue && x.AbsCI[0] <= wantAbs && wantAbs <= x.AbsCI[1] {
						cov[name+" "+simMetricNames[m]+"+cuped absolute"]++
					}
					if x.RelCI[0] <= wantRel && wantRel <= x.RelCI[1] {
						cov[name+" "+simMetricNames[m]+"+cuped relative"]++
					}
				}
			}
		}
		names := make([]string, 0, len(cov))
		for n := range cov {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			runs := runsCR2
			if n[:3] != "cr2" {
				runs = runsRI
			}
			checks = append(checks, clusterCheck{name: fmt.Sprintf("K=%d %s", k, n), hits: cov[n], n: runs, target: 0.95,
				approximate: strings.HasPrefix(n, "cr2 ")})
		}
	}
	checkBands(t, checks)
}

// meanShopRate is E[logistic(logit(base) + a)] over the shop effect a of
// d, by 200,000 fixed draws.
func meanShopRate(d clusterDesign) float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	l0 := math.Log(d.baseRate / (1 - d.baseRate))
	var s float64
	const n = 200000
	for range n {
		s += logistic(l0 + d.shopSD*rng.NormFloat64())
	}
	return s / n
}

// shopICC is the intraclass correlation of the conversion indicator under
// d: Var(p_shop)/(E p (1 − E p)), by 200,000 fixed draws.
func shopICC(d clusterDesign) float64 {
	rng := rand.New(rand.NewPCG(1, 1))
	l0 := math.Log(d.baseRate / (1 - d.baseRate))
	var s, s2 float64
	const n = 200000
	for range n {
		p := logistic(l0 + d.shopSD*rng.NormFloat64())
		s += p
		s2 += p * p
	}
	m := s / n
	return (s2/n - m*m) / (m * (1 - m))
}

// simSizes is a sample of d's shop sizes.
func simSizes(d clusterDesign, n int) []float64 {
	rng := rand.New(rand.NewPCG(3, 3))
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Max(1, math.Round(math.Exp(d.sizeMu+d.sizeSigma*rng.NormFloat64())))
	}
	return out
}

// TestClusterPowerMatchesSimulation: ClusterPowerSpec's predicted power of
// the conversion metric (the design's shop sizes and intraclass
// correlation, planted relative lift tested as the absolute difference)
// is within 5 points of the detection rate of the randomization test on
// 600 simulated experiments (default; 2,000 with SIGNALAB_LONG=1), at two
// settings: 20 shops per arm with a +100% lift and 50 per arm with +60%.
func TestClusterPowerMatchesSimulation(t *testing.T) {
	runs := 600
	if long() {
		runs = 2000
	}
	for _, set := range []struct {
		k    int
		lift float64
	}{{20, 1.0}, {50, 0.6}} {
		d := defaultClusterDesign(set.k)
		d.lift = set.lift
		spec := ClusterPowerSpec{PowerSpec: PowerSpec{Kind: Proportion, Baseline: meanShopRate(d)},
			ICC: shopICC(d), Sizes: simSizes(d, 100000)}
		pred, err := spec.Power(set.lift, set.k)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(set.k), 11))
		det, detCR2 := 0, 0
		for r := range runs {
			shops, arms := d.draw(rng, false)
			cs := simClusters(shops, simConversion)
			rz := Randomization{Draws: 200, Redraw: PermutationRedraw(arms, uint64(r))}
			if RandomizationPValue(cs, arms, false, TwoSided, rz) < 0.05 {
				det++
			}
			c, tr := ClusterArms(cs, arms)
			if CompareClustersCR2(c, tr, false, Options{}).PValue < 0.05 {
				detCR2++
			}
		}
		rate := float64(det) / float64(runs)
		t.Logf("K=%d lift %+.0f%%: predicted power %.3f (ICC %.4f, design effect %.2f, mean df %.1f), randomization test detects %.3f of %d (CR2 %.3f)",
			set.k, 100*set.lift, pred, spec.ICC, DesignEffect(spec.ICC, mean(spec.Sizes), cv(spec.Sizes)), spec.MeanDF(set.k), rate, runs,
			float64(detCR2)/float64(runs))
		if math.Abs(pred-rate) > 0.05 {
			t.Errorf("K=%d: predicted power %.3f, simulated %.3f: more than 5 points apart", set.k, pred, rate)
		}
	}
}

func mean(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

func cv(xs []float64) float64 {
	m := mean(xs)
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s/float64(len(xs))) / m
}

// TestClusterSequentialPlan: a sequential plan and its analysis agree.
// ClusterPowerSpec with Sequential sizes the shops per arm K for 80% power
// at +100% with N* = 2K (the fixed point `signalab power --sequential`
// prints as plan.units_per_arm = K); 600 simulated experiments of K shops
// per arm, analysed with CR2 confidence sequences tuned at N* = 2K (what
// analyze does with that plan), detect within 5 points of 80%. With
// GrowthBook's default N* = 5000 (analyze before plans) they detect less.
func TestClusterSequentialPlan(t *testing.T) {
	runs := 600
	if long() {
		runs = 2000
	}
	d := defaultClusterDesign(1)
	const lift = 1.0
	d.lift = lift
	spec := ClusterPowerSpec{PowerSpec: PowerSpec{Kind: Proportion, Baseline: meanShopRate(d)},
		ICC: shopICC(d), Sizes: simSizes(d, 100000), Draws: 1000}
	k, err := spec.ClustersPerArm(lift, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		spec.Sequential = Sequential{Enabled: true, TuningN: float64(2 * k)}
		m, err := spec.ClustersPerArm(lift, 0.8)
		if err != nil {
			t.Fatal(err)
		}
		if m == k {
			break
		}
		k = m
	}
	pred, _ := spec.Power(lift, k)
	d.perArm = k
	rng := rand.New(rand.NewPCG(5, 5))
	det, detDefault := 0, 0
	for range runs {
		shops, arms := d.draw(rng, false)
		c, tr := ClusterArms(simClusters(shops, simConversion), arms)
		if CompareClustersCR2(c, tr, false, Options{Sequential: Sequential{Enabled: true, TuningN: float64(2 * k)}}).PValue < 0.05 {
			det++
		}
		if CompareClustersCR2(c, tr, false, Options{Sequential: Sequential{Enabled: true, TuningN: DefaultTuningN}}).PValue < 0.05 {
			detDefault++
		}
	}
	rate, rateDefault := float64(det)/float64(runs), float64(detDefault)/float64(runs)
	t.Logf("sequential plan: %d shops per arm, N* = %d, predicted power %.3f; CR2 confidence sequence detects %.3f (N* = 5000: %.3f) of %d",
		k, 2*k, pred, rate, rateDefault, runs)
	if math.Abs(rate-pred) > 0.05 || math.Abs(pred-0.8) > 0.03 {
		t.Errorf("planned %.3f (target 0.8), detected %.3f", pred, rate)
	}
	if !(rateDefault < rate) {
		t.Errorf("N* = 5000 detects %.3f, not less than the plan's %.3f", rateDefault, rate)
	}
}

package stats

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
)

// Calibration by simulation (fixed seeds). Default size: 2,000 experiments
// per check (a few seconds). SIGNALAB_LONG=1 runs 100,000 per check (about a
// minute); results of that run are recorded in docs/statistics.md.
//
// Monte Carlo bands: with R runs at rate 0.05 the SE is √(0.05·0.95/R)
// (0.49% at R = 2000), so 3.8%–6.2% is about ±2.5 SE; likewise for coverage.
func calibrationRuns() int {
	if os.Getenv("SIGNALAB_LONG") == "1" {
		return 100000
	}
	return 2000
}

func band(runs int, p float64) (lo, hi float64) {
	se := math.Sqrt(p * (1 - p) / float64(runs))
	return p - 2.45*se, p + 2.45*se
}

// TestCalibrationAATypeIError: A/A experiments on a skewed (exponential)
// metric, Welch t at α = 0.05, and a proportion metric (p = 0.1).
func TestCalibrationAATypeIError(t *testing.T) {
	runs := calibrationRuns()
	rng := rand.New(rand.NewPCG(1, 2))
	rejMean, rejProp := 0, 0
	for range runs {
		var a, b, pa, pb Moments
		for range 300 {
			a.Observe(rng.ExpFloat64())
			b.Observe(rng.ExpFloat64())
			pa.Observe(bernoulli(rng, 0.1))
			pb.Observe(bernoulli(rng, 0.1))
		}
		if CompareMeans(a, b, Mean, Options{}).PValue < 0.05 {
			rejMean++
		}
		if CompareMeans(pa, pb, Proportion, Options{}).PValue < 0.05 {
			rejProp++
		}
	}
	lo, hi := band(runs, 0.05)
	for name, rej := range map[string]int{"mean": rejMean, "proportion": rejProp} {
		rate := float64(rej) / float64(runs)
		t.Logf("%s: A/A rejection rate %.4f over %d runs (band %.4f–%.4f)", name, rate, runs, lo, hi)
		if rate < lo || rate > hi {
			t.Errorf("%s: A/A rejection rate %.4f outside %.4f–%.4f", name, rate, lo, hi)
		}
	}
}

func bernoulli(rng *rand.Rand, p float64) float64 {
	if rng.Float64() < p {
		return 1
	}
	return 0
}

// TestCalibrationCoverage: a planted absolute effect of 0.1 (relative 10%)
// on a normal metric N(1, 1); the 95% absolute and relative intervals must
// cover it 93.8%–96.2% of the time (at the default size).
func TestCalibrationCoverage(t *testing.T) {
	runs := calibrationRuns()
	rng := rand.New(rand.NewPCG(3, 4))
	covAbs, covRel := 0, 0
	for range runs {
		var a, b Moments
		for range 400 {
			a.Observe(1 + rng.NormFloat64())
			b.Observe(1.1 + rng.NormFloat64())
		}
		r := CompareMeans(a, b, Mean, Options{})
		if r.AbsCI[0] <= 0.1 && 0.1 <= r.AbsCI[1] {
			covAbs++
		}
		if r.RelCI[0] <= 0.1 && 0.1 <= r.RelCI[1] {
			covRel++
		}
	}
	lo, hi := band(runs, 0.95)
	for name, c := range map[string]int{"absolute": covAbs, "relative": covRel} {
		rate := float64(c) / float64(runs)
		t.Logf("%s: coverage %.4f over %d runs (band %.4f–%.4f)", name, rate, runs, lo, hi)
		if rate < lo || rate > hi {
			t.Errorf("%s: coverage %.4f outside %.4f–%.4f", name, rate, lo, hi)
		}
	}
}

// TestCalibrationCUPEDVarianceReduction: Y = X + ε with Corr(X, Y) = ρ; CUPED
// with a pooled θ should cut the variance of the effect by ρ² (Deng et al.
// 2013, §3.2). Checks the mean reported VarianceReduction within ±0.03 of ρ²
// and that the empirical variance of the adjusted estimates matches.
func TestCalibrationCUPEDVarianceReduction(t *testing.T) {
	runs := calibrationRuns() / 4
	rng := rand.New(rand.NewPCG(5, 6))
	const rho = 0.7
	noise := math.Sqrt(1/(rho*rho) - 1) // Var(X) = 1, Corr(X, X + ε) = ρ
	var vr, sumAdj, sumAdj2, sumRaw, sumRaw2 float64
	for range runs {
		var a, b CovariateMoments
		for range 500 {
			x := rng.NormFloat64()
			a.Observe(x+noise*rng.NormFloat64(), x)
			x = rng.NormFloat64()
			b.Observe(x+noise*rng.NormFloat64(), x)
		}
		r := CompareMeansCUPED(a, b, Mean, Options{})
		raw := CompareMeans(a.Outcome(), b.Outcome(), Mean, Options{})
		vr += r.VarianceReduction
		sumAdj += r.AbsEffect
		sumAdj2 += r.AbsEffect * r.AbsEffect
		sumRaw += raw.AbsEffect
		sumRaw2 += raw.AbsEffect * raw.AbsEffect
	}
	n := float64(runs)
	vr /= n
	empirical := 1 - (sumAdj2/n-(sumAdj/n)*(sumAdj/n))/(sumRaw2/n-(sumRaw/n)*(sumRaw/n))
	t.Logf("CUPED: mean reported variance reduction %.4f, empirical %.4f, theory ρ² = %.4f (%d runs)", vr, empirical, rho*rho, runs)
	if math.Abs(vr-rho*rho) > 0.03 {
		t.Errorf("reported variance reduction %.4f, want ρ² = %.2f ± 0.03", vr, rho*rho)
	}
	if math.Abs(empirical-rho*rho) > 0.08 {
		t.Errorf("empirical variance reduction %.4f, want ρ² = %.2f ± 0.08", empirical, rho*rho)
	}
}

// TestCalibrationSequentialPeeking: A/A experiments checked after every 100
// units per arm up to 3,000 (30 looks). The fixed-horizon test, peeked at,
// rejects far above α at some look; the confidence sequence must keep the
// probability of ever rejecting at or below α (within Monte Carlo error).
func TestCalibrationSequentialPeeking(t *testing.T) {
	runs := calibrationRuns() / 2
	rng := rand.New(rand.NewPCG(7, 8))
	everSeq, everFixed := 0, 0
	opts := Options{Sequential: Sequential{Enabled: true, TuningN: 3000}}
	for range runs {
		var a, b Moments
		seqHit, fixedHit := false, false
		for look := 1; look <= 30; look++ {
			for range 100 {
				a.Observe(rng.NormFloat64())
				b.Observe(rng.NormFloat64())
			}
			if !seqHit && CompareMeans(a, b, Mean, opts).PValue < 0.05 {
				seqHit = true
			}
			if !fixedHit && CompareMeans(a, b, Mean, Options{}).PValue < 0.05 {
				fixedHit = true
			}
		}
		if seqHit {
			everSeq++
		}
		if fixedHit {
			everFixed++
		}
	}
	seqRate := float64(everSeq) / float64(runs)
	fixedRate := float64(everFixed) / float64(runs)
	_, hi := band(runs, 0.05)
	t.Logf("peeking at 30 looks: sequential ever-reject %.4f, fixed-horizon ever-reject %.4f (%d runs)", seqRate, fixedRate, runs)
	if seqRate > hi {
		t.Errorf("sequential error rate under peeking %.4f exceeds %.4f", seqRate, hi)
	}
	if fixedRate < 0.1 {
		t.Errorf("fixed-horizon peeking rate %.4f: expected inflation above 0.10 (simulation broken?)", fixedRate)
	}
}

// TestCalibrationClusteredRatio: shops are randomized, conversations
// measured. Each shop has its own conversion rate (uniform 0.02–0.5) and 1–40
// conversations. The per-shop ratio (delta method) keeps the A/A rejection
// rate at α; a naive per-conversation proportion test, which ignores the
// clustering, rejects far more often.
func TestCalibrationClusteredRatio(t *testing.T) {
	runs := calibrationRuns()
	rng := rand.New(rand.NewPCG(9, 10))
	rejRatio, rejNaive := 0, 0
	for range runs {
		var ra, rb RatioMoments
		var na, nb Moments
		for range 150 {
			for arm := range 2 {
				rate := 0.02 + 0.48*rng.Float64()
				convs := 1 + rng.IntN(40)
				conv := 0.0
				for range convs {
					conv += bernoulli(rng, rate)
				}
				if arm == 0 {
					ra.Observe(conv, float64(convs))
					na = na.Add(Moments{N: float64(convs), Sum: conv, SumSq: conv})
				} else {
					rb.Observe(conv, float64(convs))
					nb = nb.Add(Moments{N: float64(convs), Sum: conv, SumSq: conv})
				}
			}
		}
		if CompareRatios(ra, rb, Options{}).PValue < 0.05 {
			rejRatio++
		}
		if CompareMeans(na, nb, Proportion, Options{}).PValue < 0.05 {
			rejNaive++
		}
	}
	lo, hi := band(runs, 0.05)
	ratio, naive := float64(rejRatio)/float64(runs), float64(rejNaive)/float64(runs)
	t.Logf("clustered A/A: delta-method ratio rejects %.4f, naive per-conversation test %.4f (%d runs, band %.4f–%.4f)", ratio, naive, runs, lo, hi)
	if ratio < lo || ratio > hi {
		t.Errorf("ratio A/A rejection %.4f outside %.4f–%.4f", ratio, lo, hi)
	}
	if naive < 0.15 {
		t.Errorf("naive per-conversation test rejects %.4f: expected clear inflation (simulation broken?)", naive)
	}
}

// TestCalibrationQuantiles: the outer order-statistic interval of the median
// of an exponential sample (n = 200) covers the true median ln 2 at least
// 95% of the time (it is conservative by construction), and CompareQuantiles
// on A/A data rejects at about α.
func TestCalibrationQuantiles(t *testing.T) {
	runs := calibrationRuns()
	rng := rand.New(rand.NewPCG(15, 16))
	covered, rejected := 0, 0
	a, b := make([]float64, 200), make([]float64, 200)
	for range runs {
		for i := range a {
			a[i], b[i] = rng.ExpFloat64(), rng.ExpFloat64()
		}
		slices.Sort(a)
		slices.Sort(b)
		qa, qb := QuantileCI(a, 0.5, 0.05), QuantileCI(b, 0.5, 0.05)
		if qa.Lower <= math.Ln2 && math.Ln2 <= qa.Upper {
			covered++
		}
		if CompareQuantiles(qa, qb, Options{Test: Z}).PValue < 0.05 {
			rejected++
		}
	}
	cov, rej := float64(covered)/float64(runs), float64(rejected)/float64(runs)
	lo, _ := band(runs, 0.95)
	// The outer interval's width makes the variance it implies (and so the
	// comparison) slightly conservative; the test only bounds the error rate.
	_, hiRej := band(runs, 0.05)
	t.Logf("quantiles: median interval coverage %.4f, A/A rejection %.4f (%d runs)", cov, rej, runs)
	if cov < lo {
		t.Errorf("median interval coverage %.4f below %.4f", cov, lo)
	}
	if rej > hiRej || rej < 0.01 {
		t.Errorf("A/A rejection of CompareQuantiles %.4f outside 0.01–%.4f", rej, hiRej)
	}
}

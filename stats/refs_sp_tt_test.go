package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func distuvNormalCDF(x float64) float64 { return distuv.UnitNormal.CDF(x) }

// relClose checks |got − want| ≤ rtol·|want| (Spotify's tests use rtol).
func relClose(t *testing.T, what string, got, want, rtol float64) {
	t.Helper()
	if !(math.Abs(got-want) <= rtol*math.Abs(want)) {
		t.Errorf("%s = %.10g, want %.10g (rtol %g)", what, got, want, rtol)
	}
}

// SP-1: Spotify confidence test_chisquared.py TestCategorical. Convention:
// z test whose p-value uses the pooled proportion (equal to Pearson χ²
// without Yates) and whose interval uses the unpooled SE; Spotify's relative
// interval is the absolute interval divided by the control rate.
func TestSP1ProportionsChiSquared(t *testing.T) {
	opts := Options{Test: Z, PooledProportionSE: true}
	r := CompareMeans(Moments{N: 104, Sum: 42, SumSq: 42}, Moments{N: 1009, Sum: 500, SumSq: 500}, Proportion, opts)
	approx(t, "diff", r.AbsEffect, 0.091694, 6)
	approxCI(t, "CI", r.AbsCI, -0.0075254, 0.190913, 6)
	approx(t, "p", r.PValue, 0.074866, 6)
	approx(t, "rel", r.RelEffect, 0.227052, 6)
	approxCI(t, "rel CI (abs CI / control rate)", Interval{r.AbsCI[0] / r.ControlMean, r.AbsCI[1] / r.ControlMean},
		-0.0186344, 0.47273797, 7)
	// The p-value is the χ² test's: with Yates it would be 0.0933.
	yates := CompareMeans(Moments{N: 104, Sum: 42, SumSq: 42}, Moments{N: 1009, Sum: 500, SumSq: 500}, Proportion,
		Options{Test: Z, PooledProportionSE: true, ContinuityCorrection: true})
	approx(t, "p with Yates", yates.PValue, 0.0933, 4)

	r2 := CompareMeans(Moments{N: 100, Sum: 40, SumSq: 40}, Moments{N: 100, Sum: 50, SumSq: 50}, Proportion, opts)
	approx(t, "diff 2", r2.AbsEffect, 0.1, 9)
	approxCI(t, "CI 2", r2.AbsCI, -0.03719748, 0.237197, 6)
	approx(t, "p 2", r2.PValue, 0.155218, 6)
}

// SP-2: Spotify test_ttest.py. Convention: Welch t, sample variance.
func TestSP2WelchT(t *testing.T) {
	r := CompareMeans(Moments{N: 104, Sum: 312, SumSq: 984}, Moments{N: 1009, Sum: 1969, SumSq: 5767}, Mean, Options{})
	approx(t, "diff", r.AbsEffect, -1.0485629, 7)
	relClose(t, "CI lower", r.AbsCI[0], -1.205963, 1e-3)
	relClose(t, "CI upper", r.AbsCI[1], -0.891163, 1e-3)
	approxCI(t, "CI (re-derived)", r.AbsCI, -1.20596, -0.89116, 5)
	if r.PValue > 1e-20 {
		t.Errorf("p = %v, want ≈ 0", r.PValue)
	}

	r2 := CompareMeans(Moments{N: 10, Sum: 24, SumSq: 80}, Moments{N: 150, Sum: 330, SumSq: 1010}, Mean, Options{})
	approx(t, "diff 2", r2.AbsEffect, -0.2, 9)
	approxCI(t, "CI 2", r2.AbsCI, -1.340533, 0.940533, 6)
	// REFERENCES.md gives 0.704021 (truncated); scipy 1.10
	// ttest_ind_from_stats(..., equal_var=False) gives 0.7040218147041715.
	approx(t, "p 2", r2.PValue, 0.7040218147041715, 12)
	approx(t, "df 2", r2.DF, 9.94, 2)

	a := Moments{N: 48351, Sum: 1.438602e6, SumSq: 7.330581e7}
	b := Moments{N: 50571, Sum: 1.521974e6, SumSq: 7.862121e7}
	big := CompareMeans(a, b, Mean, Options{})
	relClose(t, "large p (Spotify, rtol 1%)", big.PValue, 0.03334, 0.01)
	approx(t, "large p (re-derived)", big.PValue, 0.03326, 5)
	rev := CompareMeans(b, a, Mean, Options{})
	approx(t, "large p symmetric", rev.PValue, big.PValue, 12)
}

// SP-3: Spotify test_ztest.py TestWithNims. Convention: z test, α = 0.01,
// one-sided, non-inferiority margin relative to the control mean (null
// Δ = −0.02·μ_1 when an increase is preferred, +0.02·μ_1 for a decrease).
func TestSP3NonInferiority(t *testing.T) {
	g1 := Moments{N: 5000, Sum: 10021, SumSq: 25142}
	g2 := Moments{N: 5000, Sum: 9892, SumSq: 24510}
	inc := CompareMeans(g1, g2, Mean, Options{Test: Z, Alpha: 0.01, Alternative: Greater, NonInferiorityMargin: 0.02})
	approx(t, "diff", inc.AbsEffect, -0.0258, 4)
	approx(t, "SE", inc.AbsSE, 0.0200, 4)
	approxCI(t, "increase CI", inc.AbsCI, -0.0723, math.Inf(1), 4)
	if !(inc.PValue > 0.01) {
		t.Errorf("increase p = %v, want > 0.01", inc.PValue)
	}
	approx(t, "increase p (re-derived)", inc.PValue, 0.2375, 4)
	dec := CompareMeans(g1, g2, Mean, Options{Test: Z, Alpha: 0.01, Alternative: Less, NonInferiorityMargin: 0.02})
	approxCI(t, "decrease CI", dec.AbsCI, math.Inf(-1), 0.0207, 4)
	if !(dec.PValue < 0.01) {
		t.Errorf("decrease p = %v, want < 0.01", dec.PValue)
	}
	approx(t, "decrease p (re-derived)", dec.PValue, 0.00049, 5)
}

// SP-5: Spotify sample-size tests (G*Power references). Convention: z,
// unpooled variances, absolute MDE, two-sided α = 0.05.
func TestSP5SampleSizeAndPower(t *testing.T) {
	cont := PowerSpec{Kind: Mean, Baseline: 1, Variance: 100, Absolute: true}
	n, err := cont.SampleSize(0.3, 0.85)
	if err != nil {
		t.Fatal(err)
	}
	// Spotify's 39 906 comes from its own rounding; the closed form gives
	// 19 952 per arm, 39 904 in total (REFERENCES.md).
	approx(t, "continuous total", 2*n, 39904, 0)
	bin := PowerSpec{Kind: Proportion, Baseline: 0.34, Absolute: true}
	nb, err := bin.SampleSize(0.003, 0.85)
	if err != nil {
		t.Fatal(err)
	}
	// The unpooled closed form gives 448 672 per arm (897 344); counting
	// both rejection regions, as PowerSpec.Power (and statsmodels) do,
	// 448 671 already reaches 85%. Spotify reports 897 348 (pooled-null
	// variance gives 897 350): rtol 1e-5.
	approx(t, "binomial total (two-region power)", 2*nb, 897342, 0)
	relClose(t, "binomial total vs Spotify", 2*nb, 897348, 1e-5)
	if p, _ := bin.Power(0.003, nb); p < 0.85 {
		t.Errorf("power at %v per arm %v < 0.85", nb, p)
	}
	if p, _ := bin.Power(0.003, nb-1); p >= 0.85 {
		t.Errorf("power at %v per arm %v already ≥ 0.85: not the smallest n", nb-1, p)
	}
	p, err := PowerSpec{Kind: Mean, Baseline: 1, Variance: 45, Absolute: true}.Power(0.03, 859896)
	if err != nil {
		t.Fatal(err)
	}
	// Spotify's 0.8345828 counts only the upper rejection region; signalab
	// adds the lower one Φ(−z − d) (statsmodels NormalIndPower().power(
	// 0.03/√45, 859896, 0.05) = 0.8345832434083682).
	approx(t, "power (two regions, statsmodels)", p, 0.8345832434083682, 12)
	d := 0.03 / math.Sqrt(2*45.0/859896)
	approx(t, "power (upper region, Spotify)", p-distuvNormalCDF(-1.959963984540054-d), 0.8345828, 6)
	t.Run("three arms", func(t *testing.T) {
		t.Skip("Spotify's 3-arm allocation (673 157 + 2×336 578) uses a multi-arm convention not implemented; our closed form with Bonferroni and 2:1 allocation differs by 0.05%")
	})
}

// ttArm holds tea-tasting's fixture reduced to integer sufficient statistics
// (REFERENCES.md table): M = orders, D = sessions, U = orders_cov,
// V = sessions_cov.
var (
	ttControl = RatioCovariateMoments{N: 53, SumM: 30, SumM2: 58, SumD: 105, SumD2: 259,
		SumU: 28, SumU2: 90, SumV: 102, SumV2: 380,
		SumMD: 80, SumDV: 260, SumDU: 76, SumMV: 94, SumMU: 56, SumUV: 118}
	ttTreatment = RatioCovariateMoments{N: 47, SumM: 18, SumM2: 30, SumD: 89, SumD2: 205,
		SumU: 15, SumU2: 31, SumV: 92, SumV2: 290,
		SumMD: 41, SumDV: 213, SumDU: 36, SumMV: 42, SumMU: 23, SumUV: 42}
)

// TT-1: tea-tasting test_mean.py test_ratio_of_means_analyze_basic.
// Convention: Welch t; relative interval on the log scale (LogCI).
func TestTT1MeanLogRelative(t *testing.T) {
	a := Moments{N: 53, Sum: 30, SumSq: 58}
	b := Moments{N: 47, Sum: 18, SumSq: 30}
	r := CompareMeans(a, b, Mean, Options{RelativeCI: LogCI})
	approx(t, "control", r.ControlMean, 0.5660377, 7)
	approx(t, "treatment", r.TreatmentMean, 0.3829787, 7)
	approx(t, "diff", r.AbsEffect, -0.183059, 6)
	approxCI(t, "CI", r.AbsCI, -0.500436, 0.134318, 6)
	approx(t, "rel", r.RelEffect, -0.323404, 6)
	approxCI(t, "rel CI (log)", r.RelCI, -0.659335, 0.343789, 6)
	approx(t, "p", r.PValue, 0.2551231, 7)
	approx(t, "t", r.Statistic, -1.144768, 6)
}

// TT-2: tea-tasting test_ratio_of_means_analyze_ratio_greater_equal_var.
// Convention: ratio by the delta method, pooled variance (Student t with
// n_A + n_B − 2 df), one-sided Greater, log-scale relative interval.
func TestTT2RatioPooledGreater(t *testing.T) {
	r := CompareRatios(ttControl.Ratio(), ttTreatment.Ratio(), Options{Test: StudentPooled, Alternative: Greater, RelativeCI: LogCI})
	approx(t, "control", r.ControlMean, 0.2857143, 7)
	approx(t, "treatment", r.TreatmentMean, 0.2022472, 7)
	approx(t, "diff", r.AbsEffect, -0.0834671, 7)
	approxCI(t, "CI", r.AbsCI, -0.2118725, math.Inf(1), 7)
	approx(t, "rel CI lower", r.RelCI[0], -0.5852385, 7)
	approx(t, "p", r.PValue, 0.8584716, 7)
	approx(t, "t", r.Statistic, -1.079405, 6)
}

// TT-3: tea-tasting test_ratio_of_means_analyze_ratio_less_use_norm.
// Convention: ratio CUPED with a ratio covariate, pooled θ, z, one-sided
// Less, adjusted arm ratios centred at the pooled covariate ratio, log-scale
// relative interval on the adjusted ratios.
func TestTT3RatioCUPEDLessZ(t *testing.T) {
	approx(t, "theta", cupedThetaRatioPooledSample(ttControl, ttTreatment), 0.567359, 6)
	r := CompareRatiosCUPED(ttControl, ttTreatment, Options{Test: Z, Alternative: Less, RelativeCI: LogCI, ThetaFromPooledSample: true})
	approx(t, "diff", r.AbsEffect, -0.0202256, 7)
	approxCI(t, "CI", r.AbsCI, math.Inf(-1), 0.0728794, 7)
	approx(t, "rel upper", r.RelCI[1], 0.3457847, 7)
	approx(t, "p", r.PValue, 0.3604265, 7)
}

// TT-4: tea-tasting test_proportion.py, conversion 19/53 vs 13/47.
// Conventions per row: z with the pooled SE for the p-value and the
// interval (tea-tasting), or unpooled for both; continuity correction 0.5(1/n_A + 1/n_B) subtracted from |Δ| for
// p and added to the half-width.
func TestTT4ProportionTests(t *testing.T) {
	a := Moments{N: 53, Sum: 19, SumSq: 19}
	b := Moments{N: 47, Sum: 13, SumSq: 13}
	cc := CompareMeans(a, b, Proportion, Options{Test: Z, PooledProportionSE: true, PooledProportionCI: true, ContinuityCorrection: true})
	// For a 2×2 table this is also Pearson's χ² with Yates (row 4 of TT-4).
	approx(t, "pooled+cc p", cc.PValue, 0.5083166, 7)
	approxCI(t, "pooled+cc CI", cc.AbsCI, -0.2851524, 0.1213628, 7)
	nc := CompareMeans(a, b, Proportion, Options{Test: Z, PooledProportionSE: true, PooledProportionCI: true})
	approx(t, "pooled p", nc.PValue, 0.3809097, 7)
	approxCI(t, "pooled CI", nc.AbsCI, -0.2650801, 0.1012905, 7)
	un := CompareMeans(a, b, Proportion, Options{Test: Z, ContinuityCorrection: true})
	approx(t, "unpooled+cc p", un.PValue, 0.5049066, 7)
	approx(t, "Fisher p", FisherExact(19, 53, 13, 47), 0.3999949, 7)
	approx(t, "G-test p (Yates)", GTest(19, 53, 13, 47, true), 0.5076295, 7)
	approx(t, "G-test p", GTest(19, 53, 13, 47, false), 0.3797627, 7)
	barnard, err := BarnardExact(19, 53, 13, 47)
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "Barnard p", barnard, 0.5306371, 7)
	boschloo, err := BoschlooExact(19, 53, 13, 47)
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "Boschloo p", boschloo, 0.4000169, 7)
}

// TT-5: tea-tasting test_sample_ratio_*: 53 vs 47 at 1:1, and the SampleRatio
// docstring's 2023 vs 1977.
func TestTT5SampleRatio(t *testing.T) {
	approx(t, "exact binomial", BinomialTest(53, 100, 0.5), 0.6172994, 7)
	approx(t, "z no correction", SampleRatioZ(53, 47, 0.5, false), 0.5485062, 7)
	approx(t, "χ² (SRM)", SRM([]int64{53, 47}, []float64{1, 1}).PValue, 0.5485062, 7)
	approx(t, "z with correction", SampleRatioZ(53, 47, 0.5, true), 0.6170751, 7)
	approx(t, "docstring z corrected", SampleRatioZ(2023, 1977, 0.5, true), 0.477, 3)
	approx(t, "docstring χ²", SRM([]int64{2023, 1977}, []float64{0.5, 0.5}).PValue, 0.467, 3)
}

// TT-6: tea-tasting test_multiplicity.py. tea-tasting's "bonferroni" with
// its default (arbitrary_dependence=False) is Hochberg's step-up procedure.
func TestTT6Multiplicity(t *testing.T) {
	p := []float64{0.005, 0.06, 0.007, 0.04, 0.01, 0.03}
	check := func(name string, got, want []float64, decimals int) {
		t.Helper()
		for i := range want {
			approx(t, name, got[i], want[i], decimals)
		}
	}
	check("BH", BenjaminiHochberg(p), []float64{0.02, 0.06, 0.02, 0.048, 0.02, 0.045}, 9)
	check("BY", BenjaminiYekutieli(p), []float64{0.049, 0.147, 0.049, 0.1176, 0.049, 0.11025}, 9)
	check("Hochberg-Šidák", HochbergSidak(p), []float64{0.029627, 0.06, 0.034513, 0.06, 0.039404, 0.06}, 6)
	check("Holm-Šidák", HolmSidak(p), []float64{0.029627, 0.087327, 0.034513, 0.087327, 0.039404, 0.087327}, 6)
	check("Bonferroni (Hochberg step-up)", Hochberg(p), []float64{0.03, 0.06, 0.035, 0.06, 0.04, 0.06}, 9)
}

// GB-11: GrowthBook TestEffectBayesianABTest, quantile metric (p90).
// Convention: per-unit variance (n*/n)(n − 1)((upper − lower)/(2·1.95996))²,
// normal reference; absolute effect with an improper flat prior, relative
// effect with the proper prior N(0, 1e6).
func TestGB11Quantile(t *testing.T) {
	a := QuantileStat{N: 11054, NStar: 11054, Q: 0.9, Estimate: 7.157987489967789, Lower: 7.098780136176828, Upper: 7.217194843758751}
	b := QuantileStat{N: 10861, NStar: 10861, Q: 0.9, Estimate: 7.694499927525767, Lower: 7.64180598628119, Upper: 7.747193868770344}
	r := CompareQuantiles(a, b, Options{Test: Z})
	approx(t, "abs", r.AbsEffect, 0.5365124375579775, 12)
	approxCI(t, "abs CI", r.AbsCI, 0.4572559589115422, 0.6157689162044128, 10)
	post := Posterior(r.RelEffect, r.RelSE, Bayesian{Proper: true, PriorVariance: 1e6}, 0.05)
	approx(t, "rel (prior var 1e6)", post.Mean, 0.07495297222736319, 10)
	approxCI(t, "rel CI", post.CrI, 0.06341005842481906, 0.08649588602990732, 10)
	// GrowthBook states priors on the relative scale: for an absolute effect
	// the prior variance 1 becomes 1·μ_A².
	abs := Posterior(r.AbsEffect, r.AbsSE, Bayesian{Proper: true, PriorVariance: 1 * a.Estimate * a.Estimate}, 0.05)
	approx(t, "abs (prior var 1)", abs.Mean, 0.536495315442269, 10)
}

// GB-14: GrowthBook packages/shared/test/power.test.ts. Convention: the
// delta-method variance of the relative effect (PowerSpec.RelativeTest;
// signalab's default sizes the absolute test), z critical values; 400 000
// units over 3 arms (133 333.3 per arm), relative effect 0.05.
func TestGB14Power(t *testing.T) {
	e := meanEffect(4, 7, 2, 15, 5, 0.5)
	approx(t, "delta variance absolute", e.absVar, 0.53333, 5)
	approx(t, "delta variance relative", e.relVar, 0.00589, 5)

	spec := PowerSpec{Kind: Mean, Baseline: 10, Variance: 3909.9997749994377, RelativeTest: true}
	n := 400000.0 / 3
	p, err := spec.Power(0.05, n)
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "power", p, 0.52144, 5)
	mde, err := spec.MDE(0.8, n)
	if err != nil {
		t.Fatal(err)
	}
	approx(t, "MDE", mde, 0.07027, 5)
	// Sequential (N* = 5000): GrowthBook inflates the SE by z_seq/z; its
	// approximation is reproduced by growthBookSequentialPower. signalab's
	// own PowerSpec.Power uses the exact normal-approximation rejection
	// probability at the horizon, which is smaller (checked to be so).
	seq := spec
	seq.Sequential = Sequential{Enabled: true, TuningN: 5000}
	approx(t, "sequential power (GrowthBook)", seq.growthBookSequentialPower(0.05, n), 0.20596, 5)
	lo, hi := 0.0, 1.0
	for range 100 {
		mid := (lo + hi) / 2
		if seq.growthBookSequentialPower(mid, n) < 0.8 {
			lo = mid
		} else {
			hi = mid
		}
	}
	approx(t, "sequential MDE (GrowthBook)", hi, 0.12821, 5)
	ps, _ := seq.Power(0.05, n)
	if !(ps < p) {
		t.Errorf("sequential power %v should be below fixed-horizon %v", ps, p)
	}
	t.Run("mid-experiment", func(t *testing.T) {
		t.Skip("GrowthBook's mid-experiment power scaling factors (test_midexperimentpower.py) depend on its posterior-predictive search over a running experiment; not implemented")
	})
}

// SP-4: Spotify test_ztest.py TestSequentialTwoSided (first look) and
// test_bounds.py test_seq_bounds_run_over. Convention: group-sequential
// α-spending α·t² with information fractions rescaled by the largest
// observed n once the plan is overrun; z test with population variance
// (divisor n) at the look's nominal level.
func TestSP4GroupSequential(t *testing.T) {
	nominal, err := GroupSequentialBounds([]float64{250, 450, 630, 810}, 300, 0.01, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.00095, 0.00241, 0.00410, 0.00636}
	for i := range want {
		if math.Abs(nominal[i]-want[i]) > 1e-4 {
			t.Errorf("look %d: nominal α %v, want %v (atol 1e-4)", i+1, nominal[i], want[i])
		}
	}
	// The first look spends exactly 0.01·(250/810)².
	approx(t, "first look", nominal[0], 0.01*(250.0/810)*(250.0/810), 12)

	// First look of a planned 10 000 (2 500 pooled): t = 0.25, nominal
	// α = 0.01·0.25², boundary z = Φ⁻¹(1 − 0.005·0.25²) = 3.4205.
	first, err := GroupSequentialBounds([]float64{2500}, 10000, 0.01, 2)
	if err != nil {
		t.Fatal(err)
	}
	a := Moments{N: 1250, Sum: 2510, SumSq: 6304}
	b := Moments{N: 1250, Sum: 2492, SumSq: 6163}
	r := CompareMeans(a, b, Mean, Options{Test: Z, Alpha: first[0], PopulationVariance: true})
	approx(t, "boundary z", normalQuantileUpper(first[0]/2), 3.4205, 4)
	approx(t, "diff", r.AbsEffect, -0.0144, 4)
	approxCI(t, "adjusted CI (exact)", r.AbsCI, -0.1501, 0.1213, 4)
	// Spotify's test asserts diff −0.0149 and (−0.151, 0.121) at 3
	// decimals from a different fixture state; REFERENCES.md re-derives the
	// exact values checked above.

	// Monte Carlo check of the integration: 200 000 null paths of the
	// cumulative z-statistics at the four looks; the overall rejection rate
	// must be α = 0.01 (±2.45 SE) and each look must spend its share.
	rng := rand.New(rand.NewPCG(13, 14))
	tFrac := []float64{250.0 / 810, 450.0 / 810, 630.0 / 810, 1}
	const paths = 200000
	rejectedAt := make([]int, 4)
	for range paths {
		var s, prev float64
		for k, tk := range tFrac {
			s += rng.NormFloat64() * math.Sqrt(tk-prev)
			prev = tk
			if 2*normalSurvival(math.Abs(s)/math.Sqrt(tk)) < nominal[k] {
				rejectedAt[k]++
				break
			}
		}
	}
	total := 0
	for k, n := range rejectedAt {
		total += n
		spent := 0.01 * (tFrac[k]*tFrac[k] - sq(prevFrac(tFrac, k)))
		se := math.Sqrt(spent * (1 - spent) / paths)
		if got := float64(n) / paths; math.Abs(got-spent) > 3*se {
			t.Errorf("look %d: rejects %.5f under the null, spending %.5f (±%.5f)", k+1, got, spent, 3*se)
		}
	}
	if got, se := float64(total)/paths, math.Sqrt(0.01*0.99/paths); math.Abs(got-0.01) > 2.45*se {
		t.Errorf("overall null rejection %.5f, want 0.01 ± %.5f", got, 2.45*se)
	}
	if _, err := GroupSequentialBounds([]float64{100, 50}, 0, 0.05, 2); err == nil {
		t.Error("decreasing looks accepted")
	}
}

func sq(x float64) float64 { return x * x }

func prevFrac(t []float64, k int) float64 {
	if k == 0 {
		return 0
	}
	return t[k-1]
}

package stats_test

import (
	"fmt"

	"github.com/signalab/signalab/stats"
)

// Compare conversion between two arms from counts.
func ExampleCompareMeans() {
	control := stats.Moments{N: 1000, Sum: 100, SumSq: 100} // 100 of 1000 converted
	treatment := stats.Moments{N: 1000, Sum: 130, SumSq: 130}
	r := stats.CompareMeans(control, treatment, stats.Proportion, stats.Options{})
	fmt.Printf("diff %.3f p=%.4f; lift %.1f%% CI [%.1f%%, %.1f%%] p=%.4f\n",
		r.AbsEffect, r.PValue, 100*r.RelEffect, 100*r.RelCI[0], 100*r.RelCI[1], r.RelPValue)
	// Output: diff 0.030 p=0.0354; lift 30.0% CI [-1.9%, 61.9%] p=0.0656
}

// Shops are randomized, conversations measured: one row per shop with M =
// conversions and D = conversations.
func ExampleCompareRatios() {
	var control, treatment stats.RatioMoments
	for i := range 50 {
		control.Observe(float64(i%4), float64(10+i%5))
		treatment.Observe(float64(i%5), float64(10+i%5))
	}
	r := stats.CompareRatios(control, treatment, stats.Options{})
	fmt.Printf("control %.4f treatment %.4f p=%.3f\n", r.ControlMean, r.TreatmentMean, r.PValue)
	// Output: control 0.1217 treatment 0.1667 p=0.023
}

func ExampleHolm() {
	fmt.Println(stats.Holm([]float64{0.01, 0.04, 0.03}))
	// Output: [0.03 0.06 0.06]
}

func ExamplePowerSpec_SampleSize() {
	spec := stats.PowerSpec{Kind: stats.Proportion, Baseline: 0.10}
	n, _ := spec.SampleSize(0.05, 0.8) // detect a 5% relative lift with 80% power
	fmt.Println(n, "per arm")
	// Output: 57760 per arm
}

// CUPED: a pre-period covariate correlated with the outcome shrinks the
// variance of the effect; the arm means stay unadjusted.
func ExampleCompareMeansCUPED() {
	var control, treatment stats.CovariateMoments
	for i := range 200 {
		x := float64(i % 10)                  // pre-period orders
		noise := float64((i*7)%5) - 2         // deterministic "noise"
		control.Observe(x+noise, x)           // outcome tracks the covariate
		treatment.Observe(x+noise+0.5, x+0.1) // +0.5 effect, slightly higher covariate
	}
	r := stats.CompareMeansCUPED(control, treatment, stats.Mean, stats.Options{})
	fmt.Printf("theta %.3f, effect %.3f, variance reduction %.0f%%\n", r.Theta, r.AbsEffect, 100*r.VarianceReduction)
	// Output: theta 1.122, effect 0.388, variance reduction 85%
}

// Sequential testing: intervals valid however often the experiment is
// looked at, wider than the fixed-horizon ones.
func ExampleSequential() {
	control := stats.Moments{N: 3000, Sum: 1396.87, SumSq: 52377.9767}
	treatment := stats.Moments{N: 3461, Sum: 2422.7, SumSq: 134698.29}
	fixed := stats.CompareMeans(control, treatment, stats.Mean, stats.Options{})
	seq := stats.CompareMeans(control, treatment, stats.Mean, stats.Options{Sequential: stats.Sequential{Enabled: true, TuningN: 1000}})
	fmt.Printf("fixed [%.3f, %.3f] p=%.3f\nsequential [%.3f, %.3f] p=%.3f\n",
		fixed.RelCI[0], fixed.RelCI[1], fixed.RelPValue, seq.RelCI[0], seq.RelCI[1], seq.RelPValue)
	// Output:
	// fixed [-0.150, 1.157] p=0.131
	// sequential [-0.558, 1.565] p=1.000
}

// Bayesian: chance to win and risk of a 49/100 vs 51/100 conversion test
// (GrowthBook's TestBinom).
func ExampleBayesian() {
	r := stats.CompareMeans(stats.Moments{N: 100, Sum: 49, SumSq: 49}, stats.Moments{N: 100, Sum: 51, SumSq: 51},
		stats.Proportion, stats.Options{Bayesian: stats.Bayesian{Enabled: true}})
	b := r.Bayesian
	fmt.Printf("lift %.4f, chance to win %.4f, risk %.4f/%.4f\n", b.Mean, b.ChanceToWin, b.Risk[0], b.Risk[1])
	// Output: lift 0.0408, chance to win 0.6092, risk 0.0814/0.0406
}

// The median of 1..101 and its distribution-free 95% interval: order
// statistics ⌊50.5 − 1.96·√25.25⌋ = 40 and ⌈50.5 + 1.96·√25.25⌉ + 1 = 62.
func ExampleQuantileCI() {
	data := make([]float64, 101)
	for i := range data {
		data[i] = float64(i + 1)
	}
	q := stats.QuantileCI(data, 0.5, 0.05)
	fmt.Println(q.Estimate, q.Lower, q.Upper)
	// Output: 51 40 62
}

// Benjamini–Hochberg q-values and Holm-adjusted significance for a family.
func ExampleAdjust() {
	a := stats.CompareMeans(stats.Moments{N: 1000, Sum: 100, SumSq: 100}, stats.Moments{N: 1000, Sum: 135, SumSq: 135}, stats.Proportion, stats.Options{})
	b := stats.CompareMeans(stats.Moments{N: 1000, Sum: 300, SumSq: 300}, stats.Moments{N: 1000, Sum: 320, SumSq: 320}, stats.Proportion, stats.Options{})
	stats.Adjust([]*stats.Result{&a, &b}, stats.HolmCorrection, 0.05)
	fmt.Printf("p %.4f → %.4f significant=%v\np %.4f → %.4f significant=%v\n",
		a.PValue, a.AdjustedPValue, a.Significant, b.PValue, b.AdjustedPValue, b.Significant)
	// Output:
	// p 0.0150 → 0.0300 significant=true
	// p 0.3336 → 0.3336 significant=false
}

// Nominal levels of four planned looks (α = 0.01, spending α·t²).
func ExampleGroupSequentialBounds() {
	levels, _ := stats.GroupSequentialBounds([]float64{250, 450, 630, 810}, 300, 0.01, 2)
	for _, l := range levels {
		fmt.Printf("%.5f ", l)
	}
	fmt.Println()
	// Output: 0.00095 0.00241 0.00410 0.00636
}

// A sample ratio mismatch: 600 vs 400 units on a 50/50 split.
func ExampleSRM() {
	r := stats.SRM([]int64{600, 400}, []float64{0.5, 0.5})
	fmt.Printf("chi2 %.1f p %.3g\n", r.ChiSquare, r.PValue)
	// Output: chi2 40.0 p 2.54e-10
}

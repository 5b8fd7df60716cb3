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
	// Output: 60656 per arm
}

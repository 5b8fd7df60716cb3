package stats

import (
	"errors"
	"testing"
)

// TestSampleSizeNotReachable: plans beyond MaxSampleSize end at once with a
// NotReachableError (before: the step-down from the closed form walked 10¹⁴
// units one by one and never returned; issue 16).
func TestSampleSizeNotReachable(t *testing.T) {
	for _, spec := range []PowerSpec{
		{Kind: Proportion, Baseline: 0.1},
		{Kind: Proportion, Baseline: 0.1, Sequential: Sequential{Enabled: true, TuningN: 1e6}},
		{Kind: Mean, Baseline: 1, Variance: 1e300, Absolute: true},
	} {
		effect := 1e-6
		if spec.Absolute {
			effect = 1e-300
		}
		n, err := spec.SampleSize(effect, 0.8)
		var nr *NotReachableError
		if !errors.As(err, &nr) || nr.Reason == "" {
			t.Errorf("%+v: n %v, err %v; want a NotReachableError", spec, n, err)
		}
	}
	// Just below the bound still plans: 0.1 baseline, +0.1% lift needs
	// about 1.4·10⁸ per arm.
	if n, err := (PowerSpec{Kind: Proportion, Baseline: 0.1}).SampleSize(1e-3, 0.8); err != nil || n < 1e8 || n > 2e8 {
		t.Errorf("n %v, err %v", n, err)
	}
}

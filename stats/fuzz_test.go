package stats

import (
	"encoding/json"
	"math"
	"testing"
)

// checkResult fails when a Result has a NaN or ±Inf outside interval bounds,
// a NaN bound, a p-value outside [0, 1], or does not marshal to JSON.
func checkResult(t *testing.T, r Result) {
	t.Helper()
	for name, v := range map[string]float64{
		"ControlN": r.ControlN, "TreatmentN": r.TreatmentN, "ControlMean": r.ControlMean, "TreatmentMean": r.TreatmentMean,
		"AbsEffect": r.AbsEffect, "AbsSE": r.AbsSE, "PValue": r.PValue, "Statistic": r.Statistic, "DF": r.DF,
		"RelEffect": r.RelEffect, "RelSE": r.RelSE, "RelPValue": r.RelPValue, "Theta": r.Theta,
		"VarianceReduction": r.VarianceReduction,
	} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s = %v in %+v", name, v, r)
		}
	}
	for _, iv := range []Interval{r.AbsCI, r.RelCI} {
		if math.IsNaN(iv[0]) || math.IsNaN(iv[1]) {
			t.Fatalf("NaN interval in %+v", r)
		}
	}
	if r.PValue < 0 || r.PValue > 1 || r.RelPValue < 0 || r.RelPValue > 1 {
		t.Fatalf("p-value out of range in %+v", r)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("marshal: %v", err)
	}
}

// FuzzCompareMeans: any moments, any options, never a panic or a non-finite
// number. Seeds include the degenerate cases; run longer with
// go test ./stats -run '^$' -fuzz FuzzCompareMeans -fuzztime 30s.
func FuzzCompareMeans(f *testing.F) {
	f.Add(100.0, 50.0, 60.0, 120.0, 70.0, 90.0, uint8(0))
	f.Add(0.0, 0.0, 0.0, 10.0, 5.0, 5.0, uint8(1))
	f.Add(1.0, 1.0, 1.0, 1.0, 1.0, 1.0, uint8(2))
	f.Add(50.0, 0.0, 0.0, 50.0, 50.0, 50.0, uint8(3))
	f.Add(3.0, -1e308, 1e308, 3.0, 1e308, 1e308, uint8(4))
	f.Add(1e12, 5e11, 5e11, 1e12, 5.0000001e11, 5.0000001e11, uint8(5))
	f.Fuzz(func(t *testing.T, nA, sA, ssA, nB, sB, ssB float64, mode uint8) {
		kind := Mean
		if mode&1 == 1 {
			kind = Proportion
		}
		opts := Options{Alternative: Alternative(mode >> 1 % 3), Test: Test(mode >> 3 % 3),
			RelativeCI: RelativeCI(mode >> 5 % 3), Sequential: Sequential{Enabled: mode&0x80 != 0},
			Bayesian: Bayesian{Enabled: true}}
		checkResult(t, CompareMeans(Moments{nA, sA, ssA}, Moments{nB, sB, ssB}, kind, opts))
		checkResult(t, CompareRatios(RatioMoments{nA, sA, ssA, sB, ssB, sA * sB / math.Max(nA, 1)},
			RatioMoments{nB, sB, ssB, sA, ssA, sA * sB / math.Max(nB, 1)}, opts))
		checkResult(t, CompareMeansCUPED(CovariateMoments{nA, sA, ssA, sB, ssB, sA}, CovariateMoments{nB, sB, ssB, sA, ssA, sB}, kind, opts))
	})
}

// FuzzCompareQuantilesAndRatioCUPED covers the quantile comparison and ratio
// CUPED (covariates derived from the fuzzed values).
func FuzzCompareQuantilesAndRatioCUPED(f *testing.F) {
	f.Add(1000.0, 0.5, 3.0, 2.9, 3.1, 900.0, 3.2, 3.1, 3.3, 1.0)
	f.Add(5.0, 0.99, 1.0, 1.0, 1.0, 5.0, 1.0, 1.0, 1.0, 0.0)
	f.Add(0.0, 0.5, 0.0, 0.0, 0.0, 10.0, 1.0, 0.0, 2.0, 1e300)
	f.Fuzz(func(t *testing.T, nA, q, eA, lA, uA, nB, eB, lB, uB, k float64) {
		checkResult(t, CompareQuantiles(QuantileStat{N: nA, NStar: nA, Q: q, Estimate: eA, Lower: lA, Upper: uA},
			QuantileStat{N: nB, NStar: nB, Q: q, Estimate: eB, Lower: lB, Upper: uB}, Options{Bayesian: Bayesian{Enabled: true}}))
		var a, b RatioCovariateMoments
		for i := range 4 {
			fi := float64(i)
			a.Observe(eA+fi*k, lA+fi, uA*fi, nA+fi*q)
			b.Observe(eB-fi*k, lB+fi*q, uB+fi, nB*fi)
		}
		checkResult(t, CompareRatiosCUPED(a, b, Options{Sequential: Sequential{Enabled: true}}))
		checkResult(t, CompareRatiosCUPED(a, b, Options{ThetaFromPooledSample: true, RelativeCI: LogCI}))
	})
}

package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// directStatistic fits CompareClustersCR2's regression to the data of draw
// w under the sharp null (effect removed from the observed treated
// clusters, added to the draw's) and returns the studentized statistic.
func directStatistic(cs []Cluster, observed, w []int8, cuped bool, model effectModel, null float64) (float64, bool) {
	var ctrl, trt []Cluster
	for i, c := range cs {
		m := c.M
		if observed[i] == 1 {
			if model == additive {
				m -= null * c.D
			} else {
				m /= 1 + null
			}
		}
		if w[i] == 1 {
			if model == additive {
				m += null * c.D
			} else {
				m *= 1 + null
			}
		}
		c.M = m
		switch w[i] {
		case 0:
			ctrl = append(ctrl, c)
		case 1:
			trt = append(trt, c)
		}
	}
	// The covariate fill for V = 0 uses the observed comparison's clusters,
	// as newRITest does; these test data have V > 0 everywhere.
	rows, p := crRows(ctrl, trt, cuped, nil)
	f := fitCR2(rows, p)
	if f.reason != "" {
		return 0, false
	}
	if model == additive {
		return (f.abs - null) / math.Sqrt(f.absVar), true
	}
	// The multiplicative model's statistic is Fieller's: the studentized
	// contrast Δ − null·|r_A| (at null = 0 the additive statistic).
	rA := f.sumMA / f.sumDA
	sign := 1.0
	if rA < 0 {
		sign = -1
	}
	v := f.absVar - 2*null*sign*f.covAR + null*null*f.varR
	if !(v > 0) {
		return 0, false
	}
	return (f.abs - null*math.Abs(rA)) / math.Sqrt(v), true
}

// TestRandomizationStatisticLinearity: the O(1)-per-hypothesis statistic of
// a draw (riDraw, built from six basis vectors) equals refitting the
// regression on the imputed data, for both effect models, with and without
// CUPED.
func TestRandomizationStatisticLinearity(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	d := defaultClusterDesign(7)
	for trial := range 30 {
		shops, arms := d.draw(rng, false)
		cs := simClusters(shops, trial%3)
		for i := range cs {
			cs[i].V = math.Max(cs[i].V, 1)
		}
		cuped := trial%2 == 0
		rt := newRITest(cs, arms, cuped, TwoSided, Randomization{Draws: 5, Redraw: PermutationRedraw(arms, uint64(trial))}, false)
		w := make([]int8, len(cs))
		for b := range 5 {
			PermutationRedraw(arms, uint64(trial))(b, w)
			for _, h := range []struct {
				model effectModel
				null  float64
			}{{additive, 0}, {additive, 0.013}, {additive, -2.5}, {multiplicative, 0}, {multiplicative, 0.2}, {multiplicative, -0.3}} {
				got, ok1 := rt.draws[b].statistic(coefficients(h.model, h.null), h.model, h.null)
				want, ok2 := directStatistic(cs, arms, w, cuped, h.model, h.null)
				if ok1 != ok2 {
					t.Fatalf("trial %d draw %d %+v: defined %v vs %v", trial, b, h, ok1, ok2)
				}
				if ok1 && math.Abs(got-want) > 1e-8*math.Max(1, math.Abs(want)) {
					t.Errorf("trial %d draw %d %+v: basis %.12g, refit %.12g", trial, b, h, got, want)
				}
			}
		}
	}
}

// TestRatioDrawsMatchRITest: the refit-free randomization test of a ratio
// of cluster sums (used by the quantile test) gives the p-values of the
// general one.
func TestRatioDrawsMatchRITest(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	d := defaultClusterDesign(9)
	for trial := range 20 {
		shops, arms := d.draw(rng, false)
		cs := simClusters(shops, trial%3)
		m, den := make([]float64, len(cs)), make([]float64, len(cs))
		for i, c := range cs {
			m[i], den[i] = c.M, c.D
		}
		rz := Randomization{Draws: 300, Redraw: BernoulliRedraw(0.5, uint64(trial))}
		for _, alt := range []Alternative{TwoSided, Greater, Less} {
			want := newRITest(cs, arms, false, alt, rz, true).pValue(additive, 0)
			got := newRatioDraws(den, arms, rz).pValue(m, alt)
			if got != want {
				t.Errorf("trial %d alt %v: %v, want %v", trial, alt, got, want)
			}
		}
	}
}

// TestNullDrawMatchesReduceDraw: the two-pass null statistic equals the
// general reduction's, with and without covariate.
func TestNullDrawMatchesReduceDraw(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	d := defaultClusterDesign(8)
	for trial := range 20 {
		shops, arms := d.draw(rng, false)
		cs := simClusters(shops, trial%3)
		cuped := trial%2 == 0
		rz := Randomization{Draws: 50, Redraw: BernoulliRedraw(0.5, uint64(trial))}
		for _, alt := range []Alternative{TwoSided, Greater} {
			fast := newRITest(cs, arms, cuped, alt, rz, true).pValue(additive, 0)
			full := newRITest(cs, arms, cuped, alt, rz, false).pValue(additive, 0)
			if fast != full {
				t.Errorf("trial %d: null-only p %v, full %v", trial, fast, full)
			}
		}
	}
}

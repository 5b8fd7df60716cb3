package stats

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// Each degenerate input must give a defined Result (p = 1, a Reason), no
// NaN or Inf outside interval bounds, and must marshal to JSON.
func TestDegenerateInputs(t *testing.T) {
	ok := Moments{N: 100, Sum: 50, SumSq: 60}
	cases := []struct {
		name   string
		r      Result
		reason string
	}{
		{"empty control", CompareMeans(Moments{}, ok, Mean, Options{}), "control arm is empty"},
		{"empty treatment", CompareMeans(ok, Moments{}, Mean, Options{}), "treatment arm is empty"},
		{"both empty", CompareMeans(Moments{}, Moments{}, Proportion, Options{}), "both arms are empty"},
		{"n < 2", CompareMeans(Moments{N: 1, Sum: 1, SumSq: 1}, ok, Mean, Options{}), "fewer than 2"},
		{"zero variance", CompareMeans(Moments{N: 10, Sum: 10, SumSq: 10}, Moments{N: 10, Sum: 20, SumSq: 40}, Mean, Options{}), "zero variance"},
		{"no conversions", CompareMeans(Moments{N: 50}, Moments{N: 50}, Proportion, Options{}), "zero variance"},
		{"all conversions", CompareMeans(Moments{N: 50, Sum: 50, SumSq: 50}, Moments{N: 40, Sum: 40, SumSq: 40}, Proportion, Options{Sequential: Sequential{Enabled: true}, Bayesian: Bayesian{Enabled: true}}), "zero variance"},
		{"zero control mean", CompareMeans(Moments{N: 50}, Moments{N: 50, Sum: 5, SumSq: 5}, Proportion, Options{}), "control mean is zero"},
		{"ratio zero denominator", CompareRatios(RatioMoments{N: 10}, RatioMoments{N: 10, SumM: 1, SumD: 2, SumD2: 4, SumM2: 1, SumMD: 2}, Options{}), "denominator"},
		{"cuped empty", CompareMeansCUPED(CovariateMoments{}, CovariateMoments{N: 5}, Mean, Options{}), "control arm is empty"},
		{"ratio cuped empty", CompareRatiosCUPED(RatioCovariateMoments{}, RatioCovariateMoments{}, Options{}), "both arms are empty"},
		{"quantile too few", CompareQuantiles(QuantileStat{N: 10, Q: 0.99, Estimate: 1}, QuantileStat{N: 10, Q: 0.99, Estimate: 1}, Options{}), "too few"},
		{"bootstrap empty", BootstrapQuantiles(nil, []float64{1, 2}, 0.5, 10, 1, Options{}), "control arm is empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(c.r.Reason+c.r.RelReason, c.reason) {
				t.Errorf("Reason = %q, RelReason = %q, want one to contain %q", c.r.Reason, c.r.RelReason, c.reason)
			}
			if c.r.PValue != 1 && c.reason != "control mean is zero" {
				t.Errorf("PValue = %v, want 1", c.r.PValue)
			}
			if c.r.RelPValue != 1 {
				t.Errorf("RelPValue = %v, want 1", c.r.RelPValue)
			}
			for _, v := range []float64{c.r.ControlMean, c.r.TreatmentMean, c.r.AbsEffect, c.r.AbsSE, c.r.RelEffect, c.r.RelSE, c.r.PValue, c.r.Statistic, c.r.DF} {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					t.Errorf("non-finite field in %+v", c.r)
				}
			}
			if _, err := json.Marshal(c.r); err != nil {
				t.Errorf("marshal: %v", err)
			}
		})
	}
}

func TestIntervalJSONRoundTrip(t *testing.T) {
	r := CompareMeans(gb3A, gb1B, Mean, Options{Alternative: Greater})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"abs_ci":[0.02079`) || !strings.Contains(string(b), `,null]`) {
		t.Errorf("one-sided interval not encoded with null upper bound: %s", b)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsInf(back.AbsCI[1], 1) || back.AbsCI[0] != r.AbsCI[0] {
		t.Errorf("round trip %v, want %v", back.AbsCI, r.AbsCI)
	}
}

func TestMomentsAddMatchesObserve(t *testing.T) {
	var whole, p1, p2 RatioCovariateMoments
	for i := range 10 {
		m, d, u, v := float64(i), float64(i%3+1), float64(i*i%5), float64(i%4+1)
		whole.Observe(m, d, u, v)
		if i < 4 {
			p1.Observe(m, d, u, v)
		} else {
			p2.Observe(m, d, u, v)
		}
	}
	if p1.Add(p2) != whole {
		t.Errorf("Add = %+v, want %+v", p1.Add(p2), whole)
	}
}

func TestAdjustFamily(t *testing.T) {
	rs := []*Result{
		{PValue: 0.01, AbsEffect: 1, AbsSE: 0.3, RelEffect: 0.1, RelSE: 0.03},
		{PValue: 0.04, AbsEffect: 1, AbsSE: 0.5},
		{PValue: 1, Reason: "control arm is empty"},
	}
	Adjust(rs, HolmCorrection, 0.05)
	approx(t, "holm 0", rs[0].AdjustedPValue, 0.03, 12)
	approx(t, "holm 1", rs[1].AdjustedPValue, 0.08, 12)
	if !rs[0].Significant || rs[1].Significant || rs[2].Significant {
		t.Errorf("significance after Holm: %v %v %v", rs[0].Significant, rs[1].Significant, rs[2].Significant)
	}
	if _, err := ParseCorrection("sidak-ish"); err == nil {
		t.Error("ParseCorrection accepted an unknown name")
	}
}

func TestBootstrapQuantilesSeeded(t *testing.T) {
	a := make([]float64, 300)
	b := make([]float64, 300)
	for i := range a {
		a[i] = float64(i % 50)
		b[i] = float64(i%50) + 5
	}
	r1 := BootstrapQuantiles(a, b, 0.5, 500, 42, Options{})
	r2 := BootstrapQuantiles(a, b, 0.5, 500, 42, Options{})
	if r1.AbsCI != r2.AbsCI || r1.PValue != r2.PValue {
		t.Error("same seed gave different results")
	}
	if !(r1.AbsCI[0] <= 5 && 5 <= r1.AbsCI[1]) || r1.PValue > 0.05 {
		t.Errorf("median shift 5: CI %v p %v", r1.AbsCI, r1.PValue)
	}
	// QuantileCI: median of 1..101 is 51, and the outer 95% interval
	// brackets it.
	s := make([]float64, 101)
	for i := range s {
		s[i] = float64(i + 1)
	}
	q := QuantileCI(s, 0.5, 0.05)
	if q.Estimate != 51 || !(q.Lower < 51 && q.Upper > 51) {
		t.Errorf("QuantileCI = %+v", q)
	}
}

// Adjusted intervals agree with adjusted p-values: the interval excludes 0
// exactly when p_adj < α, two-sided and one-sided.
func TestAdjustedIntervalsMatchPValues(t *testing.T) {
	for _, p := range []float64{0.001, 0.01, 0.0499, 0.0501, 0.2, 0.6} {
		iv := AdjustedCI(p, 0.3, 0.05)
		if excl := iv[0] > 0; excl != (p < 0.05) {
			t.Errorf("two-sided p_adj %v: interval %v", p, iv)
		}
		g := AdjustedCIOneSided(p, 0.3, 0.05, true)
		if excl := g[0] > 0; excl != (p < 0.05) || !math.IsInf(g[1], 1) {
			t.Errorf("greater p_adj %v: interval %v", p, g)
		}
		l := AdjustedCIOneSided(p, -0.3, 0.05, false)
		if excl := l[1] < 0; excl != (p < 0.05) || !math.IsInf(l[0], -1) {
			t.Errorf("less p_adj %v: interval %v", p, l)
		}
	}
	one := CompareMeans(gb3A, gb1B, Mean, Options{Alternative: Greater})
	rs := []*Result{&one}
	Adjust(rs, HolmCorrection, 0.05)
	if !math.IsInf(one.AdjustedAbsCI[1], 1) || one.AdjustedAbsCI[0] != one.AbsCI[0] && math.Abs(one.AdjustedAbsCI[0]-one.AbsCI[0]) > 1e-3 {
		t.Errorf("one-sided family of one: adjusted %v, unadjusted %v", one.AdjustedAbsCI, one.AbsCI)
	}
}

// A negative control mean: L = Δ/|μ_A| keeps the sign of Δ, and every
// relative interval (delta, Fieller, log) brackets L, for both sidednesses.
func TestNegativeControlMeanRelativeIntervals(t *testing.T) {
	a := MomentsFromSummary(400, -10, 4)
	b := MomentsFromSummary(400, -9, 4) // Δ = +1, L = +0.1
	for _, rc := range []RelativeCI{DeltaCI, FiellerCI, LogCI} {
		for _, alt := range []Alternative{TwoSided, Greater, Less} {
			r := CompareMeans(a, b, Mean, Options{RelativeCI: rc, Alternative: alt})
			if math.Abs(r.RelEffect-0.1) > 1e-12 {
				t.Fatalf("lift %v, want 0.1", r.RelEffect)
			}
			if !(r.RelCI[0] < 0.1 && 0.1 < r.RelCI[1]) {
				t.Errorf("RelativeCI %d alternative %d: interval %v does not bracket 0.1", rc, alt, r.RelCI)
			}
			if alt == Greater && (!math.IsInf(r.RelCI[1], 1) || !(r.RelCI[0] > 0)) {
				t.Errorf("RelativeCI %d Greater: %v, want (positive, +Inf)", rc, r.RelCI)
			}
			if alt == Less && !math.IsInf(r.RelCI[0], -1) {
				t.Errorf("RelativeCI %d Less: %v, want (-Inf, upper)", rc, r.RelCI)
			}
		}
	}
}

package stats

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// TestFiellerReference compares FiellerCI with intervals found by
// root-finding on the definition of Fieller's set from the raw samples
// (stats/testdata/gen_fieller.py, scipy 1.10.1): plain Welch means and CUPED
// means, where the covariance of the adjusted difference with the control
// mean matters. Tolerance 1e-7 relative: scipy's t.ppf is good to ~1e-9 for
// non-integer df and brentq stops at 1e-14.
func TestFiellerReference(t *testing.T) {
	b, err := os.ReadFile("testdata/fieller_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Cases []struct {
			Kind               string
			Alpha              float64
			Control, Treatment struct {
				N     float64 `json:"n"`
				SumY  float64 `json:"sum_y"`
				SumY2 float64 `json:"sum_y2"`
				SumX  float64 `json:"sum_x"`
				SumX2 float64 `json:"sum_x2"`
				SumXY float64 `json:"sum_xy"`
			}
			Rel, Lo, Hi float64
		}
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 20 {
		t.Fatalf("only %d reference cases", len(ref.Cases))
	}
	for i, c := range ref.Cases {
		opts := Options{Alpha: c.Alpha, RelativeCI: FiellerCI}
		var r Result
		switch c.Kind {
		case "means":
			r = CompareMeans(Moments{N: c.Control.N, Sum: c.Control.SumY, SumSq: c.Control.SumY2},
				Moments{N: c.Treatment.N, Sum: c.Treatment.SumY, SumSq: c.Treatment.SumY2}, Mean, opts)
		case "cuped":
			cm := func(a struct {
				N     float64 `json:"n"`
				SumY  float64 `json:"sum_y"`
				SumY2 float64 `json:"sum_y2"`
				SumX  float64 `json:"sum_x"`
				SumX2 float64 `json:"sum_x2"`
				SumXY float64 `json:"sum_xy"`
			}) CovariateMoments {
				return CovariateMoments{N: a.N, SumY: a.SumY, SumY2: a.SumY2, SumX: a.SumX, SumX2: a.SumX2, SumXY: a.SumXY}
			}
			r = CompareMeansCUPED(cm(c.Control), cm(c.Treatment), Mean, opts)
		default:
			t.Fatalf("case %d: kind %q", i, c.Kind)
		}
		for _, chk := range []struct {
			name      string
			got, want float64
		}{{"lift", r.RelEffect, c.Rel}, {"lower", r.RelCI[0], c.Lo}, {"upper", r.RelCI[1], c.Hi}} {
			if d := math.Abs(chk.got - chk.want); d > 1e-7*math.Max(1, math.Abs(chk.want)) {
				t.Errorf("case %d (%s, α %g): %s %.12g, want %.12g", i, c.Kind, c.Alpha, chk.name, chk.got, chk.want)
			}
		}
	}
}

// TestFiellerAgreesWithTheTest: on random inputs (means, proportions, CUPED
// means, ratios, CUPED ratios; fixed horizon and sequential; two- and
// one-sided; several α), Fieller's relative interval excludes 0 exactly when
// the test of the absolute effect rejects (p < α), and it holds the point
// estimate. The delta-method interval does not have this property (the test
// also counts how often it disagrees, to show the check can fail).
func TestFiellerAgreesWithTheTest(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 13))
	normal := func(mu, sd float64) float64 { return mu + sd*rng.NormFloat64() }
	deltaDisagrees := 0
	n := 0
	for k := 0; k < 3000; k++ {
		alpha := []float64{0.05, 0.01, 0.1, 0.05 / 12}[k%4]
		alt := []Alternative{TwoSided, TwoSided, Greater, Less}[(k/4)%4]
		seq := k%5 == 0
		opts := Options{Alpha: alpha, RelativeCI: FiellerCI, Alternative: alt}
		if seq {
			opts.Sequential = Sequential{Enabled: true, TuningN: 500}
		}
		nA, nB := 5+rng.IntN(300), 5+rng.IntN(300)
		lift := rng.NormFloat64() * 0.2
		var r, d Result
		switch k % 5 {
		case 0, 1: // means with or without CUPED
			var a, b CovariateMoments
			mu := 1 + rng.Float64()*10
			rho := rng.Float64()
			for i := 0; i < nA; i++ {
				x := normal(mu, mu/3)
				a.Observe(mu+rho*(x-mu)+normal(0, mu/3), x)
			}
			for i := 0; i < nB; i++ {
				x := normal(mu, mu/3)
				b.Observe(mu*(1+lift)+rho*(x-mu)+normal(0, mu/3), x)
			}
			if k%2 == 0 {
				r = CompareMeansCUPED(a, b, Mean, opts)
				opts.RelativeCI = DeltaCI
				d = CompareMeansCUPED(a, b, Mean, opts)
			} else {
				r = CompareMeans(a.Outcome(), b.Outcome(), Mean, opts)
				opts.RelativeCI = DeltaCI
				d = CompareMeans(a.Outcome(), b.Outcome(), Mean, opts)
			}
		case 2: // proportions
			p := 0.05 + 0.3*rng.Float64()
			var a, b Moments
			for i := 0; i < nA*5; i++ {
				a.Observe(b2f(rng.Float64() < p))
			}
			for i := 0; i < nB*5; i++ {
				b.Observe(b2f(rng.Float64() < p*(1+lift)))
			}
			r = CompareMeans(a, b, Proportion, opts)
			opts.RelativeCI = DeltaCI
			d = CompareMeans(a, b, Proportion, opts)
		default: // clustered ratios, with or without CUPED
			var a, b RatioCovariateMoments
			for i := 0; i < nA; i++ {
				den := float64(1 + rng.IntN(20))
				u := den * normal(0.2, 0.05)
				a.Observe(den*normal(0.2, 0.08)+0.5*(u-0.2*den), den, u, den)
			}
			for i := 0; i < nB; i++ {
				den := float64(1 + rng.IntN(20))
				u := den * normal(0.2, 0.05)
				b.Observe(den*normal(0.2*(1+lift), 0.08)+0.5*(u-0.2*den), den, u, den)
			}
			if k%2 == 0 {
				r = CompareRatiosCUPED(a, b, opts)
				opts.RelativeCI = DeltaCI
				d = CompareRatiosCUPED(a, b, opts)
			} else {
				r = CompareRatios(a.Ratio(), b.Ratio(), opts)
				opts.RelativeCI = DeltaCI
				d = CompareRatios(a.Ratio(), b.Ratio(), opts)
			}
		}
		if r.Reason != "" || r.RelSE == 0 {
			continue
		}
		n++
		excludes := r.RelCI[0] > 0 || r.RelCI[1] < 0
		if excludes != (r.PValue < alpha) {
			t.Errorf("case %d (kind %d, α %g, alt %d, sequential %v): Fieller %v, estimate %.4g, p %.6g",
				k, k%5, alpha, alt, seq, r.RelCI, r.RelEffect, r.PValue)
		}
		if !(r.RelCI[0] <= r.RelEffect && r.RelEffect <= r.RelCI[1]) {
			t.Errorf("case %d: Fieller %v does not hold the estimate %.4g", k, r.RelCI, r.RelEffect)
		}
		if (d.RelCI[0] > 0 || d.RelCI[1] < 0) != (d.PValue < alpha) {
			deltaDisagrees++
		}
	}
	t.Logf("%d comparisons; the delta-method interval disagreed with the test in %d", n, deltaDisagrees)
	if n < 2500 || deltaDisagrees == 0 {
		t.Errorf("%d comparisons, delta disagreements %d: the check would not notice a wrong interval", n, deltaDisagrees)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

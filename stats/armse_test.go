package stats

import (
	"math"
	"testing"
)

// The reference values below come from R 4 (Debian r-base-core), written in
// full so that they can be re-run:
//
//	x <- c(3.1, 0.4, 2.2, 5.0, 1.7, 4.4, 0.9)
//	for (q in c(0, 0.1, 0.25, 0.5, 0.9, 1)) cat(sprintf("%.17g\n", quantile(x, q, type=7)))
//	m <- c(3, 0, 5, 2, 7, 1, 4, 0); d <- c(2, 1, 4, 2, 5, 1, 3, 2)
//	g <- c(1/mean(d), -mean(m)/mean(d)^2)            # gradient of μ_M/μ_D
//	sqrt(as.numeric(t(g) %*% cov(cbind(m, d)) %*% g) / length(m))
//	y <- c(1.5, 2.5, 0, 4, 3); sd(y)/sqrt(length(y))
//	b <- c(1,0,0,1,1,1,0,1); p <- mean(b); sqrt(p*(1-p)/length(b))

func TestQuantile7AgainstR(t *testing.T) {
	x := []float64{0.4, 0.9, 1.7, 2.2, 3.1, 4.4, 5.0} // sorted
	for _, c := range []struct{ q, want float64 }{
		{0, 0.40000000000000002}, {0.1, 0.70000000000000018}, {0.25, 1.3},
		{0.5, 2.2000000000000002}, {0.9, 4.6400000000000006}, {1, 5},
	} {
		if got := Quantile7(x, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile7(q=%v) = %.17g, want %.17g (R type 7)", c.q, got, c.want)
		}
	}
	// q outside [0, 1] is clamped; an empty sample has no quantile.
	if got := Quantile7(x, -0.5); got != 0.4 {
		t.Errorf("Quantile7(q=-0.5) = %v, want the minimum", got)
	}
	if got := Quantile7(x, 1.5); got != 5 {
		t.Errorf("Quantile7(q=1.5) = %v, want the maximum", got)
	}
	if !math.IsNaN(Quantile7(nil, 0.5)) {
		t.Error("Quantile7 of an empty sample should be NaN")
	}
}

func TestRatioMomentsSEAgainstR(t *testing.T) {
	m := []float64{3, 0, 5, 2, 7, 1, 4, 0}
	d := []float64{2, 1, 4, 2, 5, 1, 3, 2}
	var r RatioMoments
	for i := range m {
		r.Observe(m[i], d[i])
	}
	if got, want := r.SE(), 0.16767315144138528; math.Abs(got-want) > 1e-12 {
		t.Errorf("SE = %.17g, want %.17g (R delta method)", got, want)
	}
	var one RatioMoments
	one.Observe(1, 2)
	if !math.IsNaN(one.SE()) {
		t.Error("SE of one unit should be NaN")
	}
	if zero := (RatioMoments{N: 3, SumM: 2, SumM2: 2}); !math.IsNaN(zero.SE()) {
		t.Error("SE with ΣD = 0 should be NaN")
	}
}

func TestMomentsSEAgainstR(t *testing.T) {
	var y Moments
	for _, v := range []float64{1.5, 2.5, 0, 4, 3} {
		y.Observe(v)
	}
	if got, want := y.SE(Mean), 0.6819090848492928; math.Abs(got-want) > 1e-12 {
		t.Errorf("mean SE = %.17g, want %.17g (R sd/√n)", got, want)
	}
	var b Moments
	for _, v := range []float64{1, 0, 0, 1, 1, 1, 0, 1} {
		b.Observe(v)
	}
	if got, want := b.SE(Proportion), 0.17116329922036441; math.Abs(got-want) > 1e-12 {
		t.Errorf("proportion SE = %.17g, want %.17g (R √(p(1−p)/n))", got, want)
	}
	one := Moments{N: 1, Sum: 1, SumSq: 1}
	if !math.IsNaN(one.SE(Mean)) {
		t.Error("mean SE of one unit should be NaN")
	}
	if got := one.SE(Proportion); got != 0 {
		t.Errorf("proportion SE of one unit = %v, want 0", got)
	}
	if !math.IsNaN((Moments{}).SE(Proportion)) {
		t.Error("SE of an empty arm should be NaN")
	}
}

package stats

import (
	"math"
	"math/rand/v2"
)

// clusterDesign is the simulated shop-randomized experiment of the
// calibration tests: shops of lognormal size, a between-shop effect on
// conversion (logit scale) and on order value, and a pre-period covariate
// from the same shop effect.
type clusterDesign struct {
	perArm    int     // shops per arm (complete randomization)
	sizeMu    float64 // log of the median shop size (conversations)
	sizeSigma float64 // lognormal σ of shop sizes
	baseRate  float64 // conversion rate at shop effect 0
	shopSD    float64 // sd of the shop effect on the logit of conversion
	aovSD     float64 // sd of the shop effect on log order value
	lift      float64 // relative lift of treatment's conversion probability
	// fixedSizes, when set, are the shop sizes (design-based check: the
	// same shops, re-randomized); perArm is then len/2.
	fixedSizes []float64
	// valueLocSD is the sd of the shop effect on log reply minutes (0: 0.8).
	valueLocSD float64
}

func defaultClusterDesign(perArm int) clusterDesign {
	return clusterDesign{perArm: perArm, sizeMu: math.Log(40), sizeSigma: 1.2, baseRate: 0.1,
		shopSD: 0.6, aovSD: 0.5}
}

// shop is one simulated shop: its conversations, conversions, revenue,
// orders and pre-period conversions.
type simShop struct {
	n, conv, rev, pre float64
	vals              []float64 // per-conversation reply minutes (quantile metric)
}

func binomial(rng *rand.Rand, n int, p float64) float64 {
	if n > 50 && n*int(math.Ceil(p*1000)) > 50000 {
		// normal approximation is not exact enough near the tails; keep it exact
	}
	k := 0
	for range n {
		if rng.Float64() < p {
			k++
		}
	}
	return float64(k)
}

// draw simulates one experiment: 2·perArm shops and their arms (first half
// control after a random permutation).
func (d clusterDesign) draw(rng *rand.Rand, withValues bool) ([]simShop, []int8) {
	k := 2 * d.perArm
	if d.fixedSizes != nil {
		k = len(d.fixedSizes)
	}
	shops := make([]simShop, k)
	arms := make([]int8, k)
	for i := range arms {
		if i >= k/2 {
			arms[i] = 1
		}
	}
	rng.Shuffle(k, func(i, j int) { arms[i], arms[j] = arms[j], arms[i] })
	l0 := math.Log(d.baseRate / (1 - d.baseRate))
	for i := range shops {
		n := 0.0
		if d.fixedSizes != nil {
			n = d.fixedSizes[i]
		} else {
			n = math.Max(1, math.Round(math.Exp(d.sizeMu+d.sizeSigma*rng.NormFloat64())))
		}
		a := d.shopSD * rng.NormFloat64()
		p := logistic(l0 + a)
		if arms[i] == 1 {
			p = math.Min(p*(1+d.lift), 1)
		}
		aov := math.Exp(4 + d.aovSD*rng.NormFloat64())
		s := simShop{n: n}
		s.conv = binomial(rng, int(n), p)
		for range int(s.conv) {
			s.rev += aov * math.Exp(0.8*rng.NormFloat64()-0.32)
		}
		s.pre = binomial(rng, int(n), logistic(l0+a))
		if withValues {
			loc := d.locSD() * rng.NormFloat64()
			s.vals = make([]float64, int(n))
			for j := range s.vals {
				s.vals[j] = math.Exp(2 + loc + rng.NormFloat64())
			}
		}
		shops[i] = s
	}
	return shops, arms
}

// metric kinds of the calibration.
const (
	simConversion = iota // proportion: conversions / conversations
	simRevenue           // mean: revenue / conversations
	simAOV               // ratio: revenue / orders
)

var simMetricNames = []string{"proportion", "mean", "ratio"}

// clusters returns the metric's per-shop sums (with the pre-period
// conversions per conversation as the CUPED covariate).
func simClusters(shops []simShop, metric int) []Cluster {
	out := make([]Cluster, len(shops))
	for i, s := range shops {
		c := Cluster{U: s.pre, V: s.n}
		switch metric {
		case simConversion:
			c.M, c.D = s.conv, s.n
		case simRevenue:
			c.M, c.D = s.rev, s.n
		case simAOV:
			c.M, c.D = s.rev, s.conv
		}
		out[i] = c
	}
	return out
}

// deltaWelch is the comparison signalab made before CR2: the delta method on
// per-cluster moments with Welch degrees of freedom.
func deltaWelch(cs []Cluster, arms []int8, cuped bool) Result {
	var a, b RatioCovariateMoments
	for i, c := range cs {
		switch arms[i] {
		case 0:
			a.Observe(c.M, c.D, c.U, c.V)
		case 1:
			b.Observe(c.M, c.D, c.U, c.V)
		}
	}
	if cuped {
		return CompareRatiosCUPED(a, b, Options{})
	}
	return CompareRatios(a.Ratio(), b.Ratio(), Options{})
}

func (d clusterDesign) locSD() float64 {
	if d.valueLocSD > 0 {
		return d.valueLocSD
	}
	return 0.8
}

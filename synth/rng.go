package synth

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is a deterministic random source with the few distributions the model
// needs. It draws only raw 64-bit words from PCG-DXSM (math/rand/v2.PCG, a
// fixed algorithm) and derives every variate itself, so the output for a
// seed does not depend on the Go release's choice of sampling algorithms.
type rng struct {
	src      *rand.PCG
	spare    float64 // second Box–Muller normal
	hasSpare bool
}

func newRNG(seed, stream uint64) *rng {
	return &rng{src: rand.NewPCG(seed, stream^0x9e3779b97f4a7c15)}
}

// float64 returns a uniform variate in [0, 1).
func (r *rng) float64() float64 { return float64(r.src.Uint64()>>11) * 0x1p-53 }

// open returns a uniform variate in (0, 1), safe for logarithms.
func (r *rng) open() float64 { return (float64(r.src.Uint64()>>11) + 0.5) * 0x1p-53 }

// bernoulli returns true with probability p.
func (r *rng) bernoulli(p float64) bool { return r.float64() < p }

// intn returns a uniform integer in [0, n) by Lemire's multiply-high method
// (bias below n/2⁶⁴, negligible for the sizes used here). n must be > 0.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.src.Uint64(), uint64(n))
	return int(hi)
}

// norm returns a standard normal variate (Box–Muller).
func (r *rng) norm() float64 {
	if r.hasSpare {
		r.hasSpare = false
		return r.spare
	}
	u, v := r.open(), r.float64()
	rad := math.Sqrt(-2 * math.Log(u))
	s, c := math.Sincos(2 * math.Pi * v)
	r.spare, r.hasSpare = rad*s, true
	return rad * c
}

// exp returns an exponential variate with the given mean.
func (r *rng) exp(mean float64) float64 { return -mean * math.Log(r.open()) }

// lognormal returns exp(ln(median) + sigma·Z): a lognormal variate with the
// given median and log-scale sigma.
func (r *rng) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.norm())
}

// pareto returns a Pareto (type I) variate with scale xm and shape alpha:
// P(X > x) = (xm/x)^alpha for x ≥ xm.
func (r *rng) pareto(xm, alpha float64) float64 {
	return xm * math.Pow(r.open(), -1/alpha)
}

// geometric returns the number of failures before the first success of
// Bernoulli trials with success probability 1/(1+mean): a geometric variate
// on {0, 1, 2, …} with the given mean.
func (r *rng) geometric(mean float64) int {
	if mean <= 0 {
		return 0
	}
	p := 1 / (1 + mean)
	return int(math.Floor(math.Log(r.open()) / math.Log1p(-p)))
}

// pick returns an index drawn with probability proportional to the
// cumulative weights cum (cum[i] = w_0 + … + w_i).
func (r *rng) pick(cum []float64) int {
	u := r.float64() * cum[len(cum)-1]
	lo, hi := 0, len(cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if cum[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// PowerSpec describes a planned two-arm comparison (control versus each
// treatment) for power, minimum detectable effect and sample size.
type PowerSpec struct {
	// Kind is Proportion (variance p(1 − p) in each arm, unpooled) or Mean
	// (the same per-unit Variance in both arms).
	Kind MetricKind `json:"kind"`
	// Baseline is the control mean (the conversion rate for proportions).
	Baseline float64 `json:"baseline"`
	// Variance is the per-unit variance of a Mean metric.
	Variance float64 `json:"variance,omitempty"`
	// Absolute makes effects absolute differences; by default effects are
	// relative lifts δ (treatment mean = Baseline·(1 + δ)).
	Absolute bool `json:"absolute,omitempty"`
	// Alpha is the significance level (default 0.05).
	Alpha float64 `json:"alpha"`
	// Alternative: TwoSided (default), Greater or Less (one-sided at α).
	Alternative Alternative `json:"alternative"`
	// Sequential plans for an asymptotic confidence sequence tuned at
	// TuningN: the fixed-horizon critical value z is replaced by the
	// sequence's multiplier at the planned total size.
	Sequential Sequential `json:"sequential"`
	// RelativeTest sizes the delta-method test of the relative effect
	// (GrowthBook's power tool). By default a relative effect δ is sized
	// for the test that decides significance: the test of the absolute
	// difference Δ = μ_A·δ.
	RelativeTest bool `json:"relative_test,omitempty"`
}

func (s PowerSpec) alpha() float64 {
	if s.Alpha <= 0 || s.Alpha >= 1 {
		return 0.05
	}
	return s.Alpha
}

// treatmentMean and the absolute effect for an effect on the spec's scale.
func (s PowerSpec) means(effect float64) (muA, muB float64) {
	if s.Absolute {
		return s.Baseline, s.Baseline + effect
	}
	return s.Baseline, s.Baseline * (1 + effect)
}

// se is the standard error of the effect estimate (on the spec's scale) with
// n units per arm:
//
//	Var(Δ) = (σ_A² + σ_B²)/n                                       absolute effect
//	Var(Δ)/μ_A² = (σ_A² + σ_B²)/(n·μ_A²)                           relative effect δ, tested as Δ = μ_A·δ (default)
//	Var(L) = (σ_B² + (1 + δ)²·σ_A²)/(n·μ_A²)                       RelativeTest: the delta-method test of L
//
// with σ² = p(1 − p) per arm for proportions (p_B = p_A(1 + δ)) and σ² =
// Variance for means. Significance is decided by the absolute test
// (Result.PValue), so the default sizes that test; the delta-method
// relative test needs (1 + δ)²-weighted control variance and so 5–10%
// more units for δ of 5–10%.
func (s PowerSpec) se(effect, n float64) float64 {
	muA, muB := s.means(effect)
	vA, vB := s.Variance, s.Variance
	if s.Kind == Proportion {
		vA, vB = muA*(1-muA), muB*(1-muB)
	}
	if s.Absolute {
		return math.Sqrt((vA + vB) / n)
	}
	if !s.RelativeTest {
		return math.Sqrt((vA+vB)/n) / math.Abs(muA)
	}
	r := muB / muA
	return math.Sqrt((vB + r*r*vA) / (n * muA * muA))
}

// critical is the multiplier of the SE at which the test rejects: Φ⁻¹(1 − α/2)
// (two-sided), Φ⁻¹(1 − α) (one-sided), or the confidence-sequence multiplier
// at total size 2n.
func (s PowerSpec) critical(n float64) float64 {
	a := s.alpha()
	two := s.Alternative == TwoSided
	if s.Sequential.Enabled {
		nStar := s.Sequential.TuningN
		if nStar <= 0 {
			nStar = DefaultTuningN
		}
		return SequentialHalfwidth(1, 2*n, nStar, a, two)
	}
	if two {
		return distuv.UnitNormal.Quantile(1 - a/2)
	}
	return distuv.UnitNormal.Quantile(1 - a)
}

func (s PowerSpec) validate() error {
	switch {
	case s.Kind == Proportion && (s.Baseline <= 0 || s.Baseline >= 1):
		return fmt.Errorf("baseline %v: a proportion must be strictly between 0 and 1", s.Baseline)
	case s.Kind == Mean && s.Variance <= 0:
		return fmt.Errorf("variance %v: a mean metric needs a positive per-unit variance", s.Variance)
	case !s.Absolute && s.Baseline == 0:
		return fmt.Errorf("baseline is 0: a relative effect is undefined; use an absolute effect")
	}
	return nil
}

// Power is the probability of a significant result with n units per arm when
// the true effect is effect (relative unless Absolute), under the normal
// approximation:
//
//	two-sided:  1 − Φ(z − δ/SE) + Φ(−z − δ/SE),   one-sided: 1 − Φ(z − δ/SE)
//
// (Less uses −δ). z is the critical value (fixed-horizon or sequential
// multiplier). Reference: GrowthBook packages/shared power.ts
// (powerEstFrequentist); Chow, Shao, Wang (2008), Sample Size Calculations
// in Clinical Research, §3.2.
func (s PowerSpec) Power(effect, n float64) (float64, error) {
	if err := s.validate(); err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, fmt.Errorf("units per arm %v: must be positive", n)
	}
	se := s.se(effect, n)
	if !(se > 0) {
		return 0, fmt.Errorf("effect %v gives a degenerate variance", effect)
	}
	z := s.critical(n)
	d := effect / se
	switch s.Alternative {
	case Greater:
		return normalSurvival(z - d), nil
	case Less:
		return normalSurvival(z + d), nil
	}
	return normalSurvival(z-d) + normalCDF(-z-d), nil
}

// MDE is the smallest positive effect (relative unless Absolute) detected
// with probability power (default 0.8) with n units per arm: the root in δ of
// Power(δ, n) = power, found by bisection (the SE depends on δ for
// proportions and relative effects, so there is no closed form).
func (s PowerSpec) MDE(power, n float64) (float64, error) {
	if power <= 0 || power >= 1 {
		power = 0.8
	}
	if err := s.validate(); err != nil {
		return 0, err
	}
	sign := 1.0
	if s.Alternative == Less {
		sign = -1
	}
	f := func(d float64) float64 {
		p, err := s.Power(sign*d, n)
		if err != nil {
			return math.NaN()
		}
		return p - power
	}
	hi := 1e-6
	limit := math.Inf(1)
	if s.Kind == Proportion {
		// The treatment rate must stay inside (0, 1).
		if s.Absolute {
			limit = 1 - s.Baseline
		} else {
			limit = (1 - s.Baseline) / s.Baseline
		}
		if sign < 0 {
			limit = s.Baseline
			if !s.Absolute {
				limit = 1
			}
		}
	}
	for f(hi) < 0 {
		hi *= 2
		if hi >= limit || hi > 1e12 {
			return 0, fmt.Errorf("no effect reaches power %v with %v units per arm", power, n)
		}
	}
	lo := 0.0
	for range 200 {
		mid := (lo + hi) / 2
		if f(mid) < 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return sign * hi, nil
}

// SampleSize is the smallest number of units per arm whose Power reaches
// power (default 0.8) for effect (relative unless Absolute). For a fixed
// horizon it starts from the closed form
//
//	n = ⌈(z_{1−α/2} + z_{power})²·(σ_B² + r²σ_A²)/(μ_A²δ²)⌉   (relative; absolute: (σ_A² + σ_B²)/Δ²)
//
// (one-sided: z_{1−α}), which ignores the far rejection region, and steps
// down while the two-region power still reaches the target (a few units at
// most); sequential plans search n directly.
// Reference: Chow, Shao, Wang (2008) §3.2; Spotify confidence
// SampleSizeCalculator (unpooled variance).
//
// A plan needing more than MaxSampleSize units per arm returns a
// *NotReachableError saying why.
func (s PowerSpec) SampleSize(effect, power float64) (float64, error) {
	if power <= 0 || power >= 1 {
		power = 0.8
	}
	if err := s.validate(); err != nil {
		return 0, err
	}
	if effect == 0 {
		return 0, fmt.Errorf("effect is 0: no sample size detects it")
	}
	if s.Kind == Proportion {
		if _, muB := s.means(effect); muB <= 0 || muB >= 1 {
			return 0, fmt.Errorf("effect %v moves the rate to %v, outside (0, 1)", effect, muB)
		}
	}
	reach := func(n float64) bool { p, _ := s.Power(effect, n); return p >= power }
	if !s.Sequential.Enabled {
		z := s.critical(1) + distuv.UnitNormal.Quantile(power)
		se1 := s.se(effect, 1)
		n := math.Ceil(z * z * se1 * se1 / (effect * effect))
		if !(n <= MaxSampleSize) { // also +Inf and NaN
			need := "more units per arm than can be counted"
			if !math.IsInf(n, 0) && !math.IsNaN(n) {
				need = fmt.Sprintf("about %.3g units per arm", n)
			}
			return 0, &NotReachableError{Reason: fmt.Sprintf("it needs %s, more than %.0e: the effect %v is too small against a per-unit standard deviation of %.3g",
				need, MaxSampleSize, effect, se1)}
		}
		// The closed form ignores the far rejection region, so the smallest
		// n reaching the power can be a few units lower: step down (a
		// bounded number of steps: far fewer are ever needed).
		for i := 0; i < maxStepDown && n > 1 && reach(n-1); i++ {
			n--
		}
		return n, nil
	}
	hi := 2.0
	for !reach(hi) {
		hi *= 2
		if hi > MaxSampleSize {
			return 0, &NotReachableError{Reason: fmt.Sprintf("power %v is not reached with %.0e units per arm: the effect %v is too small", power, MaxSampleSize, effect)}
		}
	}
	lo := hi / 2
	for hi-lo > 0.5 {
		mid := math.Floor((lo + hi) / 2)
		if reach(mid) {
			hi = mid
		} else {
			lo = mid
		}
		if mid == lo && hi-lo <= 1 {
			break
		}
	}
	return math.Ceil(hi), nil
}

// MaxSampleSize is the largest number of units per arm SampleSize plans
// for (10¹²: more than any experiment enrols). Beyond it the search would
// take unbounded time and the answer would mean nothing.
const MaxSampleSize = 1e12

// maxStepDown bounds SampleSize's step down from the closed form.
const maxStepDown = 1000

// NotReachableError is SampleSize's answer when no plan up to
// MaxSampleSize units per arm reaches the power.
type NotReachableError struct {
	Reason string
}

func (e *NotReachableError) Error() string { return "not reachable: " + e.Reason }

// growthBookSequentialPower is GrowthBook's approximation of power under a
// confidence sequence (packages/shared power.ts, sequentialPowerStandardError):
// the SE is inflated by z_seq/z (z_seq the sequence multiplier at the planned
// pairwise total 2n) and the fixed-horizon formula applied with z:
//
//	SE_seq = SE·z_seq/z,   power = 1 − Φ(z − δ/SE_seq) + Φ(−z − δ/SE_seq)
//
// This inflates the sampling spread as well as the threshold, so it is more
// conservative than PowerSpec.Power (which uses P(|N(δ/SE, 1)| > z_seq)). It
// is kept, unexported, to check signalab against GrowthBook's published
// numbers (GB-14).
func (s PowerSpec) growthBookSequentialPower(effect, n float64) float64 {
	fixed := s
	fixed.Sequential.Enabled = false
	z := fixed.critical(n)
	se := s.se(effect, n) * s.critical(n) / z
	d := effect / se
	return normalSurvival(z-d) + normalCDF(-z-d)
}

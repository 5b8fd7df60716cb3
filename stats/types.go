package stats

import (
	"encoding/json"
	"math"
)

// Moments are the sufficient statistics of one arm for a mean or proportion
// metric: the number of units N, Σy and Σy². For a proportion, y ∈ {0,1} and
// SumSq == Sum. Moments are additive: accumulate per segment with Observe or
// Add and merge partial sums from any number of shards.
type Moments struct {
	N     float64 `json:"n"`
	Sum   float64 `json:"sum"`
	SumSq float64 `json:"sum_sq"`
}

// Observe adds one unit with outcome y.
func (m *Moments) Observe(y float64) { m.N++; m.Sum += y; m.SumSq += y * y }

// Add returns the moments of the union of two disjoint sets of units.
func (m Moments) Add(o Moments) Moments {
	return Moments{N: m.N + o.N, Sum: m.Sum + o.Sum, SumSq: m.SumSq + o.SumSq}
}

// RatioMoments are the sufficient statistics of one arm for a ratio metric
// ΣM/ΣD (for example revenue per order, or conversions per conversation when
// shops are randomized and conversations measured): one row per randomization
// unit with numerator M and denominator D.
type RatioMoments struct {
	N     float64 `json:"n"`
	SumM  float64 `json:"sum_m"`
	SumM2 float64 `json:"sum_m2"`
	SumD  float64 `json:"sum_d"`
	SumD2 float64 `json:"sum_d2"`
	SumMD float64 `json:"sum_md"`
}

// Observe adds one randomization unit with numerator m and denominator d.
func (r *RatioMoments) Observe(m, d float64) {
	r.N++
	r.SumM += m
	r.SumM2 += m * m
	r.SumD += d
	r.SumD2 += d * d
	r.SumMD += m * d
}

// Add returns the moments of the union of two disjoint sets of units.
func (r RatioMoments) Add(o RatioMoments) RatioMoments {
	return RatioMoments{N: r.N + o.N, SumM: r.SumM + o.SumM, SumM2: r.SumM2 + o.SumM2,
		SumD: r.SumD + o.SumD, SumD2: r.SumD2 + o.SumD2, SumMD: r.SumMD + o.SumMD}
}

// CovariateMoments are the sufficient statistics of one arm for a mean or
// proportion metric Y with a pre-period covariate X (CUPED).
type CovariateMoments struct {
	N     float64 `json:"n"`
	SumY  float64 `json:"sum_y"`
	SumY2 float64 `json:"sum_y2"`
	SumX  float64 `json:"sum_x"`
	SumX2 float64 `json:"sum_x2"`
	SumXY float64 `json:"sum_xy"`
}

// Observe adds one unit with outcome y and covariate x.
func (c *CovariateMoments) Observe(y, x float64) {
	c.N++
	c.SumY += y
	c.SumY2 += y * y
	c.SumX += x
	c.SumX2 += x * x
	c.SumXY += x * y
}

// Add returns the moments of the union of two disjoint sets of units.
func (c CovariateMoments) Add(o CovariateMoments) CovariateMoments {
	return CovariateMoments{N: c.N + o.N, SumY: c.SumY + o.SumY, SumY2: c.SumY2 + o.SumY2,
		SumX: c.SumX + o.SumX, SumX2: c.SumX2 + o.SumX2, SumXY: c.SumXY + o.SumXY}
}

// Outcome returns the moments of Y alone.
func (c CovariateMoments) Outcome() Moments { return Moments{N: c.N, Sum: c.SumY, SumSq: c.SumY2} }

// RatioCovariateMoments are the sufficient statistics of one arm for a ratio
// metric M/D with a pre-period covariate that is itself a ratio U/V (CUPED for
// ratio metrics): the sums, sums of squares and all six cross-products of
// (M, D, U, V) over randomization units.
type RatioCovariateMoments struct {
	N     float64 `json:"n"`
	SumM  float64 `json:"sum_m"`
	SumM2 float64 `json:"sum_m2"`
	SumD  float64 `json:"sum_d"`
	SumD2 float64 `json:"sum_d2"`
	SumU  float64 `json:"sum_u"`
	SumU2 float64 `json:"sum_u2"`
	SumV  float64 `json:"sum_v"`
	SumV2 float64 `json:"sum_v2"`
	SumMD float64 `json:"sum_md"`
	SumMU float64 `json:"sum_mu"`
	SumMV float64 `json:"sum_mv"`
	SumDU float64 `json:"sum_du"`
	SumDV float64 `json:"sum_dv"`
	SumUV float64 `json:"sum_uv"`
}

// Observe adds one randomization unit: numerator m, denominator d, covariate
// numerator u and covariate denominator v.
func (r *RatioCovariateMoments) Observe(m, d, u, v float64) {
	r.N++
	r.SumM += m
	r.SumM2 += m * m
	r.SumD += d
	r.SumD2 += d * d
	r.SumU += u
	r.SumU2 += u * u
	r.SumV += v
	r.SumV2 += v * v
	r.SumMD += m * d
	r.SumMU += m * u
	r.SumMV += m * v
	r.SumDU += d * u
	r.SumDV += d * v
	r.SumUV += u * v
}

// Add returns the moments of the union of two disjoint sets of units.
func (r RatioCovariateMoments) Add(o RatioCovariateMoments) RatioCovariateMoments {
	return RatioCovariateMoments{N: r.N + o.N,
		SumM: r.SumM + o.SumM, SumM2: r.SumM2 + o.SumM2, SumD: r.SumD + o.SumD, SumD2: r.SumD2 + o.SumD2,
		SumU: r.SumU + o.SumU, SumU2: r.SumU2 + o.SumU2, SumV: r.SumV + o.SumV, SumV2: r.SumV2 + o.SumV2,
		SumMD: r.SumMD + o.SumMD, SumMU: r.SumMU + o.SumMU, SumMV: r.SumMV + o.SumMV,
		SumDU: r.SumDU + o.SumDU, SumDV: r.SumDV + o.SumDV, SumUV: r.SumUV + o.SumUV}
}

// Ratio returns the moments of the outcome ratio M/D alone.
func (r RatioCovariateMoments) Ratio() RatioMoments {
	return RatioMoments{N: r.N, SumM: r.SumM, SumM2: r.SumM2, SumD: r.SumD, SumD2: r.SumD2, SumMD: r.SumMD}
}

// MetricKind selects the per-unit variance of a mean-type metric.
type MetricKind int

const (
	// Mean uses the sample variance (Σy² − (Σy)²/n)/(n − 1).
	Mean MetricKind = iota
	// Proportion uses the Bernoulli variance p(1 − p) with p = Σy/n.
	Proportion
)

// Test selects the reference distribution of the test statistic.
type Test int

const (
	// Welch is Student's t with Welch–Satterthwaite degrees of freedom (default).
	Welch Test = iota
	// Z is the standard normal.
	Z
	// StudentPooled is Student's t with a pooled variance and n_A + n_B − 2
	// degrees of freedom (equal-variance t test).
	StudentPooled
)

// Alternative is the alternative hypothesis about the treatment effect Δ.
type Alternative int

const (
	// TwoSided: Δ ≠ 0 (default).
	TwoSided Alternative = iota
	// Greater: Δ > 0; the interval is (lower, +∞).
	Greater
	// Less: Δ < 0; the interval is (−∞, upper).
	Less
)

// RelativeCI selects how the interval of the relative effect is formed.
type RelativeCI int

const (
	// DeltaCI is lift ± q·SE with the delta-method SE (default).
	DeltaCI RelativeCI = iota
	// FiellerCI inverts the t test of μ_B − ρ·μ_A = 0 (Fieller 1954).
	FiellerCI
	// LogCI is exp(log(μ_B/μ_A) ± q·SE_log) − 1 (tea-tasting's convention).
	LogCI
)

// Sequential configures asymptotic confidence sequences.
type Sequential struct {
	Enabled bool `json:"enabled"`
	// TuningN is N*, the total sample size (both arms) at which the
	// confidence sequence is tightest. Defaults to 5000.
	TuningN float64 `json:"tuning_n"`
}

// Bayesian configures the Gaussian-prior analysis of the relative effect.
type Bayesian struct {
	Enabled bool `json:"enabled"`
	// Proper applies the prior N(PriorMean, PriorVariance); otherwise the
	// prior is flat (improper) and the posterior equals the likelihood.
	Proper        bool    `json:"proper"`
	PriorMean     float64 `json:"prior_mean"`
	PriorVariance float64 `json:"prior_variance"`
}

// Options configure a comparison. The zero value is the default analysis:
// α = 0.05, Welch t, two-sided, delta-method relative interval. An Alpha
// outside (0, 1) (including the zero value) means 0.05; callers validate
// user input before (experiment.yaml does).
type Options struct {
	Alpha       float64     `json:"alpha"`
	Test        Test        `json:"test"`
	Alternative Alternative `json:"alternative"`
	RelativeCI  RelativeCI  `json:"relative_ci"`
	// NonInferiorityMargin m ≥ 0 is a relative margin: the null hypothesis
	// is moved from Δ = 0 to Δ = −m·|μ_A| for Greater and to Δ = +m·|μ_A|
	// for Less (and the relative null to ∓m). Zero means a superiority test.
	NonInferiorityMargin float64    `json:"non_inferiority_margin"`
	Sequential           Sequential `json:"sequential"`
	Bayesian             Bayesian   `json:"bayesian"`
	// ContinuityCorrection applies Yates' correction 0.5·(1/n_A + 1/n_B) to
	// proportion metrics (tea-tasting's default; off by default here): it is
	// subtracted from |Δ| for the p-value and added to the half-width.
	ContinuityCorrection bool `json:"continuity_correction"`
	// PooledProportionSE uses the pooled proportion p̄ = (x_A + x_B)/(n_A + n_B)
	// in the SE √(p̄(1 − p̄)(1/n_A + 1/n_B)) of the p-value of a proportion z
	// test (Test: Z, CompareMeans with Proportion; the χ² test's convention,
	// Spotify); intervals keep the unpooled SE unless PooledProportionCI is
	// also set (tea-tasting's convention). Ignored for other tests.
	PooledProportionSE bool `json:"pooled_proportion_se"`
	PooledProportionCI bool `json:"pooled_proportion_ci"`
	// PopulationVariance uses the divisor n instead of n − 1 for the sample
	// variance of a mean metric (Spotify confidence's z test).
	PopulationVariance bool `json:"population_variance"`
	// ThetaFromPooledSample computes the ratio-CUPED θ from the two arms
	// merged into one sample (tea-tasting) instead of summing per-arm
	// delta-method (co)variances (GrowthBook, the default).
	ThetaFromPooledSample bool `json:"theta_from_pooled_sample"`
}

// Interval is a confidence or credible interval. An infinite bound (one-sided
// tests) is written to JSON as null: a null lower bound means −∞, a null
// upper bound +∞.
type Interval [2]float64

// MarshalJSON writes infinite or NaN bounds as null.
func (iv Interval) MarshalJSON() ([]byte, error) {
	out := [2]*float64{}
	for i, v := range iv {
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			v := v
			out[i] = &v
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads null bounds as −∞ (lower) and +∞ (upper).
func (iv *Interval) UnmarshalJSON(b []byte) error {
	var in [2]*float64
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	iv[0], iv[1] = math.Inf(-1), math.Inf(1)
	if in[0] != nil {
		iv[0] = *in[0]
	}
	if in[1] != nil {
		iv[1] = *in[1]
	}
	return nil
}

// BayesianResult is the posterior of the relative effect under a Gaussian
// prior.
type BayesianResult struct {
	Mean float64  `json:"mean"`
	SD   float64  `json:"sd"`
	CrI  Interval `json:"cri"`
	// ChanceToWin is P(relative effect > 0 | data).
	ChanceToWin float64 `json:"chance_to_win"`
	// Risk is the expected relative loss of shipping [control, treatment]:
	// [E max(L, 0), E max(−L, 0)] for the posterior L.
	Risk [2]float64 `json:"risk"`
}

// Result is one treatment-versus-control comparison. Every float is finite
// (JSON-safe) except CI bounds, which Interval writes as null when infinite.
// When the comparison is undefined (empty arm, n < 2, zero variance, zero
// control mean), Reason says why, and the undefined numbers are zero with
// PValue = 1 and Significant = false.
type Result struct {
	ControlN      float64 `json:"control_n"`
	TreatmentN    float64 `json:"treatment_n"`
	ControlMean   float64 `json:"control_mean"`
	TreatmentMean float64 `json:"treatment_mean"`

	AbsEffect float64  `json:"abs_effect"`
	AbsSE     float64  `json:"abs_se"`
	AbsCI     Interval `json:"abs_ci"`
	// PValue tests the absolute effect (against the margin when one is set).
	PValue float64 `json:"p_value"`
	// Statistic is the t or z statistic of the absolute effect.
	Statistic float64 `json:"statistic"`
	// DF is the degrees of freedom of the t reference; 0 for z.
	DF float64 `json:"df"`

	RelEffect float64  `json:"rel_effect"`
	RelSE     float64  `json:"rel_se"`
	RelCI     Interval `json:"rel_ci"`
	// RelPValue tests the relative effect with its delta-method SE.
	RelPValue float64 `json:"rel_p_value"`

	Significant bool `json:"significant"`

	// Multiple-testing adjustment, filled by Adjust.
	Correction     string   `json:"correction,omitempty"`
	AdjustedPValue float64  `json:"adjusted_p_value,omitempty"`
	AdjustedAbsCI  Interval `json:"adjusted_abs_ci,omitzero"`
	AdjustedRelCI  Interval `json:"adjusted_rel_ci,omitzero"`

	// CUPED: the pooled adjustment coefficient and the achieved variance
	// reduction 1 − Var(adjusted)/Var(unadjusted) of the absolute effect.
	Theta             float64 `json:"theta,omitempty"`
	VarianceReduction float64 `json:"variance_reduction,omitempty"`

	// Sequential is true when the intervals and p-values are those of an
	// asymptotic confidence sequence (valid under continuous monitoring).
	Sequential bool `json:"sequential,omitempty"`

	Bayesian *BayesianResult `json:"bayesian,omitempty"`

	Reason string `json:"reason,omitempty"`
	// RelReason says why the relative effect alone is undefined (a zero
	// control mean, zero variance of the relative effect) while the
	// absolute effect and its p-value stand; the relative fields are then
	// zero with RelPValue = 1.
	RelReason string `json:"rel_reason,omitempty"`

	// Draws is the number of assignment redraws behind a randomization
	// test's p-values and intervals (0 when the test is parametric).
	Draws int `json:"draws,omitempty"`
}

// MomentsFromSummary converts a per-arm summary (count, mean and sample
// variance with divisor n − 1, as warehouses and published datasets report
// them) into sufficient statistics:
//
//	Σy = n·mean,   Σy² = (n − 1)·variance + n·mean²
func MomentsFromSummary(n, mean, variance float64) Moments {
	return Moments{N: n, Sum: n * mean, SumSq: (n-1)*variance + n*mean*mean}
}

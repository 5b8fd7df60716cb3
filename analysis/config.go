package analysis

import (
	"fmt"

	"github.com/signalab/signalab/internal/keyerr"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// Metric is one metric to analyse, by table columns.
type Metric struct {
	Name string
	Type metrics.Type
	// Columns is [value] or, for ratios, [numerator, denominator].
	Columns []string
	// Covariates are the matching CUPED pre-period columns (optional).
	Covariates []string
	// Q is the quantile level of a quantile metric.
	Q float64
	// Info is copied into results.json's metrics list (Columns and
	// Covariates are filled in when empty).
	Info results.Metric
	// Role is the metric's part in the decision (RolePrimary, RoleSecondary,
	// RoleGuardrail; empty: primary when named by Config.Primary, else
	// secondary) and Direction the change hoped for ("increase" when
	// empty). Guardrail, when not nil, is its non-inferiority margin.
	Role      Role
	Direction string
	Guardrail *Guardrail
	// Money marks each of Columns that holds money in minor units (cents);
	// the analysis reports such values in major currency units.
	Money []bool
}

// Defaults of the analysis options: a zero Alpha, SRMAlpha, Correction,
// SegmentCorrection, CorrectionScope or Population in a Config means these.
// (Test defaults by its zero value, stats.Welch; RelativeCI's zero value is
// stats.DeltaCI, so a Config built in Go states it, as DefaultOptions does.)
const (
	DefaultAlpha      = 0.05
	DefaultSRMAlpha   = 0.001
	DefaultCorrection = stats.HolmCorrection
	// MinRandomizationDraws is the fewest redraws a randomization test
	// accepts: with B draws the smallest p-value is 1/(B + 1), so B ≥ 99
	// lets a test reject at 0.01.
	MinRandomizationDraws = 99
	// DefaultSegmentCorrection is the correction within a segment column.
	DefaultSegmentCorrection = stats.BHCorrection
	// DefaultRelativeCI is Fieller's interval, which excludes 0 exactly
	// when the test of the absolute change rejects (docs/decisions.md).
	DefaultRelativeCI = stats.FiellerCI
)

// Tests and RelativeCIs are the tests and relative-interval methods the
// analysis offers (a subset of package stats').
var (
	Tests       = []stats.Test{stats.Welch, stats.Z}
	RelativeCIs = []stats.RelativeCI{stats.DeltaCI, stats.FiellerCI}
)

// Options are how to analyse: experiment.yaml's analysis: block (less
// srm_alpha and segments, which are the assignment's), which decodes into
// this struct; Validate is the one judge of these keys.
type Options struct {
	Alpha      float64          `yaml:"alpha"`
	Test       stats.Test       `yaml:"test"`
	RelativeCI stats.RelativeCI `yaml:"relative_ci"`
	CUPED      bool             `yaml:"cuped"`
	Correction stats.Correction `yaml:"correction"`
	Sequential bool             `yaml:"sequential"`
	Bayesian   bool             `yaml:"bayesian"`
	// Inference is how comparisons are tested when randomization is
	// coarser than a row (auto by default: see stats.ChooseInference).
	// Rows randomized one by one use Test.
	Inference stats.Inference `yaml:"inference"`
	// RandomizationDraws is the number of assignment redraws of a
	// randomization test (0: stats.DefaultRandomizationDraws).
	RandomizationDraws int `yaml:"randomization_draws"`
	// SequentialTuningN is N* of the confidence sequences, in randomization
	// units of a pairwise comparison (0: the plan's, else DefaultTuningN).
	SequentialTuningN float64 `yaml:"sequential_tuning_n"`
	// CorrectionScope groups the rows of segment "all" into correction
	// families (ScopeFamily by default: primary metrics, secondary metrics
	// and guardrail metrics apart, each population apart).
	CorrectionScope Scope `yaml:"correction_scope"`
	// SegmentCorrection is the correction within each segment column
	// (Benjamini–Hochberg by default).
	SegmentCorrection stats.Correction `yaml:"segment_correction"`
	// Population is the population the verdict is stated for: "triggered"
	// (default; all when the table has no triggered column) or "all".
	Population string `yaml:"population"`
	// Currency is the ISO 4217 code money metrics are expected in: the
	// analysis fails when the data hold another one. "" accepts the data's
	// single currency (several are added without conversion, with a
	// warning); "mixed" accepts several without the warning's doubt.
	Currency string `yaml:"currency"`
}

// DefaultOptions returns the options of a spec that sets none.
func DefaultOptions() Options {
	return Options{Alpha: DefaultAlpha, Test: stats.Welch, RelativeCI: DefaultRelativeCI, Correction: DefaultCorrection,
		Inference: stats.InferenceAuto, CorrectionScope: ScopeFamily, SegmentCorrection: DefaultSegmentCorrection,
		Population: results.PopulationTriggered}
}

// Validate reports every invalid option as a keyerr.List keyed as in the
// analysis: block ("alpha"). It takes the values as given: zero is not a
// default here (Analyze fills zero values first).
func (o *Options) Validate() error {
	var errs keyerr.List
	if !(o.Alpha > 0 && o.Alpha < 1) {
		errs.Add("alpha", "%v is outside (0, 1)", o.Alpha)
	}
	if !contains(Tests, o.Test) {
		errs.Add("test", "%s is not offered by the analysis (want %s)", o.Test, names(Tests))
	}
	if !contains(RelativeCIs, o.RelativeCI) {
		errs.Add("relative_ci", "%s is not offered by the analysis (want %s)", o.RelativeCI, names(RelativeCIs))
	}
	if !contains(stats.Corrections, o.Correction) {
		errs.Add("correction", "%q is not one of %s", o.Correction, names(stats.Corrections))
	}
	if o.Inference != "" && !contains(stats.Inferences, o.Inference) {
		errs.Add("inference", "%q is not one of %s", o.Inference, names(stats.Inferences))
	}
	if o.RandomizationDraws != 0 && (o.RandomizationDraws < MinRandomizationDraws || o.RandomizationDraws > stats.MaxRandomizationDraws) {
		errs.Add("randomization_draws", "%d is outside [%d, %d]", o.RandomizationDraws, MinRandomizationDraws, stats.MaxRandomizationDraws)
	}
	if o.SequentialTuningN < 0 {
		errs.Add("sequential_tuning_n", "%v is negative (want the planned number of randomization units of a comparison)", o.SequentialTuningN)
	}
	if !contains(Scopes, o.CorrectionScope) {
		errs.Add("correction_scope", "%q is not one of %s", o.CorrectionScope, names(Scopes))
	}
	if !contains(stats.Corrections, o.SegmentCorrection) {
		errs.Add("segment_correction", "%q is not one of %s", o.SegmentCorrection, names(stats.Corrections))
	}
	if o.Population != results.PopulationTriggered && o.Population != results.PopulationAll {
		errs.Add("population", "%q is not triggered or all", o.Population)
	}
	if err := validCurrency(o.Currency); err != "" {
		errs.Add("currency", "%s", err)
	}
	return errs.Err()
}

// Config says what to analyse and how.
type Config struct {
	Name string
	// Unit names the randomization unit; ClusterCol is its column when it
	// is coarser than a row ("" when each row is its own randomization unit).
	Unit       string
	ClusterCol string
	// AnalysisUnit names what a row is ("conversation", "row").
	AnalysisUnit string
	VariantCol   string
	// Variants lists the arms in order with their planned weights; empty
	// means "discover them", with equal weights. Control names the control
	// arm (default: the first of Variants; without Variants the value named
	// DefaultControl, else an error listing the values found).
	Variants []results.Variant
	Control  string
	Metrics  []Metric
	// Primary names the first primary metric (the headline and daily
	// series); a metric's Role makes further ones primary. Default: the
	// first metric.
	Primary string
	// Segments are categorical columns to break results down by.
	Segments []string
	// TriggeredCol is the boolean column of the triggered population ("" for
	// none); TimeCol the timestamp column of the daily series ("" for none).
	TriggeredCol string
	TimeCol      string

	Options
	// SequentialTuningSource says where Options.SequentialTuningN came
	// from ("analysis.sequential_tuning_n", "plan.units_per_arm"; "" when
	// it is the default) for results.json.
	SequentialTuningSource string
	// Redraw redraws the assignment for randomization tests; nil means a
	// permutation of the observed arms among the compared clusters (the
	// mechanism of a generic table is unknown).
	Redraw UnitRedraw
	// SRMAlpha is the SRM threshold reported in results.json and used when
	// no assign.json is given (default DefaultSRMAlpha).
	SRMAlpha float64
	// Salt is the spec's randomization salt; it and the names of the cell
	// seed the cluster bootstrap of quantile metrics (see quantileSeed).
	Salt string
	// QuantileBootstrap is the number of cluster-bootstrap replicates of a
	// quantile metric under randomization coarser than a row (0: the
	// default stats.DefaultClusterBootstrapReplicates, 1000).
	QuantileBootstrap int
	Window            *results.Window
	PrePeriod         string
}

// applyDefaults fills the zero values that have a default.
func (c *Config) applyDefaults() {
	if c.Alpha == 0 {
		c.Alpha = DefaultAlpha
	}
	if c.SRMAlpha == 0 {
		c.SRMAlpha = DefaultSRMAlpha
	}
	if c.Correction == "" {
		c.Correction = DefaultCorrection
	}
	if c.SegmentCorrection == "" {
		c.SegmentCorrection = DefaultSegmentCorrection
	}
	if c.CorrectionScope == "" {
		c.CorrectionScope = ScopeFamily
	}
	if c.Population == "" {
		c.Population = results.PopulationTriggered
	}
	if c.Primary == "" {
		for _, m := range c.Metrics {
			if m.Role == RolePrimary || (m.Role == "" && m.Guardrail == nil) {
				c.Primary = m.Name
				break
			}
		}
	}
}

// Validate reports what makes c unusable: the options (Options.Validate)
// and the metrics' shapes.
func (c *Config) Validate() error {
	var errs keyerr.List
	errs = append(errs, keyerr.From(c.Options.Validate())...)
	if c.VariantCol == "" {
		errs.Add("", "no variant column")
	}
	if len(c.Metrics) == 0 {
		errs.Add("", "no metrics to analyse")
	}
	seen := map[string]bool{}
	for _, m := range c.Metrics {
		if seen[m.Name] {
			errs.Add("", "metric %s is given twice; each metric is analysed (and counted in the correction family) once", m.Name)
		}
		seen[m.Name] = true
		switch m.Type {
		case metrics.Proportion, metrics.Mean, metrics.Quantile:
			if len(m.Columns) != 1 {
				errs.Add("", "metric %s: a %s metric reads one column", m.Name, m.Type)
			}
		case metrics.Ratio:
			if len(m.Columns) != 2 {
				errs.Add("", "metric %s: a ratio metric reads a numerator and a denominator column", m.Name)
			}
		default:
			errs.Add("", "metric %s: type %q is not one of %s", m.Name, m.Type, names(metrics.Types))
		}
		if m.Type == metrics.Quantile && !(m.Q > 0 && m.Q < 1) { // NaN too
			errs.Add("", "metric %s: quantile level %v is not in (0, 1)", m.Name, m.Q)
		}
		m.validateDecision(&errs)
	}
	return errs.Err()
}

func contains[T comparable](set []T, v T) bool {
	for _, x := range set {
		if x == v {
			return true
		}
	}
	return false
}

// names joins the names of vs with ", ".
func names[T fmt.Stringer](vs []T) string {
	s := ""
	for i, v := range vs {
		if i > 0 {
			s += ", "
		}
		s += v.String()
	}
	return s
}

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
	// MaxDrop, when non-nil, makes the metric a guardrail (relative lift).
	MaxDrop *float64
}

// Defaults of the analysis options: a zero Alpha, SRMAlpha or Correction in
// a Config means these. (Test and RelativeCI default by their zero values,
// stats.Welch and stats.DeltaCI.)
const (
	DefaultAlpha      = 0.05
	DefaultSRMAlpha   = 0.001
	DefaultCorrection = stats.HolmCorrection
	// MinRandomizationDraws is the fewest redraws a randomization test
	// accepts: with B draws the smallest p-value is 1/(B + 1), so B ≥ 99
	// lets a test reject at 0.01.
	MinRandomizationDraws = 99
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
}

// DefaultOptions returns the options of a spec that sets none.
func DefaultOptions() Options {
	return Options{Alpha: DefaultAlpha, Test: stats.Welch, RelativeCI: stats.DeltaCI, Correction: DefaultCorrection,
		Inference: stats.InferenceAuto}
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
	// arm (default: the first variant).
	Variants []results.Variant
	Control  string
	Metrics  []Metric
	Primary  string
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
	if c.Primary == "" && len(c.Metrics) > 0 {
		c.Primary = c.Metrics[0].Name
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

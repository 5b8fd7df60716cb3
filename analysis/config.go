package analysis

import (
	"time"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
)

// Metric types.
const (
	Proportion = "proportion"
	Mean       = "mean"
	Ratio      = "ratio"
	Quantile   = "quantile"
)

// Metric is one metric to analyse, by table columns.
type Metric struct {
	Name string
	Type string // proportion | mean | ratio | quantile
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

	Alpha      float64
	Test       string // welch | z
	RelativeCI string // delta | fieller
	Correction string // none | holm | bh | ...
	CUPED      bool
	Sequential bool
	// SequentialTuningN is N* of the confidence sequence (default 5000).
	SequentialTuningN float64
	Bayesian          bool
	SRMAlpha          float64
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

// FromSpec builds the analysis of a units.parquet written by the metrics
// stage for spec.
func FromSpec(spec *assign.Spec) (Config, error) {
	defs, err := metrics.Resolve(spec)
	if err != nil {
		return Config{}, err
	}
	a := spec.Analysis
	cfg := Config{
		Name: spec.Name, Salt: spec.Salt, Unit: spec.Unit, AnalysisUnit: "conversation",
		VariantCol: metrics.ColVariant, Primary: spec.Primary, Segments: a.Segments,
		TriggeredCol: metrics.ColTriggered, TimeCol: metrics.ColStartedAt,
		Alpha: a.Alpha, Test: a.Test, RelativeCI: a.RelativeCI, Correction: a.Correction,
		CUPED: a.CUPED, Sequential: a.Sequential, Bayesian: a.Bayesian, SRMAlpha: a.SRMAlpha,
		PrePeriod: time.Duration(spec.PrePeriod).String(),
	}
	if spec.Unit != "conversation_id" {
		cfg.ClusterCol = metrics.ColUnitID
	}
	for _, v := range spec.Variants {
		cfg.Variants = append(cfg.Variants, results.Variant{Name: v.Name, Weight: v.Weight})
	}
	if len(spec.Variants) > 0 {
		cfg.Control = spec.Variants[0].Name
	}
	if spec.Window != nil {
		cfg.Window = &results.Window{Start: spec.Window.Start, End: spec.Window.End}
	}
	for _, d := range defs {
		m := Metric{Name: d.Name, Type: d.Type, Columns: d.Columns, Covariates: d.Covariates, Q: d.Q,
			Info: results.Metric{Name: d.Name, Type: d.Type, Outcome: d.Outcome, Numerator: d.Numerator,
				Denominator: d.Denominator, Quantile: d.Q, Primary: d.Name == spec.Primary}}
		if d.Type != Quantile {
			m.Info.Window = d.Window.String()
		}
		for _, g := range spec.Gates {
			if g.Metric == d.Name {
				drop := g.MaxDrop
				m.MaxDrop = &drop
				m.Info.Guardrail = &results.Guardrail{MaxDrop: drop}
			}
		}
		cfg.Metrics = append(cfg.Metrics, m)
	}
	return cfg, nil
}

// FromSpecFile loads an experiment.yaml and returns FromSpec of it.
func FromSpecFile(path string) (Config, error) {
	spec, err := assign.LoadSpec(path)
	if err != nil {
		return Config{}, err
	}
	return FromSpec(spec)
}

package experiment

import (
	"encoding/json"
	"time"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/signal"
)

// Spec is an experiment.yaml: the experiment's design as the user wrote it,
// with the defaults of absent keys. See docs/experiment-spec.md.
//
// Each block decodes into the type of the stage that owns it (signals: into
// signal.Params, metrics: into metrics.Metric, analysis: into
// analysis.Options), and each stage's Validate judges its keys; the methods
// AssignConfig, MetricsSpec and AnalysisConfig translate the spec into the
// stages' configurations.
type Spec struct {
	Name       string              `yaml:"name"`
	Unit       string              `yaml:"unit"`
	Salt       string              `yaml:"salt"`
	Hash       assign.HashVersion  `yaml:"hash"`
	Variants   []assign.Arm        `yaml:"variants"`
	Coverage   float64             `yaml:"coverage"`
	Namespace  *assign.Namespace   `yaml:"namespace"`
	Window     *assign.Window      `yaml:"window"`
	PrePeriod  time.Duration       `yaml:"pre_period"`
	Filters    assign.Filters      `yaml:"filters"`
	Signals    signal.Params       `yaml:"signals"`
	Metrics    []metrics.Metric    `yaml:"metrics"`
	Primary    metrics.Names       `yaml:"primary"`
	Secondary  metrics.Names       `yaml:"secondary"`
	Analysis   Analysis            `yaml:"analysis"`
	Guardrails []metrics.Guardrail `yaml:"guardrails"`
	// Plan is what the experiment was sized for (signalab power); nil when
	// the spec has no plan: block.
	Plan *Plan `yaml:"plan"`
}

// Plan is the plan: block: the sample the experiment was sized for, in
// randomization units. The analysis tunes its confidence sequences to it
// (N* = 2·units_per_arm for a pairwise comparison) unless
// analysis.sequential_tuning_n says otherwise.
type Plan struct {
	UnitsPerArm float64 `yaml:"units_per_arm"`
}

// SequentialTuning returns N* of the confidence sequences, in randomization
// units of a pairwise comparison, and the key it came from: the analysis'
// sequential_tuning_n, else twice the plan's units_per_arm, else 0 and ""
// (the analysis' default).
func (s *Spec) SequentialTuning() (float64, string) {
	if n := s.Analysis.SequentialTuningN; n > 0 {
		return n, "analysis.sequential_tuning_n"
	}
	if s.Plan != nil && s.Plan.UnitsPerArm > 0 {
		return 2 * s.Plan.UnitsPerArm, "plan.units_per_arm"
	}
	return 0, ""
}

// Analysis is the analysis: block: the analysis options, and the SRM
// threshold and segments, which the assignment tests SRM with (and the
// analysis breaks results down by).
type Analysis struct {
	analysis.Options `yaml:",inline"`
	SRMAlpha         float64  `yaml:"srm_alpha"`
	Segments         []string `yaml:"segments"`
	// Unit is the analysis unit (conversation, buyer or session) and
	// SessionGap the inactivity that ends a session; both are the metrics
	// stage's (it builds the unit table), and the replay writes the
	// sessions those units are built from.
	Unit       metrics.Unit  `yaml:"unit"`
	SessionGap time.Duration `yaml:"session_gap"`
}

// NewSpec returns the spec of an empty experiment.yaml: every key that has a
// default holds it (hash, coverage, signals, analysis), the rest is zero.
// Parse decodes the YAML over it.
func NewSpec() *Spec {
	return &Spec{
		Hash:     assign.DefaultHash,
		Coverage: assign.DefaultCoverage,
		Signals:  signal.DefaultParams(),
		Analysis: Analysis{Options: analysis.DefaultOptions(), SRMAlpha: assign.DefaultSRMAlpha,
			Unit: metrics.UnitConversation, SessionGap: replay.DefaultSessionGap},
	}
}

// PrimaryName returns the primary metric: primary, or the first metric when
// the spec names none.
func (s *Spec) PrimaryName() string { return s.MetricsSpec().PrimaryName() }

// AssignConfig returns the assign stage's configuration.
func (s *Spec) AssignConfig() *assign.Config {
	au := ""
	if s.Analysis.Unit.FromSessions() {
		au = s.Analysis.Unit.String()
	}
	return &assign.Config{Name: s.Name, Unit: s.Unit, AnalysisUnit: au, Salt: s.Salt, Hash: s.Hash, Variants: s.Variants,
		Coverage: s.Coverage, Namespace: s.Namespace, Window: s.Window, Filters: s.Filters,
		Segments: s.Analysis.Segments, SRMAlpha: s.Analysis.SRMAlpha}
}

// MetricsSpec returns the metrics stage's configuration.
func (s *Spec) MetricsSpec() *metrics.Spec {
	ms := &metrics.Spec{Experiment: s.Name, Unit: s.Unit, AnalysisUnit: s.Analysis.Unit, SessionGap: s.Analysis.SessionGap,
		Filters: s.Filters, PrePeriod: s.PrePeriod,
		CUPED: s.Analysis.CUPED, Metrics: s.Metrics, Primary: s.Primary, Secondary: s.Secondary, Guardrails: s.Guardrails,
		Segments: s.Analysis.Segments}
	for _, v := range s.Variants {
		ms.Variants = append(ms.Variants, v.Name)
	}
	if w := s.Window; w != nil {
		ms.Window = &results.Window{Start: w.Start, End: w.End}
	}
	return ms
}

// AnalysisConfig returns the analysis of the units.parquet that the metrics
// stage writes for s: its columns, the metrics resolved to them (with
// their definitions for results.json), and the options.
func (s *Spec) AnalysisConfig() (analysis.Config, error) {
	ms := s.MetricsSpec()
	defs, err := metrics.Resolve(ms)
	if err != nil {
		return analysis.Config{}, err
	}
	primary := ms.PrimaryName()
	unit := ms.Analysis()
	cfg := analysis.Config{
		Name: s.Name, Salt: s.Salt, Unit: s.Unit, AnalysisUnit: unit.String(),
		VariantCol: metrics.ColVariant, Primary: primary, Segments: s.Analysis.Segments,
		TriggeredCol: metrics.ColTriggered, TimeCol: metrics.ColStartedAt,
		Options: s.Analysis.Options, SRMAlpha: s.Analysis.SRMAlpha, PrePeriod: s.PrePeriod.String(),
	}
	if unit.Clustered(s.Unit) {
		cfg.ClusterCol = metrics.ColUnitID
		cfg.Redraw = s.UnitRedraw()
	}
	cfg.SequentialTuningN, cfg.SequentialTuningSource = s.SequentialTuning()
	for _, v := range s.Variants {
		cfg.Variants = append(cfg.Variants, results.Variant{Name: v.Name, Weight: v.Weight})
	}
	if len(s.Variants) > 0 {
		cfg.Control = s.Variants[0].Name
	}
	cfg.Window = ms.Window
	for _, d := range defs {
		m := analysis.Metric{Name: d.Name, Type: d.Type, Columns: d.Columns, Covariates: d.Covariates, Q: d.Q,
			Role: analysis.Role(ms.Role(d.Name)),
			Info: results.Metric{Name: d.Name, Type: d.Type.String(), Outcome: d.Outcome, Numerator: d.Numerator,
				Denominator: d.Denominator, Quantile: d.Q, Primary: d.Name == primary}}
		if d.Type != metrics.Quantile {
			m.Info.Window = d.Window.String()
		}
		for _, sm := range s.Metrics {
			if sm.Name == d.Name {
				m.Direction = sm.Good()
			}
		}
		// Money columns: outcomes in minor units (the design's *_cents).
		if d.Type == metrics.Ratio {
			m.Money = []bool{metrics.IsMoney(d.Numerator), metrics.IsMoney(d.Denominator)}
		} else {
			m.Money = []bool{metrics.IsMoney(d.Outcome)}
		}
		for _, g := range s.Guardrails {
			if g.Metric == d.Name {
				m.Guardrail = &analysis.Guardrail{Margin: g.MarginValue(), Absolute: g.ScaleName() == metrics.Absolute, Alpha: g.Alpha}
			}
		}
		cfg.Metrics = append(cfg.Metrics, m)
	}
	return cfg, nil
}

// Sessions returns the session gap the replay must split sessions by for
// this spec: analysis.session_gap when the analysis unit is built from
// sessions (buyer, session), else 0 (the replay writes no sessions).
func (s *Spec) Sessions() time.Duration {
	if s.Analysis.Unit.FromSessions() {
		return s.Analysis.SessionGap
	}
	return 0
}

// MarshalJSON writes the spec as manifest.json's "spec": every key with the
// value in effect (defaults included), durations as Go duration strings.
func (s *Spec) MarshalJSON() ([]byte, error) {
	type metricJSON struct {
		Name        string       `json:"name"`
		Type        metrics.Type `json:"type"`
		Outcome     string       `json:"outcome,omitempty"`
		Numerator   string       `json:"numerator,omitempty"`
		Denominator string       `json:"denominator,omitempty"`
		Window      string       `json:"window,omitempty"`
		Cap         *struct {
			Percentile float64 `json:"percentile,omitempty"`
			Value      float64 `json:"value,omitempty"`
		} `json:"cap,omitempty"`
		Q         float64 `json:"q,omitempty"`
		Direction string  `json:"direction"`
	}
	type analysisJSON struct {
		Alpha             float64  `json:"alpha"`
		Test              string   `json:"test"`
		RelativeCI        string   `json:"relative_ci"`
		CUPED             bool     `json:"cuped"`
		Correction        string   `json:"correction"`
		CorrectionScope   string   `json:"correction_scope"`
		SegmentCorrection string   `json:"segment_correction"`
		Population        string   `json:"population"`
		Currency          string   `json:"currency,omitempty"`
		SRMAlpha          float64  `json:"srm_alpha"`
		Sequential        bool     `json:"sequential"`
		Bayesian          bool     `json:"bayesian"`
		Segments          []string `json:"segments,omitempty"`
		Inference         string   `json:"inference"`
		// RandomizationDraws and SequentialTuningN are 0 when absent (the
		// analysis' defaults apply).
		RandomizationDraws int     `json:"randomization_draws"`
		SequentialTuningN  float64 `json:"sequential_tuning_n"`
		Unit               string  `json:"unit"`
		SessionGap         string  `json:"session_gap"`
	}
	type guardrailJSON struct {
		Metric string  `json:"metric"`
		Margin float64 `json:"margin"`
		Scale  string  `json:"scale"`
		Alpha  float64 `json:"alpha"`
	}
	a := s.Analysis
	ms := s.MetricsSpec()
	out := struct {
		Name       string             `json:"name"`
		Unit       string             `json:"unit"`
		Salt       string             `json:"salt"`
		Hash       assign.HashVersion `json:"hash"`
		Variants   []assign.Arm       `json:"variants"`
		Coverage   float64            `json:"coverage"`
		Namespace  *assign.Namespace  `json:"namespace,omitempty"`
		Window     *assign.Window     `json:"window,omitempty"`
		PrePeriod  string             `json:"pre_period"`
		Filters    assign.Filters     `json:"filters,omitempty"`
		Signals    output.ParamsJSON  `json:"signals"`
		Metrics    []metricJSON       `json:"metrics"`
		Primary    []string           `json:"primary"`
		Secondary  []string           `json:"secondary"`
		Analysis   analysisJSON       `json:"analysis"`
		Guardrails []guardrailJSON    `json:"guardrails,omitempty"`
		Plan       *Plan              `json:"plan,omitempty"`
	}{
		Name: s.Name, Unit: s.Unit, Salt: s.Salt, Hash: s.Hash, Variants: s.Variants, Coverage: s.Coverage,
		Namespace: s.Namespace, Window: s.Window, PrePeriod: s.PrePeriod.String(), Filters: s.Filters,
		Signals: output.ParamsToJSON(s.Signals), Metrics: []metricJSON{}, Primary: ms.Primaries(),
		Secondary: []string{},
		Analysis: analysisJSON{Alpha: a.Alpha, Test: a.Test.String(), RelativeCI: a.RelativeCI.String(), CUPED: a.CUPED,
			Correction: a.Correction.String(), CorrectionScope: a.CorrectionScope.String(),
			SegmentCorrection: a.SegmentCorrection.String(), Population: a.Population, Currency: a.Currency,
			SRMAlpha: a.SRMAlpha, Sequential: a.Sequential, Bayesian: a.Bayesian, Segments: a.Segments,
			Inference: a.Inference.String(), RandomizationDraws: a.RandomizationDraws,
			SequentialTuningN: a.SequentialTuningN, Unit: a.Unit.String(), SessionGap: a.SessionGap.String()},
		Plan: s.Plan,
	}
	for _, m := range s.Metrics {
		mj := metricJSON{Name: m.Name, Type: m.Type, Outcome: m.Outcome, Numerator: m.Numerator,
			Denominator: m.Denominator, Q: m.Q, Direction: m.Good()}
		if ms.Role(m.Name) == "secondary" {
			out.Secondary = append(out.Secondary, m.Name)
		}
		w := m.Window
		if w <= 0 {
			w = metrics.DefaultWindow
		}
		mj.Window = w.String()
		if m.Cap != nil {
			mj.Cap = &struct {
				Percentile float64 `json:"percentile,omitempty"`
				Value      float64 `json:"value,omitempty"`
			}{m.Cap.Percentile, m.Cap.Value}
		}
		out.Metrics = append(out.Metrics, mj)
	}
	for _, g := range s.Guardrails {
		alpha := g.Alpha
		if alpha == 0 {
			alpha = a.Alpha
		}
		out.Guardrails = append(out.Guardrails, guardrailJSON{Metric: g.Metric, Margin: g.MarginValue(), Scale: g.ScaleName(), Alpha: alpha})
	}
	return json.Marshal(out)
}

package metrics

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/signalab/signalab/internal/keyerr"
	"github.com/signalab/signalab/results"
)

// Spec configures the metrics stage: the experiment's metrics and the parts
// of its design the unit table depends on. The experiment package builds it
// from experiment.yaml; Validate judges the keys the metrics stage owns
// (metrics, primary, guardrails, pre_period), naming them as in
// experiment.yaml. Unit, Variants, Window and Filters are the assignment's
// (validated by assign.Config).
type Spec struct {
	// Experiment is the experiment's name, copied into metrics.json.
	Experiment string
	// Unit is the randomization unit column: conversation_id, buyer_id,
	// shop_id or session_id.
	Unit string
	// AnalysisUnit is what a row of the unit table is (analysis.unit;
	// "" means UnitConversation), and SessionGap the inactivity that ends
	// a session (analysis.session_gap), for the units built from sessions.
	AnalysisUnit Unit
	SessionGap   time.Duration
	// Variants are the arm names in spec order.
	Variants []string
	// Window, when not nil, keeps conversations started in [Start, End).
	Window *results.Window
	// Filters keep conversations whose column value is listed.
	Filters map[string][]string
	// PrePeriod is the length of the pre-period of the CUPED covariates.
	PrePeriod time.Duration
	// CUPED asks for pre-period covariates (with PrePeriod > 0).
	CUPED bool
	// Metrics are the metrics in spec order.
	Metrics []Metric
	// Primary names the primary (goal) metrics; empty means the first
	// metric. Secondary names the secondary metrics; empty means every
	// metric that is neither primary nor a guardrail.
	Primary   Names
	Secondary Names
	// Guardrails are the metrics that must not get worse by more than a
	// margin (non-inferiority checks).
	Guardrails []Guardrail
	// Segments are the unit-table columns the analysis breaks results down
	// by (experiment.yaml's analysis.segments): any of SegmentableColumns.
	Segments []string
}

// SegmentableColumns are the columns of units of u a segment may name: the
// unit's attributes (a conversation's channel, triggered, had_cart_at_start,
// shop_id, buyer_id; a buyer's or session's the same without channel) and
// every outcome column (a segment on an outcome, or on signals, conditions on
// something the treatment can change: its rows describe, they do not compare
// like with like).
func SegmentableColumns(u Unit) []string {
	if u.FromSessions() {
		return append([]string{ColTriggered, ColHadCart, ColShopID, ColBuyerID}, ActivityOutcomeNames...)
	}
	return append([]string{ColChannel, ColTriggered, ColHadCart, ColShopID, ColBuyerID}, OutcomeNames...)
}

// Names is a list of metric names; in experiment.yaml a single name may be
// written without brackets (primary: conversion).
type Names []string

// SingleOrList marks Names as a list that the spec loader also reads from
// a single value.
func (Names) SingleOrList() {}

// Directions a metric is hoped to move in (metrics[i].direction).
const (
	Increase = "increase"
	Decrease = "decrease"
)

// Guardrail scales: a margin relative to the control mean or in the
// metric's own unit.
const (
	Relative = "relative"
	Absolute = "absolute"
)

// Metric declares one metric (an entry of experiment.yaml's metrics: list).
type Metric struct {
	Name string `yaml:"name"`
	Type Type   `yaml:"type"`
	// Outcome is the unit-table column of a proportion, mean or quantile
	// metric; Numerator and Denominator those of a ratio.
	Outcome     string `yaml:"outcome"`
	Numerator   string `yaml:"numerator"`
	Denominator string `yaml:"denominator"`
	// Window is the attribution window; zero means DefaultWindow.
	Window time.Duration `yaml:"window"`
	Cap    *Cap          `yaml:"cap"`
	// Q is the level of a quantile metric, in (0, 1).
	Q float64 `yaml:"q"`
	// Direction is the change the experiment hopes for: "increase"
	// (default) or "decrease" (e.g. reply minutes). It decides what
	// "better" means in the verdict and which side a guardrail protects.
	Direction string `yaml:"direction"`
}

// Good returns the metric's direction, Increase when unset.
func (m *Metric) Good() string {
	if m.Direction == "" {
		return Increase
	}
	return m.Direction
}

// Cap winsorizes a metric: at a percentile of the pooled positive values, or
// at an absolute value (one of the two).
type Cap struct {
	Percentile float64 `yaml:"percentile"`
	Value      float64 `yaml:"value"`
}

// Guardrail is a non-inferiority check of Metric: the change in the harmful
// direction that is tolerated (Margin: −0.02 = "may drop by at most 2 %"
// for a metric that should increase, +0.10 = "may rise by at most 10 %" for
// one that should decrease), relative to the control mean unless Scale is
// absolute (then in the metric's unit; currency units for money). It passes
// when the one-sided (1 − Alpha) bound clears the margin, fails when the
// whole interval lies beyond it, and is otherwise inconclusive (see
// docs/statistics.md). MaxDrop is the key of earlier versions, read as a
// relative margin (docs/decisions.md).
type Guardrail struct {
	Metric  string   `yaml:"metric"`
	Margin  *float64 `yaml:"margin"`
	MaxDrop *float64 `yaml:"max_drop"`
	Scale   string   `yaml:"scale"`
	// Alpha is the one-sided level; 0 means the analysis' alpha.
	Alpha float64 `yaml:"alpha"`
}

// Analysis returns the analysis unit: AnalysisUnit, or UnitConversation
// when it is empty.
func (s *Spec) Analysis() Unit {
	if s.AnalysisUnit == "" {
		return UnitConversation
	}
	return s.AnalysisUnit
}

// MarginValue returns the margin (Margin, else MaxDrop, else 0).
func (g *Guardrail) MarginValue() float64 {
	switch {
	case g.Margin != nil:
		return *g.Margin
	case g.MaxDrop != nil:
		return *g.MaxDrop
	}
	return 0
}

// ScaleName returns the guardrail's scale, Relative when unset.
func (g *Guardrail) ScaleName() string {
	if g.Scale == "" {
		return Relative
	}
	return g.Scale
}

// PrimaryName returns the first primary metric's name (the metric of the
// headline and the daily series): Primary[0], or the first metric's when
// Primary is empty.
func (s *Spec) PrimaryName() string {
	if p := s.Primaries(); len(p) > 0 {
		return p[0]
	}
	return ""
}

// Primaries returns the primary metrics: Primary, or the first metric.
func (s *Spec) Primaries() []string {
	if len(s.Primary) == 0 && len(s.Metrics) > 0 {
		return []string{s.Metrics[0].Name}
	}
	return s.Primary
}

// Role returns the role of metric name: "primary", "guardrail" or
// "secondary" (every metric that is neither, unless Secondary lists some;
// then the unlisted ones are secondary too, since every metric is shown).
func (s *Spec) Role(name string) string {
	if slices.Contains(s.Primaries(), name) {
		return "primary"
	}
	for _, g := range s.Guardrails {
		if g.Metric == name {
			return "guardrail"
		}
	}
	return "secondary"
}

// Validate reports every invalid metrics, primary, guardrails and
// pre_period value as a keyerr.List keyed as in experiment.yaml
// ("metrics[1].q").
func (s *Spec) Validate() error {
	var errs keyerr.List
	if s.PrePeriod < 0 {
		errs.Add("pre_period", "%s is negative", s.PrePeriod)
	}
	u := s.Analysis()
	if !slices.Contains(Units, u) {
		errs.Add("analysis.unit", "%q is not one of conversation, buyer, session", u)
		u = UnitConversation
	}
	if s.SessionGap < 0 || s.SessionGap == 0 && u.FromSessions() {
		errs.Add("analysis.session_gap", "%s is not valid: want a positive duration such as 30m", s.SessionGap)
	}
	names := map[string]int{}
	for i, m := range s.Metrics {
		p := fmt.Sprintf("metrics[%d]", i)
		if strings.TrimSpace(m.Name) == "" {
			errs.Add(p+".name", "missing or empty")
		} else if j, dup := names[m.Name]; dup {
			errs.Add(p+".name", "%q repeats metrics[%d].name", m.Name, j)
		} else {
			names[m.Name] = i
		}
		m.validate(p, u, &errs)
	}
	list := func(key string, ns Names) {
		seen := map[string]bool{}
		for i, n := range ns {
			k := key
			if len(ns) > 1 {
				k = fmt.Sprintf("%s[%d]", key, i)
			}
			if _, ok := names[n]; !ok {
				errs.Add(k, "%q names no metric (metrics: %s)", n, metricNames(s.Metrics))
			} else if seen[n] {
				errs.Add(k, "%q is listed twice", n)
			}
			seen[n] = true
		}
	}
	for i, sg := range s.Segments {
		if cols := SegmentableColumns(u); sg != "" && !slices.Contains(cols, sg) {
			errs.Add(fmt.Sprintf("analysis.segments[%d]", i), "%q is not a column of the %s table (want one of %s)", sg,
				u, strings.Join(cols, ", "))
		}
	}
	list("primary", s.Primary)
	list("secondary", s.Secondary)
	for i, n := range s.Secondary {
		if slices.Contains(s.Primary, n) {
			errs.Add(fmt.Sprintf("secondary[%d]", i), "%q is also primary (a metric has one role)", n)
		}
	}
	guarded := map[string]int{}
	for i, g := range s.Guardrails {
		p := fmt.Sprintf("guardrails[%d]", i)
		j, ok := names[g.Metric]
		if !ok {
			j = -1
		}
		switch {
		case !ok:
			errs.Add(p+".metric", "%q names no metric (metrics: %s)", g.Metric, metricNames(s.Metrics))
		case slices.Contains(s.Primaries(), g.Metric):
			errs.Add(p+".metric", "%q is the primary metric; a guardrail protects another metric (a metric has one role)", g.Metric)
		case slices.Contains(s.Secondary, g.Metric):
			errs.Add(p+".metric", "%q is also listed as secondary (a metric has one role)", g.Metric)
		}
		if k, dup := guarded[g.Metric]; dup && ok {
			errs.Add(p+".metric", "%q already has guardrails[%d]", g.Metric, k)
		}
		guarded[g.Metric] = i
		g.validate(p, s.metricAt(j), &errs)
	}
	return errs.Err()
}

func (s *Spec) metricAt(i int) *Metric {
	if i < 0 || i >= len(s.Metrics) {
		return nil
	}
	return &s.Metrics[i]
}

// validate checks one guardrail; m is its metric (nil when unknown).
func (g *Guardrail) validate(p string, m *Metric, errs *keyerr.List) {
	key := p + ".margin"
	switch {
	case g.Margin != nil && g.MaxDrop != nil:
		errs.Add(p, "give margin or max_drop (its older name), not both")
		return
	case g.Margin == nil && g.MaxDrop == nil:
		errs.Add(key, "missing (e.g. margin: -0.02: the metric may drop by at most 2 %%)")
		return
	case g.MaxDrop != nil:
		key = p + ".max_drop"
	}
	switch g.Scale {
	case "", Relative, Absolute:
	default:
		errs.Add(p+".scale", "%q is not relative or absolute", g.Scale)
	}
	if g.Alpha != 0 && !(g.Alpha > 0 && g.Alpha < 0.5) {
		errs.Add(p+".alpha", "%v is outside (0, 0.5) (a one-sided level, e.g. 0.05)", g.Alpha)
	}
	v := g.MarginValue()
	good := Increase
	if m != nil {
		good = m.Good()
	}
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		errs.Add(key, "%v is not a number", v)
	case g.MaxDrop != nil && !(v < 0 && v >= -1):
		errs.Add(key, "%v: want a relative drop in [-1, 0), e.g. -0.02 for 2 %%", v)
	case good == Increase && v >= 0:
		errs.Add(key, "%v: want a negative margin, the largest tolerated drop (e.g. -0.02), for a metric that should increase", v)
	case good == Decrease && v <= 0:
		errs.Add(key, "%v: want a positive margin, the largest tolerated rise (e.g. 0.10), for a metric with direction decrease", v)
	case g.ScaleName() == Relative && v < -1:
		errs.Add(key, "%v: a relative drop cannot exceed 100 %% (want a value in [-1, 0))", v)
	}
}

// validate checks one metric of units u; p is its key path.
func (m *Metric) validate(p string, u Unit, errs *keyerr.List) {
	outcomes := u.Outcomes()
	col := func(key, v string) {
		switch {
		case v == "":
			errs.Add(key, "missing (want one of %s)", strings.Join(outcomes, ", "))
		case !slices.Contains(outcomes, v) && slices.Contains(OutcomeNames, v):
			errs.Add(key, "%q is a conversation column, which %ss do not have (analysis.unit: %s; want one of %s)", v, u, u, strings.Join(outcomes, ", "))
		case !slices.Contains(outcomes, v):
			errs.Add(key, "%q is not a unit-table column (want one of %s)", v, strings.Join(outcomes, ", "))
		}
	}
	switch m.Type {
	case Proportion, Mean, Quantile:
		col(p+".outcome", m.Outcome)
		if m.Numerator != "" || m.Denominator != "" {
			errs.Add(p, "numerator/denominator are for type ratio; a %s metric takes outcome", m.Type)
		}
	case Ratio:
		col(p+".numerator", m.Numerator)
		col(p+".denominator", m.Denominator)
		if m.Outcome != "" {
			errs.Add(p+".outcome", "%q: a ratio metric takes numerator and denominator, not outcome", m.Outcome)
		}
	case "":
		errs.Add(p+".type", "missing (want one of %s)", typeList(", "))
	default:
		errs.Add(p+".type", "%q is not one of %s", m.Type, typeList(", "))
	}
	if m.Type == Quantile {
		if !(m.Q > 0 && m.Q < 1) {
			errs.Add(p+".q", "%v is outside (0, 1) (e.g. 0.5 for the median)", m.Q)
		}
	} else if m.Q != 0 {
		errs.Add(p+".q", "%v: q is only for type quantile", m.Q)
	}
	if m.Window < 0 {
		errs.Add(p+".window", "%s is negative", m.Window)
	}
	switch m.Direction {
	case "", Increase, Decrease:
	default:
		errs.Add(p+".direction", "%q is not increase or decrease", m.Direction)
	}
	if c := m.Cap; c != nil {
		switch {
		case c.Percentile != 0 && c.Value != 0:
			errs.Add(p+".cap", "give percentile or value, not both")
		case c.Percentile == 0 && c.Value == 0:
			errs.Add(p+".cap", "empty (give percentile, e.g. 0.99, or value)")
		case c.Percentile != 0 && !(c.Percentile > 0 && c.Percentile < 1):
			errs.Add(p+".cap.percentile", "%v is outside (0, 1)", c.Percentile)
		case c.Value < 0 || math.IsNaN(c.Value):
			errs.Add(p+".cap.value", "%v is negative", c.Value)
		}
	}
}

func metricNames(ms []Metric) string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Name)
	}
	if len(out) == 0 {
		return "none defined"
	}
	return strings.Join(out, ", ")
}

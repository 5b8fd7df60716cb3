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
	// Primary names the primary metric ("" means the first).
	Primary string
	// Guardrails are the metrics the run fails on when they drop too much.
	Guardrails []Guardrail
}

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
}

// Cap winsorizes a metric: at a percentile of the pooled positive values, or
// at an absolute value (one of the two).
type Cap struct {
	Percentile float64 `yaml:"percentile"`
	Value      float64 `yaml:"value"`
}

// Guardrail fails the run (exit 1) when Metric's relative lift is
// significantly worse than MaxDrop (e.g. −0.02: "fail if it drops more
// than 2 %").
type Guardrail struct {
	Metric  string  `yaml:"metric"`
	MaxDrop float64 `yaml:"max_drop"`
}

// Analysis returns the analysis unit: AnalysisUnit, or UnitConversation
// when it is empty.
func (s *Spec) Analysis() Unit {
	if s.AnalysisUnit == "" {
		return UnitConversation
	}
	return s.AnalysisUnit
}

// PrimaryName returns the primary metric's name: Primary, or the first
// metric's when Primary is empty.
func (s *Spec) PrimaryName() string {
	if s.Primary == "" && len(s.Metrics) > 0 {
		return s.Metrics[0].Name
	}
	return s.Primary
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
	if s.Primary != "" {
		if _, ok := names[s.Primary]; !ok {
			errs.Add("primary", "%q names no metric (metrics: %s)", s.Primary, metricNames(s.Metrics))
		}
	}
	for i, g := range s.Guardrails {
		p := fmt.Sprintf("guardrails[%d]", i)
		if _, ok := names[g.Metric]; !ok {
			errs.Add(p+".metric", "%q names no metric (metrics: %s)", g.Metric, metricNames(s.Metrics))
		}
		if !(g.MaxDrop < 0 && g.MaxDrop >= -1) {
			errs.Add(p+".max_drop", "%v: want a relative drop in [-1, 0), e.g. -0.02 for 2 %%", g.MaxDrop)
		}
	}
	return errs.Err()
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

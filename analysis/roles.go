package analysis

import (
	"fmt"
	"math"

	"github.com/signalab/signalab/internal/keyerr"
	"github.com/signalab/signalab/metrics"
)

// Role is a metric's part in the decision.
type Role string

// Roles. The primary metrics decide the verdict (the experiment's goal);
// secondary metrics are reported for understanding; guardrail metrics must
// not get worse by more than their margin.
const (
	RolePrimary   Role = "primary"
	RoleSecondary Role = "secondary"
	RoleGuardrail Role = "guardrail"
)

// Scope is how the rows of segment "all" are grouped into correction
// families (experiment.yaml analysis.correction_scope, analyze
// --correction-scope). The triggered and all populations are always
// separate families: they are two analyses of the same question on nested
// data, not two questions.
type Scope string

// Scopes.
const (
	// ScopeNone leaves every row uncorrected.
	ScopeNone Scope = "none"
	// ScopeMetric corrects each metric across the treatment variants.
	ScopeMetric Scope = "metric"
	// ScopeFamily (default) corrects within each role: the primary metrics
	// × variants, the secondary metrics × variants, the guardrail metrics ×
	// variants.
	ScopeFamily Scope = "family"
	// ScopeAll corrects every metric × variant of a population together.
	ScopeAll Scope = "all"
)

// Scopes lists the scopes in documentation order.
var Scopes = []Scope{ScopeNone, ScopeMetric, ScopeFamily, ScopeAll}

func (s Scope) String() string { return string(s) }

// ParseScope reads a scope name.
func ParseScope(name string) (Scope, error) {
	for _, s := range Scopes {
		if string(s) == name {
			return s, nil
		}
	}
	return "", fmt.Errorf("unknown correction scope %q (want %s)", name, names(Scopes))
}

// UnmarshalText lets experiment.yaml and flags name a scope.
func (s *Scope) UnmarshalText(b []byte) error {
	v, err := ParseScope(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// MarshalText writes the scope's name.
func (s Scope) MarshalText() ([]byte, error) { return []byte(s), nil }

// Guardrail is a metric's non-inferiority margin (see metrics.Guardrail):
// Margin is the tolerated change in the harmful direction, relative to the
// control mean unless Absolute (then in the metric's reported unit:
// currency units for money); Alpha is the one-sided level (0: the
// analysis' alpha).
type Guardrail struct {
	Margin   float64
	Absolute bool
	Alpha    float64
}

// validateDecision checks a metric's role, direction and guardrail.
func (m *Metric) validateDecision(errs *keyerr.List) {
	switch m.Role {
	case "", RolePrimary, RoleSecondary, RoleGuardrail:
	default:
		errs.Add("", "metric %s: role %q is not primary, secondary or guardrail", m.Name, m.Role)
	}
	switch m.Direction {
	case "", metrics.Increase, metrics.Decrease:
	default:
		errs.Add("", "metric %s: direction %q is not increase or decrease", m.Name, m.Direction)
	}
	if len(m.Money) != 0 && len(m.Money) != len(m.Columns) {
		errs.Add("", "metric %s: %d money flags for %d columns", m.Name, len(m.Money), len(m.Columns))
	}
	g := m.Guardrail
	if g == nil {
		if m.Role == RoleGuardrail {
			errs.Add("", "metric %s: a guardrail needs a margin", m.Name)
		}
		return
	}
	if m.Role == RolePrimary {
		errs.Add("", "metric %s: a primary metric cannot also be a guardrail", m.Name)
	}
	v := g.Margin
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0) || v == 0:
		errs.Add("", "metric %s: guardrail margin %v: want a non-zero number", m.Name, v)
	case m.good() == metrics.Increase && v > 0:
		errs.Add("", "metric %s: guardrail margin %v: want a negative margin (the tolerated drop) for a metric that should increase", m.Name, v)
	case m.good() == metrics.Decrease && v < 0:
		errs.Add("", "metric %s: guardrail margin %v: want a positive margin (the tolerated rise) for a metric that should decrease", m.Name, v)
	}
	if g.Alpha != 0 && !(g.Alpha > 0 && g.Alpha < 0.5) {
		errs.Add("", "metric %s: guardrail alpha %v is outside (0, 0.5)", m.Name, g.Alpha)
	}
}

// good is the metric's hoped-for direction, increase when unset.
func (m *Metric) good() string {
	if m.Direction == "" {
		return metrics.Increase
	}
	return m.Direction
}

// role is the metric's role with the defaults of Config: a guardrail when it
// has a margin, primary when named by Primary (or listed in Primaries),
// else secondary.
func (c *Config) role(i int) Role {
	m := &c.Metrics[i]
	switch {
	case m.Role != "":
		return m.Role
	case m.Guardrail != nil:
		return RoleGuardrail
	case m.Name == c.Primary:
		return RolePrimary
	}
	return RoleSecondary
}

// money reports whether metric m's values are amounts of money: a mean,
// proportion or quantile of a money column, or a ratio of money over a
// non-money denominator (money over money is a plain number).
func (m *Metric) money() bool {
	if len(m.Money) == 0 {
		return false
	}
	if m.Type == metrics.Ratio && len(m.Money) == 2 {
		return m.Money[0] && !m.Money[1]
	}
	return m.Money[0]
}

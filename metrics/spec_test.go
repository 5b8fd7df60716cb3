package metrics

import (
	"encoding/json"
	"testing"

	"github.com/signalab/signalab/internal/keyerr"
)

// TestTypeNames: every metric type's name parses back to it, also through
// JSON; an unknown name is refused with the list of valid ones.
func TestTypeNames(t *testing.T) {
	for _, ty := range Types {
		if got, err := ParseType(ty.String()); err != nil || got != ty {
			t.Errorf("ParseType(%q) = %v, %v", ty, got, err)
		}
	}
	var ty Type
	if err := json.Unmarshal([]byte(`"median"`), &ty); err == nil ||
		err.Error() != `unknown metric type "median" (want proportion, mean, ratio or quantile)` {
		t.Errorf("Unmarshal median: %v", err)
	}
	if b, err := json.Marshal(Quantile); err != nil || string(b) != `"quantile"` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
}

// TestSpecValidate: the keys the metrics stage owns are judged and named as
// in experiment.yaml.
func TestSpecValidate(t *testing.T) {
	s := fixtureSpec()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	s.PrePeriod = -1
	s.Metrics[0].Type = ""
	s.Metrics[2].Outcome = "orders"
	s.Metrics[3].Q = 0
	s.Primary = Names{"nope"}
	drop, margin := 0.1, -0.05
	s.Guardrails = []Guardrail{{Metric: "revenue", MaxDrop: &drop}, {Metric: "aov", Margin: &margin, MaxDrop: &margin},
		{Metric: "reply", Margin: &margin, Scale: "log"}, {Metric: "aov"}}
	s.Metrics[3].Direction = "down"
	want := []string{
		"pre_period: -1ns is negative",
		"metrics[0].type: missing (want one of proportion, mean, ratio, quantile)",
		`metrics[2].outcome: "orders": a ratio metric takes numerator and denominator, not outcome`,
		"metrics[3].q: 0 is outside (0, 1) (e.g. 0.5 for the median)",
		`metrics[3].direction: "down" is not increase or decrease`,
		`primary: "nope" names no metric (metrics: conversion, revenue, aov, reply)`,
		"guardrails[0].max_drop: 0.1: want a relative drop in [-1, 0), e.g. -0.02 for 2 %",
		"guardrails[1]: give margin or max_drop (its older name), not both",
		`guardrails[2].scale: "log" is not relative or absolute`,
		`guardrails[3].metric: "aov" already has guardrails[1]`,
		"guardrails[3].margin: missing (e.g. margin: -0.02: the metric may drop by at most 2 %)",
	}
	errs := keyerr.From(s.Validate())
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d", errs, len(want))
	}
	for i, e := range errs {
		if e.Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, e, want[i])
		}
	}
}

// TestGuardrailMargins: a margin is the tolerated change in the harmful
// direction, so its sign follows the metric's direction; max_drop (the
// older key) is read as a relative margin.
func TestGuardrailMargins(t *testing.T) {
	f := func(x float64) *float64 { return &x }
	cases := []struct {
		g    Guardrail
		dir  string
		want string // "" = valid
	}{
		{Guardrail{Metric: "aov", Margin: f(-0.02)}, "", ""},
		{Guardrail{Metric: "aov", MaxDrop: f(-0.02)}, "", ""},
		{Guardrail{Metric: "aov", Margin: f(0.02)}, "", "guardrails[0].margin: 0.02: want a negative margin, the largest tolerated drop (e.g. -0.02), for a metric that should increase"},
		{Guardrail{Metric: "aov", Margin: f(0.1)}, Decrease, ""},
		{Guardrail{Metric: "aov", Margin: f(-0.1)}, Decrease, "guardrails[0].margin: -0.1: want a positive margin, the largest tolerated rise (e.g. 0.10), for a metric with direction decrease"},
		{Guardrail{Metric: "aov", Margin: f(-1.5), Scale: Absolute}, "", ""},
		{Guardrail{Metric: "aov", Margin: f(-1.5)}, "", "guardrails[0].margin: -1.5: a relative drop cannot exceed 100 % (want a value in [-1, 0))"},
		{Guardrail{Metric: "aov", Margin: f(-0.02), Alpha: 0.5}, "", "guardrails[0].alpha: 0.5 is outside (0, 0.5) (a one-sided level, e.g. 0.05)"},
		{Guardrail{Metric: "conversion", Margin: f(-0.02)}, "", `guardrails[0].metric: "conversion" is the primary metric; a guardrail protects another metric (a metric has one role)`},
	}
	for i, c := range cases {
		s := fixtureSpec()
		s.Metrics[2].Direction = c.dir
		s.Guardrails = []Guardrail{c.g}
		err := s.Validate()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("case %d: %q, want %q", i, got, c.want)
		}
	}
	s := fixtureSpec()
	drop := -0.03
	s.Guardrails = []Guardrail{{Metric: "aov", MaxDrop: &drop}}
	if s.Guardrails[0].MarginValue() != -0.03 || s.Guardrails[0].ScaleName() != Relative || s.Role("aov") != "guardrail" ||
		s.Role("revenue") != "secondary" || s.Role("conversion") != "primary" {
		t.Errorf("max_drop: margin %v scale %s roles %s %s %s", s.Guardrails[0].MarginValue(), s.Guardrails[0].ScaleName(),
			s.Role("aov"), s.Role("revenue"), s.Role("conversion"))
	}
}

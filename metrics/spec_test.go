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
	s.Primary = "nope"
	s.Guardrails = []Guardrail{{Metric: "revenue", MaxDrop: 0.1}}
	want := []string{
		"pre_period: -1ns is negative",
		"metrics[0].type: missing (want one of proportion, mean, ratio, quantile)",
		`metrics[2].outcome: "orders": a ratio metric takes numerator and denominator, not outcome`,
		"metrics[3].q: 0 is outside (0, 1) (e.g. 0.5 for the median)",
		`primary: "nope" names no metric (metrics: conversion, revenue, aov, reply)`,
		"guardrails[0].max_drop: 0.1: want a relative drop in [-1, 0), e.g. -0.02 for 2 %",
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

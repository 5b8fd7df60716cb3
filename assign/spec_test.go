package assign

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadSpecExample(t *testing.T) {
	s, err := LoadSpec(filepath.Join("testdata", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "inbox-buyer-signals" || s.Unit != "shop_id" || s.Salt != "inbox-signals-v1" || s.Hash != GrowthBookV2 {
		t.Errorf("header fields: %+v", s)
	}
	if len(s.Variants) != 2 || s.Variants[1] != (Arm{"treatment", 0.5}) {
		t.Errorf("variants: %+v", s.Variants)
	}
	if s.CoverageValue() != 1 || s.Namespace == nil || s.Namespace.ID != "inbox" || s.Namespace.Range != [2]float64{0, 1} {
		t.Errorf("coverage/namespace: %v %+v", s.CoverageValue(), s.Namespace)
	}
	if !s.Window.Start.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !s.Window.End.Equal(time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("window: %+v", s.Window)
	}
	if time.Duration(s.PrePeriod) != 672*time.Hour {
		t.Errorf("pre_period: %v", time.Duration(s.PrePeriod))
	}
	if got := s.Filters["channel"]; len(got) != 2 || got[1] != "messenger" {
		t.Errorf("filters: %v", s.Filters)
	}
	if p := s.Signals.Params(); p.ConversationInactivity != 24*time.Hour || p.StateTTL != 168*time.Hour {
		t.Errorf("signals params: %+v", p)
	}
	if len(s.Metrics) != 4 || s.Metrics[1].Cap == nil || s.Metrics[1].Cap.Percentile != 0.99 || s.Metrics[3].Q != 0.5 {
		t.Errorf("metrics: %+v", s.Metrics)
	}
	// reply_minutes has no window: it takes the default.
	if s.Metrics[3].Window != DefaultMetricWindow {
		t.Errorf("metrics[3].window = %v, want default %v", time.Duration(s.Metrics[3].Window), time.Duration(DefaultMetricWindow))
	}
	a := s.Analysis
	if a.Alpha != 0.05 || a.Test != "welch" || a.RelativeCI != "delta" || !a.CUPED || a.Correction != "holm" ||
		a.SRMAlpha != 0.001 || len(a.Segments) != 1 || s.Primary != "conversion" {
		t.Errorf("analysis: %+v primary %q", a, s.Primary)
	}
}

const minimalSpec = `
unit: buyer_id
salt: s1
variants: [{name: control, weight: 0.5}, {name: treatment, weight: 0.5}]
metrics: [{name: conv, type: proportion, outcome: converted}]
`

func TestParseSpecDefaults(t *testing.T) {
	s, err := ParseSpec([]byte(minimalSpec))
	if err != nil {
		t.Fatal(err)
	}
	if s.Hash != GrowthBookV2 || s.CoverageValue() != 1 || s.Window != nil || s.Namespace != nil {
		t.Errorf("defaults: hash %q coverage %v window %v ns %v", s.Hash, s.CoverageValue(), s.Window, s.Namespace)
	}
	a := s.Analysis
	if a.Alpha != DefaultAlpha || a.Test != DefaultTest || a.RelativeCI != DefaultRelativeCI ||
		a.Correction != DefaultCorrection || a.SRMAlpha != DefaultSRMAlpha {
		t.Errorf("analysis defaults: %+v", a)
	}
	if s.Primary != "conv" || s.Metrics[0].Window != DefaultMetricWindow {
		t.Errorf("primary %q window %v", s.Primary, s.Metrics[0].Window)
	}
	// LoadSpec names a nameless experiment after its file.
	p := filepath.Join(t.TempDir(), "my-test.yaml")
	if err := os.WriteFile(p, []byte(minimalSpec), 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := LoadSpec(p); err != nil || s.Name != "my-test" {
		t.Errorf("LoadSpec name = %v, %v", s, err)
	}
}

// TestParseSpecErrors: each invalid spec gives an error naming the key path,
// the value and the line.
func TestParseSpecErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // substrings of the error
	}{
		{"negative weight", `unit: shop_id
salt: s
variants: [{name: a, weight: 1.5}, {name: b, weight: -0.5}]`, []string{"line 3: variants[1].weight: -0.5 is negative"}},
		{"weights sum", `unit: shop_id
salt: s
variants: [{name: a, weight: 0.5}, {name: b, weight: 0.4}]`, []string{"variants: weights sum to 0.9, want 1"}},
		{"one variant", "unit: shop_id\nsalt: s\nvariants: [{name: a, weight: 1}]", []string{"variants: 1 given, need at least two"}},
		{"duplicate variant", "unit: shop_id\nsalt: s\nvariants: [{name: a, weight: 0.5}, {name: a, weight: 0.5}]",
			[]string{`variants[1].name: "a" repeats variants[0].name`}},
		{"unknown hash", "unit: shop_id\nsalt: s\nhash: md5\n" + twoArms, []string{`line 3: hash: "md5" is not one of growthbook-v1, growthbook-v2, sha256`}},
		{"unknown unit", "unit: session_id\nsalt: s\n" + twoArms, []string{`line 1: unit: "session_id" is not one of conversation_id, buyer_id, shop_id`}},
		{"missing unit", "salt: s\n" + twoArms, []string{"unit: missing"}},
		{"empty salt", "unit: shop_id\nsalt: ''\n" + twoArms, []string{"line 2: salt: missing or empty"}},
		{"coverage", "unit: shop_id\nsalt: s\ncoverage: 1.2\n" + twoArms, []string{"line 3: coverage: 1.2 is outside [0, 1]"}},
		{"namespace", "unit: shop_id\nsalt: s\nnamespace: {id: ns, range: [0.6, 0.2]}\n" + twoArms, []string{"namespace.range: [0.6, 0.2]: start must be below end"}},
		{"namespace out of range", "unit: shop_id\nsalt: s\nnamespace: {id: ns, range: [0, 1.5]}\n" + twoArms, []string{"namespace.range[1]: 1.5 is outside [0, 1]"}},
		{"window order", "unit: shop_id\nsalt: s\nwindow: {start: 2026-03-29T00:00:00Z, end: 2026-03-01T00:00:00Z}\n" + twoArms,
			[]string{"window.end: 2026-03-01T00:00:00Z is not after window.start 2026-03-29T00:00:00Z"}},
		{"bad timestamp", "unit: shop_id\nsalt: s\nwindow: {start: yesterday, end: 2026-03-01T00:00:00Z}\n" + twoArms, []string{`line 3: window.start: want a timestamp such as 2026-03-01T00:00:00Z, got "yesterday"`}},
		{"bad duration", "unit: shop_id\nsalt: s\npre_period: 4 weeks\n" + twoArms, []string{`line 3: pre_period: want a duration such as 24h or 90m, got "4 weeks"`}},
		{"negative pre_period", "unit: shop_id\nsalt: s\npre_period: -1h\n" + twoArms, []string{"pre_period: -1h0m0s is negative"}},
		{"unknown filter", "unit: shop_id\nsalt: s\nfilters: {country: [DE]}\n" + twoArms, []string{`filters.country: "country" is not a filterable conversation column`}},
		{"unknown key", "unit: shop_id\nsalt: s\nsalts: x\n" + twoArms, []string{`line 3: salts: unknown key "salts" at the top level`}},
		{"unknown nested key", "unit: shop_id\nsalt: s\n" + twoArms + "\nanalysis: {alfa: 0.1}", []string{`analysis.alfa: unknown key "alfa" in analysis`}},
		{"duplicate key", "unit: shop_id\nsalt: s\nsalt: t\n" + twoArms, []string{"line 3: salt: key appears twice"}},
		{"wrong type", "unit: shop_id\nsalt: s\ncoverage: lots\n" + twoArms, []string{`line 3: coverage: want a number, got "lots"`}},
		{"yaml syntax", "unit: shop_id\nsalt: [s\n", []string{"line", "YAML syntax"}},
		{"metric column", "unit: shop_id\nsalt: s\n" + twoArms + "\nmetrics: [{name: m, type: mean, outcome: revenue}]", []string{`metrics[0].outcome: "revenue" is not a unit-table column`}},
		{"metric type", "unit: shop_id\nsalt: s\n" + twoArms + "\nmetrics: [{name: m, type: median, outcome: orders}]", []string{`metrics[0].type: "median" is not one of proportion, mean, ratio, quantile`}},
		{"ratio columns", "unit: shop_id\nsalt: s\n" + twoArms + "\nmetrics: [{name: m, type: ratio, numerator: revenue_cents}]", []string{"metrics[0].denominator: missing"}},
		{"quantile q", "unit: shop_id\nsalt: s\n" + twoArms + "\nmetrics: [{name: m, type: quantile, outcome: orders, q: 1.5}]", []string{"metrics[0].q: 1.5 is outside (0, 1)"}},
		{"duplicate metric", "unit: shop_id\nsalt: s\n" + twoArms + "\nmetrics: [{name: m, type: mean, outcome: orders}, {name: m, type: mean, outcome: signals}]",
			[]string{`metrics[1].name: "m" repeats metrics[0].name`}},
		{"primary", "unit: shop_id\nsalt: s\n" + twoArms + "\nmetrics: [{name: m, type: mean, outcome: orders}]\nprimary: conversion", []string{`primary: "conversion" names no metric`}},
		{"alpha", "unit: shop_id\nsalt: s\n" + twoArms + "\nanalysis: {alpha: 0}", []string{"analysis.alpha: 0 is outside (0, 1)"}},
		{"srm_alpha", "unit: shop_id\nsalt: s\n" + twoArms + "\nanalysis: {srm_alpha: 2}", []string{"analysis.srm_alpha: 2 is outside (0, 1)"}},
		{"test", "unit: shop_id\nsalt: s\n" + twoArms + "\nanalysis: {test: mann-whitney}", []string{`analysis.test: "mann-whitney" is not one of welch, z`}},
		{"relative_ci", "unit: shop_id\nsalt: s\n" + twoArms + "\nanalysis: {relative_ci: bootstrap}", []string{`analysis.relative_ci: "bootstrap" is not one of delta, fieller`}},
		{"correction", "unit: shop_id\nsalt: s\n" + twoArms + "\nanalysis: {correction: bonferroni}", []string{`analysis.correction: "bonferroni" is not one of none, holm, bh`}},
		{"segments", "unit: shop_id\nsalt: s\n" + twoArms + "\nanalysis: {segments: [country]}", []string{`analysis.segments[0]: "country" is not a segment column`}},
		{"guardrail", "unit: shop_id\nsalt: s\n" + twoArms + "\nmetrics: [{name: m, type: mean, outcome: orders}]\nguardrails: [{metric: x, max_drop: -0.1}]",
			[]string{`guardrails[0].metric: "x" names no metric`}},
		{"guardrail drop", "unit: shop_id\nsalt: s\n" + twoArms + "\nmetrics: [{name: m, type: mean, outcome: orders}]\nguardrails: [{metric: m, max_drop: 0.02}]",
			[]string{"guardrails[0].max_drop: 0.02: want a relative drop in [-1, 0)"}},
		{"signals", "unit: shop_id\nsalt: s\n" + twoArms + "\nsignals: {state_ttl: 0s}", []string{"signals.state_ttl: 0s: want a duration above 0"}},
		{"empty file", "", []string{"empty"}},
		{"not a mapping", "- a\n- b\n", []string{"want a mapping of keys"}},
		{"two documents", minimalSpec + "---\nunit: x\n", []string{"more than one YAML document"}},
		{"several problems", "unit: x\nsalt: ''\n" + twoArms, []string{"2 problems", "line 1: unit:", "line 2: salt:"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSpec([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error for\n%s", tc.yaml)
			}
			var se *SpecError
			if !errors.As(err, &se) {
				t.Errorf("error %T is not a *SpecError", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n  %v\ndoes not contain\n  %s", err, w)
				}
			}
		})
	}
}

const twoArms = "variants: [{name: control, weight: 0.5}, {name: treatment, weight: 0.5}]"

func TestLoadSpecNamesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(p, []byte("unit: shop_id\nsalt: s\nvariants: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadSpec(p)
	if err == nil || !strings.HasPrefix(err.Error(), p+": ") {
		t.Errorf("error %v does not start with the file name", err)
	}
	if _, err := LoadSpec(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "--experiment") {
		t.Errorf("missing file error: %v", err)
	}
}

func TestValidateGoSpec(t *testing.T) {
	s := &Spec{Unit: "conversation_id", Salt: "x", Variants: []Arm{{"a", 0.5}, {"b", 0.5}}}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if s.Hash != DefaultHash || s.Analysis.SRMAlpha != DefaultSRMAlpha {
		t.Errorf("Validate did not apply defaults: %+v", s)
	}
	s.Variants[0].Weight = 0.7
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "weights sum to 1.2") {
		t.Errorf("Validate: %v", err)
	}
}

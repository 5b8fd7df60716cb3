package assign

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Units are the randomization units an experiment may hash.
var Units = []string{"conversation_id", "buyer_id", "shop_id"}

// OutcomeColumns are the per-unit columns of units.parquet that a metric's
// outcome, numerator or denominator may name. The metrics stage builds exactly
// these.
var OutcomeColumns = []string{"converted", "orders", "revenue_cents", "first_merchant_reply_minutes",
	"buyer_messages", "merchant_messages", "signals", "conversations"}

// FilterColumns are the categorical conversation columns (conversations.parquet)
// that filters: may name. Boolean columns take the values "true" and "false".
var FilterColumns = []string{"channel", "shop_id", "buyer_id", "conversation_id", "triggered", "had_cart_at_start"}

// SegmentColumns are the conversation columns analysis.segments may name.
var SegmentColumns = []string{"channel", "triggered", "had_cart_at_start"}

// MetricTypes are the metric types.
var MetricTypes = []string{"proportion", "mean", "ratio", "quantile"}

// Analysis options.
var (
	Tests       = []string{"welch", "z"}
	RelativeCIs = []string{"delta", "fieller"}
	Corrections = []string{"none", "holm", "bh"}
)

// Defaults applied to absent keys (in applyDefaults, the one place defaults live).
const (
	DefaultHash          = GrowthBookV2
	DefaultCoverage      = 1.0
	DefaultAlpha         = 0.05
	DefaultTest          = "welch"
	DefaultRelativeCI    = "delta"
	DefaultCorrection    = "holm"
	DefaultSRMAlpha      = 0.001
	DefaultMetricWindow  = Duration(72 * time.Hour)
	weightSumTolerance   = 1e-6
	maxSpecProblemsShown = 20
)

// Problem is one thing wrong with a spec: the key path (variants[1].weight),
// the line in the YAML file (0 when unknown) and what is wrong.
type Problem struct {
	Path string
	Line int
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// SpecError lists every problem found in an experiment spec.
type SpecError struct {
	File     string
	Problems []Problem
}

func (e *SpecError) Error() string {
	name := e.File
	if name == "" {
		name = "experiment spec"
	}
	if len(e.Problems) == 1 {
		return fmt.Sprintf("%s: %s", name, e.Problems[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", name, len(e.Problems))
	for i, p := range e.Problems {
		if i == maxSpecProblemsShown {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// LoadSpec reads, parses, defaults and validates an experiment.yaml. The
// returned spec is ready to use: callers need not call Validate again. Any
// problem (YAML syntax with its line, unknown or duplicate keys, wrong types,
// invalid values) is a *SpecError naming the key path and the value.
func LoadSpec(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read experiment spec: %w (check the --experiment path)", err)
	}
	s, err := ParseSpec(b)
	if err != nil {
		var se *SpecError
		if errors.As(err, &se) {
			se.File = path
		}
		return nil, err
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParseSpec parses, defaults and validates an experiment spec from YAML bytes.
// An absent name stays empty (LoadSpec fills it from the file name).
func ParseSpec(b []byte) (*Spec, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &SpecError{Problems: []Problem{{Line: line, Msg: "YAML syntax: " + m[2]}}}
		}
		if err.Error() == "EOF" {
			msg = "the file is empty (see docs/experiment-spec.md for an example)"
		}
		return nil, &SpecError{Problems: []Problem{{Msg: strings.TrimPrefix(msg, "yaml: ")}}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &SpecError{Problems: []Problem{{Line: extra.Line, Msg: "more than one YAML document (remove the extra ---)"}}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	d := &specDecoder{present: map[string]int{}}
	var s Spec
	d.decode(root, reflect.ValueOf(&s).Elem(), "")
	if len(d.problems) > 0 {
		return nil, &SpecError{Problems: d.problems}
	}
	s.applyDefaults(d.present)
	if err := s.validate(d.present); err != nil {
		return nil, err
	}
	return &s, nil
}

// applyDefaults fills absent keys. present holds the key paths given in the
// YAML; nil means "treat zero values as absent" (a Spec built in Go).
func (s *Spec) applyDefaults(present map[string]int) {
	absent := func(path string, zero bool) bool {
		if present == nil {
			return zero
		}
		_, ok := present[path]
		return !ok
	}
	if absent("hash", s.Hash == "") {
		s.Hash = DefaultHash
	}
	if s.Coverage == nil {
		c := DefaultCoverage
		s.Coverage = &c
	}
	a := &s.Analysis
	if absent("analysis.alpha", a.Alpha == 0) {
		a.Alpha = DefaultAlpha
	}
	if absent("analysis.test", a.Test == "") {
		a.Test = DefaultTest
	}
	if absent("analysis.relative_ci", a.RelativeCI == "") {
		a.RelativeCI = DefaultRelativeCI
	}
	if absent("analysis.correction", a.Correction == "") {
		a.Correction = DefaultCorrection
	}
	if absent("analysis.srm_alpha", a.SRMAlpha == 0) {
		a.SRMAlpha = DefaultSRMAlpha
	}
	for i := range s.Metrics {
		if absent(fmt.Sprintf("metrics[%d].window", i), s.Metrics[i].Window == 0) {
			s.Metrics[i].Window = DefaultMetricWindow
		}
	}
	if absent("primary", s.Primary == "") && len(s.Metrics) > 0 {
		s.Primary = s.Metrics[0].Name
	}
}

// Validate applies the defaults to absent (zero) values and checks every
// value of a spec built in Go; LoadSpec and ParseSpec already do both.
func (s *Spec) Validate() error {
	s.applyDefaults(nil)
	return s.validate(nil)
}

// CoverageValue returns the coverage (1 when unset).
func (s *Spec) CoverageValue() float64 {
	if s.Coverage == nil {
		return DefaultCoverage
	}
	return *s.Coverage
}

func (s *Spec) validate(present map[string]int) error {
	var ps []Problem
	bad := func(path string, format string, args ...any) {
		ps = append(ps, Problem{Path: path, Line: present[path], Msg: fmt.Sprintf(format, args...)})
	}
	oneOf := func(path, v string, set []string) {
		if !slices.Contains(set, v) {
			if v == "" {
				bad(path, "missing (want one of %s)", strings.Join(set, ", "))
			} else {
				bad(path, "%q is not one of %s", v, strings.Join(set, ", "))
			}
		}
	}
	oneOf("unit", s.Unit, Units)
	if strings.TrimSpace(s.Salt) == "" {
		bad("salt", "missing or empty (any string; change it to re-randomize)")
	}
	if kindOf(s.Hash) == hashUnknown {
		bad("hash", "%q is not one of growthbook-v1, growthbook-v2, sha256", s.Hash)
	}
	s.validateVariants(bad)
	if c := s.CoverageValue(); !(c >= 0 && c <= 1) {
		bad("coverage", "%v is outside [0, 1]", c)
	}
	if ns := s.Namespace; ns != nil {
		if ns.ID == "" {
			bad("namespace.id", "missing or empty")
		}
		lo, hi := ns.Range[0], ns.Range[1]
		if !(lo >= 0 && lo <= 1) {
			bad("namespace.range[0]", "%v is outside [0, 1]", lo)
		}
		if !(hi >= 0 && hi <= 1) {
			bad("namespace.range[1]", "%v is outside [0, 1]", hi)
		}
		if !(lo < hi) {
			bad("namespace.range", "[%v, %v]: start must be below end", lo, hi)
		}
	}
	if w := s.Window; w != nil {
		if w.Start.IsZero() {
			bad("window.start", "missing (e.g. 2026-03-01T00:00:00Z)")
		}
		if w.End.IsZero() {
			bad("window.end", "missing (e.g. 2026-03-29T00:00:00Z)")
		}
		if !w.Start.IsZero() && !w.End.IsZero() && !w.End.After(w.Start) {
			bad("window.end", "%s is not after window.start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
		}
	}
	if s.PrePeriod < 0 {
		bad("pre_period", "%s is negative", time.Duration(s.PrePeriod))
	}
	keys := make([]string, 0, len(s.Filters))
	for k := range s.Filters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		path := "filters." + k
		if !slices.Contains(FilterColumns, k) {
			bad(path, "%q is not a filterable conversation column (want one of %s)", k, strings.Join(FilterColumns, ", "))
			continue
		}
		vals := s.Filters[k]
		if len(vals) == 0 {
			bad(path, "empty list (list the values to keep, or remove the filter)")
		}
		if k == "triggered" || k == "had_cart_at_start" {
			for i, v := range vals {
				if v != "true" && v != "false" {
					bad(fmt.Sprintf("%s[%d]", path, i), "%q: want true or false", v)
				}
			}
		}
	}
	s.validateSignals(bad)
	s.validateMetrics(bad)
	s.validateAnalysis(bad, oneOf)
	if len(ps) > 0 {
		return &SpecError{Problems: ps}
	}
	return nil
}

func (s *Spec) validateVariants(bad func(string, string, ...any)) {
	if len(s.Variants) < 2 {
		bad("variants", "%d given, need at least two (e.g. [{name: control, weight: 0.5}, {name: treatment, weight: 0.5}])", len(s.Variants))
	}
	names := map[string]int{}
	sum := 0.0
	finite := true
	for i, v := range s.Variants {
		p := fmt.Sprintf("variants[%d]", i)
		if strings.TrimSpace(v.Name) == "" {
			bad(p+".name", "missing or empty")
		} else if j, dup := names[v.Name]; dup {
			bad(p+".name", "%q repeats variants[%d].name", v.Name, j)
		} else {
			names[v.Name] = i
		}
		switch {
		case math.IsNaN(v.Weight) || math.IsInf(v.Weight, 0):
			bad(p+".weight", "%v is not a number", v.Weight)
			finite = false
		case v.Weight < 0:
			bad(p+".weight", "%v is negative", v.Weight)
		}
		sum += v.Weight
	}
	if len(s.Variants) >= 2 && finite && math.Abs(sum-1) > weightSumTolerance {
		bad("variants", "weights sum to %v, want 1 (±%g)", sum, weightSumTolerance)
	}
}

func (s *Spec) validateSignals(bad func(string, string, ...any)) {
	g := s.Signals
	for _, d := range []struct {
		key      string
		v        *Duration
		positive bool
	}{
		{"conversation_inactivity", g.ConversationInactivity, true},
		{"cart_lookback", g.CartLookback, false},
		{"order_lookback", g.OrderLookback, false},
		{"dedupe_window", g.DedupeWindow, false},
		{"state_ttl", g.StateTTL, true},
		{"max_out_of_orderness", g.MaxOutOfOrderness, false},
		{"allowed_lateness", g.AllowedLateness, false},
	} {
		if d.v == nil {
			continue
		}
		if *d.v < 0 || d.positive && *d.v == 0 {
			want := "at least 0"
			if d.positive {
				want = "above 0"
			}
			bad("signals."+d.key, "%s: want a duration %s", time.Duration(*d.v), want)
		}
	}
	if g.MinCartValueCents != nil && *g.MinCartValueCents < 0 {
		bad("signals.min_cart_value_cents", "%d is negative", *g.MinCartValueCents)
	}
}

func (s *Spec) validateMetrics(bad func(string, string, ...any)) {
	names := map[string]int{}
	col := func(path, v string) {
		switch {
		case v == "":
			bad(path, "missing (want one of %s)", strings.Join(OutcomeColumns, ", "))
		case !slices.Contains(OutcomeColumns, v):
			bad(path, "%q is not a unit-table column (want one of %s)", v, strings.Join(OutcomeColumns, ", "))
		}
	}
	for i, m := range s.Metrics {
		p := fmt.Sprintf("metrics[%d]", i)
		if strings.TrimSpace(m.Name) == "" {
			bad(p+".name", "missing or empty")
		} else if j, dup := names[m.Name]; dup {
			bad(p+".name", "%q repeats metrics[%d].name", m.Name, j)
		} else {
			names[m.Name] = i
		}
		switch m.Type {
		case "proportion", "mean", "quantile":
			col(p+".outcome", m.Outcome)
			if m.Numerator != "" || m.Denominator != "" {
				bad(p, "numerator/denominator are for type ratio; a %s metric takes outcome", m.Type)
			}
		case "ratio":
			col(p+".numerator", m.Numerator)
			col(p+".denominator", m.Denominator)
			if m.Outcome != "" {
				bad(p+".outcome", "%q: a ratio metric takes numerator and denominator, not outcome", m.Outcome)
			}
		case "":
			bad(p+".type", "missing (want one of %s)", strings.Join(MetricTypes, ", "))
		default:
			bad(p+".type", "%q is not one of %s", m.Type, strings.Join(MetricTypes, ", "))
		}
		if m.Type == "quantile" {
			if !(m.Q > 0 && m.Q < 1) {
				bad(p+".q", "%v is outside (0, 1) (e.g. 0.5 for the median)", m.Q)
			}
		} else if m.Q != 0 {
			bad(p+".q", "%v: q is only for type quantile", m.Q)
		}
		if m.Window < 0 {
			bad(p+".window", "%s is negative", time.Duration(m.Window))
		}
		if c := m.Cap; c != nil {
			switch {
			case c.Percentile != 0 && c.Value != 0:
				bad(p+".cap", "give percentile or value, not both")
			case c.Percentile == 0 && c.Value == 0:
				bad(p+".cap", "empty (give percentile, e.g. 0.99, or value)")
			case c.Percentile != 0 && !(c.Percentile > 0 && c.Percentile < 1):
				bad(p+".cap.percentile", "%v is outside (0, 1)", c.Percentile)
			case c.Value < 0 || math.IsNaN(c.Value):
				bad(p+".cap.value", "%v is negative", c.Value)
			}
		}
	}
	if s.Primary != "" {
		if _, ok := names[s.Primary]; !ok {
			bad("primary", "%q names no metric (metrics: %s)", s.Primary, strings.Join(metricNames(s.Metrics), ", "))
		}
	}
	for i, g := range s.Gates {
		p := fmt.Sprintf("guardrails[%d]", i)
		if _, ok := names[g.Metric]; !ok {
			bad(p+".metric", "%q names no metric (metrics: %s)", g.Metric, strings.Join(metricNames(s.Metrics), ", "))
		}
		if !(g.MaxDrop < 0 && g.MaxDrop >= -1) {
			bad(p+".max_drop", "%v: want a relative drop in [-1, 0), e.g. -0.02 for 2 %%", g.MaxDrop)
		}
	}
}

func metricNames(ms []MetricSpec) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.Name)
	}
	if len(out) == 0 {
		return []string{"none defined"}
	}
	return out
}

func (s *Spec) validateAnalysis(bad func(string, string, ...any), oneOf func(string, string, []string)) {
	a := s.Analysis
	if !(a.Alpha > 0 && a.Alpha < 1) {
		bad("analysis.alpha", "%v is outside (0, 1)", a.Alpha)
	}
	if !(a.SRMAlpha > 0 && a.SRMAlpha < 1) {
		bad("analysis.srm_alpha", "%v is outside (0, 1)", a.SRMAlpha)
	}
	oneOf("analysis.test", a.Test, Tests)
	oneOf("analysis.relative_ci", a.RelativeCI, RelativeCIs)
	oneOf("analysis.correction", a.Correction, Corrections)
	seen := map[string]bool{}
	for i, sg := range a.Segments {
		p := fmt.Sprintf("analysis.segments[%d]", i)
		if !slices.Contains(SegmentColumns, sg) {
			bad(p, "%q is not a segment column (want one of %s)", sg, strings.Join(SegmentColumns, ", "))
		} else if seen[sg] {
			bad(p, "%q is listed twice", sg)
		}
		seen[sg] = true
	}
}

package assign

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signalab/signalab/signal"
)

// Spec is an experiment.yaml file. See docs/design.md, "Experiments".
type Spec struct {
	Name      string          `yaml:"name" json:"name"`
	Unit      string          `yaml:"unit" json:"unit"` // conversation_id | buyer_id | shop_id
	Salt      string          `yaml:"salt" json:"salt"`
	Hash      HashVersion     `yaml:"hash" json:"hash"`
	Variants  []Arm           `yaml:"variants" json:"variants"`
	Coverage  *float64        `yaml:"coverage" json:"coverage,omitempty"`
	Namespace *Namespace      `yaml:"namespace" json:"namespace,omitempty"`
	Window    *Window         `yaml:"window" json:"window,omitempty"`
	PrePeriod Duration        `yaml:"pre_period" json:"pre_period"`
	Filters   Filters         `yaml:"filters" json:"filters,omitempty"`
	Signals   SignalsSpec     `yaml:"signals" json:"signals"`
	Metrics   []MetricSpec    `yaml:"metrics" json:"metrics"`
	Primary   string          `yaml:"primary" json:"primary"`
	Analysis  AnalysisSpec    `yaml:"analysis" json:"analysis"`
	Gates     []GuardrailSpec `yaml:"guardrails" json:"guardrails,omitempty"`
}

// Namespace restricts the experiment to a slice [Range[0], Range[1]) of a
// namespace, as GrowthBook's inNamespace does.
type Namespace struct {
	ID    string     `yaml:"id" json:"id"`
	Range [2]float64 `yaml:"range" json:"range"`
}

// Window is the experiment's analysis window [Start, End).
type Window struct {
	Start time.Time `yaml:"start" json:"start"`
	End   time.Time `yaml:"end" json:"end"`
}

// Filters keep only conversations whose column value is in the listed set.
// Keys are conversation columns (channel, shop_id, ...).
type Filters map[string][]string

// SignalsSpec is the signals: block; absent keys take signal.DefaultParams.
type SignalsSpec struct {
	ConversationInactivity *Duration `yaml:"conversation_inactivity" json:"conversation_inactivity,omitempty"`
	CartLookback           *Duration `yaml:"cart_lookback" json:"cart_lookback,omitempty"`
	OrderLookback          *Duration `yaml:"order_lookback" json:"order_lookback,omitempty"`
	DedupeWindow           *Duration `yaml:"dedupe_window" json:"dedupe_window,omitempty"`
	StateTTL               *Duration `yaml:"state_ttl" json:"state_ttl,omitempty"`
	MaxOutOfOrderness      *Duration `yaml:"max_out_of_orderness" json:"max_out_of_orderness,omitempty"`
	AllowedLateness        *Duration `yaml:"allowed_lateness" json:"allowed_lateness,omitempty"`
	MinCartValueCents      *int64    `yaml:"min_cart_value_cents" json:"min_cart_value_cents,omitempty"`
}

// Params returns the signal parameters: the defaults overridden by the block.
func (s SignalsSpec) Params() signal.Params {
	p := signal.DefaultParams()
	set := func(dst *time.Duration, d *Duration) {
		if d != nil {
			*dst = time.Duration(*d)
		}
	}
	set(&p.ConversationInactivity, s.ConversationInactivity)
	set(&p.CartLookback, s.CartLookback)
	set(&p.OrderLookback, s.OrderLookback)
	set(&p.DedupeWindow, s.DedupeWindow)
	set(&p.StateTTL, s.StateTTL)
	set(&p.MaxOutOfOrderness, s.MaxOutOfOrderness)
	set(&p.AllowedLateness, s.AllowedLateness)
	if s.MinCartValueCents != nil {
		p.MinCartValueCents = *s.MinCartValueCents
	}
	return p
}

// MetricSpec declares one metric.
type MetricSpec struct {
	Name        string   `yaml:"name" json:"name"`
	Type        string   `yaml:"type" json:"type"` // proportion | mean | ratio | quantile
	Outcome     string   `yaml:"outcome" json:"outcome,omitempty"`
	Numerator   string   `yaml:"numerator" json:"numerator,omitempty"`
	Denominator string   `yaml:"denominator" json:"denominator,omitempty"`
	Window      Duration `yaml:"window" json:"window,omitempty"`
	Cap         *Cap     `yaml:"cap" json:"cap,omitempty"`
	Q           float64  `yaml:"q" json:"q,omitempty"`
}

// Cap winsorizes a metric: at a percentile of the pooled distribution, or at
// an absolute value.
type Cap struct {
	Percentile float64 `yaml:"percentile" json:"percentile,omitempty"`
	Value      float64 `yaml:"value" json:"value,omitempty"`
}

// GuardrailSpec fails the run (exit 1) when Metric's relative lift is worse
// than MaxDrop (e.g. -0.02 means "fail if it drops more than 2 %" with
// significance).
type GuardrailSpec struct {
	Metric  string  `yaml:"metric" json:"metric"`
	MaxDrop float64 `yaml:"max_drop" json:"max_drop"`
}

// AnalysisSpec is the analysis: block.
type AnalysisSpec struct {
	Alpha      float64  `yaml:"alpha" json:"alpha"`
	Test       string   `yaml:"test" json:"test"`               // welch | z
	RelativeCI string   `yaml:"relative_ci" json:"relative_ci"` // delta | fieller
	CUPED      bool     `yaml:"cuped" json:"cuped"`
	Correction string   `yaml:"correction" json:"correction"` // none | holm | bh
	SRMAlpha   float64  `yaml:"srm_alpha" json:"srm_alpha"`
	Sequential bool     `yaml:"sequential" json:"sequential"`
	Bayesian   bool     `yaml:"bayesian" json:"bayesian"`
	Segments   []string `yaml:"segments" json:"segments,omitempty"`
}

// Duration is a time.Duration written as a Go duration string ("24h", "90m").
type Duration time.Duration

// UnmarshalYAML parses a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	var s string
	if err := n.Decode(&s); err != nil {
		return fmt.Errorf("line %d: want a duration such as 24h or 90m, got %q", n.Line, n.Value)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: want a duration such as 24h or 90m, got %q", n.Line, s)
	}
	*d = Duration(v)
	return nil
}

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

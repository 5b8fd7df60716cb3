package metrics

import (
	"fmt"
	"strings"
)

// Type is a metric type: what a metric's value is and so how it is compared.
type Type string

// Metric types.
const (
	// Proportion: a 0/1 value per unit (orders > 0 for an order outcome);
	// Bernoulli variance p(1 − p).
	Proportion Type = "proportion"
	// Mean: a numeric value per unit; sample variance.
	Mean Type = "mean"
	// Ratio: Σ numerator / Σ denominator over units; delta-method variance.
	Ratio Type = "ratio"
	// Quantile: the q-quantile of the per-unit values.
	Quantile Type = "quantile"
)

// Types lists the metric types in the order their names are shown.
var Types = []Type{Proportion, Mean, Ratio, Quantile}

// String returns the name of t.
func (t Type) String() string { return string(t) }

// ParseType reads a metric type: proportion, mean, ratio or quantile.
func ParseType(s string) (Type, error) {
	for _, t := range Types {
		if strings.EqualFold(s, string(t)) {
			return t, nil
		}
	}
	return "", fmt.Errorf("unknown metric type %q (want %s)", s, typeList(" or "))
}

// MarshalText writes the name of t; the zero value (no type given) writes
// as "".
func (t Type) MarshalText() ([]byte, error) {
	if _, err := ParseType(string(t)); err != nil && t != "" {
		return nil, err
	}
	return []byte(t), nil
}

// UnmarshalText parses a name with ParseType; "" gives the zero value (no
// type given), which Spec.Validate reports as missing.
func (t *Type) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*t = ""
		return nil
	}
	v, err := ParseType(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// typeList joins the type names with ", " and last before the last one.
func typeList(last string) string {
	var b strings.Builder
	for i, t := range Types {
		switch {
		case i == 0:
		case i == len(Types)-1:
			b.WriteString(last)
		default:
			b.WriteString(", ")
		}
		b.WriteString(string(t))
	}
	return b.String()
}

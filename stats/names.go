package stats

import (
	"fmt"
	"slices"
	"strings"
)

// The names of the options a user picks (test, relative interval,
// correction) as written in experiment.yaml, on the command line and in
// results.json. Each type parses its names (ParseX, UnmarshalText) and writes
// its canonical name (String, MarshalText); no other package spells them.

// Tests lists the tests in the order their names are shown.
var Tests = []Test{Welch, Z, StudentPooled}

// String returns the canonical name of t: welch, z or pooled.
func (t Test) String() string {
	switch t {
	case Welch:
		return "welch"
	case Z:
		return "z"
	case StudentPooled:
		return "pooled"
	}
	return fmt.Sprintf("Test(%d)", int(t))
}

// ParseTest reads a test name: welch, z, or pooled (also student): the
// equal-variance Student t test.
func ParseTest(s string) (Test, error) {
	switch strings.ToLower(s) {
	case "welch":
		return Welch, nil
	case "z":
		return Z, nil
	case "pooled", "student":
		return StudentPooled, nil
	}
	return 0, fmt.Errorf("unknown test %q (want %s)", s, orList(Tests))
}

// MarshalText writes the canonical name.
func (t Test) MarshalText() ([]byte, error) { return marshalName(t, t >= Welch && t <= StudentPooled) }

// UnmarshalText parses a name with ParseTest.
func (t *Test) UnmarshalText(b []byte) error { return unmarshalName(t, ParseTest, b) }

// RelativeCIs lists the relative-interval methods in the order their names
// are shown.
var RelativeCIs = []RelativeCI{DeltaCI, FiellerCI, LogCI}

// String returns the canonical name of r: delta, fieller or log.
func (r RelativeCI) String() string {
	switch r {
	case DeltaCI:
		return "delta"
	case FiellerCI:
		return "fieller"
	case LogCI:
		return "log"
	}
	return fmt.Sprintf("RelativeCI(%d)", int(r))
}

// ParseRelativeCI reads a relative-interval method: delta, fieller or log.
func ParseRelativeCI(s string) (RelativeCI, error) {
	switch strings.ToLower(s) {
	case "delta":
		return DeltaCI, nil
	case "fieller":
		return FiellerCI, nil
	case "log":
		return LogCI, nil
	}
	return 0, fmt.Errorf("unknown relative interval %q (want %s)", s, orList(RelativeCIs))
}

// MarshalText writes the canonical name.
func (r RelativeCI) MarshalText() ([]byte, error) {
	return marshalName(r, r >= DeltaCI && r <= LogCI)
}

// UnmarshalText parses a name with ParseRelativeCI.
func (r *RelativeCI) UnmarshalText(b []byte) error { return unmarshalName(r, ParseRelativeCI, b) }

// Corrections lists the multiple-testing corrections in the order their
// names are shown.
var Corrections = []Correction{NoCorrection, HolmCorrection, BHCorrection, BonferroniCorrection,
	BYCorrection, HochbergCorrection}

// String returns the canonical name of c (its value).
func (c Correction) String() string { return string(c) }

// ParseCorrection reads a correction name: none, holm, bh (also
// benjamini-hochberg or fdr), bonferroni, by (also benjamini-yekutieli) or
// hochberg.
func ParseCorrection(s string) (Correction, error) {
	switch strings.ToLower(s) {
	case "none":
		return NoCorrection, nil
	case "holm":
		return HolmCorrection, nil
	case "bh", "benjamini-hochberg", "fdr":
		return BHCorrection, nil
	case "bonferroni":
		return BonferroniCorrection, nil
	case "by", "benjamini-yekutieli":
		return BYCorrection, nil
	case "hochberg":
		return HochbergCorrection, nil
	}
	return "", fmt.Errorf("unknown correction %q (want %s)", s, orList(Corrections))
}

// MarshalText writes the canonical name; the zero value (no correction
// chosen, not NoCorrection) writes as "".
func (c Correction) MarshalText() ([]byte, error) {
	return marshalName(c, c == "" || slices.Contains(Corrections, c))
}

// UnmarshalText parses a name with ParseCorrection; "" gives the zero value
// (no correction chosen), which users of a Correction refuse or default.
func (c *Correction) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*c = ""
		return nil
	}
	return unmarshalName(c, ParseCorrection, b)
}

// orList joins names as "a, b or c".
func orList[T fmt.Stringer](vs []T) string {
	var b strings.Builder
	for i, v := range vs {
		switch {
		case i == 0:
		case i == len(vs)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(v.String())
	}
	return b.String()
}

func marshalName(v fmt.Stringer, known bool) ([]byte, error) {
	if !known {
		return nil, fmt.Errorf("no name for %s", v)
	}
	return []byte(v.String()), nil
}

func unmarshalName[T any](dst *T, parse func(string) (T, error), b []byte) error {
	v, err := parse(string(b))
	if err != nil {
		return err
	}
	*dst = v
	return nil
}

package stats

import (
	"encoding/json"
	"testing"
)

// TestNamesRoundTrip: every option's canonical name parses back to it, also
// through JSON, and an unknown name is refused with the list of valid ones.
func TestNamesRoundTrip(t *testing.T) {
	for _, v := range Tests {
		if got, err := ParseTest(v.String()); err != nil || got != v {
			t.Errorf("ParseTest(%q) = %v, %v", v, got, err)
		}
	}
	for _, v := range RelativeCIs {
		if got, err := ParseRelativeCI(v.String()); err != nil || got != v {
			t.Errorf("ParseRelativeCI(%q) = %v, %v", v, got, err)
		}
	}
	for _, v := range Corrections {
		if got, err := ParseCorrection(v.String()); err != nil || got != v {
			t.Errorf("ParseCorrection(%q) = %v, %v", v, got, err)
		}
	}
	type opts struct {
		Test       Test       `json:"test"`
		RelativeCI RelativeCI `json:"relative_ci"`
		Correction Correction `json:"correction"`
	}
	b, err := json.Marshal(opts{Z, FiellerCI, BHCorrection})
	if err != nil || string(b) != `{"test":"z","relative_ci":"fieller","correction":"bh"}` {
		t.Fatalf("Marshal = %s, %v", b, err)
	}
	var back opts
	if err := json.Unmarshal([]byte(`{"test":"student","relative_ci":"log","correction":"benjamini-yekutieli"}`), &back); err != nil ||
		back != (opts{StudentPooled, LogCI, BYCorrection}) {
		t.Errorf("Unmarshal aliases = %+v, %v", back, err)
	}
	for _, tc := range []struct {
		parse func() error
		want  string
	}{
		{func() error { _, err := ParseTest("mann-whitney"); return err }, `unknown test "mann-whitney" (want welch, z or pooled)`},
		{func() error { _, err := ParseRelativeCI("bootstrap"); return err }, `unknown relative interval "bootstrap" (want delta, fieller or log)`},
		{func() error { _, err := ParseCorrection(""); return err }, `unknown correction "" (want none, holm, bh, bonferroni, by or hochberg)`},
		{func() error { return json.Unmarshal([]byte(`"t"`), new(Test)) }, `unknown test "t" (want welch, z or pooled)`},
	} {
		if err := tc.parse(); err == nil || err.Error() != tc.want {
			t.Errorf("error %v, want %s", err, tc.want)
		}
	}
	if _, err := json.Marshal(Test(9)); err == nil {
		t.Error("an unknown Test marshalled")
	}
	// The zero Correction is "no correction chosen": it round-trips as "".
	var c Correction
	if b, err := json.Marshal(c); err != nil || string(b) != `""` || json.Unmarshal(b, &c) != nil || c != "" {
		t.Errorf("zero Correction: %s, %v", b, err)
	}
}

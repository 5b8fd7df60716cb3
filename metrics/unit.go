package metrics

import (
	"fmt"
	"strings"

	"github.com/signalab/signalab/assign"
)

// Unit is the analysis unit: what one row of units.parquet is
// (experiment.yaml's analysis.unit). See docs/metrics.md, "Analysis units".
type Unit string

// Analysis units.
const (
	// UnitConversation: one row per conversation (the default); built from
	// the replay's conversations.parquet.
	UnitConversation Unit = "conversation"
	// UnitBuyer: one row per buyer (shop_id, buyer_id) active in the
	// window; built from the replay's sessions.parquet.
	UnitBuyer Unit = "buyer"
	// UnitSession: one row per session (a buyer's activity between
	// inactivity gaps, analysis.session_gap); built from sessions.parquet.
	UnitSession Unit = "session"
)

// Units lists the analysis units in the order their names are shown.
var Units = []Unit{UnitConversation, UnitBuyer, UnitSession}

// String returns the name of u.
func (u Unit) String() string { return string(u) }

// ParseUnit reads an analysis unit: conversation, buyer or session.
func ParseUnit(s string) (Unit, error) {
	for _, u := range Units {
		if strings.EqualFold(s, string(u)) {
			return u, nil
		}
	}
	return "", fmt.Errorf("unknown analysis unit %q (want conversation, buyer or session)", s)
}

// MarshalText writes the name of u.
func (u Unit) MarshalText() ([]byte, error) { return []byte(u), nil }

// UnmarshalText parses a name with ParseUnit.
func (u *Unit) UnmarshalText(b []byte) error {
	v, err := ParseUnit(string(b))
	if err != nil {
		return err
	}
	*u = v
	return nil
}

// FromSessions reports whether units of u are built from the replay's
// sessions (buyer, session) rather than its conversations.
func (u Unit) FromSessions() bool { return u == UnitBuyer || u == UnitSession }

// RandomizationUnits returns the randomization units (experiment.yaml's
// unit:) that can randomize units of u (assign.UnitsFor, which judges the
// unit: key).
func (u Unit) RandomizationUnits() []string { return assign.UnitsFor(string(u)) }

// Clustered reports whether randomization by column randUnit is coarser
// than units of u, so that the analysis must treat each randomization unit
// as a cluster (a ratio of per-cluster sums; docs/metrics.md).
func (u Unit) Clustered(randUnit string) bool {
	switch u {
	case UnitBuyer:
		return randUnit != "buyer_id"
	case UnitSession:
		return randUnit != "session_id"
	}
	return randUnit != "conversation_id"
}

// Outcomes returns the outcome columns units of u have (what a metric's
// outcome, numerator or denominator may name).
func (u Unit) Outcomes() []string {
	if u.FromSessions() {
		return ActivityOutcomeNames
	}
	return OutcomeNames
}

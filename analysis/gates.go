package analysis

import (
	"fmt"
	"strings"

	"github.com/signalab/signalab/results"
)

// GateSet chooses which outcomes make `signalab analyze` and `signalab run`
// exit with code 1 (a check failed); the others exit 0. Errors exit 2.
type GateSet struct {
	// SRM: the sample ratio mismatch test flagged the split.
	SRM bool
	// Guardrail: a guardrail failed (significantly worse than its margin).
	Guardrail bool
	// DontShip: the verdict is don't ship (for any reason).
	DontShip bool
	// Inconclusive: the verdict is inconclusive.
	Inconclusive bool
}

// Gate names, as --gate takes them.
const (
	GateSRM          = "srm"
	GateGuardrail    = "guardrail"
	GateDontShip     = "dont-ship"
	GateInconclusive = "inconclusive"
	GateNone         = "none"
)

// DefaultGates fail on a sample ratio mismatch or a failed guardrail: the
// checks a run can fail whatever the effect. CI that must block anything
// but "ship" adds dont-ship and inconclusive.
var DefaultGates = GateSet{SRM: true, Guardrail: true}

// ParseGates reads a comma-separated list of gate names (srm, guardrail,
// dont-ship, inconclusive), or "none".
func ParseGates(s string) (GateSet, error) {
	var g GateSet
	for _, part := range strings.Split(s, ",") {
		switch strings.TrimSpace(part) {
		case GateSRM:
			g.SRM = true
		case GateGuardrail:
			g.Guardrail = true
		case GateDontShip, "dont_ship":
			g.DontShip = true
		case GateInconclusive:
			g.Inconclusive = true
		case GateNone, "":
		default:
			return g, fmt.Errorf("unknown gate %q (want a comma-separated list of %s, %s, %s, %s, or %s)",
				strings.TrimSpace(part), GateSRM, GateGuardrail, GateDontShip, GateInconclusive, GateNone)
		}
	}
	return g, nil
}

func (g GateSet) String() string {
	var out []string
	for _, x := range []struct {
		on   bool
		name string
	}{{g.SRM, GateSRM}, {g.Guardrail, GateGuardrail}, {g.DontShip, GateDontShip}, {g.Inconclusive, GateInconclusive}} {
		if x.on {
			out = append(out, x.name)
		}
	}
	if len(out) == 0 {
		return GateNone
	}
	return strings.Join(out, ",")
}

// Failures lists, in words, the outcomes of r that g fails on (empty: exit
// 0).
func (g GateSet) Failures(r *results.Results) []string {
	var out []string
	for _, c := range r.Gates.Checks {
		switch {
		case c.Kind == "srm" && !c.Passed && g.SRM:
			out = append(out, "srm: "+c.Reason)
		case c.Kind == "guardrail" && !c.Passed && g.Guardrail:
			out = append(out, c.Name+": "+c.Reason)
		}
	}
	switch r.Verdict.Decision {
	case DontShip:
		if g.DontShip {
			out = append(out, "verdict: don't ship: "+strings.Join(r.Verdict.Reasons, "; "))
		}
	case Inconclusive:
		if g.Inconclusive {
			out = append(out, "verdict: inconclusive: "+strings.Join(r.Verdict.Reasons, "; "))
		}
	}
	return out
}

package experiment

import (
	"fmt"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/assign"
)

// RedrawSalt is the salt of redraw number draw of an experiment salted
// salt, for randomization tests: the experiment's salt, "/redraw/", the
// draw's number. Changing the salt re-draws everything, as it re-draws the
// assignment.
func RedrawSalt(salt string, draw int) string { return fmt.Sprintf("%s/redraw/%d", salt, draw) }

// UnitRedraw returns the analysis' redraw of the assignment for the
// randomization tests of a cluster-randomized comparison: draw d hashes
// each unit with the spec's hash and RedrawSalt(salt, d) into two arms
// weighted as the compared variants (their weights renormalised to sum to
// 1), at full coverage.
//
// Why full coverage and two arms: the units being compared are those the
// experiment put in these two variants. Given that, each was in control or
// treatment with probabilities w_c/(w_c + w_t) and w_t/(w_c + w_t),
// independently (coverage and namespace decide who takes part, not which
// arm), so this is the mechanism's distribution conditional on the
// comparison's units, which is what a randomization test must redraw from
// (for a two-arm experiment it is the hash itself with a new salt).
func (s *Spec) UnitRedraw() analysis.UnitRedraw {
	hash := s.Hash
	salt := s.Salt
	return func(draw int, weights [2]float64, units []string, arms []int8) {
		tot := weights[0] + weights[1]
		a, err := assign.NewAssigner(hash, RedrawSalt(salt, draw),
			[]assign.Arm{{Name: "control", Weight: weights[0] / tot}, {Name: "treatment", Weight: 1 - weights[0]/tot}}, 1)
		if err != nil {
			// The spec was validated (a known hash, positive weights).
			panic(fmt.Sprintf("experiment: redraw assigner: %v", err))
		}
		for i, u := range units {
			arms[i] = int8(a.Decide(u).Arm)
		}
	}
}

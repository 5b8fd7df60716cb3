package experiment

import (
	"fmt"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/assign"
)

// RedrawSalt is the salt of redraw number draw of an experiment salted
// salt, for randomization tests: the experiment's salt, "/redraw/", and
// the draw's number scrambled (SplitMix64, 16 hex digits). Changing the
// salt re-draws everything, as it re-draws the assignment. Why scrambled:
// with GrowthBook's hashes, salts that differ only in a trailing counter
// give slightly dependent assignments (an A/A study over 8,000 salts
// "<salt>/aa/<k>" rejected 5.2–5.7% with an exact test, 4.8–5.2% with
// scrambled counters and 4.6–4.7% with PCG draws; docs/statistics.md).
func RedrawSalt(salt string, draw int) string { return salt + "/redraw/" + scramble(uint64(draw)) }

// scramble is the SplitMix64 finalizer of x (Steele, Lea & Flood 2014) in
// 16 hex digits.
func scramble(x uint64) string {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return fmt.Sprintf("%016x", x^(x>>31))
}

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

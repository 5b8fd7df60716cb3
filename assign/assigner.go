package assign

import (
	"errors"
	"fmt"
	"math"
)

// Arm is one variant of an experiment with its traffic weight.
type Arm struct {
	Name   string  `yaml:"name" json:"name"`
	Weight float64 `yaml:"weight" json:"weight"`
}

// Range is a half-open bucket range [Start, End) on the 0..10000 scale.
type Range struct{ Start, End int }

// Contains reports whether bucket b falls in [Start, End).
func (r Range) Contains(b int) bool { return b >= r.Start && b < r.End }

// BucketRanges returns each arm's bucket range, start-anchored as GrowthBook's
// getBucketRanges does: arm i starts at the cumulative weight of arms before it
// and covers coverage × weight_i of the scale, so raising coverage only extends
// ranges and never moves a unit between arms.
//
//	start_i = Σ_{j<i} w_j,  end_i = start_i + coverage·w_i   (× 10000, rounded)
func BucketRanges(weights []float64, coverage float64) []Range {
	coverage = math.Min(math.Max(coverage, 0), 1)
	out := make([]Range, len(weights))
	cum := 0.0
	for i, w := range weights {
		start := cum
		cum += w
		out[i] = Range{Start: toScale(start), End: toScale(start + coverage*w)}
	}
	return out
}

func toScale(x float64) int { return int(math.Round(x * 10000)) }

// Assigner maps unit ids to arms deterministically.
type Assigner struct {
	hash   HashVersion
	salt   string
	arms   []Arm
	ranges []Range
}

// NewAssigner returns an Assigner for the given hash, salt, arms and coverage.
// Weights must be non-negative and sum to 1 (within 1e-6).
func NewAssigner(h HashVersion, salt string, arms []Arm, coverage float64) (*Assigner, error) {
	if _, err := Bucket(h, "", ""); err != nil {
		return nil, err
	}
	if len(arms) < 2 {
		return nil, errors.New("variants: need at least two arms")
	}
	ws := make([]float64, len(arms))
	sum := 0.0
	for i, a := range arms {
		if a.Weight < 0 || math.IsNaN(a.Weight) {
			return nil, fmt.Errorf("variants[%d].weight: %v is negative", i, a.Weight)
		}
		ws[i] = a.Weight
		sum += a.Weight
	}
	if math.Abs(sum-1) > 1e-6 {
		return nil, fmt.Errorf("variants: weights sum to %v, want 1", sum)
	}
	if coverage < 0 || coverage > 1 || math.IsNaN(coverage) {
		return nil, fmt.Errorf("coverage: %v is outside [0, 1]", coverage)
	}
	return &Assigner{hash: h, salt: salt, arms: arms, ranges: BucketRanges(ws, coverage)}, nil
}

// Arms returns the assigner's arms in order.
func (a *Assigner) Arms() []Arm { return a.arms }

// Assign returns the arm index and bucket of unitID. ok is false when the unit
// is not assigned: an empty id, or a bucket outside every arm's range (coverage).
func (a *Assigner) Assign(unitID string) (arm, bucket int, ok bool) {
	if unitID == "" {
		return -1, -1, false
	}
	b, _ := Bucket(a.hash, a.salt, unitID)
	for i, r := range a.ranges {
		if r.Contains(b) {
			return i, b, true
		}
	}
	return -1, b, false
}

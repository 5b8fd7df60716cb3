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

// Range is a half-open bucket range [Start, End) on the 0..Scale integer scale.
type Range struct{ Start, End int }

// Contains reports whether bucket b falls in [Start, End).
func (r Range) Contains(b int) bool { return b >= r.Start && b < r.End }

// BucketRanges returns each arm's integer bucket range, start-anchored as
// GrowthBook's getBucketRanges does: arm i starts at the cumulative weight of
// the arms before it and covers coverage × w_i of the scale, so raising
// coverage only extends ranges and never moves a unit between arms.
//
//	start_i = Σ_{j<i} w_j,   end_i = start_i + coverage·w_i        (float64, as GrowthBook)
//	Start_i = ⌈start_i⌉,     End_i = ⌈end_i⌉   where ⌈x⌉ = min{b ∈ ℤ : float64(b)/10000 ≥ x}
//
// With these integer ends, Start_i ≤ b < End_i holds exactly when GrowthBook's
// float test start_i ≤ b/10000 < end_i does, for every bucket b (for equal
// thirds: end_0 = 0.333…, End_0 = 3334, so bucket 3333 is arm 0 in both).
// Coverage is clamped to [0, 1]. Weights are used as given (validate them first).
func BucketRanges(weights []float64, coverage float64) []Range {
	coverage = math.Min(math.Max(coverage, 0), 1)
	fr := floatRanges(weights, coverage)
	out := make([]Range, len(fr))
	for i, r := range fr {
		out[i] = Range{Start: boundary(r[0], Scale), End: boundary(r[1], Scale)}
	}
	return out
}

// boundary returns the smallest integer b in [0, scale] with
// float64(b)/scale ≥ x (scale when there is none), the integer form of a
// GrowthBook float range end.
func boundary(x float64, scale int) int {
	if !(x > 0) { // also NaN
		return 0
	}
	s := float64(scale)
	b := int(math.Min(math.Ceil(x*s), s))
	for b > 0 && float64(b-1)/s >= x {
		b--
	}
	for b < scale && float64(b)/s < x {
		b++
	}
	return b
}

// Reasons for a unit's assignment outcome (the reason column of
// assignments.parquet).
const (
	ReasonAssigned         = "assigned"          // hashed into an arm
	ReasonExposureLog      = "exposure_log"      // cohort taken from the exposure log
	ReasonMissingUnitID    = "missing_unit_id"   // empty unit id: never assigned
	ReasonNotInNamespace   = "not_in_namespace"  // outside the namespace slice
	ReasonOutsideCoverage  = "outside_coverage"  // bucket in no arm's range
	ReasonOutsideWindow    = "outside_window"    // no conversation started in the window
	ReasonFiltered         = "filtered"          // conversations in the window, none passed the filters
	ReasonNotExposed       = "not_exposed"       // exposure log given, unit not in it
	ReasonMultipleVariants = "multiple_variants" // exposure log has the unit under two variants
)

// Decision is the outcome of hashing one unit.
type Decision struct {
	Arm    int    // arm index, −1 when not assigned
	Bucket int    // bucket in [0, Scale), −1 for a missing unit id
	Reason string // ReasonAssigned, ReasonMissingUnitID, ReasonNotInNamespace or ReasonOutsideCoverage
}

// Assigner maps unit ids to arms deterministically. It is safe for concurrent
// use and does not allocate per unit.
type Assigner struct {
	hash   HashVersion
	kind   hashKind
	salt   string
	v2seed uint32 // FNV-1a state after the salt, for growthbook-v2
	arms   []Arm
	ranges []Range

	nsSeed   string // "__" + namespace id; empty when there is no namespace
	nsLo     int    // namespace slice on GrowthBook v1's 0..1000 scale
	nsHi     int
	hasNS    bool
	coverage float64
}

// NewAssigner returns an Assigner for the given hash, salt, arms and coverage.
// Weights must be non-negative and sum to 1 (within 1e-6); coverage must be in
// [0, 1].
func NewAssigner(h HashVersion, salt string, arms []Arm, coverage float64) (*Assigner, error) {
	k := kindOf(h)
	if k == hashUnknown {
		return nil, fmt.Errorf("hash: unknown hash %q (want growthbook-v1, growthbook-v2 or sha256)", h)
	}
	if len(arms) < 2 {
		return nil, errors.New("variants: need at least two arms")
	}
	ws := make([]float64, len(arms))
	sum := 0.0
	for i, a := range arms {
		if a.Weight < 0 || math.IsNaN(a.Weight) || math.IsInf(a.Weight, 0) {
			return nil, fmt.Errorf("variants[%d].weight: %v is negative or not a number", i, a.Weight)
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
	return &Assigner{hash: h, kind: k, salt: salt, v2seed: fnvAdd(fnvOffset32, salt), arms: append([]Arm(nil), arms...),
		ranges: BucketRanges(ws, coverage), coverage: coverage}, nil
}

// WithNamespace returns a copy of a restricted to GrowthBook namespace id's
// slice [lo, hi): a unit takes part only when InNamespace(unit, id, lo, hi).
func (a *Assigner) WithNamespace(id string, lo, hi float64) (*Assigner, error) {
	if id == "" {
		return nil, errors.New("namespace.id: empty")
	}
	if !(lo >= 0 && hi <= 1 && lo < hi) {
		return nil, fmt.Errorf("namespace.range: [%v, %v] must satisfy 0 ≤ start < end ≤ 1", lo, hi)
	}
	b := *a
	b.nsSeed, b.hasNS = "__"+id, true
	b.nsLo, b.nsHi = boundary(lo, 1000), boundary(hi, 1000)
	return &b, nil
}

// Arms returns the assigner's arms in order.
func (a *Assigner) Arms() []Arm { return a.arms }

// Ranges returns each arm's integer bucket range.
func (a *Assigner) Ranges() []Range { return a.ranges }

// Hash returns the assigner's hash version.
func (a *Assigner) Hash() HashVersion { return a.hash }

// Decide hashes unitID and returns its arm, bucket and reason. The order of
// checks follows GrowthBook's run(): missing id, namespace, then coverage.
func (a *Assigner) Decide(unitID string) Decision {
	if unitID == "" {
		return Decision{Arm: -1, Bucket: -1, Reason: ReasonMissingUnitID}
	}
	var b int
	if a.kind == hashV2 {
		b = bucketV2From(a.v2seed, unitID)
	} else {
		b = a.kind.bucket(a.salt, unitID)
	}
	if a.hasNS {
		n := bucketV1(a.nsSeed, unitID)
		if n < a.nsLo || n >= a.nsHi {
			return Decision{Arm: -1, Bucket: b, Reason: ReasonNotInNamespace}
		}
	}
	for i, r := range a.ranges {
		if r.Contains(b) {
			return Decision{Arm: i, Bucket: b, Reason: ReasonAssigned}
		}
	}
	return Decision{Arm: -1, Bucket: b, Reason: ReasonOutsideCoverage}
}

// Assign returns the arm index and bucket of unitID. ok is false when the unit
// is not assigned: an empty id (bucket −1), outside the namespace, or a bucket
// outside every arm's range (coverage).
func (a *Assigner) Assign(unitID string) (arm, bucket int, ok bool) {
	d := a.Decide(unitID)
	return d.Arm, d.Bucket, d.Arm >= 0
}

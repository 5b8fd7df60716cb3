package assign

// GrowthBook's float helpers, with GrowthBook's exact semantics, so signalab
// can be checked case by case against the cross-SDK suite
// (packages/sdk-js/test/cases.json, copied to testdata/growthbook-cases.json).
// The Assigner uses integer ranges derived from the same floats (see
// BucketRanges), which agree with these on every bucket.

// GetEqualWeights returns n equal weights 1/n; none for n ≤ 0.
func GetEqualWeights(n int) []float64 {
	if n <= 0 {
		return []float64{}
	}
	w := make([]float64, n)
	for i := range w {
		w[i] = 1 / float64(n)
	}
	return w
}

// GetBucketRanges is GrowthBook's getBucketRanges: coverage is clamped to
// [0, 1]; weights that are missing, of the wrong length, or summing outside
// [0.99, 1.01] are replaced by equal weights; then arm i gets the
// start-anchored range
//
//	[c_i, c_i + coverage·w_i),   c_i = w_0 + … + w_{i−1}
//
// computed in float64 in that order, as GrowthBook does.
func GetBucketRanges(numVariations int, coverage float64, weights []float64) [][2]float64 {
	if coverage < 0 {
		coverage = 0
	} else if coverage > 1 {
		coverage = 1
	}
	equal := GetEqualWeights(numVariations)
	if weights == nil || len(weights) != numVariations {
		weights = equal
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	if total < 0.99 || total > 1.01 {
		weights = equal
	}
	return floatRanges(weights, coverage)
}

// floatRanges is the start-anchored cumulative range computation shared by
// GetBucketRanges and BucketRanges.
func floatRanges(weights []float64, coverage float64) [][2]float64 {
	out := make([][2]float64, len(weights))
	cum := 0.0
	for i, w := range weights {
		start := cum
		cum += w
		out[i] = [2]float64{start, start + coverage*w}
	}
	return out
}

// ChooseVariation is GrowthBook's chooseVariation: the index of the first
// range with start ≤ n < end, or −1.
func ChooseVariation(n float64, ranges [][2]float64) int {
	for i, r := range ranges {
		if n >= r[0] && n < r[1] {
			return i
		}
	}
	return -1
}

// InNamespace is GrowthBook's inNamespace: the unit is in namespace id's
// slice [lo, hi) when hash("__"+id, unitID, 1) falls in it.
func InNamespace(unitID, id string, lo, hi float64) bool {
	n, _ := Hash("__"+id, unitID, 1)
	return n >= lo && n < hi
}

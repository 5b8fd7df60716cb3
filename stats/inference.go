package stats

import (
	"fmt"
	"strings"
)

// Inference names how a comparison of cluster-randomized arms is tested
// (experiment.yaml analysis.inference, analyze --inference, results.json).
type Inference string

// The inference methods for cluster-randomized comparisons.
const (
	// InferenceAuto picks per comparison (see ChooseInference).
	InferenceAuto Inference = "auto"
	// InferenceRandomization: CompareClustersRandomization (and
	// CompareClusterQuantilesTest with a Redraw).
	InferenceRandomization Inference = "randomization"
	// InferenceCR2: CompareClustersCR2 (and CompareClusterQuantilesTest
	// without a Redraw).
	InferenceCR2 Inference = "cr2"
	// InferenceDelta: the delta method with Welch degrees of freedom on
	// per-cluster moments (CompareRatios, CompareRatiosCUPED;
	// CompareClusterQuantiles for quantiles), signalab's method before
	// CR2. It rejects a true null up to twice too often with few, unequal
	// clusters; kept to reproduce earlier results.
	InferenceDelta Inference = "delta"
)

// Inferences lists the methods in the order their names are shown.
var Inferences = []Inference{InferenceAuto, InferenceRandomization, InferenceCR2, InferenceDelta}

// String returns the canonical name.
func (i Inference) String() string { return string(i) }

// ParseInference reads an inference name: auto, randomization (also
// permutation, ri), cr2 or delta.
func ParseInference(s string) (Inference, error) {
	switch strings.ToLower(s) {
	case "auto":
		return InferenceAuto, nil
	case "randomization", "permutation", "ri":
		return InferenceRandomization, nil
	case "cr2":
		return InferenceCR2, nil
	case "delta":
		return InferenceDelta, nil
	}
	return "", fmt.Errorf("unknown inference %q (want %s)", s, orList(Inferences))
}

// MarshalText writes the canonical name; the zero value writes as "".
func (i Inference) MarshalText() ([]byte, error) {
	return marshalName(i, i == "" || i == InferenceAuto || i == InferenceRandomization || i == InferenceCR2 || i == InferenceDelta)
}

// UnmarshalText parses a name with ParseInference; "" gives the zero value
// (auto).
func (i *Inference) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*i = ""
		return nil
	}
	return unmarshalName(i, ParseInference, b)
}

// Thresholds of ChooseInference.
const (
	// AutoRandomizationClusters: below this many clusters in the smaller
	// arm, auto inference is a randomization test.
	AutoRandomizationClusters = 200
	// AutoRandomizationShare: a cluster holding at least this share of its
	// arm's denominator also makes auto inference a randomization test.
	AutoRandomizationShare = 0.10
	// AutoRandomizationMaxClusters bounds the cost of auto randomization
	// tests (B redraws × K clusters per hypothesis).
	AutoRandomizationMaxClusters = 5000
)

// ChooseInference is the auto rule: a randomization test when the smaller
// arm has fewer than AutoRandomizationClusters clusters or one cluster
// holds AutoRandomizationShare or more of its arm's denominator (and the
// comparison has at most AutoRandomizationMaxClusters clusters), CR2
// otherwise. From the calibration in docs/statistics.md: with lognormal
// cluster sizes (σ = 1.2) CR2 with Imbens–Kolesár degrees of freedom
// rejects 4.2–5.6% of A/A comparisons at 10–150 clusters per arm when the
// clusters are a fresh sample each time, but for a fixed set of shops
// re-randomized (what an experiment is) its rate depends on the shops: 0–8%
// at 20 per arm, up to 16% when one shop holds a third of the
// conversations; the randomization test is exact for every set of shops.
// Above the thresholds CR2 is within Monte Carlo error of α and much
// cheaper.
func ChooseInference(control, treatment []Cluster) Inference {
	if min(len(control), len(treatment)) < AutoRandomizationClusters {
		return InferenceRandomization
	}
	if len(control)+len(treatment) > AutoRandomizationMaxClusters {
		return InferenceCR2
	}
	if MaxClusterShare(control) >= AutoRandomizationShare || MaxClusterShare(treatment) >= AutoRandomizationShare {
		return InferenceRandomization
	}
	return InferenceCR2
}

// MaxClusterShare is the largest share D_k/ΣD of an arm's denominator held
// by one cluster (0 for an empty arm or ΣD = 0).
func MaxClusterShare(arm []Cluster) float64 {
	var sum, hi float64
	for _, c := range arm {
		sum += c.D
		hi = max(hi, c.D)
	}
	if !(sum > 0) {
		return 0
	}
	return hi / sum
}

package assign

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// The expected values in this file come from GrowthBook's cross-SDK suite,
// packages/sdk-js/test/cases.json (specVersion 0.8.0, MIT), copied unchanged to
// testdata/growthbook-cases.json; see testdata/README.md.

type gbCases struct {
	Hash            [][]json.RawMessage `json:"hash"`
	GetBucketRange  [][]json.RawMessage `json:"getBucketRange"`
	ChooseVariation [][]json.RawMessage `json:"chooseVariation"`
	InNamespace     [][]json.RawMessage `json:"inNamespace"`
	GetEqualWeights [][]json.RawMessage `json:"getEqualWeights"`
}

func loadGB(t *testing.T) gbCases {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "growthbook-cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c gbCases
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func must[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// Tolerance 1e-9 for float comparisons: GrowthBook's values are short decimals
// (0.0505, 0.33333333) and ours are float64 divisions of the same integers.
const gbTol = 1e-9

func TestGrowthBookHash(t *testing.T) {
	c := loadGB(t)
	if len(c.Hash) != 15 {
		t.Fatalf("hash cases: %d, want 15", len(c.Hash))
	}
	for _, tc := range c.Hash {
		seed, value, version := must[string](t, tc[0]), must[string](t, tc[1]), must[int](t, tc[2])
		want := must[*float64](t, tc[3])
		got, ok := Hash(seed, value, version)
		if want == nil {
			if ok {
				t.Errorf("Hash(%q, %q, %d) = %v, want null", seed, value, version, got)
			}
			continue
		}
		if !ok || math.Abs(got-*want) > gbTol {
			t.Errorf("Hash(%q, %q, %d) = %v, %v; want %v", seed, value, version, got, ok, *want)
		}
		// Bucket is the same number on the integer scale.
		h := map[int]HashVersion{1: GrowthBookV1, 2: GrowthBookV2}[version]
		b, err := Bucket(h, seed, value)
		if err != nil || math.Abs(float64(b)/Scale-*want) > gbTol {
			t.Errorf("Bucket(%s, %q, %q) = %d, %v; want %v×10000", h, seed, value, b, err, *want)
		}
	}
}

func TestGrowthBookGetBucketRange(t *testing.T) {
	c := loadGB(t)
	if len(c.GetBucketRange) != 13 {
		t.Fatalf("getBucketRange cases: %d, want 13", len(c.GetBucketRange))
	}
	for _, tc := range c.GetBucketRange {
		name := must[string](t, tc[0])
		args := must[[]json.RawMessage](t, tc[1])
		n, cov, w := must[int](t, args[0]), must[float64](t, args[1]), must[[]float64](t, args[2])
		want := must[[][2]float64](t, tc[2])
		got := GetBucketRanges(n, cov, w)
		if len(got) != len(want) {
			t.Errorf("%s: %d ranges, want %d", name, len(got), len(want))
			continue
		}
		for i := range got {
			if math.Abs(got[i][0]-want[i][0]) > gbTol || math.Abs(got[i][1]-want[i][1]) > gbTol {
				t.Errorf("%s: range %d = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
}

func TestGrowthBookChooseVariation(t *testing.T) {
	c := loadGB(t)
	if len(c.ChooseVariation) != 13 {
		t.Fatalf("chooseVariation cases: %d, want 13", len(c.ChooseVariation))
	}
	for _, tc := range c.ChooseVariation {
		name, n := must[string](t, tc[0]), must[float64](t, tc[1])
		ranges, want := must[[][2]float64](t, tc[2]), must[int](t, tc[3])
		if got := ChooseVariation(n, ranges); got != want {
			t.Errorf("%s: ChooseVariation(%v) = %d, want %d", name, n, got, want)
		}
		// The integer form agrees: n is on the 0.0001 grid in every case.
		b := int(math.Round(n * Scale))
		if got := chooseInt(b, toIntRanges(ranges)); got != want {
			t.Errorf("%s: integer choice for bucket %d = %d, want %d", name, b, got, want)
		}
	}
}

func toIntRanges(fr [][2]float64) []Range {
	out := make([]Range, len(fr))
	for i, r := range fr {
		out[i] = Range{boundary(r[0], Scale), boundary(r[1], Scale)}
	}
	return out
}

func chooseInt(b int, rs []Range) int {
	for i, r := range rs {
		if r.Contains(b) {
			return i
		}
	}
	return -1
}

func TestGrowthBookInNamespace(t *testing.T) {
	c := loadGB(t)
	if len(c.InNamespace) != 16 {
		t.Fatalf("inNamespace cases: %d, want 16", len(c.InNamespace))
	}
	for _, tc := range c.InNamespace {
		name, id := must[string](t, tc[0]), must[string](t, tc[1])
		ns := must[[]json.RawMessage](t, tc[2])
		nsID, lo, hi := must[string](t, ns[0]), must[float64](t, ns[1]), must[float64](t, ns[2])
		want := must[bool](t, tc[3])
		if got := InNamespace(id, nsID, lo, hi); got != want {
			t.Errorf("%s: InNamespace = %v, want %v", name, got, want)
		}
		// The Assigner's integer namespace agrees (full coverage, one arm
		// taking everything: assigned exactly when in the namespace).
		a, err := NewAssigner(GrowthBookV2, "s", []Arm{{"a", 1}, {"b", 0}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		a, err = a.WithNamespace(nsID, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		if d := a.Decide(id); (d.Reason != ReasonNotInNamespace) != want {
			t.Errorf("%s: Assigner reason %s, want in namespace = %v", name, d.Reason, want)
		}
	}
}

func TestGrowthBookGetEqualWeights(t *testing.T) {
	c := loadGB(t)
	if len(c.GetEqualWeights) != 6 {
		t.Fatalf("getEqualWeights cases: %d, want 6", len(c.GetEqualWeights))
	}
	for _, tc := range c.GetEqualWeights {
		n, want := must[int](t, tc[0]), must[[]float64](t, tc[1])
		got := GetEqualWeights(n)
		if len(got) != len(want) {
			t.Errorf("GetEqualWeights(%d) = %v, want %v", n, got, want)
			continue
		}
		for i := range got {
			// The suite rounds 1/3 to 8 decimals.
			if math.Abs(got[i]-want[i]) > 1e-8 {
				t.Errorf("GetEqualWeights(%d)[%d] = %v, want %v", n, i, got[i], want[i])
			}
		}
	}
}

// TestGrowthBookNonASCII checks the UTF-8 (growthbook-golang) values of the
// non-ASCII anchors in testdata/growthbook-non-ascii.json (from
// shared/vectors/derived-anchors.json), and that they differ from the JS SDK's
// UTF-16 values, which signalab deliberately does not follow.
func TestGrowthBookNonASCII(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "growthbook-non-ascii.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Entries []struct {
			Seed    string  `json:"seed"`
			Value   string  `json:"value"`
			Version int     `json:"hashVersion"`
			JS      float64 `json:"js_sdk_utf16_code_units"`
			Go      float64 `json:"go_sdk_utf8_bytes"`
		} `json:"growthbook_non_ascii"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 8 {
		t.Fatalf("%d entries, want 8", len(f.Entries))
	}
	for _, e := range f.Entries {
		got, _ := Hash(e.Seed, e.Value, e.Version)
		if math.Abs(got-e.Go) > gbTol {
			t.Errorf("Hash(%q, %q, %d) = %v, want %v (UTF-8 bytes)", e.Seed, e.Value, e.Version, got, e.Go)
		}
		if math.Abs(got-e.JS) < gbTol {
			t.Errorf("Hash(%q, %q, %d) = %v equals the UTF-16 value", e.Seed, e.Value, e.Version, got)
		}
	}
}

// TestIntegerRangesMatchFloat checks, on every bucket 0..9999, that the
// Assigner's integer ranges choose the same arm as GrowthBook's float
// getBucketRanges + chooseVariation with n = b/10000, for the weights of the
// suite, equal thirds (1/3 is not on the 0.0001 grid) and awkward splits, at
// several coverages.
func TestIntegerRangesMatchFloat(t *testing.T) {
	weightSets := [][]float64{
		{0.5, 0.5}, {0.25, 0.25, 0.25, 0.25}, {0.4, 0.6}, {0.2, 0.3, 0.5},
		GetEqualWeights(3), GetEqualWeights(6), GetEqualWeights(7), {0.1, 0.2, 0.7},
		{0.33, 0.33, 0.34}, {0.123456, 0.876544}, {0.999, 0.001}, {0, 1}, {1, 0},
	}
	for _, ws := range weightSets {
		for _, cov := range []float64{1, 0.5, 0.2, 0.3333333, 0.07, 0.99999, 0} {
			fr := GetBucketRanges(len(ws), cov, ws)
			ir := BucketRanges(ws, cov)
			for b := 0; b < Scale; b++ {
				want := ChooseVariation(float64(b)/Scale, fr)
				if got := chooseInt(b, ir); got != want {
					t.Fatalf("weights %v coverage %v bucket %d: integer arm %d, float arm %d (ranges %v vs %v)",
						ws, cov, b, got, want, ir, fr)
				}
				// GrowthBook v1 buckets are multiples of 10 here and b₁/1000 ≡ b/10000.
				if b%10 == 0 {
					if got := ChooseVariation(float64(b/10)/1000, fr); got != want {
						t.Fatalf("v1 bucket %d: %d vs %d", b/10, got, want)
					}
				}
			}
		}
	}
}

// TestRaisingCoverageNeverMovesUnits: a unit assigned at coverage c stays in
// the same arm at every higher coverage (start-anchored ranges).
func TestRaisingCoverageNeverMovesUnits(t *testing.T) {
	arms := []Arm{{"a", 1.0 / 3}, {"b", 1.0 / 3}, {"c", 1.0 / 3}}
	covs := []float64{0.1, 0.25, 0.5, 0.9, 1}
	for b := 0; b < Scale; b++ {
		prev := -1
		for _, c := range covs {
			arm := chooseInt(b, BucketRanges([]float64{arms[0].Weight, arms[1].Weight, arms[2].Weight}, c))
			if prev >= 0 && arm != prev {
				t.Fatalf("bucket %d moved from arm %d to %d when coverage rose to %v", b, prev, arm, c)
			}
			if arm >= 0 {
				prev = arm
			}
		}
	}
}

func TestBoundaryThirds(t *testing.T) {
	// 1/3 = 0.333…: buckets 0..3333 are below it (3333/10000 < 1/3), 3334 is not.
	if got := boundary(1.0/3, Scale); got != 3334 {
		t.Errorf("boundary(1/3) = %d, want 3334", got)
	}
	if got := boundary(0.5, Scale); got != 5000 {
		t.Errorf("boundary(0.5) = %d, want 5000", got)
	}
	if got := boundary(0.9999, Scale); got != 9999 {
		t.Errorf("boundary(0.9999) = %d, want 9999", got)
	}
	if got := boundary(1.2, Scale); got != Scale {
		t.Errorf("boundary(1.2) = %d, want %d", got, Scale)
	}
	if got := boundary(math.NaN(), Scale); got != 0 {
		t.Errorf("boundary(NaN) = %d, want 0", got)
	}
}

// TestNamespaceIntegerMatchesFloat: on every v1 bucket 0..999 the
// Assigner's integer namespace bounds agree with GrowthBook's float test
// lo ≤ b/1000 < hi.
func TestNamespaceIntegerMatchesFloat(t *testing.T) {
	for _, r := range [][2]float64{{0, 0.4}, {0.4, 1}, {1.0 / 3, 2.0 / 3}, {0.0005, 0.9995}, {0.123456, 0.5}, {0, 1}} {
		lo, hi := boundary(r[0], 1000), boundary(r[1], 1000)
		for b := 0; b < 1000; b++ {
			n := float64(b) / 1000
			if want, got := n >= r[0] && n < r[1], b >= lo && b < hi; got != want {
				t.Fatalf("range %v bucket %d: integer %v, float %v", r, b, got, want)
			}
		}
	}
}

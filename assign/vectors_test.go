package assign

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

var update = flag.Bool("update", false, "regenerate testdata/signalab-vectors.json")

const vectorsFile = "signalab-vectors.json"

// vectorFile is signalab's published vector file: hashes and assignments that
// other implementations can check themselves against. Its values were
// verified independently by testdata/verify_vectors.py (a Python
// re-implementation of the float GrowthBook semantics and of sha256 bucketing).
type vectorFile struct {
	About   string         `json:"_about"`
	Version int            `json:"version"`
	Hash    []hashVector   `json:"hash"`
	Assign  []assignVector `json:"assign"`
}

type hashVector struct {
	Hash   HashVersion `json:"hash"`
	Seed   string      `json:"seed"`
	Value  string      `json:"value"`
	Bucket int         `json:"bucket"` // in [0, 10000)
}

type assignVector struct {
	Name      string      `json:"name"`
	Hash      HashVersion `json:"hash"`
	Salt      string      `json:"salt"`
	Weights   []float64   `json:"weights"`
	Coverage  float64     `json:"coverage"`
	Namespace *Namespace  `json:"namespace,omitempty"`
	UnitID    string      `json:"unit_id"`
	Bucket    int         `json:"bucket"`    // −1 for a missing unit id
	Variation int         `json:"variation"` // arm index, −1 when not assigned
	Reason    string      `json:"reason"`
}

func armsOf(ws []float64) []Arm {
	arms := make([]Arm, len(ws))
	for i, w := range ws {
		arms[i] = Arm{Name: "v" + strconv.Itoa(i), Weight: w}
	}
	return arms
}

func (v assignVector) decide(t *testing.T) Decision {
	t.Helper()
	a, err := NewAssigner(v.Hash, v.Salt, armsOf(v.Weights), v.Coverage)
	if err != nil {
		t.Fatalf("%s: %v", v.Name, err)
	}
	if ns := v.Namespace; ns != nil {
		if a, err = a.WithNamespace(ns.ID, ns.Range[0], ns.Range[1]); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
	}
	return a.Decide(v.UnitID)
}

// findID returns the first id "<prefix><n>" whose bucket under (h, salt) is b.
func findID(t *testing.T, h HashVersion, salt, prefix string, b int) string {
	for n := 0; n < 2_000_000; n++ {
		id := prefix + strconv.Itoa(n)
		if got, _ := Bucket(h, salt, id); got == b {
			return id
		}
	}
	t.Fatalf("no id with bucket %d", b)
	return ""
}

func generateVectors(t *testing.T) vectorFile {
	f := vectorFile{Version: 1, About: "signalab assignment vectors (docs/assignment.md). hash: bucket in [0,10000) of " +
		"growthbook-v1 ((fnv32a(value+seed) mod 1000)*10), growthbook-v2 (fnv32a(decimal(fnv32a(seed+value))) mod 10000) " +
		"and sha256 (uint64be(sha256(seed+value)[0:8]) mod 10000), all over UTF-8 bytes. assign: GrowthBook getBucketRanges " +
		"(start-anchored, coverage) + chooseVariation on bucket/10000, namespace by inNamespace; variation -1 = not assigned. " +
		"Regenerate: go test ./assign -run TestSignalabVectors -update; verify independently: python3 assign/testdata/verify_vectors.py"}
	values := []string{"", "a", "user-1", "shop_42", "conv-2026-03-01-000017", "0", "7", "123", "4294967295",
		"18446744073709551616", "-1", "3.14", "é", "ü-user", "用户42", "😀", "Ωmega", "naïve café", " leading space",
		"tab\tinside", "a-very-long-unit-identifier-0123456789abcdefghijklmnopqrstuvwxyz-0123456789abcdefghijklmnopqrstuvwxyz"}
	seeds := []string{"", "inbox-signals-v1", "exp", "sälz"}
	for _, h := range HashVersions {
		for _, s := range seeds {
			for _, v := range values {
				b, _ := Bucket(h, s, v)
				f.Hash = append(f.Hash, hashVector{Hash: h, Seed: s, Value: v, Bucket: b})
			}
		}
	}
	add := func(name string, h HashVersion, salt string, ws []float64, cov float64, ns *Namespace, id string) {
		v := assignVector{Name: name, Hash: h, Salt: salt, Weights: ws, Coverage: cov, Namespace: ns, UnitID: id}
		d := v.decide(t)
		v.Bucket, v.Variation, v.Reason = d.Bucket, d.Arm, d.Reason
		f.Assign = append(f.Assign, v)
	}
	third := 1.0 / 3
	thirds := []float64{third, third, third}
	half := []float64{0.5, 0.5}
	const salt = "signalab-vectors"
	// Boundary buckets of equal thirds (1/3 is not on the 0.0001 grid).
	for _, b := range []int{0, 3333, 3334, 6666, 6667, 9999} {
		add("thirds, bucket "+strconv.Itoa(b), GrowthBookV2, salt, thirds, 1, nil, findID(t, GrowthBookV2, salt, "id-", b))
	}
	for _, b := range []int{3330, 3340, 6660, 6670} {
		add("thirds v1, bucket "+strconv.Itoa(b), GrowthBookV1, salt, thirds, 1, nil, findID(t, GrowthBookV1, salt, "id-", b))
	}
	// Coverage edges: 50/50 at coverage 0.5 covers [0, 2500) and [5000, 7500).
	for _, b := range []int{0, 2499, 2500, 4999, 5000, 7499, 7500, 9999} {
		add("coverage 0.5, bucket "+strconv.Itoa(b), GrowthBookV2, salt, half, 0.5, nil, findID(t, GrowthBookV2, salt, "u", b))
	}
	for _, b := range []int{0, 1, 9998, 9999} {
		id := findID(t, GrowthBookV2, salt, "u", b)
		add("coverage 0, bucket "+strconv.Itoa(b), GrowthBookV2, salt, half, 0, nil, id)
		add("coverage 1, bucket "+strconv.Itoa(b), GrowthBookV2, salt, half, 1, nil, id)
	}
	// Uneven weights and a zero-weight arm.
	for _, b := range []int{1999, 2000, 4999, 5000} {
		add("20/30/50, bucket "+strconv.Itoa(b), GrowthBookV2, salt, []float64{0.2, 0.3, 0.5}, 1, nil, findID(t, GrowthBookV2, salt, "w", b))
		add("0/100, bucket "+strconv.Itoa(b), GrowthBookV2, salt, []float64{0, 1}, 1, nil, findID(t, GrowthBookV2, salt, "w", b))
	}
	// sha256 at the 50/50 boundary.
	for _, b := range []int{4999, 5000} {
		add("sha256 50/50, bucket "+strconv.Itoa(b), SHA256, salt, half, 1, nil, findID(t, SHA256, salt, "s", b))
	}
	// Namespaces: the suite's ids and non-ASCII / numeric ids.
	for _, id := range []string{"1", "2", "3", "4", "用户42", "😀", "4294967295"} {
		add("namespace [0, 0.4)", GrowthBookV2, salt, half, 1, &Namespace{ID: "namespace2", Range: [2]float64{0, 0.4}}, id)
		add("namespace [0.4, 1)", GrowthBookV2, salt, half, 1, &Namespace{ID: "namespace2", Range: [2]float64{0.4, 1}}, id)
	}
	// Non-ASCII and numeric ids, each hash.
	for _, h := range HashVersions {
		for _, id := range []string{"é", "ü-user", "用户42", "😀", "0", "123", "18446744073709551616"} {
			add("ids, "+string(h), h, "exp", half, 1, nil, id)
		}
	}
	add("missing unit id", GrowthBookV2, salt, half, 1, nil, "")
	return f
}

func TestSignalabVectors(t *testing.T) {
	path := filepath.Join("testdata", vectorsFile)
	if *update {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", " ")
		if err := enc.Encode(generateVectors(t)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	var f vectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Hash) < 200 || len(f.Assign) < 60 {
		t.Fatalf("vector file too small: %d hash, %d assign", len(f.Hash), len(f.Assign))
	}
	for _, v := range f.Hash {
		if got, err := Bucket(v.Hash, v.Seed, v.Value); err != nil || got != v.Bucket {
			t.Errorf("Bucket(%s, %q, %q) = %d, %v; file says %d", v.Hash, v.Seed, v.Value, got, err, v.Bucket)
		}
	}
	for _, v := range f.Assign {
		d := v.decide(t)
		if d.Bucket != v.Bucket || d.Arm != v.Variation || d.Reason != v.Reason {
			t.Errorf("%s (unit %q): got bucket %d arm %d %s; file says bucket %d arm %d %s",
				v.Name, v.UnitID, d.Bucket, d.Arm, d.Reason, v.Bucket, v.Variation, v.Reason)
		}
		// The float GrowthBook path agrees with the integer one.
		if v.UnitID != "" && (v.Namespace == nil || InNamespace(v.UnitID, v.Namespace.ID, v.Namespace.Range[0], v.Namespace.Range[1])) {
			if arm := ChooseVariation(float64(v.Bucket)/Scale, GetBucketRanges(len(v.Weights), v.Coverage, v.Weights)); arm != v.Variation {
				t.Errorf("%s: float chooseVariation %d, file says %d", v.Name, arm, v.Variation)
			}
		}
	}
}

package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// clusteredCSV writes rows "variant,shop,y" for shops shops per arm with m
// rows each, y = exp(u_shop + e) with u, e independent N(0, 1), in drawing
// order or shuffled.
func clusteredCSV(t *testing.T, shops, m int, shuffle bool) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var lines []string
	for _, arm := range []string{"control", "treatment"} {
		for s := range shops {
			u := rng.NormFloat64()
			for range m {
				lines = append(lines, fmt.Sprintf("%s,%s-%d,%.6f", arm, arm, s, math.Exp(u+rng.NormFloat64())))
			}
		}
	}
	if shuffle {
		rand.New(rand.NewPCG(9, 9)).Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	}
	p := filepath.Join(t.TempDir(), "units.csv")
	if err := os.WriteFile(p, []byte("variant,shop,y\n"+strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func clusteredQuantileConfig() Config {
	return Config{Name: "cq", Salt: "s1", Unit: "shop_id", ClusterCol: "shop", VariantCol: "variant", Control: "control",
		Variants: []results.Variant{{Name: "control", Weight: 0.5}, {Name: "treatment", Weight: 0.5}},
		Metrics:  []Metric{{Name: "reply", Type: metrics.Quantile, Q: 0.5, Columns: []string{"y"}}}}
}

func analyzeCSV(t *testing.T, cfg Config, p string) *results.Results {
	t.Helper()
	tbl, err := OpenTable(p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(cfg, tbl, Context{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestClusteredQuantileUsesClusterBootstrap: with a cluster column, a
// quantile metric is compared by the cluster bootstrap (arm SE equal to
// stats.ClusterQuantile with the documented seed), wider than the naive
// per-row interval, without the old "treat conversations as independent"
// warning, and the output bytes do not depend on the row order.
func TestClusteredQuantileUsesClusterBootstrap(t *testing.T) {
	cfg := clusteredQuantileConfig()
	res := analyzeCSV(t, cfg, clusteredCSV(t, 30, 12, false))
	for _, w := range res.Warnings {
		if strings.Contains(w, "independent") {
			t.Errorf("warning %q", w)
		}
	}
	row := res.Rows[0]
	if row.Reason != "" || row.Control.Clusters != 30 || row.Control.Units != 360 {
		t.Fatalf("row %+v", row)
	}
	// Independent computation of the control arm from the CSV's values.
	var vals [][]float64
	data, _ := os.ReadFile(clusteredCSV(t, 30, 12, false))
	byShop := map[string][]float64{}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		f := strings.Split(l, ",")
		if f[0] == "control" {
			var y float64
			fmt.Sscan(f[2], &y)
			byShop[f[1]] = append(byShop[f[1]], y)
		}
	}
	for _, v := range byShop {
		vals = append(vals, v)
	}
	want := stats.ClusterQuantile(vals, 0.5, 0, quantileSeed("s1", "cq", "reply", row.Segment, row.SegmentValue, row.Population, "control"))
	if float64(row.Control.SE) != want.SE || float64(row.Control.Mean) != want.Estimate {
		t.Errorf("control SE %v mean %v, want %v %v", row.Control.SE, row.Control.Mean, want.SE, want.Estimate)
	}
	flat := slices.Concat(vals...)
	slices.Sort(flat)
	naive := stats.QuantileCI(flat, 0.5, 0.05)
	naiveSE := (naive.Upper - naive.Lower) / (2 * 1.959963984540054)
	if float64(row.Control.SE) < 1.5*naiveSE {
		t.Errorf("cluster SE %v not clearly above the naive %v (design effect ≈ 6)", row.Control.SE, naiveSE)
	}
	a, _ := results.Marshal(res)
	b, _ := results.Marshal(analyzeCSV(t, cfg, clusteredCSV(t, 30, 12, true)))
	if string(a) != string(b) {
		t.Errorf("shuffled rows changed results.json:\n%s\n%s", a, b)
	}
}

// TestClusteredQuantileFewClusters: with 3 shops per arm, the default
// (auto) inference is the randomization test of the clustered median test:
// a defined p-value that cannot go below 1/20 (there are C(6, 3) = 20 ways
// to split six shops) and an interval without finite bounds at α = 0.05;
// under inference delta the cluster bootstrap leaves the row undefined
// (below stats.MinBootstrapClusters), never NaN.
func TestClusteredQuantileFewClusters(t *testing.T) {
	res := analyzeCSV(t, clusteredQuantileConfig(), clusteredCSV(t, 3, 20, false))
	row := res.Rows[0]
	if row.Reason != "" || row.Inference != "randomization" || row.Significant {
		t.Fatalf("row %+v", row)
	}
	if p := float64(row.PValue); p < 1.0/20 || p > 1 {
		t.Errorf("p = %v, want at least 1/20", p)
	}
	if row.Absolute.CILower.Valid() || row.Absolute.CIUpper.Valid() {
		t.Errorf("interval [%v, %v]: no shift can be rejected with 20 possible splits", row.Absolute.CILower, row.Absolute.CIUpper)
	}
	if _, err := results.Marshal(res); err != nil {
		t.Fatal(err)
	}
	cfg := clusteredQuantileConfig()
	cfg.Inference = stats.InferenceDelta
	res = analyzeCSV(t, cfg, clusteredCSV(t, 3, 20, false))
	row = res.Rows[0]
	if row.Reason != "too few clusters for a cluster bootstrap" || row.Significant || row.Inference != "delta" {
		t.Fatalf("delta: reason %q inference %q", row.Reason, row.Inference)
	}
	if _, err := results.Marshal(res); err != nil {
		t.Fatal(err)
	}
	if float64(row.Control.Mean) <= 0 || row.Control.Clusters != 3 {
		t.Errorf("control arm %+v", row.Control)
	}
}

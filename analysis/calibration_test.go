package analysis

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/stats"
)

// memTable is an in-memory table of string cells (tests).
type memTable struct {
	cols map[string][]string
	n    int
}

type memCol []string

func (c memCol) Null(i int) bool     { return c[i] == "" }
func (c memCol) String(i int) string { return c[i] }
func (c memCol) Float(i int) (float64, bool) {
	f, err := strconv.ParseFloat(c[i], 64)
	return f, err == nil
}
func (c memCol) Micros(int) (int64, bool) { return 0, false }
func (c memCol) Bool(i int) (bool, bool)  { return c[i] == "1", c[i] == "0" || c[i] == "1" }

func (t memTable) Path() string { return "memory" }

func (t memTable) Scan(names []string, optional map[string]bool, fn func([]Col, int, int64) error) error {
	cols := make([]Col, len(names))
	for i, n := range names {
		if c, ok := t.cols[n]; ok {
			cols[i] = memCol(c)
		}
	}
	return fn(cols, t.n, 1)
}

// aaTable simulates one A/A experiment of the design: perArm shops
// per arm (complete randomization), lognormal sizes (σ = 1.2, median 40
// conversations), conversion 10% with a shop effect of sd 0.6 on the logit.
func aaTable(rng *rand.Rand, perArm int) memTable {
	t := memTable{cols: map[string][]string{"variant": nil, "shop": nil, "converted": nil}}
	arms := make([]int, 2*perArm)
	for i := range arms {
		arms[i] = i % 2
	}
	rng.Shuffle(len(arms), func(i, j int) { arms[i], arms[j] = arms[j], arms[i] })
	l0 := math.Log(0.1 / 0.9)
	for s, arm := range arms {
		n := int(math.Max(1, math.Round(math.Exp(math.Log(40)+1.2*rng.NormFloat64()))))
		p := 1 / (1 + math.Exp(-(l0 + 0.6*rng.NormFloat64())))
		name := []string{"control", "treatment"}[arm]
		shop := "shop-" + strconv.Itoa(s)
		for range n {
			y := "0"
			if rng.Float64() < p {
				y = "1"
			}
			t.cols["variant"] = append(t.cols["variant"], name)
			t.cols["shop"] = append(t.cols["shop"], shop)
			t.cols["converted"] = append(t.cols["converted"], y)
			t.n++
		}
	}
	return t
}

// TestClusterCalibrationThroughAnalyze: issue 12's acceptance check at the
// analysis layer. A/A experiments with 20 shops per arm of lognormal size
// are analysed as `analyze --cluster shop` does (generic table, default
// inference: the randomization test with permutation redraws, 199 per
// test); the rejection rate of conversion must be inside the exact binomial
// 95% band (1,000 experiments: 3.7–6.4%, measured 5.2%; 4,000 with
// SIGNALAB_LONG=1: 4.33–5.67%, measured 4.6%), and the same tables analysed
// without the cluster column (rows as independent) must reject far more
// often (48%).
func TestClusterCalibrationThroughAnalyze(t *testing.T) {
	runs := 1000
	if os.Getenv("SIGNALAB_LONG") == "1" {
		runs = 4000
	}
	rng := rand.New(rand.NewPCG(20, 12))
	cfg := Config{Name: "aa", VariantCol: "variant", Control: "control", ClusterCol: "shop", Unit: "shop",
		Metrics: []Metric{{Name: "conversion", Type: metrics.Proportion, Columns: []string{"converted"}}},
		Options: Options{RandomizationDraws: 199}}
	naive := cfg
	naive.ClusterCol, naive.Unit = "", ""
	rej, rejNaive := 0, 0
	for range runs {
		tbl := aaTable(rng, 20)
		res, err := Analyze(cfg, tbl, Context{})
		if err != nil {
			t.Fatal(err)
		}
		row := res.Rows[0]
		if row.Inference != string(stats.InferenceRandomization) {
			t.Fatalf("inference %q, want randomization", row.Inference)
		}
		if row.Significant {
			rej++
		}
		nres, err := Analyze(naive, tbl, Context{})
		if err != nil {
			t.Fatal(err)
		}
		if nres.Rows[0].Significant {
			rejNaive++
		}
	}
	lo, hi := stats.BinomialBand(runs, 0.05, 0.95)
	t.Logf("20 shops per arm, %d A/A experiments: analyze --cluster rejects %.2f%% (band %.2f–%.2f%%), without --cluster %.2f%%",
		runs, 100*float64(rej)/float64(runs), 100*float64(lo)/float64(runs), 100*float64(hi)/float64(runs), 100*float64(rejNaive)/float64(runs))
	if rej < lo || rej > hi {
		t.Errorf("analyze --cluster rejects %d of %d A/A experiments, outside %d–%d", rej, runs, lo, hi)
	}
	if rejNaive < 4*hi {
		t.Errorf("without --cluster only %d of %d rejections: the simulated shops lack the clustering the check needs", rejNaive, runs)
	}
}

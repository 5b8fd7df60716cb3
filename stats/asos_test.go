package stats

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
)

// sharedDir finds ../shared relative to the repository root (the folder
// holding go.mod), or skips the test when it is absent.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("go.mod not found above the test folder")
		}
		dir = parent
	}
	shared := filepath.Join(dir, "..", "shared")
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("shared data folder %s absent: %v", shared, err)
	}
	return shared
}

type asosKey struct{ experiment, variant, metric string }

type asosRow struct {
	t                  float64
	control, treatment Moments
}

// loadASOS reads the final checkpoint with both variances of every series.
func loadASOS(t *testing.T, path string) (map[asosKey]asosRow, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("ASOS dataset absent: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	head, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	num := func(rec []string, name string) float64 {
		v, err := strconv.ParseFloat(rec[col[name]], 64)
		if err != nil {
			t.Fatalf("%s: column %s: %v", path, name, err)
		}
		return v
	}
	series := map[asosKey]asosRow{}
	all := map[asosKey]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		k := asosKey{rec[col["experiment_id"]], rec[col["variant_id"]], rec[col["metric_id"]]}
		all[k] = true
		if rec[col["variance_c"]] == "" || rec[col["variance_t"]] == "" {
			continue
		}
		tm := num(rec, "time_since_start")
		if old, ok := series[k]; ok && old.t >= tm {
			continue
		}
		series[k] = asosRow{t: tm,
			control:   MomentsFromSummary(num(rec, "count_c"), num(rec, "mean_c"), num(rec, "variance_c")),
			treatment: MomentsFromSummary(num(rec, "count_t"), num(rec, "mean_t"), num(rec, "variance_t"))}
	}
	return series, len(all) - len(series)
}

// TestASOSFinalCheckpoints runs Welch tests at the final checkpoint of every
// ASOS series and counts discoveries after BH and Bonferroni at 0.05,
// compared with scipy 1.10 / statsmodels 0.13 (testdata/asos_reference.json,
// made by testdata/gen_asos_reference.py). Data: Liu et al., "Datasets for
// Online Controlled Experiments", NeurIPS 2021 (CC BY 4.0).
func TestASOSFinalCheckpoints(t *testing.T) {
	shared := sharedDir(t)
	series, excluded := loadASOS(t, filepath.Join(shared, "datasets", "asos_digital_experiments", "asos_digital_experiments_dataset.csv"))
	b, err := os.ReadFile("testdata/asos_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Series                int `json:"series"`
		Excluded              int `json:"excluded_series"`
		RawDiscoveries        int `json:"raw_discoveries"`
		BHDiscoveries         int `json:"bh_discoveries"`
		BonferroniDiscoveries int `json:"bonferroni_discoveries"`
		First                 []struct {
			Key       []string `json:"key"`
			P         float64  `json:"p"`
			Statistic float64  `json:"statistic"`
		} `json:"first"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(series) != ref.Series || excluded != ref.Excluded {
		t.Fatalf("%d series (%d excluded), reference %d (%d)", len(series), excluded, ref.Series, ref.Excluded)
	}
	keys := make([]asosKey, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.experiment != b.experiment {
			return a.experiment < b.experiment
		}
		if a.variant != b.variant {
			return a.variant < b.variant
		}
		return a.metric < b.metric
	})
	p := make([]float64, len(keys))
	raw := 0
	for i, k := range keys {
		s := series[k]
		r := CompareMeans(s.control, s.treatment, Mean, Options{})
		if r.Reason != "" {
			t.Errorf("%v: %s", k, r.Reason)
		}
		p[i] = r.PValue
		if p[i] < 0.05 {
			raw++
		}
		if i < len(ref.First) {
			w := ref.First[i]
			if w.Key[0] != k.experiment || w.Key[1] != k.variant || w.Key[2] != k.metric {
				t.Fatalf("series %d is %v, reference %v", i, k, w.Key)
			}
			rel(t, "ASOS p", i, p[i], w.P, 1e-9, 1e-300)
			rel(t, "ASOS t", i, r.Statistic, w.Statistic, 1e-9, 1e-6)
		}
	}
	count := func(q []float64) int {
		n := 0
		for _, v := range q {
			if v < 0.05 {
				n++
			}
		}
		return n
	}
	bh, bonf := count(BenjaminiHochberg(p)), count(Bonferroni(p))
	t.Logf("ASOS: %d series (%d without variance excluded): %d p < 0.05, %d BH discoveries, %d Bonferroni discoveries",
		len(keys), excluded, raw, bh, bonf)
	if raw != ref.RawDiscoveries || bh != ref.BHDiscoveries || bonf != ref.BonferroniDiscoveries {
		t.Errorf("discoveries raw/BH/Bonferroni = %d/%d/%d, scipy+statsmodels %d/%d/%d",
			raw, bh, bonf, ref.RawDiscoveries, ref.BHDiscoveries, ref.BonferroniDiscoveries)
	}
}

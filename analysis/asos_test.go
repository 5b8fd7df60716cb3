package analysis

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signalab/signalab/metrics"
)

// csvMemTable is a CSV table held in memory (tests): Scan serves it in one
// batch, as csvTable would.
type csvMemTable struct {
	path   string
	header []string
	rows   [][]string
	cols   map[string]csvCol // built on first use
}

func (m *csvMemTable) Path() string { return m.path }

func (m *csvMemTable) Scan(names []string, optional map[string]bool, fn func([]Col, int, int64) error) error {
	if m.cols == nil {
		m.cols = map[string]csvCol{}
		for j, h := range m.header {
			c := make(csvCol, len(m.rows))
			for r, row := range m.rows {
				c[r] = row[j]
			}
			m.cols[h] = c
		}
	}
	cols := make([]Col, len(names))
	for i, n := range names {
		c, ok := m.cols[n]
		if !ok {
			if !optional[n] {
				return os.ErrNotExist
			}
			continue
		}
		cols[i] = c
	}
	return fn(cols, len(m.rows), 1)
}

func readCSVTable(t *testing.T, path string) *csvMemTable {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return &csvMemTable{path: path, header: recs[0], rows: recs[1:]}
}

// TestASOSSummary analyses every experiment × variant × metric of the ASOS
// Digital Experiments Dataset (../shared/datasets, skipped when absent) at
// its last checkpoint through the summary path, as
//
//	signalab analyze --summary asos.csv --arm _c=control --arm _t=treatment --metric value=:mean \
//	    --where experiment_id=E --where variant_id=V --where metric_id=M --latest time_since_start
//
// and compares the difference, its 95% interval and the Welch p-value with
// SciPy's (testdata/asos/reference.csv, made by testdata/asos/reference.py;
// see testdata/asos/README.md). Tolerance: 1e-9 relative (1e-12 absolute
// near 0). A checkpoint without variances is an error naming the row.
func TestASOSSummary(t *testing.T) {
	// ../shared/datasets beside the repository (this test runs in analysis/).
	data := filepath.Join("..", "..", "shared", "datasets", "asos_digital_experiments", "asos_digital_experiments_dataset.csv")
	if _, err := os.Stat(data); err != nil {
		t.Skipf("%s absent: skipping the ASOS test", data)
	}
	table := readCSVTable(t, data)
	ref := readCSVTable(t, filepath.Join("..", "testdata", "asos", "reference.csv"))
	if len(ref.rows) < 300 {
		t.Fatalf("only %d reference rows", len(ref.rows))
	}
	lay := Summary{Arms: []SummaryArm{{"_c", "control"}, {"_t", "treatment"}}, Prefixes: []string{""}, Latest: "time_since_start"}
	cfg := Config{Metrics: []Metric{{Name: "value", Type: metrics.Mean, Columns: []string{"mean"}}}}
	near := func(got, want float64) bool {
		return math.Abs(got-want) <= 1e-9*math.Abs(want) || math.Abs(got-want) <= 1e-12
	}
	for _, r := range ref.rows {
		lay.Where = [][2]string{{"experiment_id", r[0]}, {"variant_id", r[1]}, {"metric_id", r[2]}}
		res, err := AnalyzeSummary(cfg, table, lay, Context{})
		if err != nil {
			t.Errorf("%s/%s/%s: %v", r[0], r[1], r[2], err)
			continue
		}
		row := res.Rows[0]
		f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		nc, nt := f(r[4]), f(r[5])
		if float64(row.Control.Units) != nc || float64(row.Treatment.Units) != nt || !near(float64(row.Absolute.Estimate), f(r[6])) ||
			!near(float64(row.Absolute.SE), f(r[7])) || !near(float64(row.Absolute.CILower), f(r[9])) ||
			!near(float64(row.Absolute.CIUpper), f(r[10])) || !near(float64(row.PValue), f(r[11])) {
			t.Errorf("%s/%s/%s: units %d/%d, diff %v se %v CI [%v, %v] p %v; SciPy: units %v/%v, diff %s se %s CI [%s, %s] p %s",
				r[0], r[1], r[2], row.Control.Units, row.Treatment.Units, row.Absolute.Estimate, row.Absolute.SE, row.Absolute.CILower,
				row.Absolute.CIUpper, row.PValue, nc, nt, r[6], r[7], r[9], r[10], r[11])
		}
	}
	// A checkpoint whose variances are missing is refused, naming the row
	// and column.
	for i, row := range table.rows {
		if row[8] == "" {
			lay.Where = [][2]string{{"experiment_id", row[0]}, {"variant_id", row[1]}, {"metric_id", row[2]}, {"time_since_start", row[3]}}
			lay.Latest = ""
			_, err := AnalyzeSummary(cfg, table, lay, Context{})
			if err == nil || !strings.Contains(err.Error(), "row "+strconv.Itoa(i+1)+": column variance_c") {
				t.Errorf("missing variance at row %d: err = %v", i+1, err)
			}
			break
		}
	}
}

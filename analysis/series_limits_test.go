package analysis

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
)

// seriesTable writes a CSV table of 40 rows over 2026-03-01..05 (two
// clusters per arm) plus extra rows at the given times.
func seriesTable(t *testing.T, extra ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("arm,shop,y,ts\n")
	for i := 0; i < 40; i++ {
		arm := []string{"A", "B"}[i%2]
		fmt.Fprintf(&b, "%s,%s%d,%d,2026-03-0%dT10:00:00Z\n", arm, arm, i%4/2, i%3, 1+i%5)
	}
	for i, ts := range extra {
		fmt.Fprintf(&b, "%s,%s0,1,%s\n", []string{"A", "B"}[i%2], []string{"A", "B"}[i%2], ts)
	}
	p := filepath.Join(t.TempDir(), "t.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func seriesOf(t *testing.T, path string, clustered bool, window *results.Window) *results.Results {
	t.Helper()
	cfg := Config{VariantCol: "arm", Control: "A", TimeCol: "ts", AnalysisUnit: "row",
		Metrics: []Metric{{Name: "y", Type: metrics.Mean, Columns: []string{"y"}}}, Window: window}
	if clustered {
		cfg.ClusterCol, cfg.Unit = "shop", "shop"
	}
	return analyzeCSV(t, cfg, path)
}

// TestSeriesBounded: the daily series never runs away on a far-future (or
// far-past) time: times outside the supported range or the experiment's
// window are left out with a warning, and a series spanning more than
// MaxSeriesDays is left out with a warning (before: one row in 2300 made
// the clustered series walk 100,000 days, and one in 9999 took 506 s and a
// 2 GB results.json; issue 16, class 2).
func TestSeriesBounded(t *testing.T) {
	for _, clustered := range []bool{false, true} {
		name := map[bool]string{false: "rows", true: "clusters"}[clustered]
		t.Run(name, func(t *testing.T) {
			plain := seriesOf(t, seriesTable(t), clustered, nil)
			if len(plain.TimeSeries) != 1 || len(plain.TimeSeries[0].Points) != 5 {
				t.Fatalf("plain table: %d series", len(plain.TimeSeries))
			}
			// Outside the supported range: left out, the rest kept.
			far := seriesOf(t, seriesTable(t, "9999-12-31T00:00:00Z", "1900-01-01T00:00:00Z"), clustered, nil)
			if len(far.TimeSeries) != 1 || len(far.TimeSeries[0].Points) != 5 || !hasWarning(far, "outside") {
				t.Errorf("far rows: %d series %v, warnings %q", len(far.TimeSeries), pointsOf(far), far.Warnings)
			}
			// Within the range but spanning more than MaxSeriesDays:
			// the series is left out.
			long := seriesOf(t, seriesTable(t, "2300-01-01T00:00:00Z"), clustered, nil)
			long2 := seriesOf(t, seriesTable(t, "2027-06-01T00:00:00Z"), clustered, nil)
			for _, r := range []*results.Results{long, long2} {
				if n := pointsOf(r); n > MaxSeriesDays || !hasWarning(r, "daily series") {
					t.Errorf("long span: %d points, warnings %q", n, r.Warnings)
				}
			}
			// With a window: rows outside it stay out of the series.
			w := &results.Window{Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)}
			win := seriesOf(t, seriesTable(t, "2300-01-01T00:00:00Z"), clustered, w)
			if n := pointsOf(win); n != 2 || !hasWarning(win, "window") {
				t.Errorf("window: %d points, warnings %q", n, win.Warnings)
			}
		})
	}
}

func pointsOf(r *results.Results) int {
	n := 0
	for _, s := range r.TimeSeries {
		n = max(n, len(s.Points))
	}
	return n
}

func hasWarning(r *results.Results, sub string) bool {
	for _, w := range r.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}

// TestTableInvalidUTF8: a variant or segment value that is not valid UTF-8
// is an error naming the row and column (it would otherwise reach
// results.json changed and results.parquet unreadable; issue 16, class 6).
func TestTableInvalidUTF8(t *testing.T) {
	for _, c := range []struct{ csv, want string }{
		{"arm,y,seg\nA,1,x\nB\xff,2,x\n", "row 2: column arm"},
		{"arm,y,seg\nA,1,x\nB,2,x\xfe\n", "row 2: column seg"},
	} {
		p := filepath.Join(t.TempDir(), "t.csv")
		if err := os.WriteFile(p, []byte(c.csv), 0o644); err != nil {
			t.Fatal(err)
		}
		tbl, err := OpenTable(p)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Analyze(Config{VariantCol: "arm", Control: "A", Segments: []string{"seg"}, AnalysisUnit: "row",
			Metrics: []Metric{{Name: "y", Type: metrics.Mean, Columns: []string{"y"}}}}, tbl, Context{})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "UTF-8") || !utf8.ValidString(err.Error()) {
			t.Errorf("%q: want an error naming %q and UTF-8, got %v", c.csv, c.want, err)
		}
	}
}

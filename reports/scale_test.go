package reports

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalab/signalab/results"
)

// largeReport builds a report far bigger than any single run needs: the
// fixture's results with 12 metrics, two treatment variants, three segment
// columns of 12 values each and a 120-day time series per variant and
// population (1,776 rows). A 10-million-event run has the same JSON
// summaries as a small one (reports never read Parquet), so its report size
// is set by these counts, not by the events.
func largeReport(t testing.TB) *Report {
	t.Helper()
	r, err := Load(filepath.Join("testdata", "run"), "")
	if err != nil {
		t.Fatal(err)
	}
	res := *r.Results
	base := res.Rows
	var metrics []results.Metric
	var rows []results.Row
	var dil []results.Dilution
	res.Experiment.Variants = append(res.Experiment.Variants, results.Variant{Name: "treatment_b", Weight: 0})
	res.Experiment.Segments = []string{"channel", "country", "device"}
	for m := 0; m < 3; m++ {
		for _, mt := range r.Results.Metrics {
			mt.Name = fmt.Sprintf("%s_%d", mt.Name, m)
			if m == 0 {
				mt.Name = mt.Name[:len(mt.Name)-2]
			}
			metrics = append(metrics, mt)
		}
	}
	for _, mt := range metrics {
		name := mt.Name
		var src []results.Row
		for _, row := range base {
			if row.Metric == trimSuffixNum(name) && row.Segment == results.SegmentAll {
				src = append(src, row)
			}
		}
		for _, variant := range []string{"treatment", "treatment_b"} {
			for _, seg := range []string{results.SegmentAll, "channel", "country", "device"} {
				n := 12
				if seg == results.SegmentAll {
					n = 1
				}
				for v := 0; v < n; v++ {
					for _, row := range src {
						row.Metric, row.Variant, row.Segment = name, variant, seg
						row.Treatment.Name = variant
						if seg != results.SegmentAll {
							row.SegmentValue = fmt.Sprintf("%s_value_%02d", seg, v)
						}
						rows = append(rows, row)
					}
				}
			}
			for _, d := range r.Results.Dilution {
				if d.Metric == trimSuffixNum(name) {
					d.Metric, d.Variant = name, variant
					dil = append(dil, d)
				}
			}
		}
	}
	res.Metrics, res.Rows, res.Dilution = metrics, rows, dil
	var series []results.Series
	for _, s := range r.Results.TimeSeries {
		for _, variant := range []string{"treatment", "treatment_b"} {
			s2 := s
			s2.Variant = variant
			s2.Points = nil
			start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for d := 0; d < 120; d++ {
				p := s.Points[d%len(s.Points)]
				p.Date = start.AddDate(0, 0, d).Format("2006-01-02")
				s2.Points = append(s2.Points, p)
			}
			series = append(series, s2)
		}
	}
	res.TimeSeries = series
	r.Results = &res
	return r
}

func trimSuffixNum(name string) string {
	for _, s := range []string{"_1", "_2"} {
		if len(name) > 2 && name[len(name)-2:] == s {
			return name[:len(name)-2]
		}
	}
	return name
}

// TestLargeReportSize checks the size half of the budget on a large
// report: under 2 MB. Rendering time is measured by BenchmarkRenderHTML (see
// docs/benchmarks/reports.md), not asserted in a test.
func TestLargeReportSize(t *testing.T) {
	r := largeReport(t)
	if n := len(r.Results.Rows); n < 1500 {
		t.Fatalf("large report has %d rows, want at least 1500", n)
	}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	t.Logf("large report: %d rows, %s", len(r.Results.Rows), Bytes(int64(buf.Len())))
	if buf.Len() > 2<<20 {
		t.Errorf("report is %s, want under 2 MiB", Bytes(int64(buf.Len())))
	}
}

func BenchmarkRenderHTML(b *testing.B) {
	small, err := Load(filepath.Join("testdata", "run"), "")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		r    *Report
	}{{"Small", small}, {"Large", largeReport(b)}} {
		b.Run(c.name, func(b *testing.B) {
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := RenderHTML(&buf, c.r); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size), "bytes/report")
		})
	}
}

func BenchmarkRenderMarkdown(b *testing.B) {
	r := largeReport(b)
	for b.Loop() {
		if err := RenderMarkdown(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

// TestTenMillionEventRunReport renders the fixture run folder, the JSON
// summaries of a 10-million-event "signalab run" (testdata/README.md), and
// checks the size half of the budget: under 2 MB. Its rendering time
// is BenchmarkRenderHTML/Small.
func TestTenMillionEventRunReport(t *testing.T) {
	r, err := Load(filepath.Join("testdata", "run"), "")
	if err != nil {
		t.Fatal(err)
	}
	if q := r.Results.Health.Replay; q == nil || q.EventsRead < 10_000_000 {
		t.Fatalf("fixture is not a 10-million-event run: %+v", q)
	}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s events: report %s", Count(r.Results.Health.Replay.EventsRead), Bytes(int64(buf.Len())))
	if buf.Len() > 2<<20 {
		t.Errorf("report of a 10M-event run: %s, want under 2 MiB", Bytes(int64(buf.Len())))
	}
}

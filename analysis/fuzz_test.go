package analysis

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/signalab/signalab/metrics"
)

// FuzzAnalyzeCSV: any CSV gives results or an error, never a panic.
// Run with: go test ./analysis -run XXX -fuzz FuzzAnalyzeCSV -fuzztime 30s
func FuzzAnalyzeCSV(f *testing.F) {
	f.Add([]byte("v,y,x,c\na,1,2,s1\nb,0,1,s2\na,1,0,s1\nb,1,3,s3\n"))
	f.Add([]byte("v,y,x,c\na,true,2,s\nb,False,,s\n"))
	f.Add([]byte("v,y\n"))
	f.Add([]byte("v,y,x,c\n\"a,1\n"))
	f.Add([]byte("v,y,x,c\na,1e308,1e308,s\nb,-1e308,0,s\na,NaN,1,s\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "u.csv")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []Config{
			{VariantCol: "v", Metrics: []Metric{{Name: "y", Type: metrics.Mean, Columns: []string{"y"}, Covariates: []string{"x"}}}, Options: Options{CUPED: true}, Segments: []string{"c"}},
			{VariantCol: "v", ClusterCol: "c", Metrics: []Metric{{Name: "r", Type: metrics.Ratio, Columns: []string{"y", "x"}}}},
			{VariantCol: "v", Metrics: []Metric{{Name: "q", Type: metrics.Quantile, Q: 0.5, Columns: []string{"y"}}}},
		} {
			tbl, err := OpenTable(p)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = Analyze(cfg, tbl, Context{})
		}
	})
}

package analysis

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/metrics"
)

// writeBenchUnits writes a units.parquet-like table of n rows sorted by shop:
// variant, unit_id (shop), triggered, started_at, channel, and the columns of
// three metrics (proportion with covariate, capped mean with covariate,
// ratio). Values are random with a fixed seed.
func writeBenchUnits(path string, n int) error {
	str, f64 := arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "variant", Type: str}, {Name: "unit_id", Type: str}, {Name: "triggered", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "started_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}},
		{Name: "channel", Type: str},
		{Name: "m_conversion", Type: f64}, {Name: "m_conversion_pre", Type: f64},
		{Name: "m_revenue", Type: f64}, {Name: "m_revenue_pre", Type: f64},
		{Name: "m_aov_num", Type: f64}, {Name: "m_aov_den", Type: f64},
	}, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	channels := []string{"online_store_chat", "messenger", "apple_business_chat"}
	const shops = 2000
	perShop := n / shops
	start := int64(1772323200000000) // 2026-03-01
	return atomicfile.Write(path, func(w io.Writer) error {
		fw, err := pqarrow.NewFileWriter(sc, struct{ io.Writer }{w}, metrics.WriterProperties(), pqarrow.DefaultWriterProps())
		if err != nil {
			return err
		}
		rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer rb.Release()
		row := 0
		for s := 0; s < shops; s++ {
			v := "control"
			if s%2 == 1 {
				v = "treatment"
			}
			shop := "shop-" + strconv.Itoa(s)
			k := perShop
			if s == shops-1 {
				k = n - row
			}
			for i := 0; i < k; i++ {
				trig := rng.Float64() < 0.6
				conv := 0.0
				if rng.Float64() < 0.15 {
					conv = 1
				}
				rev := conv * float64(1000+rng.IntN(20000))
				rb.Field(0).(*array.StringBuilder).Append(v)
				rb.Field(1).(*array.StringBuilder).Append(shop)
				rb.Field(2).(*array.BooleanBuilder).Append(trig)
				rb.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(start + rng.Int64N(28*86400e6)))
				rb.Field(4).(*array.StringBuilder).Append(channels[rng.IntN(3)])
				rb.Field(5).(*array.Float64Builder).Append(conv)
				rb.Field(6).(*array.Float64Builder).Append(float64(rng.IntN(2)))
				rb.Field(7).(*array.Float64Builder).Append(rev)
				rb.Field(8).(*array.Float64Builder).Append(float64(rng.IntN(5000)))
				rb.Field(9).(*array.Float64Builder).Append(rev)
				rb.Field(10).(*array.Float64Builder).Append(conv)
				row++
				if row%(1<<16) == 0 {
					rec := rb.NewRecordBatch()
					err := fw.WriteBuffered(rec)
					rec.Release()
					if err != nil {
						return err
					}
				}
			}
		}
		rec := rb.NewRecordBatch()
		defer rec.Release()
		if err := fw.WriteBuffered(rec); err != nil {
			return err
		}
		return fw.Close()
	})
}

func benchConfig() Config {
	return Config{Name: "bench", Unit: "shop_id", ClusterCol: "unit_id", VariantCol: "variant", Control: "control",
		Variants: nil, Segments: []string{"channel"}, TriggeredCol: "triggered", TimeCol: "started_at",
		Options: Options{CUPED: true}, Primary: "conversion",
		Metrics: []Metric{
			{Name: "conversion", Type: metrics.Proportion, Columns: []string{"m_conversion"}, Covariates: []string{"m_conversion_pre"}},
			{Name: "revenue", Type: metrics.Mean, Columns: []string{"m_revenue"}, Covariates: []string{"m_revenue_pre"}},
			{Name: "aov", Type: metrics.Ratio, Columns: []string{"m_aov_num", "m_aov_den"}},
		}}
}

// benchUnits returns a cached bench table of n rows in the OS temp folder
// (written once with metrics.WriterProperties; regenerate by deleting
// signalab-bench-units-v2-N.parquet).
func benchUnits(b *testing.B, n int) string {
	p := filepath.Join(os.TempDir(), fmt.Sprintf("signalab-bench-units-v2-%d.parquet", n))
	if _, err := os.Stat(p); err != nil {
		if err := writeBenchUnits(p, n); err != nil {
			b.Fatal(err)
		}
	}
	return p
}

func benchAnalyze(b *testing.B, n int) {
	p := benchUnits(b, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tbl, _ := OpenTable(p)
		if _, err := Analyze(benchConfig(), tbl, Context{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkAnalyzeSmall(b *testing.B)  { benchAnalyze(b, 100_000) }
func BenchmarkAnalyzeMedium(b *testing.B) { benchAnalyze(b, 1_000_000) }

// BenchmarkAnalyzeLarge is the 10-million-row target of docs/benchmarks/pipeline.md.
func BenchmarkAnalyzeLarge(b *testing.B) { benchAnalyze(b, 10_000_000) }

package stats

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// analysisInput is one full experiment's sufficient statistics: per segment,
// per metric, per variant (variant 0 is control). Metrics cycle through the
// kinds: proportion, mean with CUPED, ratio, ratio with CUPED.
type analysisInput struct {
	props  [][][]Moments
	cuped  [][][]CovariateMoments
	ratios [][][]RatioMoments
	rcuped [][][]RatioCovariateMoments
}

func makeAnalysisInput(metrics, variants, segments int) analysisInput {
	rng := rand.New(rand.NewPCG(11, 12))
	in := analysisInput{}
	for range segments {
		var p [][]Moments
		var c [][]CovariateMoments
		var r [][]RatioMoments
		var rc [][]RatioCovariateMoments
		for m := range metrics {
			switch m % 4 {
			case 0:
				row := make([]Moments, variants)
				for v := range row {
					row[v] = Moments{N: 1000, Sum: float64(100 + rng.IntN(20))}
					row[v].SumSq = row[v].Sum
				}
				p = append(p, row)
			case 1:
				row := make([]CovariateMoments, variants)
				for v := range row {
					for range 50 {
						x := rng.NormFloat64()
						row[v].Observe(x+rng.NormFloat64(), x)
					}
				}
				c = append(c, row)
			case 2:
				row := make([]RatioMoments, variants)
				for v := range row {
					for range 50 {
						d := float64(1 + rng.IntN(5))
						row[v].Observe(d*rng.Float64(), d)
					}
				}
				r = append(r, row)
			default:
				row := make([]RatioCovariateMoments, variants)
				for v := range row {
					for range 50 {
						d, dv := float64(1+rng.IntN(5)), float64(1+rng.IntN(5))
						u := dv * rng.Float64()
						row[v].Observe(u+d*rng.Float64()/2, d, u, dv)
					}
				}
				rc = append(rc, row)
			}
		}
		in.props, in.cuped, in.ratios, in.rcuped = append(in.props, p), append(in.cuped, c), append(in.ratios, r), append(in.rcuped, rc)
	}
	return in
}

// analyze compares every treatment with control for every metric and
// segment, then applies Holm within each segment's family of metrics ×
// treatments. It returns the number of comparisons.
func analyze(in analysisInput, opts Options) int {
	total := 0
	for s := range in.props {
		var family []*Result
		add := func(r Result) { family = append(family, &r) }
		for _, row := range in.props[s] {
			for v := 1; v < len(row); v++ {
				add(CompareMeans(row[0], row[v], Proportion, opts))
			}
		}
		for _, row := range in.cuped[s] {
			for v := 1; v < len(row); v++ {
				add(CompareMeansCUPED(row[0], row[v], Mean, opts))
			}
		}
		for _, row := range in.ratios[s] {
			for v := 1; v < len(row); v++ {
				add(CompareRatios(row[0], row[v], opts))
			}
		}
		for _, row := range in.rcuped[s] {
			for v := 1; v < len(row); v++ {
				add(CompareRatiosCUPED(row[0], row[v], opts))
			}
		}
		Adjust(family, HolmCorrection, opts.alpha())
		total += len(family)
	}
	return total
}

func TestAnalyzeFullExperiment(t *testing.T) {
	in := makeAnalysisInput(20, 4, 50)
	if n := analyze(in, Options{Sequential: Sequential{Enabled: true}, Bayesian: Bayesian{Enabled: true}}); n != 20*3*50 {
		t.Fatalf("%d comparisons, want %d", n, 20*3*50)
	}
}

// BenchmarkAnalysis: a full analysis (20 metrics × 4 variants × N segments)
// from sufficient statistics, with Welch t, CUPED where configured, the
// relative delta-method interval and Holm within each segment. Sizes:
// Small 1 segment, Medium 10, Large 50 (the target).
func BenchmarkAnalysis(b *testing.B) {
	for _, size := range []struct {
		name     string
		segments int
	}{{"Small", 1}, {"Medium", 10}, {"Large", 50}} {
		in := makeAnalysisInput(20, 4, size.segments)
		for _, mode := range []struct {
			name string
			opts Options
		}{{"fixed", Options{}}, {"sequential+bayes", Options{Sequential: Sequential{Enabled: true}, Bayesian: Bayesian{Enabled: true}}}} {
			b.Run(fmt.Sprintf("%s/%s", size.name, mode.name), func(b *testing.B) {
				for b.Loop() {
					analyze(in, mode.opts)
				}
				b.ReportMetric(float64(20*3*size.segments), "comparisons/op")
			})
		}
	}
}

// BenchmarkClusterQuantile: one arm of 1,000,000 observations in 2,000
// clusters (the demo's shop count), B = 1000 replicates.
func BenchmarkClusterQuantile(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	cs := make([][]float64, 2000)
	for i := range cs {
		u := rng.NormFloat64()
		cs[i] = make([]float64, 500)
		for j := range cs[i] {
			cs[i][j] = math.Exp(u + rng.NormFloat64())
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ClusterQuantile(cs, 0.5, 1000, uint64(i))
	}
}

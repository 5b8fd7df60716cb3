package stats

import (
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"testing"
)

// clusteredArm draws k clusters of m observations exp(u_c + e), u_c and e
// independent N(0, 1): intra-cluster correlation 0.5 on the log scale, a
// skewed outcome like reply minutes.
func clusteredArm(rng *rand.Rand, k, m int) [][]float64 {
	cs := make([][]float64, k)
	for i := range cs {
		u := rng.NormFloat64()
		cs[i] = make([]float64, m)
		for j := range cs[i] {
			cs[i][j] = math.Exp(u + rng.NormFloat64())
		}
	}
	return cs
}

func TestClusterQuantileReproducible(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	a, b := clusteredArm(rng, 30, 12), clusteredArm(rng, 30, 12)
	r1 := BootstrapClusterQuantiles(a, b, 0.5, 500, 42, Options{})
	r2 := BootstrapClusterQuantiles(a, b, 0.5, 500, 42, Options{})
	if !reflect.DeepEqual(r1, r2) {
		t.Fatalf("same seed, different results:\n%+v\n%+v", r1, r2)
	}
	// The input order of clusters and of values within them does not matter.
	ra, rb := slices.Clone(a), slices.Clone(b)
	slices.Reverse(ra)
	slices.Reverse(rb)
	for i, c := range ra {
		ra[i] = slices.Clone(c)
		slices.Reverse(ra[i])
	}
	if r3 := BootstrapClusterQuantiles(ra, rb, 0.5, 500, 42, Options{}); !reflect.DeepEqual(r1, r3) {
		t.Fatalf("reordered input, different results:\n%+v\n%+v", r1, r3)
	}
	r4 := BootstrapClusterQuantiles(a, b, 0.5, 500, 43, Options{})
	if r4.AbsSE == r1.AbsSE {
		t.Errorf("another seed gave the same SE %v", r1.AbsSE)
	}
	if r1.Reason != "" || !(r1.AbsSE > 0) || r1.PValue <= 0 || r1.PValue > 1 {
		t.Errorf("unexpected result %+v", r1)
	}
}

// TestClusterQuantileMatchesDirectResampling: the weighted walk from the
// pivot gives exactly the replicates of the direct method (concatenate the
// drawn clusters, sort, take x_(⌈N*q⌉)) with the same generator draws, for
// several q, including ties and unequal cluster sizes.
func TestClusterQuantileMatchesDirectResampling(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	var cs [][]float64
	for i := range 25 {
		c := make([]float64, 1+i%7)
		for j := range c {
			c[j] = math.Round(10 * rng.ExpFloat64()) // ties
		}
		cs = append(cs, c)
	}
	for _, q := range []float64{0.05, 0.5, 0.9} {
		got := ClusterQuantile(cs, q, 300, 99)
		// Direct method on the canonical order.
		can := make([][]float64, len(cs))
		for i, c := range cs {
			can[i] = slices.Clone(c)
			slices.Sort(can[i])
		}
		slices.SortFunc(can, slices.Compare[[]float64])
		r := rand.New(rand.NewPCG(99, 99^0x9e3779b97f4a7c15))
		reps := make([]float64, 300)
		for i := range reps {
			var x []float64
			for range can {
				x = append(x, can[r.IntN(len(can))]...)
			}
			slices.Sort(x)
			reps[i] = x[max(int(math.Ceil(float64(len(x))*q)), 1)-1]
		}
		if want := sd(reps); got.SE != want || got.Reason != "" {
			t.Errorf("q %v: SE %v, direct resampling %v (%q)", q, got.SE, want, got.Reason)
		}
	}
}

// TestClusterQuantileSingletonClusters: clusters of one observation make the
// cluster bootstrap the ordinary bootstrap, whose SE of the median of n
// standard normals approaches the asymptotic 1/(2·φ(0)·√n) = 1.2533/√n
// (e.g. Serfling 1980, §2.3.3). The bootstrap SE of a median is itself
// noisy (relative error of order n^(−1/4)), hence the 15% tolerance.
func TestClusterQuantileSingletonClusters(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 4000
	cs := make([][]float64, n)
	for i := range cs {
		cs[i] = []float64{rng.NormFloat64()}
	}
	st := ClusterQuantile(cs, 0.5, 1000, 1)
	want := math.Sqrt(math.Pi/2) / math.Sqrt(n)
	if st.Reason != "" || math.Abs(st.SE/want-1) > 0.15 {
		t.Errorf("SE %v, asymptotic %v (reason %q)", st.SE, want, st.Reason)
	}
	if st.N != n || st.K != n || st.B != 1000 {
		t.Errorf("counts %+v", st)
	}
}

// TestClusterQuantileCalibration: simulated A/A experiments with
// cluster-correlated data (40 clusters of 15 per arm, random cluster
// effects with intra-cluster correlation 0.5 on the log scale; design
// effect about 1 + 14·0.5 = 8), medians compared at α = 0.05. The naive
// per-observation quantile comparison (CompareQuantiles of QuantileCI)
// ignores the clusters and must reject far more often than 5% (coverage of
// the true difference 0 well under 95%). The cluster bootstrap (Welch, the
// default test) must not be anti-conservative: its rejection rate stays
// under the upper Monte Carlo bound of 5% (+2.45 SE), and above 2.5% (the
// bootstrap variance of a sample quantile runs a few percent high, so the
// rate sits a little under 5%; see ClusterQuantile). Default 1,000
// experiments with B = 200 (upper bound 6.7%; under a second);
// SIGNALAB_LONG=1 runs 10,000 with B = 1000 (upper bound 5.5%; about 20 s).
func TestClusterQuantileCalibration(t *testing.T) {
	runs, b := 1000, 200
	if os.Getenv("SIGNALAB_LONG") == "1" {
		runs, b = 10000, 1000
	}
	rng := rand.New(rand.NewPCG(11, 12))
	rejBoot, rejNaive := 0, 0
	for i := range runs {
		ca, cb := clusteredArm(rng, 40, 15), clusteredArm(rng, 40, 15)
		res := BootstrapClusterQuantiles(ca, cb, 0.5, b, uint64(i), Options{})
		if res.Reason != "" {
			t.Fatalf("run %d: %s", i, res.Reason)
		}
		if res.PValue < 0.05 {
			rejBoot++
		}
		fa, fb := slices.Concat(ca...), slices.Concat(cb...)
		slices.Sort(fa)
		slices.Sort(fb)
		if CompareQuantiles(QuantileCI(fa, 0.5, 0.05), QuantileCI(fb, 0.5, 0.05), Options{Test: Z}).PValue < 0.05 {
			rejNaive++
		}
	}
	_, hi := band(runs, 0.05)
	boot, naive := float64(rejBoot)/float64(runs), float64(rejNaive)/float64(runs)
	t.Logf("A/A rejection over %d runs: cluster bootstrap (B = %d) %.4f (coverage %.4f, allowed 0.025–%.4f); naive %.4f (coverage %.4f)",
		runs, b, boot, 1-boot, hi, naive, 1-naive)
	if boot < 0.025 || boot > hi {
		t.Errorf("cluster bootstrap A/A rejection %.4f outside 0.025–%.4f", boot, hi)
	}
	if naive < 0.2 {
		t.Errorf("naive rejection %.4f: expected severe under-coverage (> 20%%) on clustered data", naive)
	}
}

// TestClusterQuantileDegenerate: one cluster per arm, empty arms and
// non-finite values give a Reason, p = 1 and no NaN.
func TestClusterQuantileDegenerate(t *testing.T) {
	one := [][]float64{{1, 2, 3, 4, 5}}
	other := [][]float64{{2, 3, 4, 5, 6}}
	cases := map[string]struct {
		a, b   [][]float64
		reason string
	}{
		"one cluster per arm": {one, other, "too few clusters for a cluster bootstrap"},
		"empty control":       {nil, other, "control arm is empty"},
		"empty clusters":      {[][]float64{{}, {}}, [][]float64{{}}, "both arms are empty"},
		"NaN":                 {[][]float64{{math.NaN(), 1}}, other, "non-finite input (NaN or Inf in the observations)"},
	}
	for name, c := range cases {
		r := BootstrapClusterQuantiles(c.a, c.b, 0.5, 100, 1, Options{})
		if r.Reason != c.reason {
			t.Errorf("%s: reason %q, want %q", name, r.Reason, c.reason)
		}
		if r.PValue != 1 || r.Significant {
			t.Errorf("%s: p %v significant %v", name, r.PValue, r.Significant)
		}
		for _, v := range []float64{r.AbsEffect, r.AbsSE, r.AbsCI[0], r.AbsCI[1], r.RelEffect, r.RelSE, r.RelCI[0], r.RelCI[1], r.PValue, r.RelPValue, r.ControlMean, r.TreatmentMean} {
			if math.IsNaN(v) {
				t.Errorf("%s: NaN in %+v", name, r)
				break
			}
		}
	}
	st := ClusterQuantile(one, 0.5, 100, 1)
	if st.Estimate != 3 || st.SE != 0 || st.K != 1 || st.N != 5 {
		t.Errorf("one cluster: %+v", st)
	}
}

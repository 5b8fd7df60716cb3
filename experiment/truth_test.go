package experiment

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
	"github.com/signalab/signalab/synth"
)

// Truth-recovery tests: synthetic logs with a planted lift (package synth)
// run through replay → assign → metrics → analyze in-process. Sizes are for
// CI; SIGNALAB_LONG=1 runs more seeds.

func long() bool { return os.Getenv("SIGNALAB_LONG") == "1" }

// specFor returns the experiment.yaml of the experiment cfg plants.
func specFor(cfg synth.Config, cuped bool) string {
	end := cfg.WindowStart.AddDate(0, 0, cfg.Days)
	return fmt.Sprintf(`name: truth
unit: %s
salt: %s
hash: %s
variants: [{name: control, weight: %g}, {name: treatment, weight: %g}]
window: {start: %s, end: %s}
pre_period: %dh
metrics:
  - {name: conversion, type: proportion, outcome: converted, window: 72h}
  - {name: revenue, type: mean, outcome: revenue_cents, window: 72h}
primary: conversion
analysis: {alpha: 0.05, cuped: %v, correction: none, segments: [channel]}
`, cfg.Unit, cfg.Salt, cfg.Hash, 1-cfg.TreatmentWeight, cfg.TreatmentWeight,
		cfg.WindowStart.Format(time.RFC3339), end.Format(time.RFC3339), cfg.PreDays*24, cuped)
}

// simulate generates cfg's log and runs the pipeline on it.
func simulate(t *testing.T, cfg synth.Config, cuped bool) (*results.Results, *synth.Truth, string) {
	t.Helper()
	dir := t.TempDir()
	truth, err := synth.WriteDir(context.Background(), cfg, filepath.Join(dir, "gen"), nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(dir, "experiment.yaml")
	if err := os.WriteFile(spec, []byte(specFor(cfg, cuped)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run")
	res, err := Run(RunConfig{SpecPath: spec, Events: []string{filepath.Join(dir, "gen", synth.EventsFile)},
		Out: out, Order: replay.OrderArrival, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return res.Results, truth, out
}

func findRow(t *testing.T, r *results.Results, metric, pop string) results.Row {
	t.Helper()
	for _, row := range r.Rows {
		if row.Metric == metric && row.Segment == results.SegmentAll && row.Population == pop {
			return row
		}
	}
	t.Fatalf("no row %s/%s", metric, pop)
	return results.Row{}
}

func smallConfig(seed uint64, unit string, lift float64, buyers int) synth.Config {
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Unit, cfg.Lift = seed, unit, lift
	cfg.Buyers, cfg.Days, cfg.PreDays = buyers, 14, 7
	return cfg
}

// TestTruthRecoveryPlantedLift plants a 30 % lift on triggered conversations
// (conversation-level randomization, so the test has power) and checks, on
// each of three seeds, that the triggered-population CI covers the truth
// (truth.json's expected_triggered_over_baseline − 1: the planted lift after
// probability capping), that the all-conversations CI covers the diluted
// truth (expected_all_conversations), and that the implied diluted lift of
// the dilution section (triggered effect × triggered share) is within the
// all-population CI half-width of that truth. Each check may miss on one
// seed of three (a 95 % interval misses 5 % of the time: two misses in three
// has probability 0.7 %), so a change of the generator does not break the
// test by chance while a biased analysis does.
func TestTruthRecoveryPlantedLift(t *testing.T) {
	const seeds = 3
	var missTrig, missAll, missImplied int
	for s := 0; s < seeds; s++ {
		res, truth, _ := simulate(t, smallConfig(uint64(11+s), "conversation_id", 0.3, 20000), false)
		trig := findRow(t, res, "conversion", results.PopulationTriggered)
		all := findRow(t, res, "conversion", results.PopulationAll)
		want := truth.Lift.ExpectedTriggeredOverBaseline - 1
		wantAll := truth.Lift.ExpectedAllConversations
		var d *results.Dilution
		for i := range res.Dilution {
			if res.Dilution[i].Metric == "conversion" {
				d = &res.Dilution[i]
			}
		}
		if d == nil {
			t.Fatal("no dilution entry for conversion")
		}
		t.Logf("seed %d: triggered %.4f [%.4f, %.4f] truth %.4f; all %.4f [%.4f, %.4f] truth %.4f; implied %.4f; share %.3f (truth %.3f); n=%d+%d",
			11+s, trig.Relative.Estimate, trig.Relative.CILower, trig.Relative.CIUpper, want,
			all.Relative.Estimate, all.Relative.CILower, all.Relative.CIUpper, wantAll, d.ImpliedAllRelative,
			d.TriggeredShareTreatment, truth.Lift.TriggeredShare, all.Control.Units, all.Treatment.Units)
		if float64(trig.Relative.CILower) > want || float64(trig.Relative.CIUpper) < want {
			missTrig++
		}
		if float64(all.Relative.CILower) > wantAll || float64(all.Relative.CIUpper) < wantAll {
			missAll++
		}
		half := (float64(all.Relative.CIUpper) - float64(all.Relative.CILower)) / 2
		if math.Abs(float64(d.ImpliedAllRelative)-wantAll) > half {
			missImplied++
		}
		if share := float64(d.TriggeredShareTreatment); math.Abs(share-truth.Lift.TriggeredShare) > 0.05 {
			t.Errorf("seed %d: triggered share %.3f, generator says %.3f", 11+s, share, truth.Lift.TriggeredShare)
		}
	}
	if missTrig > 1 {
		t.Errorf("the triggered-population CI missed the planted lift on %d of %d seeds", missTrig, seeds)
	}
	if missAll > 1 {
		t.Errorf("the all-conversations CI missed the diluted truth on %d of %d seeds", missAll, seeds)
	}
	if missImplied > 1 {
		t.Errorf("the implied diluted lift missed the truth on %d of %d seeds", missImplied, seeds)
	}
}

// nullRun is one lift-0 experiment's conversion row over all conversations,
// analysed clustered and naive.
type nullRun struct {
	clustered, naive results.Row
}

// nullRuns runs lift-0 experiments randomized by shop and analyses each
// units table twice: clustered (the delta method on per-shop sums, what
// signalab does) and naive (conversations as if independent).
func nullRuns(t *testing.T, seeds int) []nullRun {
	t.Helper()
	var out []nullRun
	for s := 0; s < seeds; s++ {
		cfg := smallConfig(uint64(1000+s), "shop_id", 0, 4000)
		// Strong between-shop differences in conversion (log-sd 0.8 instead
		// of the default 0.3) and 40 shops: conversations of one shop are
		// clearly correlated, as in shops with very different catalogues.
		cfg.Shops = 40
		cfg.Model.ShopFactorSigma = 0.8
		res, _, dir := simulate(t, cfg, false)
		spec, err := Load(filepath.Join(dir, "experiment.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		naiveCfg, err := spec.AnalysisConfig()
		if err != nil {
			t.Fatal(err)
		}
		naiveCfg.ClusterCol = ""
		tbl, _ := analysis.OpenTable(filepath.Join(dir, metrics.UnitsFile))
		naive, err := analysis.Analyze(naiveCfg, tbl, analysis.Context{})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, nullRun{clustered: findRow(t, res, "conversion", results.PopulationAll),
			naive: findRow(t, naive, "conversion", results.PopulationAll)})
	}
	return out
}

// TestTruthRecoveryNullAndClustering: with lift 0, the clustered analysis
// rejects at most about α of the time over repeated seeds, and the
// clustered standard errors are wider than the naive per-conversation ones,
// which reject more often than α (shops differ in conversion, so
// conversations of one shop are correlated; synth's shop_factor_sigma).
func TestTruthRecoveryNullAndClustering(t *testing.T) {
	seeds := 12
	if long() {
		seeds = 100
	}
	runs := nullRuns(t, seeds)
	var rejC, rejN, wider int
	ratio := 0.0
	for _, r := range runs {
		ratio += float64(r.clustered.Absolute.SE/r.naive.Absolute.SE) / float64(len(runs))
		if float64(r.clustered.PValue) < 0.05 {
			rejC++
		}
		if float64(r.naive.PValue) < 0.05 {
			rejN++
		}
		if r.clustered.Absolute.SE > r.naive.Absolute.SE {
			wider++
		}
	}
	// The spread of the estimate over seeds is what a correct SE estimates:
	// compare it with the mean SE of each analysis.
	var m1, m2, seC, seN float64
	for _, r := range runs {
		e := float64(r.clustered.Absolute.Estimate)
		m1 += e / float64(len(runs))
		m2 += e * e / float64(len(runs))
		seC += float64(r.clustered.Absolute.SE) / float64(len(runs))
		seN += float64(r.naive.Absolute.SE) / float64(len(runs))
	}
	sd := math.Sqrt((m2 - m1*m1) * float64(len(runs)) / float64(len(runs)-1))
	t.Logf("sd of the estimate over seeds %.4f; mean SE clustered %.4f, naive %.4f", sd, seC, seN)
	if sd/seN < 1.15 {
		t.Errorf("naive SE %.4f is not below the empirical sd %.4f: the test data lacks the clustering it should show", seN, sd)
	}
	if r := sd / seC; r < 0.6 || r > 1.5 {
		t.Errorf("clustered SE %.4f does not match the empirical sd %.4f (ratio %.2f, want 0.6–1.5 with %d seeds)", seC, sd, r, seeds)
	}
	t.Logf("%d seeds: clustered rejects %d, naive rejects %d, clustered SE wider in %d, mean SE ratio %.2f", seeds, rejC, rejN, wider, ratio)
	// The false-positive rate itself is checked by TestTruthNullCalibration
	// (hundreds of redrawn experiments); a dozen seeds only shows the
	// clustering.
	if wider < seeds*3/4 || ratio < 1.2 {
		t.Errorf("clustered SE wider than naive in only %d of %d seeds, mean ratio %.2f (want ≥ 3/4 of seeds and ≥ 1.2)", wider, seeds, ratio)
	}
	if rejN < rejC {
		t.Errorf("naive analysis rejected less often (%d) than the clustered one (%d)", rejN, rejC)
	}
}

// TestTruthNullCalibration: on a generated log without effect, 40 shops of
// Pareto-distributed traffic (one holds most of the conversations) and
// strong shop differences (shop_factor_sigma 0.8), the experiment is
// re-randomized K times through the A/A study (K = 200; 1,000 with
// SIGNALAB_LONG=1). The default inference must keep every metric's
// rejection rate inside its exact binomial band (Bonferroni over the 8
// checks, so a sound analysis fails this test by chance at most 5% of the
// time a seed changes); the old delta method must fall above the band for
// conversion (the 59%), which shows the check can fail. CR2 is
// logged: with one dominant shop its rate depends on the shops (here 0%
// for conversion, 10% for revenue), which is why auto picks the
// randomization test for such designs.
func TestTruthNullCalibration(t *testing.T) {
	redraws := 200
	if long() {
		redraws = 1000
	}
	// Seed 2 gives the case: one shop dominates, and the delta
	// method rejects more than half of the redrawn A/A experiments.
	cfg := smallConfig(2, "shop_id", 0, 6000)
	cfg.Shops = 40
	cfg.Model.ShopFactorSigma = 0.8
	_, _, run := simulate(t, cfg, false)
	if _, err := os.Stat(filepath.Join(run, "experiment.yaml")); err != nil {
		t.Fatal(err)
	}
	check := func(inf stats.Inference) *results.AA {
		t.Helper()
		res, err := AA(AAConfig{Dir: run, Redraws: redraws, Inference: inf, Draws: 999})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range res.Checks {
			t.Logf("%-13s %s/%s: %s %d/%d = %.1f%% (band %.1f–%.1f%%, KS p %.3g)", inf, c.Metric, c.Population,
				methods(c.Inference), c.Rejections, c.Tested, 100*c.Rate, 100*c.Band[0], 100*c.Band[1], c.KSPValue)
		}
		return res
	}
	auto := check(stats.InferenceAuto)
	if !auto.Passed {
		for _, c := range auto.Checks {
			if !c.Passed {
				t.Errorf("default inference: %s/%s rejects %.1f%% of %d redrawn A/A experiments, outside %.1f–%.1f%%",
					c.Metric, c.Population, 100*c.Rate, c.Tested, 100*c.Band[0], 100*c.Band[1])
			}
		}
	}
	delta := check(stats.InferenceDelta)
	for _, c := range delta.Checks {
		if c.Metric == "conversion" && c.Population == results.PopulationAll && c.Rate <= c.Band[1] {
			t.Errorf("delta method: conversion rejects %.1f%%, within the band: the data lack the clustering the test needs", 100*c.Rate)
		}
	}
	check(stats.InferenceCR2)
}

func methods(m map[string]int) string {
	var out []string
	for k, v := range m {
		out = append(out, fmt.Sprintf("%s×%d", k, v))
	}
	slices.Sort(out)
	return strings.Join(out, "+")
}

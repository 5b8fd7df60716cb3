package experiment

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/synth"
)

// TestSegmentCalibration: with no true effect anywhere (lift 0), over many
// seeded runs of the generator (shop randomization, as in the demo), the
// share of runs in which any segment row is significant is about α: the
// segment rows are corrected within their column (Benjamini–Hochberg, which
// under the global null controls the chance of any rejection at α). Before
// the correction 90 of 100 such runs showed a significant segment; the
// uncorrected count is logged for comparison. The heterogeneity test of the
// primary metric (does the effect differ by channel?) must reject about α
// of the time too, in the runs where at least two channels have 10 shops
// per arm (MinHeteroClusters; at least half of them).
//
// The rows are tested by CR2 (analysis.inference: cr2), whose per-row
// calibration package stats checks: the default (auto) tests these 30-shop
// arms by randomization, 2,000 redraws per row, about seven times slower.
// Default: 200 runs (about 20 s); SIGNALAB_LONG=1: 1,000 runs, then 200
// more with the default inference. Band: the binomial Monte Carlo band
// around α, ±2.45 SE (1.2%–8.8% at 200 runs, 3.3%–6.7% at 1,000), except
// that a share below it only fails when it is under α/4 (BH is conservative
// when the tests are positively correlated, as the populations and metrics
// here are). SIGNALAB_CALIBRATION_RUNS overrides the number of runs.
func TestSegmentCalibration(t *testing.T) {
	runs := 200
	if long() {
		runs = 1000
	}
	if s := os.Getenv("SIGNALAB_CALIBRATION_RUNS"); s != "" {
		runs, _ = strconv.Atoi(s)
	}
	segmentCalibration(t, runs, "cr2")
	if long() {
		segmentCalibration(t, 200, "auto")
	}
}

func segmentCalibration(t *testing.T, runs int, inference string) {
	const alpha = 0.05
	var anySig, anyRaw, hetero, heteroN, rows, rawRows int
	for s := 0; s < runs; s++ {
		cfg := smallConfig(uint64(5000+s), "shop_id", 0, 3000)
		cfg.Shops = 60
		res := simulateSpec(t, cfg, strings.Replace(specFor(cfg, false), "correction: none,", "correction: none, inference: "+inference+",", 1))
		sig, raw := false, false
		for _, r := range res.Rows {
			if r.Segment == results.SegmentAll || r.Reason != "" {
				continue
			}
			rows++
			if r.Significant {
				sig = true
			}
			if float64(r.PValue) < alpha {
				raw = true
				rawRows++
			}
		}
		if sig {
			anySig++
		}
		if raw {
			anyRaw++
		}
		for _, h := range res.Heterogeneity {
			if h.Metric == "conversion" && h.Population == results.PopulationAll && h.PValue.Valid() {
				heteroN++
				if float64(h.PValue) < alpha {
					hetero++
				}
			}
		}
	}
	band := 2.45 * math.Sqrt(alpha*(1-alpha)/float64(runs))
	share := float64(anySig) / float64(runs)
	hshare := float64(hetero) / float64(max(heteroN, 1))
	t.Logf("inference %s: %d runs, %d segment rows: any significant segment (BH within channel) in %d runs (%.1f%%); "+
		"any raw p < α in %d runs (%.1f%%), %.1f%% of rows; heterogeneity test rejects in %d of %d (%.1f%%); band %.1f%%–%.1f%%",
		inference, runs, rows, anySig, 100*share, anyRaw, 100*float64(anyRaw)/float64(runs), 100*float64(rawRows)/float64(rows),
		hetero, heteroN, 100*hshare, 100*(alpha-band), 100*(alpha+band))
	if share > alpha+band || share < alpha/4 {
		t.Errorf("any significant segment in %.1f%% of null runs, want about %.0f%% (%.1f%%–%.1f%%)", 100*share, 100*alpha, 100*alpha/4, 100*(alpha+band))
	}
	if hshare > alpha+band || hshare < alpha/4 || heteroN < runs/2 {
		t.Errorf("heterogeneity test rejects in %.1f%% of %d null runs, want about %.0f%%", 100*hshare, heteroN, 100*alpha)
	}
	if float64(anyRaw)/float64(runs) < 3*alpha {
		t.Errorf("uncorrected: any raw p < α in only %d of %d runs: the check would not show what the correction does", anyRaw, runs)
	}
}

// TestSegmentOnAnyUnitColumn: a segment may name any unit-table column, not
// only the conversation columns assign tests SRM within: buyer_messages (a
// count the metrics stage computes) breaks the results down by its values,
// with its own correction family, while assign.json tests SRM per channel
// only.
func TestSegmentOnAnyUnitColumn(t *testing.T) {
	cfg := smallConfig(77, "conversation_id", 0.2, 3000)
	dir := t.TempDir()
	if _, err := synth.WriteDir(context.Background(), cfg, filepath.Join(dir, "gen"), nil); err != nil {
		t.Fatal(err)
	}
	spec := strings.Replace(specFor(cfg, false), "segments: [channel]", "segments: [channel, buyer_messages]", 1)
	p := filepath.Join(dir, "experiment.yaml")
	os.WriteFile(p, []byte(spec), 0o644)
	res, err := Run(RunConfig{SpecPath: p, Events: []string{filepath.Join(dir, "gen", synth.EventsFile)}, Out: filepath.Join(dir, "run"),
		Order: replay.OrderArrival, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]bool{}
	for _, r := range res.Results.Rows {
		if r.Segment == "buyer_messages" {
			values[r.SegmentValue] = true
			if r.Family != "segment:buyer_messages" {
				t.Errorf("row %s=%s in family %q", r.Segment, r.SegmentValue, r.Family)
			}
		}
	}
	if len(values) < 3 {
		t.Errorf("buyer_messages segments: %v", values)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "run", "assign.json"))
	var a assign.Summary
	json.Unmarshal(b, &a)
	for _, s := range a.Segments {
		if s.Column != "channel" {
			t.Errorf("assign.json tests SRM within %s", s.Column)
		}
	}
	if len(a.Segments) == 0 {
		t.Error("assign.json lost the SRM per channel")
	}
}

// simulateSpec generates cfg's log and runs the pipeline with spec.
func simulateSpec(t *testing.T, cfg synth.Config, spec string) *results.Results {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.WriteDir(context.Background(), cfg, filepath.Join(dir, "gen"), nil); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "experiment.yaml")
	if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Run(RunConfig{SpecPath: p, Events: []string{filepath.Join(dir, "gen", synth.EventsFile)},
		Out: filepath.Join(dir, "run"), Order: replay.OrderArrival, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return res.Results
}

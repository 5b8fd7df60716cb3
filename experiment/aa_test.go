package experiment

import (
	"bytes"
	"os"
	"testing"

	"github.com/signalab/signalab/results"
)

// TestAADeterministic: the A/A study of a small generated run gives the
// same aa.json bytes whatever the number of workers (seconds aside), tests
// every metric × population of the spec, and each check's rate is its
// rejections over its tested redraws.
func TestAADeterministic(t *testing.T) {
	cfg := smallConfig(5, "shop_id", 0, 3000)
	cfg.Shops = 30
	_, _, run := simulate(t, cfg, false)
	var out [][]byte
	for _, w := range []int{1, 2} {
		res, err := AA(AAConfig{Dir: run, Redraws: 40, Draws: 199, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Checks) != 4 || res.Redraws != 40 || res.Units != 30 {
			t.Fatalf("checks %d, redraws %d, units %d", len(res.Checks), res.Redraws, res.Units)
		}
		for _, c := range res.Checks {
			if c.Tested == 0 || c.Rate != float64(c.Rejections)/float64(c.Tested) || len(c.PValues) != 40 {
				t.Errorf("check %+v", c)
			}
		}
		res.Seconds = 0
		b, err := MarshalAA(res)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	if !bytes.Equal(out[0], out[1]) {
		t.Error("aa.json differs between 1 and 2 workers")
	}
	if err := WriteAA(t.TempDir(), &results.AA{}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkAA times signalab aa's 200 redraws on a run folder named by
// SIGNALAB_AA_RUN (skipped without it). The 10-million-event benchmark of
// docs/benchmarks/stats.md:
//
//	go run ./cmd/signalab generate --events 10000000 --seed 7 --out /tmp/gen10m
//	go run ./cmd/signalab run reports/testdata/run/experiment.yaml --events /tmp/gen10m/events.parquet --out /tmp/run10m
//	SIGNALAB_AA_RUN=/tmp/run10m go test ./experiment -run '^$' -bench BenchmarkAA -benchtime 1x
func BenchmarkAA(b *testing.B) {
	dir := os.Getenv("SIGNALAB_AA_RUN")
	if dir == "" {
		b.Skip("set SIGNALAB_AA_RUN to a run folder (see the comment)")
	}
	for b.Loop() {
		res, err := AA(AAConfig{Dir: dir, Redraws: DefaultAARedraws})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Seconds, "s/study")
	}
}

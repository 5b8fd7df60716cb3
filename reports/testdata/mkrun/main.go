// Command mkrun builds the report fixture run folder from real pipeline
// output: it generates a synthetic event log (synth), replays it (replay),
// assigns cohorts (assign), builds the unit table (metrics) and analyses it
// (analysis), then copies the JSON summaries a report reads into -out.
//
//	go run ./reports/testdata/mkrun -out reports/testdata/run
//
// It lives under testdata so "go build ./..." and "go vet ./..." skip it.
// Once "signalab run" exists, the same folder comes from
// "signalab run reports/testdata/run/experiment.yaml --events ... --out ...".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/synth"
)

func main() {
	out := flag.String("out", filepath.Join("reports", "testdata", "run"), "run folder to write the JSON summaries to (must hold experiment.yaml)")
	work := flag.String("work", "", "folder for the Parquet intermediates (default: a temporary folder, removed)")
	buyers := flag.Int("buyers", synth.DefaultBuyers, "buyers to generate")
	shops := flag.Int("shops", synth.DefaultShops, "shops to generate")
	seed := flag.Uint64("seed", synth.DefaultSeed, "generator seed")
	flag.Parse()
	if err := run(*out, *work, *buyers, *shops, *seed); err != nil {
		fmt.Fprintln(os.Stderr, "mkrun:", err)
		os.Exit(2)
	}
}

func run(out, work string, buyers, shops int, seed uint64) error {
	if work == "" {
		tmp, err := os.MkdirTemp("", "mkrun-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		work = tmp
	}
	spec, err := assign.LoadSpec(filepath.Join(out, "experiment.yaml"))
	if err != nil {
		return err
	}
	cfg := synth.DefaultConfig()
	cfg.Buyers, cfg.Shops, cfg.Seed = buyers, shops, seed
	cfg.Params = spec.Signals.Params()
	events := filepath.Join(work, "events")
	if _, err := synth.WriteDir(context.Background(), cfg, events, nil); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	rdir := filepath.Join(work, "replay")
	if _, err := replay.Run(replay.Config{Events: []string{events}, Out: rdir, Params: spec.Signals.Params(),
		Order: replay.OrderArrival}); err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	adir := filepath.Join(work, "assign")
	res, err := assign.RunFile(spec, filepath.Join(rdir, "conversations.parquet"), nil)
	if err != nil {
		return fmt.Errorf("assign: %w", err)
	}
	if err := assign.WriteOutputs(adir, res); err != nil {
		return err
	}
	mdir := filepath.Join(work, "metrics")
	if _, err := metrics.Build(metrics.Options{Spec: spec, In: []string{rdir, adir}, Out: mdir}); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	acfg, err := analysis.FromSpec(spec)
	if err != nil {
		return err
	}
	table, err := analysis.OpenTable(filepath.Join(mdir, metrics.UnitsFile))
	if err != nil {
		return err
	}
	actx, err := analysis.LoadContext(mdir, adir, rdir)
	if err != nil {
		return err
	}
	results, err := analysis.Analyze(acfg, table, actx)
	if err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	if err := analysis.Write(work, results); err != nil {
		return err
	}
	for _, f := range []struct{ dir, name string }{{work, "results.json"}, {rdir, "replay.json"}, {adir, "assign.json"}} {
		b, err := os.ReadFile(filepath.Join(f.dir, f.name))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, f.name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

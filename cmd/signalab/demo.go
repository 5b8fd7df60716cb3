package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/synth"
)

func init() { register(newDemoCmd) }

type demoOptions struct {
	Out    string
	Events int64
	Seed   uint64
	Lift   float64
	JSON   bool
	Gates  analysis.GateSet
}

// DefaultDemoEvents is the size of the demo log: small enough to run in
// seconds, big enough that the demo's planted lift is detected even though
// shops (few, with heavy-tailed sizes) are the randomization unit.
const DefaultDemoEvents = 1_500_000

// DefaultDemoLift is the demo's planted relative lift on triggered
// conversations. It is larger than the generator's default (+10 %), which a
// shop-randomized test of this size cannot reliably detect: at 1.5M events
// the 95 % interval of the triggered lift is about ±18 percentage points, so
// the demo plants +25 % to show a report with a detected effect. Pass
// --lift 0.1 to see what an underpowered experiment looks like.
const DefaultDemoLift = 0.25

// DemoCurrency is the currency of every shop of the demo log: one currency,
// so that revenue and AOV are amounts a reader can compare (the generator's
// default mixes five; the analysis would add them unconverted, with a
// warning).
const DemoCurrency = "USD"

func newDemoCmd() *cobra.Command {
	opts := demoOptions{Gates: analysis.DefaultGates}
	c := &cobra.Command{
		Use:   "demo [--out DIR] [--events N] [--seed S]",
		Short: "Generate a realistic log with a planted effect, analyse it, and write report.html",
		Long: `demo generates a synthetic event log with a known, planted lift (signalab
generate), writes the matching experiment.yaml, and runs every stage on it
(signalab run). It prints where the report is and compares the estimated lift
with the planted one. Everything lands in --out.`,
		Example: `  signalab demo
  signalab demo --out /tmp/demo --events 2000000 --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return demoRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Out, "out", "signalab-demo", "output folder")
	f.Int64Var(&opts.Events, "events", DefaultDemoEvents, "approximate number of events to generate")
	f.Uint64Var(&opts.Seed, "seed", synth.DefaultSeed, "random seed of the generator")
	f.Float64Var(&opts.Lift, "lift", DefaultDemoLift, "planted relative lift of triggered conversations' conversion")
	f.BoolVar(&opts.JSON, "json", false, "print results.json to standard output")
	f.Var(gateFlag{&opts.Gates}, "gate", gateUsage)
	return c
}

// demoSpec is the demo's experiment.yaml: the content of
// testdata/experiment.yaml (which go:embed cannot reach from this folder),
// the experiment that `signalab generate` plants with its default flags.
// TestDemoSpecMatchesTestdata keeps the two identical and checks them against
// the generator's defaults.
const demoSpec = `# The demo experiment: the spec of docs/design.md ("Experiments: experiment.yaml"),
# matched to the synthetic log of testdata/events/ and to the defaults of
# ` + "`" + `signalab generate` + "`" + ` (unit, salt, hash, 50/50 split, a 28-day window starting
# 2026-03-01 after a 28-day pre-period). See testdata/README.md.
#
# No channel filter: the generator plants its effect on every channel, and
# truth.json counts conversations over all of them.
name: inbox-buyer-signals
unit: shop_id              # randomization unit: conversation_id | buyer_id | shop_id
salt: inbox-signals-v1     # re-randomize by changing it
hash: growthbook-v2        # growthbook-v1 | growthbook-v2 | sha256
variants: [{name: control, weight: 0.5}, {name: treatment, weight: 0.5}]
coverage: 1.0
namespace: {id: inbox, range: [0.0, 1.0]}
window: {start: 2026-03-01T00:00:00Z, end: 2026-03-29T00:00:00Z}
pre_period: 672h
signals: {conversation_inactivity: 24h}
metrics:
  - {name: conversion, type: proportion, outcome: orders, window: 72h}
  - {name: revenue, type: mean, outcome: revenue_cents, window: 72h, cap: {percentile: 0.99}}
  - {name: aov, type: ratio, numerator: revenue_cents, denominator: orders, window: 72h}
  - {name: reply_minutes, type: quantile, q: 0.5, outcome: first_merchant_reply_minutes, direction: decrease}
primary: conversion
guardrails: [{metric: aov, margin: -0.02}]   # AOV may drop by at most 2 %
analysis: {alpha: 0.05, test: welch, relative_ci: fieller, cuped: true, correction: holm,
           srm_alpha: 0.001, sequential: false, bayesian: false, segments: [channel]}
`

func demoRun(opts demoOptions, stdout, stderr io.Writer) error {
	const hint = "signalab demo --out signalab-demo"
	if opts.Out == "" {
		return exitcode.Usagef(hint, "demo: --out must not be empty")
	}
	if opts.Events < 1000 {
		return exitcode.Usagef(hint, "demo: --events %d is too small (want at least 1000)", opts.Events)
	}
	ctx := context.Background()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Lift = opts.Seed, opts.Lift
	cfg.Currency = DemoCurrency
	// The generated log, the spec and the run's outputs are one output
	// set: replaced together, under one lock, or not at all.
	tx, err := beginOutputs(opts.Out, "signalab demo", demoOutputs)
	if err != nil {
		return err
	}
	defer tx.Abort()
	buyers, err := synth.BuyersForEvents(ctx, cfg, opts.Events)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfg.Buyers = buyers
	genDir := filepath.Join(tx.Dir, demoGenerated)
	t0 := time.Now()
	truth, err := synth.WriteDir(ctx, cfg, genDir, nil)
	if err != nil {
		return fmt.Errorf("demo: generate: %w", err)
	}
	fmt.Fprintf(stderr, "generate %6.2fs  %d events, %d buyers, planted lift %+.1f%% on triggered conversations\n",
		time.Since(t0).Seconds(), truth.Counts.Rows, cfg.Buyers, 100*cfg.Lift)
	specPath := filepath.Join(tx.Dir, "experiment.yaml")
	if err := atomicfile.WriteBytes(specPath, []byte(demoSpec)); err != nil {
		return err
	}
	res, err := experiment.Run(experiment.RunConfig{SpecPath: specPath,
		Events: []string{filepath.Join(genDir, synth.EventsFile)}, Out: opts.Out, Tx: tx, Order: replay.OrderArrival,
		Progress: terminal(stderr), Log: stderr, Trace: traceWriter(stderr), Report: renderReports})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if opts.JSON {
		b, err := results.Marshal(res.Results)
		if err != nil {
			return err
		}
		if _, err := stdout.Write(b); err != nil {
			return err
		}
	} else {
		printResults(stdout, res.Results)
		fmt.Fprintf(stdout, "planted lift (triggered conversations): %+.1f%%\n", 100*cfg.Lift)
		abs, err := filepath.Abs(filepath.Join(opts.Out, "report.html"))
		if err != nil {
			abs = filepath.Join(opts.Out, "report.html")
		}
		fmt.Fprintf(stdout, "report: %s\n", abs)
	}
	return gateError(res.Results, opts.Gates)
}

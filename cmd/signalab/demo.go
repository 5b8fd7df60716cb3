package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/analysis"
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
}

// DefaultDemoEvents is the size of the demo log: big enough for the planted
// lift to show, small enough to run in seconds.
const DefaultDemoEvents = 400_000

func newDemoCmd() *cobra.Command {
	var opts demoOptions
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
	f.Float64Var(&opts.Lift, "lift", synth.DefaultLift, "planted relative lift of triggered conversations' conversion")
	f.BoolVar(&opts.JSON, "json", false, "print results.json to standard output")
	return c
}

// demoSpec is the experiment.yaml of the demo: the generator's planted
// experiment (unit, salt, hash, weights, window) with every metric type and
// the analysis options of testdata/experiment.yaml.
var demoSpec = template.Must(template.New("spec").Parse(`# Written by signalab demo: the experiment the generator planted.
name: inbox-buyer-signals-demo
unit: {{.Unit}}
salt: {{.Salt}}
hash: {{.Hash}}
variants: [{name: control, weight: {{.Control}}}, {name: treatment, weight: {{.Treatment}}}]
coverage: 1.0
window: {start: {{.Start}}, end: {{.End}}}
pre_period: {{.Pre}}
metrics:
  - {name: conversion, type: proportion, outcome: converted, window: {{.Attribution}}}
  - {name: revenue, type: mean, outcome: revenue_cents, window: {{.Attribution}}, cap: {percentile: 0.99}}
  - {name: aov, type: ratio, numerator: revenue_cents, denominator: orders, window: {{.Attribution}}}
  - {name: reply_minutes, type: quantile, q: 0.5, outcome: first_merchant_reply_minutes}
primary: conversion
analysis: {alpha: 0.05, test: welch, relative_ci: delta, cuped: true, correction: holm,
           srm_alpha: 0.001, sequential: true, bayesian: true, segments: [channel]}
guardrails:
  - {metric: revenue, max_drop: -0.10}
`))

// writeDemoSpec writes the spec of the experiment cfg plants to path.
func writeDemoSpec(path string, cfg synth.Config) error {
	attribution := cfg.Model.AttributionWindow
	if attribution <= 0 {
		attribution = 72 * time.Hour
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		return demoSpec.Execute(w, map[string]any{
			"Unit": cfg.Unit, "Salt": cfg.Salt, "Hash": string(cfg.Hash),
			"Control": 1 - cfg.TreatmentWeight, "Treatment": cfg.TreatmentWeight,
			"Start":       cfg.WindowStart.UTC().Format(time.RFC3339),
			"End":         cfg.WindowStart.AddDate(0, 0, cfg.Days).UTC().Format(time.RFC3339),
			"Pre":         (time.Duration(cfg.PreDays) * 24 * time.Hour).String(),
			"Attribution": attribution.String(),
		})
	})
}

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
	buyers, err := synth.BuyersForEvents(ctx, cfg, opts.Events)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	cfg.Buyers = buyers
	genDir := filepath.Join(opts.Out, "generated")
	t0 := time.Now()
	truth, err := synth.WriteDir(ctx, cfg, genDir, nil)
	if err != nil {
		return fmt.Errorf("demo: generate: %w", err)
	}
	fmt.Fprintf(stderr, "generate %6.2fs  %d events, %d buyers, planted lift %+.1f%% on triggered conversations\n",
		time.Since(t0).Seconds(), truth.Counts.Rows, cfg.Buyers, 100*cfg.Lift)
	specPath := filepath.Join(opts.Out, "experiment.yaml")
	if err := writeDemoSpec(specPath, cfg); err != nil {
		return err
	}
	res, err := analysis.RunPipeline(analysis.PipelineConfig{SpecPath: specPath,
		Events: []string{filepath.Join(genDir, synth.EventsFile)}, Out: opts.Out, Order: replay.OrderArrival,
		Progress: terminal(stderr), Log: stderr, Report: renderReports})
	if err != nil {
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
		for _, row := range res.Results.Rows {
			if row.Metric == res.Results.Experiment.Primary && row.Segment == results.SegmentAll {
				fmt.Fprintf(stdout, "%s lift (%s conversations): %+.1f%% [%+.1f%%, %+.1f%%], p = %.3g\n", row.Metric, row.Population,
					100*float64(row.Relative.Estimate), 100*float64(row.Relative.CILower), 100*float64(row.Relative.CIUpper), float64(row.PValue))
			}
		}
		fmt.Fprintf(stdout, "planted lift (triggered conversations): %+.1f%%\n", 100*cfg.Lift)
		abs, err := filepath.Abs(filepath.Join(opts.Out, "report.html"))
		if err != nil {
			abs = filepath.Join(opts.Out, "report.html")
		}
		fmt.Fprintf(stdout, "report: %s\n", abs)
	}
	return gateError(res.Results)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/cliflag"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/metrics"
)

func init() { register(newMetricsCmd) }

type metricsOptions struct {
	Experiment string
	In         []string
	Out        string
	JSON       bool
}

func newMetricsCmd() *cobra.Command {
	var opts metricsOptions
	c := &cobra.Command{
		Use:   "metrics --experiment F --in DIR [--in DIR] --out DIR [--json]",
		Short: "Build the per-conversation unit table (units.parquet) from replay and assign outputs",
		Long: `metrics joins the replay's conversations.parquet and orders.parquet (per buyer,
in one streaming pass) with assign's assignments.parquet, and writes
units.parquet (one row per conversation in the experiment: variant, outcomes,
every metric of the spec with its attribution window and cap, CUPED covariates,
segment columns, triggered) and metrics.json (exclusions, caps, signals
summary). Each input is taken from the first --in folder that has it.
See docs/metrics.md.`,
		Example: `  signalab metrics --experiment experiment.yaml --in out/replay --in out/assign --out out/metrics`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return metricsRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Experiment, "experiment", "", "experiment spec (experiment.yaml)")
	cliflag.PathsVar(f, &opts.In, "in", "folder with the replay and assign outputs (repeat the flag or separate with commas)").Folders = true
	f.StringVar(&opts.Out, "out", "", "folder to write units.parquet and metrics.json to")
	f.BoolVar(&opts.JSON, "json", false, "print metrics.json to standard output")
	return c
}

func metricsRun(opts metricsOptions, stdout, stderr io.Writer) error {
	const hint = "signalab metrics --experiment experiment.yaml --in out/replay --in out/assign --out out/metrics"
	switch {
	case opts.Experiment == "":
		return exitcode.Usagef(hint, "metrics: --experiment is required")
	case len(opts.In) == 0:
		return exitcode.Usagef(hint, "metrics: --in is required (the replay and assign output folders)")
	case opts.Out == "":
		return exitcode.Usagef(hint, "metrics: --out is required")
	}
	spec, err := experiment.Load(opts.Experiment)
	if err != nil {
		return err
	}
	tx, err := beginOutputs(opts.Out, "signalab metrics", metricsOutputs)
	if err != nil {
		return err
	}
	defer tx.Abort()
	sum, err := metrics.Build(metrics.Options{Spec: spec.MetricsSpec(), In: opts.In, Out: tx.Dir, Log: stderr})
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(sum)
	}
	fmt.Fprintf(stdout, "units\t%d\n", sum.Units)
	for _, a := range sum.Arms {
		fmt.Fprintf(stdout, "variant %s\t%d conversations, %d triggered, %d randomization units\n", a.Variant, a.Units, a.Triggered, a.RandomizationUnits)
	}
	for _, k := range []string{"outside_window", "filtered", "unassigned", "not_in_experiment"} {
		fmt.Fprintf(stdout, "excluded %s\t%d\n", k, sum.Excluded[k])
	}
	return nil
}

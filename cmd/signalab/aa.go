package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

func init() { register(newAACmd) }

type aaOptions struct {
	Dir       string
	Spec      string
	Redraws   int
	Inference stats.Inference
	Draws     int
	Workers   int
	Out       string
	JSON      bool
}

const aaHint = "signalab aa out/run --redraws 200"

func newAACmd() *cobra.Command {
	var opts aaOptions
	c := &cobra.Command{
		Use:   "aa RUN_DIR",
		Short: "A/A study: redraw the assignment of a run K times and check the false-positive rate",
		Long: `aa checks, on your own data, that the analysis keeps its promise: among
experiments with no effect, about alpha of them come out significant.

It reads a run folder (experiment.yaml, conversations.parquet, orders.parquet:
what signalab run writes), computes the metrics of every eligible
conversation once, and redraws the assignment --redraws times with new salts
("<salt>/aa/<k>": same hash, weights, coverage, namespace and unit). Each
redraw is an experiment without effect; every metric is tested from per-unit
sums exactly as analyze would (the spec's inference, its own randomization
redraws included). For each metric, treatment and population it reports the
rejection rate at alpha with a 95% Clopper-Pearson interval, the band a sound
analysis stays in (exact binomial, Bonferroni over the checks: the whole
study fails by chance at most 5% of the time), a p-value histogram and a
Kolmogorov-Smirnov test of uniformity.

aa.json is written into the run folder (or --out), where signalab report
shows it. Exit codes: 0 every rate inside its band; 1 a rate outside (the
analysis is miscalibrated on this data: see docs/statistics.md); 2 an error.`,
		Example: `  signalab aa out/run
  signalab aa out/run --redraws 1000 --inference cr2`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitcode.Usagef(aaHint, "aa: want one run folder argument, got %d", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.Dir = args[0]
			return aaRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Spec, "experiment", "", "experiment spec (default: RUN_DIR/experiment.yaml)")
	f.IntVar(&opts.Redraws, "redraws", experiment.DefaultAARedraws, "number of redrawn assignments")
	f.Var(&textFlag{&opts.Inference, "inference"}, "inference", "test to check, one of "+namesOf(stats.Inferences)+" (default: the spec's)")
	f.IntVar(&opts.Draws, "draws", 0, "assignment redraws inside each randomization test (default: the spec's, 2000)")
	f.IntVar(&opts.Workers, "workers", 0, "redraws analysed in parallel (default: number of CPUs; results do not depend on it)")
	f.StringVar(&opts.Out, "out", "", "folder to write aa.json to (default: RUN_DIR)")
	f.BoolVar(&opts.JSON, "json", false, "print aa.json to standard output")
	return c
}

func aaRun(opts aaOptions, stdout, stderr io.Writer) error {
	if opts.Redraws < 20 {
		return exitcode.Usagef(aaHint, "aa: --redraws %d: want at least 20 (200 or more for a useful band)", opts.Redraws)
	}
	if opts.Draws != 0 && opts.Draws < 99 {
		return exitcode.Usagef(aaHint, "aa: --draws %d: want at least 99", opts.Draws)
	}
	if st, err := os.Stat(opts.Dir); err != nil || !st.IsDir() {
		return exitcode.Usagef(aaHint, "aa: %s is not a run folder (want the --out folder of signalab run)", opts.Dir)
	}
	out := opts.Out
	if out == "" {
		out = opts.Dir
	}
	tx, err := beginOutputs(out, "signalab aa", aaOutputs)
	if err != nil {
		return err
	}
	defer tx.Abort()
	res, err := experiment.AA(experiment.AAConfig{Dir: opts.Dir, SpecPath: opts.Spec, Redraws: opts.Redraws,
		Inference: opts.Inference, Draws: opts.Draws, Workers: opts.Workers, Log: stderr})
	if err != nil {
		return err
	}
	if err := experiment.WriteAA(tx.Dir, res); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if opts.JSON {
		b, err := experiment.MarshalAA(res)
		if err != nil {
			return err
		}
		if _, err := stdout.Write(b); err != nil {
			return err
		}
	} else {
		printAA(stdout, res)
	}
	if !res.Passed {
		var bad []string
		for _, ch := range res.Checks {
			if !ch.Passed {
				bad = append(bad, fmt.Sprintf("%s/%s/%s %.1f%%", ch.Metric, ch.Variant, ch.Population, 100*ch.Rate))
			}
		}
		return exitcode.Checkf("aa: rejection rate outside its band for %s (alpha %g, %d redraws): "+
			"the analysis is not calibrated on this data; try analysis.inference: randomization", strings.Join(bad, ", "), res.Alpha, res.Redraws)
	}
	return nil
}

// printAA writes the study as a table.
func printAA(w io.Writer, res *results.AA) {
	fmt.Fprintf(w, "A/A study of %s: %d redraws of %d %ss, alpha %g, inference %s (band level %.4f)\n",
		res.Experiment, res.Redraws, res.Units, res.Unit, res.Alpha, res.Inference, res.BandLevel)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "metric\tvariant\tpopulation\ttest\trejected\trate\t95% CI\tband\tKS p\tok")
	for _, ch := range res.Checks {
		methods := make([]string, 0, len(ch.Inference))
		for m := range ch.Inference {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		test := strings.Join(methods, "+")
		ok := "ok"
		if !ch.Passed {
			ok = "OUTSIDE"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%.1f%%\t[%.1f%%, %.1f%%]\t[%.1f%%, %.1f%%]\t%.3g\t%s\n",
			ch.Metric, ch.Variant, ch.Population, test, ch.Rejections, ch.Tested, 100*ch.Rate,
			100*ch.RateCI[0], 100*ch.RateCI[1], 100*ch.Band[0], 100*ch.Band[1], ch.KSPValue, ok)
	}
	tw.Flush()
	for _, n := range slices.Clip(res.Notes) {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "%.1fs\n", res.Seconds)
}

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/internal/cliflag"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/embedded"
	"github.com/signalab/signalab/reports"
	"github.com/signalab/signalab/results"
)

func init() { register(newRunCmd) }

type runOptions struct {
	Spec    string
	Events  []string
	Out     string
	Order   string
	Workers int
	JSON    bool
	Gates   analysis.GateSet
	Memory  sizeFlag
	TempDir string
}

func newRunCmd() *cobra.Command {
	opts := runOptions{Gates: analysis.DefaultGates}
	c := &cobra.Command{
		Use:   "run experiment.yaml --events PATH... --out DIR",
		Short: "Run replay, assign, metrics, analyze and report in one go",
		Long: `run executes every stage in one process and writes all outputs into --out:
signals/conversations/orders.parquet and replay.json (replay), assignments.parquet
and assign.json (assign), units.parquet and metrics.json (metrics),
results.json and results.parquet (analyze), report.html and report.md (report),
and manifest.json (inputs with sha256, the spec, tool version, stage timings).

The summary starts with the verdict (ship, don't ship or inconclusive) and
its reasons; results.json carries it too.

Exit codes: 0, or 1 when an outcome named by --gate occurs (default
srm,guardrail: a sample ratio mismatch below srm_alpha, or a guardrail
significantly worse than its margin; add dont-ship and inconclusive to block
anything but "ship"); 2 on an error.`,
		Example: `  signalab run experiment.yaml --events events.parquet --out out/run
  signalab run experiment.yaml --events 'logs/*.jsonl' --events extra.csv --out out/run`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 1 {
				return exitcode.Usagef("signalab run experiment.yaml --events events.parquet --out out/run",
					"run: want exactly one experiment spec argument, got %d", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.Spec = args[0]
			return runRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	cliflag.PathsVar(f, &opts.Events, "events", "event log files, folders or globs (Parquet, JSONL, CSV; repeat the flag or separate with commas)")
	f.StringVar(&opts.Out, "out", "", "output folder")
	f.StringVar(&opts.Order, "order", "arrival", "per-buyer processing order: arrival or event-time")
	f.IntVar(&opts.Workers, "workers", 0, "replay workers (default: number of CPUs)")
	f.BoolVar(&opts.JSON, "json", false, "print results.json to standard output")
	f.Var(gateFlag{&opts.Gates}, "gate", gateUsage)
	opts.Memory = embedded.DefaultMemoryBudget
	f.Var(&opts.Memory, "memory", "the replay stage's memory budget for the events and output rows held in memory; beyond it they spill to --tmp (as replay --memory)")
	f.StringVar(&opts.TempDir, "tmp", "", "folder for the replay stage's temporary spill files (default: inside --out)")
	return c
}

func runRun(opts runOptions, stdout, stderr io.Writer) error {
	const hint = "signalab run experiment.yaml --events events.parquet --out out/run"
	switch {
	case len(opts.Events) == 0:
		return exitcode.Usagef(hint, "run: --events is required")
	case opts.Out == "":
		return exitcode.Usagef(hint, "run: --out is required")
	case opts.Memory < minMemory:
		return exitcode.Usagef(hint+" --memory 512MiB", "run: --memory %s: want at least 16MiB", opts.Memory.String())
	}
	order, err := replay.ParseOrder(opts.Order)
	if err != nil {
		return exitcode.Usagef(hint, "run: --order: %v", err)
	}
	res, err := experiment.Run(experiment.RunConfig{SpecPath: opts.Spec, Events: opts.Events, Out: opts.Out,
		Order: order, Workers: opts.Workers, MemoryBudget: int64(opts.Memory), TempDir: opts.TempDir, Progress: terminal(stderr), Log: stderr, Trace: traceWriter(stderr), Report: renderReports})
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
		printResults(stdout, res.Results)
		fmt.Fprintf(stdout, "report: %s\n", filepath.Join(opts.Out, "report.html"))
	}
	return gateError(res.Results, opts.Gates)
}

// terminal returns w when it is a terminal (for progress bars), else nil.
func terminal(w io.Writer) io.Writer {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return w
	}
	return nil
}

// renderReports writes dir/report.html and dir/report.md from the run
// folder staged in dir; the report names the spec by its place in out.
func renderReports(dir, specPath, out string) error {
	r, err := reports.Load(dir, specPath)
	if err != nil {
		return err
	}
	if rel, err := filepath.Rel(dir, specPath); err == nil && !strings.HasPrefix(rel, "..") {
		r.SpecPath = filepath.Join(out, rel)
	}
	for _, f := range []struct {
		name   string
		format reports.Format
	}{{"report.html", reports.HTML}, {"report.md", reports.Markdown}} {
		var buf bytes.Buffer
		if err := reports.Render(&buf, r, f.format); err != nil {
			return fmt.Errorf("render %s: %w", f.name, err)
		}
		if err := atomicfile.WriteBytes(filepath.Join(dir, f.name), buf.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/signalab/signalab/beam/beamreplay"
	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/internal/cliflag"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/internal/outdir"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"

	// Runners, registered by import. Prism runs in this process.
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"

	// The reflection-free execution paths, and the file systems that
	// --events and --out URLs may name (gs://; local paths need none).
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec/optimized"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local"
)

// runners accepted by --runner.
var runners = []string{"prism", "dataflow", "flink", "spark", "universal"}

type replayOptions struct {
	events     []string
	out        string
	experiment string
	sessions   bool
	order      string
	strict     bool
	runner     string
	splitRows  int64
	spillRows  int
	keepShards bool
	json       bool
	verbose    bool
	helpBeam   bool
}

func newReplayCmd() *cobra.Command {
	opts := &replayOptions{}
	c := &cobra.Command{
		Use:   "replay --events PATH... --out DIR [flags]",
		Short: "Replay event logs through the signal logic on Apache Beam",
		Long: `Replay reads event logs (Parquet, JSON Lines, CSV), groups events by buyer
(shop_id, buyer_id), orders each buyer's events exactly as "signalab replay"
does, runs the same signal logic, and writes signals.parquet,
conversations.parquet, orders.parquet, quarantine.parquet and replay.json to
--out: the same files, byte for byte in the tables, as the embedded engine.`,
		Example: `  signalab-beam replay --events logs/ --out out/            # Prism, in-process
  signalab-beam replay --events logs/ --out out/ --runner flink --endpoint localhost:8099 \
      --environment_type LOOPBACK`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if opts.helpBeam {
				return nil
			}
			return replayRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	cliflag.PathsVar(f, &opts.events, "events", "event files, folders or globs (Parquet, JSONL, CSV), or gs:// URLs; repeat or comma-separate").AllowURLs = true
	f.StringVar(&opts.out, "out", "", "output folder (created if missing) or gs:// URL")
	f.StringVar(&opts.experiment, "experiment", "", "experiment.yaml whose signals: block sets the logic's parameters")
	f.BoolVar(&opts.sessions, "sessions", false, "also write sessions.parquet (split by --experiment's analysis.session_gap, default 30m); on by itself when analysis.unit is buyer or session")
	f.StringVar(&opts.order, "order", "arrival", "per-buyer processing order: arrival or event-time")
	f.BoolVar(&opts.strict, "strict", false, "fail on the first row that breaks the schema instead of quarantining it")
	f.StringVar(&opts.runner, "runner", "prism", "Beam runner: "+strings.Join(runners, ", "))
	f.Int64Var(&opts.splitRows, "split-rows", beamreplay.DefaultSplitRows, "target rows per input split")
	f.IntVar(&opts.spillRows, "spill-rows", beamreplay.DefaultSpillRows, "output rows a worker buffers before writing a shard")
	f.BoolVar(&opts.keepShards, "keep-shards", false, "keep the intermediate shards in DIR/_beam")
	f.BoolVar(&opts.json, "json", false, "print replay.json to standard output when done")
	f.BoolVarP(&opts.verbose, "verbose", "v", false, "show Beam's and the runner's logs on standard error")
	f.BoolVar(&opts.helpBeam, "help-beam", false, "list every Beam runner flag")
	f.BoolP("help", "h", false, "help for replay")
	ours := pflag.NewFlagSet("ours", pflag.ContinueOnError)
	ours.AddFlagSet(f)
	beamNames := addBeamFlags(f)
	c.SetHelpFunc(func(c *cobra.Command, _ []string) {
		printReplayHelp(c, ours, beamNames, opts.helpBeam)
	})
	c.PreRunE = func(c *cobra.Command, _ []string) error {
		if opts.helpBeam {
			printReplayHelp(c, ours, beamNames, true)
		}
		return nil
	}
	return c
}

func printReplayHelp(c *cobra.Command, ours *pflag.FlagSet, beamNames []string, all bool) {
	w := c.OutOrStdout()
	fmt.Fprintf(w, "%s\n\nUsage:\n  %s\n\nExamples:\n%s\n\nFlags:\n", c.Long, c.UseLine(), c.Example)
	fmt.Fprint(w, ours.FlagUsages())
	if all {
		fmt.Fprintf(w, "\nBeam runner flags (all %d, passed to the Apache Beam SDK):\n", len(beamNames))
	} else {
		fmt.Fprintln(w, "\nBeam runner flags (the common ones; --help-beam lists all, docs/scale-out.md explains):")
	}
	printBeamFlags(w, c.Flags(), beamNames, all)
}

func replayRun(opts *replayOptions, stdout, stderr io.Writer) error {
	if len(opts.events) == 0 {
		return exitcode.Usagef("signalab-beam replay --events logs/ --out out/", "no --events given")
	}
	if opts.out == "" {
		return exitcode.Usagef("signalab-beam replay --events logs/ --out out/", "no --out folder given")
	}
	order, err := replay.ParseOrder(opts.order)
	if err != nil {
		return exitcode.Usagef("--order arrival or --order event-time", "--order: %v", err)
	}
	if !contains(runners, opts.runner) {
		return exitcode.Usagef("--runner prism (or "+strings.Join(runners[1:], ", ")+")", "--runner: unknown runner %q", opts.runner)
	}
	params, gap, err := experiment.Replay(opts.experiment, opts.sessions)
	if err != nil {
		return err
	}
	out := opts.out
	if !beamreplay.IsURL(out) {
		if out, err = filepath.Abs(out); err != nil {
			return fmt.Errorf("--out %s: %w", opts.out, err)
		}
	}
	events := opts.events
	if opts.runner != "prism" {
		// Remote workers do not share the launcher's working folder.
		events, err = absPaths(events)
		if err != nil {
			return err
		}
		if err := checkJobServer(opts.runner); err != nil {
			return err
		}
		if *jobopts.WorkerBinary == "" && *jobopts.EnvironmentType != "LOOPBACK" {
			fmt.Fprintln(stderr, "signalab-beam: no --worker_binary: Beam will try to cross-compile this program for linux/amd64 from source (needs the Go toolchain and this repository); see docs/scale-out.md")
		}
	}
	beam.Init() // sets Beam's default logger: quiet it afterwards
	if !opts.verbose {
		quietBeamLogs()
	}
	start := time.Now()
	stage := out
	var tx *outdir.Tx
	if !beamreplay.IsURL(out) {
		// As signalab replay: the merge writes the outputs into a staging
		// folder that replaces out's replay outputs as one set once the
		// pipeline has succeeded, under out's lock, taken now so that a
		// second writer fails before any work (internal/outdir,
		// docs/limits.md). Taken only after the usage checks, so that a
		// usage error leaves nothing behind.
		if tx, err = outdir.Begin(out, "signalab-beam replay", experiment.ReplayOutputs); err != nil {
			return err
		}
		defer tx.Abort()
		stage = tx.Dir
	}
	p, s := beam.NewPipelineWithRoot()
	plan, err := beamreplay.Build(s, beamreplay.Options{
		Events: events, Out: stage, Work: out, Params: params, Sessions: gap, Order: order, Strict: opts.strict,
		SplitRows: opts.splitRows, SpillRows: opts.spillRows, KeepShards: opts.keepShards,
		Meta: beamreplay.RunMeta{ToolVersion: buildinfo.Version(), StartedAt: start.UnixMicro()},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "signalab-beam: running on %s: %d input files in %d splits\n", opts.runner, plan.Files, plan.Splits)
	if _, err := beam.Run(context.Background(), opts.runner, p); err != nil {
		if !opts.keepShards && !beamreplay.IsURL(plan.WorkDir) {
			os.RemoveAll(plan.WorkDir)
			os.Remove(filepath.Dir(plan.WorkDir)) // only if no other run uses it
		}
		return fmt.Errorf("beam pipeline on %s failed: %w", opts.runner, beamreplay.Cause(err))
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	took := time.Since(start).Round(time.Millisecond)
	if beamreplay.IsURL(out) {
		fmt.Fprintf(stderr, "signalab-beam: done in %s; outputs in %s\n", took, out)
		return nil
	}
	b, err := os.ReadFile(filepath.Join(out, output.SummaryFile))
	if err != nil {
		return fmt.Errorf("the pipeline finished but left no %s in %s: %w", output.SummaryFile, out, err)
	}
	if opts.json {
		_, err := stdout.Write(b)
		return err
	}
	var sum output.Summary
	if err := json.Unmarshal(b, &sum); err != nil {
		return fmt.Errorf("read %s: %w", filepath.Join(out, output.SummaryFile), err)
	}
	fmt.Fprintf(stderr, "signalab-beam: %d rows read (%d quarantined), %d signals, %d conversations, %d orders in %s; outputs in %s\n",
		sum.Counts.Read, sum.Counts.Quarantined, sum.Outputs.Signals, sum.Outputs.Conversations, sum.Outputs.Orders, took, out)
	return nil
}

// quietBeamLogs silences Prism's and Beam's logs: a failure reaches the
// user as the returned error (its cause, see beamreplay.Cause), and
// --verbose shows everything.
func quietBeamLogs() {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// checkJobServer fails early, with a hint, when a portable runner (Flink,
// Spark, universal) has no job server endpoint or cannot reach it; Beam
// itself would wait for the connection indefinitely.
func checkJobServer(runner string) error {
	if runner == "dataflow" {
		return nil
	}
	ep := *jobopts.Endpoint
	if ep == "" {
		return exitcode.Usagef("signalab-beam replay --runner "+runner+" --endpoint localhost:8099 ... (see docs/scale-out.md)",
			"--runner %s needs --endpoint: the host:port of a Beam job server for %s", runner, runner)
	}
	c, err := net.DialTimeout("tcp", ep, 10*time.Second)
	if err != nil {
		return fmt.Errorf("--endpoint %s: cannot reach the Beam job server (%v); start the %s job server or check the address", ep, err, runner)
	}
	return c.Close()
}

// absPaths makes file, folder and glob paths absolute.
func absPaths(paths []string) ([]string, error) {
	out := make([]string, len(paths))
	for i, p := range paths {
		if beamreplay.IsURL(p) {
			out[i] = p
			continue
		}
		a, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("--events %s: %w", p, err)
		}
		out[i] = a
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

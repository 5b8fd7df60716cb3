package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/cliflag"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/internal/outdir"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/embedded"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

func init() { register(newReplayCmd) }

type replayOptions struct {
	Events     []string
	Out        string
	Experiment string
	Order      string
	Workers    int
	Strict     bool
	Golden     string
	Check      bool
	Update     bool
	JSON       bool
	TempDir    string
	Sessions   bool
	Memory     sizeFlag
}

func newReplayCmd() *cobra.Command {
	var opts replayOptions
	c := &cobra.Command{
		Use:   "replay --events PATH... --out DIR [--experiment F] [--order arrival|event-time] [--workers N] [--strict] [--golden DIR (--check|--update)] [--json]",
		Short: "Replay event logs through the buyer-signal logic",
		Long: `replay reads event logs (Parquet, JSON Lines or CSV; files, folders or globs),
runs each buyer's events through the signal logic in arrival or event-time
order, and writes signals.parquet, conversations.parquet, orders.parquet,
quarantine.parquet and replay.json to --out. Outputs are written only when the
whole run succeeded, and are byte-identical whatever the worker count or the
way the input is split into files.

Signal parameters come from the signals: block of --experiment (defaults
otherwise). Rows that break the schema are quarantined and counted; --strict
makes the first one an error.

Regression replays: --golden DIR --check compares the outputs with a golden
set (canonical JSON Lines and counts.json) and exits 1 with a summary of
signals added, removed and changed; --golden DIR --update rewrites it. A
replay that tracks sessions puts them into its golden set (sessions.jsonl),
and --check then wants them again.`,
		Example: `  signalab replay --events data/events.parquet --out out/replay
  signalab replay --events 'logs/*.jsonl.gz' --out out/replay --order event-time --experiment experiment.yaml
  signalab replay --events testdata/events --out /tmp/replay --golden testdata/golden --check`,
		RunE: func(c *cobra.Command, args []string) error {
			if err := cliflag.Args(args, false); err != nil {
				return exitcode.Usagef("signalab replay --events data/events.parquet --out out/replay", "replay: %v", err)
			}
			opts.Events = append(opts.Events, args...)
			return replayRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	cliflag.PathsVar(f, &opts.Events, "events", "event log files, folders or globs (repeat the flag or separate with commas; more paths may follow as arguments)")
	f.StringVar(&opts.Out, "out", "", "output folder")
	f.StringVar(&opts.Experiment, "experiment", "", "experiment.yaml whose signals: block sets the signal parameters")
	f.StringVar(&opts.Order, "order", "arrival", "order of each buyer's events: arrival (ingest_time, event_time, event_id) or event-time (event_time, event_id)")
	f.IntVar(&opts.Workers, "workers", 0, "goroutines for decoding and the logic (default: number of CPUs); the output does not depend on it")
	f.BoolVar(&opts.Strict, "strict", false, "fail on the first row that breaks the schema instead of quarantining it")
	f.StringVar(&opts.Golden, "golden", "", "golden set folder for a regression replay (with --check or --update)")
	f.BoolVar(&opts.Check, "check", false, "compare the outputs with --golden and exit 1 when they differ")
	f.BoolVar(&opts.Update, "update", false, "rewrite the --golden set from this replay")
	f.BoolVar(&opts.JSON, "json", false, "print replay.json (and the golden diff) to standard output")
	f.StringVar(&opts.TempDir, "tmp", "", "folder for temporary spill files (default: inside --out)")
	f.BoolVar(&opts.Sessions, "sessions", false, "also write sessions.parquet (every buyer's sessions, split by --experiment's analysis.session_gap, default 30m); on by itself when analysis.unit is buyer or session")
	opts.Memory = embedded.DefaultMemoryBudget
	f.Var(&opts.Memory, "memory", "memory budget for the events and output rows held in memory; beyond it they spill to --tmp (peak memory is about this plus 300MiB)")
	return c
}

func replayRun(opts replayOptions, stdout, stderr io.Writer) error {
	const hint = "signalab replay --events data/events.parquet --out out/replay"
	switch {
	case len(opts.Events) == 0:
		return exitcode.Usagef(hint, "replay: --events is required (event log files, folders or globs)")
	case opts.Out == "":
		return exitcode.Usagef(hint, "replay: --out is required (the output folder)")
	case opts.Check && opts.Update:
		return exitcode.Usagef("signalab replay ... --golden DIR --check", "replay: --check and --update exclude each other")
	case opts.Golden != "" && !opts.Check && !opts.Update:
		return exitcode.Usagef("signalab replay ... --golden "+opts.Golden+" --check", "replay: --golden needs --check (compare) or --update (rewrite)")
	case opts.Golden == "" && (opts.Check || opts.Update):
		return exitcode.Usagef("signalab replay ... --golden testdata/golden --check", "replay: --check and --update need --golden DIR")
	case opts.Workers < 0:
		return exitcode.Usagef(hint+" --workers 2", "replay: --workers %d: want a positive number (or 0 for one per CPU)", opts.Workers)
	case opts.Memory < minMemory:
		return exitcode.Usagef(hint+" --memory 512MiB", "replay: --memory %s: want at least 16MiB", opts.Memory.String())
	}
	order, err := replay.ParseOrder(opts.Order)
	if err != nil {
		return exitcode.Usagef(hint+" --order event-time", "replay: --order: %v", err)
	}
	params, gap, err := experiment.Replay(opts.Experiment, opts.Sessions)
	if err != nil {
		return err
	}
	tx, err := outdir.Begin(opts.Out, "signalab replay", experiment.ReplayOutputs)
	if err != nil {
		return err
	}
	defer tx.Abort()
	cfg := embedded.Config{Events: opts.Events, Out: tx.Dir, Params: params, Sessions: gap, Order: order,
		Workers: opts.Workers, Strict: opts.Strict, TempDir: opts.TempDir, MemoryBudget: int64(opts.Memory), Trace: traceWriter(stderr)}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		cfg.Progress = stderr
	}
	setMemoryLimit(int64(opts.Memory))
	sum, err := embedded.Run(cfg)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}

	var diff *output.Diff
	switch {
	case opts.Check:
		out, err := output.Read(opts.Out)
		if err != nil {
			return err
		}
		golden, err := output.Read(opts.Golden)
		if err != nil {
			return fmt.Errorf("replay --check: %w (create the golden set with --update)", err)
		}
		diff = output.Compare(golden, out)
	case opts.Update:
		out, err := output.Read(opts.Out)
		if err != nil {
			return err
		}
		if err := replaceOutputs(opts.Golden, "signalab replay --update", goldenOutputs, func(dir string) error {
			return output.WriteGolden(dir, out, *sum)
		}); err != nil {
			return err
		}
		sessions := ""
		if out.WithSessions {
			sessions = fmt.Sprintf(", %d sessions", len(out.Sessions))
		}
		fmt.Fprintf(stderr, "golden set %s updated: %d signals, %d conversations, %d orders%s\n",
			opts.Golden, len(out.Signals), len(out.Conversations), len(out.Orders), sessions)
	}

	if opts.JSON {
		v := any(sum)
		if diff != nil {
			v = struct {
				Replay *output.Summary `json:"replay"`
				Golden *output.Diff    `json:"golden"`
			}{sum, diff}
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		writeReplaySummary(stdout, sum, opts.Out)
	}
	if diff != nil && !diff.Equal() {
		var b bytes.Buffer
		diff.WriteText(&b, "golden "+opts.Golden, "replay "+opts.Out)
		fmt.Fprintf(&b, "If the change is intended, rewrite the golden set: signalab replay --events ... --out %s --golden %s --update", opts.Out, opts.Golden)
		return exitcode.Checkf("regression replay: outputs differ from the golden set %s\n%s", opts.Golden, b.String())
	}
	if diff != nil {
		fmt.Fprintf(stderr, "regression replay: outputs match the golden set %s\n", opts.Golden)
	}
	return nil
}

// traceWriter is where the replay engine traces its phases: stderr when
// the environment sets SIGNALAB_TRACE (docs/replay.md), else nowhere.
func traceWriter(stderr io.Writer) io.Writer {
	if os.Getenv("SIGNALAB_TRACE") == "" {
		return nil
	}
	return stderr
}

// minMemory is the smallest --memory accepted.
const minMemory sizeFlag = 16 << 20

// heapOverhead is the Go heap the replay may use beyond its memory budget:
// the reader's pages, the workers' partitions, the output rows' collector
// copying them into sorted runs, the runtime (docs/replay.md, "Memory").
// At 50M events, where output rows fill the budget once the records are
// done, the soft limit is what bounds the peak: 772 MiB with 256 MiB here,
// 735 with 192.
const heapOverhead = 192 << 20

// setMemoryLimit sets the Go runtime's soft memory limit for a replay with
// the given budget, unless GOMEMLIMIT does: the budget plus heapOverhead.
// The event records live outside the Go heap (replay/embedded), and the
// output rows it holds are counted against the budget, so the limit bounds
// what is left: the garbage collector works harder rather than let the
// heap grow past it. With the records
// outside, the heap is small, and collecting it at 3 times its live data
// (GOGC=200, unless GOGC says otherwise) instead of twice saves about 2 %
// of the replay's CPU for some 40 MiB.
func setMemoryLimit(budget int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(budget + heapOverhead)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

func writeReplaySummary(w io.Writer, s *output.Summary, out string) {
	c := s.Counts
	l := c.Logic
	fmt.Fprintf(w, "events read       %d (%d quarantined)\n", c.Read, c.Quarantined)
	fmt.Fprintf(w, "accepted          %d\n", l.Accepted)
	for i := range l.Dropped {
		if l.Dropped[i] > 0 {
			fmt.Fprintf(w, "dropped %-9s %d\n", signal.DropReason(i).String(), l.Dropped[i])
		}
	}
	for i, k := range signal.SignalKinds {
		fmt.Fprintf(w, "signals %-9s %d\n", shortKind(k), l.Signals[i])
	}
	fmt.Fprintf(w, "conversations     %d (%d triggered)\n", l.Conversations, l.Triggered)
	fmt.Fprintf(w, "orders            %d\n", l.Orders)
	fmt.Fprintf(w, "order             %s\n", s.Order)
	fmt.Fprintf(w, "elapsed           %.2fs (%.0f events/s)\n", s.ElapsedSeconds, s.EventsPerSecond)
	fmt.Fprintf(w, "outputs           %s\n", out)
}

func shortKind(k string) string {
	switch k {
	case signal.KindBuyerContext:
		return "context"
	case signal.KindCartAction:
		return "cart"
	case signal.KindCheckoutStarted:
		return "checkout"
	case signal.KindOrderCompleted:
		return "order"
	}
	return k
}

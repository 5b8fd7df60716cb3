package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/live"
)

// liveDumpOutputs is the output set of live dump: a replay's, and live.json.
var liveDumpOutputs = append(append([]string(nil), experiment.ReplayOutputs...), live.DumpInfoFile)

type liveDumpOptions struct {
	Conn  connFlags
	Topic string
	Out   string
	Wait  time.Duration
	JSON  bool
}

func newLiveDumpCmd() *cobra.Command {
	var opts liveDumpOptions
	c := &cobra.Command{
		Use:   "dump --topic T --out DIR [--wait D] [--brokers HOST:PORT]",
		Short: "Write the output topics of live mode as replay outputs",
		Long: `dump reads the output topics of "signalab live --output T" (T, T.conversations,
T.orders, T.quarantine, T.counts) as a read_committed consumer and writes
signals.parquet, conversations.parquet (the last version of each
conversation row), orders.parquet, quarantine.parquet and replay.json (the
counts of every input partition added up) into --out, plus live.json (how far
the consumers had got, and live mode's own counts).

For the same input records, the result equals "signalab replay --order
arrival": compare them with "signalab diff". That holds once the consumers
have processed the whole input: --wait D waits up to D for it (exit 2 if they
do not get there); without --wait a dump of a running stream is written as
it stands and live.json says "complete": false.`,
		Example: `  signalab live dump --topic signals --out out/live --wait 1m
  signalab diff out/replay out/live`,
		Args: noArgs("signalab live dump --topic signals --out out/live", "live dump"),
		RunE: untilSignal(func(ctx context.Context, c *cobra.Command, args []string) error {
			return liveDumpRun(ctx, opts, c.OutOrStdout(), c.ErrOrStderr())
		}),
	}
	f := c.Flags()
	addConnFlags(f, &opts.Conn)
	f.StringVar(&opts.Topic, "topic", "signals", "signals topic of the live pipeline (its --output)")
	f.StringVar(&opts.Out, "out", "", "output folder")
	f.DurationVar(&opts.Wait, "wait", 0, "wait up to this long for the consumers to process the whole input")
	f.BoolVar(&opts.JSON, "json", false, "print replay.json and live.json as JSON")
	return c
}

func liveDumpRun(ctx context.Context, opts liveDumpOptions, stdout, stderr io.Writer) error {
	const hint = "signalab live dump --topic signals --out out/live"
	switch {
	case opts.Out == "":
		return exitcode.Usagef(hint, "live dump: --out is required")
	case opts.Topic == "":
		return exitcode.Usagef(hint, "live dump: --topic is empty")
	case opts.Wait < 0:
		return exitcode.Usagef(hint+" --wait 1m", "live dump: --wait %s: want a duration ≥ 0", opts.Wait)
	}
	copts, err := opts.Conn.conn().Options()
	if err != nil {
		return exitcode.Usagef(hint, "live dump: %v", err)
	}
	tx, err := beginOutputs(opts.Out, "signalab live dump", liveDumpOutputs)
	if err != nil {
		return err
	}
	defer tx.Abort()
	d, err := live.Dump(ctx, copts, opts.Topic, opts.Wait)
	if err != nil {
		return err
	}
	if err := live.WriteDump(tx.Dir, d); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if opts.JSON {
		b, _ := json.MarshalIndent(struct {
			Replay any `json:"replay"`
			Live   any `json:"live"`
		}{d.Summary, d.Info}, "", "  ")
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		writeReplaySummary(stdout, &d.Summary, opts.Out)
		fmt.Fprintf(stdout, "conversations     %d final, %d open\n", d.Info.FinalConversations, d.Info.OpenConversations)
	}
	if !d.Info.Complete {
		fmt.Fprintf(stderr, "live dump: the consumers have not processed the whole input yet (records left by partition: %v): this dump is a prefix of the stream; use --wait to wait for them\n", d.Info.Behind)
	}
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/replay/output"
)

func init() { register(newDiffCmd) }

type diffOptions struct {
	A, B string
	JSON bool
}

func newDiffCmd() *cobra.Command {
	var opts diffOptions
	c := &cobra.Command{
		Use:   "diff A_DIR B_DIR [--json]",
		Short: "Compare two replays signal by signal",
		Long: `diff compares two replay outputs (--out folders of signalab replay, sharded
outputs of signalab-beam, live dumps, or golden sets) and lists the signals,
conversations and orders added, removed and changed from A to B, signals per
kind, the counts of replay.json that differ, and the first examples of each.
Sessions (sessions.parquet, written by replays that track them) are compared
the same way when both have them; when only one has, that is a difference.

Exit code 0 when they are equal, 1 when they differ, 2 on an error. Useful to
measure what out-of-order delivery costs (--order arrival vs event-time) or
what a change of the signal parameters does.`,
		Example: `  signalab diff out/arrival out/event-time
  signalab diff testdata/golden out/replay --json`,
		Args: func(c *cobra.Command, args []string) error {
			if len(args) != 2 {
				return exitcode.Usagef("signalab diff out/a out/b", "diff: want two replay output folders, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(c *cobra.Command, args []string) error {
			opts.A, opts.B = args[0], args[1]
			return diffRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	c.Flags().BoolVar(&opts.JSON, "json", false, "print the difference as JSON")
	return c
}

func diffRun(opts diffOptions, stdout, stderr io.Writer) error {
	a, err := output.Read(opts.A)
	if err != nil {
		return fmt.Errorf("diff: A: %w", err)
	}
	b, err := output.Read(opts.B)
	if err != nil {
		return fmt.Errorf("diff: B: %w", err)
	}
	d := output.Compare(a, b)
	if opts.JSON {
		v := struct {
			Equal bool `json:"equal"`
			*output.Diff
		}{d.Equal(), d}
		out, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", out)
	} else {
		d.WriteText(stdout, opts.A, opts.B)
	}
	if !d.Equal() {
		return exitcode.Checkf("diff: %s and %s differ: %s", opts.A, opts.B, d.Brief())
	}
	return nil
}

package main

import (
	"github.com/spf13/cobra"

	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/internal/exitcode"
)

// subcommands holds the constructors of every subcommand. Each subcommand's
// file appends its constructor in an init function, so subcommands live in
// their own files and the root never needs editing.
var subcommands []func() *cobra.Command

func register(newCmd func() *cobra.Command) { subcommands = append(subcommands, newCmd) }

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "signalab",
		Short: "Evaluate buyer signals in merchant chat with A/B experiments",
		Long: `signalab replays historical event logs through the buyer-signal logic,
assigns conversations, buyers or shops to experiment cohorts, computes
conversion lift with significance, and writes HTML, Markdown and JSON reports.

Start with "signalab demo" to run everything on built-in synthetic data.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(exitcode.FlagError)
	root.Args = exitcode.NoCommand
	root.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
	for _, newCmd := range subcommands {
		c := newCmd()
		c.SetFlagErrorFunc(root.FlagErrorFunc())
		addProfiling(c)
		root.AddCommand(c)
	}
	return root
}

func version() string { return buildinfo.Version() }

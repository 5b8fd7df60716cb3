// Command signalab-beam runs signalab's replay as an Apache Beam pipeline:
// in-process on Beam's Prism runner, or on Dataflow, Flink or Spark. Its
// outputs are identical to `signalab replay`'s. See docs/scale-out.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/spf13/cobra"

	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/internal/exitcode"
)

func main() {
	if workerMode(os.Args[1:]) {
		// A runner started this binary as an SDK worker (Dataflow's boot
		// program passes --worker --id ... --control_endpoint ...). Beam's
		// Init hook runs the worker harness and exits the process.
		flag.Parse()
		beam.Init()
		fmt.Fprintln(os.Stderr, "signalab-beam: worker harness returned")
		os.Exit(exitcode.Error)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// workerMode reports whether args ask for Beam's worker mode.
func workerMode(args []string) bool {
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "worker", "worker=true", "worker=1":
			return strings.HasPrefix(a, "-")
		}
	}
	return false
}

// run executes the CLI with args and returns the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	return exitcode.Run(newRootCmd(), args, stdout, stderr)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "signalab-beam",
		Short: "Run signalab's replay as an Apache Beam pipeline",
		Long: `signalab-beam runs the replay of "signalab replay" as an Apache Beam pipeline:
in-process on Beam's Prism runner (the default), or on Dataflow, Flink or
Spark. The outputs are identical to the embedded engine's, and "signalab
assign", "metrics", "analyze" and "report" read them unchanged.

See docs/scale-out.md for when to use it and what each runner needs.`,
		Version:       buildinfo.Version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(exitcode.FlagError)
	root.Args = exitcode.NoCommand
	root.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
	replay := newReplayCmd()
	replay.SetFlagErrorFunc(root.FlagErrorFunc())
	root.AddCommand(replay)
	return root
}

// Command signalab-beam runs signalab's replay as an Apache Beam pipeline:
// in-process on Beam's Prism runner, or on Dataflow, Flink or Spark. Its
// outputs are identical to `signalab replay`'s. See docs/scale-out.md.
package main

import (
	"errors"
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
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.Execute()
	if err == nil {
		return exitcode.OK
	}
	printError(stderr, err)
	return exitcode.Code(err)
}

func printError(w io.Writer, err error) {
	var cf *exitcode.CheckFailedError
	if errors.As(err, &cf) {
		fmt.Fprintln(w, cf.Msg)
		return
	}
	fmt.Fprintf(w, "signalab-beam: %v\n", err)
	var ue *exitcode.UsageError
	if errors.As(err, &ue) && ue.Hint != "" {
		fmt.Fprintf(w, "Try: %s\n", ue.Hint)
	}
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
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitcode.UsageError{Err: err, Hint: c.CommandPath() + " --help"}
	})
	root.Args = func(c *cobra.Command, args []string) error {
		if len(args) > 0 {
			return exitcode.Usagef("signalab-beam --help", "unknown command %q", args[0])
		}
		return nil
	}
	root.RunE = func(c *cobra.Command, args []string) error { return c.Help() }
	replay := newReplayCmd()
	replay.SetFlagErrorFunc(root.FlagErrorFunc())
	root.AddCommand(replay)
	return root
}

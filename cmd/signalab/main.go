// Command signalab replays buyer-signal event logs, assigns experiment cohorts,
// computes metrics with significance, and writes reports. See README.md.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/signalab/signalab/internal/exitcode"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the CLI with args and returns the process exit code. It is the
// one place where errors become exit codes and messages on standard error.
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
	fmt.Fprintf(w, "signalab: %v\n", err)
	var ue *exitcode.UsageError
	if errors.As(err, &ue) && ue.Hint != "" {
		fmt.Fprintf(w, "Try: %s\n", ue.Hint)
	}
}

// Command signalab replays buyer-signal event logs, assigns experiment cohorts,
// computes metrics with significance, and writes reports. See README.md.
package main

import (
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
	return exitcode.Run(newRootCmd(), args, stdout, stderr)
}

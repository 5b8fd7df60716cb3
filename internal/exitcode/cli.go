package exitcode

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// This file is the error reporting shared by the CLIs (cmd/signalab and
// beam/cmd/signalab-beam), so both print errors and map them to exit codes
// the same way.

// Run executes root with args, printing an error with Print (under root's
// name) on stderr, and returns the process exit code (see Code).
func Run(root *cobra.Command, args []string, stdout, stderr io.Writer) int {
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := unknownCommand(root, args)
	if err == nil {
		err = root.Execute()
	}
	if err == nil {
		return OK
	}
	Print(stderr, root.Name(), err)
	return Code(err)
}

// Print writes err to w as the CLIs report it: a CheckFailedError's message
// alone; any other error as "prog: message", followed, for a UsageError with
// a hint, by a line "Try: hint".
func Print(w io.Writer, prog string, err error) {
	var cf *CheckFailedError
	if errors.As(err, &cf) {
		fmt.Fprintln(w, cf.Msg)
		return
	}
	fmt.Fprintf(w, "%s: %v\n", prog, err)
	var ue *UsageError
	if errors.As(err, &ue) && ue.Hint != "" {
		fmt.Fprintf(w, "Try: %s\n", ue.Hint)
	}
}

// unknownCommand reports a first argument that is a word (not a flag) but
// names no subcommand of root, before cobra parses anything: cobra would
// otherwise take the word as an argument of root and complain about the
// subcommand's flags ("unknown flag: --events"), or print root's help for
// "word --help" and exit 0. The error suggests the nearest command
// ("unknown command "replya", did you mean replay?").
func unknownCommand(root *cobra.Command, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || !root.HasSubCommands() {
		return nil
	}
	word := args[0]
	switch word {
	case "help", "completion", cobra.ShellCompRequestCmd, cobra.ShellCompNoDescRequestCmd:
		return nil
	}
	for _, c := range root.Commands() {
		if c.Name() == word || c.HasAlias(word) {
			return nil
		}
	}
	hint := root.CommandPath() + " --help"
	if root.SuggestionsMinimumDistance <= 0 {
		root.SuggestionsMinimumDistance = 2
	}
	if s := root.SuggestionsFor(word); len(s) > 0 {
		return Usagef(root.CommandPath()+" "+s[0]+" --help", "unknown command %q, did you mean %s?", word, strings.Join(s, " or "))
	}
	return Usagef(hint, "unknown command %q", word)
}

// FlagError is a cobra flag-error function: a flag that does not parse
// becomes a UsageError whose hint is "<command path> --help".
func FlagError(c *cobra.Command, err error) error {
	return &UsageError{Err: err, Hint: c.CommandPath() + " --help"}
}

// NoCommand is the Args check of a root command that takes no arguments of
// its own: a word that names no subcommand is a UsageError
// ("unknown command", hint "<root> --help").
func NoCommand(c *cobra.Command, args []string) error {
	if len(args) > 0 {
		return Usagef(c.CommandPath()+" --help", "unknown command %q", args[0])
	}
	return nil
}

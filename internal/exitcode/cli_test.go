package exitcode

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/spf13/cobra"
)

func TestPrint(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"check failed: message alone", Checkf("3 rows differ"), "3 rows differ\n"},
		{"usage: message and Try line", Usagef("prog x --help", "bad flag %q", "--n"), "prog: bad flag \"--n\"\nTry: prog x --help\n"},
		{"usage without hint", &UsageError{Err: errors.New("no hint")}, "prog: no hint\n"},
		{"wrapped usage", fmt.Errorf("ctx: %w", Usagef("h", "inner")), "prog: ctx: inner\nTry: h\n"},
		{"other error", errors.New("read x.parquet: EOF"), "prog: read x.parquet: EOF\n"},
	}
	for _, c := range cases {
		var b bytes.Buffer
		Print(&b, "prog", c.err)
		if b.String() != c.want {
			t.Errorf("%s: Print wrote %q, want %q", c.name, b.String(), c.want)
		}
	}
}

func newTestRoot(runErr error) *cobra.Command {
	root := &cobra.Command{Use: "prog", SilenceUsage: true, SilenceErrors: true}
	root.SetFlagErrorFunc(FlagError)
	root.Args = NoCommand
	root.RunE = func(c *cobra.Command, args []string) error { return nil }
	sub := &cobra.Command{Use: "sub", RunE: func(c *cobra.Command, args []string) error { return runErr }}
	sub.Flags().Int("n", 0, "a number")
	root.AddCommand(sub)
	return root
}

func TestRun(t *testing.T) {
	cases := []struct {
		args   []string
		runErr error
		code   int
		stderr string
	}{
		{[]string{"sub"}, nil, OK, ""},
		{[]string{"sub"}, Checkf("SRM p = 0.0001"), CheckFailed, "SRM p = 0.0001\n"},
		{[]string{"sub"}, errors.New("boom"), Error, "prog: boom\n"},
		{[]string{"sub", "--n", "x"}, nil, Error, "Try: prog sub --help\n"},
		{[]string{"nosuch"}, nil, Error, "prog: unknown command \"nosuch\"\nTry: prog --help\n"},
		{[]string{"sbu", "--n", "1"}, nil, Error, "prog: unknown command \"sbu\", did you mean sub?\nTry: prog sub --help\n"},
		{[]string{"sbu", "--help"}, nil, Error, "prog: unknown command \"sbu\", did you mean sub?\nTry: prog sub --help\n"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := Run(newTestRoot(c.runErr), c.args, &out, &errb)
		if code != c.code || !bytes.HasSuffix(errb.Bytes(), []byte(c.stderr)) {
			t.Errorf("Run(%q) = %d, stderr %q; want %d, stderr ending %q", c.args, code, errb.String(), c.code, c.stderr)
		}
	}
}

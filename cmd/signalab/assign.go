package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/exitcode"
)

func init() { register(newAssignCmd) }

type assignOptions struct {
	Experiment string
	In         string
	Out        string
	Exposures  string
	JSON       bool
	Check      bool
}

func newAssignCmd() *cobra.Command {
	var opts assignOptions
	c := &cobra.Command{
		Use:   "assign --experiment F --in DIR --out DIR [--exposures FILE] [--json] [--check]",
		Short: "Assign randomization units to cohorts and test for sample ratio mismatch",
		Long: `assign reads the replay's conversations.parquet from --in, keeps the conversations
that start in the experiment's window and pass its filters, assigns each
randomization unit (conversation, buyer or shop) by hashing, and writes
assignments.parquet (unit_id, variant, bucket, in_experiment, reason) and
assign.json (counts and the SRM test) to --out.

With --exposures FILE (Parquet or CSV: unit_id, variant, first_exposure_time)
the logged cohorts are used instead and checked against the hash.

A sample ratio mismatch is reported (assign.json, standard error) but does not
fail the command unless --check is given: then SRM exits with code 1.`,
		Example: `  signalab assign --experiment experiment.yaml --in out/replay --out out/assign
  signalab assign --experiment experiment.yaml --in out/replay --out out/assign --exposures exposures.csv --check`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return assignRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Experiment, "experiment", "", "experiment spec (experiment.yaml)")
	f.StringVar(&opts.In, "in", "", "replay output folder holding conversations.parquet (or the file itself)")
	f.StringVar(&opts.Out, "out", "", "folder to write assignments.parquet and assign.json to")
	f.StringVar(&opts.Exposures, "exposures", "", "historical assignment log (.parquet or .csv) to use instead of the hash")
	f.BoolVar(&opts.JSON, "json", false, "print assign.json to standard output instead of a table")
	f.BoolVar(&opts.Check, "check", false, "exit 1 when a sample ratio mismatch is flagged")
	return c
}

func assignRun(opts assignOptions, stdout, stderr io.Writer) error {
	const hint = "signalab assign --experiment experiment.yaml --in out/replay --out out/assign"
	switch {
	case opts.Experiment == "":
		return exitcode.Usagef(hint, "assign: --experiment is required")
	case opts.In == "":
		return exitcode.Usagef(hint, "assign: --in is required (the replay's output folder)")
	case opts.Out == "":
		return exitcode.Usagef(hint, "assign: --out is required")
	}
	spec, err := experiment.Load(opts.Experiment)
	if err != nil {
		return err
	}
	tx, err := beginOutputs(opts.Out, "signalab assign", assignOutputs)
	if err != nil {
		return err
	}
	defer tx.Abort()
	var log *assign.ExposureLog
	if opts.Exposures != "" {
		if log, err = assign.ReadExposures(opts.Exposures); err != nil {
			return err
		}
	}
	var res *assign.Result
	if st, serr := os.Stat(opts.In); serr == nil && st.IsDir() {
		res, err = experiment.RunAssign(spec, opts.In, log)
	} else if spec.Analysis.Unit.FromSessions() {
		res, err = assign.RunSessionsFile(spec.AssignConfig(), opts.In, log)
	} else {
		res, err = assign.RunFile(spec.AssignConfig(), opts.In, log)
	}
	if err != nil {
		return err
	}
	if err := assign.WriteOutputs(tx.Dir, res); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	sum := &res.Summary
	if opts.JSON {
		b, err := assign.MarshalSummary(sum)
		if err != nil {
			return err
		}
		if _, err := stdout.Write(b); err != nil {
			return err
		}
	} else {
		printAssignTable(stdout, sum)
	}
	flagged := srmFlags(sum)
	for _, f := range flagged {
		fmt.Fprintf(stderr, "warning: sample ratio mismatch: %s\n", f)
	}
	if e := sum.Exposures; e != nil && (e.HashMismatch > 0 || e.MultipleVariants > 0 || e.OutsideWindow > 0) {
		fmt.Fprintf(stderr, "exposures: %d units disagree with the hash, %d logged under several variants (excluded), %d first exposed outside the window; see %s\n",
			e.HashMismatch, e.MultipleVariants, e.OutsideWindow, filepath.Join(opts.Out, assign.SummaryFile))
	}
	if opts.Check && len(flagged) > 0 {
		return exitcode.Checkf("assign: sample ratio mismatch (%s); check the assignment and logging before trusting results", flagged[0])
	}
	return nil
}

// srmFlags describes each flagged SRM test, overall first.
func srmFlags(s *assign.Summary) []string {
	var out []string
	if s.SRM.Flagged {
		out = append(out, fmt.Sprintf("overall: observed %v units, p = %.3g < %g", s.SRM.Observed, s.SRM.PValue, s.SRM.Alpha))
	}
	for _, g := range s.Segments {
		if g.Flagged {
			out = append(out, fmt.Sprintf("%s = %s: observed %v units, p = %.3g < %.3g (Bonferroni over %d)",
				g.Column, g.Value, g.Observed, g.PValue, g.Alpha, g.Tests))
		}
	}
	return out
}

func printAssignTable(w io.Writer, s *assign.Summary) {
	fmt.Fprintf(w, "experiment %s: unit %s, %s, %d of %d units in the experiment (cohorts from %s)\n",
		s.Experiment, s.Unit, s.Hash, s.Units.InExperiment, s.Units.Total, s.Source)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "variant\tweight\tunits\tshare\tconversations")
	for _, a := range s.Arms {
		fmt.Fprintf(tw, "%s\t%g\t%d\t%.4f\t%d\n", a.Name, a.Weight, a.Units, a.Share, a.Conversations)
	}
	tw.Flush()
	state := "ok"
	if s.SRM.Flagged {
		state = "MISMATCH"
	}
	chi := "inf"
	if s.SRM.ChiSquare != nil {
		chi = fmt.Sprintf("%.4g", *s.SRM.ChiSquare)
	}
	fmt.Fprintf(w, "SRM: chi2 = %s, df = %d, p = %.4g (alpha %g): %s\n", chi, s.SRM.DF, s.SRM.PValue, s.SRM.Alpha, state)
}

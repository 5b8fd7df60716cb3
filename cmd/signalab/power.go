package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/stats"
)

func init() { register(newPowerCmd) }

type powerOptions struct {
	Baseline    float64
	MDE         float64
	Variance    float64
	Absolute    bool
	Alpha       float64
	Power       float64
	UnitsPerDay float64
	Variants    int
	OneSided    bool
	Sequential  bool
	TuningN     float64
	JSON        bool
	// Cluster-randomized designs.
	ClustersPerArm int
	ClusterSize    float64
	ClusterSizeCV  float64
	ICC            float64
	DesignEffect   float64
	From           string
	Metric         string
	set            func(string) bool
}

// powerReport is the --json output of signalab power (a documented contract;
// powerJSONFields in power_test.go pins the field list).
type powerReport struct {
	Metric      metrics.Type `json:"metric"`
	Baseline    float64      `json:"baseline"`
	Variance    float64      `json:"variance"`
	MDE         float64      `json:"mde"`
	Relative    bool         `json:"relative"`
	Alpha       float64      `json:"alpha"`
	Power       float64      `json:"power"`
	Alternative string       `json:"alternative"`
	Variants    int          `json:"variants"`
	Sequential  bool         `json:"sequential"`
	TuningN     *float64     `json:"tuning_n"`
	// Reachable is false when no plan reaches the power within
	// stats.MaxSampleSize units per arm or maxDays days; Reason says why,
	// and the numbers that could not be reached are null.
	Reachable   bool     `json:"reachable"`
	Reason      string   `json:"reason"`
	PerArm      *float64 `json:"per_arm"`
	Total       *float64 `json:"total"`
	UnitsPerDay *float64 `json:"units_per_day"`
	Days        *float64 `json:"days"`
	// Cluster-randomized designs (null otherwise): per_arm and total then
	// count clusters; power_at is the power of the design and mde_at its
	// MDE at --power; mean_df the test's mean degrees of freedom.
	Clusters *clusterReport `json:"clusters"`
}

// clusterReport describes the cluster design of a power report.
type clusterReport struct {
	PerArm       float64 `json:"per_arm"`
	MeanSize     float64 `json:"mean_size"`
	SizeCV       float64 `json:"size_cv"`
	ICC          float64 `json:"icc"`
	DesignEffect float64 `json:"design_effect"`
	From         string  `json:"from,omitempty"`
	Fixed        bool    `json:"fixed"`
	PowerAt      float64 `json:"power_at"`
	MDEAt        float64 `json:"mde_at"`
	MeanDF       float64 `json:"mean_df"`
}

// maxDays is the longest experiment power plans for (100 years); a longer
// one is reported as not reachable rather than as a number of days.
const maxDays = 36525

func newPowerCmd() *cobra.Command {
	var opts powerOptions
	c := &cobra.Command{
		Use:   "power --baseline P --mde X [--alpha A --power B --units-per-day N --variants K --sequential --json]",
		Short: "Sample size, total units and days needed to detect an effect",
		Long: `power computes the number of randomization units per arm needed to detect a
minimum detectable effect (--mde, relative to --baseline unless --absolute)
with the given power, the total over all --variants arms (control included),
and with --units-per-day the number of days the experiment must run.

A proportion metric (conversion rate) is assumed: --baseline is the control
rate and the variance is p(1 - p) per arm. Give --variance for a mean metric:
--baseline is then the control mean and --variance the per-unit variance.

Each treatment is compared with control at --alpha (no multiplicity
correction; divide --alpha by the number of comparisons for Bonferroni).
--sequential plans for the asymptotic confidence sequence used by
"analyze" with sequential: true (tuned at --tuning-n, default: the planned
total of control plus one treatment), which needs more units than a
fixed-horizon test. Put the printed plan: line in experiment.yaml: the
analysis then tunes its confidence sequences to the same N*.

A relative --mde is sized for the test that decides significance (the test
of the absolute difference, baseline × mde).

Cluster-randomized designs (shops randomized, conversations analysed): give
the intraclass correlation (--icc, or --design-effect) and the cluster sizes
(--cluster-size mean rows per cluster, --cluster-size-cv their coefficient of
variation; lognormal), or --from RUN_DIR to take the shops, the baseline,
the per-row variance and the intraclass correlation of --metric from a past
run's units.parquet. Units then count clusters: with --clusters-per-arm the
power and MDE of that many clusters per arm are printed, otherwise the
clusters per arm that reach --power. Power is averaged over simulated
designs (2,000, fixed seed) with the test's small-sample degrees of freedom:
unequal clusters cost power beyond the design effect.`,
		Example: `  signalab power --baseline 0.10 --mde 0.05
  signalab power --baseline 0.10 --mde 0.05 --units-per-day 2000 --variants 3
  signalab power --baseline 42.0 --variance 900 --mde 0.02 --sequential --json
  signalab power --baseline 0.10 --mde 0.3 --cluster-size 60 --cluster-size-cv 1.8 --icc 0.03
  signalab power --from out/run --metric conversion --mde 0.2`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			opts.set = func(name string) bool { return c.Flags().Changed(name) }
			return powerRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.Float64Var(&opts.Baseline, "baseline", math.NaN(), "control conversion rate (or control mean with --variance)")
	f.Float64Var(&opts.MDE, "mde", math.NaN(), "minimum detectable effect: relative lift (0.05 = +5%), or absolute with --absolute")
	f.Float64Var(&opts.Variance, "variance", 0, "per-unit variance of a mean metric (omit for a proportion)")
	f.BoolVar(&opts.Absolute, "absolute", false, "--mde is an absolute difference, not a relative lift")
	f.Float64Var(&opts.Alpha, "alpha", 0.05, "significance level")
	f.Float64Var(&opts.Power, "power", 0.8, "probability of detecting the effect")
	f.Float64Var(&opts.UnitsPerDay, "units-per-day", 0, "randomization units entering the experiment per day (all arms)")
	f.IntVar(&opts.Variants, "variants", 2, "number of arms, control included, sharing traffic equally")
	f.BoolVar(&opts.OneSided, "one-sided", false, "one-sided test in the direction of --mde")
	f.BoolVar(&opts.Sequential, "sequential", false, "plan for sequential testing (confidence sequences)")
	f.Float64Var(&opts.TuningN, "tuning-n", 0, "N* of the confidence sequence (default: the planned pairwise total)")
	f.BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	f.IntVar(&opts.ClustersPerArm, "clusters-per-arm", 0, "clusters (shops) per arm: print their power and MDE (default: solve for --power)")
	f.Float64Var(&opts.ClusterSize, "cluster-size", 0, "mean rows (conversations) per cluster")
	f.Float64Var(&opts.ClusterSizeCV, "cluster-size-cv", 0, "coefficient of variation of cluster sizes (lognormal; 1.8 is sigma 1.2 on the log scale)")
	f.Float64Var(&opts.ICC, "icc", 0, "intraclass correlation of the metric among rows of a cluster")
	f.Float64Var(&opts.DesignEffect, "design-effect", 0, "design effect 1 + ((1 + cv^2) m - 1) icc, instead of --icc")
	f.StringVar(&opts.From, "from", "", "past run folder: its shops, baseline, variance and intraclass correlation")
	f.StringVar(&opts.Metric, "metric", "", "with --from: the metric (default: the primary)")
	return c
}

func powerRun(opts powerOptions, stdout, stderr io.Writer) error {
	const hint = "signalab power --baseline 0.10 --mde 0.05"
	if opts.set == nil {
		opts.set = func(string) bool { return false }
	}
	for _, name := range []string{"clusters-per-arm", "cluster-size", "cluster-size-cv", "icc", "design-effect", "from"} {
		if opts.set(name) {
			return clusterPowerRun(opts, stdout)
		}
	}
	switch {
	case math.IsNaN(opts.Baseline):
		return exitcode.Usagef(hint, "power: --baseline is required (the control conversion rate or mean)")
	case math.IsNaN(opts.MDE):
		return exitcode.Usagef(hint, "power: --mde is required (the smallest effect worth detecting, e.g. 0.05 for +5%%)")
	case opts.MDE == 0:
		return exitcode.Usagef(hint, "power: --mde 0: no sample size detects a zero effect")
	case !(opts.Alpha > 0 && opts.Alpha < 1):
		return exitcode.Usagef(hint, "power: --alpha %v: must be between 0 and 1", opts.Alpha)
	case !(opts.Power > 0 && opts.Power < 1):
		return exitcode.Usagef(hint, "power: --power %v: must be between 0 and 1", opts.Power)
	case opts.Variants < 2:
		return exitcode.Usagef(hint, "power: --variants %d: need at least 2 arms (control and a treatment)", opts.Variants)
	case opts.UnitsPerDay < 0:
		return exitcode.Usagef(hint, "power: --units-per-day %v: must not be negative", opts.UnitsPerDay)
	case opts.Variance < 0:
		return exitcode.Usagef(hint, "power: --variance %v: must be positive", opts.Variance)
	case opts.TuningN < 0:
		return exitcode.Usagef(hint, "power: --tuning-n %v: must be positive", opts.TuningN)
	}
	spec := stats.PowerSpec{Kind: stats.Proportion, Baseline: opts.Baseline, Absolute: opts.Absolute, Alpha: opts.Alpha}
	metric := metrics.Proportion
	if opts.Variance > 0 {
		spec.Kind, spec.Variance, metric = stats.Mean, opts.Variance, metrics.Mean
	}
	alt := "two-sided"
	if opts.OneSided {
		spec.Alternative, alt = stats.Greater, "greater"
		if opts.MDE < 0 {
			spec.Alternative, alt = stats.Less, "less"
		}
	}
	n, err := spec.SampleSize(opts.MDE, opts.Power)
	var unreachable *stats.NotReachableError
	if err != nil && !errors.As(err, &unreachable) {
		return exitcode.Usagef(hint, "power: %v", err)
	}
	rep := powerReport{Reachable: true, Metric: metric, Baseline: opts.Baseline, Variance: spec.Variance, MDE: opts.MDE,
		Relative: !opts.Absolute, Alpha: opts.Alpha, Power: opts.Power, Alternative: alt,
		Variants: opts.Variants, Sequential: opts.Sequential}
	if metric == metrics.Proportion {
		rep.Variance = opts.Baseline * (1 - opts.Baseline)
	}
	switch {
	case unreachable != nil:
		rep.Reachable, rep.Reason = false, unreachable.Reason
	case opts.Sequential:
		tuning := opts.TuningN
		if tuning == 0 {
			// N* = the planned pairwise total: a fixed point, since the
			// plan depends on N* (a few iterations from the fixed-horizon
			// total).
			tuning = 2 * n
			for range 30 {
				spec.Sequential = stats.Sequential{Enabled: true, TuningN: tuning}
				m, err := spec.SampleSize(opts.MDE, opts.Power)
				if err != nil {
					break // reported by the SampleSize below
				}
				if 2*m == tuning {
					break
				}
				tuning = 2 * m
			}
		}
		spec.Sequential = stats.Sequential{Enabled: true, TuningN: tuning}
		n, err = spec.SampleSize(opts.MDE, opts.Power)
		if errors.As(err, &unreachable) {
			rep.Reachable, rep.Reason = false, unreachable.Reason
		} else if err != nil {
			return exitcode.Usagef(hint, "power: %v", err)
		}
		rep.TuningN = &tuning
	}
	if rep.Reachable {
		total := n * float64(opts.Variants)
		rep.PerArm, rep.Total = &n, &total
	}
	if opts.UnitsPerDay > 0 {
		upd := opts.UnitsPerDay
		rep.UnitsPerDay = &upd
		if rep.Reachable {
			days := math.Ceil(*rep.Total / upd)
			if days <= maxDays {
				rep.Days = &days
			} else {
				rep.Reachable = false
				rep.Reason = fmt.Sprintf("%.0f units in total at %g units per day would take %.3g years, more than the 100 planned for", *rep.Total, upd, *rep.Total/upd/365.25)
			}
		}
	}
	return writePower(stdout, rep, opts.JSON)
}

// writePower prints the report as a table, or as JSON with asJSON.
func writePower(w io.Writer, rep powerReport, asJSON bool) error {
	if asJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	printPower(w, rep)
	return nil
}

func printPower(w io.Writer, r powerReport) {
	effect := fmt.Sprintf("%+g (absolute)", r.MDE)
	if r.Relative {
		effect = fmt.Sprintf("%+g%% relative", 100*r.MDE)
	}
	method := "fixed horizon"
	if r.Sequential && r.TuningN != nil {
		method = fmt.Sprintf("sequential (confidence sequence, N* = %.0f)", *r.TuningN)
	}
	fmt.Fprintf(w, "%s metric, baseline %g, effect %s, alpha %g %s, power %g, %s\n",
		r.Metric, r.Baseline, effect, r.Alpha, r.Alternative, r.Power, method)
	if r.Clusters != nil {
		printClusterPower(w, r)
		return
	}
	if r.PerArm == nil {
		fmt.Fprintf(w, "units per arm: not reachable: %s\n", r.Reason)
		return
	}
	fmt.Fprintf(w, "units per arm: %.0f\n", *r.PerArm)
	fmt.Fprintf(w, "total units:   %.0f (%d arms)\n", *r.Total, r.Variants)
	switch {
	case r.Days != nil:
		fmt.Fprintf(w, "days:          %.0f at %g units per day\n", *r.Days, *r.UnitsPerDay)
	case r.UnitsPerDay != nil:
		fmt.Fprintf(w, "days:          not reachable: %s\n", r.Reason)
	}
	printPlan(w, r)
}

// printPlan prints the spec lines that tune the analysis to a sequential
// plan.
func printPlan(w io.Writer, r powerReport) {
	if r.Sequential && r.TuningN != nil {
		fmt.Fprintf(w, "experiment.yaml: plan: {units_per_arm: %.0f} and analysis: {sequential: true} (N* = %.0f)\n", *r.TuningN/2, *r.TuningN)
	}
}

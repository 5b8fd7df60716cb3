package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
)

// gateFlag is --gate: the outcomes that exit 1 (analysis.ParseGates).
type gateFlag struct{ g *analysis.GateSet }

func (f gateFlag) String() string { return f.g.String() }

func (f gateFlag) Set(s string) error {
	g, err := analysis.ParseGates(s)
	if err != nil {
		return err
	}
	*f.g = g
	return nil
}

func (gateFlag) Type() string { return "list" }

const gateUsage = "outcomes that exit 1, comma-separated: srm (sample ratio mismatch), guardrail (a guardrail failed), " +
	"dont-ship, inconclusive (the verdict), or none"

// gateError is a CheckFailedError (exit 1) naming the outcomes of r that
// gates fail on, or nil.
func gateError(r *results.Results, gates analysis.GateSet) error {
	f := gates.Failures(r)
	if len(f) == 0 {
		return nil
	}
	return exitcode.Checkf("%s", "gates failed (--gate "+gates.String()+"):\n  "+strings.Join(f, "\n  "))
}

// printResults writes the verdict, the rows of segment all and the gates.
// Means and changes are in the metric's unit: percent for proportions,
// major currency units for money (the currency is named), plain numbers
// otherwise; a treatment mean marked * is CUPED-adjusted (at the control's
// pre-period level), so that treatment − control is the change shown.
func printResults(w io.Writer, r *results.Results) {
	ex := r.Experiment
	v := r.Verdict
	fmt.Fprintf(w, "verdict: %s (%s %ss)\n", verdictWords(v.Decision), v.Population, unitNoun(ex))
	for _, vv := range v.Variants {
		if len(v.Variants) > 1 {
			fmt.Fprintf(w, "  %s: %s\n", vv.Variant, verdictWords(vv.Decision))
		}
		for _, reason := range vv.Reasons {
			fmt.Fprintf(w, "  - %s\n", reason)
		}
	}
	if len(v.Variants) == 0 {
		for _, reason := range v.Reasons {
			fmt.Fprintf(w, "  - %s\n", reason)
		}
	}
	infos := map[string]*results.Metric{}
	for i := range r.Metrics {
		infos[r.Metrics[i].Name] = &r.Metrics[i]
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	clusters := ex.Unit != "" && ex.Unit != ex.AnalysisUnit && ex.Unit != ex.AnalysisUnit+"_id"
	head := "metric\trole\tvariant\tpopulation\t"
	if clusters {
		head += plural(strings.TrimSuffix(ex.Unit, "_id")) + " c/t\t"
	}
	head += unitNoun(ex) + "s c/t\tcontrol\ttreatment\tchange\trelative\tCI\tp\tadjusted CI\tadj. p\tsignificant"
	fmt.Fprintln(tw, head)
	adjustedMeans := false
	for _, row := range r.Rows {
		if row.Segment != results.SegmentAll {
			continue
		}
		info := infos[row.Metric]
		name, role := row.Metric, ""
		if info != nil {
			role = info.Role
			if info.Money {
				name += " (" + currencyLabel(ex.Currency) + ")"
			}
		}
		line := fmt.Sprintf("%s\t%s\t%s\t%s\t", name, role, row.Variant, row.Population)
		if clusters {
			line += fmt.Sprintf("%d/%d\t", row.Control.Clusters, row.Treatment.Clusters)
		}
		line += fmt.Sprintf("%d/%d\t", row.Control.Units, row.Treatment.Units)
		if row.Reason != "" {
			fmt.Fprintln(tw, line+"no estimate: "+row.Reason)
			continue
		}
		f := valueFormatter(info, row.MetricType, ex.Currency, float64(row.Control.Mean))
		treat := f(float64(row.Treatment.Mean))
		if row.Treatment.AdjustedMean.Valid() {
			treat, adjustedMeans = f(float64(row.Treatment.AdjustedMean))+"*", true
		}
		adjCI, adjP := "", ""
		if a := row.Adjusted; a != nil {
			adjCI = fmt.Sprintf("[%s, %s] %s", pct(float64(a.Relative.CILower)), pct(float64(a.Relative.CIUpper)), familyWords(row))
			adjP = pval(float64(row.PValueAdjusted))
		}
		sig := "no"
		if row.Significant {
			sig = "yes"
		}
		line += fmt.Sprintf("%s\t%s\t%s\t%s\t[%s, %s]\t%s\t%s\t%s\t%s", f(float64(row.Control.Mean)), treat,
			change(f, row.MetricType, float64(row.Absolute.Estimate)), pct(float64(row.Relative.Estimate)),
			pct(float64(row.Relative.CILower)), pct(float64(row.Relative.CIUpper)), pval(float64(row.PValue)), adjCI, adjP, sig)
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
	conf := strconv.FormatFloat(100*(1-ex.Alpha), 'g', 4, 64) + "%"
	fmt.Fprintf(w, "CI: %s confidence interval of the relative change; adjusted CI: the interval that agrees with the adjusted p and the significance (its test, correction and family size in brackets).\n", conf)
	if adjustedMeans {
		fmt.Fprintln(w, "* CUPED-adjusted treatment mean (at the control's pre-period level): treatment − control is the change shown.")
	}
	if ex.Independence != "" {
		fmt.Fprintf(w, "independence: %s\n", ex.Independence)
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	for _, g := range r.Gates.Checks {
		fmt.Fprintf(w, "gate %s: %s (%s)\n", g.Name, gateWords(g), g.Reason)
	}
}

func gateWords(g results.Gate) string {
	switch {
	case g.NotRun:
		return "not run"
	case !g.Passed:
		return "FAIL"
	case g.Outcome == analysis.GuardrailInconclusive:
		return "inconclusive"
	}
	return "pass"
}

func verdictWords(d string) string {
	switch d {
	case analysis.Ship:
		return "ship"
	case analysis.DontShip:
		return "don't ship"
	}
	return d
}

func unitNoun(ex results.Experiment) string {
	if ex.AnalysisUnit == "" {
		return "unit"
	}
	return ex.AnalysisUnit
}

func plural(s string) string {
	if strings.HasSuffix(s, "s") {
		return s
	}
	return s + "s"
}

func familyWords(row results.Row) string {
	seq := ""
	if row.DecisionTest == analysis.DecisionSequential {
		seq = "sequential, "
	}
	if row.Correction == "" || row.Correction == "none" || row.FamilySize <= 1 {
		return "(" + seq + "unadjusted)"
	}
	return fmt.Sprintf("(%s%s, %d)", seq, row.Correction, row.FamilySize)
}

func currencyLabel(code string) string {
	if code == "" {
		return "currency units"
	}
	return code
}

// valueFormatter formats a metric's values: percent for proportions, money
// with its currency's decimals, else the decimals that show the control
// mean ref with three significant digits, the same for every number of the
// row (as the reports do).
func valueFormatter(info *results.Metric, metricType, currency string, ref float64) func(float64) string {
	switch {
	case metrics.Type(metricType) == metrics.Proportion:
		return func(x float64) string { return strconv.FormatFloat(100*x, 'f', 1, 64) + "%" }
	case info != nil && info.Money:
		d := results.MinorUnitExponent(currency)
		return func(x float64) string { return strconv.FormatFloat(x, 'f', d, 64) }
	}
	d := 2
	if ref != 0 && !math.IsNaN(ref) && !math.IsInf(ref, 0) {
		d = min(6, max(0, 2-int(math.Floor(math.Log10(math.Abs(ref))))))
	}
	return func(x float64) string { return strconv.FormatFloat(x, 'f', d, 64) }
}

func change(f func(float64) string, metricType string, x float64) string {
	if metrics.Type(metricType) == metrics.Proportion {
		return fmt.Sprintf("%+.1f pp", 100*x)
	}
	s := f(x)
	if x >= 0 {
		s = "+" + s
	}
	return s
}

func pct(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "+inf"
	case math.IsInf(x, -1):
		return "-inf"
	case math.IsNaN(x):
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", 100*x)
}

func pval(p float64) string {
	switch {
	case math.IsNaN(p):
		return "n/a"
	case p < 0.001:
		return "<0.001"
	}
	return strconv.FormatFloat(p, 'g', 2, 64)
}

package reports

// The verdict at the top of the report and the guardrails of the health
// section: both come from results.json (verdict, guardrails), the report
// only words them.

import (
	"fmt"
	"strings"

	"github.com/signalab/signalab/results"
)

// verdictView is results.json's verdict in words.
type verdictView struct {
	Decision string // ship | dont_ship | inconclusive
	Text     string // "Ship", "Don't ship", "Inconclusive"
	Where    string // "triggered conversations"
	Reasons  []string
	Variants []variantVerdictView // when there are several treatments
}

type variantVerdictView struct {
	Variant string
	Text    string
	Reasons []string
}

func verdictText(d string) string {
	switch d {
	case "ship":
		return "Ship"
	case "dont_ship":
		return "Don't ship"
	case "inconclusive":
		return "Inconclusive"
	}
	return "No verdict"
}

func buildVerdict(res *results.Results) verdictView {
	v := res.Verdict
	out := verdictView{Decision: v.Decision, Text: verdictText(v.Decision),
		Where: populationWords(v.Population, res.Experiment.AnalysisUnit)}
	if v.Decision == "" {
		out.Decision = "inconclusive"
	}
	if len(v.Variants) == 1 {
		out.Reasons = v.Variants[0].Reasons
	} else {
		out.Reasons = v.Reasons
		for _, vv := range v.Variants {
			out.Variants = append(out.Variants, variantVerdictView{Variant: vv.Variant, Text: verdictText(vv.Decision), Reasons: vv.Reasons})
		}
	}
	return out
}

// guardrailView is one guardrail check.
type guardrailView struct {
	Metric   string
	Variant  string
	Outcome  string // pass | fail | inconclusive
	Text     string // "Pass", "Fail", "Inconclusive"
	Margin   string
	Estimate string
	Interval string
	Bound    string
	Power    string
	Reason   string
	Alpha    string
}

func buildGuardrails(res *results.Results, metrics map[string]*results.Metric) []guardrailView {
	var out []guardrailView
	for _, g := range res.Guardrails {
		f := SignedPercent
		if g.Scale == "absolute" {
			vf := formatFor(metrics[g.Metric], "", res.Experiment.Currency, g.Margin)
			f = vf.absolute
		}
		v := guardrailView{Metric: metricLabel(metrics[g.Metric], g.Metric, res.Experiment.Currency), Variant: g.Variant,
			Outcome: g.Outcome, Text: strings.ToUpper(g.Outcome[:1]) + g.Outcome[1:], Margin: f(g.Margin),
			Estimate: f(float64(g.Estimate)), Reason: g.Reason, Alpha: Alpha(g.Alpha)}
		lo, hi := lowerText(f, g.CILower), upperText(f, g.CIUpper)
		v.Interval = lo + " to " + hi
		v.Bound = "lower " + lo
		if g.Direction == "decrease" {
			v.Bound = "upper " + hi
		}
		if !g.Estimate.Valid() {
			v.Interval, v.Bound = notAvailable, notAvailable
		}
		if p := float64(g.PowerAtMargin); g.PowerAtMargin.Valid() {
			// Whole percent, as the guardrail's reason states it.
			v.Power = fmt.Sprintf("%.0f%%", 100*p)
			if p < 0.01 {
				v.Power = "< 1%"
			}
		} else {
			v.Power = notAvailable
		}
		out = append(out, v)
	}
	return out
}

// lowerText and upperText format the ends of an interval from results.json,
// where a null (NaN) end is infinite (an unbounded relative interval).
func lowerText(f func(float64) string, x results.Num) string {
	if !x.Valid() || float64(x) < -1e300 {
		return "\u2212∞"
	}
	return f(float64(x))
}

func upperText(f func(float64) string, x results.Num) string {
	if !x.Valid() || float64(x) > 1e300 {
		return "+∞"
	}
	return f(float64(x))
}

// intervalText formats an interval from results.json of an estimate est:
// "+3.1% to +16.4%", null ends as ±∞ (unbounded), "n/a" when the estimate
// itself is undefined.
func intervalText(f func(float64) string, est, lo, hi results.Num) string {
	if !est.Valid() {
		return notAvailable
	}
	return lowerText(f, lo) + " to " + upperText(f, hi)
}

package reports

// The "Decision at a glance" section: one headline per treatment variant on
// the primary metric, and the gates (sample ratio, guardrails).

import (
	"fmt"
	"math"
	"strings"

	"github.com/signalab/signalab/results"
)

// headline is the decision at a glance for one treatment variant.
type headline struct {
	Metric      string // display name
	MetricKey   string // results.json name
	Variant     string
	Population  string // results.json population
	Where       string // "triggered conversations"
	Verdict     string // "significant" | "not-significant" | "no-result"
	VerdictText string
	Sentence    string
	Secondary   string // the other population, one sentence
	Relative    valueView
	CILower     valueView
	CIUpper     valueView
	PValue      valueView
	PAdjusted   string // "" when the correction left p unchanged
	Control     string
	Treatment   string
	ChanceToWin string
}

type gatesView struct {
	Passed bool
	Checks []gateView
}

type gateView struct {
	Name   string
	Passed bool
	NotRun bool
	Detail string
}

// findRow returns the row for metric × variant × segment × population.
func findRow(res *results.Results, metric, variant, segment, value, pop string) *results.Row {
	for i := range res.Rows {
		row := &res.Rows[i]
		if row.Metric == metric && row.Variant == variant && row.Segment == segment &&
			row.SegmentValue == value && row.Population == pop {
			return row
		}
	}
	return nil
}

func treatments(ex results.Experiment) []string {
	var out []string
	for _, v := range ex.Variants {
		if v.Name != ex.Control {
			out = append(out, v.Name)
		}
	}
	return out
}

// headlinePopulation picks the population the decision is stated for: the
// triggered conversations when that row has a result (the signal can change
// only those), else all conversations.
func headlinePopulation(res *results.Results, metric, variant string) (main, other *results.Row) {
	trig := findRow(res, metric, variant, results.SegmentAll, "", results.PopulationTriggered)
	all := findRow(res, metric, variant, results.SegmentAll, "", results.PopulationAll)
	if trig != nil && trig.Reason == "" && trig.Relative.Estimate.Valid() {
		return trig, all
	}
	if all != nil {
		return all, trig
	}
	return trig, nil
}

func buildHeadlines(res *results.Results, metrics map[string]*results.Metric) []headline {
	ex := res.Experiment
	var out []headline
	for _, v := range treatments(ex) {
		main, other := headlinePopulation(res, ex.Primary, v)
		h := headline{Metric: DisplayName(ex.Primary), MetricKey: ex.Primary, Variant: v}
		if main == nil {
			h.Verdict, h.VerdictText = "no-result", "No result"
			h.Sentence = fmt.Sprintf("%s: results.json has no row for variant %s.", h.Metric, v)
			out = append(out, h)
			continue
		}
		h.Population = main.Population
		h.Where = populationWords(main.Population, ex.AnalysisUnit)
		f := formatFor(metrics[main.Metric], main.MetricType)
		h.Relative = newValue(main.Relative.Estimate, SignedPercent)
		h.CILower = newValue(main.Relative.CILower, SignedPercent)
		h.CIUpper = newValue(main.Relative.CIUpper, SignedPercent)
		h.PValue = newValue(main.PValue, PValue)
		if main.PValue.Valid() && main.PValueAdjusted.Valid() && math.Abs(float64(main.PValueAdjusted-main.PValue)) > 1e-12 {
			h.PAdjusted = PValue(float64(main.PValueAdjusted))
		}
		h.Control = f.value(float64(main.Control.Mean))
		h.Treatment = f.value(float64(main.Treatment.Mean))
		if main.Bayesian != nil {
			h.ChanceToWin = Percent(float64(main.Bayesian.ChanceToWin))
		}
		h.Sentence = sentence(main, ex, h.Metric)
		switch {
		case main.Reason != "" || !main.Relative.Estimate.Valid():
			h.Verdict, h.VerdictText = "no-result", "No result"
		case main.Significant:
			h.Verdict, h.VerdictText = "significant", "Significant"
		case lostToCorrection(main, ex.Alpha):
			h.Verdict, h.VerdictText = "not-significant", "Not significant after correction"
		default:
			h.Verdict, h.VerdictText = "not-significant", "Not significant"
		}
		if other != nil {
			h.Secondary = sentence(other, ex, "The same metric")
		}
		out = append(out, h)
	}
	return out
}

// sentence states one row's result in plain words, e.g. "Conversion rose
// +9.8% (95% CI +3.1% to +16.4%) among triggered conversations, from 12.1% to
// 13.3%; significant at α = 0.05 (p = 0.004)."
func sentence(row *results.Row, ex results.Experiment, subject string) string {
	where := populationWords(row.Population, ex.AnalysisUnit)
	if row.Reason != "" || !row.Relative.Estimate.Valid() {
		why := row.Reason
		if why == "" {
			why = "the relative effect is undefined"
		}
		return fmt.Sprintf("%s among %s could not be estimated: %s.", subject, where, why)
	}
	rel := float64(row.Relative.Estimate)
	verb := "did not change"
	switch {
	case rel > 0:
		verb = "rose " + Percent(rel)
	case rel < 0:
		verb = "fell " + Percent(-rel)
	}
	f := formatFor(nil, row.MetricType)
	s := fmt.Sprintf("%s %s (%s CI %s) among %s", subject, verb, Confidence(ex.Alpha),
		PercentCI(float64(row.Relative.CILower), float64(row.Relative.CIUpper)), where)
	if row.Control.Mean.Valid() && row.Treatment.Mean.Valid() && isProportion(row.MetricType) {
		s += fmt.Sprintf(", from %s in %s to %s in %s", f.value(float64(row.Control.Mean)), row.Control.Name,
			f.value(float64(row.Treatment.Mean)), row.Treatment.Name)
	}
	p := pPhrase(row)
	if row.Significant {
		return s + fmt.Sprintf("; significant at α = %s (%s).", Alpha(ex.Alpha), p)
	}
	if lostToCorrection(row, ex.Alpha) {
		return s + fmt.Sprintf("; %s is below α = %s but the %s-adjusted p = %s is not: promising, not confirmed.",
			pEquals(float64(row.PValue)), Alpha(ex.Alpha), correctionName(ex.Correction), PValue(float64(row.PValueAdjusted)))
	}
	return s + fmt.Sprintf("; not significant at α = %s (%s): the data are consistent with no effect.", Alpha(ex.Alpha), p)
}

// pEquals states a p-value as "p = 0.031" or "p < 0.001".
func pEquals(x float64) string {
	p := PValue(x)
	if strings.HasPrefix(p, "<") {
		return "p " + p
	}
	return "p = " + p
}

// lostToCorrection reports whether a row is significant by its raw p-value
// but not by its adjusted one (so its unadjusted interval may exclude zero
// while the verdict is "not significant").
func lostToCorrection(row *results.Row, alpha float64) bool {
	return !row.Significant && row.PValue.Valid() && row.PValueAdjusted.Valid() &&
		float64(row.PValue) < alpha && float64(row.PValueAdjusted) >= alpha
}

func pPhrase(row *results.Row) string {
	s := pEquals(float64(row.PValue))
	if row.PValueAdjusted.Valid() && row.PValue.Valid() && math.Abs(float64(row.PValueAdjusted-row.PValue)) > 1e-12 {
		s += ", adjusted " + PValue(float64(row.PValueAdjusted))
	}
	return s
}

func buildGates(res *results.Results) gatesView {
	g := gatesView{Passed: res.Gates.Passed}
	for _, c := range res.Gates.Checks {
		name := "Sample ratio"
		if c.Kind == "guardrail" {
			name = "Guardrail " + DisplayName(c.Metric)
			if c.Variant != "" {
				name += " (" + c.Variant + ")"
			}
		}
		detail := c.Reason
		if detail == "" {
			switch c.Kind {
			case "srm":
				detail = fmt.Sprintf("p = %s, threshold %s", PValue(float64(c.Value)), Alpha(float64(c.Threshold)))
			default:
				detail = fmt.Sprintf("relative change %s, limit %s", SignedPercent(float64(c.Value)), SignedPercent(float64(c.Threshold)))
			}
		}
		g.Checks = append(g.Checks, gateView{Name: name, Passed: c.Passed, NotRun: c.NotRun, Detail: detail})
	}
	return g
}

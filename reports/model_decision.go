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
	CILower     valueView // the interval that agrees with Verdict (adjusted)
	CIUpper     valueView
	CILabel     string // "95% CI" or "Holm-adjusted 97.5% CI"
	PValue      valueView
	PAdjusted   string // "" when the correction left p unchanged
	PAdjWords   string // "adjusted", "sequential"
	Control     string
	Treatment   string
	// Shops and Units: randomization units and analysis units per arm.
	Shops       string
	Units       string
	ChanceToWin string
}

type gatesView struct {
	Passed bool
	Checks []gateView
}

type gateView struct {
	Name         string
	Passed       bool
	NotRun       bool
	Inconclusive bool
	Detail       string
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

// headlinePopulation picks the rows the decision is stated for: the
// verdict's population (results.json experiment.decision_population:
// triggered when the table has a triggered column, else all), and the
// other population's row.
func headlinePopulation(res *results.Results, metric, variant string) (main, other *results.Row) {
	pop := res.Experiment.DecisionPopulation
	if pop == "" {
		pop = results.PopulationTriggered
	}
	alt := results.PopulationAll
	if pop == results.PopulationAll {
		alt = results.PopulationTriggered
	}
	main = findRow(res, metric, variant, results.SegmentAll, "", pop)
	other = findRow(res, metric, variant, results.SegmentAll, "", alt)
	if main == nil {
		return other, nil
	}
	return main, other
}

func buildHeadlines(res *results.Results, metrics map[string]*results.Metric) []headline {
	ex := res.Experiment
	var out []headline
	for _, v := range treatments(ex) {
		main, other := headlinePopulation(res, ex.Primary, v)
		h := headline{Metric: metricLabel(metrics[ex.Primary], ex.Primary, ex.Currency), MetricKey: ex.Primary, Variant: v}
		if main == nil {
			h.Verdict, h.VerdictText = "no-result", "No result"
			h.Sentence = fmt.Sprintf("%s: results.json has no row for variant %s.", h.Metric, v)
			out = append(out, h)
			continue
		}
		h.Population = main.Population
		h.Where = populationWords(main.Population, ex.AnalysisUnit)
		f := formatFor(metrics[main.Metric], main.MetricType, ex.Currency, float64(main.Control.Mean))
		h.Relative = newValue(main.Relative.Estimate, SignedPercent)
		lo, hi := main.Relative.CILower, main.Relative.CIUpper
		h.CILabel = Confidence(ex.Alpha) + " CI"
		if a := main.Adjusted; a != nil {
			lo, hi = a.Relative.CILower, a.Relative.CIUpper
			h.CILabel = ciLabel(main, a)
		}
		h.CILower, h.CIUpper = newBound(lo, true), newBound(hi, false)
		h.PValue = newValue(main.PValue, PValue)
		if main.PValue.Valid() && main.PValueAdjusted.Valid() && math.Abs(float64(main.PValueAdjusted-main.PValue)) > 1e-12 {
			h.PAdjusted = PValue(float64(main.PValueAdjusted))
			h.PAdjWords = "adjusted"
			if main.DecisionTest == "sequential" {
				h.PAdjWords = "sequential"
			}
		}
		h.Control = f.value(float64(main.Control.Mean))
		h.Treatment = f.value(float64(main.Treatment.Mean))
		if main.Treatment.AdjustedMean.Valid() {
			h.Treatment = f.value(float64(main.Treatment.AdjustedMean)) + " (CUPED-adjusted)"
		}
		h.Units = Count(main.Control.Units) + " vs " + Count(main.Treatment.Units) + " " + plural(ex.AnalysisUnit)
		if k := unitWords(ex.Unit); ex.Unit != "" && k != plural(ex.AnalysisUnit) {
			h.Shops = Count(main.Control.Clusters) + " vs " + Count(main.Treatment.Clusters) + " " + k
		}
		if main.Bayesian != nil {
			h.ChanceToWin = Percent(float64(main.Bayesian.ChanceToWin))
		}
		h.Sentence = sentence(main, ex, h.Metric, f)
		switch {
		case main.Reason != "" || !main.Relative.Estimate.Valid():
			h.Verdict, h.VerdictText = "no-result", "No result"
		case main.Significant:
			h.Verdict, h.VerdictText = "significant", "Significant"
		case lostToCorrection(main, ex.Alpha) && main.DecisionTest == "sequential":
			h.Verdict, h.VerdictText = "not-significant", "Not significant (sequential)"
		case lostToCorrection(main, ex.Alpha):
			h.Verdict, h.VerdictText = "not-significant", "Not significant after correction"
		default:
			h.Verdict, h.VerdictText = "not-significant", "Not significant"
		}
		if other != nil {
			h.Secondary = sentence(other, ex, "The same metric", formatFor(metrics[other.Metric], other.MetricType, ex.Currency, float64(other.Control.Mean)))
		}
		out = append(out, h)
	}
	return out
}

// ciLabel words an adjusted interval: "95% CI" when no correction changed
// it, "Holm-adjusted 97.5% CI" when one did.
func ciLabel(row *results.Row, a *results.Adjusted) string {
	conf := Confidence(1 - a.Confidence)
	if row.DecisionTest == "sequential" {
		conf += " sequential"
	}
	if row.FamilySize <= 1 || row.Correction == "" || row.Correction == "none" {
		return conf + " CI"
	}
	return correctionName(row.Correction) + "-adjusted " + conf + " CI"
}

// sentence states one row's result in plain words, e.g. "Conversion rose
// +9.8% (95% CI +3.1% to +16.4%) among triggered conversations, from 12.1% to
// 13.3%; significant at α = 0.05 (p = 0.004)." The interval is the one that
// agrees with the verdict (adjusted within the row's family).
func sentence(row *results.Row, ex results.Experiment, subject string, f valueFormat) string {
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
	label, lo, hi := Confidence(ex.Alpha)+" CI", row.Relative.CILower, row.Relative.CIUpper
	if a := row.Adjusted; a != nil {
		label, lo, hi = ciLabel(row, a), a.Relative.CILower, a.Relative.CIUpper
	}
	s := fmt.Sprintf("%s %s (%s %s) among %s", subject, verb, label, intervalText(SignedPercent, row.Relative.Estimate, lo, hi), where)
	if row.Control.Mean.Valid() && row.Treatment.Mean.Valid() {
		t, adj := row.Treatment.Mean, ""
		if row.Treatment.AdjustedMean.Valid() {
			t, adj = row.Treatment.AdjustedMean, " (CUPED-adjusted)"
		}
		s += fmt.Sprintf(", from %s in %s to %s in %s%s", f.value(float64(row.Control.Mean)), row.Control.Name,
			f.value(float64(t)), row.Treatment.Name, adj)
	}
	p := pPhrase(row)
	if row.Significant {
		return s + fmt.Sprintf("; significant at α = %s (%s).", Alpha(ex.Alpha), p)
	}
	if lostToCorrection(row, ex.Alpha) {
		return s + fmt.Sprintf("; %s is below α = %s but the %s p = %s is not: promising, not confirmed.",
			pEquals(float64(row.PValue)), Alpha(ex.Alpha), decisionPWords(row), PValue(float64(row.PValueAdjusted)))
	}
	return s + fmt.Sprintf("; not significant at α = %s (%s): the data are consistent with no effect.", Alpha(ex.Alpha), p)
}

// decisionPWords names the p-value a row's significance uses when it is not
// its raw p-value: "Holm-adjusted", "always-valid sequential", or both.
func decisionPWords(row *results.Row) string {
	corrected := row.FamilySize > 1 && row.Correction != "" && row.Correction != "none"
	switch {
	case row.DecisionTest == "sequential" && corrected:
		return correctionName(row.Correction) + "-adjusted sequential"
	case row.DecisionTest == "sequential":
		return "always-valid sequential"
	}
	return correctionName(row.Correction) + "-adjusted"
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
		s += ", " + decisionPWords(row) + " " + PValue(float64(row.PValueAdjusted))
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
			if c.Outcome == "inconclusive" {
				name += ": inconclusive"
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
		g.Checks = append(g.Checks, gateView{Name: name, Passed: c.Passed, NotRun: c.NotRun,
			Inconclusive: c.Outcome == "inconclusive", Detail: detail})
	}
	return g
}

package analysis

import (
	"fmt"
	"math"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// Guardrail outcomes (also the outcomes of gates).
const (
	GuardrailPass         = "pass"
	GuardrailFail         = "fail"
	GuardrailInconclusive = "inconclusive"
	// GateNotRun is the outcome of a gate that could not be computed (the
	// SRM test without units or with one weighted arm).
	GateNotRun = "not_run"
)

// Verdicts.
const (
	Ship         = "ship"
	DontShip     = "dont_ship"
	Inconclusive = "inconclusive"
)

// PrimaryCheck outcomes.
const (
	OutcomeBetter       = "better"
	OutcomeWorse        = "worse"
	OutcomeNoDifference = "no_difference"
	OutcomeUndefined    = "undefined"
)

// MDEPower is the power at which the verdict states the minimum detectable
// effect of each primary metric.
const MDEPower = 0.8

// decisionPopulation is the population of the verdict: Options.Population
// when the table has a triggered column, else all.
func (s *state) decisionPopulation() string {
	if s.cfg.TriggeredCol == "" {
		return results.PopulationAll
	}
	return s.cfg.Population
}

func (s *state) guardrailAlpha(g *Guardrail) float64 {
	if g.Alpha > 0 {
		return g.Alpha
	}
	return s.cfg.Alpha
}

// guardrails runs the non-inferiority check of every guardrail metric ×
// treatment variant on all units (population all, segment all): the
// decision test at level 2α gives an interval whose ends are one-sided
// (1 − α) bounds; on the harmful side (below for a metric that should
// increase, above for one that should decrease) the bound must clear the
// margin to pass; the check fails when the whole interval lies beyond the
// margin (significantly worse than tolerated), and is inconclusive
// otherwise. A relative margin is judged with Fieller's interval of the
// relative change (a test of Δ = margin·μ_C that accounts for the
// uncertainty of the control mean); an absolute one with the interval of
// the absolute change, in the metric's unit.
//
// PowerAtMargin is Φ(|margin|/SE₀ − q): the chance of passing when the true
// change is zero, with SE₀ the standard error of the change under no effect
// (absolute SE, divided by |control mean| for a relative margin) and q the
// one-sided critical value of the test.
//
// References: Wellek (2010), Testing Statistical Hypotheses of Equivalence
// and Noninferiority, ch. 2; FDA (2016), Non-Inferiority Clinical Trials to
// Establish Effectiveness (the one-sided bound against the margin);
// Spotify Confidence (non-inferiority margins for guardrail metrics).
func (s *state) guardrails(rows []results.Row) []results.GuardrailResult {
	out := []results.GuardrailResult{}
	for k := range rows {
		r := &rows[k]
		ref := s.refs[k]
		m := &s.cfg.Metrics[ref.i]
		g := m.Guardrail
		if g == nil || r.Segment != results.SegmentAll || r.Population != results.PopulationAll {
			continue
		}
		alpha := s.guardrailAlpha(g)
		gr := results.GuardrailResult{Metric: r.Metric, Variant: r.Variant, Population: r.Population,
			Direction: m.good(), Scale: metrics.Relative, Margin: g.Margin, Alpha: alpha,
			Estimate: results.NaN(), CILower: results.NaN(), CIUpper: results.NaN(), PowerAtMargin: results.NaN(),
			Outcome: GuardrailInconclusive}
		if g.Absolute {
			gr.Scale = metrics.Absolute
		}
		if r.Reason != "" {
			gr.Reason = fmt.Sprintf("%s not evaluated: %s", m.Name, r.Reason)
			out = append(out, gr)
			continue
		}
		res := s.compareRef(ref, 2*alpha, s.cfg.Sequential)
		est, lo, hi := res.RelEffect, res.RelCI[0], res.RelCI[1]
		se0 := res.AbsSE / math.Abs(res.ControlMean)
		if g.Absolute {
			est, lo, hi = res.AbsEffect, res.AbsCI[0], res.AbsCI[1]
			se0 = res.AbsSE
		}
		if res.Reason != "" || (!g.Absolute && res.RelSE == 0) {
			gr.Reason = fmt.Sprintf("%s not evaluated: %s", m.Name, orWord(res.Reason, "relative change undefined"))
			out = append(out, gr)
			continue
		}
		gr.Estimate, gr.CILower, gr.CIUpper = num(est), num(lo), num(hi)
		q := (res.AbsCI[1] - res.AbsCI[0]) / (2 * res.AbsSE)
		if se0 > 0 && !math.IsNaN(q) {
			gr.PowerAtMargin = num(distuv.UnitNormal.CDF(math.Abs(g.Margin)/se0 - q))
		}
		harm, safe := lo, hi // increase: the harmful side is below
		beyond := func(x float64) bool { return x < g.Margin }
		side := "lower"
		if m.good() == metrics.Decrease {
			harm, safe = hi, lo
			beyond = func(x float64) bool { return x > g.Margin }
			side = "upper"
		}
		f := s.marginFormat(m, g.Absolute)
		conf := fmt.Sprintf("%.4g%%", 100*(1-alpha))
		switch {
		case !beyond(harm):
			gr.Outcome = GuardrailPass
			gr.Reason = fmt.Sprintf("%s: the one-sided %s %s bound %s clears the margin %s (estimate %s)",
				m.Name, conf, side, f(harm), f(g.Margin), f(est))
		case beyond(safe):
			gr.Outcome = GuardrailFail
			gr.Reason = fmt.Sprintf("%s is significantly worse than the margin %s: estimate %s, %s interval %s to %s",
				m.Name, f(g.Margin), f(est), fmt.Sprintf("%.4g%%", 100*(1-2*alpha)), f(lo), f(hi))
		default:
			gr.Reason = fmt.Sprintf("%s: the one-sided %s %s bound %s does not clear the margin %s (estimate %s): "+
				"a change beyond the margin cannot be ruled out", m.Name, conf, side, f(harm), f(g.Margin), f(est))
		}
		if p := float64(gr.PowerAtMargin); gr.PowerAtMargin.Valid() {
			if p < 0.01 {
				gr.Reason += "; power at the margin below 1%"
			} else {
				gr.Reason += fmt.Sprintf("; power at the margin %.0f%%", 100*p)
			}
		}
		out = append(out, gr)
	}
	return out
}

// marginFormat formats a guardrail's values: percentages for a relative
// margin, numbers with the currency for an absolute margin on money.
func (s *state) marginFormat(m *Metric, absolute bool) func(float64) string {
	if !absolute {
		return func(x float64) string {
			if math.IsInf(x, 0) {
				return fmt.Sprintf("%+v", x)
			}
			return signed(fmt.Sprintf("%+.1f%%", 100*x))
		}
	}
	unit := ""
	if m.money() && s.money.code != "" {
		unit = " " + s.money.code
	}
	return func(x float64) string { return signed(fmt.Sprintf("%+.4g", x)) + unit }
}

// harmfulBound is a guardrail's bound on its harmful side.
func harmfulBound(g results.GuardrailResult) results.Num {
	if g.Direction == metrics.Decrease {
		return g.CIUpper
	}
	return g.CILower
}

func orWord(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

// verdict states the decision for each treatment variant and overall, in
// the decision population:
//
//   - don't ship: the sample ratio check failed (the results may be
//     biased), a guardrail failed, or a primary metric is significantly
//     worse;
//   - ship: otherwise, when at least one primary metric is significantly
//     better (after its family's correction) and every guardrail passed;
//   - inconclusive: otherwise (no primary metric significantly better, a
//     primary metric without an estimate, or a guardrail inconclusive).
//
// Overall: ship when some variant ships, don't ship when every variant
// must not ship, else inconclusive. Each primary metric reports the
// relative change its decision test detects with 80% power at the observed
// standard error and level α/m (m its family's size): what the experiment
// could have seen.
func (s *state) verdict(out *results.Results) results.Verdict {
	pop := s.decisionPopulation()
	v := results.Verdict{Population: pop, Reasons: []string{}, Variants: []results.VariantVerdict{}}
	byKey := map[[3]string]int{}
	for k := range out.Rows {
		r := &out.Rows[k]
		if r.Segment == results.SegmentAll {
			byKey[[3]string{r.Metric, r.Variant, r.Population}] = k
		}
	}
	srm := out.Health.SRM
	anyShip, allDont := false, true
	for _, variant := range treatmentNames(out.Experiment) {
		vv := results.VariantVerdict{Variant: variant, Reasons: []string{}, Primary: []results.PrimaryCheck{}}
		dont, better, open := false, false, false
		if srm != nil && srm.Flagged {
			dont = true
			vv.Reasons = append(vv.Reasons, fmt.Sprintf("sample ratio mismatch (p = %.2g < %g): assignment or logging is broken and the effects may be biased",
				float64(srm.PValue), srm.Alpha))
		}
		for i := range s.cfg.Metrics {
			if s.cfg.role(i) != RolePrimary {
				continue
			}
			m := &s.cfg.Metrics[i]
			chk := results.PrimaryCheck{Metric: m.Name, Direction: m.good(), Outcome: OutcomeUndefined,
				Relative: results.NaN(), CILower: results.NaN(), CIUpper: results.NaN(), PValueAdjusted: results.NaN(),
				MDERelative: results.NaN()}
			k, ok := byKey[[3]string{m.Name, variant, pop}]
			if !ok || out.Rows[k].Reason != "" {
				why := "no row"
				if ok {
					why = out.Rows[k].Reason
				}
				vv.Reasons = append(vv.Reasons, fmt.Sprintf("%s could not be estimated among %s units: %s", m.Name, pop, why))
				open = true
				vv.Primary = append(vv.Primary, chk)
				continue
			}
			r := &out.Rows[k]
			chk.Relative, chk.PValueAdjusted = r.Relative.Estimate, r.PValueAdjusted
			if r.Adjusted != nil {
				chk.CILower, chk.CIUpper = r.Adjusted.Relative.CILower, r.Adjusted.Relative.CIUpper
			}
			chk.MDEAlpha = s.cfg.Alpha / float64(max(r.FamilySize, 1))
			chk.MDERelative = s.mde(s.refs[k], chk.MDEAlpha)
			up := float64(r.Absolute.Estimate) > 0
			good := up == (m.good() == metrics.Increase)
			kind := ""
			if r.DecisionTest == DecisionSequential {
				kind = " sequential"
			}
			ci := fmt.Sprintf("%s%s %.4g%% CI %s to %s", correctionWords(r.Correction, r.FamilySize), kind,
				100*confidence(r), pctS(float64(chk.CILower)), pctS(float64(chk.CIUpper)))
			pw := "adjusted p"
			switch {
			case kind != "" && correctionWords(r.Correction, r.FamilySize) == "unadjusted":
				pw = "sequential p"
			case kind != "":
				pw = "adjusted sequential p"
			case correctionWords(r.Correction, r.FamilySize) == "unadjusted":
				pw = "p"
			}
			switch {
			case r.Significant && good:
				chk.Outcome = OutcomeBetter
				better = true
				vv.Reasons = append(vv.Reasons, fmt.Sprintf("%s %s %s (%s, %s %s): significantly better",
					m.Name, changeVerb(float64(r.Relative.Estimate)), pctS(float64(r.Relative.Estimate)), ci, pw, pWords(float64(r.PValueAdjusted))))
			case r.Significant:
				chk.Outcome = OutcomeWorse
				dont = true
				vv.Reasons = append(vv.Reasons, fmt.Sprintf("%s %s %s (%s, %s %s): significantly worse",
					m.Name, changeVerb(float64(r.Relative.Estimate)), pctS(float64(r.Relative.Estimate)), ci, pw, pWords(float64(r.PValueAdjusted))))
			default:
				chk.Outcome = OutcomeNoDifference
				reason := fmt.Sprintf("%s: no significant change (%s, %s, %s %s)", m.Name,
					pctS(float64(r.Relative.Estimate)), ci, pw, pWords(float64(r.PValueAdjusted)))
				if chk.MDERelative.Valid() {
					reason += fmt.Sprintf("; this sample detects about ±%.1f%% with %.0f%% power", 100*float64(chk.MDERelative), 100*MDEPower)
				}
				vv.Reasons = append(vv.Reasons, reason)
			}
			vv.Primary = append(vv.Primary, chk)
		}
		for _, g := range out.Guardrails {
			if g.Variant != variant {
				continue
			}
			switch g.Outcome {
			case GuardrailFail:
				dont = true
				vv.Reasons = append(vv.Reasons, "guardrail failed: "+g.Reason)
			case GuardrailInconclusive:
				open = true
				vv.Reasons = append(vv.Reasons, "guardrail inconclusive: "+g.Reason)
			default:
				vv.Reasons = append(vv.Reasons, "guardrail passed: "+g.Reason)
			}
		}
		switch {
		case dont:
			vv.Decision = DontShip
		case better && !open:
			vv.Decision = Ship
		default:
			vv.Decision = Inconclusive
		}
		anyShip = anyShip || vv.Decision == Ship
		allDont = allDont && vv.Decision == DontShip
		v.Variants = append(v.Variants, vv)
	}
	switch {
	case len(v.Variants) == 0:
		v.Decision = Inconclusive
		v.Reasons = append(v.Reasons, "no treatment variant to compare")
	case anyShip:
		v.Decision = Ship
	case allDont:
		v.Decision = DontShip
	default:
		v.Decision = Inconclusive
	}
	for _, vv := range v.Variants {
		if len(v.Variants) > 1 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("%s: %s", vv.Variant, strings.ReplaceAll(vv.Decision, "_", " ")))
		}
	}
	if len(v.Variants) == 1 {
		v.Reasons = append(v.Reasons, v.Variants[0].Reasons...)
	}
	return v
}

// mde is the relative change the decision test detects with MDEPower at
// level alpha (two-sided) at the row's standard error: (q + z_power)·SE₀,
// q the test's critical value at alpha (t, z or the confidence sequence's
// multiplier), SE₀ = SE(Δ)/|control mean|.
func (s *state) mde(ref rowRef, alpha float64) results.Num {
	res := s.compareAt(ref, alpha, s.cfg.Sequential)
	if res.Reason != "" || res.AbsSE <= 0 || res.ControlMean == 0 {
		return results.NaN()
	}
	q := (res.AbsCI[1] - res.AbsCI[0]) / (2 * res.AbsSE)
	return num((q + distuv.UnitNormal.Quantile(MDEPower)) * res.AbsSE / math.Abs(res.ControlMean))
}

func treatmentNames(ex results.Experiment) []string {
	var out []string
	for _, v := range ex.Variants {
		if v.Name != ex.Control {
			out = append(out, v.Name)
		}
	}
	return out
}

func confidence(r *results.Row) float64 {
	if r.Adjusted == nil {
		return math.NaN()
	}
	return r.Adjusted.Confidence
}

func correctionWords(c stats.Correction, m int) string {
	if c == stats.NoCorrection || c == "" || m <= 1 {
		return "unadjusted"
	}
	return string(c) + "-adjusted"
}

func changeVerb(x float64) string {
	switch {
	case x > 0:
		return "rose"
	case x < 0:
		return "fell"
	}
	return "changed"
}

func pctS(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "+∞"
	case math.IsInf(x, -1):
		return "−∞"
	case math.IsNaN(x):
		return "n/a"
	}
	return signed(fmt.Sprintf("%+.1f%%", 100*x))
}

// signed replaces a leading hyphen-minus by U+2212, the minus sign the
// reports print.
func signed(s string) string {
	if strings.HasPrefix(s, "-") {
		return "\u2212" + s[1:]
	}
	return s
}

func pWords(p float64) string {
	if p < 0.001 {
		return "< 0.001"
	}
	return fmt.Sprintf("%.3g", p)
}

package reports

// The view model of a report: the page every template renders, buildPage,
// the header (title, window, method line) and the wording helpers the
// sections share. Each section's part of the page is built in its own file:
// model_decision.go, model_health.go, model_metrics.go (with the forest
// plot), model_timeline.go, model_dilution.go, model_segments.go,
// model_signals.go and model_spec.go, in the order the report shows them.

import (
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// page is the view model of a report: every string already formatted, so
// the templates only lay it out. The HTML and Markdown templates share it.
type page struct {
	Title        string
	ToolVersion  string
	Window       string
	Unit         string // randomization unit column
	UnitWords    string // "shops"
	AnalysisUnit string
	Confidence   string // "95%"
	Alpha        string // "0.05"
	Correction   string // display name, "none" when uncorrected
	Method       string // one line: test, interval, CUPED, …
	CUPED        bool
	Bayesian     bool
	Sequential   bool
	MultiVariant bool
	ReasonSpan   int // columns a "no estimate" cell spans in a metric table
	Schema       string
	CSS          template.CSS

	Verdict    verdictView
	Headlines  []headline
	Guardrails []guardrailView
	// HasTriggered is false for a table without a triggered population
	// (a generic table): no triggered columns, no dilution, no signals.
	HasTriggered bool
	// Clustered is true when the randomization unit is coarser than a row:
	// metric tables then give both per arm.
	Clustered bool
	// DeltaRelative is true when relative intervals are the delta
	// method's, which may disagree with the test (marked in the tables).
	DeltaRelative bool
	Gates         gatesView
	Health        healthView
	Tables        []metricTable
	Forest        template.HTML
	Timelines     []timeline
	Dilution      []dilutionView
	Segments      []segmentTable
	SegNote       string
	Signals       *signalsView
	Warnings      []string
	// Independence says what the analysis treats as independent; Tests
	// which tests produced the p-values and intervals (inference.go).
	Independence string
	Tests        string
	AA           *aaView

	Spec     string
	SpecPath string
	Manifest string
	// ManifestFields are manifest.json's top-level fields in words.
	ManifestFields []manifestField
	Replay         string
	Assign         string
}

// valueView is a formatted number with its raw value for data- attributes
// (the browser test compares the two with results.json).
type valueView struct {
	Text string
	Raw  string // strconv 'g' -1 of the float64, "" when not finite
}

func newValue(x results.Num, f func(float64) string) valueView {
	v := valueView{Text: f(float64(x))}
	if x.Valid() {
		v.Raw = strconv.FormatFloat(float64(x), 'g', -1, 64)
	}
	return v
}

// DisplayName turns a column-style name into words: "reply_minutes" →
// "Reply minutes", "aov" → "AOV" (names of three letters or fewer are
// taken as acronyms).
func DisplayName(name string) string {
	if name == "" {
		return ""
	}
	if len(name) <= 3 && !strings.ContainsAny(name, "_- ") {
		return strings.ToUpper(name)
	}
	s := strings.ReplaceAll(name, "_", " ")
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// valueFormat is how a metric's values print: proportions in percent, money
// (results.json metrics[].money) in major units of the experiment's currency
// with its minor unit's decimals, anything else as a plain number. Within
// one row every value (the means, the absolute change and its intervals)
// keeps the same decimals, chosen from the control mean so that it shows
// three significant digits. formatFor chooses it.
type valueFormat struct {
	value    func(float64) string
	absolute func(float64) string
	ci       func(lo, hi float64) string
}

// formatFor returns the format of metric m's values in a row whose control
// mean is ref (NaN when unknown).
func formatFor(m *results.Metric, metricType, currency string, ref float64) valueFormat {
	if isProportion(metricType) {
		d := percentDecimals(ref)
		pct := func(x float64) string { return fixed(100*x, d) + "%" }
		pp := func(x float64) string { return signedFixed(100*x, d) + " pp" }
		return valueFormat{value: pct, absolute: pp, ci: func(lo, hi float64) string {
			if !finite(lo) || !finite(hi) {
				return notAvailable
			}
			return pp(lo) + " to " + pp(hi)
		}}
	}
	d := numberDecimals(ref)
	if m != nil && m.Money {
		d = results.MinorUnitExponent(currency)
		if currency == "" || currency == "mixed" {
			d = 2
		}
	}
	abs := func(x float64) string { return signedFixed(x, d) }
	return valueFormat{value: func(x float64) string { return fixed(x, d) }, absolute: abs, ci: func(lo, hi float64) string {
		if !finite(lo) || !finite(hi) {
			return notAvailable
		}
		return abs(lo) + " to " + abs(hi)
	}}
}

// percentDecimals is the number of decimals that shows a proportion p in
// percent with three significant digits (at least one: 18.1%, 1.23%).
func percentDecimals(p float64) int {
	if !finite(p) || p == 0 {
		return 1
	}
	return max(1, 2-int(math.Floor(math.Log10(math.Abs(100*p)))))
}

// numberDecimals is the number of decimals that shows x with three
// significant digits (none from 100 up: 4.01, 91.5, 1,234).
func numberDecimals(x float64) int {
	if !finite(x) || x == 0 {
		return 2
	}
	return min(6, max(0, 2-int(math.Floor(math.Log10(math.Abs(x))))))
}

// fixed formats x with d decimals and thousands separators; U+2212 for
// minus.
func fixed(x float64, d int) string {
	if !finite(x) {
		return notAvailable
	}
	s := strconv.FormatFloat(math.Abs(x), 'f', d, 64)
	whole, frac, ok := strings.Cut(s, ".")
	out := groupThousands(whole)
	if ok {
		out += "." + frac
	}
	if x < 0 && strings.Trim(s, "0.") != "" {
		return "\u2212" + out
	}
	return out
}

// signedFixed is fixed with an explicit sign.
func signedFixed(x float64, d int) string {
	s := fixed(x, d)
	if finite(x) && x > 0 && strings.Trim(strconv.FormatFloat(x, 'f', d, 64), "0.") != "" {
		return "+" + s
	}
	return s
}

// isProportion reports whether a results.json metric type names a
// proportion metric (metrics.Proportion).
func isProportion(metricType string) bool { return metrics.Type(metricType) == metrics.Proportion }

// currencyLabel names the unit of money metrics: the ISO code, "mixed
// currencies", or "currency units" when the data record none.
func currencyLabel(code string) string {
	switch code {
	case "":
		return "currency units"
	case "mixed":
		return "mixed currencies"
	}
	return code
}

// metricLabel is a metric's display name with its unit for money metrics:
// "Revenue (USD)".
func metricLabel(m *results.Metric, name, currency string) string {
	if m != nil && m.Money {
		return DisplayName(name) + " (" + currencyLabel(currency) + ")"
	}
	return DisplayName(name)
}

// Money formats an amount in major currency units with two decimals and
// thousands separators: 1234.5 → "1,234.50".
func Money(x float64) string { return fixed(x, 2) }

// unitWords turns a randomization-unit column into a plural noun:
// "shop_id" → "shops", "conversation_id" → "conversations".
func unitWords(col string) string {
	return plural(strings.TrimSuffix(col, "_id"))
}

func populationWords(pop, unit string) string {
	units := plural(unit)
	switch pop {
	case results.PopulationTriggered:
		return "triggered " + units
	case results.PopulationAll:
		return "all " + units
	}
	return pop + " " + units
}

func plural(unit string) string {
	if unit == "" {
		unit = "unit"
	}
	if strings.HasSuffix(unit, "s") {
		return unit
	}
	return unit + "s"
}

// correctionName is the display name of a correction, "none" when results
// are uncorrected.
func correctionName(c stats.Correction) string {
	switch c {
	case stats.HolmCorrection:
		return "Holm"
	case stats.BHCorrection:
		return "Benjamini–Hochberg"
	case stats.BonferroniCorrection:
		return "Bonferroni"
	case stats.BYCorrection:
		return "Benjamini–Yekutieli"
	case stats.HochbergCorrection:
		return "Hochberg"
	}
	return "none"
}

// buildPage derives the view model from a loaded report.
func buildPage(r *Report, charts bool) (*page, error) {
	res := r.Results
	ex := res.Experiment
	p := &page{
		Title:        ex.Name,
		ToolVersion:  res.ToolVersion,
		Unit:         ex.Unit,
		UnitWords:    unitWords(ex.Unit),
		AnalysisUnit: ex.AnalysisUnit,
		Confidence:   Confidence(ex.Alpha),
		Alpha:        Alpha(ex.Alpha),
		Correction:   correctionName(ex.Correction),
		CUPED:        ex.CUPED,
		Bayesian:     ex.Bayesian,
		Sequential:   ex.Sequential,
		Schema:       res.SchemaVersion,
		MultiVariant: len(ex.Variants) > 2,
		Warnings:     res.Warnings,
		SpecPath:     r.SpecPath,
		Spec:         string(r.Spec),
	}
	p.ReasonSpan = 7
	for _, on := range []bool{p.CUPED, p.Bayesian, p.Sequential} {
		if on {
			p.ReasonSpan++
		}
	}
	if p.Title == "" {
		p.Title = "Experiment"
	}
	if p.AnalysisUnit == "" {
		p.AnalysisUnit = "unit"
	}
	if ex.Window != nil {
		p.Window = ex.Window.Start.UTC().Format("2006-01-02") + " to " + ex.Window.End.UTC().Format("2006-01-02")
	}
	p.Method = methodLine(res)
	metrics := map[string]*results.Metric{}
	for i := range res.Metrics {
		metrics[res.Metrics[i].Name] = &res.Metrics[i]
	}
	for i := range res.Rows {
		if res.Rows[i].Population == results.PopulationTriggered {
			p.HasTriggered = true
			break
		}
	}
	p.Clustered = ex.Unit != "" && unitWords(ex.Unit) != plural(p.AnalysisUnit)
	p.DeltaRelative = ex.RelativeCI.String() != "fieller"
	p.Verdict = buildVerdict(res)
	p.Guardrails = buildGuardrails(res, metrics)
	p.Headlines = buildHeadlines(res, metrics)
	p.Gates = buildGates(res)
	p.Health = buildHealth(res)
	p.Tables = buildTables(res, metrics)
	p.Dilution = buildDilution(res)
	p.Segments = buildSegments(res, metrics)
	p.SegNote = segmentNote(res)
	p.Independence = res.Experiment.Independence
	p.Tests = testsSentence(res)
	p.AA = buildAA(r.AA)
	if res.Signals != nil {
		p.Signals = buildSignals(res.Signals)
	}
	if err := addSpecAndRun(p, r); err != nil {
		return nil, err
	}
	if charts {
		if err := addCharts(p, res); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func methodLine(res *results.Results) string {
	ex := res.Experiment
	var parts []string
	if tests := clusterTests(res); tests != "" {
		parts = append(parts, tests)
	} else {
		switch ex.Test {
		case stats.Z:
			parts = append(parts, "z test")
		case stats.StudentPooled:
			parts = append(parts, "Student t test with pooled variance")
		default:
			parts = append(parts, "Welch t test")
		}
		switch ex.RelativeCI {
		case stats.FiellerCI:
			parts = append(parts, "Fieller interval for relative lift (agrees with the test)")
		case stats.LogCI:
			parts = append(parts, "log-scale interval for relative lift")
		default:
			parts = append(parts, "delta-method interval for relative lift")
		}
	}
	if ex.CUPED {
		parts = append(parts, "CUPED adjustment")
	}
	if c := correctionName(ex.Correction); ex.Correction != stats.NoCorrection && ex.Correction != "" && ex.CorrectionScope != "none" {
		scope := "within the primary, secondary and guardrail metrics apart"
		switch ex.CorrectionScope {
		case "metric":
			scope = "within each metric across variants"
		case "all":
			scope = "across all metrics"
		}
		parts = append(parts, c+" correction "+scope)
	}
	if len(ex.Segments) > 0 && ex.SegmentCorrection != "" {
		parts = append(parts, correctionName(ex.SegmentCorrection)+" within each segment column")
	}
	if ex.Sequential {
		parts = append(parts, "sequential confidence sequences")
	}
	if ex.Bayesian {
		parts = append(parts, "Bayesian chance to win")
	}
	parts = append(parts, "α = "+Alpha(ex.Alpha))
	return strings.Join(parts, " · ")
}

func share(n, d int64) string {
	if d <= 0 {
		return notAvailable
	}
	return Percent(float64(n) / float64(d))
}

// addCharts draws the forest plot (metrics section), the cumulative lift
// (over time) and the signal histograms (signals), in that order.
func addCharts(p *page, res *results.Results) error {
	if err := addForest(p, res); err != nil {
		return err
	}
	if err := addTimelines(p, res); err != nil {
		return err
	}
	return addSignalCharts(p, res)
}

package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/signalab/signalab/results"
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

	Headlines []headline
	Gates     gatesView
	Health    healthView
	Tables    []metricTable
	Forest    template.HTML
	Timelines []timeline
	Dilution  []dilutionView
	Segments  []segmentTable
	SegNote   string
	Signals   *signalsView
	Warnings  []string

	Spec     string
	SpecPath string
	Manifest string
	// ManifestFields are manifest.json's top-level fields in words.
	ManifestFields []manifestField
	Replay         string
	Assign         string
}

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

type gatesView struct {
	Passed bool
	Checks []gateView
}

type gateView struct {
	Name   string
	Passed bool
	Detail string
}

type healthView struct {
	SRM      *srmView
	Arms     []armView
	Replay   *replayView
	Excluded []keyCount
	Problems int
}

type srmView struct {
	Unit      string // plural noun, "shops"
	PPhrase   string // "p = 0.73" or "p < 0.001"
	PValue    valueView
	ChiSquare string
	Alpha     string
	Flagged   bool
	Reason    string
	Source    string
	Arms      []srmArm
}

type srmArm struct {
	Name     string
	Observed string
	Expected string
	Share    string
	Planned  string
}

type armView struct {
	Name               string
	RandomizationUnits string
	Units              string
	TriggeredUnits     string
	TriggeredShare     string
	UnitsRaw           int64
}

type replayView struct {
	Rows       []qualityRow
	ByReason   []keyCount
	EventsRead string
}

type qualityRow struct {
	Name  string
	Count string
	Share string
	Raw   int64
	Note  string
	Warn  bool
}

type keyCount struct {
	Key   string
	Count string
}

type metricTable struct {
	Population string // results.json population
	Title      string
	Rows       []metricRow
}

type metricRow struct {
	ID          string // stable id for data- attributes: metric/variant/segment/value/population
	Metric      string
	MetricKey   string
	Variant     string
	Segment     string
	Population  string
	Control     string
	Treatment   string
	ControlN    string
	TreatmentN  string
	Absolute    string
	AbsoluteCI  string
	Relative    valueView
	RelativeCI  string
	PValue      valueView
	PAdjusted   valueView
	CUPED       string
	ChanceToWin string
	Sequential  string
	Significant bool
	Primary     bool
	Reason      string
}

type timeline struct {
	Title string
	Chart template.HTML
	Note  string
	Last  string
}

type dilutionView struct {
	Metric           string
	Variant          string
	ShareControl     string
	ShareTreatment   string
	Triggered        string
	ImpliedAll       string
	ObservedAll      string
	Sentence         string
	TriggeredRelRaw  string
	ImpliedAllRelRaw string
}

type segmentTable struct {
	Column  string
	Primary []metricRow
	Other   []metricRow
}

// segmentNote warns that segment p-values are raw when no segment row was
// adjusted: with n comparisons about n·α look significant by chance alone.
func segmentNote(res *results.Results) string {
	n := 0
	for i := range res.Rows {
		row := &res.Rows[i]
		if row.Segment == results.SegmentAll || !row.PValue.Valid() {
			continue
		}
		if row.PValueAdjusted.Valid() && math.Abs(float64(row.PValueAdjusted-row.PValue)) > 1e-12 {
			return ""
		}
		n++
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("Segment p-values are not adjusted for multiple comparisons: among these %d comparisons about %s "+
		"would look significant at α = %s by chance alone. Read segments as exploration, not as decisions.",
		n, strconv.FormatFloat(float64(n)*res.Experiment.Alpha, 'f', 1, 64), Alpha(res.Experiment.Alpha))
}

type signalsView struct {
	Conversations   string
	Triggered       string
	TriggeredShare  string
	WithSignal      string
	Signals         string
	MeanPerConv     string
	Kinds           []kindView
	KindsTotal      string
	PerConversation template.HTML
	PerConvTable    []binView
	FirstSignal     []quantileView
	FirstSignalMean string
	FirstSignalN    string
	FirstSignalHist template.HTML
}

type kindView struct {
	Kind  string
	Count string
	Share string
	Width template.CSS
}

type binView struct {
	Label string
	Count string
}

type quantileView struct {
	Q     string
	Value string
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

// valueFormat returns how a metric's values print: proportions in percent,
// money columns (a "_cents" suffix, see docs/design.md) in currency units
// with two decimals, anything else as a plain number.
type valueFormat struct {
	value    func(float64) string
	absolute func(float64) string
	ci       func(lo, hi float64) string
}

func formatFor(m *results.Metric, metricType string) valueFormat {
	if metricType == "proportion" {
		return valueFormat{value: Percent, absolute: PercentPoints, ci: func(lo, hi float64) string {
			return PercentPoints(lo) + " to " + PercentPoints(hi)
		}}
	}
	if m != nil && isMoney(m) {
		money := func(x float64) string { return Money(x / 100) }
		signed := func(x float64) string {
			switch {
			case !finite(x):
				return notAvailable
			case x > 0:
				return "+" + money(x)
			case x < 0:
				return "\u2212" + money(-x)
			}
			return money(0)
		}
		return valueFormat{value: money, absolute: signed, ci: func(lo, hi float64) string {
			if !finite(lo) || !finite(hi) {
				return notAvailable
			}
			return signed(lo) + " to " + signed(hi)
		}}
	}
	return valueFormat{value: Number, absolute: SignedNumber, ci: NumberCI}
}

// isMoney reports whether a metric's value is money in minor units: its
// outcome, or a ratio's numerator over a non-money denominator, ends in
// "_cents".
func isMoney(m *results.Metric) bool {
	if m.Type == "ratio" {
		return strings.HasSuffix(m.Numerator, "_cents") && !strings.HasSuffix(m.Denominator, "_cents")
	}
	return strings.HasSuffix(m.Outcome, "_cents")
}

// Money formats an amount in major currency units with two decimals and
// thousands separators: 1234.5 → "1,234.50".
func Money(x float64) string {
	if !finite(x) {
		return notAvailable
	}
	s := strconv.FormatFloat(math.Abs(x), 'f', 2, 64)
	whole, frac, _ := strings.Cut(s, ".")
	out := groupThousands(whole) + "." + frac
	if x < 0 {
		return "\u2212" + out
	}
	return out
}

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

func correctionName(c string) string {
	switch c {
	case "holm":
		return "Holm"
	case "bh":
		return "Benjamini–Hochberg"
	case "", "none":
		return "none"
	}
	return c
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
	p.ReasonSpan = 6
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
	p.Method = methodLine(ex)
	metrics := map[string]*results.Metric{}
	for i := range res.Metrics {
		metrics[res.Metrics[i].Name] = &res.Metrics[i]
	}
	p.Headlines = buildHeadlines(res, metrics)
	p.Gates = buildGates(res)
	p.Health = buildHealth(res)
	p.Tables = buildTables(res, metrics)
	p.Dilution = buildDilution(res)
	p.Segments = buildSegments(res, metrics)
	p.SegNote = segmentNote(res)
	if res.Signals != nil {
		p.Signals = buildSignals(res.Signals)
	}
	var err error
	for _, pair := range []struct {
		raw json.RawMessage
		dst *string
	}{{r.Manifest, &p.Manifest}, {r.Replay, &p.Replay}, {r.Assign, &p.Assign}} {
		if len(pair.raw) == 0 {
			continue
		}
		var b bytes.Buffer
		if err = json.Indent(&b, pair.raw, "", "  "); err != nil {
			return nil, err
		}
		*pair.dst = b.String()
	}
	if len(r.Manifest) > 0 {
		if p.ManifestFields, err = manifestFields(r.Manifest); err != nil {
			return nil, fmt.Errorf("manifest.json: %w", err)
		}
	}
	if charts {
		if err := addCharts(p, res); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func methodLine(ex results.Experiment) string {
	var parts []string
	switch ex.Test {
	case "z":
		parts = append(parts, "z test")
	case "", "welch":
		parts = append(parts, "Welch t test")
	default:
		parts = append(parts, ex.Test+" test")
	}
	switch ex.RelativeCI {
	case "fieller":
		parts = append(parts, "Fieller interval for relative lift")
	default:
		parts = append(parts, "delta-method interval for relative lift")
	}
	if ex.CUPED {
		parts = append(parts, "CUPED adjustment")
	}
	if c := correctionName(ex.Correction); c != "none" {
		parts = append(parts, c+" correction for multiple comparisons")
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
	if row.Control.Mean.Valid() && row.Treatment.Mean.Valid() && row.MetricType == "proportion" {
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
		g.Checks = append(g.Checks, gateView{Name: name, Passed: c.Passed, Detail: detail})
	}
	return g
}

func share(n, d int64) string {
	if d <= 0 {
		return notAvailable
	}
	return Percent(float64(n) / float64(d))
}

func sortedCounts(m map[string]int64) []keyCount {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]keyCount, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyCount{Key: strings.ReplaceAll(k, "_", " "), Count: Count(m[k])})
	}
	return out
}

func buildHealth(res *results.Results) healthView {
	var h healthView
	if s := res.Health.SRM; s != nil {
		v := &srmView{Unit: unitWords(s.Unit), PPhrase: pEquals(float64(s.PValue)), PValue: newValue(s.PValue, PValue), ChiSquare: Number(float64(s.ChiSquare)),
			Alpha: Alpha(s.Alpha), Flagged: s.Flagged, Reason: s.Reason, Source: s.Source}
		var total int64
		for _, o := range s.Observed {
			total += o
		}
		weights := map[string]float64{}
		for _, vr := range res.Experiment.Variants {
			weights[vr.Name] = vr.Weight
		}
		for i, name := range s.Variants {
			a := srmArm{Name: name, Observed: notAvailable, Expected: notAvailable, Share: notAvailable,
				Planned: Percent(weights[name])}
			if i < len(s.Observed) {
				a.Observed = Count(s.Observed[i])
				a.Share = share(s.Observed[i], total)
			}
			if i < len(s.Expected) {
				a.Expected = Number(float64(s.Expected[i]))
			}
			v.Arms = append(v.Arms, a)
		}
		if s.Flagged {
			h.Problems++
		}
		h.SRM = v
	}
	for _, a := range res.Health.Arms {
		h.Arms = append(h.Arms, armView{Name: a.Name, RandomizationUnits: Count(a.RandomizationUnits),
			Units: Count(a.Units), TriggeredUnits: Count(a.TriggeredUnits),
			TriggeredShare: share(a.TriggeredUnits, a.Units), UnitsRaw: a.Units})
	}
	if q := res.Health.Replay; q != nil {
		rv := &replayView{EventsRead: Count(q.EventsRead)}
		add := func(name string, n int64, note string, warnAbove float64) {
			row := qualityRow{Name: name, Count: Count(n), Share: share(n, q.EventsRead), Raw: n, Note: note}
			if q.EventsRead > 0 && float64(n)/float64(q.EventsRead) > warnAbove {
				row.Warn = true
				h.Problems++
			}
			rv.Rows = append(rv.Rows, row)
		}
		add("Accepted", q.Accepted, "used by the signal logic", 2)
		add("Duplicates", q.Duplicates, "redelivered event ids, dropped", 0.05)
		add("Stale", q.Stale, "cart updates older than the stored snapshot", 0.05)
		add("Late", q.Late, "beyond max out-of-orderness + allowed lateness", 0.01)
		add("Quarantined", q.Quarantined, "rows that break the event schema", 0.001)
		rv.ByReason = sortedCounts(q.QuarantinedByReason)
		h.Replay = rv
	}
	excluded := map[string]int64{}
	for k, n := range res.Health.Excluded {
		if n != 0 {
			excluded[k] = n
		}
	}
	h.Excluded = sortedCounts(excluded)
	if !res.Gates.Passed {
		for _, c := range res.Gates.Checks {
			if !c.Passed && c.Kind != "srm" {
				h.Problems++
			}
		}
	}
	return h
}

func rowID(row *results.Row) string {
	return strings.Join([]string{row.Metric, row.Variant, row.Segment, row.SegmentValue, row.Population}, "/")
}

func buildRow(res *results.Results, row *results.Row, metrics map[string]*results.Metric) metricRow {
	f := formatFor(metrics[row.Metric], row.MetricType)
	m := metricRow{
		ID: rowID(row), Metric: DisplayName(row.Metric), MetricKey: row.Metric, Variant: row.Variant,
		Segment:     row.SegmentValue,
		Population:  row.Population,
		Control:     f.value(float64(row.Control.Mean)),
		Treatment:   f.value(float64(row.Treatment.Mean)),
		ControlN:    Count(row.Control.Units),
		TreatmentN:  Count(row.Treatment.Units),
		Absolute:    f.absolute(float64(row.Absolute.Estimate)),
		AbsoluteCI:  f.ci(float64(row.Absolute.CILower), float64(row.Absolute.CIUpper)),
		Relative:    newValue(row.Relative.Estimate, SignedPercent),
		RelativeCI:  PercentCI(float64(row.Relative.CILower), float64(row.Relative.CIUpper)),
		PValue:      newValue(row.PValue, PValue),
		PAdjusted:   newValue(row.PValueAdjusted, PValue),
		Significant: row.Significant,
		Primary:     row.Metric == res.Experiment.Primary,
		Reason:      row.Reason,
	}
	if row.Segment == results.SegmentAll {
		m.Segment = ""
	}
	if row.CUPED != nil {
		m.CUPED = Percent(float64(row.CUPED.VarianceReduction))
	}
	if row.Bayesian != nil {
		m.ChanceToWin = Percent(float64(row.Bayesian.ChanceToWin))
	}
	if row.Sequential != nil {
		m.Sequential = PercentCI(float64(row.Sequential.Relative.CILower), float64(row.Sequential.Relative.CIUpper))
	}
	return m
}

func buildTables(res *results.Results, metrics map[string]*results.Metric) []metricTable {
	pops := []string{results.PopulationTriggered, results.PopulationAll}
	var out []metricTable
	for _, pop := range pops {
		t := metricTable{Population: pop, Title: DisplayName(populationWords(pop, res.Experiment.AnalysisUnit))}
		for i := range res.Rows {
			row := &res.Rows[i]
			if row.Segment == results.SegmentAll && row.Population == pop {
				t.Rows = append(t.Rows, buildRow(res, row, metrics))
			}
		}
		if len(t.Rows) > 0 {
			out = append(out, t)
		}
	}
	return out
}

func buildSegments(res *results.Results, metrics map[string]*results.Metric) []segmentTable {
	var out []segmentTable
	idx := map[string]int{}
	for i := range res.Rows {
		row := &res.Rows[i]
		if row.Segment == results.SegmentAll {
			continue
		}
		j, ok := idx[row.Segment]
		if !ok {
			j = len(out)
			idx[row.Segment] = j
			out = append(out, segmentTable{Column: DisplayName(row.Segment)})
		}
		mr := buildRow(res, row, metrics)
		if mr.Primary {
			out[j].Primary = append(out[j].Primary, mr)
		} else {
			out[j].Other = append(out[j].Other, mr)
		}
	}
	return out
}

func buildDilution(res *results.Results) []dilutionView {
	var out []dilutionView
	ex := res.Experiment
	for _, d := range res.Dilution {
		v := dilutionView{
			Metric: DisplayName(d.Metric), Variant: d.Variant,
			ShareControl:   Percent(float64(d.TriggeredShareControl)),
			ShareTreatment: Percent(float64(d.TriggeredShareTreatment)),
			Triggered:      SignedPercent(float64(d.TriggeredRelative)),
			ImpliedAll:     SignedPercent(float64(d.ImpliedAllRelative)),
			ObservedAll:    SignedPercent(float64(d.AllRelative)),
		}
		if d.TriggeredRelative.Valid() {
			v.TriggeredRelRaw = strconv.FormatFloat(float64(d.TriggeredRelative), 'g', -1, 64)
		}
		if d.ImpliedAllRelative.Valid() {
			v.ImpliedAllRelRaw = strconv.FormatFloat(float64(d.ImpliedAllRelative), 'g', -1, 64)
		}
		if d.Metric == ex.Primary && d.TriggeredRelative.Valid() && d.TriggeredShareTreatment.Valid() {
			v.Sentence = fmt.Sprintf("%s of %s in %s were triggered (%s in %s). A %s change among them "+
				"implies %s on all %s; measured on all %s: %s.",
				Percent(float64(d.TriggeredShareTreatment)), plural(ex.AnalysisUnit), d.Variant,
				Percent(float64(d.TriggeredShareControl)), ex.Control,
				SignedPercent(float64(d.TriggeredRelative)), SignedPercent(float64(d.ImpliedAllRelative)),
				plural(ex.AnalysisUnit), plural(ex.AnalysisUnit), SignedPercent(float64(d.AllRelative)))
		}
		out = append(out, v)
	}
	return out
}

// buildSignals describes the signals summary; kinds keep the summary's order.
func buildSignals(s *results.SignalsSummary) *signalsView {
	v := &signalsView{
		Conversations:  Count(s.Conversations),
		Triggered:      Count(s.Triggered),
		TriggeredShare: share(s.Triggered, s.Conversations),
		WithSignal:     Count(s.WithSignal),
		Signals:        Count(s.Signals),
		MeanPerConv:    Number(float64(s.PerConversation.Mean)),
	}
	var total, max int64
	for _, k := range s.ByKind {
		total += k.Count
		if k.Count > max {
			max = k.Count
		}
	}
	v.KindsTotal = Count(total)
	for _, k := range s.ByKind {
		w := 0.0
		if max > 0 {
			w = 100 * float64(k.Count) / float64(max)
		}
		v.Kinds = append(v.Kinds, kindView{Kind: strings.ReplaceAll(k.Kind, "_", " "), Count: Count(k.Count),
			Share: share(k.Count, total), Width: template.CSS(fmt.Sprintf("width: %.1f%%", w))})
	}
	for _, b := range s.PerConversation.Histogram {
		v.PerConvTable = append(v.PerConvTable, binView{Label: b.Label, Count: Count(b.Count)})
	}
	d := s.TimeToFirstSignalSeconds
	v.FirstSignalN = Count(d.N)
	v.FirstSignalMean = Minutes(float64(d.Mean) / 60)
	for _, q := range d.Quantiles {
		v.FirstSignal = append(v.FirstSignal, quantileView{Q: quantileName(q.Q), Value: Minutes(float64(q.Value) / 60)})
	}
	return v
}

func quantileName(q float64) string {
	if q == 0.5 {
		return "median"
	}
	return "p" + strconv.FormatFloat(q*100, 'g', 3, 64)
}

// addCharts draws the forest plot, the cumulative lift and the signal
// histograms.
func addCharts(p *page, res *results.Results) error {
	ex := res.Experiment
	var rows []ForestRow
	for _, pop := range []string{results.PopulationTriggered, results.PopulationAll} {
		for i := range res.Rows {
			row := &res.Rows[i]
			if row.Segment != results.SegmentAll || row.Population != pop || row.Reason != "" {
				continue
			}
			label := DisplayName(row.Metric) + " · " + pop
			if p.MultiVariant {
				label += " · " + row.Variant
			}
			rows = append(rows, ForestRow{Label: label, Est: float64(row.Relative.Estimate),
				Lo: float64(row.Relative.CILower), Hi: float64(row.Relative.CIUpper), Significant: row.Significant})
		}
	}
	var err error
	if p.Forest, err = ForestPlot(rows, "Relative change, treatment vs control ("+p.Confidence+" CI)"); err != nil {
		return err
	}
	series := append([]results.Series(nil), res.TimeSeries...)
	sort.SliceStable(series, func(i, j int) bool {
		return series[i].Population == results.PopulationTriggered && series[j].Population != results.PopulationTriggered
	})
	for _, s := range series {
		pts := make([]TimePoint, 0, len(s.Points))
		for _, pt := range s.Points {
			t, err := time.Parse("2006-01-02", pt.Date)
			if err != nil {
				return fmt.Errorf("results.json time_series %s/%s: date %q: %w", s.Metric, s.Variant, pt.Date, err)
			}
			pts = append(pts, TimePoint{T: t, Est: float64(pt.Relative), Lo: float64(pt.CILower), Hi: float64(pt.CIUpper),
				SeqLo: float64(pt.SeqCILower), SeqHi: float64(pt.SeqCIUpper),
				HasSeq: pt.SeqCILower.Valid() && pt.SeqCIUpper.Valid()})
		}
		chart, err := CumulativeLift(pts, "Cumulative relative change")
		if err != nil {
			return err
		}
		tl := timeline{Title: fmt.Sprintf("%s, %s vs %s, %s", DisplayName(s.Metric), s.Variant, ex.Control,
			populationWords(s.Population, ex.AnalysisUnit)), Chart: chart}
		tl.Note = "Line: cumulative relative change at the end of each day. Shaded: its " + p.Confidence +
			" confidence interval, valid only at the planned end of the test, not for daily peeking;" +
			" the first days' intervals are cut at the frame."
		if ex.Sequential {
			tl.Note += " Light band with dashed edges: the sequential confidence sequence, valid at every look."
		}
		if n := len(s.Points); n > 0 && !s.Points[n-1].Relative.Valid() {
			last := s.Points[n-1]
			tl.Last = fmt.Sprintf("On %s: no estimate yet, %s + %s %s.", last.Date,
				Count(last.ControlUnits), Count(last.TreatmentUnits), plural(ex.AnalysisUnit))
		} else if n > 0 {
			last := s.Points[n-1]
			tl.Last = fmt.Sprintf("On %s: %s (%s to %s), %s + %s %s.", last.Date, SignedPercent(float64(last.Relative)),
				SignedPercent(float64(last.CILower)), SignedPercent(float64(last.CIUpper)),
				Count(last.ControlUnits), Count(last.TreatmentUnits), plural(ex.AnalysisUnit))
		}
		if chart == "" {
			tl.Note = "Too few days with a defined estimate to draw a timeline."
		}
		p.Timelines = append(p.Timelines, tl)
	}
	if s := res.Signals; s != nil {
		if p.Signals.PerConversation, err = LabelledBars(toBars(s.PerConversation.Histogram),
			"Signals per conversation", plural(ex.AnalysisUnit)); err != nil {
			return err
		}
		if p.Signals.FirstSignalHist, err = LabelledBars(toBars(s.TimeToFirstSignalSeconds.Histogram),
			"Time from conversation start to first signal", plural(ex.AnalysisUnit)); err != nil {
			return err
		}
	}
	return nil
}

func toBars(bins []results.Bin) []Bar {
	out := make([]Bar, len(bins))
	for i, b := range bins {
		out[i] = Bar{Label: b.Label, Count: float64(b.Count)}
	}
	return out
}

package reports

// The "Metrics" section: one table per population of the unsegmented rows,
// each row with an interval bar, and the forest plot of their relative
// changes.

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/signalab/signalab/results"
)

type metricTable struct {
	Population string // results.json population
	Title      string
	Rows       []metricRow
}

type metricRow struct {
	ID         string // stable id for data- attributes: metric/variant/segment/value/population
	Metric     string
	MetricKey  string
	Role       string // primary | secondary | guardrail
	Variant    string
	Segment    string
	Population string
	Control    string
	Treatment  string // the CUPED-adjusted mean when Adjusted
	// TreatmentRaw is the unadjusted treatment mean, shown beside the
	// adjusted one ("" without CUPED).
	TreatmentRaw string
	Adjusted     bool
	ControlN     string
	TreatmentN   string
	ControlK     string // randomization units (shops) per arm
	TreatmentK   string
	Absolute     string
	AbsoluteCI   string
	Relative     valueView
	RelativeCI   string
	RelLower     valueView
	RelUpper     valueView
	PValue       valueView
	PAdjusted    valueView
	// AdjCI is the interval that agrees with the adjusted p-value (and with
	// Significant), AdjLabel its level and family.
	AdjCI       string
	AdjLower    valueView
	AdjUpper    valueView
	AdjLabel    string
	Bar         intervalBar
	CUPED       string
	ChanceToWin string
	Sequential  string
	Significant bool
	Primary     bool
	Reason      string
	// RawDisagrees marks a row whose unadjusted relative interval (the
	// delta method's, by configuration) disagrees with its raw p-value.
	RawDisagrees bool
}

// newBound is an interval end with its raw value; a null end (infinite in
// results.json) shows as ∓∞ without a raw value.
func newBound(x results.Num, lower bool) valueView {
	v := newValue(x, SignedPercent)
	if !x.Valid() {
		v.Text = upperText(SignedPercent, x)
		if lower {
			v.Text = lowerText(SignedPercent, x)
		}
	}
	return v
}

func rowID(row *results.Row) string {
	return strings.Join([]string{row.Metric, row.Variant, row.Segment, row.SegmentValue, row.Population}, "/")
}

func buildRow(res *results.Results, row *results.Row, metrics map[string]*results.Metric) metricRow {
	info := metrics[row.Metric]
	f := formatFor(info, row.MetricType, res.Experiment.Currency, float64(row.Control.Mean))
	m := metricRow{
		ID: rowID(row), Metric: metricLabel(info, row.Metric, res.Experiment.Currency), MetricKey: row.Metric, Variant: row.Variant,
		Segment:     row.SegmentValue,
		Population:  row.Population,
		Control:     f.value(float64(row.Control.Mean)),
		Treatment:   f.value(float64(row.Treatment.Mean)),
		ControlN:    Count(row.Control.Units),
		TreatmentN:  Count(row.Treatment.Units),
		ControlK:    Count(row.Control.Clusters),
		TreatmentK:  Count(row.Treatment.Clusters),
		Absolute:    f.absolute(float64(row.Absolute.Estimate)),
		AbsoluteCI:  intervalText(f.absolute, row.Absolute.Estimate, row.Absolute.CILower, row.Absolute.CIUpper),
		Relative:    newValue(row.Relative.Estimate, SignedPercent),
		RelativeCI:  intervalText(SignedPercent, row.Relative.Estimate, row.Relative.CILower, row.Relative.CIUpper),
		RelLower:    newBound(row.Relative.CILower, true),
		RelUpper:    newBound(row.Relative.CIUpper, false),
		PValue:      newValue(row.PValue, PValue),
		PAdjusted:   newValue(row.PValueAdjusted, PValue),
		Significant: row.Significant,
		Primary:     row.Metric == res.Experiment.Primary,
		Reason:      row.Reason,
	}
	if info != nil {
		m.Role = info.Role
		m.Primary = info.Role == "primary" || (info.Role == "" && info.Primary)
	}
	if row.Treatment.AdjustedMean.Valid() {
		m.Adjusted = true
		m.TreatmentRaw = m.Treatment
		m.Treatment = f.value(float64(row.Treatment.AdjustedMean))
	}
	if row.Segment == results.SegmentAll {
		m.Segment = ""
	}
	if row.RelativeReason != "" {
		m.RelativeCI = "undefined: " + row.RelativeReason
	}
	if a := row.Adjusted; a != nil {
		m.AdjCI = intervalText(SignedPercent, row.Relative.Estimate, a.Relative.CILower, a.Relative.CIUpper)
		m.AdjLower, m.AdjUpper = newBound(a.Relative.CILower, true), newBound(a.Relative.CIUpper, false)
		m.AdjLabel = adjustedLabel(row, a)
	}
	if row.CUPED != nil {
		m.CUPED = Percent(float64(row.CUPED.VarianceReduction))
	}
	if row.Bayesian != nil {
		m.ChanceToWin = Percent(float64(row.Bayesian.ChanceToWin))
	}
	if row.Sequential != nil {
		m.Sequential = intervalText(SignedPercent, row.Sequential.Relative.Estimate, row.Sequential.Relative.CILower, row.Sequential.Relative.CIUpper)
	}
	if row.Reason == "" && row.PValue.Valid() && res.Experiment.RelativeCI.String() != "fieller" {
		lo, hi := float64(row.Relative.CILower), float64(row.Relative.CIUpper)
		m.RawDisagrees = (lo > 0 || hi < 0) != (float64(row.PValue) < res.Experiment.Alpha)
	}
	return m
}

// adjustedLabel words the level and family of an adjusted interval:
// "97.5%, Holm over 2", or "95%, unadjusted".
func adjustedLabel(row *results.Row, a *results.Adjusted) string {
	conf := strconv.FormatFloat(100*a.Confidence, 'g', 4, 64) + "%"
	if row.FamilySize <= 1 || row.Correction == "" || row.Correction == "none" {
		return conf + ", unadjusted"
	}
	return fmt.Sprintf("%s, %s over %d", conf, correctionName(row.Correction), row.FamilySize)
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
			setBars(t.Rows, res, pop, results.SegmentAll)
			out = append(out, t)
		}
	}
	return out
}

// intervalBar is the small chart of a row: the estimate (dot) and the
// interval that agrees with the row's significance (the adjusted one) on a
// scale shared by the table, with the zero line. Coordinates are in the
// SVG's 0–120 user units; an end beyond the scale is clipped and marked.
type intervalBar struct {
	Show              bool
	Zero, Lo, Hi, Est string
	ClipLo, ClipHi    bool
	Label             string
}

const barWidth = 120.0

// setBars draws the bars of rows (those of one table) on a common scale:
// symmetric around zero, wide enough for every estimate and interval end,
// but at most ±200% so one unbounded interval does not flatten the others.
func setBars(rows []metricRow, res *results.Results, pop, segment string) {
	ends := map[string][3]float64{}
	scale := 0.0
	for i := range res.Rows {
		row := &res.Rows[i]
		if row.Population != pop || (segment == results.SegmentAll) != (row.Segment == results.SegmentAll) || row.Reason != "" ||
			!row.Relative.Estimate.Valid() || row.Adjusted == nil {
			continue
		}
		lo, hi := float64(row.Adjusted.Relative.CILower), float64(row.Adjusted.Relative.CIUpper)
		if math.IsNaN(lo) {
			lo = math.Inf(-1)
		}
		if math.IsNaN(hi) {
			hi = math.Inf(1)
		}
		est := float64(row.Relative.Estimate)
		ends[rowID(row)] = [3]float64{lo, est, hi}
		for _, x := range []float64{lo, est, hi} {
			if finite(x) {
				scale = math.Max(scale, math.Abs(x))
			}
		}
	}
	scale = math.Min(math.Max(scale*1.05, 0.01), 2)
	x := func(v float64) (string, bool) {
		c := math.Max(-scale, math.Min(scale, v))
		return strconv.FormatFloat(barWidth/2+c/scale*(barWidth/2-4), 'f', 1, 64), c != v
	}
	for i := range rows {
		e, ok := ends[rows[i].ID]
		if !ok {
			continue
		}
		b := intervalBar{Show: true}
		b.Zero, _ = x(0)
		b.Lo, b.ClipLo = x(e[0])
		b.Est, _ = x(e[1])
		b.Hi, b.ClipHi = x(e[2])

		rows[i].Bar = b
	}
}

// addForest draws the forest plot of the unsegmented rows with an estimate,
// triggered population first, with the intervals that agree with each row's
// significance (the adjusted ones).
func addForest(p *page, res *results.Results) error {
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
			lo, hi := row.Relative.CILower, row.Relative.CIUpper
			if a := row.Adjusted; a != nil {
				lo, hi = a.Relative.CILower, a.Relative.CIUpper
			}
			fr := ForestRow{Label: label, Est: float64(row.Relative.Estimate), Lo: float64(lo), Hi: float64(hi), Significant: row.Significant}
			if !lo.Valid() {
				fr.Lo = math.Inf(-1)
			}
			if !hi.Valid() {
				fr.Hi = math.Inf(1)
			}
			rows = append(rows, fr)
		}
	}
	var err error
	p.Forest, err = ForestPlot(rows, "Relative change, treatment vs control (interval of the decision)")
	return err
}

package reports

// The "Metrics" section: one table per population of the unsegmented rows,
// and the forest plot of their relative changes.

import (
	"strings"

	"github.com/signalab/signalab/results"
)

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
	if row.RelativeReason != "" {
		m.RelativeCI = "undefined: " + row.RelativeReason
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

// addForest draws the forest plot of the unsegmented rows with an estimate,
// triggered population first.
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
			rows = append(rows, ForestRow{Label: label, Est: float64(row.Relative.Estimate),
				Lo: float64(row.Relative.CILower), Hi: float64(row.Relative.CIUpper), Significant: row.Significant})
		}
	}
	var err error
	p.Forest, err = ForestPlot(rows, "Relative change, treatment vs control ("+p.Confidence+" CI)")
	return err
}

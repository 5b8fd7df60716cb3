package reports

// The "over time" section: the cumulative relative change of each time
// series, day by day.

import (
	"fmt"
	"html/template"
	"sort"
	"time"

	"github.com/signalab/signalab/results"
)

type timeline struct {
	Title string
	Chart template.HTML
	Note  string
	Last  string
}

// addTimelines draws one cumulative-lift chart per time series, triggered
// population first, with its note and last day in words.
func addTimelines(p *page, res *results.Results) error {
	ex := res.Experiment
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
		if s.CUPED {
			tl.Note += " CUPED-adjusted, as the metric table: the last day is the table's estimate."
		} else if ex.CUPED {
			tl.Note += " Not CUPED-adjusted (the metric has no pre-period covariate), as in the table."
		}
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
	return nil
}

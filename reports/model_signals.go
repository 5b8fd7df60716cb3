package reports

// The "What the signals looked like" section: signal counts by kind, per
// conversation and time to first signal.

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"

	"github.com/signalab/signalab/results"
)

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

func toBars(bins []results.Bin) []Bar {
	out := make([]Bar, len(bins))
	for i, b := range bins {
		out[i] = Bar{Label: b.Label, Count: float64(b.Count)}
	}
	return out
}

// addSignalCharts draws the signals-per-conversation and time-to-first-signal
// histograms when results.json has a signals summary.
func addSignalCharts(p *page, res *results.Results) error {
	ex := res.Experiment
	var err error
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

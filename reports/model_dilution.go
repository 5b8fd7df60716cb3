package reports

// The "Triggered vs all" section: how the effect among triggered units
// dilutes over all units.

import (
	"fmt"
	"strconv"

	"github.com/signalab/signalab/results"
)

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

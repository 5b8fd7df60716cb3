package reports

// The "Segments" section: per segment column, whether the effect differs
// between its values (the heterogeneity test), then its rows, primary
// metric first, with the correction within the column named.

import (
	"fmt"
	"strconv"

	"github.com/signalab/signalab/results"
)

type segmentTable struct {
	Column string
	// Note names the correction within the column and its size, e.g.
	// "Benjamini–Hochberg within channel over 48 comparisons".
	Note string
	// Hetero words the heterogeneity test of the primary metric; HeteroRows
	// lists every metric's.
	Hetero     string
	HeteroRows []heteroView
	Primary    []metricRow
	Other      []metricRow
}

type heteroView struct {
	Metric     string
	Variant    string
	Population string
	Statistic  string
	PValue     valueView
	Values     string
	Method     string
	Reason     string
}

// segmentNote warns that segment p-values are raw when the segment rows are
// not corrected: with n comparisons about n·α look significant by chance.
func segmentNote(res *results.Results) string {
	n := 0
	for i := range res.Rows {
		row := &res.Rows[i]
		if row.Segment == results.SegmentAll || !row.PValue.Valid() {
			continue
		}
		if row.Correction != "" && row.Correction != "none" && row.FamilySize > 1 {
			return ""
		}
		n++
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("Segment p-values are not adjusted for multiple comparisons (segment_correction: none): among these %d comparisons about %s "+
		"would look significant at α = %s by chance alone. Read segments as exploration, not as decisions.",
		n, strconv.FormatFloat(float64(n)*res.Experiment.Alpha, 'f', 1, 64), Alpha(res.Experiment.Alpha))
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
			if row.Correction != "" && row.Correction != "none" && row.FamilySize > 1 {
				out[j].Note = fmt.Sprintf("%s within %s over %d comparisons (every metric, variant, population and value): "+
					"adjusted p-values, and the intervals that agree with them (the bars)",
					correctionName(row.Correction), row.Segment, row.FamilySize)
				if a := row.Adjusted; a != nil && row.Correction != "holm" && row.Correction != "hochberg" {
					out[j].Note += " at " + Confidence(1-a.Confidence) + " confidence"
				}
				out[j].Note += "."
			}
		}
		mr := buildRow(res, row, metrics)
		if mr.Primary {
			out[j].Primary = append(out[j].Primary, mr)
		} else {
			out[j].Other = append(out[j].Other, mr)
		}
	}
	for j := range out {
		col := ""
		for k, v := range idx {
			if v == j {
				col = k
			}
		}
		for _, pop := range []string{results.PopulationTriggered, results.PopulationAll} {
			setBars(out[j].Primary, res, pop, col)
			setBars(out[j].Other, res, pop, col)
		}
		for _, h := range res.Heterogeneity {
			if h.Segment != col {
				continue
			}
			v := heteroView{Metric: metricLabel(metrics[h.Metric], h.Metric, res.Experiment.Currency), Variant: h.Variant,
				Population: h.Population, Statistic: heteroStat(h), PValue: newValue(h.PValue, PValue),
				Values: strconv.Itoa(h.Values), Method: heteroMethod(h.Method), Reason: h.Reason}
			out[j].HeteroRows = append(out[j].HeteroRows, v)
			if h.Metric == res.Experiment.Primary && h.Population == res.Experiment.DecisionPopulation && out[j].Hetero == "" {
				out[j].Hetero = heteroSentence(h, res.Experiment)
			}
		}
	}
	return out
}

func heteroMethod(m string) string {
	switch m {
	case "wald-cluster":
		return "Wald, cluster-robust"
	case "cochran-q":
		return "Cochran's Q"
	}
	return m
}

// heteroStat is the test statistic with its reference distribution:
// χ²(df) = W, or F(df, df2) = W/df for the cluster-robust test.
func heteroStat(h results.Heterogeneity) string {
	if h.DF2 > 0 {
		return fmt.Sprintf("F(%d, %d) = %s", h.DF, h.DF2, Number(float64(h.Statistic)))
	}
	return fmt.Sprintf("χ²(%d) = %s", h.DF, Number(float64(h.Statistic)))
}

// heteroSentence answers "does the effect differ across the column's
// values?" for the primary metric.
func heteroSentence(h results.Heterogeneity, ex results.Experiment) string {
	q := fmt.Sprintf("Does the effect of %s on %s differ by %s?", h.Variant, DisplayName(h.Metric), h.Segment)
	if h.Reason != "" {
		return q + " Not tested: " + h.Reason + "."
	}
	stat := fmt.Sprintf("%s %s, %s", heteroMethod(h.Method), heteroStat(h), pEquals(float64(h.PValue)))
	if float64(h.PValue) < ex.Alpha {
		return fmt.Sprintf("%s Yes, at α = %s (%s): the %d values differ more than chance allows; look at the rows below.",
			q, Alpha(ex.Alpha), stat, h.Values)
	}
	return fmt.Sprintf("%s No evidence that it does (%s over %d values): differences between the rows below are consistent with chance.",
		q, stat, h.Values)
}

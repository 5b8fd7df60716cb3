package reports

// The "Segments" section: the rows of each segment column, primary metric
// first.

import (
	"fmt"
	"math"
	"strconv"

	"github.com/signalab/signalab/results"
)

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

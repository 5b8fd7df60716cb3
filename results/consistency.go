package results

import (
	"fmt"
	"math"
)

// Inconsistencies lists every row whose significance disagrees with an
// interval of the same kind: Significant against the adjusted intervals
// (absolute and relative), p_value < alpha against the unadjusted ones,
// and, with a sequential analysis, the sequential p-value against the
// sequential intervals. A kind's relative interval is checked only when
// relativeToo is true (the analysis' relative_ci is Fieller's, which agrees
// with the test by construction; the delta method's may not). An interval
// contains the null when lower ≤ 0 ≤ upper (a null end is infinite); an
// interval whose ends are both undefined is not checked.
func Inconsistencies(r *Results, relativeToo bool) []string {
	var out []string
	alpha := r.Experiment.Alpha
	check := func(row *Row, kind string, sig bool, iv Interval) {
		lo, hi := float64(iv.CILower), float64(iv.CIUpper)
		if math.IsNaN(lo) && math.IsNaN(hi) {
			return
		}
		if math.IsNaN(lo) {
			lo = math.Inf(-1)
		}
		if math.IsNaN(hi) {
			hi = math.Inf(1)
		}
		excludes := lo > 0 || hi < 0
		if excludes != sig {
			out = append(out, fmt.Sprintf("%s/%s/%s=%s/%s: %s: significant %v but interval [%g, %g]",
				row.Metric, row.Variant, row.Segment, row.SegmentValue, row.Population, kind, sig, lo, hi))
		}
	}
	for i := range r.Rows {
		row := &r.Rows[i]
		if row.Reason != "" {
			continue
		}
		if a := row.Adjusted; a != nil {
			check(row, "adjusted absolute", row.Significant, a.Absolute)
			if relativeToo {
				check(row, "adjusted relative", row.Significant, a.Relative)
			}
		}
		if row.PValue.Valid() {
			raw := float64(row.PValue) < alpha
			check(row, "absolute", raw, Interval{row.Absolute.CILower, row.Absolute.CIUpper})
			if relativeToo {
				check(row, "relative", raw, Interval{row.Relative.CILower, row.Relative.CIUpper})
			}
		}
		if s := row.Sequential; s != nil && s.PValue.Valid() {
			sig := float64(s.PValue) < alpha
			check(row, "sequential absolute", sig, Interval{s.Absolute.CILower, s.Absolute.CIUpper})
			if relativeToo {
				check(row, "sequential relative", sig, Interval{s.Relative.CILower, s.Relative.CIUpper})
			}
		}
	}
	return out
}

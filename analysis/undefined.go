package analysis

import (
	"fmt"
	"strings"

	"github.com/signalab/signalab/metrics"
)

// UndefinedError is the error of an analysis that could only print
// undefined numbers: an arm without rows, or a metric without a defined
// value in any arm. Its message says what is missing, where it comes from
// and what to try.
type UndefinedError struct{ Msg string }

func (e *UndefinedError) Error() string { return e.Msg }

// checkDefined reports, after the pass, an arm of the configured variants
// that has no row, and a metric that has no defined value in any arm
// (quantile: no value at all; ratio: a denominator that sums to 0 in every
// arm). An arm or metric undefined in only some cells is not an error: its
// rows carry a reason and no numbers.
func (s *state) checkDefined(path string) error {
	var empty, have []string
	for vi, v := range s.variants {
		if s.units[vi] == 0 {
			empty = append(empty, v)
		} else {
			have = append(have, fmt.Sprintf("%s %d", v, s.units[vi]))
		}
	}
	if len(empty) > 0 {
		return &UndefinedError{Msg: fmt.Sprintf("%s: arm %s has no rows (column %s: %s): there is nothing to compare it with; "+
			"check that the table holds every arm of the experiment", path, strings.Join(empty, " and "), s.cfg.VariantCol, strings.Join(have, ", "))}
	}
	for i, m := range s.cfg.Metrics {
		defined := false
		for vi := range s.variants {
			if a := s.allCell(vi, i); a != nil && a.defined(m.Type) {
				defined = true
			}
		}
		if defined {
			continue
		}
		switch m.Type {
		case metrics.Quantile:
			return &UndefinedError{Msg: fmt.Sprintf("%s: metric %s: column %s has no value in any row (every cell is empty or null), so its %g-quantile is undefined in every arm; "+
				"remove the metric, or pick a column that has values (a reply time is null for conversations without a merchant reply)", path, m.Name, m.Columns[0], m.Q)}
		case metrics.Ratio:
			return &UndefinedError{Msg: fmt.Sprintf("%s: metric %s: the denominator %s sums to 0 in every arm, so %s/%s is undefined everywhere; "+
				"remove the metric or pick a denominator that some units have (e.g. orders on a log with orders)", path, m.Name, m.Columns[1], m.Columns[0], m.Columns[1])}
		}
	}
	return nil
}

// allCell returns the accumulator of metric i for variant vi, segment
// "all", population all (nil when the cell does not exist).
func (s *state) allCell(vi, i int) *accum {
	if len(s.cells) == 0 || vi >= len(s.cells[0]) {
		return nil
	}
	return &s.cells[0][vi][0][i]
}

// defined reports whether the cell has a value for a metric of type t: a
// value of a quantile metric, a non-zero denominator of a ratio (or of a
// clustered mean), a row of a mean or proportion.
func (a *accum) defined(t metrics.Type) bool {
	switch {
	case t == metrics.Quantile:
		return len(a.vals) > 0
	case a.cs != nil || t == metrics.Ratio:
		return a.ratioMoments().SumD != 0
	}
	return a.units > 0
}

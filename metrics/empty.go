package metrics

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// NoUnitsError is the error of a unit table that would hold no units, or
// whose arm would hold none: nothing could be analysed, and a table of
// NaN must not pass as a result. Its message says what is missing, where
// it comes from and what to try.
type NoUnitsError struct{ Msg string }

func (e *NoUnitsError) Error() string { return e.Msg }

// checkUnits reports a unit table without units, or with an arm without
// units, as a *NoUnitsError; st is the summary of the pass.
func (b *builder) checkUnits(st *summaryState) error {
	sum := st.sum
	u := b.spec.Analysis()
	var read int64 = sum.Units
	for _, v := range sum.Excluded {
		read += v
	}
	source := ConversationsFile
	if u.FromSessions() {
		source = SessionsFile
	}
	if sum.Units == 0 {
		var msg string
		switch {
		case read == 0 && !u.FromSessions():
			msg = fmt.Sprintf("no units: %s has no conversations: the log has no conversation events; "+
				"storefront-only logs (such as imported OTTO or REES46 logs) need analysis.unit: buyer or session in the experiment spec", source)
		case read == 0:
			msg = fmt.Sprintf("no units: %s has no sessions: the replay accepted no event (see replay.json's counts)", source)
		default:
			msg = fmt.Sprintf("no units: all %d %ss were excluded (%s); %s", read, u, countList(sum.Excluded), b.exclusionHint(sum.Excluded))
		}
		return &NoUnitsError{Msg: "metrics: " + msg}
	}
	var empty []string
	var have []string
	for _, a := range sum.Arms {
		if a.Units == 0 {
			empty = append(empty, a.Variant)
		} else {
			have = append(have, fmt.Sprintf("%s %d", a.Variant, a.Units))
		}
	}
	if len(empty) > 0 && !b.oneArm {
		var ru int
		for _, c := range st.clusters {
			ru += len(c)
		}
		return &NoUnitsError{Msg: fmt.Sprintf("metrics: arm %s has no units (%s; %d randomization unit(s) by %s in all): "+
			"there is nothing to compare; with this few randomization units use a finer unit:, or check variants: weights, coverage and namespace in the experiment spec",
			strings.Join(empty, " and "), strings.Join(have, ", "), ru, b.spec.Unit)}
	}
	return nil
}

// exclusionHint says what to check for the most common exclusion reason.
func (b *builder) exclusionHint(ex map[string]int64) string {
	top, n := "", int64(-1)
	for _, k := range []string{"outside_window", "filtered", "unassigned", "not_in_experiment"} {
		if ex[k] > n {
			top, n = k, ex[k]
		}
	}
	switch top {
	case "outside_window":
		w := b.spec.Window
		span := ""
		if lo, hi, ok := replayTimeRange(b.dirs); ok {
			span = fmt.Sprintf(" while the log's events span %s to %s", lo.Format(time.RFC3339), hi.Format(time.RFC3339))
		}
		return fmt.Sprintf("check window: in the experiment spec: it is [%s, %s)%s", w.Start.Format(time.RFC3339), w.End.Format(time.RFC3339), span)
	case "filtered":
		return "check filters: in the experiment spec: no unit has the listed values"
	case "unassigned":
		return "assignments.parquet has no row for their randomization units: run signalab assign with the same experiment spec on the same replay"
	}
	return "the assignment left them out of the experiment: check coverage: and namespace: in the experiment spec"
}

// countList renders counts as "outside_window 88, filtered 2" (non-zero
// only, sorted by name).
func countList(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k, v := range m {
		if v > 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// replayTimeRange reads the event-time range from the replay.json in the
// first of dirs that has one.
func replayTimeRange(dirs []string) (lo, hi time.Time, ok bool) {
	b, err := os.ReadFile(find(dirs, "replay.json"))
	if err != nil {
		return lo, hi, false
	}
	var s struct {
		TimeRange struct {
			Min *time.Time `json:"event_time_min"`
			Max *time.Time `json:"event_time_max"`
		} `json:"time_range"`
	}
	if json.Unmarshal(b, &s) != nil || s.TimeRange.Min == nil || s.TimeRange.Max == nil {
		return lo, hi, false
	}
	return s.TimeRange.Min.UTC(), s.TimeRange.Max.UTC(), true
}

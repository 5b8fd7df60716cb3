package reports

// The "Health checks" section: sample ratio mismatch, arms, replay data
// quality and exclusions.

import (
	"sort"
	"strings"

	"github.com/signalab/signalab/results"
)

type healthView struct {
	SRM      *srmView
	Arms     []armView
	Replay   *replayView
	Excluded []keyCount
	Problems int
}

type srmView struct {
	Unit      string // plural noun, "shops"
	PPhrase   string // "p = 0.73" or "p < 0.001"
	PValue    valueView
	ChiSquare string
	Alpha     string
	Flagged   bool
	Reason    string
	Source    string
	Arms      []srmArm
}

type srmArm struct {
	Name     string
	Observed string
	Expected string
	Share    string
	Planned  string
}

type armView struct {
	Name               string
	RandomizationUnits string
	Units              string
	TriggeredUnits     string
	TriggeredShare     string
	UnitsRaw           int64
}

type replayView struct {
	Rows       []qualityRow
	ByReason   []keyCount
	EventsRead string
}

type qualityRow struct {
	Name  string
	Count string
	Share string
	Raw   int64
	Note  string
	Warn  bool
}

type keyCount struct {
	Key   string
	Count string
}

func sortedCounts(m map[string]int64) []keyCount {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]keyCount, 0, len(keys))
	for _, k := range keys {
		out = append(out, keyCount{Key: strings.ReplaceAll(k, "_", " "), Count: Count(m[k])})
	}
	return out
}

func buildHealth(res *results.Results) healthView {
	var h healthView
	if s := res.Health.SRM; s != nil {
		v := &srmView{Unit: unitWords(s.Unit), PPhrase: pEquals(float64(s.PValue)), PValue: newValue(s.PValue, PValue), ChiSquare: Number(float64(s.ChiSquare)),
			Alpha: Alpha(s.Alpha), Flagged: s.Flagged, Reason: s.Reason, Source: s.Source}
		var total int64
		for _, o := range s.Observed {
			total += o
		}
		weights := map[string]float64{}
		for _, vr := range res.Experiment.Variants {
			weights[vr.Name] = vr.Weight
		}
		for i, name := range s.Variants {
			a := srmArm{Name: name, Observed: notAvailable, Expected: notAvailable, Share: notAvailable,
				Planned: Percent(weights[name])}
			if i < len(s.Observed) {
				a.Observed = Count(s.Observed[i])
				a.Share = share(s.Observed[i], total)
			}
			if i < len(s.Expected) {
				a.Expected = Number(float64(s.Expected[i]))
			}
			v.Arms = append(v.Arms, a)
		}
		if s.Flagged {
			h.Problems++
		}
		h.SRM = v
	}
	for _, a := range res.Health.Arms {
		h.Arms = append(h.Arms, armView{Name: a.Name, RandomizationUnits: Count(a.RandomizationUnits),
			Units: Count(a.Units), TriggeredUnits: Count(a.TriggeredUnits),
			TriggeredShare: share(a.TriggeredUnits, a.Units), UnitsRaw: a.Units})
	}
	if q := res.Health.Replay; q != nil {
		rv := &replayView{EventsRead: Count(q.EventsRead)}
		add := func(name string, n int64, note string, warnAbove float64) {
			row := qualityRow{Name: name, Count: Count(n), Share: share(n, q.EventsRead), Raw: n, Note: note}
			if q.EventsRead > 0 && float64(n)/float64(q.EventsRead) > warnAbove {
				row.Warn = true
				h.Problems++
			}
			rv.Rows = append(rv.Rows, row)
		}
		add("Accepted", q.Accepted, "used by the signal logic", 2)
		add("Duplicates", q.Duplicates, "redelivered event ids, dropped", 0.05)
		add("Stale", q.Stale, "cart updates older than the stored snapshot", 0.05)
		add("Late", q.Late, "beyond max out-of-orderness + allowed lateness", 0.01)
		add("Quarantined", q.Quarantined, "rows that break the event schema", 0.001)
		rv.ByReason = sortedCounts(q.QuarantinedByReason)
		h.Replay = rv
	}
	excluded := map[string]int64{}
	for k, n := range res.Health.Excluded {
		if n != 0 {
			excluded[k] = n
		}
	}
	h.Excluded = sortedCounts(excluded)
	if !res.Gates.Passed {
		for _, c := range res.Gates.Checks {
			if !c.Passed && c.Kind != "srm" {
				h.Problems++
			}
		}
	}
	return h
}

package analysis

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"

	"github.com/signalab/signalab/internal/safeio"
)

// ReadReplayQuality reads the data-quality counts of a replay.json: rows
// read, accepted, dropped as duplicate (events and orders), stale and late,
// and quarantined by reason.
func ReadReplayQuality(path string) (*results.Replay, error) {
	b, err := safeio.ReadFile(path, safeio.MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	var j struct {
		Counts struct {
			Read                int64            `json:"read"`
			Quarantined         int64            `json:"quarantined"`
			QuarantinedByReason map[string]int64 `json:"quarantined_by_reason"`
			Currencies          map[string]int64 `json:"currencies"`
			Logic               struct {
				Accepted int64            `json:"accepted"`
				Dropped  map[string]int64 `json:"dropped"`
			} `json:"logic"`
		} `json:"counts"`
	}
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	c := j.Counts
	r := &results.Replay{EventsRead: c.Read, Accepted: c.Logic.Accepted, Quarantined: c.Quarantined,
		Duplicates: c.Logic.Dropped["duplicate"] + c.Logic.Dropped["duplicate_order"],
		Stale:      c.Logic.Dropped["stale"], Late: c.Logic.Dropped["late"],
		QuarantinedByReason: c.QuarantinedByReason, Currencies: c.Currencies}
	if r.QuarantinedByReason == nil {
		r.QuarantinedByReason = map[string]int64{}
	}
	if r.Currencies == nil {
		r.Currencies = map[string]int64{}
	}
	return r, nil
}

// LoadContext reads metrics.json, assign.json and replay.json from the first
// of dirs holding each; absent files leave their field nil.
func LoadContext(dirs ...string) (Context, error) {
	var ctx Context
	find := func(name string) string {
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
		return ""
	}
	if p := find(metrics.SummaryFile); p != "" {
		s, err := metrics.ReadSummary(p)
		if err != nil {
			return ctx, err
		}
		ctx.Metrics = s
	}
	if p := find("assign.json"); p != "" {
		b, err := safeio.ReadFile(p, safeio.MaxJSONBytes)
		if err != nil {
			return ctx, err
		}
		var s assign.Summary
		if err := json.Unmarshal(b, &s); err != nil {
			return ctx, fmt.Errorf("parse %s: %w", p, err)
		}
		ctx.Assign = &s
	}
	if p := find("replay.json"); p != "" {
		r, err := ReadReplayQuality(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return ctx, err
		}
		ctx.Replay = r
	}
	return ctx, nil
}

package assign

import (
	"fmt"
	"strconv"

	"github.com/signalab/signalab/replay"
)

// ActivityUnitID returns the value of the randomization unit column unit
// (buyer_id, shop_id or session_id) of an activity unit, "" for a unit it
// does not have (conversation_id).
func ActivityUnitID(unit string, a *replay.Activity) string {
	switch unit {
	case "buyer_id":
		return a.BuyerID
	case "shop_id":
		return a.ShopID
	case "session_id":
		return a.SessionID
	}
	return ""
}

// ActivityColumn returns the value of a categorical column of an activity
// unit as a string (booleans "true" or "false"); ok is false for a
// conversation column it does not have (channel, conversation_id).
func ActivityColumn(col string, a *replay.Activity) (string, bool) {
	switch col {
	case "shop_id":
		return a.ShopID, true
	case "buyer_id":
		return a.BuyerID, true
	case "session_id":
		return a.SessionID, true
	case "triggered":
		return strconv.FormatBool(a.Triggered), true
	case "had_cart_at_start":
		return strconv.FormatBool(a.HadCartAtStart), true
	}
	return "", false
}

// AddActivity records one buyer or session unit (see RunSessionsFile);
// inWindow says whether it started in the window.
func (r *Runner) AddActivity(a *replay.Activity, inWindow bool) {
	addUnitRow(r, ActivityUnitID(r.cfg.Unit, a), inWindow, a, ActivityColumn)
}

// RunSessionsFile assigns the randomization units of the buyers or
// sessions (cfg.AnalysisUnit) of a replay's sessions.parquet: a session
// counts when it started in the window; a buyer when one of its sessions
// did, with the sum of those sessions (replay.Activity). Filters and
// segments apply to these units.
func RunSessionsFile(cfg *Config, sessionsPath string, exposures *ExposureLog) (*Result, error) {
	r, err := NewRunner(cfg, exposures)
	if err != nil {
		return nil, err
	}
	var from, to int64
	if w := cfg.Window; w != nil {
		from, to = w.Start.UnixMicro(), w.End.UnixMicro()
	}
	err = ReadActivity(sessionsPath, cfg.AnalysisUnit == "buyer", cfg.Window != nil, from, to,
		func(a *replay.Activity, inWindow bool) error { r.AddActivity(a, inWindow); return nil })
	if err != nil {
		return nil, fmt.Errorf("read sessions: %w (run signalab replay with an experiment whose analysis.unit is %s, or with --sessions)", err, cfg.AnalysisUnit)
	}
	res := r.Result()
	res.Summary.AnalysisUnit = cfg.AnalysisUnit
	return res, nil
}

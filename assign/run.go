package assign

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/stats"
)

// Assignment is one randomization unit's outcome: a row of assignments.parquet.
// Variant is empty and Bucket may be null when the unit is not in the
// experiment; Reason says why (one of the Reason constants).
type Assignment struct {
	UnitID       string `parquet:"unit_id" json:"unit_id"`
	Variant      string `parquet:"variant,dict" json:"variant"`
	Bucket       *int32 `parquet:"bucket" json:"bucket"`
	InExperiment bool   `parquet:"in_experiment" json:"in_experiment"`
	Reason       string `parquet:"reason,dict" json:"reason"`
}

// Result is the outcome of assigning one experiment's units.
type Result struct {
	Assignments []Assignment // one per unit id seen, sorted by UnitID
	Summary     Summary      // the content of assign.json
}

// Lookup returns the assignment of unitID (binary search).
func (r *Result) Lookup(unitID string) (Assignment, bool) {
	i, ok := slices.BinarySearchFunc(r.Assignments, unitID, func(a Assignment, id string) int {
		switch {
		case a.UnitID < id:
			return -1
		case a.UnitID > id:
			return 1
		}
		return 0
	})
	if !ok {
		return Assignment{}, false
	}
	return r.Assignments[i], true
}

// UnitID returns the value of the randomization unit column unit
// (conversation_id, buyer_id or shop_id) of conversation c, "" for an unknown unit.
func UnitID(unit string, c *signal.Conversation) string {
	switch unit {
	case "conversation_id":
		return c.ConversationID
	case "buyer_id":
		return c.BuyerID
	case "shop_id":
		return c.ShopID
	}
	return ""
}

// ConversationColumn returns the value of a categorical conversation column
// (one of FilterColumns) as a string; booleans are "true" or "false".
func ConversationColumn(col string, c *signal.Conversation) (string, bool) {
	switch col {
	case "conversation_id":
		return c.ConversationID, true
	case "shop_id":
		return c.ShopID, true
	case "buyer_id":
		return c.BuyerID, true
	case "channel":
		return c.Channel, true
	case "triggered":
		return strconv.FormatBool(c.Triggered), true
	case "had_cart_at_start":
		return strconv.FormatBool(c.HadCartAtStart), true
	}
	return "", false
}

// unitState accumulates one unit's conversations.
type unitState struct {
	inWindow bool     // at least one conversation in the window
	passed   int64    // conversations in the window that passed the filters
	segs     []segKey // distinct segment values of passed conversations
}

// segKey is one segment value, e.g. {channel, messenger}.
type segKey struct{ col, val string }

// Runner assigns the units of a stream of conversations. Add every
// conversation, then call Result. Memory grows with the number of distinct
// units, not conversations.
type Runner struct {
	cfg      *Config
	asg      *Assigner
	exp      *exposureIndex
	units    map[string]*unitState
	counts   ConversationCounts
	segments []string
}

// NewRunner returns a Runner for a config, which it validates. With a
// non-nil exposure log, cohorts come from the log instead of the hash (the
// hash is still computed and compared).
func NewRunner(cfg *Config, exposures *ExposureLog) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	asg, err := NewConfigAssigner(cfg)
	if err != nil {
		return nil, err
	}
	r := &Runner{cfg: cfg, asg: asg, units: map[string]*unitState{}}
	for _, sg := range cfg.Segments {
		if slices.Contains(SRMSegmentColumns(cfg.AnalysisUnit), sg) {
			r.segments = append(r.segments, sg) // SRM per segment where the unit has the column
		}
	}
	if exposures != nil {
		if r.exp, err = indexExposures(cfg, exposures); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Add records one conversation.
func (r *Runner) Add(c *signal.Conversation) {
	addUnitRow(r, UnitID(r.cfg.Unit, c), r.cfg.inWindow(c.StartedAt), c, ConversationColumn)
}

// addUnitRow records one row of the unit table (a conversation, or a buyer
// or session unit) of the unit id: it counts toward the unit when it is in
// the window and passes the filters, and its segment values are the
// unit's. column returns the row's value of a categorical column.
func addUnitRow[R any](r *Runner, id string, inWindow bool, row R, column func(string, R) (string, bool)) {
	r.counts.Read++
	if id == "" {
		r.counts.MissingUnitID++
	}
	u := r.units[id]
	if u == nil {
		u = &unitState{}
		r.units[id] = u
	}
	if !inWindow {
		return
	}
	r.counts.InWindow++
	u.inWindow = true
	if !passes(r.cfg.Filters, row, column) {
		return
	}
	r.counts.Admitted++
	u.passed++
	for _, col := range r.segments {
		v, _ := column(col, row)
		key := segKey{col, v}
		if !slices.Contains(u.segs, key) {
			u.segs = append(u.segs, key)
		}
	}
}

// Run assigns the randomization units of conversations under cfg and
// computes the SRM checks. With exposures non-nil the logged cohorts are used
// and checked against the hash.
func Run(cfg *Config, conversations []signal.Conversation, exposures *ExposureLog) (*Result, error) {
	r, err := NewRunner(cfg, exposures)
	if err != nil {
		return nil, err
	}
	for i := range conversations {
		r.Add(&conversations[i])
	}
	return r.Result(), nil
}

// Result assigns every unit seen and summarises.
func (r *Runner) Result() *Result {
	ids := make([]string, 0, len(r.units))
	for id := range r.units {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	arms := r.asg.Arms()
	armIndex := map[string]int{}
	for i, a := range arms {
		armIndex[a.Name] = i
	}
	sum := r.newSummary()
	observed := make([]int64, len(arms))
	segObserved := map[segKey][]int64{}
	var segKeys []segKey
	out := make([]Assignment, 0, len(ids))
	for _, id := range ids {
		u := r.units[id]
		a := Assignment{UnitID: id}
		d := r.asg.Decide(id)
		if d.Bucket >= 0 {
			b := int32(d.Bucket)
			a.Bucket = &b
		}
		arm := -1
		switch {
		case id == "":
			a.Reason = ReasonMissingUnitID
		case !u.inWindow:
			a.Reason = ReasonOutsideWindow
		case u.passed == 0:
			a.Reason = ReasonFiltered
		case r.exp != nil:
			arm, a.Reason = r.exp.decide(id, d, arms, sum.Exposures)
		default:
			arm, a.Reason = d.Arm, d.Reason
		}
		if arm >= 0 {
			a.Variant, a.InExperiment = arms[arm].Name, true
			observed[arm]++
			sum.Arms[arm].Units++
			sum.Arms[arm].Conversations += u.passed
			sum.Units.InExperiment++
			for _, k := range u.segs {
				o := segObserved[k]
				if o == nil {
					o = make([]int64, len(arms))
					segObserved[k] = o
					segKeys = append(segKeys, k)
				}
				o[arm]++
			}
		}
		sum.Units.Total++
		sum.Units.ByReason[a.Reason]++
		out = append(out, a)
	}
	if r.exp != nil {
		r.exp.finish(r.units, r.cfg, sum.Exposures)
	}
	weights := make([]float64, len(arms))
	for i, a := range arms {
		weights[i] = a.Weight
		if sum.Units.InExperiment > 0 {
			sum.Arms[i].Share = float64(sum.Arms[i].Units) / float64(sum.Units.InExperiment)
		}
	}
	alpha := r.cfg.SRMAlpha
	sum.SRM = newSRMCheck(observed, weights, alpha, 1)
	slices.SortFunc(segKeys, func(a, b segKey) int {
		if a.col != b.col {
			return strings.Compare(a.col, b.col)
		}
		return strings.Compare(a.val, b.val)
	})
	for _, k := range segKeys {
		sum.Segments = append(sum.Segments, SegmentSRM{Column: k.col, Value: k.val, Units: total(segObserved[k])})
	}
	m := len(sum.Segments)
	for i := range sum.Segments {
		s := &sum.Segments[i]
		s.SRMCheck = newSRMCheck(segObserved[segKey{s.Column, s.Value}], weights, alpha, m)
	}
	return &Result{Assignments: out, Summary: *sum}
}

func total(xs []int64) int64 {
	var t int64
	for _, x := range xs {
		t += x
	}
	return t
}

func (r *Runner) newSummary() *Summary {
	s := r.cfg
	sum := &Summary{
		ToolVersion:   buildinfo.Version(),
		Experiment:    s.Name,
		Unit:          s.Unit,
		Hash:          s.Hash,
		Salt:          s.Salt,
		Coverage:      s.Coverage,
		Namespace:     s.Namespace,
		Window:        s.Window,
		Filters:       s.Filters,
		Source:        "hash",
		Conversations: r.counts,
		Units:         UnitCounts{ByReason: map[string]int64{}},
	}
	for _, a := range r.asg.Arms() {
		sum.Arms = append(sum.Arms, ArmSummary{Name: a.Name, Weight: a.Weight})
	}
	if r.exp != nil {
		sum.Source = "exposures"
		sum.Exposures = &ExposureSummary{File: r.exp.path, Rows: r.exp.rows, Units: int64(len(r.exp.units))}
	}
	return sum
}

// newSRMCheck runs stats.SRM and flags p < alpha/m (Bonferroni over m tests).
func newSRMCheck(observed []int64, weights []float64, alpha float64, m int) SRMCheck {
	res := stats.SRM(observed, weights)
	if m < 1 {
		m = 1
	}
	c := SRMCheck{
		Observed: observed,
		Expected: res.Expected,
		DF:       res.DF,
		PValue:   res.PValue,
		Alpha:    alpha / float64(m),
		Reason:   res.Reason,
	}
	if !math.IsInf(res.ChiSquare, 0) {
		x := res.ChiSquare
		c.ChiSquare = &x
	}
	c.Flagged = res.Reason == "" && res.PValue < c.Alpha
	if m > 1 {
		c.AdjustedP = math.Min(1, res.PValue*float64(m))
		c.Tests = m
	}
	return c
}

// armNames lists the variant names, for error messages.
func armNames(arms []Arm) string {
	s := ""
	for i, a := range arms {
		if i > 0 {
			s += ", "
		}
		s += a.Name
	}
	return s
}

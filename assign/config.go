package assign

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/keyerr"
	"github.com/signalab/signalab/signal"
)

// Config is an experiment's assignment: who is randomized (Unit), how
// (Salt, Hash, Variants, Coverage, Namespace), which conversations count
// (Window, Filters), and the sample ratio mismatch test (SRMAlpha, within
// each value of Segments). The experiment package builds it from
// experiment.yaml; Validate is the one judge of these keys.
type Config struct {
	// Name is the experiment's name, copied into assign.json.
	Name string
	// Unit is the randomization unit: conversation_id, buyer_id, shop_id
	// or session_id.
	Unit string
	// AnalysisUnit is what the units assigned are counted in and filtered
	// as: "conversation" ("" too; the replay's conversations.parquet),
	// "buyer" or "session" (its sessions.parquet; RunSessionsFile). Which
	// randomization unit suits which analysis unit is judged by the
	// metrics stage (metrics.Unit).
	AnalysisUnit string
	// Salt seeds the hash; change it to re-randomize.
	Salt string
	Hash HashVersion
	// Variants are the arms with their weights (summing to 1).
	Variants []Arm
	// Coverage is the share of units in the experiment, in [0, 1] (1 in a
	// spec that does not set it).
	Coverage float64
	// Namespace, when not nil, restricts the experiment to a slice of a
	// namespace.
	Namespace *Namespace
	// Window, when not nil, admits only conversations started in it.
	Window *Window
	// Filters admit only conversations whose column value is listed.
	Filters Filters
	// Segments are the columns the analysis breaks results down by
	// (experiment.yaml's analysis.segments; the metrics stage judges that
	// they are unit-table columns). SRM is also tested within the values of
	// those that are columns of the assigned units (SRMSegmentColumns).
	Segments []string
	// SRMAlpha flags an SRM test whose p-value is below it
	// (experiment.yaml's analysis.srm_alpha).
	SRMAlpha float64
}

// Namespace restricts the experiment to a slice [Range[0], Range[1]) of a
// namespace, as GrowthBook's inNamespace does.
type Namespace struct {
	ID    string     `yaml:"id" json:"id"`
	Range [2]float64 `yaml:"range" json:"range"`
}

// Window is the experiment's analysis window [Start, End).
type Window struct {
	Start time.Time `yaml:"start" json:"start"`
	End   time.Time `yaml:"end" json:"end"`
}

// Filters keep only conversations whose column value is in the listed set.
// Keys are conversation columns (FilterColumns).
type Filters map[string][]string

// Units are the randomization units an experiment may hash.
var Units = []string{"conversation_id", "buyer_id", "shop_id", "session_id"}

// FilterColumns are the categorical conversation columns (conversations.parquet)
// that filters may name. Boolean columns take the values "true" and "false".
var FilterColumns = []string{"channel", "shop_id", "buyer_id", "conversation_id", "triggered", "had_cart_at_start"}

// SegmentColumns are the conversation columns whose segments get their own
// SRM test (the metrics stage copies them into units.parquet; Segments may
// also name other unit-table columns, without that test).
var SegmentColumns = []string{"channel", "triggered", "had_cart_at_start"}

// ActivityFilterColumns and ActivitySegmentColumns are the columns filters
// may name, and the segments with their own SRM test, when the analysis unit
// is a buyer or a session (replay.Activity; they have no channel or
// conversation id).
var (
	ActivityFilterColumns  = []string{"shop_id", "buyer_id", "triggered", "had_cart_at_start"}
	ActivitySegmentColumns = []string{"triggered", "had_cart_at_start"}
)

// UnitsFor returns the randomization units that can randomize an analysis
// unit ("conversation", "buyer" or "session"): the unit itself or
// something coarser that holds it whole (a conversation belongs to one
// buyer and one shop, a session to one buyer, a buyer to one shop).
func UnitsFor(analysisUnit string) []string {
	switch analysisUnit {
	case "buyer":
		return []string{"buyer_id", "shop_id"}
	case "session":
		return []string{"session_id", "buyer_id", "shop_id"}
	}
	return []string{"conversation_id", "buyer_id", "shop_id"}
}

// SRMSegmentColumns returns the segment columns that get their own SRM
// test for units of analysisUnit: SegmentColumns, or ActivitySegmentColumns
// for buyers and sessions.
func SRMSegmentColumns(analysisUnit string) []string {
	if analysisUnit == "buyer" || analysisUnit == "session" {
		return ActivitySegmentColumns
	}
	return SegmentColumns
}

// Defaults of the keys an experiment spec may leave out.
const (
	DefaultHash     = GrowthBookV2
	DefaultCoverage = 1.0
	DefaultSRMAlpha = 0.001
)

// weightSumTolerance is how far the variant weights may sum from 1.
const weightSumTolerance = 1e-6

// Validate reports every invalid value as a keyerr.List keyed as in
// experiment.yaml ("variants[1].weight"; Segments and SRMAlpha as
// "segments" and "srm_alpha", which the spec holds under analysis:).
func (c *Config) Validate() error {
	var errs keyerr.List
	oneOf := func(key, v string, set []string) {
		if !slices.Contains(set, v) {
			if v == "" {
				errs.Add(key, "missing (want one of %s)", strings.Join(set, ", "))
			} else {
				errs.Add(key, "%q is not one of %s", v, strings.Join(set, ", "))
			}
		}
	}
	au := c.AnalysisUnit
	if au == "" {
		au = "conversation"
	}
	switch {
	case !slices.Contains([]string{"conversation", "buyer", "session"}, au):
		errs.Add("analysis.unit", "%q is not one of conversation, buyer, session", c.AnalysisUnit)
	case c.Unit == "" || !slices.Contains(Units, c.Unit):
		oneOf("unit", c.Unit, Units)
	case !slices.Contains(UnitsFor(au), c.Unit):
		if c.Unit == "session_id" {
			errs.Add("unit", "%q randomizes sessions: it needs analysis.unit: session (%ss are randomized by %s)", c.Unit, au, strings.Join(UnitsFor(au), ", "))
		} else {
			errs.Add("unit", "%q cannot randomize %ss (analysis.unit: %s): one %s can hold several %ss, which would land in different arms; want one of %s",
				c.Unit, au, au, au, strings.TrimSuffix(c.Unit, "_id"), strings.Join(UnitsFor(au), ", "))
		}
	}
	filterCols := FilterColumns
	if au == "buyer" || au == "session" {
		filterCols = ActivityFilterColumns
	}
	if strings.TrimSpace(c.Salt) == "" {
		errs.Add("salt", "missing or empty (any string; change it to re-randomize)")
	}
	if kindOf(c.Hash) == hashUnknown {
		errs.Add("hash", "%q is not one of growthbook-v1, growthbook-v2, sha256", c.Hash)
	}
	c.validateVariants(&errs)
	if !(c.Coverage >= 0 && c.Coverage <= 1) {
		errs.Add("coverage", "%v is outside [0, 1]", c.Coverage)
	}
	if ns := c.Namespace; ns != nil {
		if ns.ID == "" {
			errs.Add("namespace.id", "missing or empty")
		}
		lo, hi := ns.Range[0], ns.Range[1]
		if !(lo >= 0 && lo <= 1) {
			errs.Add("namespace.range[0]", "%v is outside [0, 1]", lo)
		}
		if !(hi >= 0 && hi <= 1) {
			errs.Add("namespace.range[1]", "%v is outside [0, 1]", hi)
		}
		if !(lo < hi) {
			errs.Add("namespace.range", "[%v, %v]: start must be below end", lo, hi)
		}
	}
	if w := c.Window; w != nil {
		inRange := true
		for _, b := range []struct {
			key     string
			t       time.Time
			example string
		}{{"window.start", w.Start, "2026-03-01T00:00:00Z"}, {"window.end", w.End, "2026-03-29T00:00:00Z"}} {
			switch us := b.t.UnixMicro(); {
			case b.t.IsZero():
				// A YAML 0001-01-01 decodes to the same zero time as a
				// missing key: say both.
				errs.Add(b.key, "missing, or 0001-01-01T00:00:00Z (the zero time): want a time between 1970-01-01 and 2100-01-01, e.g. %s", b.example)
				inRange = false
			case us < event.MinTime || us >= event.MaxTime:
				errs.Add(b.key, "%s is outside the supported range 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z (docs/limits.md)", b.t.UTC().Format(time.RFC3339))
				inRange = false
			}
		}
		if inRange && !w.End.After(w.Start) {
			errs.Add("window.end", "%s is not after window.start %s", w.End.Format(time.RFC3339), w.Start.Format(time.RFC3339))
		}
	}
	keys := make([]string, 0, len(c.Filters))
	for k := range c.Filters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		key := "filters." + k
		if !slices.Contains(filterCols, k) {
			errs.Add(key, "%q is not a filterable %s column (want one of %s)", k, au, strings.Join(filterCols, ", "))
			continue
		}
		vals := c.Filters[k]
		if len(vals) == 0 {
			errs.Add(key, "empty list (list the values to keep, or remove the filter)")
		}
		if k == "triggered" || k == "had_cart_at_start" {
			for i, v := range vals {
				if v != "true" && v != "false" {
					errs.Add(fmt.Sprintf("%s[%d]", key, i), "%q: want true or false", v)
				}
			}
		}
	}
	if !(c.SRMAlpha > 0 && c.SRMAlpha < 1) {
		errs.Add("srm_alpha", "%v is outside (0, 1)", c.SRMAlpha)
	}
	seen := map[string]bool{}
	for i, sg := range c.Segments {
		key := fmt.Sprintf("segments[%d]", i)
		if strings.TrimSpace(sg) == "" {
			errs.Add(key, "empty (want a unit-table column such as channel)")
		} else if seen[sg] {
			errs.Add(key, "%q is listed twice", sg)
		}
		seen[sg] = true
	}
	return errs.Err()
}

func (c *Config) validateVariants(errs *keyerr.List) {
	if len(c.Variants) < 2 {
		errs.Add("variants", "%d given, need at least two (e.g. [{name: control, weight: 0.5}, {name: treatment, weight: 0.5}])", len(c.Variants))
	}
	names := map[string]int{}
	sum := 0.0
	finite := true
	for i, v := range c.Variants {
		p := fmt.Sprintf("variants[%d]", i)
		if strings.TrimSpace(v.Name) == "" {
			errs.Add(p+".name", "missing or empty")
		} else if j, dup := names[v.Name]; dup {
			errs.Add(p+".name", "%q repeats variants[%d].name", v.Name, j)
		} else {
			names[v.Name] = i
		}
		switch {
		case math.IsNaN(v.Weight) || math.IsInf(v.Weight, 0):
			errs.Add(p+".weight", "%v is not a number", v.Weight)
			finite = false
		case v.Weight < 0:
			errs.Add(p+".weight", "%v is negative", v.Weight)
		}
		sum += v.Weight
	}
	if len(c.Variants) >= 2 && finite && math.Abs(sum-1) > weightSumTolerance {
		errs.Add("variants", "weights sum to %v, want 1 (±%g)", sum, weightSumTolerance)
	}
}

// Admit returns "" when conversation cv is in the experiment's window (its
// started_at in [window.start, window.end)) and passes every filter (its
// column value is in the listed set), else ReasonOutsideWindow or ReasonFiltered.
func (c *Config) Admit(cv *signal.Conversation) string {
	if !c.inWindow(cv.StartedAt) {
		return ReasonOutsideWindow
	}
	if !passes(c.Filters, cv, ConversationColumn) {
		return ReasonFiltered
	}
	return ""
}

// inWindow reports whether a start time (µs) is in [window.start,
// window.end); every time is when there is no window.
func (c *Config) inWindow(startedAt int64) bool {
	w := c.Window
	return w == nil || (startedAt >= w.Start.UnixMicro() && startedAt < w.End.UnixMicro())
}

// passes reports whether a unit-table row passes every filter: its value
// of each filtered column (column) is in the listed set.
func passes[R any](filters map[string][]string, row R, column func(string, R) (string, bool)) bool {
	for col, vals := range filters {
		if v, _ := column(col, row); !slices.Contains(vals, v) {
			return false
		}
	}
	return true
}

// NewConfigAssigner returns the Assigner of a valid config: its hash, salt,
// variants, coverage and namespace.
func NewConfigAssigner(c *Config) (*Assigner, error) {
	a, err := NewAssigner(c.Hash, c.Salt, c.Variants, c.Coverage)
	if err != nil {
		return nil, err
	}
	if ns := c.Namespace; ns != nil {
		return a.WithNamespace(ns.ID, ns.Range[0], ns.Range[1])
	}
	return a, nil
}

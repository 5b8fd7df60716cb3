package assign

// Summary is the content of assign.json. Field names are a documented
// contract (docs/assignment.md); a test pins them.
type Summary struct {
	ToolVersion string `json:"tool_version"`
	Experiment  string `json:"experiment"`
	Unit        string `json:"unit"`
	// AnalysisUnit is "buyer" or "session" when the units counted in
	// Conversations and ArmSummary.Conversations are buyers or sessions
	// (absent for conversations).
	AnalysisUnit  string             `json:"analysis_unit,omitempty"`
	Hash          HashVersion        `json:"hash"`
	Salt          string             `json:"salt"`
	Coverage      float64            `json:"coverage"`
	Namespace     *Namespace         `json:"namespace,omitempty"`
	Window        *Window            `json:"window,omitempty"`
	Filters       Filters            `json:"filters,omitempty"`
	Source        string             `json:"source"` // "hash" or "exposures"
	Conversations ConversationCounts `json:"conversations"`
	Units         UnitCounts         `json:"units"`
	Arms          []ArmSummary       `json:"arms"`
	SRM           SRMCheck           `json:"srm"`
	Segments      []SegmentSRM       `json:"segments,omitempty"`
	Exposures     *ExposureSummary   `json:"exposures,omitempty"`
}

// ConversationCounts counts the conversations read.
type ConversationCounts struct {
	Read          int64 `json:"read"`
	InWindow      int64 `json:"in_window"`
	Admitted      int64 `json:"admitted"` // in the window and passing the filters
	MissingUnitID int64 `json:"missing_unit_id"`
}

// UnitCounts counts randomization units.
type UnitCounts struct {
	Total        int64            `json:"total"`
	InExperiment int64            `json:"in_experiment"`
	ByReason     map[string]int64 `json:"by_reason"`
}

// ArmSummary is one arm's planned weight and observed units.
type ArmSummary struct {
	Name          string  `json:"name"`
	Weight        float64 `json:"weight"`
	Units         int64   `json:"units"`
	Conversations int64   `json:"conversations"` // admitted conversations of the arm's units
	Share         float64 `json:"share"`         // Units / all units in the experiment
}

// SRMCheck is a sample ratio mismatch test (stats.SRM: Pearson χ² goodness of
// fit of unit counts against the weights) with its decision.
type SRMCheck struct {
	Observed  []int64   `json:"observed"`
	Expected  []float64 `json:"expected"`
	ChiSquare *float64  `json:"chi_square"` // null when infinite (units in a zero-weight arm)
	DF        int       `json:"df"`
	PValue    float64   `json:"p_value"`
	// Alpha is the threshold used: analysis.srm_alpha, divided by Tests for a
	// segment (Bonferroni).
	Alpha     float64 `json:"alpha"`
	Flagged   bool    `json:"flagged"` // p_value < alpha
	AdjustedP float64 `json:"adjusted_p,omitempty"`
	Tests     int     `json:"tests,omitempty"`
	Reason    string  `json:"reason,omitempty"`
}

// SegmentSRM is the SRM check within one segment value (e.g. channel =
// messenger). A unit counts in every segment value among its admitted
// conversations.
type SegmentSRM struct {
	Column string `json:"column"`
	Value  string `json:"value"`
	Units  int64  `json:"units"`
	SRMCheck
}

// ExposureSummary reports the checks of an exposure log against the hash and
// the window.
type ExposureSummary struct {
	File  string `json:"file"`
	Rows  int64  `json:"rows"`
	Units int64  `json:"units"` // distinct unit ids in the log
	// HashMismatch counts admitted units whose logged variant differs from
	// the variant the hash gives (or the hash does not assign them).
	HashMismatch int64 `json:"hash_mismatch"`
	// MultipleVariants counts units logged under more than one variant;
	// they are excluded from the experiment.
	MultipleVariants int64 `json:"multiple_variants"`
	// OutsideWindow counts units whose first exposure is outside the window.
	OutsideWindow int64 `json:"outside_window"`
	// NotExposed counts admitted units that the log does not list.
	NotExposed int64 `json:"not_exposed"`
	// WithoutConversations counts logged units with no conversation at all.
	WithoutConversations int64 `json:"without_conversations"`
	// Examples lists up to 10 unit ids per check, sorted.
	Examples map[string][]string `json:"examples,omitempty"`
}

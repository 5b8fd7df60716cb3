package results

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/signalab/signalab/stats"

	"github.com/signalab/signalab/internal/safeio"
)

// SchemaVersion is the version of results.json written by this build. It
// changes (major) when a field is removed or changes meaning, (minor) when a
// field is added. Readers should accept any 2.x.
//
// 1.1: cluster inference (experiment.inference …, rows[].inference/df/draws).
// 1.2: gates[].not_run (a check that could not be computed).
// 2.0: metric roles, correction families with adjusted intervals, Fieller
// relative intervals by default, guardrails with non-inferiority margins, the
// verdict, heterogeneity tests, CUPED-adjusted means, money in currency units.
const SchemaVersion = "2.0"

// Populations of a result row.
const (
	PopulationAll       = "all"       // every conversation in the experiment
	PopulationTriggered = "triggered" // conversations in which a signal would be shown
)

// SegmentAll is the Segment of a row over the whole population.
const SegmentAll = "all"

// Results is the whole of results.json.
type Results struct {
	SchemaVersion string     `json:"schema_version"`
	ToolVersion   string     `json:"tool_version"`
	Experiment    Experiment `json:"experiment"`
	Metrics       []Metric   `json:"metrics"`
	// Rows holds one row per metric × variant × segment × population, in
	// that nesting order (metrics in spec order, variants in spec order with
	// the control left out, segment "all" first then each segment column's
	// values sorted, population "all" then "triggered").
	Rows     []Row      `json:"rows"`
	Dilution []Dilution `json:"dilution"`
	Health   Health     `json:"health"`
	Gates    Gates      `json:"gates"`
	// Verdict is the decision the results support: ship, don't ship or
	// inconclusive, with its reasons.
	Verdict Verdict `json:"verdict"`
	// Guardrails are the non-inferiority checks of the guardrail metrics,
	// one per guardrail × treatment variant.
	Guardrails []GuardrailResult `json:"guardrails"`
	// Heterogeneity tests, per segment column × metric × variant ×
	// population, whether the effect differs between the column's values.
	Heterogeneity []Heterogeneity `json:"heterogeneity"`
	// TimeSeries holds, for the primary metric, one series per variant ×
	// population: the cumulative estimate at the end of each day.
	TimeSeries []Series `json:"time_series"`
	// Signals summarises the replay's signals; nil when the analysis ran on a
	// table without replay outputs beside it.
	Signals  *SignalsSummary `json:"signals"`
	Warnings []string        `json:"warnings"`
}

// Experiment describes what was analysed and how.
type Experiment struct {
	Name string `json:"name"`
	// Unit is the randomization unit column (conversation_id, buyer_id,
	// shop_id, or the --cluster column of a generic table).
	Unit string `json:"unit"`
	// AnalysisUnit is what one row of the unit table is ("conversation").
	AnalysisUnit string           `json:"analysis_unit"`
	Variants     []Variant        `json:"variants"`
	Control      string           `json:"control"`
	Primary      string           `json:"primary"`
	Alpha        float64          `json:"alpha"`
	Test         stats.Test       `json:"test"`
	RelativeCI   stats.RelativeCI `json:"relative_ci"`
	Correction   stats.Correction `json:"correction"`
	// CorrectionScope is how rows of segment "all" are grouped into
	// correction families: none, metric, family (by role) or all.
	CorrectionScope string `json:"correction_scope"`
	// SegmentCorrection is the correction within each segment column.
	SegmentCorrection stats.Correction `json:"segment_correction"`
	// DecisionPopulation is the population the verdict is stated for
	// (triggered when the table has a triggered column, else all).
	DecisionPopulation string `json:"decision_population"`
	// Currency is the ISO 4217 code of money metrics, "mixed" when the data
	// hold several (added without conversion, see warnings), "" when the
	// data record none.
	Currency   string   `json:"currency"`
	CUPED      bool     `json:"cuped"`
	Sequential bool     `json:"sequential"`
	Bayesian   bool     `json:"bayesian"`
	SRMAlpha   float64  `json:"srm_alpha"`
	Segments   []string `json:"segments"`
	Window     *Window  `json:"window"`     // nil when the spec has none
	PrePeriod  string   `json:"pre_period"` // Go duration, "0s" when none
	// Inference is the configured test of comparisons when randomization is
	// coarser than a row (auto, randomization, cr2 or delta); each row's
	// Inference says which one it got. RandomizationDraws is the number of
	// assignment redraws of a randomization test, and Redraw how they are
	// drawn ("assignment": the experiment's hash with new salts;
	// "permutation": the observed labels permuted).
	Inference          stats.Inference `json:"inference"`
	RandomizationDraws int             `json:"randomization_draws"`
	Redraw             string          `json:"redraw"`
	// Independence states what the analysis treats as independent, and so
	// what its intervals assume.
	Independence string `json:"independence"`
	// SequentialTuningN is N* of the confidence sequences in randomization
	// units, and SequentialTuningSource where it came from
	// (analysis.sequential_tuning_n, plan.units_per_arm, or default).
	SequentialTuningN      float64 `json:"sequential_tuning_n"`
	SequentialTuningSource string  `json:"sequential_tuning_source"`
}

// Variant is one arm with its planned traffic weight.
type Variant struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
}

// Window is the experiment's analysis window [Start, End).
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Metric is one analysed metric's definition as applied.
type Metric struct {
	Name string `json:"name"`
	// Type is the name of the metric's metrics.Type (a string here:
	// package metrics writes this struct into metrics.json, so results
	// cannot import it).
	Type        string `json:"type"`
	Outcome     string `json:"outcome,omitempty"`
	Numerator   string `json:"numerator,omitempty"`
	Denominator string `json:"denominator,omitempty"`
	// Window is the attribution window (Go duration), empty when the metric
	// does not attribute orders.
	Window   string  `json:"window,omitempty"`
	Quantile float64 `json:"quantile,omitempty"`
	// Columns are the units-table columns the analysis read: the value, or
	// numerator and denominator for ratios.
	Columns []string `json:"columns"`
	// Covariates are the CUPED covariate columns, empty without CUPED.
	Covariates []string `json:"covariates"`
	Cap        *Cap     `json:"cap"`
	Primary    bool     `json:"primary"`
	// Role is primary, secondary or guardrail; Direction is the change the
	// experiment hopes for (increase or decrease).
	Role      string `json:"role,omitempty"`
	Direction string `json:"direction,omitempty"`
	// Money marks a metric measured in currency units (its values are in
	// major units of results.json's experiment.currency).
	Money     bool       `json:"money"`
	Guardrail *Guardrail `json:"guardrail"`
}

// Cap records how a metric was winsorized.
type Cap struct {
	Percentile float64 `json:"percentile,omitempty"`
	Value      float64 `json:"value,omitempty"`
	// Threshold is the value applied: Value, or the Percentile of the pooled
	// positive values.
	Threshold Num `json:"threshold"`
	// Capped counts the units whose value was lowered to Threshold.
	Capped int64 `json:"capped"`
}

// Guardrail is a non-inferiority margin: the change of the metric in the
// harmful direction that is tolerated (relative, e.g. -0.02, or absolute in
// the metric's unit), tested one-sided at Alpha.
type Guardrail struct {
	Margin float64 `json:"margin"`
	// Scale is "relative" or "absolute".
	Scale string  `json:"scale"`
	Alpha float64 `json:"alpha"`
}

// Row is one comparison: a treatment variant against the control for one
// metric, segment and population.
type Row struct {
	Metric     string `json:"metric"`
	MetricType string `json:"metric_type"` // a metrics.Type name, as Metric.Type
	Variant    string `json:"variant"`
	// Segment is SegmentAll or a segment column (e.g. "channel"), and
	// SegmentValue that column's value ("" for SegmentAll).
	Segment      string `json:"segment"`
	SegmentValue string `json:"segment_value"`
	Population   string `json:"population"`
	Control      Arm    `json:"control"`
	Treatment    Arm    `json:"treatment"`
	// Absolute is mean_T − mean_C; Relative is (mean_T − mean_C)/|mean_C|.
	// With CUPED both are the adjusted estimates (arm means stay unadjusted).
	Absolute Effect `json:"absolute"`
	Relative Effect `json:"relative"`
	// PValue is the two-sided p-value of the fixed-horizon test.
	// PValueAdjusted is the p-value of the decision test (the fixed-horizon
	// test, or the confidence sequence when the analysis is sequential)
	// adjusted by Correction within the row's Family of FamilySize rows;
	// Significant is PValueAdjusted < alpha, and Adjusted holds the
	// intervals that agree with it.
	PValue         Num    `json:"p_value"`
	PValueAdjusted Num    `json:"p_value_adjusted"`
	Significant    bool   `json:"significant"`
	Family         string `json:"family"`
	FamilySize     int    `json:"family_size"`
	// Correction is the correction applied within Family (the analysis'
	// correction for segment "all", its segment correction for segments).
	Correction stats.Correction `json:"correction"`
	// DecisionTest is "fixed" or "sequential": the test Significant uses.
	DecisionTest string      `json:"decision_test"`
	Adjusted     *Adjusted   `json:"adjusted"`
	CUPED        *CUPED      `json:"cuped"`
	Bayesian     *Bayesian   `json:"bayesian"`
	Sequential   *Sequential `json:"sequential"`
	// Inference names the test behind PValue and the intervals: welch or z
	// (rows randomized one by one), or randomization, cr2 or delta (rows
	// randomized in clusters; docs/statistics.md). DF is the t reference's
	// degrees of freedom (null for z and randomization tests) and Draws the
	// number of assignment redraws of a randomization test.
	Inference string `json:"inference"`
	DF        Num    `json:"df"`
	Draws     int    `json:"draws,omitempty"`
	// Reason explains a row whose statistics are undefined (an empty arm, no
	// variance); its numbers are then null.
	Reason string `json:"reason,omitempty"`
	// RelativeReason explains a row whose relative effect alone is undefined
	// (a control mean of zero): the absolute effect and p-value stand, the
	// relative effect is null.
	RelativeReason string `json:"relative_reason,omitempty"`
}

// Arm holds one arm's sample and estimate in a row.
type Arm struct {
	Name string `json:"name"`
	// Units counts analysis units (rows of the unit table); Clusters counts
	// randomization units (equal to Units when they are the same).
	Units    int64 `json:"units"`
	Clusters int64 `json:"clusters"`
	// Mean is Σnumerator/Σdenominator: the mean per unit, the proportion, the
	// ratio, or for a quantile metric the sample quantile.
	Mean Num `json:"mean"`
	// AdjustedMean is the CUPED-adjusted mean (null without CUPED): the
	// control's equals Mean, the treatment's is control Mean + the adjusted
	// absolute effect, i.e. the treatment mean at the control's pre-period
	// level, so that the shown means, change and relative change agree.
	AdjustedMean Num `json:"adjusted_mean"`
	// SE is the standard error of Mean (delta method for ratios and clusters).
	SE          Num `json:"se"`
	Numerator   Num `json:"numerator"`
	Denominator Num `json:"denominator"`
}

// Effect is a point estimate with its standard error and (1−α) interval.
type Effect struct {
	Estimate Num `json:"estimate"`
	SE       Num `json:"se"`
	CILower  Num `json:"ci_lower"`
	CIUpper  Num `json:"ci_upper"`
}

// Adjusted holds the intervals that agree with a row's adjusted p-value: the
// decision test's intervals at Confidence = 1 − λ, λ the critical level of
// the row's correction family (α/m for Bonferroni, α/(m − r) for Holm with r
// rejections, r·α/m for Benjamini–Hochberg (FCR-adjusted, Benjamini &
// Yekutieli 2005), α without correction). They exclude 0 exactly when the
// row is significant.
type Adjusted struct {
	Confidence float64  `json:"confidence"`
	Absolute   Interval `json:"absolute"`
	Relative   Interval `json:"relative"`
}

// Interval is a confidence interval; a null end is infinite.
type Interval struct {
	CILower Num `json:"ci_lower"`
	CIUpper Num `json:"ci_upper"`
}

// CUPED reports the regression adjustment of a row.
type CUPED struct {
	Theta Num `json:"theta"`
	// VarianceReduction is 1 − Var(adjusted)/Var(unadjusted) of the absolute
	// effect, below 1; under cluster randomization (CR2 variances of the
	// regression estimator) it can be slightly negative when the covariate
	// explains less than its leverage costs.
	VarianceReduction Num `json:"variance_reduction"`
}

// Bayesian is the posterior of the relative effect.
type Bayesian struct {
	ChanceToWin Num `json:"chance_to_win"`
	// Risk is the expected relative loss of choosing each arm.
	RiskControl   Num `json:"risk_control"`
	RiskTreatment Num `json:"risk_treatment"`
	Mean          Num `json:"mean"`
	CILower       Num `json:"ci_lower"`
	CIUpper       Num `json:"ci_upper"`
}

// Sequential is the always-valid confidence sequence of a row.
type Sequential struct {
	Absolute Effect `json:"absolute"`
	Relative Effect `json:"relative"`
	PValue   Num    `json:"p_value"`
	TuningN  int64  `json:"tuning_n"`
}

// Dilution relates the triggered and the all-population effect of a metric
// for one variant (segment "all"). A signal can change only triggered
// conversations, so the effect on all conversations should be the triggered
// effect diluted by the triggered share:
//
//	implied_all_absolute = triggered_absolute × share_T
//	implied_all_relative = implied_all_absolute / mean_C(all)
//
// where share_T is the treatment arm's triggered share of analysis units.
type Dilution struct {
	Metric                  string `json:"metric"`
	Variant                 string `json:"variant"`
	TriggeredShareControl   Num    `json:"triggered_share_control"`
	TriggeredShareTreatment Num    `json:"triggered_share_treatment"`
	TriggeredAbsolute       Num    `json:"triggered_absolute"`
	TriggeredRelative       Num    `json:"triggered_relative"`
	AllAbsolute             Num    `json:"all_absolute"`
	AllRelative             Num    `json:"all_relative"`
	ImpliedAllAbsolute      Num    `json:"implied_all_absolute"`
	ImpliedAllRelative      Num    `json:"implied_all_relative"`
}

// Health collects the checks a reader needs before trusting the numbers.
type Health struct {
	SRM    *SRM        `json:"srm"` // nil when no assignment summary was available
	Arms   []ArmHealth `json:"arms"`
	Replay *Replay     `json:"replay"` // nil when no replay summary was available
	// Excluded counts conversations the metrics stage left out, by reason
	// (outside_window, filtered, not_in_experiment, unassigned).
	Excluded map[string]int64 `json:"excluded"`
}

// Verdict is the decision the results support, for the decision population.
// Decision is "ship" (some treatment variant ships), "dont_ship" (every
// variant must not ship) or "inconclusive"; each variant has its own.
type Verdict struct {
	Decision   string           `json:"decision"`
	Population string           `json:"population"`
	Reasons    []string         `json:"reasons"`
	Variants   []VariantVerdict `json:"variants"`
}

// VariantVerdict is the decision for one treatment variant.
type VariantVerdict struct {
	Variant  string         `json:"variant"`
	Decision string         `json:"decision"`
	Reasons  []string       `json:"reasons"`
	Primary  []PrimaryCheck `json:"primary"`
}

// PrimaryCheck is one primary metric's part of a verdict.
type PrimaryCheck struct {
	Metric    string `json:"metric"`
	Direction string `json:"direction"`
	// Outcome is "better", "worse", "no_difference" or "undefined".
	Outcome        string `json:"outcome"`
	Relative       Num    `json:"relative"`
	CILower        Num    `json:"ci_lower"` // adjusted (decision) interval
	CIUpper        Num    `json:"ci_upper"`
	PValueAdjusted Num    `json:"p_value_adjusted"`
	// MDERelative is the relative change the decision test detects with 80%
	// power at the observed standard error and level MDEAlpha (two-sided).
	MDERelative Num     `json:"mde_relative"`
	MDEAlpha    float64 `json:"mde_alpha"`
}

// GuardrailResult is the non-inferiority test of a guardrail metric for one
// treatment variant: the (1 − 2α) interval (each end a one-sided 1 − α
// bound) against the margin. Pass: the bound on the harmful side clears the
// margin; fail: the whole interval lies beyond it; else inconclusive.
type GuardrailResult struct {
	Metric     string  `json:"metric"`
	Variant    string  `json:"variant"`
	Population string  `json:"population"`
	Direction  string  `json:"direction"`
	Scale      string  `json:"scale"`
	Margin     float64 `json:"margin"`
	Alpha      float64 `json:"alpha"`
	Estimate   Num     `json:"estimate"`
	CILower    Num     `json:"ci_lower"`
	CIUpper    Num     `json:"ci_upper"`
	// Outcome is pass, fail or inconclusive.
	Outcome string `json:"outcome"`
	// PowerAtMargin is the probability that the check passes when the true
	// change is zero (normal approximation at the observed standard error).
	PowerAtMargin Num    `json:"power_at_margin"`
	Reason        string `json:"reason"`
}

// Heterogeneity is the test that the relative effect is the same for every
// value of a segment column: a Wald test of the k − 1 differences between
// the segment effects with their cluster-robust covariance
// ("wald-cluster", segments sharing randomization units) or Cochran's Q
// ("cochran-q", independent segments). Statistic ~ χ²(DF) under the null.
type Heterogeneity struct {
	Segment    string `json:"segment"`
	Metric     string `json:"metric"`
	Variant    string `json:"variant"`
	Population string `json:"population"`
	Method     string `json:"method"`
	Values     int    `json:"values"`
	Statistic  Num    `json:"statistic"`
	DF         int    `json:"df"`
	DF2        int    `json:"df2,omitempty"` // F's denominator df (clustered); 0: χ²(df)
	PValue     Num    `json:"p_value"`
	Reason     string `json:"reason,omitempty"`
}

// SRM is the sample-ratio-mismatch test on randomization units.
type SRM struct {
	Unit      string   `json:"unit"`
	Observed  []int64  `json:"observed"`
	Expected  []Num    `json:"expected"`
	ChiSquare Num      `json:"chi_square"`
	DF        int      `json:"df"`
	PValue    Num      `json:"p_value"`
	Alpha     float64  `json:"alpha"`
	Flagged   bool     `json:"flagged"`
	Reason    string   `json:"reason,omitempty"`
	Variants  []string `json:"variants"`
	Source    string   `json:"source"` // "assign.json" or "units"
}

// ArmHealth gives the sample sizes of one arm.
type ArmHealth struct {
	Name               string `json:"name"`
	RandomizationUnits int64  `json:"randomization_units"`
	Units              int64  `json:"units"`
	TriggeredUnits     int64  `json:"triggered_units"`
}

// Replay carries the replay's data-quality counts.
type Replay struct {
	EventsRead          int64            `json:"events_read"`
	Accepted            int64            `json:"accepted"`
	Duplicates          int64            `json:"duplicates"`
	Stale               int64            `json:"stale"`
	Late                int64            `json:"late"`
	Quarantined         int64            `json:"quarantined"`
	QuarantinedByReason map[string]int64 `json:"quarantined_by_reason"`
	// Currencies counts events by currency code (replay.json; empty when
	// the events carry none).
	Currencies map[string]int64 `json:"currencies"`
}

// Gates is the pass/fail verdict of the run.
type Gates struct {
	Passed bool   `json:"passed"`
	Checks []Gate `json:"checks"`
}

// Gate is one check: the SRM test or a guardrail metric.
type Gate struct {
	Name    string `json:"name"` // "srm" or "guardrail:<metric>:<variant>"
	Kind    string `json:"kind"` // srm | guardrail
	Metric  string `json:"metric,omitempty"`
	Variant string `json:"variant,omitempty"`
	// Passed is false when the check failed; Outcome is pass, fail,
	// inconclusive (a guardrail whose interval straddles its margin: it
	// does not fail the gate, but the verdict cannot be ship) or not_run.
	Passed bool `json:"passed"`
	// NotRun is true when the check could not be computed (Reason says
	// why: no units, a single weighted arm, an undefined lift); it then
	// neither passes nor fails the run, and reports show "not run". Its
	// Outcome is "not_run" (SRM) or "inconclusive" (a guardrail: the
	// verdict cannot be ship without it).
	NotRun  bool   `json:"not_run,omitempty"`
	Outcome string `json:"outcome"`
	// Value is the statistic compared with Threshold: the SRM p-value, or the
	// guardrail's bound on the harmful side (relative or absolute, as its
	// margin).
	Value     Num    `json:"value"`
	Threshold Num    `json:"threshold"`
	Reason    string `json:"reason"`
}

// Series is the cumulative estimate of the primary metric over time.
type Series struct {
	Metric     string `json:"metric"`
	Variant    string `json:"variant"`
	Population string `json:"population"`
	// CUPED is true when the points are CUPED-adjusted as the rows are (the
	// last point then equals the row of segment all).
	CUPED  bool    `json:"cuped"`
	Points []Point `json:"points"`
}

// Point is the cumulative result at the end of one UTC day.
type Point struct {
	Date           string `json:"date"` // YYYY-MM-DD
	ControlUnits   int64  `json:"control_units"`
	TreatmentUnits int64  `json:"treatment_units"`
	Relative       Num    `json:"relative"`
	CILower        Num    `json:"ci_lower"`
	CIUpper        Num    `json:"ci_upper"`
	// SeqCILower/SeqCIUpper bound the relative effect by the confidence
	// sequence; null when the analysis is not sequential.
	SeqCILower Num `json:"seq_ci_lower"`
	SeqCIUpper Num `json:"seq_ci_upper"`
	PValue     Num `json:"p_value"`
}

// SignalsSummary describes the signals of the analysed conversations.
type SignalsSummary struct {
	Conversations int64 `json:"conversations"`
	Triggered     int64 `json:"triggered"`
	WithSignal    int64 `json:"with_signal"`
	Signals       int64 `json:"signals"`
	// ByKind counts signals per kind over the whole replay (signals.parquet).
	ByKind []KindCount `json:"by_kind"`
	// PerConversation is the distribution of signals per analysed
	// conversation, with a histogram 0, 1, …, 9, "10+".
	PerConversation Distribution `json:"per_conversation"`
	// TimeToFirstSignalSeconds is the distribution of first_signal_at −
	// started_at over conversations with a signal.
	TimeToFirstSignalSeconds Distribution `json:"time_to_first_signal_seconds"`
}

// KindCount is a count of one signal kind.
type KindCount struct {
	Kind  string `json:"kind"`
	Count int64  `json:"count"`
}

// Distribution summarises a sample.
type Distribution struct {
	N         int64      `json:"n"`
	Mean      Num        `json:"mean"`
	Quantiles []Quantile `json:"quantiles"` // q = 0.1, 0.25, 0.5, 0.75, 0.9, 0.99
	Histogram []Bin      `json:"histogram,omitempty"`
}

// Quantile is one sample quantile.
type Quantile struct {
	Q     float64 `json:"q"`
	Value Num     `json:"value"`
}

// Bin is one histogram bar.
type Bin struct {
	Label string `json:"label"`
	Count int64  `json:"count"`
}

// Read loads a results.json, checking its major schema version.
func Read(path string) (*Results, error) {
	b, err := safeio.ReadFile(path, safeio.MaxJSONBytes)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("parse results %s: %w", path, err)
	}
	if major(r.SchemaVersion) != major(SchemaVersion) {
		return nil, fmt.Errorf("results %s: schema_version %q, this build reads %s.x; re-run signalab analyze with this build",
			path, r.SchemaVersion, major(SchemaVersion))
	}
	return &r, nil
}

func major(v string) string {
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			return v[:i]
		}
	}
	return v
}

// Marshal encodes r as indented JSON with a trailing newline.
func Marshal(r *Results) ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

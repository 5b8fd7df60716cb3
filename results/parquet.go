package results

// ParquetRow is one row of results.parquet: a Row flattened, one per metric ×
// variant × segment × population. Undefined numbers are NaN (Parquet has no
// null for a required double; NaN reads as missing in pandas and Arrow).
type ParquetRow struct {
	Metric            string  `parquet:"metric"`
	MetricType        string  `parquet:"metric_type"`
	Variant           string  `parquet:"variant"`
	Segment           string  `parquet:"segment"`
	SegmentValue      string  `parquet:"segment_value"`
	Population        string  `parquet:"population"`
	ControlUnits      int64   `parquet:"control_units"`
	TreatmentUnits    int64   `parquet:"treatment_units"`
	ControlClusters   int64   `parquet:"control_clusters"`
	TreatmentClusters int64   `parquet:"treatment_clusters"`
	ControlMean       float64 `parquet:"control_mean"`
	TreatmentMean     float64 `parquet:"treatment_mean"`
	ControlAdjMean    float64 `parquet:"control_adjusted_mean"`
	TreatmentAdjMean  float64 `parquet:"treatment_adjusted_mean"`
	AbsoluteEffect    float64 `parquet:"absolute_effect"`
	AbsoluteSE        float64 `parquet:"absolute_se"`
	AbsoluteCILower   float64 `parquet:"absolute_ci_lower"`
	AbsoluteCIUpper   float64 `parquet:"absolute_ci_upper"`
	RelativeEffect    float64 `parquet:"relative_effect"`
	RelativeSE        float64 `parquet:"relative_se"`
	RelativeCILower   float64 `parquet:"relative_ci_lower"`
	RelativeCIUpper   float64 `parquet:"relative_ci_upper"`
	PValue            float64 `parquet:"p_value"`
	PValueAdjusted    float64 `parquet:"p_value_adjusted"`
	Significant       bool    `parquet:"significant"`
	Family            string  `parquet:"family"`
	Correction        string  `parquet:"correction"`
	AdjConfidence     float64 `parquet:"adjusted_confidence"`
	AdjAbsLower       float64 `parquet:"adjusted_absolute_ci_lower"`
	AdjAbsUpper       float64 `parquet:"adjusted_absolute_ci_upper"`
	AdjRelLower       float64 `parquet:"adjusted_relative_ci_lower"`
	AdjRelUpper       float64 `parquet:"adjusted_relative_ci_upper"`
	CUPEDTheta        float64 `parquet:"cuped_theta"`
	CUPEDVarReduction float64 `parquet:"cuped_variance_reduction"`
	ChanceToWin       float64 `parquet:"chance_to_win"`
	SequentialCILower float64 `parquet:"sequential_relative_ci_lower"`
	SequentialCIUpper float64 `parquet:"sequential_relative_ci_upper"`
	SequentialPValue  float64 `parquet:"sequential_p_value"`
	Inference         string  `parquet:"inference"`
	Reason            string  `parquet:"reason"`
	RelativeReason    string  `parquet:"relative_reason"`
}

// Flatten returns r as a results.parquet row.
func (r *Row) Flatten() ParquetRow {
	nan := float64(NaN())
	p := ParquetRow{
		Metric: r.Metric, MetricType: r.MetricType, Variant: r.Variant,
		Segment: r.Segment, SegmentValue: r.SegmentValue, Population: r.Population,
		ControlUnits: r.Control.Units, TreatmentUnits: r.Treatment.Units,
		ControlClusters: r.Control.Clusters, TreatmentClusters: r.Treatment.Clusters,
		ControlMean: float64(r.Control.Mean), TreatmentMean: float64(r.Treatment.Mean),
		ControlAdjMean: float64(r.Control.AdjustedMean), TreatmentAdjMean: float64(r.Treatment.AdjustedMean),
		Family: r.Family, Correction: string(r.Correction), AdjConfidence: nan,
		AdjAbsLower: nan, AdjAbsUpper: nan, AdjRelLower: nan, AdjRelUpper: nan,
		AbsoluteEffect: float64(r.Absolute.Estimate), AbsoluteSE: float64(r.Absolute.SE),
		AbsoluteCILower: float64(r.Absolute.CILower), AbsoluteCIUpper: float64(r.Absolute.CIUpper),
		RelativeEffect: float64(r.Relative.Estimate), RelativeSE: float64(r.Relative.SE),
		RelativeCILower: float64(r.Relative.CILower), RelativeCIUpper: float64(r.Relative.CIUpper),
		PValue: float64(r.PValue), PValueAdjusted: float64(r.PValueAdjusted), Significant: r.Significant,
		CUPEDTheta: nan, CUPEDVarReduction: nan, ChanceToWin: nan,
		SequentialCILower: nan, SequentialCIUpper: nan, SequentialPValue: nan,
		Inference: r.Inference, Reason: r.Reason, RelativeReason: r.RelativeReason,
	}
	if a := r.Adjusted; a != nil {
		p.AdjConfidence = a.Confidence
		p.AdjAbsLower, p.AdjAbsUpper = float64(a.Absolute.CILower), float64(a.Absolute.CIUpper)
		p.AdjRelLower, p.AdjRelUpper = float64(a.Relative.CILower), float64(a.Relative.CIUpper)
	}
	if r.CUPED != nil {
		p.CUPEDTheta, p.CUPEDVarReduction = float64(r.CUPED.Theta), float64(r.CUPED.VarianceReduction)
	}
	if r.Bayesian != nil {
		p.ChanceToWin = float64(r.Bayesian.ChanceToWin)
	}
	if r.Sequential != nil {
		p.SequentialCILower = float64(r.Sequential.Relative.CILower)
		p.SequentialCIUpper = float64(r.Sequential.Relative.CIUpper)
		p.SequentialPValue = float64(r.Sequential.PValue)
	}
	return p
}

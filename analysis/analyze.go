package analysis

import (
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// DefaultTuningN is N* of the confidence sequence when neither the spec
// nor a plan sets one (GrowthBook's default).
const DefaultTuningN = 5000

// DefaultControl is the control variant of a table analysed without a spec
// or --control: the value named "control" (there is no safe guess
// otherwise: the first value seen depends on the table's row order, and a
// wrong control flips every sign).
const DefaultControl = "control"

// Context is what the earlier stages know and the analysis reports in its
// health section; every field is optional.
type Context struct {
	Assign  *assign.Summary  // assign.json: SRM on randomization units
	Metrics *metrics.Summary // metrics.json: exclusions, caps, signals summary
	Replay  *results.Replay  // replay.json's data-quality counts
}

// Analyze reads t once and computes every comparison of cfg.
func Analyze(cfg Config, t Table, ctx Context) (*results.Results, error) {
	s, err := newState(&cfg, ctx)
	if err != nil {
		return nil, err
	}
	if err := s.pass(t); err != nil {
		return nil, err
	}
	return s.finish(t.Path(), ctx)
}

// newState fills cfg's defaults, validates it and returns the empty state
// of its analysis; ctx.Replay's currency counts decide the unit of money
// (resolveCurrency).
func newState(cfg *Config, ctx Context) (*state, error) {
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &state{cfg: cfg, vidx: map[string]int{}, clusters: map[string]int32{},
		armClusters: map[int64]struct{}{}, ser: map[[2]int]*series{}, primary: -1}
	for i, m := range cfg.Metrics {
		if m.Name == cfg.Primary {
			s.primary = i
		}
	}
	for _, v := range cfg.Variants {
		s.addVariant(v.Name)
	}
	if cfg.Control != "" {
		if _, ok := s.vidx[cfg.Control]; !ok && len(cfg.Variants) > 0 {
			return nil, fmt.Errorf("control %q is not one of the variants", cfg.Control)
		}
	}
	s.segs = make([]map[string]int, len(cfg.Segments))
	for k := range s.segs {
		s.segs[k] = map[string]int{}
	}
	s.segNames = [][2]string{{results.SegmentAll, ""}}
	var money []string
	for _, m := range cfg.Metrics {
		if m.money() {
			money = append(money, m.Name)
		}
	}
	var counts map[string]int64
	if ctx.Replay != nil {
		counts = ctx.Replay.Currencies
	}
	cur, err := resolveCurrency(counts, cfg.Currency, money)
	if err != nil {
		return nil, err
	}
	s.money = cur
	for _, m := range cfg.Metrics {
		if g := m.Guardrail; g != nil && g.Absolute && m.money() && cur.code == CurrencyMixed {
			return nil, fmt.Errorf("metric %s: an absolute guardrail margin needs one currency, but the amounts mix currencies (%s); "+
				"Try: a relative margin (scale: relative)", m.Name, cur.warning)
		}
	}
	return s, nil
}

// finish computes the results from the accumulated atoms of the table at
// path.
func (s *state) finish(path string, ctx Context) (*results.Results, error) {
	cfg := s.cfg
	s.buildCells()
	if len(s.variants) == 0 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	ctrl := 0
	switch {
	case cfg.Control != "":
		c, ok := s.vidx[cfg.Control]
		if !ok {
			return nil, fmt.Errorf("%s: control %q never appears in column %s (values found: %s)", path, cfg.Control,
				cfg.VariantCol, strings.Join(s.variants, ", "))
		}
		ctrl = c
	case len(cfg.Variants) > 0:
		// The spec's order: the first variant is the control.
	default:
		c, ok := s.vidx[DefaultControl]
		if !ok {
			return nil, fmt.Errorf("%s: no control given and no value of column %s is named %q (values found: %s); "+
				"Try: --control %s", path, cfg.VariantCol, DefaultControl, strings.Join(s.variants, ", "), s.variants[0])
		}
		ctrl = c
	}
	if len(s.variants) < 2 {
		return nil, fmt.Errorf("%s: only variant %q appears in column %s; need a control and at least one treatment", path, s.variants[0], cfg.VariantCol)
	}
	if err := s.checkDefined(path); err != nil {
		return nil, err
	}
	s.cell(0, len(s.variants)-1) // make every variant's "all" cell exist
	res := s.assemble(ctrl, ctx)
	return res, nil
}

func (s *state) options(sequential bool) stats.Options {
	return s.optionsAt(s.cfg.Alpha, sequential)
}

// optionsAt are the comparison options at level alpha.
func (s *state) optionsAt(alpha float64, sequential bool) stats.Options {
	o := stats.Options{Alpha: alpha, Test: s.cfg.Test, RelativeCI: s.cfg.RelativeCI}
	if sequential {
		n, _ := s.tuningN()
		o.Sequential = stats.Sequential{Enabled: true, TuningN: n}
	}
	if s.cfg.Bayesian && !sequential {
		o.Bayesian = stats.Bayesian{Enabled: true}
	}
	return o
}

// compare runs the test of metric i between two accumulators.
func (s *state) compare(i int, c, t *accum, opts stats.Options, cuped bool) stats.Result {
	m := s.cfg.Metrics[i]
	switch {
	case m.Type == metrics.Quantile && c.cq != nil && t.cq != nil:
		return stats.CompareClusterQuantiles(*c.cq, *t.cq, opts)
	case m.Type == metrics.Quantile:
		slices.Sort(c.vals)
		slices.Sort(t.vals)
		return stats.CompareQuantiles(stats.QuantileCI(c.vals, m.Q, 0.05), stats.QuantileCI(t.vals, m.Q, 0.05), opts)
	case c.cs != nil || t.cs != nil || m.Type == metrics.Ratio:
		rc, rt := c.ratioMoments(), t.ratioMoments()
		if cuped {
			return stats.CompareRatiosCUPED(rc, rt, opts)
		}
		return stats.CompareRatios(rc.Ratio(), rt.Ratio(), opts)
	default:
		kind := stats.Mean
		if m.Type == metrics.Proportion {
			kind = stats.Proportion
		}
		if cuped {
			return stats.CompareMeansCUPED(c.cm, t.cm, kind, opts)
		}
		return stats.CompareMeans(c.cm.Outcome(), t.cm.Outcome(), kind, opts)
	}
}

// clusterQuantile fills a.cq, once per cell, with the cluster bootstrap of a
// quantile metric under randomization coarser than a row (see
// stats.ClusterQuantile): Config.QuantileBootstrap replicates (default
// stats.DefaultClusterBootstrapReplicates) with the seed quantileSeed of the
// cell, so results.json is byte-stable for the same input and spec. It must
// run before arm or compare sort a.vals (vcl is parallel to the unsorted
// values).
func (s *state) clusterQuantile(m Metric, r results.Row, variant string, a *accum) {
	if a.cq != nil {
		return
	}
	seed := quantileSeed(s.cfg.Salt, s.cfg.Name, m.Name, r.Segment, r.SegmentValue, r.Population, variant)
	st := stats.ClusterQuantile(a.clusterValues(), m.Q, s.cfg.QuantileBootstrap, seed)
	a.cq = &st
}

// quantileSeed is the 64-bit FNV-1a hash (hash/fnv New64a) of the parts,
// each followed by a NUL byte (spec salt, experiment, metric, segment,
// segment value, population, variant): a fixed, documented seed per cell, so
// that changing the salt re-draws the bootstrap as it re-draws the
// randomization.
func quantileSeed(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// arm summarises one accumulator for results.json.
func (s *state) arm(i int, name string, a *accum) results.Arm {
	m := s.cfg.Metrics[i]
	out := results.Arm{Name: name, Units: a.units, Clusters: a.clusters(),
		Mean: results.NaN(), AdjustedMean: results.NaN(), SE: results.NaN(), Numerator: results.NaN(), Denominator: results.NaN()}
	switch {
	case m.Type == metrics.Quantile && a.cq != nil:
		if a.cq.N > 0 {
			out.Mean = results.Num(a.cq.Estimate)
			if a.cq.Reason == "" {
				out.SE = results.Num(a.cq.SE)
			}
		}
		out.Denominator = results.Num(a.cq.N)
	case m.Type == metrics.Quantile:
		slices.Sort(a.vals)
		st := stats.QuantileCI(a.vals, m.Q, 0.05)
		if st.N > 0 {
			out.Mean = results.Num(st.Estimate)
			out.SE = results.Num((st.Upper - st.Lower) / (2 * 1.959963984540054))
		}
		out.Denominator = results.Num(st.N)
	case a.cs != nil || m.Type == metrics.Ratio:
		r := a.ratioMoments()
		out.Numerator, out.Denominator = results.Num(r.SumM), results.Num(r.SumD)
		if r.SumD != 0 {
			out.Mean = results.Num(r.SumM / r.SumD)
			out.SE = results.Num(r.Ratio().SE())
		}
	default:
		mo := a.cm.Outcome()
		out.Numerator, out.Denominator = results.Num(mo.Sum), results.Num(mo.N)
		if mo.N > 0 {
			out.Mean = results.Num(mo.Sum / mo.N)
			kind := stats.Mean
			if m.Type == metrics.Proportion {
				kind = stats.Proportion
			}
			out.SE = results.Num(mo.SE(kind))
		}
	}
	return out
}

func num(x float64) results.Num { return results.Num(x) }

func effect(est, se float64, ci stats.Interval) results.Effect {
	return results.Effect{Estimate: num(est), SE: num(se), CILower: num(ci[0]), CIUpper: num(ci[1])}
}

// rowRef locates the cells of one output row: metric i, the control and
// treatment variants, segment id sg and population pop.
type rowRef struct{ i, ctrl, vi, sg, pop int }

// cells returns the control and treatment accumulators of a row (empty ones
// for a cell that never appeared).
func (s *state) cellsOf(ref rowRef) (c, t *accum) {
	empty := &accum{}
	c, t = empty, empty
	if ref.sg < len(s.cells) {
		if ref.ctrl < len(s.cells[ref.sg]) {
			c = &s.cells[ref.sg][ref.ctrl][ref.pop][ref.i]
		}
		if ref.vi < len(s.cells[ref.sg]) {
			t = &s.cells[ref.sg][ref.vi][ref.pop][ref.i]
		}
	}
	return c, t
}

// compareRef runs a row's test (the one the row got: per-row, or the
// cluster inference with the row's redraw seed) at level alpha,
// fixed-horizon or sequential, without the Bayesian layer.
func (s *state) compareRef(ref rowRef, alpha float64, sequential bool) stats.Result {
	return s.compareRefOpts(ref, s.optionsAt(alpha, sequential))
}

func (s *state) compareRefOpts(ref rowRef, o stats.Options) stats.Result {
	c, t := s.cellsOf(ref)
	o.Bayesian = stats.Bayesian{}
	res, _ := s.test(ref.i, c, t, o, s.cuped(ref.i), ref.ctrl, ref.vi, s.rowSeed(ref))
	return res
}

// rowSeed is the seed of a row's permutation redraws (tables without an
// assignment mechanism), fixed per row like the bootstrap's.
func (s *state) rowSeed(ref rowRef) uint64 {
	seg := s.segNames[ref.sg]
	pops := [2]string{results.PopulationAll, results.PopulationTriggered}
	return quantileSeed(s.cfg.Salt, s.cfg.Name, s.cfg.Metrics[ref.i].Name, seg[0], seg[1], pops[ref.pop], s.variants[ref.vi])
}

// row builds one comparison row.
func (s *state) row(ref rowRef) results.Row {
	i, ctrl, vi, sg, pop := ref.i, ref.ctrl, ref.vi, ref.sg, ref.pop
	m := s.cfg.Metrics[i]
	seg := s.segNames[sg]
	pops := [2]string{results.PopulationAll, results.PopulationTriggered}
	r := results.Row{Metric: m.Name, MetricType: m.Type.String(), Variant: s.variants[vi],
		Segment: seg[0], SegmentValue: seg[1], Population: pops[pop]}
	c, t := s.cellsOf(ref)
	if m.Type == metrics.Quantile && s.cfg.ClusterCol != "" {
		s.groupedValues(c) // before arm and compare sort the values
		s.groupedValues(t)
		s.clusterQuantile(m, r, s.variants[ctrl], c)
		s.clusterQuantile(m, r, s.variants[vi], t)
	}
	r.Control = s.arm(i, s.variants[ctrl], c)
	r.Treatment = s.arm(i, s.variants[vi], t)
	cuped := s.cuped(i)
	seed := s.rowSeed(ref)
	res, inf := s.test(i, c, t, s.options(false), cuped, ctrl, vi, seed)
	r.Inference = inf
	r.Absolute = effect(res.AbsEffect, res.AbsSE, res.AbsCI)
	r.Relative = effect(res.RelEffect, res.RelSE, res.RelCI)
	r.PValue, r.PValueAdjusted = num(res.PValue), num(res.PValue)
	r.DF, r.Draws = results.NaN(), res.Draws
	if res.DF > 0 {
		r.DF = num(res.DF)
	}
	r.Significant = res.Reason == "" && res.PValue < s.cfg.Alpha
	if cuped {
		r.CUPED = &results.CUPED{Theta: num(res.Theta), VarianceReduction: num(res.VarianceReduction)}
		if res.Reason == "" && r.Control.Mean.Valid() {
			// The treatment mean at the control's pre-period level: the
			// control mean plus the adjusted change, so that adjusted
			// means, absolute and relative change agree.
			r.Control.AdjustedMean = r.Control.Mean
			r.Treatment.AdjustedMean = num(float64(r.Control.Mean) + res.AbsEffect)
		}
	}
	if b := res.Bayesian; b != nil && res.Reason == "" {
		r.Bayesian = &results.Bayesian{ChanceToWin: num(b.ChanceToWin), RiskControl: num(b.Risk[0]),
			RiskTreatment: num(b.Risk[1]), Mean: num(b.Mean), CILower: num(b.CrI[0]), CIUpper: num(b.CrI[1])}
	}
	if s.cfg.Sequential {
		sq, _ := s.test(i, c, t, s.options(true), cuped, ctrl, vi, seed)
		r.Sequential = &results.Sequential{Absolute: effect(sq.AbsEffect, sq.AbsSE, sq.AbsCI),
			Relative: effect(sq.RelEffect, sq.RelSE, sq.RelCI), PValue: num(sq.PValue),
			TuningN: int64(s.options(true).Sequential.TuningN)}
		if sq.RelReason != "" {
			nan := results.NaN()
			r.Sequential.Relative = results.Effect{Estimate: nan, SE: nan, CILower: nan, CIUpper: nan}
		}
	}
	nan := results.NaN()
	switch {
	case res.Reason != "":
		r.Reason = res.Reason
		r.Absolute = results.Effect{Estimate: nan, SE: nan, CILower: nan, CIUpper: nan}
		r.Relative = r.Absolute
		r.PValue, r.PValueAdjusted = nan, nan
		r.DF = nan
		r.CUPED = nil
		r.Sequential = nil
		r.Control.AdjustedMean, r.Treatment.AdjustedMean = nan, nan
	case res.RelReason != "":
		// The absolute effect and its p-value stand (e.g. no conversions
		// in the control arm); only the relative effect is undefined.
		r.RelativeReason = res.RelReason
		r.Relative = results.Effect{Estimate: nan, SE: nan, CILower: nan, CIUpper: nan}
		r.Bayesian = nil
	}
	return r
}

// test compares metric i between cells c and t: per-row tests (welch or
// z) when rows are their own randomization units, else the cluster
// inference of compareClustered. It returns the result and the name of the
// test for results.json.
func (s *state) test(i int, c, t *accum, opts stats.Options, cuped bool, ctrl, vi int, seed uint64) (stats.Result, string) {
	if s.cfg.ClusterCol == "" {
		return s.compare(i, c, t, opts, cuped), s.cfg.Test.String()
	}
	res, inf := s.compareClustered(i, c, t, opts, cuped, ctrl, vi, seed)
	return res, inf.String()
}

// assemble computes every output section from the accumulated state.
func (s *state) assemble(ctrl int, ctx Context) *results.Results {
	cfg := s.cfg
	out := &results.Results{SchemaVersion: results.SchemaVersion, ToolVersion: buildinfo.Version(),
		Rows: []results.Row{}, Dilution: []results.Dilution{}, TimeSeries: []results.Series{}, Warnings: []string{},
		Guardrails: []results.GuardrailResult{}, Heterogeneity: []results.Heterogeneity{}}
	out.Experiment = s.experiment(ctrl)
	out.Metrics = s.metricInfo(ctx)
	treatments := []int{}
	for vi := range s.variants {
		if vi != ctrl {
			treatments = append(treatments, vi)
		}
	}
	pops := 1
	if cfg.TriggeredCol != "" {
		pops = 2
	}
	for i := range cfg.Metrics {
		for _, vi := range treatments {
			for _, sg := range s.segmentOrder() {
				for pop := 0; pop < pops; pop++ {
					ref := rowRef{i: i, ctrl: ctrl, vi: vi, sg: sg, pop: pop}
					s.refs = append(s.refs, ref)
					out.Rows = append(out.Rows, s.row(ref))
				}
			}
		}
	}
	s.decide(out.Rows)
	if pops == 2 {
		out.Dilution = s.dilution(out.Rows, ctrl)
	}
	out.Health = s.health(ctrl, ctx)
	out.Heterogeneity = s.heterogeneity(out.Rows)
	out.Guardrails = s.guardrails(out.Rows)
	out.Gates = s.gates(out)
	out.Verdict = s.verdict(out)
	out.Warnings = append(out.Warnings, s.seriesWarnings()...)
	if s.primary >= 0 && cfg.Metrics[s.primary].Type != metrics.Quantile && !s.serOff {
		for _, vi := range treatments {
			for pop := 0; pop < pops; pop++ {
				if sr := s.timeSeries(ctrl, vi, pop); sr != nil {
					out.TimeSeries = append(out.TimeSeries, *sr)
				}
			}
		}
	}
	if s.money.warning != "" {
		out.Warnings = append(out.Warnings, s.money.warning)
	}
	if ctx.Metrics != nil {
		sig := ctx.Metrics.Signals
		out.Signals = &sig
	}
	out.Warnings = append(out.Warnings, s.designWarnings(ctrl, treatments)...)
	out.Warnings = append(out.Warnings, s.warnings...)
	for i, m := range cfg.Metrics {
		if cfg.CUPED && !s.cuped(i) && m.Type != metrics.Quantile {
			out.Warnings = append(out.Warnings, fmt.Sprintf("metric %s: no pre-period covariate, analysed without CUPED", m.Name))
		}
		if i == s.primary && m.Type == metrics.Quantile {
			out.Warnings = append(out.Warnings, fmt.Sprintf("primary metric %s is a quantile: no daily series", m.Name))
		}
	}
	return out
}

func (s *state) experiment(ctrl int) results.Experiment {
	cfg := s.cfg
	e := results.Experiment{Name: cfg.Name, Unit: cfg.Unit, AnalysisUnit: cfg.AnalysisUnit,
		Control: s.variants[ctrl], Primary: cfg.Primary, Alpha: cfg.Alpha, Test: cfg.Test,
		RelativeCI: cfg.RelativeCI, Correction: cfg.Correction, CorrectionScope: string(cfg.CorrectionScope),
		SegmentCorrection: cfg.SegmentCorrection, DecisionPopulation: s.decisionPopulation(),
		Currency: s.money.code, CUPED: cfg.CUPED, Sequential: cfg.Sequential,
		Bayesian: cfg.Bayesian, SRMAlpha: cfg.SRMAlpha, Segments: append([]string{}, cfg.Segments...),
		Window: cfg.Window, PrePeriod: cfg.PrePeriod}
	if e.Unit == "" {
		e.Unit = cfg.ClusterCol
	}
	if e.PrePeriod == "" {
		e.PrePeriod = "0s"
	}
	e.Inference = cfg.Inference
	if e.Inference == "" {
		e.Inference = stats.InferenceAuto
	}
	e.RandomizationDraws = s.draws()
	e.Redraw = "permutation"
	if cfg.Redraw != nil {
		e.Redraw = "assignment"
	}
	e.Independence = s.independence()
	e.SequentialTuningN, e.SequentialTuningSource = s.tuningN()
	w := map[string]float64{}
	for _, v := range cfg.Variants {
		w[v.Name] = v.Weight
	}
	for _, v := range s.variants {
		wt, ok := w[v]
		if !ok {
			wt = 1 / float64(len(s.variants))
		}
		e.Variants = append(e.Variants, results.Variant{Name: v, Weight: wt})
	}
	return e
}

func (s *state) metricInfo(ctx Context) []results.Metric {
	var out []results.Metric
	for i, m := range s.cfg.Metrics {
		info := m.Info
		if info.Name == "" {
			info = results.Metric{Name: m.Name, Type: m.Type.String(), Quantile: m.Q}
		}
		info.Role = string(s.cfg.role(i))
		info.Primary = info.Role == string(RolePrimary)
		info.Direction = m.good()
		info.Money = m.money()
		info.Guardrail = nil
		if g := m.Guardrail; g != nil {
			info.Guardrail = &results.Guardrail{Margin: g.Margin, Scale: metrics.Relative, Alpha: s.guardrailAlpha(g)}
			if g.Absolute {
				info.Guardrail.Scale = metrics.Absolute
			}
		}
		info.Columns = append([]string{}, m.Columns...)
		info.Covariates = []string{}
		if s.cuped(i) {
			info.Covariates = append(info.Covariates, m.Covariates...)
		}
		if ctx.Metrics != nil {
			for _, mm := range ctx.Metrics.Metrics {
				if mm.Name == m.Name && mm.Cap != nil {
					cp := *mm.Cap
					if len(m.Money) > 0 && m.Money[0] {
						// The cap is applied in minor units by the metrics
						// stage; report it in the unit of the metric.
						cp.Value *= s.money.scale
						cp.Threshold = num(float64(cp.Threshold) * s.money.scale)
					}
					info.Cap = &cp
				}
			}
		}
		out = append(out, info)
	}
	return out
}

func (s *state) dilution(rows []results.Row, ctrl int) []results.Dilution {
	var out []results.Dilution
	find := func(metric, variant, pop string) *results.Row {
		for k := range rows {
			r := &rows[k]
			if r.Metric == metric && r.Variant == variant && r.Segment == results.SegmentAll && r.Population == pop {
				return r
			}
		}
		return nil
	}
	share := func(vi int) float64 {
		if s.units[vi] == 0 {
			return math.NaN()
		}
		return float64(s.triggered[vi]) / float64(s.units[vi])
	}
	for _, m := range s.cfg.Metrics {
		for vi, v := range s.variants {
			if vi == ctrl {
				continue
			}
			all, trig := find(m.Name, v, results.PopulationAll), find(m.Name, v, results.PopulationTriggered)
			if all == nil || trig == nil {
				continue
			}
			d := results.Dilution{Metric: m.Name, Variant: v,
				TriggeredShareControl: num(share(ctrl)), TriggeredShareTreatment: num(share(vi)),
				TriggeredAbsolute: trig.Absolute.Estimate, TriggeredRelative: trig.Relative.Estimate,
				AllAbsolute: all.Absolute.Estimate, AllRelative: all.Relative.Estimate}
			d.ImpliedAllAbsolute = num(float64(trig.Absolute.Estimate) * share(vi))
			d.ImpliedAllRelative = num(float64(d.ImpliedAllAbsolute) / math.Abs(float64(all.Control.Mean)))
			out = append(out, d)
		}
	}
	return out
}

func (s *state) health(ctrl int, ctx Context) results.Health {
	h := results.Health{Replay: ctx.Replay, Excluded: map[string]int64{}}
	if ctx.Metrics != nil {
		for k, v := range ctx.Metrics.Excluded {
			h.Excluded[k] = v
		}
	}
	obs := make([]int64, len(s.variants))
	for vi, v := range s.variants {
		ah := results.ArmHealth{Name: v, Units: s.units[vi], TriggeredUnits: s.triggered[vi], RandomizationUnits: s.units[vi]}
		if s.cfg.ClusterCol != "" {
			var n int64
			for k := range s.armClusters {
				if int(k&0xff) == vi {
					n++
				}
			}
			ah.RandomizationUnits = n
		}
		obs[vi] = ah.RandomizationUnits
		h.Arms = append(h.Arms, ah)
	}
	names := slices.Clone(s.variants)
	if a := ctx.Assign; a != nil {
		srm := &results.SRM{Unit: a.Unit, Observed: a.SRM.Observed, DF: a.SRM.DF, PValue: num(a.SRM.PValue),
			Alpha: a.SRM.Alpha, Flagged: a.SRM.Flagged, Reason: a.SRM.Reason, Source: "assign.json", ChiSquare: results.NaN()}
		if a.SRM.Reason != "" {
			srm.PValue = results.NaN() // not computed (assign.json writes 1)
		}
		if a.SRM.ChiSquare != nil {
			srm.ChiSquare = num(*a.SRM.ChiSquare)
		}
		for _, e := range a.SRM.Expected {
			srm.Expected = append(srm.Expected, num(e))
		}
		for _, arm := range a.Arms {
			srm.Variants = append(srm.Variants, arm.Name)
		}
		h.SRM = srm
		return h
	}
	weights := make([]float64, len(names))
	exp := s.experiment(ctrl)
	for i, v := range exp.Variants {
		weights[i] = v.Weight
	}
	r := stats.SRM(obs, weights)
	srm := &results.SRM{Unit: exp.Unit, Observed: obs, ChiSquare: num(r.ChiSquare), DF: r.DF, PValue: num(r.PValue),
		Alpha: s.cfg.SRMAlpha, Flagged: r.Reason == "" && r.PValue < s.cfg.SRMAlpha, Reason: r.Reason,
		Variants: names, Source: "units"}
	if r.Reason != "" {
		srm.PValue, srm.ChiSquare = results.NaN(), results.NaN()
	}
	if srm.Unit == "" {
		srm.Unit = "row"
	}
	for _, e := range r.Expected {
		srm.Expected = append(srm.Expected, num(e))
	}
	h.SRM = srm
	return h
}

func (s *state) gates(out *results.Results) results.Gates {
	g := results.Gates{Passed: true, Checks: []results.Gate{}}
	if srm := out.Health.SRM; srm != nil {
		gate := results.Gate{Name: "srm", Kind: "srm", Passed: !srm.Flagged, Outcome: GuardrailPass, Value: srm.PValue, Threshold: num(srm.Alpha)}
		if srm.Flagged {
			gate.Outcome = GuardrailFail
		}
		if srm.Reason != "" {
			gate.NotRun, gate.Value, gate.Outcome = true, results.NaN(), GateNotRun
			gate.Reason = "not run: " + srm.Reason
		} else if srm.Flagged {
			gate.Reason = fmt.Sprintf("sample ratio mismatch: p = %.3g < srm_alpha %g on %s counts %v", float64(srm.PValue), srm.Alpha, srm.Unit, srm.Observed)
		} else {
			gate.Reason = fmt.Sprintf("no sample ratio mismatch: p = %.3g ≥ srm_alpha %g", float64(srm.PValue), srm.Alpha)
		}
		g.Checks = append(g.Checks, gate)
	}
	for _, gr := range out.Guardrails {
		gate := results.Gate{Name: "guardrail:" + gr.Metric + ":" + gr.Variant, Kind: "guardrail", Metric: gr.Metric,
			Variant: gr.Variant, Passed: gr.Outcome != GuardrailFail, Outcome: gr.Outcome, Threshold: num(gr.Margin),
			Reason: gr.Reason, Value: harmfulBound(gr)}
		// A guardrail without an estimate (an empty arm, an undefined
		// change) was not run; it stays inconclusive for the verdict.
		gate.NotRun = !gr.Estimate.Valid()
		g.Checks = append(g.Checks, gate)
	}
	for _, c := range g.Checks {
		if !c.Passed {
			g.Passed = false
		}
	}
	return g
}

// timeSeries computes the cumulative daily estimate of the primary metric
// for variant vi against the control, with the rows' test, relative
// interval and CUPED adjustment (so the last day equals the row of segment
// all, up to the order of floating-point sums).
func (s *state) timeSeries(ctrl, vi, pop int) *results.Series {
	cs, ts := s.ser[[2]int{ctrl, pop}], s.ser[[2]int{vi, pop}]
	if cs == nil || ts == nil {
		return nil
	}
	i := s.primary
	m := s.cfg.Metrics[i]
	pops := [2]string{results.PopulationAll, results.PopulationTriggered}
	out := &results.Series{Metric: m.Name, Variant: s.variants[vi], Population: pops[pop], CUPED: s.cuped(i),
		Points: []results.Point{}}
	days := map[int64]bool{}
	for _, sr := range []*series{cs, ts} {
		for d := range sr.mom {
			days[d] = true
		}
		for _, ds := range sr.cl {
			for j := range ds.sums {
				days[ds.base+int64(j)] = true
			}
		}
	}
	order := make([]int64, 0, len(days))
	for d := range days {
		order = append(order, d)
	}
	sort.Slice(order, func(a, b int) bool { return order[a] < order[b] })
	clustered := s.cfg.ClusterCol != ""
	if clustered {
		// Clusters in the order of their names, as the rows take them
		// (clusterList): the daily CR2 sums then do not depend on the
		// order of the table's rows (a per-unit table and its summary
		// give the same bits).
		names := s.clusterNames()
		for _, sr := range []*series{cs, ts} {
			slices.SortFunc(sr.order, func(a, b int32) int { return strings.Compare(names[a], names[b]) })
		}
	}
	cc, tc := newCumulative(cs, clustered), newCumulative(ts, clustered)
	fixed, seq := s.options(false), s.options(true)
	fixed.Bayesian, seq.Bayesian = stats.Bayesian{}, stats.Bayesian{}
	for _, d := range order {
		ca, ta := cc.upTo(d), tc.upTo(d)
		p := results.Point{Date: time.UnixMicro(d * int64(microsPerDay)).UTC().Format(time.DateOnly),
			ControlUnits: ca.units, TreatmentUnits: ta.units, SeqCILower: results.NaN(), SeqCIUpper: results.NaN()}
		fix := s.compareSeries(i, &ca.acc, &ta.acc, fixed, out.CUPED)
		p.Relative, p.CILower, p.CIUpper, p.PValue = num(fix.RelEffect), num(fix.RelCI[0]), num(fix.RelCI[1]), num(fix.PValue)
		if fix.Reason != "" {
			p.Relative, p.CILower, p.CIUpper, p.PValue = results.NaN(), results.NaN(), results.NaN(), results.NaN()
		} else if s.cfg.Sequential {
			sq := s.compareSeries(i, &ca.acc, &ta.acc, seq, out.CUPED)
			p.SeqCILower, p.SeqCIUpper = num(sq.RelCI[0]), num(sq.RelCI[1])
		}
		out.Points = append(out.Points, p)
	}
	return out
}

// compareSeries compares one day's cumulative snapshots as the rows are
// compared (the same test, relative interval and CUPED adjustment), except
// that a clustered comparison the rows test by randomization uses CR2 here:
// a randomization test per day would cost B redraws per point. The point
// estimate is the rows' either way, so the last day equals the row of
// segment all.
func (s *state) compareSeries(i int, c, t *accum, opts stats.Options, cuped bool) stats.Result {
	if s.cfg.ClusterCol != "" && s.cfg.Inference != stats.InferenceDelta {
		cc, tc := s.clusterList(c), s.clusterList(t)
		return stats.CompareClustersCR2(sums(cc), sums(tc), cuped, opts)
	}
	return s.compare(i, c, t, opts, cuped)
}

// cumSnapshot is one arm's data up to a day, as an accumulator of the
// primary metric that compare reads like a table cell.
type cumSnapshot struct {
	units int64
	acc   accum
}

// cumulative walks one series day by day, keeping running totals.
type cumulative struct {
	sr        *series
	clustered bool
	running   []clusterSum // per cluster in sr.order: m, d, u = x, v = xd
	seen      []bool
	mom       stats.RatioCovariateMoments
	units     int64
}

func newCumulative(sr *series, clustered bool) *cumulative {
	return &cumulative{sr: sr, clustered: clustered, running: make([]clusterSum, len(sr.order)), seen: make([]bool, len(sr.order))}
}

// upTo adds day d (days must come in increasing order) and returns the
// cumulative moments. Clustered: per-cluster running sums in sr.order (by
// cluster name, see timeSeries), so the floating-point sums are
// reproducible.
func (c *cumulative) upTo(d int64) cumSnapshot {
	if !c.clustered {
		if m := c.sr.mom[d]; m != nil {
			c.mom = c.mom.Add(*m)
		}
		mo := c.mom
		return cumSnapshot{units: int64(mo.N), acc: accum{units: int64(mo.N), rm: mo,
			cm: stats.CovariateMoments{N: mo.N, SumY: mo.SumM, SumY2: mo.SumM2, SumX: mo.SumU, SumX2: mo.SumU2, SumXY: mo.SumMU}}}
	}
	var cs []clusterSum
	for i, k := range c.sr.order {
		ds := c.sr.cl[k]
		r := &c.running[i]
		if j := d - ds.base; j >= 0 && j < int64(len(ds.sums)) {
			add := ds.sums[j]
			r.m += add.m
			r.d += add.d
			r.u += add.x
			r.v += add.xd
			r.id = k
			c.seen[i] = true
			c.units += add.rows
		}
		if c.seen[i] {
			cs = append(cs, *r)
		}
	}
	return cumSnapshot{units: c.units, acc: accum{units: c.units, cs: cs}}
}

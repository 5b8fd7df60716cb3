package analysis

import (
	"fmt"
	"slices"
	"strings"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/stats"
)

// UnitRedraw redraws the assignment of randomization units for the
// randomization tests of cluster-randomized comparisons: for draw number
// draw (0, 1, …) it sets arms[i] to the arm that the experiment's
// assignment mechanism, run afresh, gives units[i] among the two compared
// variants, whose planned weights are weights[0] (control) and weights[1]
// (treatment): 0 control, 1 treatment (−1 leaves the unit out of that
// draw). It must be deterministic. The experiment package builds it from
// package assign (same hash, new salts); analysis does not know how units
// are assigned.
type UnitRedraw func(draw int, weights [2]float64, units []string, arms []int8)

// idCluster is one cluster of a cell: its index and its sums.
type idCluster struct {
	id int32
	c  stats.Cluster
}

// clusterList returns the cell's clusters sorted by their id's string, so
// that results do not depend on the row order of the table.
func (s *state) clusterList(a *accum) []idCluster {
	names := s.clusterNames()
	out := make([]idCluster, len(a.cs))
	for k, c := range a.cs {
		out[k] = idCluster{id: c.id, c: stats.Cluster{M: c.m, D: c.d, U: c.u, V: c.v}}
	}
	slices.SortFunc(out, func(x, y idCluster) int { return strings.Compare(names[x.id], names[y.id]) })
	return out
}

// clusterNames returns the cluster column's value of every cluster index.
func (s *state) clusterNames() []string {
	if len(s.clusterName) != len(s.clusters) {
		s.clusterName = make([]string, len(s.clusters))
		for id, k := range s.clusters {
			s.clusterName[k] = id
		}
	}
	return s.clusterName
}

func sums(cs []idCluster) []stats.Cluster {
	out := make([]stats.Cluster, len(cs))
	for k, c := range cs {
		out[k] = c.c
	}
	return out
}

// overlapping reports whether a cluster appears in both arms (possible in a
// generic table whose cluster column is not the randomization unit): a
// redraw cannot then give it one arm.
func overlapping(a, b []idCluster) bool {
	seen := make(map[int32]bool, len(a))
	for _, c := range a {
		seen[c.id] = true
	}
	for _, c := range b {
		if seen[c.id] {
			return true
		}
	}
	return false
}

// inference returns the method for a comparison of these clusters: the
// configured one, or stats.ChooseInference under auto.
func (s *state) inference(control, treatment []stats.Cluster) stats.Inference {
	inf := s.cfg.Inference
	if inf == "" || inf == stats.InferenceAuto {
		inf = stats.ChooseInference(control, treatment)
	}
	return inf
}

// pairDraws caches, for one pair of variants, each cluster's arm in every
// redraw of the experiment's assignment (B bytes per cluster).
type pairDraws struct {
	weights [2]float64
	arms    map[int32][]int8
}

// redraw returns the stats.Redraw of the comparison of clusters (in this
// order; arms their observed arms) between variants ctrl and vi: the
// experiment's own mechanism when the configuration has one (Config.Redraw),
// else a permutation of the observed labels seeded with seed.
func (s *state) redraw(ctrl, vi int, clusters []int32, arms []int8, seed uint64) stats.Redraw {
	if s.cfg.Redraw == nil {
		return stats.PermutationRedraw(arms, seed)
	}
	b := s.draws()
	key := [2]int{ctrl, vi}
	pd := s.pairs[key]
	if pd == nil {
		pd = &pairDraws{weights: [2]float64{s.weight(ctrl), s.weight(vi)}, arms: map[int32][]int8{}}
		if s.pairs == nil {
			s.pairs = map[[2]int]*pairDraws{}
		}
		s.pairs[key] = pd
	}
	var missing []int32
	for _, id := range clusters {
		if _, ok := pd.arms[id]; !ok {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		names := s.clusterNames()
		units := make([]string, len(missing))
		for k, id := range missing {
			units[k] = names[id]
			pd.arms[id] = make([]int8, b)
		}
		out := make([]int8, len(missing))
		for d := range b {
			s.cfg.Redraw(d, pd.weights, units, out)
			for k, id := range missing {
				pd.arms[id][d] = out[k]
			}
		}
	}
	perCluster := make([][]int8, len(clusters))
	for k, id := range clusters {
		perCluster[k] = pd.arms[id]
	}
	return byDraw(perCluster)
}

// draws is the number of redraws of a randomization test.
func (s *state) draws() int {
	if s.cfg.RandomizationDraws > 0 {
		return s.cfg.RandomizationDraws
	}
	return stats.DefaultRandomizationDraws
}

// weight is variant vi's planned weight (equal weights when the
// configuration lists none).
func (s *state) weight(vi int) float64 {
	for _, v := range s.cfg.Variants {
		if v.Name == s.variants[vi] {
			return v.Weight
		}
	}
	return 1 / float64(len(s.variants))
}

// compareClustered tests metric i between cells c and t when randomization
// is coarser than a row: by the configured (or automatically chosen)
// inference, from the cells' per-cluster sums (for quantiles, their values
// grouped by cluster). It returns the result and the method used.
func (s *state) compareClustered(i int, c, t *accum, opts stats.Options, cuped bool, ctrl, vi int, seed uint64) (stats.Result, stats.Inference) {
	m := s.cfg.Metrics[i]
	if m.Type == metrics.Quantile {
		return s.compareClusteredQuantile(i, c, t, opts, ctrl, vi, seed)
	}
	cc, tc := s.clusterList(c), s.clusterList(t)
	control, treatment := sums(cc), sums(tc)
	inf := s.inference(control, treatment)
	if inf == stats.InferenceRandomization && opts.Sequential.Enabled {
		inf = stats.InferenceCR2 // confidence sequences use the CR2 standard error
	}
	if inf == stats.InferenceRandomization && overlapping(cc, tc) {
		inf = stats.InferenceCR2
		s.warnf("metric %s: a %s appears in both arms, so the assignment cannot be redrawn: analysed with CR2", m.Name, s.unitName())
	}
	switch inf {
	case stats.InferenceDelta:
		return s.compare(i, c, t, opts, cuped), inf
	case stats.InferenceCR2:
		return stats.CompareClustersCR2(control, treatment, cuped, opts), inf
	}
	all := append(slices.Clone(control), treatment...)
	ids := make([]int32, 0, len(all))
	arms := make([]int8, 0, len(all))
	for _, x := range cc {
		ids = append(ids, x.id)
		arms = append(arms, 0)
	}
	for _, x := range tc {
		ids = append(ids, x.id)
		arms = append(arms, 1)
	}
	rz := stats.Randomization{Draws: s.draws(), Redraw: s.redraw(ctrl, vi, ids, arms, seed)}
	return stats.CompareClustersRandomization(all, arms, cuped, opts, rz), inf
}

// compareClusteredQuantile is compareClustered for a quantile metric: the
// clustered quantile test of stats.CompareClusterQuantilesTest (by
// randomization or CR2), or under delta the cluster bootstrap of
// stats.CompareClusterQuantiles. Confidence sequences use the bootstrap
// (the quantile test is fixed-horizon).
func (s *state) compareClusteredQuantile(i int, c, t *accum, opts stats.Options, ctrl, vi int, seed uint64) (stats.Result, stats.Inference) {
	m := s.cfg.Metrics[i]
	cIDs, cVals := s.groupedValues(c)
	tIDs, tVals := s.groupedValues(t)
	sizes := func(vals [][]float64) []stats.Cluster {
		out := make([]stats.Cluster, len(vals))
		for k, v := range vals {
			out[k] = stats.Cluster{D: float64(len(v))}
		}
		return out
	}
	inf := s.inference(sizes(cVals), sizes(tVals))
	if opts.Sequential.Enabled || inf == stats.InferenceDelta {
		if c.cq == nil || t.cq == nil {
			return stats.Result{PValue: 1, RelPValue: 1, Reason: "no cluster bootstrap for this cell"}, stats.InferenceDelta
		}
		return stats.CompareClusterQuantiles(*c.cq, *t.cq, opts), stats.InferenceDelta
	}
	ids := append(slices.Clone(cIDs), tIDs...)
	vals := append(slices.Clone(cVals), tVals...)
	arms := make([]int8, len(ids))
	for k := len(cIDs); k < len(ids); k++ {
		arms[k] = 1
	}
	if inf == stats.InferenceRandomization && overlappingIDs(cIDs, tIDs) {
		inf = stats.InferenceCR2
		s.warnf("metric %s: a %s appears in both arms, so the assignment cannot be redrawn: analysed with CR2", m.Name, s.unitName())
	}
	var rz stats.Randomization
	if inf == stats.InferenceRandomization {
		rz = stats.Randomization{Draws: s.draws(), Redraw: s.redraw(ctrl, vi, ids, arms, seed)}
	}
	return stats.CompareClusterQuantilesTest(vals, arms, m.Q, opts, rz), inf
}

func overlappingIDs(a, b []int32) bool {
	seen := make(map[int32]bool, len(a))
	for _, id := range a {
		seen[id] = true
	}
	for _, id := range b {
		if seen[id] {
			return true
		}
	}
	return false
}

// groupedValues returns a clustered quantile cell's clusters (sorted by
// their id's string) and each one's values; cached on the cell, computed
// before its values are sorted.
func (s *state) groupedValues(a *accum) ([]int32, [][]float64) {
	if a.gIDs != nil || len(a.vcl) == 0 {
		return a.gIDs, a.gVals
	}
	idx := map[int32]int{}
	for j, id := range a.vcl {
		k, ok := idx[id]
		if !ok {
			k = len(a.gIDs)
			idx[id] = k
			a.gIDs = append(a.gIDs, id)
			a.gVals = append(a.gVals, nil)
		}
		a.gVals[k] = append(a.gVals[k], a.vals[j])
	}
	names := s.clusterNames()
	order := make([]int, len(a.gIDs))
	for k := range order {
		order[k] = k
	}
	slices.SortFunc(order, func(x, y int) int { return strings.Compare(names[a.gIDs[x]], names[a.gIDs[y]]) })
	ids, vals := make([]int32, len(order)), make([][]float64, len(order))
	for k, o := range order {
		ids[k], vals[k] = a.gIDs[o], a.gVals[o]
	}
	a.gIDs, a.gVals = ids, vals
	return ids, vals
}

// unitName is the randomization unit's name for messages.
func (s *state) unitName() string {
	if s.cfg.Unit != "" {
		return s.cfg.Unit
	}
	return s.cfg.ClusterCol
}

// warnf adds a warning to results.json once.
func (s *state) warnf(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	if !slices.Contains(s.warnings, w) {
		s.warnings = append(s.warnings, w)
	}
}

// tuningN returns N* of the confidence sequences and where it came from.
func (s *state) tuningN() (float64, string) {
	if s.cfg.SequentialTuningN > 0 {
		src := s.cfg.SequentialTuningSource
		if src == "" {
			src = "analysis.sequential_tuning_n"
		}
		return s.cfg.SequentialTuningN, src
	}
	return DefaultTuningN, "default"
}

// independence states what the analysis treats as independent.
func (s *state) independence() string {
	if s.cfg.ClusterCol == "" {
		return "each row is its own randomization unit and rows are independent (no cluster column): " +
			"if rows were randomized in groups (shops, buyers), name the group with --cluster COL " +
			"(unit: in experiment.yaml); otherwise intervals are too narrow and p-values too small"
	}
	return fmt.Sprintf("rows are grouped by %s, the randomization unit: rows of one %s may be correlated, "+
		"different %ss are independent; comparisons use the %s inference (see each row's inference)",
		s.unitName(), s.unitName(), s.unitName(), s.experimentInference())
}

func (s *state) experimentInference() stats.Inference {
	if s.cfg.Inference == "" {
		return stats.InferenceAuto
	}
	return s.cfg.Inference
}

// Thresholds of the design warnings.
const (
	// FewClustersWarning: fewer randomization units than this in an arm
	// draws a warning.
	FewClustersWarning = 20
	// LargeClusterWarning: one randomization unit holding this share of an
	// arm's rows, and more than twice an equal share, draws a warning.
	LargeClusterWarning = 0.10
)

// designWarnings flags weak cluster-randomized designs, from the rows of
// segment "all", population "all": few randomization units in an arm, and
// one unit holding a large share of an arm's rows.
func (s *state) designWarnings(ctrl int, treatments []int) []string {
	if s.cfg.ClusterCol == "" || len(s.cells) == 0 {
		return nil
	}
	unit := s.unitName()
	var out []string
	arms := append([]int{ctrl}, treatments...)
	for _, vi := range arms {
		sizes := s.rowsPerCluster(vi)
		if len(sizes) == 0 {
			continue
		}
		if len(sizes) < FewClustersWarning {
			out = append(out, fmt.Sprintf("arm %s has only %d %ss: the comparison rests on few randomization units; "+
				"the randomization test keeps the false-positive rate at alpha, but power is low and one %s can move the estimate "+
				"(check with signalab aa; plan with signalab power --clusters-per-arm)", s.variants[vi], len(sizes), unit, unit))
		}
		var total, big float64
		for _, n := range sizes {
			total += n
			big = max(big, n)
		}
		if total > 0 && big/total >= LargeClusterWarning && big/total > 2/float64(len(sizes)) {
			out = append(out, fmt.Sprintf("arm %s: one %s holds %.0f%% of the arm's rows: its result decides whichever arm it is in; "+
				"comparisons use the randomization test (inference: auto), which stays exact, but expect wide intervals "+
				"(check with signalab aa)", s.variants[vi], unit, 100*big/total))
		}
	}
	return out
}

// rowsPerCluster returns the number of rows of each randomization unit in
// variant vi (segment all, population all), from the first metric whose
// per-cluster denominator counts rows (proportion or mean) or, failing
// that, a quantile metric's values.
func (s *state) rowsPerCluster(vi int) []float64 {
	if vi >= len(s.cells[0]) {
		return nil
	}
	cell := s.cells[0][vi][0]
	for i, m := range s.cfg.Metrics {
		if m.Type == metrics.Proportion || m.Type == metrics.Mean {
			out := make([]float64, len(cell[i].cs))
			for k, c := range cell[i].cs {
				out[k] = c.d
			}
			return out
		}
	}
	for i, m := range s.cfg.Metrics {
		if m.Type == metrics.Quantile {
			_, vals := s.groupedValues(&cell[i])
			out := make([]float64, len(vals))
			for k, v := range vals {
				out[k] = float64(len(v))
			}
			return out
		}
	}
	return nil
}

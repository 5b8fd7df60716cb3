package analysis

import (
	"fmt"
	"math"
	"slices"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// ClusterTable holds every randomization unit's sums of every metric of a
// unit table (segment all), whatever the unit's arm: what is needed to
// re-run the analysis for a redrawn assignment without reading the table
// again (signalab aa).
type ClusterTable struct {
	Metrics []ClusterMetric
	cfg     Config
}

// ClusterMetric is one metric's per-unit data in each population (0: all
// rows, 1: triggered rows).
type ClusterMetric struct {
	Name  string
	Type  metrics.Type
	CUPED bool
	Q     float64
	// Units[pop] are the randomization units with rows in the population,
	// sorted; Sums[pop][k] (proportion, mean, ratio) or Values[pop][k]
	// (quantile) are unit k's.
	Units  [2][]string
	Sums   [2][]stats.Cluster
	Values [2][][]float64
	// below[pop][k] counts unit k's values at or below the q-quantile of
	// all units' values (quantile metrics): the clustered median test's
	// data when every unit is compared.
	below [2][]stats.Cluster
}

// ScanClusters reads t once and returns the per-unit sums of every metric
// of cfg, pooled over the table's variants. cfg must have a cluster column.
func ScanClusters(cfg Config, t Table) (*ClusterTable, error) {
	cfg.applyDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.ClusterCol == "" {
		return nil, fmt.Errorf("ScanClusters: no cluster column (the randomization unit must be coarser than a row)")
	}
	cfg.Variants, cfg.Control = nil, ""
	s := &state{cfg: &cfg, vidx: map[string]int{}, clusters: map[string]int32{},
		armClusters: map[int64]struct{}{}, ser: map[[2]int]*series{}, primary: -1}
	s.segNames = [][2]string{{results.SegmentAll, ""}}
	cfg.Segments, cfg.TimeCol = nil, ""
	// Money columns are scaled to major units as in Analyze (the sums a
	// randomization test permutes are then in the same units as results.json).
	cur, err := resolveCurrency(nil, cfg.Currency, nil)
	if err != nil {
		return nil, err
	}
	s.money = cur
	if err := s.pass(t); err != nil {
		return nil, err
	}
	s.buildCells()
	if len(s.variants) == 0 {
		return nil, fmt.Errorf("%s: no rows", t.Path())
	}
	ct := &ClusterTable{cfg: cfg}
	names := s.clusterNames()
	pops := 1
	if cfg.TriggeredCol != "" {
		pops = 2
	}
	for i, m := range cfg.Metrics {
		cm := ClusterMetric{Name: m.Name, Type: m.Type, CUPED: s.cuped(i), Q: m.Q}
		for pop := range pops {
			var a accum
			for vi := range s.variants {
				a.merge(&s.cells[0][vi][pop][i])
			}
			if m.Type == metrics.Quantile {
				ids, vals := s.groupedValues(&a)
				var all []float64
				for k, id := range ids {
					cm.Units[pop] = append(cm.Units[pop], names[id])
					cm.Values[pop] = append(cm.Values[pop], vals[k])
					all = append(all, vals[k]...)
				}
				if len(all) > 0 {
					slices.Sort(all)
					qs := all[min(max(int(math.Ceil(float64(len(all))*m.Q)), 1), len(all))-1]
					for _, v := range cm.Values[pop] {
						var n float64
						for _, x := range v {
							if x <= qs {
								n++
							}
						}
						cm.below[pop] = append(cm.below[pop], stats.Cluster{M: n, D: float64(len(v))})
					}
				}
				continue
			}
			for _, c := range s.clusterList(&a) {
				cm.Units[pop] = append(cm.Units[pop], names[c.id])
				cm.Sums[pop] = append(cm.Sums[pop], c.c)
			}
		}
		ct.Metrics = append(ct.Metrics, cm)
	}
	return ct, nil
}

// Options returns the statistics options of the table's analysis (α, test
// and alternative; fixed horizon).
func (ct *ClusterTable) Options() stats.Options {
	return stats.Options{Alpha: ct.cfg.Alpha, Test: ct.cfg.Test, RelativeCI: ct.cfg.RelativeCI}
}

// UnitDraws returns, for each of units, its arm (0 control, 1 treatment,
// −1 neither) in redraws 0 … draws − 1 of the assignment mechanism, for a
// comparison of two variants weighted weights (see UnitRedraw).
type UnitDraws func(units []string, weights [2]float64, draws int) [][]int8

// Draws turns a UnitRedraw into UnitDraws (one call per draw).
func Draws(redraw UnitRedraw) UnitDraws {
	return func(units []string, weights [2]float64, draws int) [][]int8 {
		out := make([][]int8, len(units))
		for k := range out {
			out[k] = make([]int8, draws)
		}
		arms := make([]int8, len(units))
		for d := range draws {
			redraw(d, weights, units, arms)
			for k, a := range arms {
				out[k][d] = a
			}
		}
		return out
	}
}

// byDraw is the stats.Redraw reading per-unit draws.
func byDraw(perUnit [][]int8) stats.Redraw {
	return func(d int, out []int8) {
		for k, a := range perUnit {
			out[k] = a[d]
		}
	}
}

// PValue tests metric mi in population pop for one assignment of its units:
// arm[k] is unit Units[pop][k]'s arm (0 control, 1 treatment, −1 not in the
// comparison). The test is the analysis' for those clusters (inf, auto
// resolved by stats.ChooseInference; a randomization test draws redraw,
// which receives the compared units in order and their weights); it
// returns the p-value and the inference used; ok is false when the
// comparison is undefined (fewer than 2 clusters in an arm, no variance).
func (ct *ClusterTable) PValue(mi, pop int, arm []int8, inf stats.Inference, weights [2]float64, draws int,
	redraw UnitDraws) (p float64, used stats.Inference, ok bool) {
	m := &ct.Metrics[mi]
	opts := ct.Options()
	var units []string
	var arms []int8
	var sums []stats.Cluster
	var vals [][]float64
	var sizeC, sizeT []stats.Cluster
	for k, a := range arm {
		if a != 0 && a != 1 {
			continue
		}
		units = append(units, m.Units[pop][k])
		arms = append(arms, a)
		var c stats.Cluster
		if m.Type == metrics.Quantile {
			vals = append(vals, m.Values[pop][k])
			c = stats.Cluster{D: float64(len(m.Values[pop][k]))}
		} else {
			c = m.Sums[pop][k]
			sums = append(sums, c)
		}
		if a == 0 {
			sizeC = append(sizeC, c)
		} else {
			sizeT = append(sizeT, c)
		}
	}
	if inf == "" || inf == stats.InferenceAuto {
		inf = stats.ChooseInference(sizeC, sizeT)
	}
	if len(sizeC) < 2 || len(sizeT) < 2 {
		return 1, inf, false
	}
	if m.Type != metrics.Quantile {
		// The CR2 fit says whether the comparison is defined (cheap).
		c, t := stats.ClusterArms(sums, arms)
		cr2 := stats.CompareClustersCR2(c, t, m.CUPED, opts)
		if cr2.Reason != "" {
			return 1, inf, false
		}
		if inf == stats.InferenceCR2 {
			return cr2.PValue, inf, true
		}
	}
	var rz stats.Randomization
	if inf == stats.InferenceRandomization {
		rz.Draws = draws
		if redraw != nil {
			rz.Redraw = byDraw(redraw(units, weights, draws))
		} else {
			rz.Redraw = stats.PermutationRedraw(arms, 0)
		}
	}
	if m.Type == metrics.Quantile && inf != stats.InferenceDelta && len(units) == len(m.Units[pop]) {
		// Every unit is compared: the pooled quantile is the scan's, and
		// the test is a proportion (count below it) of cluster sums.
		below := m.below[pop]
		if inf == stats.InferenceCR2 {
			c, t := stats.ClusterArms(below, arms)
			r := stats.CompareClustersCR2(c, t, false, stats.Options{Alpha: opts.Alpha, Alternative: mirror(opts.Alternative)})
			return r.PValue, inf, r.Reason == ""
		}
		return stats.RandomizationPValue(below, arms, false, mirror(opts.Alternative), rz), inf, true
	}
	if m.Type == metrics.Quantile {
		switch inf {
		case stats.InferenceDelta:
			var cv, tv [][]float64
			for k, a := range arms {
				if a == 0 {
					cv = append(cv, vals[k])
				} else {
					tv = append(tv, vals[k])
				}
			}
			r := stats.BootstrapClusterQuantiles(cv, tv, m.Q, 0, 0, opts)
			return r.PValue, inf, r.Reason == ""
		case stats.InferenceCR2:
			return stats.ClusterQuantilesPValue(vals, arms, m.Q, opts.Alternative, stats.Randomization{}), inf, true
		}
		return stats.ClusterQuantilesPValue(vals, arms, m.Q, opts.Alternative, rz), inf, true
	}
	switch inf {
	case stats.InferenceDelta:
		var rc, rt stats.RatioCovariateMoments
		for k, a := range arms {
			c := sums[k]
			if a == 0 {
				rc.Observe(c.M, c.D, c.U, c.V)
			} else {
				rt.Observe(c.M, c.D, c.U, c.V)
			}
		}
		r := stats.CompareRatios(rc.Ratio(), rt.Ratio(), opts)
		if m.CUPED {
			r = stats.CompareRatiosCUPED(rc, rt, opts)
		}
		return r.PValue, inf, r.Reason == ""
	}
	return stats.RandomizationPValue(sums, arms, m.CUPED, opts.Alternative, rz), inf, true
}

// mirror swaps the one-sided alternatives: a larger treated quantile leaves
// fewer treated values below the pooled one.
func mirror(a stats.Alternative) stats.Alternative {
	switch a {
	case stats.Greater:
		return stats.Less
	case stats.Less:
		return stats.Greater
	}
	return a
}

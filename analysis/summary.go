package analysis

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// A summary table holds sufficient statistics per group of units, as a
// warehouse query (GROUP BY arm, segment, day) produces them, instead of one
// row per unit (docs/metrics.md, "Summary tables"). Each row is one disjoint
// group: a variant (or, in the wide layout, each variant of the row), and
// the values of the segment, triggered, time and cluster columns given. Its
// columns:
//
//	n (or count, units)                     the group's units (rows of a cluster)
//	<p>sum, <p>sum_sq                       Σy, Σy² of a mean or proportion metric
//	<p>mean, <p>variance (or var)           instead: mean and sample variance (n − 1)
//	<p>sum_x, <p>sum_x2, <p>sum_xy          its CUPED covariate: Σx, Σx², Σxy
//	<p>sum_m, <p>sum_m2, <p>sum_d,          a ratio metric ΣM/ΣD: Σm, Σm², Σd, Σd², Σmd
//	  <p>sum_d2, <p>sum_md
//	<p>sum_u, <p>sum_u2, <p>sum_v, <p>sum_v2, its CUPED covariate u/v and cross-products
//	  <p>sum_mu, <p>sum_mv, <p>sum_du, <p>sum_dv, <p>sum_uv
//
// where <p> is the metric's prefix (its name and "_" by default). A
// proportion needs only its sum (or mean): its values are 0 or 1. With a
// cluster column each row is one randomization unit's sums and only the
// sums are read: <p>sum (M; D is n) and <p>sum_x (U; V is n), or <p>sum_m,
// <p>sum_d, <p>sum_u, <p>sum_v. Quantile metrics have no sufficient
// statistics and are refused.
//
// The statistics, the report and results.json are those of the per-unit
// table the groups summarise: a row adds to its cell exactly what its units
// add (for integer values the sums are exact, and both paths give the same
// numbers).

// SummaryArm maps a column suffix of a wide summary table to a variant:
// with arms {_c control} {_t treatment}, count_c and mean_c are the
// control's, count_t and mean_t the treatment's.
type SummaryArm struct {
	Suffix, Name string
}

// Summary is the layout of a summary table.
type Summary struct {
	// Arms, when not empty, make the table wide: every statistic column
	// exists once per arm, with its suffix; the first arm is the control.
	// Empty: the long layout, one row per group with Config.VariantCol.
	Arms []SummaryArm
	// Prefixes are the prefixes of each metric's statistic columns
	// (aligned with Config.Metrics); nil or a missing entry means the
	// metric's name and "_". An empty string means bare names (sum, mean,
	// count_c, ...).
	Prefixes []string
	// Where keeps only the rows whose column (first) holds the value
	// (second), as text or as an equal number.
	Where [][2]string
	// Latest, when set, keeps of the rows left by Where only those with the
	// greatest numeric value in this column (e.g. the last checkpoint of a
	// table of cumulative snapshots).
	Latest string
}

// AnalyzeSummary computes every comparison of cfg from a summary table t
// with layout lay, as Analyze does from the per-unit table it summarises.
func AnalyzeSummary(cfg Config, t Table, lay Summary, ctx Context) (*results.Results, error) {
	if len(lay.Arms) > 0 {
		if cfg.VariantCol == "" {
			cfg.VariantCol = "arm"
		}
		if len(cfg.Variants) == 0 {
			for _, a := range lay.Arms {
				cfg.Variants = append(cfg.Variants, results.Variant{Name: a.Name, Weight: 1 / float64(len(lay.Arms))})
			}
		}
		if cfg.Control == "" {
			cfg.Control = lay.Arms[0].Name
		}
	}
	for _, m := range cfg.Metrics {
		if m.Type == metrics.Quantile {
			return nil, fmt.Errorf("%s: metric %s: a quantile has no sufficient statistics; analyse the per-unit table (--units) instead", t.Path(), m.Name)
		}
	}
	// A summary's sums are reported in the units they are given in: no
	// minor-to-major conversion of money (a column's _cents suffix names the
	// stem of its statistics, not their unit).
	cfg.Metrics = slices.Clone(cfg.Metrics)
	for i := range cfg.Metrics {
		cfg.Metrics[i].Money = nil
	}
	s, err := newState(&cfg, ctx)
	if err != nil {
		return nil, err
	}
	sp := &summaryPass{s: s, lay: lay, path: t.Path(), seen: map[string]int64{}}
	if err := sp.run(t); err != nil {
		return nil, err
	}
	return s.finish(t.Path(), ctx)
}

// summaryPass reads a summary table into the state's atoms and series.
type summaryPass struct {
	s    *state
	lay  Summary
	path string
	// names are the columns read and idx their positions; where, latest,
	// trig, time, cluster, segs are positions of those columns (−1: none).
	names                    []string
	idx                      map[string]int
	latest, trig, time, clus int
	segs                     []int
	where                    []int
	whereNum                 []float64
	whereIsNum               []bool
	arms                     []armCols
	latestMax                float64
	hasLatest                bool
	seen                     map[string]int64 // group key → row
	keys                     rowKeys
	resolved                 bool
}

// armCols are the statistic columns of one arm (all arms share the layout
// columns): per arm, the positions of n and of each metric's statistics.
type armCols struct {
	name string
	vi   int
	n    int
	mets []statCols
}

// statCols are the positions of one metric's statistic columns (−1 when
// absent), by name without prefix.
type statCols map[string]int

// statNames are the statistic columns a metric of type t may have.
func statNames(t metrics.Type) []string {
	if t == metrics.Ratio {
		return []string{"sum_m", "sum_m2", "sum_d", "sum_d2", "sum_md", "sum_u", "sum_u2", "sum_v", "sum_v2",
			"sum_mu", "sum_mv", "sum_du", "sum_dv", "sum_uv"}
	}
	return []string{"sum", "sum_sq", "mean", "variance", "var", "sum_x", "sum_x2", "sum_xy"}
}

func (p *summaryPass) at(name string) int {
	if i, ok := p.idx[name]; ok {
		return i
	}
	p.names = append(p.names, name)
	p.idx[name] = len(p.names) - 1
	return len(p.names) - 1
}

func (p *summaryPass) prefix(i int) string {
	if i < len(p.lay.Prefixes) {
		return p.lay.Prefixes[i]
	}
	return p.s.cfg.Metrics[i].Name + "_"
}

// layout lists every column the table may have; all but the layout
// columns the user named are optional, and which statistics a table has
// is decided from the first batch (resolve).
func (p *summaryPass) layout() map[string]bool {
	cfg := p.s.cfg
	p.idx = map[string]int{}
	optional := map[string]bool{}
	p.latest, p.trig, p.time, p.clus = -1, -1, -1, -1
	arms := p.lay.Arms
	if len(arms) == 0 {
		p.at(cfg.VariantCol)
		arms = []SummaryArm{{}}
	}
	if p.lay.Latest != "" {
		p.latest = p.at(p.lay.Latest)
	}
	for _, w := range p.lay.Where {
		p.where = append(p.where, p.at(w[0]))
		v, err := strconv.ParseFloat(w[1], 64)
		p.whereNum = append(p.whereNum, v)
		p.whereIsNum = append(p.whereIsNum, err == nil)
	}
	if cfg.TriggeredCol != "" {
		p.trig = p.at(cfg.TriggeredCol)
	}
	if cfg.TimeCol != "" {
		p.time = p.at(cfg.TimeCol)
	}
	if cfg.ClusterCol != "" {
		p.clus = p.at(cfg.ClusterCol)
	}
	for _, sg := range cfg.Segments {
		p.segs = append(p.segs, p.at(sg))
	}
	for _, a := range arms {
		ac := armCols{name: a.Name, n: -1}
		for _, n := range []string{"n", "count", "units"} {
			optional[n+a.Suffix] = true
			p.at(n + a.Suffix)
		}
		for i, m := range cfg.Metrics {
			sc := statCols{}
			for _, st := range statNames(m.Type) {
				name := p.prefix(i) + st + a.Suffix
				optional[name] = true
				sc[st] = p.at(name)
			}
			ac.mets = append(ac.mets, sc)
		}
		p.arms = append(p.arms, ac)
	}
	return optional
}

// resolve decides, from the first batch's columns, which statistic
// columns the table has, and reports a metric whose required ones are
// missing.
func (p *summaryPass) resolve(cols []Col) error {
	cfg := p.s.cfg
	has := func(i int) bool { return i >= 0 && cols[i] != nil }
	var names []string
	for i, c := range cols {
		if c != nil {
			names = append(names, p.names[i])
		}
	}
	for ai := range p.arms {
		a := &p.arms[ai]
		sfx := ""
		if len(p.lay.Arms) > 0 {
			sfx = p.lay.Arms[ai].Suffix
		}
		for _, n := range []string{"n", "count", "units"} {
			if i := p.idx[n+sfx]; has(i) {
				a.n = i
				break
			}
		}
		if a.n < 0 {
			return fmt.Errorf("%s: no column n%s (or count%s, units%s): a summary row needs the number of units of its group (have: %s); see docs/metrics.md, Summary tables",
				p.path, sfx, sfx, sfx, strings.Join(names, ", "))
		}
		for i, m := range cfg.Metrics {
			sc := a.mets[i]
			for k, v := range sc {
				if !has(v) {
					sc[k] = -1
				}
			}
			pre := p.prefix(i)
			need := func(alts ...[]string) error {
				for _, alt := range alts {
					ok := true
					for _, st := range alt {
						ok = ok && sc[st] >= 0
					}
					if ok {
						return nil
					}
				}
				var want []string
				for _, alt := range alts {
					var cs []string
					for _, st := range alt {
						cs = append(cs, pre+st+sfx)
					}
					want = append(want, strings.Join(cs, " and "))
				}
				return fmt.Errorf("%s: metric %s (%s): the table has no %s (have: %s); see docs/metrics.md, Summary tables",
					p.path, m.Name, m.Type, strings.Join(want, ", or "), strings.Join(names, ", "))
			}
			clustered := cfg.ClusterCol != ""
			cuped := p.s.cuped(i)
			var err error
			switch {
			case m.Type == metrics.Ratio && clustered:
				err = need([]string{"sum_m", "sum_d"})
				if err == nil && cuped {
					err = need([]string{"sum_u", "sum_v"})
				}
			case m.Type == metrics.Ratio:
				err = need([]string{"sum_m", "sum_m2", "sum_d", "sum_d2", "sum_md"})
				if err == nil && cuped {
					err = need([]string{"sum_u", "sum_u2", "sum_v", "sum_v2", "sum_mu", "sum_mv", "sum_du", "sum_dv", "sum_uv"})
				}
			case clustered:
				err = need([]string{"sum"}, []string{"mean"})
				if err == nil && cuped {
					err = need([]string{"sum_x"})
				}
			case m.Type == metrics.Proportion:
				err = need([]string{"sum"}, []string{"mean"})
				if err == nil && cuped {
					err = need([]string{"sum_x", "sum_x2", "sum_xy"})
				}
			default:
				err = need([]string{"sum", "sum_sq"}, []string{"mean", "variance"}, []string{"mean", "var"})
				if err == nil && cuped {
					err = need([]string{"sum_x", "sum_x2", "sum_xy"})
				}
			}
			if err != nil {
				return err
			}
		}
		vi, ok := p.s.vidx[a.name]
		if len(p.lay.Arms) > 0 && !ok {
			vi = p.s.addVariant(a.name)
		}
		a.vi = vi
	}
	p.resolved = true
	return nil
}

func (p *summaryPass) run(t Table) error {
	optional := p.layout()
	if p.lay.Latest != "" {
		// First pass: the greatest value of the Latest column among the
		// rows Where keeps.
		err := t.Scan(p.names, optional, func(cols []Col, rows int, first int64) error {
			for r := 0; r < rows; r++ {
				if !p.kept(cols, r) {
					continue
				}
				v, ok := cols[p.latest].Float(r)
				if !ok {
					return fmt.Errorf("%s: row %d: column %s: %q is not a number (--latest picks the greatest value)",
						p.path, first+int64(r), p.lay.Latest, cols[p.latest].String(r))
				}
				if !p.hasLatest || v > p.latestMax {
					p.latestMax, p.hasLatest = v, true
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	rowsKept := 0
	err := t.Scan(p.names, optional, func(cols []Col, rows int, first int64) error {
		if !p.resolved {
			if err := p.resolve(cols); err != nil {
				return err
			}
		}
		for r := 0; r < rows; r++ {
			if !p.kept(cols, r) {
				continue
			}
			if p.latest >= 0 {
				if v, _ := cols[p.latest].Float(r); v != p.latestMax {
					continue
				}
			}
			rowsKept++
			if err := p.row(cols, r, first+int64(r)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if rowsKept == 0 {
		what := "no rows"
		if len(p.lay.Where) > 0 {
			what = "no row matches --where"
		}
		return fmt.Errorf("%s: %s: nothing to analyse", p.path, what)
	}
	return nil
}

// kept reports whether row r passes every Where condition: the cell's
// text equals the value, or both are numbers and equal (variant_id=2
// matches 2.0).
func (p *summaryPass) kept(cols []Col, r int) bool {
	for k, w := range p.lay.Where {
		c := cols[p.where[k]]
		if c == nil {
			return false
		}
		if c.String(r) == w[1] {
			continue
		}
		want, isNum := p.whereNum[k], p.whereIsNum[k]
		if !isNum {
			return false
		}
		if got, ok := c.Float(r); !ok || got != want {
			return false
		}
	}
	return true
}

// row adds one summary row (every arm of it) to the state.
func (p *summaryPass) row(cols []Col, r int, row int64) error {
	s, cfg := p.s, p.s.cfg
	trig := false
	if p.trig >= 0 {
		b, ok := cols[p.trig].Bool(r)
		if !ok {
			return rowError(p.path, row, cfg.TriggeredCol, cols[p.trig].String(r))
		}
		trig = b
	}
	var day int64
	hasDay := false
	if p.time >= 0 {
		us, ok := cols[p.time].Micros(r)
		if !ok {
			return fmt.Errorf("%s: row %d: column %s: %q is not a timestamp or date (a summary row's period: the UTC day its units started)",
				p.path, row, cfg.TimeCol, cols[p.time].String(r))
		}
		day, hasDay = floorDiv(us, microsPerDay), true
	}
	clusterID := ""
	if p.clus >= 0 {
		clusterID = cols[p.clus].String(r)
		if clusterID == "" {
			return fmt.Errorf("%s: row %d: column %s is empty (want the randomization unit of the row's sums)", p.path, row, cfg.ClusterCol)
		}
	}
	p.keys.segs = resizeSegs(p.keys.segs, len(p.segs))
	segKey := ""
	for j, ci := range p.segs {
		v := cols[ci].String(r)
		p.keys.segs[j] = []int32{int32(s.segID(j, v))}
		segKey += "\x00" + v
	}
	for ai := range p.arms {
		a := &p.arms[ai]
		vi := a.vi
		if len(p.lay.Arms) == 0 {
			v := cols[p.idx[cfg.VariantCol]].String(r)
			if v == "" {
				return fmt.Errorf("%s: row %d: column %s is empty (want a variant name)", p.path, row, cfg.VariantCol)
			}
			i, ok := s.vidx[v]
			if !ok {
				if len(cfg.Variants) > 0 {
					return fmt.Errorf("%s: row %d: column %s: %q is not a variant of the experiment (%v)", p.path, row, cfg.VariantCol, v, s.variants)
				}
				i = s.addVariant(v)
			}
			vi = i
		}
		n, err := p.count(cols, r, a.n, row)
		if err != nil {
			return err
		}
		key := fmt.Sprintf("%d\x00%v\x00%d\x00%v%s\x00%s", vi, trig, day, hasDay, segKey, clusterID)
		if prev, dup := p.seen[key]; dup {
			return fmt.Errorf("%s: rows %d and %d are the same group (variant %s%s): a summary needs one row per group; add them up first",
				p.path, prev, row, s.variants[vi], p.groupWords(cols, r, trig, hasDay, clusterID))
		}
		p.seen[key] = row
		if n == 0 {
			continue
		}
		cl := int32(-1)
		if p.clus >= 0 {
			c, ok := s.clusters[clusterID]
			if !ok {
				c = int32(len(s.clusters))
				s.clusters[clusterID] = c
			}
			s.armClusters[int64(c)<<8|int64(vi)] = struct{}{}
			cl = c
		}
		s.units[vi] += int64(n)
		if trig {
			s.triggered[vi] += int64(n)
		}
		atom := s.atomOf(vi, trig, &p.keys, 0)
		for i := range cfg.Metrics {
			g, err := p.stats(cols, r, row, a, i, n)
			if err != nil {
				return err
			}
			g.add(&s.atoms[atom].accs[i], cl)
			if i == s.primary && hasDay {
				g.addSeries(s.series(vi, 0), cl, day)
				if trig {
					g.addSeries(s.series(vi, 1), cl, day)
				}
			}
		}
	}
	return nil
}

func resizeSegs(b [][]int32, n int) [][]int32 {
	if cap(b) < n {
		return make([][]int32, n)
	}
	return b[:n]
}

// groupWords names a row's group for messages.
func (p *summaryPass) groupWords(cols []Col, r int, trig, hasDay bool, cluster string) string {
	cfg := p.s.cfg
	var parts []string
	for j, ci := range p.segs {
		parts = append(parts, fmt.Sprintf("%s %s", cfg.Segments[j], cols[ci].String(r)))
	}
	if p.trig >= 0 {
		parts = append(parts, fmt.Sprintf("%s %v", cfg.TriggeredCol, trig))
	}
	if hasDay {
		parts = append(parts, fmt.Sprintf("%s %s", cfg.TimeCol, cols[p.time].String(r)))
	}
	if cluster != "" {
		parts = append(parts, fmt.Sprintf("%s %s", cfg.ClusterCol, cluster))
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

// count reads a row's unit count: a whole number ≥ 0.
func (p *summaryPass) count(cols []Col, r, ci int, row int64) (float64, error) {
	v, ok := cols[ci].Float(r)
	if !ok || v < 0 || v != math.Trunc(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%s: row %d: column %s: %q is not a count of units (want a whole number ≥ 0)", p.path, row, p.names[ci], cols[ci].String(r))
	}
	return v, nil
}

// stats reads metric i's statistics of arm a from row r (n units) and
// checks them: finite numbers, sums of squares that leave a variance ≥ 0,
// a proportion's sum within [0, n].
func (p *summaryPass) stats(cols []Col, r int, row int64, a *armCols, i int, n float64) (groupStats, error) {
	cfg := p.s.cfg
	m := cfg.Metrics[i]
	sc := a.mets[i]
	g := groupStats{kind: kindOf(m.Type), clustered: cfg.ClusterCol != "", n: n}
	var err error
	get := func(st string) float64 {
		if err != nil {
			return 0
		}
		ci := sc[st]
		v, ok := cols[ci].Float(r)
		if !ok || math.IsInf(v, 0) {
			err = fmt.Errorf("%s: row %d: column %s: %q is not a number", p.path, row, p.names[ci], cols[ci].String(r))
		}
		return v
	}
	col := func(st string) string { return p.names[sc[st]] }
	// sq checks that a sum of squares leaves a variance ≥ 0 (to rounding).
	sq := func(st string, sum, sumsq float64) {
		if err != nil {
			return
		}
		if sumsq < 0 || sumsq < sum*sum/n-1e-9*math.Max(1, math.Abs(sumsq)) {
			err = fmt.Errorf("%s: row %d: column %s: %v is below (Σ)²/n = %v, so the variance would be negative; it must be the sum of squares Σy² (not the variance or the mean of squares)",
				p.path, row, col(st), sumsq, sum*sum/n)
		}
	}
	cuped := p.s.cuped(i)
	// sumOf returns Σy of a mean or proportion (from sum, or n·mean) and
	// Σy² (from sum_sq, or (n−1)·variance + n·mean²; Σy for a proportion).
	sumOf := func() (sum, sumsq float64) {
		prop := m.Type == metrics.Proportion
		if sc["sum"] >= 0 {
			sum = get("sum")
			switch {
			case prop:
				sumsq = sum
				if sc["sum_sq"] >= 0 {
					if v := get("sum_sq"); err == nil && math.Abs(v-sum) > 1e-9*math.Max(1, sum) {
						err = fmt.Errorf("%s: row %d: column %s: %v differs from %s %v; a proportion's values are 0 or 1, so Σy² = Σy (use a mean metric for other values)",
							p.path, row, col("sum_sq"), v, col("sum"), sum)
					}
				}
			case !g.clustered:
				sumsq = get("sum_sq")
				sq("sum_sq", sum, sumsq)
			}
		} else {
			mean := get("mean")
			sum = n * mean
			switch {
			case prop:
				sumsq = sum
			case !g.clustered:
				vc := "variance"
				if sc[vc] < 0 {
					vc = "var"
				}
				v, ok := cols[sc[vc]].Float(r)
				switch {
				case !ok && n <= 1 && cols[sc[vc]].Null(r):
					v = 0 // one unit has no sample variance
				case !ok || v < 0 || math.IsInf(v, 0):
					if err == nil {
						err = fmt.Errorf("%s: row %d: column %s: %q is not a variance (want a number ≥ 0)", p.path, row, col(vc), cols[sc[vc]].String(r))
					}
				}
				sumsq = v*(n-1) + n*mean*mean
			}
		}
		if err == nil && prop && (sum < -1e-9 || sum > n+1e-9*n) {
			err = fmt.Errorf("%s: row %d: metric %s: Σy = %v is outside [0, n = %v]; a proportion counts the units whose value is 1", p.path, row, m.Name, sum, n)
		}
		return sum, sumsq
	}
	switch {
	case g.clustered && g.kind == kRatio:
		g.m, g.d, g.v = get("sum_m"), get("sum_d"), n
		if cuped {
			g.u, g.v = get("sum_u"), get("sum_v")
		}
	case g.clustered:
		g.m, _ = sumOf()
		g.d, g.v = n, n
		if cuped {
			g.u = get("sum_x")
		}
	case g.kind == kRatio:
		r := stats.RatioCovariateMoments{N: n, SumM: get("sum_m"), SumM2: get("sum_m2"), SumD: get("sum_d"),
			SumD2: get("sum_d2"), SumMD: get("sum_md")}
		sq("sum_m2", r.SumM, r.SumM2)
		sq("sum_d2", r.SumD, r.SumD2)
		if cuped {
			r.SumU, r.SumU2, r.SumV, r.SumV2 = get("sum_u"), get("sum_u2"), get("sum_v"), get("sum_v2")
			r.SumMU, r.SumMV, r.SumDU, r.SumDV, r.SumUV = get("sum_mu"), get("sum_mv"), get("sum_du"), get("sum_dv"), get("sum_uv")
			sq("sum_u2", r.SumU, r.SumU2)
			sq("sum_v2", r.SumV, r.SumV2)
		} else {
			// Without a covariate each unit adds u = 0, v = 1 (accum.observe).
			r.SumV, r.SumV2, r.SumMV, r.SumDV = n, n, r.SumM, r.SumD
		}
		g.rm = r
	default:
		sum, sumsq := sumOf()
		g.cm = stats.CovariateMoments{N: n, SumY: sum, SumY2: sumsq}
		if cuped {
			g.cm.SumX, g.cm.SumX2, g.cm.SumXY = get("sum_x"), get("sum_x2"), get("sum_xy")
			sq("sum_x2", g.cm.SumX, g.cm.SumX2)
		}
	}
	return g, err
}

// groupStats are one group's sufficient statistics of one metric, in the
// form its accumulator takes: a row's n, Σy, Σy², covariate sums and
// cross-products (unclustered), or a cluster's M, D, U, V.
type groupStats struct {
	kind      metricKind
	clustered bool
	n         float64
	cm        stats.CovariateMoments
	rm        stats.RatioCovariateMoments
	m, d, u   float64 // clustered: the cluster's sums (V is n, or Σv)
	v         float64
}

// add adds the group to an accumulator exactly as its units would have
// been added one by one (accum.observe).
func (g *groupStats) add(a *accum, cl int32) {
	a.units += int64(g.n)
	if g.clustered {
		k, ok := a.cl[cl]
		if a.cl == nil {
			a.cl = map[int32]int32{}
		}
		if !ok {
			k = int32(len(a.cs))
			a.cl[cl] = k
			a.cs = append(a.cs, clusterSum{id: cl})
		}
		c := &a.cs[k]
		c.m += g.m
		c.d += g.d
		c.u += g.u
		c.v += g.v
		return
	}
	if g.kind == kRatio {
		a.rm = a.rm.Add(g.rm)
		return
	}
	a.cm = a.cm.Add(g.cm)
}

// addSeries adds the group to a daily series of the primary metric, as
// series.observe would for its units.
func (g *groupStats) addSeries(sr *series, cl int32, day int64) {
	if g.clustered {
		ds := sr.cl[cl]
		if ds == nil {
			ds = &daySums{}
			sr.cl[cl] = ds
			sr.order = append(sr.order, cl)
		}
		c := ds.at(day)
		c.m += g.m
		c.d += g.d
		c.x += g.u
		c.xd += g.v
		c.rows += int64(g.n)
		sr.lastDay = nil // the per-row cache is not used here
		return
	}
	m := sr.mom[day]
	if m == nil {
		m = &stats.RatioCovariateMoments{}
		sr.mom[day] = m
	}
	sr.lastMom = nil
	if g.kind == kRatio {
		*m = m.Add(g.rm)
		return
	}
	// A mean's units each add (y, 1, x, 1) (accum.observe): ΣD = ΣD² = ΣV =
	// ΣV² = ΣDV = n, ΣMD = ΣMV = Σy, ΣDU = ΣUV = Σx.
	c := g.cm
	*m = m.Add(stats.RatioCovariateMoments{N: c.N, SumM: c.SumY, SumM2: c.SumY2, SumD: c.N, SumD2: c.N,
		SumU: c.SumX, SumU2: c.SumX2, SumV: c.N, SumV2: c.N, SumMD: c.SumY, SumMU: c.SumXY, SumMV: c.SumY,
		SumDU: c.SumX, SumDV: c.N, SumUV: c.SumX})
}

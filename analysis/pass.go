package analysis

import (
	"fmt"
	"sort"

	"github.com/signalab/signalab/results"
)

const microsPerDay = 86400 * 1e6

// state is everything one pass over the table accumulates.
type state struct {
	cfg      *Config
	variants []string
	vidx     map[string]int
	// segs[k] maps segment column k's values to segment cell ids; segNames
	// gives each id's (column, value); id 0 is "all".
	segs     []map[string]int
	segNames [][2]string
	// cells[seg][variant][population]
	cells    [][][2]cell
	clusters map[string]int32
	// per variant: units, triggered units, distinct clusters
	units, triggered []int64
	armClusters      map[int64]struct{}
	ser              map[[2]int]*series // (variant, population) → primary series
	primary          int
	warnings         []string
}

// pass reads the table once and accumulates every cell.
func (s *state) pass(t Table) error {
	cfg := s.cfg
	// Column layout: variant, [cluster], [triggered], [time], segments..., metric columns..., covariates...
	names := []string{cfg.VariantCol}
	optional := map[string]bool{}
	at := func(n string) int { names = append(names, n); return len(names) - 1 }
	iCluster, iTrig, iTime := -1, -1, -1
	if cfg.ClusterCol != "" {
		iCluster = at(cfg.ClusterCol)
	}
	if cfg.TriggeredCol != "" {
		iTrig = at(cfg.TriggeredCol)
	}
	if cfg.TimeCol != "" {
		iTime = at(cfg.TimeCol)
		optional[cfg.TimeCol] = true
	}
	iSeg := make([]int, len(cfg.Segments))
	for k, sg := range cfg.Segments {
		iSeg[k] = at(sg)
	}
	type mcols struct{ v, d, x, xd int }
	mc := make([]mcols, len(cfg.Metrics))
	for i, m := range cfg.Metrics {
		c := mcols{v: at(m.Columns[0]), d: -1, x: -1, xd: -1}
		if m.Type == Ratio {
			c.d = at(m.Columns[1])
		}
		if s.cuped(i) {
			c.x = at(m.Covariates[0])
			if m.Type == Ratio {
				c.xd = at(m.Covariates[1])
			}
		}
		mc[i] = c
	}
	segIDs := make([]int, 0, 1+len(cfg.Segments))
	path := t.Path()
	// Caches of the previous row's string lookups: units.parquet is sorted
	// by shop and buyer, so consecutive rows mostly repeat them.
	lastV, lastVI := "", -1
	lastC, lastCI := "", int32(-1)
	lastSeg := make([]string, len(cfg.Segments))
	lastSegID := make([]int, len(cfg.Segments))
	for k := range lastSegID {
		lastSegID[k] = -1
	}
	fast := make([][]float64, len(names))
	return t.Scan(names, optional, func(cols []Col, rows int, first int64) error {
		for i, c := range cols {
			fast[i] = nil
			if fs, ok := c.(interface{ Float64s() []float64 }); ok && c != nil {
				fast[i] = fs.Float64s()
			}
		}
		float := func(i, r int) (float64, bool) {
			if f := fast[i]; f != nil {
				return f[r], true
			}
			return cols[i].Float(r)
		}
		for r := 0; r < rows; r++ {
			row := first + int64(r)
			vname := cols[0].String(r)
			vi := lastVI
			if vname != lastV || vi < 0 {
				if vname == "" {
					return fmt.Errorf("%s: row %d: column %s is empty (want a variant name)", path, row, cfg.VariantCol)
				}
				var ok bool
				vi, ok = s.vidx[vname]
				if !ok {
					if len(cfg.Variants) > 0 {
						return fmt.Errorf("%s: row %d: column %s: %q is not a variant of the experiment (%v)", path, row, cfg.VariantCol, vname, s.variants)
					}
					vi = s.addVariant(vname)
				}
				lastV, lastVI = vname, vi
				lastCI = -1 // a cluster's arm is recorded per (cluster, variant)
			}
			var cluster int32
			clustered := iCluster >= 0
			if clustered {
				id := cols[iCluster].String(r)
				if id != lastC || lastCI < 0 {
					c, ok := s.clusters[id]
					if !ok {
						c = int32(len(s.clusters))
						s.clusters[id] = c
					}
					s.armClusters[int64(c)<<8|int64(vi)] = struct{}{}
					lastC, lastCI = id, c
				}
				cluster = lastCI
			}
			trig := false
			if iTrig >= 0 {
				b, ok := cols[iTrig].Bool(r)
				if !ok && !cols[iTrig].Null(r) {
					return rowError(path, row, cfg.TriggeredCol, cols[iTrig].String(r))
				}
				trig = b
			}
			s.units[vi]++
			if trig {
				s.triggered[vi]++
			}
			segIDs = append(segIDs[:0], 0)
			for k, ci := range iSeg {
				v := cols[ci].String(r)
				if v != lastSeg[k] || lastSegID[k] < 0 {
					lastSeg[k], lastSegID[k] = v, s.segID(k, v)
				}
				segIDs = append(segIDs, lastSegID[k])
			}
			var day int64
			hasDay := false
			if iTime >= 0 && cols[iTime] != nil {
				if us, ok := cols[iTime].Micros(r); ok {
					day, hasDay = floorDiv(us, microsPerDay), true
				}
			}
			for i, m := range cfg.Metrics {
				c := mc[i]
				y, ok := float(c.v, r)
				if !ok {
					if m.Type == Quantile && cols[c.v].Null(r) {
						continue // no value (e.g. no reply): not in the sample
					}
					return rowError(path, row, m.Columns[0], cols[c.v].String(r))
				}
				den, x, xd := 1.0, 0.0, 1.0
				if c.d >= 0 {
					if den, ok = float(c.d, r); !ok {
						return rowError(path, row, m.Columns[1], cols[c.d].String(r))
					}
				}
				if c.x >= 0 {
					if x, ok = float(c.x, r); !ok {
						return rowError(path, row, m.Covariates[0], cols[c.x].String(r))
					}
				}
				if c.xd >= 0 {
					if xd, ok = float(c.xd, r); !ok {
						return rowError(path, row, m.Covariates[1], cols[c.xd].String(r))
					}
				}
				for _, sg := range segIDs {
					pc := s.cell(sg, vi)
					pc[0][i].observe(m.Type, clustered, cluster, y, den, x, xd)
					if trig {
						pc[1][i].observe(m.Type, clustered, cluster, y, den, x, xd)
					}
				}
				if i == s.primary && hasDay && m.Type != Quantile {
					s.series(vi, 0).observe(clustered, cluster, day, y, den)
					if trig {
						s.series(vi, 1).observe(clustered, cluster, day, y, den)
					}
				}
			}
		}
		return nil
	})
}

func floorDiv(a int64, b float64) int64 {
	q := a / int64(b)
	if a < 0 && a%int64(b) != 0 {
		q--
	}
	return q
}

func (s *state) cuped(i int) bool {
	m := s.cfg.Metrics[i]
	return s.cfg.CUPED && m.Type != Quantile && len(m.Covariates) == len(m.Columns)
}

func (s *state) addVariant(name string) int {
	vi := len(s.variants)
	s.variants = append(s.variants, name)
	s.vidx[name] = vi
	s.units = append(s.units, 0)
	s.triggered = append(s.triggered, 0)
	return vi
}

func (s *state) segID(k int, v string) int {
	id, ok := s.segs[k][v]
	if !ok {
		id = len(s.segNames)
		s.segs[k][v] = id
		s.segNames = append(s.segNames, [2]string{s.cfg.Segments[k], v})
	}
	return id
}

// cell returns the [population]cell pair of segment id sg and variant vi,
// growing the table as new segments and variants appear.
func (s *state) cell(sg, vi int) *[2]cell {
	for len(s.cells) <= sg {
		s.cells = append(s.cells, nil)
	}
	for len(s.cells[sg]) <= vi {
		nm := len(s.cfg.Metrics)
		s.cells[sg] = append(s.cells[sg], [2]cell{make(cell, nm), make(cell, nm)})
	}
	return &s.cells[sg][vi]
}

func (s *state) series(vi, pop int) *series {
	k := [2]int{vi, pop}
	sr := s.ser[k]
	if sr == nil {
		sr = newSeries()
		s.ser[k] = sr
	}
	return sr
}

// segmentOrder returns segment ids in output order: "all", then each
// segment column's values sorted.
func (s *state) segmentOrder() []int {
	out := []int{0}
	for k := range s.cfg.Segments {
		vals := make([]string, 0, len(s.segs[k]))
		for v := range s.segs[k] {
			vals = append(vals, v)
		}
		sort.Strings(vals)
		for _, v := range vals {
			out = append(out, s.segs[k][v])
		}
	}
	return out
}

var _ = results.SegmentAll

package analysis

import (
	"fmt"
	"sort"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/metrics"
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
	// cells[seg][variant][population], summed from atoms after the pass
	cells     [][][2]cell
	atoms     []atom
	combos    [][]int32 // [combination so far][segment id] → combination (0 unset)
	nCombos   int32
	atomTable [][]int32 // [combination][variant·2 + trigger] → atom id, −1 unset
	clusters  map[string]int32
	// per variant: units, triggered units, distinct clusters
	units, triggered []int64
	armClusters      map[int64]struct{}
	ser              map[[2]int]*series // (variant, population) → primary series
	// The daily series' bounds (seriesDay): rows left out for a time
	// outside the window (or the supported range), the span of the days
	// kept, and whether the series was dropped for spanning too long.
	serOutside     int64
	serLo, serHi   int64
	serHas, serOff bool
	primary        int
	warnings       []string
	// clusterName is the cluster column's value of each cluster index
	// (built on demand); pairs caches randomization redraws per pair of
	// variants.
	clusterName []string
	pairs       map[[2]int]*pairDraws
	// money is how money columns are reported (resolveCurrency).
	money currency
	// refs locate each output row's cells, for recomputing it at another
	// level (adjusted intervals, guardrails); parallel to the rows.
	refs []rowRef
}

// metricCols are the positions of one metric's columns among the scanned
// names (−1 when absent), and the factors that turn each value into the
// reported unit (minor to major currency units for money; 1 otherwise).
type metricCols struct {
	v, d, x, xd int
	sv, sd      float64
}

// rowKeys are the per-row keys of one batch, computed once and shared by
// the metrics: variant, cluster, trigger flag, segment ids and day.
type rowKeys struct {
	atom   []int32 // the row's atom: variant × trigger × segment values
	vi     []int32
	cl     []int32
	trig   []bool
	segs   [][]int32 // per segment column
	day    []int64
	hasDay []bool
}

// layout is where each column the pass reads sits among the scanned names.
type layout struct {
	names               []string
	optional            map[string]bool
	cluster, trig, time int // −1 when not read
	segs                []int
	metrics             []metricCols
}

// layout lists the columns to read: variant, [cluster], [triggered],
// [time], segments..., then each metric's value/numerator/denominator and
// covariates.
func (s *state) layout() layout {
	cfg := s.cfg
	l := layout{names: []string{cfg.VariantCol}, optional: map[string]bool{}, cluster: -1, trig: -1, time: -1}
	at := func(n string) int { l.names = append(l.names, n); return len(l.names) - 1 }
	if cfg.ClusterCol != "" {
		l.cluster = at(cfg.ClusterCol)
	}
	if cfg.TriggeredCol != "" {
		l.trig = at(cfg.TriggeredCol)
	}
	if cfg.TimeCol != "" {
		l.time = at(cfg.TimeCol)
		l.optional[cfg.TimeCol] = true
	}
	for _, sg := range cfg.Segments {
		l.segs = append(l.segs, at(sg))
	}
	for i, m := range cfg.Metrics {
		if s.money.scale == 0 {
			panic("analysis: money scale not set (resolveCurrency before the pass)")
		}
		c := metricCols{v: at(m.Columns[0]), d: -1, x: -1, xd: -1, sv: 1, sd: 1}
		if len(m.Money) > 0 && m.Money[0] {
			c.sv = s.money.scale
		}
		if len(m.Money) > 1 && m.Money[1] {
			c.sd = s.money.scale
		}
		if m.Type == metrics.Ratio {
			c.d = at(m.Columns[1])
		}
		if s.cuped(i) {
			c.x = at(m.Covariates[0])
			if m.Type == metrics.Ratio {
				c.xd = at(m.Covariates[1])
			}
		}
		l.metrics = append(l.metrics, c)
	}
	return l
}

// cachedLookup resolves a string column to small integer ids, remembering
// the previous row: units.parquet is sorted by shop and buyer, so
// consecutive rows mostly repeat their variant, shop and channel. Equal
// dictionary codes (within a batch) skip even the string comparison.
type cachedLookup struct {
	codes    []int32
	lastCode int32
	last     string
	id       int32 // −1 before the first row and after invalidate
}

func newLookup() *cachedLookup { return &cachedLookup{id: -1} }

func (c *cachedLookup) startBatch(col Col) { c.codes, c.lastCode = codes(col), -1 }

func (c *cachedLookup) invalidate() { c.id = -1 }

// get returns the id of row r, calling resolve only when the value differs
// from the previous row's; changed reports that it did.
func (c *cachedLookup) get(col Col, r int, resolve func(string) (int32, error)) (id int32, changed bool, err error) {
	if c.codes != nil {
		same := c.codes[r] == c.lastCode && c.id >= 0
		c.lastCode = c.codes[r]
		if same {
			return c.id, false, nil
		}
	}
	v := col.String(r)
	if v == c.last && c.id >= 0 {
		return c.id, false, nil
	}
	id, err = resolve(v)
	if err != nil {
		return 0, false, err
	}
	c.last, c.id = v, id
	return id, true, nil
}

// pass reads the table once and accumulates every cell. Per record batch it
// first computes the row keys (keyer.batch), then accumulates each metric in
// its own goroutine (metrics touch disjoint accumulators, and each sees the
// rows in table order, so the sums do not depend on scheduling).
func (s *state) pass(t Table) error {
	l := s.layout()
	k := &keyer{s: s, l: l, path: t.Path(), variant: newLookup(), cluster: newLookup()}
	for range l.segs {
		k.segs = append(k.segs, newLookup())
	}
	k.keys.segs = make([][]int32, len(l.segs))
	errs := make([]error, len(s.cfg.Metrics))
	return t.Scan(l.names, l.optional, func(cols []Col, rows int, first int64) error {
		if err := k.batch(cols, rows, first); err != nil {
			return err
		}
		// Every atom of this batch exists now; the metrics only write into
		// their own accumulators.
		var wg sync.WaitGroup
		for i := range s.cfg.Metrics {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				errs[i] = s.accumulate(i, l.metrics[i], &k.keys, cols, rows, first, k.path, l.cluster >= 0)
			}(i)
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// keyer computes the row keys of each batch.
type keyer struct {
	s                *state
	l                layout
	path             string
	variant, cluster *cachedLookup
	segs             []*cachedLookup
	keys             rowKeys
}

// batch fills k.keys for one batch and counts units per variant.
func (k *keyer) batch(cols []Col, rows int, first int64) error {
	s, l, keys, cfg := k.s, k.l, &k.keys, k.s.cfg
	keys.atom = resize(keys.atom, rows)
	keys.vi = resize(keys.vi, rows)
	keys.cl = resize(keys.cl, rows)
	keys.trig = resize(keys.trig, rows)
	keys.day = resize(keys.day, rows)
	keys.hasDay = resize(keys.hasDay, rows)
	k.variant.startBatch(cols[0])
	if l.cluster >= 0 {
		k.cluster.startBatch(cols[l.cluster])
	}
	for j, ci := range l.segs {
		keys.segs[j] = resize(keys.segs[j], rows)
		k.segs[j].startBatch(cols[ci])
	}
	for r := 0; r < rows; r++ {
		row := first + int64(r)
		vi32, changed, err := k.variant.get(cols[0], r, func(v string) (int32, error) {
			if v == "" {
				return 0, fmt.Errorf("%s: row %d: column %s is empty (want a variant name)", k.path, row, cfg.VariantCol)
			}
			if !utf8.ValidString(v) {
				return 0, notUTF8(k.path, row, cfg.VariantCol, v)
			}
			i, ok := s.vidx[v]
			if !ok {
				if len(cfg.Variants) > 0 {
					return 0, fmt.Errorf("%s: row %d: column %s: %q is not a variant of the experiment (%v)", k.path, row, cfg.VariantCol, v, s.variants)
				}
				i = s.addVariant(v)
			}
			return int32(i), nil
		})
		if err != nil {
			return err
		}
		if changed {
			k.cluster.invalidate() // a cluster's arm is recorded per (cluster, variant)
		}
		vi := int(vi32)
		keys.vi[r] = vi32
		if l.cluster >= 0 {
			keys.cl[r], _, _ = k.cluster.get(cols[l.cluster], r, func(id string) (int32, error) {
				c, ok := s.clusters[id]
				if !ok {
					c = int32(len(s.clusters))
					s.clusters[id] = c
				}
				s.armClusters[int64(c)<<8|int64(vi)] = struct{}{}
				return c, nil
			})
		}
		trig := false
		if l.trig >= 0 {
			b, ok := cols[l.trig].Bool(r)
			if !ok && !cols[l.trig].Null(r) {
				return rowError(k.path, row, cfg.TriggeredCol, cols[l.trig].String(r))
			}
			trig = b
		}
		keys.trig[r] = trig
		s.units[vi]++
		if trig {
			s.triggered[vi]++
		}
		for j, ci := range l.segs {
			keys.segs[j][r], _, err = k.segs[j].get(cols[ci], r, func(v string) (int32, error) {
				if !utf8.ValidString(v) {
					return 0, notUTF8(k.path, row, cfg.Segments[j], v)
				}
				return int32(s.segID(j, v)), nil
			})
			if err != nil {
				return err
			}
		}
		keys.atom[r] = s.atomOf(vi, trig, keys, r)
		keys.hasDay[r] = false
		if l.time >= 0 && cols[l.time] != nil {
			if us, ok := cols[l.time].Micros(r); ok {
				keys.day[r], keys.hasDay[r] = floorDiv(us, microsPerDay), true
			} else if !cols[l.time].Null(r) {
				// An unreadable time is an error, not a row quietly left
				// out of the daily series; a null (empty) time is "none".
				return fmt.Errorf("%s: row %d: column %s: %q is not a timestamp (want RFC 3339 such as 2026-03-01T12:00:00Z, a date 2026-03-01, or a Parquet timestamp); empty means none",
					k.path, row, cfg.TimeCol, cols[l.time].String(r))
			}
		}
	}
	return nil
}

// notUTF8 is the error of a name (variant or segment value) that is not
// valid UTF-8: it would reach results.json changed and results.parquet
// unreadable.
func notUTF8(path string, row int64, col, v string) error {
	return fmt.Errorf("%s: row %d: column %s: \"%s\" is not valid UTF-8 (invalid bytes shown as \\xNN); re-export the table as UTF-8",
		path, row, col, event.EscapeInvalidUTF8(v))
}

func resize[T any](b []T, n int) []T {
	if cap(b) < n {
		return make([]T, n)
	}
	return b[:n]
}

// codes returns a column's dictionary codes when it has them, else nil.
func codes(c Col) []int32 {
	if dc, ok := c.(interface{ DictCodes() []int32 }); ok && c != nil {
		return dc.DictCodes()
	}
	return nil
}

// floats returns column i's values as float64 when it is a float64 column
// without nulls, else nil.
func floats(c Col) []float64 {
	if fs, ok := c.(interface{ Float64s() []float64 }); ok {
		return fs.Float64s()
	}
	return nil
}

// accumulate adds one batch of metric i to its accumulators.
func (s *state) accumulate(i int, c metricCols, k *rowKeys, cols []Col, rows int, first int64, path string, clustered bool) error {
	m := s.cfg.Metrics[i]
	kind := kindOf(m.Type)
	fv, fd, fx, fxd := floats(cols[c.v]), []float64(nil), []float64(nil), []float64(nil)
	if c.d >= 0 {
		fd = floats(cols[c.d])
	}
	if c.x >= 0 {
		fx = floats(cols[c.x])
	}
	if c.xd >= 0 {
		fxd = floats(cols[c.xd])
	}
	get := func(f []float64, ci, r int, name string) (float64, error) {
		if f != nil {
			return f[r], nil
		}
		v, ok := cols[ci].Float(r)
		if !ok {
			return 0, rowError(path, first+int64(r), name, cols[ci].String(r))
		}
		return v, nil
	}
	primary := i == s.primary && kind != kQuantile
	for r := 0; r < rows; r++ {
		var y float64
		if fv != nil {
			y = fv[r]
		} else {
			v, ok := cols[c.v].Float(r)
			if !ok {
				if kind == kQuantile && cols[c.v].Null(r) {
					continue // no value (e.g. no reply): not in the sample
				}
				return rowError(path, first+int64(r), m.Columns[0], cols[c.v].String(r))
			}
			y = v
		}
		if kind == kProportion && y != 0 && y != 1 {
			return fmt.Errorf("%s: row %d: column %s: %v is not 0 or 1 (a proportion metric; use :mean for other values)",
				path, first+int64(r), m.Columns[0], y)
		}
		den, x, xd := 1.0, 0.0, 1.0
		var err error
		if c.d >= 0 {
			if den, err = get(fd, c.d, r, m.Columns[1]); err != nil {
				return err
			}
		}
		if c.x >= 0 {
			if x, err = get(fx, c.x, r, m.Covariates[0]); err != nil {
				return err
			}
		}
		if c.xd >= 0 {
			if xd, err = get(fxd, c.xd, r, m.Covariates[1]); err != nil {
				return err
			}
		}
		if c.sv != 1 {
			y, x = y*c.sv, x*c.sv
		}
		if c.sd != 1 {
			den, xd = den*c.sd, xd*c.sd
		}
		vi, cl, trig := int(k.vi[r]), k.cl[r], k.trig[r]
		s.atoms[k.atom[r]].accs[i].observe(kind, clustered, cl, y, den, x, xd)
		if primary && k.hasDay[r] && s.seriesDay(k.day[r]) {
			s.series(vi, 0).observe(clustered, cl, k.day[r], y, den, x, xd)
			if trig {
				s.series(vi, 1).observe(clustered, cl, k.day[r], y, den, x, xd)
			}
		}
	}
	return nil
}

// MaxSeriesDays is the longest daily series the analysis builds: a time
// column spanning more days leaves the series out (with a warning) rather
// than walking day by day through decades.
const MaxSeriesDays = 366

// seriesRange returns the first and last day a series may hold: the
// experiment's window when the config has one, else the supported time
// range of event logs ([event.MinTime, event.MaxTime)).
func (s *state) seriesRange() (lo, hi int64) {
	if w := s.cfg.Window; w != nil {
		return floorDiv(w.Start.UnixMicro(), microsPerDay), floorDiv(w.End.UnixMicro()-1, microsPerDay)
	}
	return floorDiv(event.MinTime, microsPerDay), floorDiv(event.MaxTime-1, microsPerDay)
}

// seriesDay reports whether a row of day d goes into the daily series. A day
// outside seriesRange is counted and left out; once the days kept span more
// than MaxSeriesDays, the series is dropped (its memory freed) and every
// later row left out.
func (s *state) seriesDay(d int64) bool {
	if s.serOff {
		return false
	}
	if lo, hi := s.seriesRange(); d < lo || d > hi {
		s.serOutside++
		return false
	}
	if !s.serHas {
		s.serLo, s.serHi, s.serHas = d, d, true
	}
	s.serLo, s.serHi = min(s.serLo, d), max(s.serHi, d)
	if s.serHi-s.serLo+1 > MaxSeriesDays {
		s.serOff = true
		clear(s.ser)
		return false
	}
	return true
}

// seriesWarnings explains the rows and series left out by seriesDay.
func (s *state) seriesWarnings() []string {
	var out []string
	day := func(d int64) string { return time.UnixMicro(d * int64(microsPerDay)).UTC().Format(time.DateOnly) }
	if s.serOutside > 0 {
		where := "outside the supported range 1970-01-01 to 2100-01-01"
		if w := s.cfg.Window; w != nil {
			where = fmt.Sprintf("outside the experiment window %s to %s", w.Start.UTC().Format(time.RFC3339), w.End.UTC().Format(time.RFC3339))
		}
		out = append(out, fmt.Sprintf("%d rows with a %s %s were left out of the daily series", s.serOutside, s.cfg.TimeCol, where))
	}
	if s.serOff {
		out = append(out, fmt.Sprintf("no daily series: %s spans more than %d days (%s to at least %s); give the experiment a window, or check the column for wrong times",
			s.cfg.TimeCol, MaxSeriesDays, day(s.serLo), day(s.serHi)))
	}
	return out
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
	return s.cfg.CUPED && m.Type != metrics.Quantile && len(m.Covariates) == len(m.Columns)
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

// atom is the finest cell: one variant, one trigger value and one value of
// every segment column. Rows accumulate into their atom only; the reported
// cells (segment "all" or one segment value, population all or triggered)
// are sums of atoms (sufficient statistics add), built by buildCells.
type atom struct {
	vi   int
	trig bool
	segs []int32 // segment cell id per segment column
	accs cell
}

// atomOf returns the atom id of row r with variant vi and trigger trig,
// creating it on first sight. Segment value combinations get dense ids
// through s.combos; the atom table is indexed by combination, variant and
// trigger, so a lookup is a few slice indexings.
func (s *state) atomOf(vi int, trig bool, k *rowKeys, r int) int32 {
	combo := int32(0)
	for j := range k.segs {
		sg := int(k.segs[j][r])
		for int(combo) >= len(s.combos) {
			s.combos = append(s.combos, nil)
		}
		next := s.combos[combo]
		for len(next) <= sg {
			next = append(next, 0)
		}
		s.combos[combo] = next
		if next[sg] == 0 {
			s.nCombos++
			next[sg] = s.nCombos
		}
		combo = next[sg]
	}
	for int(combo) >= len(s.atomTable) {
		s.atomTable = append(s.atomTable, nil)
	}
	slot := vi*2 + b2i(trig)
	row := s.atomTable[combo]
	for len(row) <= slot {
		row = append(row, -1)
	}
	s.atomTable[combo] = row
	if id := row[slot]; id >= 0 {
		return id
	}
	a := atom{vi: vi, trig: trig, segs: make([]int32, len(k.segs)), accs: make(cell, len(s.cfg.Metrics))}
	for j := range k.segs {
		a.segs[j] = k.segs[j][r]
	}
	id := int32(len(s.atoms))
	s.atoms = append(s.atoms, a)
	row[slot] = id
	return id
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// buildCells sums the atoms into the reported cells, in atom order (so the
// floating-point sums are reproducible).
func (s *state) buildCells() {
	for ai := range s.atoms {
		a := &s.atoms[ai]
		targets := append([]int32{0}, a.segs...)
		for _, sg := range targets {
			pc := s.cell(int(sg), a.vi)
			for i := range a.accs {
				pc[0][i].merge(&a.accs[i])
				if a.trig {
					pc[1][i].merge(&a.accs[i])
				}
			}
		}
	}
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

package metrics

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/internal/columnar"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"

	"github.com/signalab/signalab/internal/safeio"
)

// Summary is metrics.json, written beside units.parquet: what the stage
// included and excluded, the caps it applied, and the signals summary that
// the analysis copies into results.json.
type Summary struct {
	ToolVersion string `json:"tool_version"`
	Experiment  string `json:"experiment"`
	Unit        string `json:"unit"`
	// AnalysisUnit is "buyer" or "session" when a unit is one (then
	// Conversations counts the buyers or sessions read); absent for
	// conversations.
	AnalysisUnit  string `json:"analysis_unit,omitempty"`
	Conversations int64  `json:"conversations"`
	Units         int64  `json:"units"`
	// Excluded counts conversations left out, by reason: outside_window,
	// filtered, unassigned (no row in assignments.parquet), not_in_experiment.
	Excluded map[string]int64 `json:"excluded"`
	Arms     []ArmCount       `json:"arms"`
	// Window is the attribution window of the plain outcome columns.
	Window  string                 `json:"window"`
	Metrics []results.Metric       `json:"metrics"`
	Signals results.SignalsSummary `json:"signals"`
	Seconds float64                `json:"seconds"`
}

// ArmCount gives one variant's sample in the unit table.
type ArmCount struct {
	Variant            string `json:"variant"`
	Units              int64  `json:"units"`
	Triggered          int64  `json:"triggered"`
	RandomizationUnits int64  `json:"randomization_units"`
}

// Options configure Build.
type Options struct {
	// Spec is the experiment's metrics and design (validated).
	Spec *Spec
	// In are the folders holding conversations.parquet, orders.parquet,
	// assignments.parquet and (optionally) signals.parquet; each file is
	// taken from the first folder that has it (e.g. the replay's and the
	// assign stage's output folders).
	In []string
	// Out is the folder units.parquet and metrics.json are written to.
	Out string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// OneArm accepts an assignment that puts every unit in one arm (the
	// A/A study's table of every eligible unit, whose arms it redraws);
	// otherwise an arm without units is an error (NoUnitsError).
	OneArm bool
}

// Build writes units.parquet and metrics.json from a replay's outputs and the
// assignments. It reads the inputs once, or twice when a metric has a
// percentile cap (the first pass only collects the values to cap).
func Build(opts Options) (*Summary, error) {
	t0 := time.Now()
	spec := opts.Spec
	defs, err := Resolve(spec)
	if err != nil {
		return nil, err
	}
	arms := spec.Variants
	source := ConversationsFile
	if spec.Analysis().FromSessions() {
		source = SessionsFile
	}
	for _, name := range []string{source, OrdersFile} {
		if err := checkSingleFile(opts.In, name); err != nil {
			return nil, err
		}
	}
	amap, err := readAssignments(find(opts.In, AssignmentsFile), arms)
	if err != nil {
		return nil, err
	}
	b := &builder{spec: spec, defs: defs, arms: arms, assignments: amap, dirs: opts.In, oneArm: opts.OneArm}
	if err := b.setup(); err != nil {
		return nil, err
	}
	caps := make([]capState, len(defs))
	for i, d := range defs {
		if d.Cap != nil && d.Cap.Percentile > 0 {
			if err := b.percentileCap(i, &caps[i]); err != nil {
				return nil, err
			}
		} else if d.Cap != nil && d.Cap.Value > 0 {
			caps[i] = capState{active: true, threshold: d.Cap.Value}
		}
	}
	b.caps = caps
	sum, err := b.write(in(opts.Out, UnitsFile))
	if nu := (*NoUnitsError)(nil); errors.As(err, &nu) {
		return nil, nu
	}
	if err != nil {
		return nil, err
	}
	kinds, err := signalKinds(find(opts.In, SignalsFile))
	if err != nil {
		return nil, err
	}
	sum.Signals.ByKind = kinds
	sum.ToolVersion = buildinfo.Version()
	sum.Experiment = spec.Experiment
	sum.Unit = spec.Unit
	if spec.Analysis().FromSessions() {
		sum.AnalysisUnit = spec.Analysis().String()
	}
	sum.Window = b.window.String()
	for i, d := range defs {
		m := results.Metric{Name: d.Name, Type: d.Type.String(), Outcome: d.Outcome, Numerator: d.Numerator,
			Denominator: d.Denominator, Quantile: d.Q, Columns: d.Columns, Covariates: d.Covariates,
		}
		if m.Covariates == nil {
			m.Covariates = []string{}
		}
		if d.Type != Quantile || orderOutcome(d.Outcome) {
			m.Window = d.Window.String()
		}
		if d.Cap != nil {
			m.Cap = &results.Cap{Percentile: d.Cap.Percentile, Value: d.Cap.Value,
				Threshold: results.Num(caps[i].threshold), Capped: caps[i].capped}
		}
		m.Role = spec.Role(d.Name)
		m.Primary = m.Role == "primary"
		m.Direction = Increase
		for _, sm := range spec.Metrics {
			if sm.Name == d.Name {
				m.Direction = sm.Good()
			}
		}
		for _, g := range spec.Guardrails {
			if g.Metric == d.Name {
				m.Guardrail = &results.Guardrail{Margin: g.MarginValue(), Scale: g.ScaleName(), Alpha: g.Alpha}
			}
		}
		sum.Metrics = append(sum.Metrics, m)
	}
	sum.Seconds = time.Since(t0).Seconds()
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteBytes(in(opts.Out, SummaryFile), append(js, '\n')); err != nil {
		return nil, err
	}
	if opts.Log != nil {
		fmt.Fprintf(opts.Log, "metrics: %d of %d %ss in the unit table (%.2fs)\n", sum.Units, sum.Conversations, spec.Analysis(), sum.Seconds)
	}
	return sum, nil
}

// checkSingleFile reports a missing replay table, naming sharded outputs
// (name-*.parquet, from a distributed engine) when that is what the folders
// hold: the streaming join needs one file in sorted order.
func checkSingleFile(dirs []string, name string) error {
	p := find(dirs, name)
	if _, err := os.Stat(p); err == nil {
		return nil
	}
	base := strings.TrimSuffix(name, ".parquet")
	for _, d := range dirs {
		if shards, _ := filepath.Glob(filepath.Join(d, base+"-*.parquet")); len(shards) > 0 {
			return fmt.Errorf("%s: found %d shards %s-*.parquet but no %s; the metrics stage joins one file sorted by (shop_id, buyer_id, time): "+
				"run signalab replay (the embedded engine writes single sorted files)", d, len(shards), base, name)
		}
	}
	if name == SessionsFile {
		return fmt.Errorf("open %s: no such file: buyer and session units (analysis.unit) are built from the replay's sessions table; "+
			"run signalab replay with this experiment spec (--experiment), or with --sessions, into that folder", p)
	}
	return fmt.Errorf("open %s: no such file; run signalab replay into that folder first (or give its folder with --in)", p)
}

// ReadSummary loads a metrics.json.
func ReadSummary(path string) (*Summary, error) {
	b, err := safeio.ReadFile(path, safeio.MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &s, nil
}

type capState struct {
	active    bool
	threshold float64
	capped    int64
}

// builder joins conversations with orders and assignments.
type builder struct {
	spec        *Spec
	defs        []Def
	arms        []string
	assignments map[string]int8
	dirs        []string
	caps        []capState

	window           time.Duration // of the plain outcome columns
	winStart, winEnd int64
	hasWindow        bool
	pre              int64
	filters          []filter
	unitCol          string
	oneArm           bool // Options.OneArm
}

type filter struct {
	col  string
	keep map[string]bool
}

func (b *builder) setup() error {
	b.window = DefaultWindow
	for _, d := range b.defs {
		if d.Name == b.spec.PrimaryName() && d.Type != Quantile {
			b.window = d.Window
		}
	}
	if w := b.spec.Window; w != nil {
		b.hasWindow = true
		b.winStart, b.winEnd = w.Start.UnixMicro(), w.End.UnixMicro()
	}
	b.pre = b.spec.PrePeriod.Microseconds()
	keys := make([]string, 0, len(b.spec.Filters))
	for k := range b.spec.Filters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cols := []string{"channel", "shop_id", "buyer_id", "conversation_id", "triggered", "had_cart_at_start"}
		if b.spec.Analysis().FromSessions() {
			cols = []string{"shop_id", "buyer_id", "triggered", "had_cart_at_start"}
		}
		if !slices.Contains(cols, k) {
			return fmt.Errorf("filters.%s: not a column of %s units (want one of %s)", k, b.spec.Analysis(), strings.Join(cols, ", "))
		}
		f := filter{col: k, keep: map[string]bool{}}
		for _, v := range b.spec.Filters[k] {
			f.keep[v] = true
		}
		b.filters = append(b.filters, f)
	}
	if !slices.Contains(b.spec.Analysis().RandomizationUnits(), b.spec.Unit) {
		return fmt.Errorf("unit: %q cannot randomize %ss (want one of %v)", b.spec.Unit, b.spec.Analysis(), b.spec.Analysis().RandomizationUnits())
	}
	b.unitCol = b.spec.Unit
	return nil
}

func convField(c *conv, col string) string {
	switch col {
	case "channel":
		return c.channel
	case "shop_id":
		return c.shop
	case "buyer_id":
		return c.buyer
	case "conversation_id", "session_id":
		return c.id
	case "triggered":
		return fmt.Sprint(c.triggered)
	case "had_cart_at_start":
		return fmt.Sprint(c.hadCart)
	}
	return ""
}

// unit is one included conversation with its computed values.
type unit struct {
	c      *conv
	unitID string
	arm    int8
	orders *buyerOrders
	values []float64 // per def column, flattened in defs order
	valid  []bool
	covs   []float64
}

// scan joins the inputs and calls visit for every included conversation;
// excluded ones are counted in excluded.
func (b *builder) scan(excluded map[string]int64, visit func(u *unit) error) error {
	nextOrders, stop := iter.Pull2(orderGroups(find(b.dirs, OrdersFile)))
	defer stop()
	var cur *buyerOrders
	var curErr error
	haveOrders := true
	advance := func() {
		g, err, ok := nextOrders()
		if !ok {
			haveOrders, cur = false, nil
			return
		}
		cur, curErr = g, err
	}
	advance()
	nv, nc := 0, 0
	for _, d := range b.defs {
		nv += len(d.Columns)
		nc += len(d.Covariates)
	}
	u := &unit{values: make([]float64, nv), valid: make([]bool, nv), covs: make([]float64, nc)}
	for c, err := range b.units() {
		if err != nil {
			return err
		}
		for haveOrders && curErr == nil && keyLess(cur.shop, cur.buyer, math.MaxInt64, c.shop, c.buyer, 0) {
			advance()
		}
		if curErr != nil {
			return curErr
		}
		var bo *buyerOrders
		if haveOrders && cur.shop == c.shop && cur.buyer == c.buyer {
			bo = cur
		}
		if c.outside || b.hasWindow && (c.started < b.winStart || c.started >= b.winEnd) {
			excluded["outside_window"]++
			continue
		}
		if !b.keep(c) {
			excluded["filtered"]++
			continue
		}
		u.unitID = convField(c, b.unitCol)
		arm, ok := b.assignments[u.unitID]
		if !ok {
			excluded["unassigned"]++
			continue
		}
		if arm < 0 {
			excluded["not_in_experiment"]++
			continue
		}
		u.c, u.arm, u.orders = c, arm, bo
		b.compute(u)
		if err := visit(u); err != nil {
			return err
		}
	}
	return nil
}

func (b *builder) keep(c *conv) bool {
	for _, f := range b.filters {
		if !f.keep[convField(c, f.col)] {
			return false
		}
	}
	return true
}

// compute fills u's metric values and covariates.
func (b *builder) compute(u *unit) {
	c := u.c
	preFrom, preTo := c.started-b.pre, c.started
	if b.hasWindow {
		preFrom, preTo = b.winStart-b.pre, b.winStart
	}
	k, kc := 0, 0
	for _, d := range b.defs {
		to := c.started + d.Window.Microseconds()
		prop := d.Type == Proportion
		for _, o := range d.outcomes() {
			u.values[k], u.valid[k] = outcome(o, c, u.orders, c.started, to)
			if prop {
				u.values[k] = indicator(u.values[k])
			}
			k++
		}
		for j := range d.Covariates {
			u.covs[kc], _ = outcome(d.outcomes()[j], c, u.orders, preFrom, preTo)
			if prop {
				u.covs[kc] = indicator(u.covs[kc])
			}
			kc++
		}
	}
}

// indicator is 1 for a positive value, else 0: a proportion metric's value
// (converted when orders > 0).
func indicator(v float64) float64 {
	if v > 0 {
		return 1
	}
	return 0
}

// percentileCap runs a first pass collecting metric i's positive values and
// sets its threshold to their Percentile (linear interpolation between order
// statistics, R type 7 / PERCENTILE_CONT).
func (b *builder) percentileCap(i int, cs *capState) error {
	col := 0
	for _, d := range b.defs[:i] {
		col += len(d.Columns)
	}
	var vals []float64
	err := b.scan(map[string]int64{}, func(u *unit) error {
		if u.valid[col] && u.values[col] > 0 {
			vals = append(vals, u.values[col])
		}
		return nil
	})
	if err != nil {
		return err
	}
	cs.active = true
	cs.threshold = math.NaN()
	if len(vals) > 0 {
		slices.Sort(vals)
		cs.threshold = stats.Quantile7(vals, b.defs[i].Cap.Percentile)
	}
	return nil
}

// readAssignments loads assignments.parquet into unit_id → arm index (−1 when
// the unit is not in the experiment).
func readAssignments(path string, arms []string) (map[string]int8, error) {
	idx := map[string]int8{}
	for i, a := range arms {
		idx[a] = int8(i)
	}
	out := map[string]int8{}
	err := columnar.Scan(path, []string{"unit_id", "variant", "in_experiment"}, map[string]bool{"in_experiment": true},
		func(cols []*columnar.Column, rows int, first int64) error {
			for i := 0; i < rows; i++ {
				id := cols[0].String(i)
				in := true
				if cols[2] != nil {
					in, _ = cols[2].Bool(i)
				}
				if !in || cols[1].Null(i) || cols[1].String(i) == "" {
					out[id] = -1
					continue
				}
				v := cols[1].String(i)
				a, ok := idx[v]
				if !ok {
					return fmt.Errorf("%s: row %d: column variant: %q is not a variant of the spec (%v); "+
						"check variants: in experiment.yaml", path, first+int64(i), v, arms)
				}
				out[id] = a
			}
			return nil
		})
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist; run signalab assign first, or pass the folder holding assignments.parquet with another --in", path)
		}
		return nil, err
	}
	return out, nil
}

package experiment

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/stats"
)

// DefaultAARedraws is the number of redrawn assignments of an A/A study.
const DefaultAARedraws = 200

// AAConfig configures AA.
type AAConfig struct {
	// Dir is a run folder: experiment.yaml, conversations.parquet,
	// orders.parquet (signalab run, or replay + the spec).
	Dir string
	// SpecPath is the experiment.yaml (default Dir/experiment.yaml).
	SpecPath string
	// Redraws is the number of redrawn assignments K (default
	// DefaultAARedraws).
	Redraws int
	// Inference, Draws override the spec's analysis.inference and
	// randomization_draws when set.
	Inference stats.Inference
	Draws     int
	// Workers run redraws in parallel (default: the number of CPUs); the
	// result does not depend on it.
	Workers int
	Log     io.Writer
}

// AASalt is the salt of A/A redraw k of an experiment salted salt:
// "<salt>/aa/" and k scrambled (see RedrawSalt).
func AASalt(salt string, k int) string { return salt + "/aa/" + scramble(uint64(k)) }

// AA runs the A/A study of a run folder: the metrics of every eligible
// conversation are computed once (every unit in the experiment), reduced to
// per-unit sums, and each of K redraws assigns the units with a new salt
// and tests every metric from those sums (analysis.ClusterTable.PValue), with
// the spec's inference, including its own randomization redraws
// (RedrawSalt of the redraw's salt). No replay is repeated: signals are
// computed for every conversation whatever its arm.
func AA(cfg AAConfig) (*results.AA, error) {
	t0 := time.Now()
	if cfg.SpecPath == "" {
		cfg.SpecPath = filepath.Join(cfg.Dir, "experiment.yaml")
	}
	spec, err := Load(cfg.SpecPath)
	if err != nil {
		return nil, err
	}
	k := cfg.Redraws
	if k <= 0 {
		k = DefaultAARedraws
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	tmp, err := os.MkdirTemp("", "signalab-aa-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	units, err := allUnits(spec, cfg.Dir, tmp)
	if err != nil {
		return nil, err
	}
	if _, err := metrics.Build(metrics.Options{Spec: spec.MetricsSpec(), In: []string{tmp, cfg.Dir}, Out: tmp, OneArm: true}); err != nil {
		return nil, fmt.Errorf("aa: metrics of every eligible conversation: %w", err)
	}
	acfg, err := spec.AnalysisConfig()
	if err != nil {
		return nil, err
	}
	if cfg.Inference != "" {
		acfg.Inference = cfg.Inference
	}
	if cfg.Draws > 0 {
		acfg.RandomizationDraws = cfg.Draws
	}
	unclustered := acfg.ClusterCol == ""
	if unclustered {
		// The analysis units (conversations, buyers or sessions) are the
		// randomization units: each is its own cluster of one row.
		acfg.ClusterCol = metrics.ColUnitID
	}
	if err := acfg.Options.Validate(); err != nil {
		return nil, err
	}
	tbl, err := analysis.OpenTable(filepath.Join(tmp, metrics.UnitsFile))
	if err != nil {
		return nil, err
	}
	ct, err := analysis.ScanClusters(acfg, tbl)
	if err != nil {
		return nil, err
	}
	logf("aa: %d units, %d metrics, %d redraws (%.1fs to prepare)", len(units), len(ct.Metrics), k, time.Since(t0).Seconds())
	inf := acfg.Inference
	if inf == "" {
		inf = stats.InferenceAuto
	}
	if unclustered && inf == stats.InferenceAuto {
		inf = stats.InferenceDelta // per-row tests: Welch/z on per-unit moments
	}
	draws := acfg.RandomizationDraws
	if draws <= 0 {
		draws = stats.DefaultRandomizationDraws
	}
	res := &results.AA{Schema: results.AASchema, ToolVersion: buildinfo.Version(), Experiment: spec.Name, Unit: spec.Unit,
		Redraws: k, Alpha: acfg.Alpha, Inference: inf.String(), Draws: draws, Units: len(units),
		Salts: spec.Salt + "/aa/<SplitMix64(k) in hex>, k = 0 … " + fmt.Sprint(k-1),
		Spec:  &results.AASpec{Path: cfg.SpecPath, Salt: spec.Salt, Hash: string(spec.Hash)}, Notes: []string{}}
	if unclustered {
		res.Notes = append(res.Notes, spec.Analysis.Unit.String()+"s are the randomization units: rows are tested one by one (Welch/z on per-unit moments)")
	}
	// Checks: metric × treatment × population.
	pops := []string{results.PopulationAll, results.PopulationTriggered}
	type key struct{ mi, vi, pop int }
	var keys []key
	type aaWork struct {
		p       []float64
		defined []bool
		methods []string
	}
	var work []aaWork
	for mi := range ct.Metrics {
		for vi := 1; vi < len(spec.Variants); vi++ {
			for pop := range 2 {
				if len(ct.Metrics[mi].Units[pop]) == 0 {
					continue
				}
				keys = append(keys, key{mi, vi, pop})
				res.Checks = append(res.Checks, results.AACheck{Metric: ct.Metrics[mi].Name, Variant: spec.Variants[vi].Name,
					Population: pops[pop], Inference: map[string]int{}, PValues: make([]results.Num, k)})
				work = append(work, aaWork{p: make([]float64, k), defined: make([]bool, k), methods: make([]string, k)})
			}
		}
	}
	workers := cfg.Workers
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	next := make(chan int)
	var wg sync.WaitGroup
	errs := make([]error, k)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				errs[r] = aaRedraw(spec, ct, inf, draws, r, func(c int, p float64, ok bool, method string) {
					w := &work[c]
					w.p[r], w.defined[r], w.methods[r] = p, ok, method
				}, func(c int) (int, int, int) { return keys[c].mi, keys[c].vi, keys[c].pop }, len(keys))
			}
		}()
	}
	for r := range k {
		next <- r
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	res.BandLevel = 1 - 0.05/float64(max(len(res.Checks), 1))
	res.Passed = true
	for c := range res.Checks {
		ch, w := &res.Checks[c], &work[c]
		var ps []float64
		for r := range k {
			ch.PValues[r] = results.NaN()
			if !w.defined[r] {
				continue
			}
			p := w.p[r]
			ch.PValues[r] = results.Num(p)
			ps = append(ps, p)
			ch.Inference[w.methods[r]]++
			if p < res.Alpha {
				ch.Rejections++
			}
			ch.Histogram[min(int(p*10), 9)]++
		}
		ch.Tested = len(ps)
		if ch.Tested == 0 {
			ch.Passed = false
			res.Passed = false
			continue
		}
		ch.Rate = float64(ch.Rejections) / float64(ch.Tested)
		ci := stats.ClopperPearson(ch.Rejections, ch.Tested, 0.95)
		ch.RateCI = [2]float64{ci[0], ci[1]}
		lo, hi := stats.BinomialBand(ch.Tested, res.Alpha, res.BandLevel)
		ch.Band = [2]float64{float64(lo) / float64(ch.Tested), float64(hi) / float64(ch.Tested)}
		ch.KS, ch.KSPValue = stats.KSUniform(ps)
		ch.Passed = ch.Rejections >= lo && ch.Rejections <= hi
		if !ch.Passed {
			res.Passed = false
		}
	}
	res.Seconds = time.Since(t0).Seconds()
	return res, nil
}

// aaRedraw assigns the units with the salt of redraw r and tests every
// check, reporting each p-value through set.
func aaRedraw(spec *Spec, ct *analysis.ClusterTable, inf stats.Inference, draws, r int,
	set func(c int, p float64, ok bool, method string), key func(c int) (mi, vi, pop int), n int) error {
	ac := *spec.AssignConfig()
	ac.Salt = AASalt(spec.Salt, r)
	a, err := assign.NewConfigAssigner(&ac)
	if err != nil {
		return err
	}
	redrawn := *spec
	redrawn.Salt = ac.Salt
	inner := cachedRedraw(redrawn.UnitRedraw())
	armOf := map[string]int{}
	for c := range n {
		mi, vi, pop := key(c)
		m := &ct.Metrics[mi]
		arms := make([]int8, len(m.Units[pop]))
		for k, u := range m.Units[pop] {
			arm, ok := armOf[u]
			if !ok {
				arm = a.Decide(u).Arm
				armOf[u] = arm
			}
			switch arm {
			case 0:
				arms[k] = 0
			case vi:
				arms[k] = 1
			default:
				arms[k] = -1
			}
		}
		weights := [2]float64{spec.Variants[0].Weight, spec.Variants[vi].Weight}
		p, used, ok := ct.PValue(mi, pop, arms, inf, weights, draws, inner)
		set(c, p, ok, used.String())
	}
	return nil
}

// cachedRedraw remembers each unit's arms in every draw of redraw (the
// same units are compared for several metrics and populations).
func cachedRedraw(redraw analysis.UnitRedraw) analysis.UnitDraws {
	type key struct {
		w    [2]float64
		unit string
	}
	cache := map[key][]int8{}
	compute := analysis.Draws(redraw)
	return func(units []string, weights [2]float64, draws int) [][]int8 {
		var missing []string
		for _, u := range units {
			if _, ok := cache[key{weights, u}]; !ok {
				missing = append(missing, u)
			}
		}
		if len(missing) > 0 {
			for i, a := range compute(missing, weights, draws) {
				cache[key{weights, missing[i]}] = a
			}
		}
		out := make([][]int8, len(units))
		for i, u := range units {
			out[i] = cache[key{weights, u}]
		}
		return out
	}
}

// allUnits writes into dir an assignments.parquet that puts every unit of
// conversations.parquet in the experiment (in the first variant), so that
// the metrics stage computes every eligible conversation (window and
// filters still apply), and returns the units, sorted.
func allUnits(spec *Spec, run, dir string) ([]string, error) {
	seen := map[string]bool{}
	var err error
	if spec.Analysis.Unit.FromSessions() {
		// Buyer and session units: the randomization units of the
		// replay's sessions.
		err = assign.ReadActivity(filepath.Join(run, metrics.SessionsFile), spec.Analysis.Unit == metrics.UnitBuyer, false, 0, 0,
			func(a *replay.Activity, _ bool) error {
				if u := assign.ActivityUnitID(spec.Unit, a); u != "" {
					seen[u] = true
				}
				return nil
			})
	} else {
		err = assign.ReadConversations(filepath.Join(run, metrics.ConversationsFile), func(c *signal.Conversation) error {
			if u := assign.UnitID(spec.Unit, c); u != "" {
				seen[u] = true
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("aa: %w (give a run folder: signalab run or replay output with experiment.yaml)", err)
	}
	units := make([]string, 0, len(seen))
	for u := range seen {
		units = append(units, u)
	}
	slices.Sort(units)
	rows := make([]assign.Assignment, len(units))
	for i, u := range units {
		rows[i] = assign.Assignment{UnitID: u, Variant: spec.Variants[0].Name, InExperiment: true, Reason: assign.ReasonAssigned}
	}
	err = atomicfile.Write(filepath.Join(dir, metrics.AssignmentsFile), func(w io.Writer) error {
		return assign.WriteAssignments(w, rows)
	})
	return units, err
}

// WriteAA writes res as aa.json into dir.
func WriteAA(dir string, res *results.AA) error {
	b, err := MarshalAA(res)
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, results.AAFile), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// MarshalAA is aa.json's bytes (indented, newline-terminated).
func MarshalAA(res *results.AA) ([]byte, error) {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/cliflag"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/internal/outdir"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

func init() { register(newAnalyzeCmd) }

type analyzeOptions struct {
	Experiment string
	Units      string
	// Summary is a table of sufficient statistics per group instead of
	// per-unit rows; Arms, Where and Latest shape it.
	Summary string
	Arms    []string
	Where   []string
	Latest  string
	In      []string
	Out     string
	JSON    bool
	// Generic table.
	Variant    string
	Control    string
	Metrics    []string
	Cluster    string
	Covariates []string
	Segments   []string
	Triggered  string
	Time       string
	Alpha      float64
	Test       stats.Test
	RelativeCI stats.RelativeCI
	Correction stats.Correction
	Sequential bool
	Bayesian   bool
	// Inference, Draws and TuningN override the spec's when set.
	Inference stats.Inference
	Draws     int
	TuningN   float64
	set       func(name string) bool
	// Decisions (generic table).
	Primary           []string
	Secondary         []string
	Guardrails        []string
	Directions        []string
	CorrectionScope   analysis.Scope
	SegmentCorrection stats.Correction
	Population        string
	Currency          string
	// Gates choose the outcomes that exit 1.
	Gates analysis.GateSet
}

func newAnalyzeCmd() *cobra.Command {
	opts := analyzeOptions{Test: stats.Welch, Correction: analysis.DefaultCorrection, RelativeCI: analysis.DefaultRelativeCI,
		CorrectionScope: analysis.ScopeFamily, SegmentCorrection: analysis.DefaultSegmentCorrection,
		Population: results.PopulationTriggered, Gates: analysis.DefaultGates}
	c := &cobra.Command{
		Use:   "analyze (--experiment F | --variant COL --metric COL:TYPE ...) (--units FILE | --summary FILE) --out DIR",
		Short: "Compute lift with significance from a per-unit or summary table",
		Long: `analyze reads a per-unit table once, accumulates sufficient statistics per
variant × segment × population, runs the statistics engine, corrects for
multiple testing, and writes results.json and results.parquet to --out.

With --experiment, the table is the metrics stage's units.parquet and the spec
says everything; metrics.json, assign.json and replay.json beside the table (or
in the --in folders) feed the health section.

Without it, any Parquet or CSV table works: name the variant column, the control
and each metric as
  COL:proportion | COL:mean | NUM/DEN:ratio | COL:quantile:Q    (optionally NAME=...)
--cuped NAME=COL adds a pre-period covariate to metric NAME (NUM/DEN for a
ratio). Values 0/1, true/false and True/False read as numbers; anything else that is not
a number is an error naming the row and column. --cluster names the
randomization unit when it is coarser than a row: the analysis is then the
ratio of per-cluster sums, tested by --inference (auto: a randomization test
with fewer than 200 clusters in an arm or one cluster holding 10% of an arm,
else CR2 with Imbens-Kolesar degrees of freedom; docs/statistics.md). Without
--cluster every row is assumed to be its own, independent randomization unit
(results.json says so in experiment.independence); a table that signalab's
metrics stage wrote for a coarser randomization unit (metrics.json beside it
says so) is refused until --cluster names that unit (--cluster "" analyses the
rows as independent all the same). The control is --control,
else the value named "control"; without either the command lists the values
found.

--inference, --draws and --tuning-n also override the spec's analysis:
inference, randomization_draws and sequential_tuning_n with --experiment.

--summary FILE reads sufficient statistics per group instead of units, as a
warehouse query produces them: one row per variant (× segment × triggered ×
day, or per cluster), with the group's n and, per metric STEM:TYPE, the
columns STEM_sum and STEM_sum_sq (or STEM_mean and STEM_variance); a ratio
STEM_sum_m, _sum_m2, _sum_d, _sum_d2, _sum_md. NAME=:TYPE reads bare names
(sum, mean, variance). --arm SUFFIX=NAME reads a wide table with both arms in
one row (count_c, mean_c, variance_c, count_t, ...); --where COL=VALUE keeps
matching rows and --latest COL the rows with its greatest value (the last
checkpoint of cumulative snapshots). The results are the same as from the
per-unit table the groups summarise. See docs/metrics.md, Summary tables.

Metric roles: --primary names the goal metrics (default: the first metric),
--guardrail NAME=MARGIN adds a non-inferiority check (-0.02: may drop by at
most 2%; NAME=MARGIN:absolute for a margin in the metric's unit), every other
metric is secondary. Corrections run within families: the primary metrics,
the secondary metrics and the guardrail metrics apart (--correction-scope),
each segment column apart with --segment-correction (BH). Columns ending in
_cents are money: reported in major units of --currency.

The output starts with the verdict (ship, don't ship, inconclusive) and its
reasons. Exit codes: 0, or 1 when an outcome named by --gate occurs (default
srm,guardrail); 2 on an error.`,
		Example: `  signalab analyze --experiment experiment.yaml --units out/units.parquet --out out
  signalab analyze --units users.csv --variant group --control A --metric orders:mean --metric converted:proportion --out res
  signalab analyze --units convs.parquet --variant arm --metric conv=converted:proportion --cluster shop_id --out res
  signalab analyze --summary arms.csv --variant arm --metric revenue:mean --metric converted:proportion --out res
  signalab analyze --summary asos.csv --arm _c=control --arm _t=treatment --metric value=:mean \
      --where experiment_id=036afc --where variant_id=2 --where metric_id=1 --latest time_since_start --out res
  signalab analyze --units t.csv --variant arm --metric converted:proportion --metric aov=revenue_cents/orders:ratio \
      --guardrail aov=-0.02 --currency USD --gate srm,guardrail,dont-ship --out res`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			opts.set = func(name string) bool { return c.Flags().Changed(name) }
			return analyzeRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Experiment, "experiment", "", "experiment spec (experiment.yaml) of a units.parquet from signalab metrics")
	f.StringVar(&opts.Units, "units", "", "per-unit table (.parquet or .csv)")
	f.StringVar(&opts.Summary, "summary", "", "summary table of sufficient statistics per group (.parquet or .csv), instead of --units")
	f.StringArrayVar(&opts.Arms, "arm", nil, "--summary, wide table: SUFFIX=NAME, the columns of variant NAME end with SUFFIX (repeatable; the first is the control)")
	f.StringArrayVar(&opts.Where, "where", nil, "--summary: keep rows whose column COL holds VALUE, as COL=VALUE (repeatable)")
	f.StringVar(&opts.Latest, "latest", "", "--summary: keep the rows with the greatest value of this column (after --where)")
	cliflag.PathsVar(f, &opts.In, "in", "with --experiment: folders with metrics.json, assign.json, replay.json (default: the table's folder; repeat the flag or separate with commas)").Folders = true
	f.StringVar(&opts.Out, "out", "", "folder to write results.json and results.parquet to")
	f.BoolVar(&opts.JSON, "json", false, "print results.json to standard output")
	f.StringVar(&opts.Variant, "variant", "", "generic table: the variant column")
	f.StringVar(&opts.Control, "control", "", `generic table: the control variant (default: the value named "control")`)
	f.StringArrayVar(&opts.Metrics, "metric", nil, "generic table: metric as [NAME=]COL:TYPE, NUM/DEN:ratio or COL:quantile:Q (repeatable)")
	f.StringVar(&opts.Cluster, "cluster", "", "generic table: randomization unit column when coarser than a row")
	f.StringArrayVar(&opts.Covariates, "cuped", nil, "generic table: CUPED covariate of a metric as NAME=COL (ratio: NAME=NUM/DEN) (repeatable)")
	f.StringArrayVar(&opts.Segments, "segment", nil, "generic table: segment column (repeatable)")
	f.StringVar(&opts.Triggered, "triggered", "", "generic table: boolean column of the triggered population")
	f.StringVar(&opts.Time, "time", "", "generic table: timestamp column for the daily series")
	f.Float64Var(&opts.Alpha, "alpha", 0.05, "generic table: significance level")
	f.Var(&textFlag{&opts.Test, "test"}, "test", "generic table: the test, one of "+namesOf(analysis.Tests))
	f.Var(&textFlag{&opts.Correction, "correction"}, "correction",
		"generic table: correction across metrics × variants, one of "+namesOf(stats.Corrections))
	f.BoolVar(&opts.Sequential, "sequential", false, "generic table: add confidence sequences")
	f.BoolVar(&opts.Bayesian, "bayesian", false, "generic table: add chance to win and risk")
	f.Var(&textFlag{&opts.Inference, "inference"}, "inference",
		"test of clustered comparisons, one of "+namesOf(stats.Inferences)+" (default auto; overrides the spec)")
	f.IntVar(&opts.Draws, "draws", 0, fmt.Sprintf("assignment redraws of a randomization test (default %d; overrides the spec)", stats.DefaultRandomizationDraws))
	f.Float64Var(&opts.TuningN, "tuning-n", 0, "N* of the confidence sequences in randomization units of a comparison (default: the spec's, its plan's, or 5000)")
	f.Var(&textFlag{&opts.RelativeCI, "method"}, "relative-ci", "generic table: relative interval, one of "+namesOf(analysis.RelativeCIs))
	f.StringArrayVar(&opts.Primary, "primary", nil, "generic table: a primary (goal) metric by name (repeatable; default: the first metric)")
	f.StringArrayVar(&opts.Secondary, "secondary", nil, "generic table: a secondary metric by name (repeatable; default: every metric that is neither primary nor guardrail)")
	f.StringArrayVar(&opts.Guardrails, "guardrail", nil, "generic table: guardrail NAME=MARGIN[:absolute][:alpha=A], e.g. aov=-0.02 (repeatable)")
	f.StringArrayVar(&opts.Directions, "direction", nil, "generic table: NAME=decrease for a metric that should go down (repeatable)")
	f.Var(&textFlag{&opts.CorrectionScope, "scope"}, "correction-scope", "generic table: correction families of the unsegmented rows, one of "+namesOf(analysis.Scopes))
	f.Var(&textFlag{&opts.SegmentCorrection, "correction"}, "segment-correction", "generic table: correction within each segment column, one of "+namesOf(stats.Corrections))
	f.StringVar(&opts.Population, "population", opts.Population, "generic table: population of the verdict, triggered (with --triggered) or all")
	f.StringVar(&opts.Currency, "currency", "", "generic table: ISO 4217 code of the money columns (*_cents)")
	f.Var(gateFlag{&opts.Gates}, "gate", gateUsage)
	return c
}

const analyzeHint = "signalab analyze --units units.csv --variant group --control control --metric converted:proportion --out results"

func analyzeRun(opts analyzeOptions, stdout, stderr io.Writer) error {
	if opts.Summary != "" {
		return analyzeSummary(opts, stdout)
	}
	switch {
	case opts.Units == "":
		return exitcode.Usagef(analyzeHint, "analyze: --units (a per-unit table) or --summary (a table of sufficient statistics) is required")
	case len(opts.Arms) > 0 || len(opts.Where) > 0 || opts.Latest != "":
		return exitcode.Usagef(analyzeHint, "analyze: --arm, --where and --latest shape a --summary table")
	case opts.Out == "":
		return exitcode.Usagef(analyzeHint, "analyze: --out is required")
	case opts.Experiment == "" && opts.Variant == "":
		return exitcode.Usagef(analyzeHint, "analyze: give --experiment, or --variant and --metric for a generic table")
	case opts.Experiment != "" && (opts.Variant != "" || len(opts.Metrics) > 0):
		return exitcode.Usagef(analyzeHint, "analyze: --experiment and --variant/--metric are alternatives; give one")
	}
	var cfg analysis.Config
	var ctx analysis.Context
	var err error
	if opts.Experiment != "" {
		cfg, ctx, err = experimentAnalysis(opts, opts.Units)
	} else {
		cfg, err = genericConfig(opts)
	}
	if err != nil {
		return err
	}
	return analyzeInto(opts, &cfg, opts.Units, stdout, func(tbl analysis.Table) (*results.Results, error) {
		if header, err := analysis.Header(opts.Units); err == nil {
			var cols []string
			for _, m := range cfg.Metrics {
				cols = append(cols, m.Columns...)
			}
			if hint := analysis.SummaryHint(header, cols); hint != "" {
				return nil, exitcode.Usagef("signalab analyze --summary "+opts.Units+" ... (see signalab analyze --help)", "analyze: %s: %s", opts.Units, hint)
			}
		}
		return analysis.Analyze(cfg, tbl, ctx)
	})
}

// experimentAnalysis is the analysis of --experiment, with its context
// from --in and the folder of the table (--units or --summary).
func experimentAnalysis(opts analyzeOptions, table string) (analysis.Config, analysis.Context, error) {
	spec, err := experiment.Load(opts.Experiment)
	if err != nil {
		return analysis.Config{}, analysis.Context{}, err
	}
	cfg, err := spec.AnalysisConfig()
	if err != nil {
		return analysis.Config{}, analysis.Context{}, err
	}
	ctx, err := analysis.LoadContext(append(opts.In, filepath.Dir(table))...)
	return cfg, ctx, err
}

// analyzeInto applies the inference flags to cfg, takes --out's lock,
// opens the table and writes the results analyze computes from it
// (writeResults).
func analyzeInto(opts analyzeOptions, cfg *analysis.Config, table string, stdout io.Writer, analyze func(analysis.Table) (*results.Results, error)) error {
	if err := applyInferenceFlags(cfg, opts); err != nil {
		return err
	}
	tx, err := beginOutputs(opts.Out, "signalab analyze", analyzeOutputs)
	if err != nil {
		return err
	}
	defer tx.Abort()
	tbl, err := analysis.OpenTable(table)
	if err != nil {
		return err
	}
	res, err := analyze(tbl)
	if err != nil {
		return err
	}
	return writeResults(tx, opts, res, stdout)
}

// writeResults writes results.json and results.parquet into the output
// transaction of --out, commits it, and prints the table (or results.json
// with --json).
func writeResults(tx *outdir.Tx, opts analyzeOptions, res *results.Results, stdout io.Writer) error {
	if err := analysis.Write(tx.Dir, res); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if opts.JSON {
		b, err := results.Marshal(res)
		if err != nil {
			return err
		}
		if _, err := stdout.Write(b); err != nil {
			return err
		}
	} else {
		printResults(stdout, res)
	}
	return gateError(res, opts.Gates)
}

// applyInferenceFlags sets the inference options given on the command line
// (over the spec's) and validates them.
func applyInferenceFlags(cfg *analysis.Config, opts analyzeOptions) error {
	set := opts.set
	if set == nil {
		set = func(string) bool { return false }
	}
	if set("inference") {
		cfg.Inference = opts.Inference
	}
	if set("draws") {
		cfg.RandomizationDraws = opts.Draws
	}
	if set("tuning-n") {
		cfg.SequentialTuningN, cfg.SequentialTuningSource = opts.TuningN, "--tuning-n"
	}
	if err := cfg.Options.Validate(); err != nil {
		return exitcode.Usagef(analyzeHint, "analyze: %v", strings.NewReplacer("randomization_draws", "--draws", "sequential_tuning_n", "--tuning-n").Replace(err.Error()))
	}
	return nil
}

// flagConfig is the analysis the flags describe (without its metrics) of
// the table at path: a generic table (--units) or a summary table
// (--summary).
func flagConfig(opts analyzeOptions, path string) analysis.Config {
	return analysis.Config{Name: filepath.Base(path), VariantCol: opts.Variant, Control: opts.Control,
		ClusterCol: opts.Cluster, Unit: opts.Cluster, AnalysisUnit: "row", Segments: opts.Segments,
		TriggeredCol: opts.Triggered, TimeCol: opts.Time,
		Options: analysis.Options{Alpha: opts.Alpha, Test: opts.Test, RelativeCI: opts.RelativeCI,
			Correction: opts.Correction, Sequential: opts.Sequential, Bayesian: opts.Bayesian,
			Inference: stats.InferenceAuto, CorrectionScope: opts.CorrectionScope,
			SegmentCorrection: opts.SegmentCorrection, Population: opts.Population, Currency: opts.Currency}}
}

// genericConfig builds the analysis of a table named by flags.
func genericConfig(opts analyzeOptions) (analysis.Config, error) {
	cfg := flagConfig(opts, opts.Units)
	// The analysis fills a zero alpha with its default; a flag given as 0
	// (or NaN, or 1) is a mistake to report, not a default to apply.
	if !(opts.Alpha > 0 && opts.Alpha < 1) {
		return cfg, exitcode.Usagef(analyzeHint+" --alpha 0.05", "analyze: --alpha %v: the significance level must be in (0, 1)", opts.Alpha)
	}
	if len(opts.Metrics) == 0 {
		return cfg, exitcode.Usagef(analyzeHint, "analyze: give at least one --metric COL:TYPE with --variant")
	}
	for _, s := range opts.Metrics {
		m, err := parseMetricFlag(s)
		if err != nil {
			return cfg, exitcode.Usagef(analyzeHint, "analyze: --metric %q: %v", s, err)
		}
		// A repeated metric would be tested twice and widen the
		// correction family.
		if slices.ContainsFunc(cfg.Metrics, func(o analysis.Metric) bool { return o.Name == m.Name }) {
			return cfg, exitcode.Usagef(analyzeHint, "analyze: --metric %q: metric %q is given twice; name each metric once (NAME=COL:TYPE to analyse one column twice)", s, m.Name)
		}
		cfg.Metrics = append(cfg.Metrics, m)
	}
	for _, c := range opts.Covariates {
		name, cols, ok := strings.Cut(c, "=")
		i := slices.IndexFunc(cfg.Metrics, func(m analysis.Metric) bool { return m.Name == name })
		if !ok || i < 0 {
			return cfg, exitcode.Usagef(analyzeHint, "analyze: --cuped %q: want NAME=COL with NAME one of the --metric names", c)
		}
		m := &cfg.Metrics[i]
		m.Covariates = strings.Split(cols, "/")
		if len(m.Covariates) != len(m.Columns) || slices.Contains(m.Covariates, "") || m.Type == metrics.Quantile {
			return cfg, exitcode.Usagef(analyzeHint, "analyze: --cuped %q: a %s metric takes %d covariate column(s)", c, m.Type, len(m.Columns))
		}
		cfg.CUPED = true
	}
	if err := genericRoles(&cfg, opts); err != nil {
		return cfg, err
	}
	if opts.set == nil || !opts.set("cluster") {
		if err := checkRecordedUnit(opts.Units); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// checkRecordedUnit refuses to analyse, as independent rows, a unit table
// that signalab's metrics stage wrote for an experiment randomized by a
// coarser unit: metrics.json beside the table records the randomization
// unit and, per arm, the rows and the randomization units they belong to.
// Such rows are correlated within their unit, and an analysis that treats
// them as independent reports intervals far too narrow (the README's tour
// once did: a "significant" drop and a sample-ratio mismatch on a
// shop-randomized run). --cluster COL names the unit; --cluster "" (given
// explicitly) asks for independent rows all the same. A table without a
// readable metrics.json beside it is not judged.
func checkRecordedUnit(table string) error {
	path := filepath.Join(filepath.Dir(table), "metrics.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var m struct {
		Unit string `json:"unit"`
		Arms []struct {
			Units              int `json:"units"`
			RandomizationUnits int `json:"randomization_units"`
		} `json:"arms"`
	}
	if json.Unmarshal(b, &m) != nil || m.Unit == "" {
		return nil
	}
	rows, units := 0, 0
	for _, a := range m.Arms {
		rows, units = rows+a.Units, units+a.RandomizationUnits
	}
	if units == 0 || units >= rows {
		return nil
	}
	return exitcode.Usagef(fmt.Sprintf("signalab analyze --units %s --cluster %s ...", table, m.Unit),
		"analyze: %s holds %d rows of %d randomization units (%s, as %s beside it records): its rows are not independent; "+
			"name the unit with --cluster %s (or analyse with --experiment and the spec), or give --cluster \"\" to treat the rows as independent all the same",
		table, rows, units, m.Unit, path, m.Unit)
}

// genericRoles applies --primary, --secondary, --guardrail and --direction
// to the metrics of a generic table.
func genericRoles(cfg *analysis.Config, opts analyzeOptions) error {
	find := func(flag, name string) (*analysis.Metric, error) {
		for i := range cfg.Metrics {
			if cfg.Metrics[i].Name == name {
				return &cfg.Metrics[i], nil
			}
		}
		var have []string
		for _, m := range cfg.Metrics {
			have = append(have, m.Name)
		}
		return nil, exitcode.Usagef(analyzeHint, "analyze: --%s %q names no --metric (metrics: %s)", flag, name, strings.Join(have, ", "))
	}
	for _, d := range opts.Directions {
		name, dir, _ := strings.Cut(d, "=")
		m, err := find("direction", name)
		if err != nil {
			return err
		}
		if dir != metrics.Increase && dir != metrics.Decrease {
			return exitcode.Usagef(analyzeHint, "analyze: --direction %q: want NAME=increase or NAME=decrease", d)
		}
		m.Direction = dir
	}
	for _, g := range opts.Guardrails {
		name, spec, ok := strings.Cut(g, "=")
		m, err := find("guardrail", name)
		if err != nil {
			return err
		}
		parts := strings.Split(spec, ":")
		margin, perr := strconv.ParseFloat(strings.TrimSuffix(parts[0], "%"), 64)
		if !ok || perr != nil {
			return exitcode.Usagef(analyzeHint, "analyze: --guardrail %q: want NAME=MARGIN, e.g. aov=-0.02 (may drop by at most 2%%)", g)
		}
		if strings.HasSuffix(parts[0], "%") {
			margin /= 100
		}
		gr := &analysis.Guardrail{Margin: margin}
		for _, p := range parts[1:] {
			switch {
			case p == metrics.Absolute:
				gr.Absolute = true
			case p == metrics.Relative:
			case strings.HasPrefix(p, "alpha="):
				a, err := strconv.ParseFloat(strings.TrimPrefix(p, "alpha="), 64)
				if err != nil {
					return exitcode.Usagef(analyzeHint, "analyze: --guardrail %q: alpha %q is not a number", g, p)
				}
				gr.Alpha = a
			default:
				return exitcode.Usagef(analyzeHint, "analyze: --guardrail %q: %q is not absolute, relative or alpha=A", g, p)
			}
		}
		m.Guardrail, m.Role = gr, analysis.RoleGuardrail
	}
	for _, name := range opts.Primary {
		m, err := find("primary", name)
		if err != nil {
			return err
		}
		if m.Role == analysis.RoleGuardrail {
			return exitcode.Usagef(analyzeHint, "analyze: %s is both --primary and --guardrail (a metric has one role)", name)
		}
		m.Role = analysis.RolePrimary
		if cfg.Primary == "" {
			cfg.Primary = name
		}
	}
	for _, name := range opts.Secondary {
		m, err := find("secondary", name)
		if err != nil {
			return err
		}
		if m.Role != "" {
			return exitcode.Usagef(analyzeHint, "analyze: %s is --secondary and %s (a metric has one role)", name, m.Role)
		}
		m.Role = analysis.RoleSecondary
	}
	for i := range cfg.Metrics {
		m := &cfg.Metrics[i]
		if len(opts.Primary) > 0 && m.Role == "" {
			m.Role = analysis.RoleSecondary
		}
		m.Money = make([]bool, len(m.Columns))
		for j, c := range m.Columns {
			m.Money[j] = metrics.IsMoney(c)
		}
	}
	return nil
}

// parseMetricFlag reads [NAME=]COL:TYPE, [NAME=]NUM/DEN:ratio or
// [NAME=]COL:quantile:Q.
func parseMetricFlag(s string) (analysis.Metric, error) {
	var m analysis.Metric
	name, spec := "", s
	if i := strings.Index(s, "="); i >= 0 {
		name, spec = s[:i], s[i+1:]
	}
	parts := strings.Split(spec, ":")
	if len(parts) < 2 || parts[0] == "" {
		return m, fmt.Errorf("want COL:TYPE with TYPE proportion, mean, ratio (NUM/DEN:ratio) or quantile (COL:quantile:Q)")
	}
	var err error
	if m.Type, err = metrics.ParseType(parts[1]); err != nil {
		return m, err
	}
	switch m.Type {
	case metrics.Proportion, metrics.Mean:
		m.Columns = []string{parts[0]}
	case metrics.Ratio:
		nd := strings.Split(parts[0], "/")
		if len(nd) != 2 || nd[0] == "" || nd[1] == "" {
			return m, fmt.Errorf("a ratio metric is NUM/DEN:ratio")
		}
		m.Columns = nd
	case metrics.Quantile:
		if len(parts) != 3 {
			return m, fmt.Errorf("a quantile metric is COL:quantile:Q, e.g. reply_minutes:quantile:0.5")
		}
		q, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || !(q > 0 && q < 1) { // NaN fails too
			return m, fmt.Errorf("quantile level %q is not a number in (0, 1)", parts[2])
		}
		m.Columns, m.Q = []string{parts[0]}, q
	}
	if len(parts) > 2 && m.Type != metrics.Quantile {
		return m, fmt.Errorf("unexpected %q after the type", strings.Join(parts[2:], ":"))
	}
	m.Name = name
	if m.Name == "" {
		m.Name = parts[0]
	}
	return m, nil
}

// namesOf joins the names of vs with ", ".
func namesOf[T fmt.Stringer](vs []T) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return strings.Join(out, ", ")
}

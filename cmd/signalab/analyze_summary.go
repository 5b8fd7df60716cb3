package main

import (
	"io"
	"slices"
	"strings"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
)

const summaryHint = "signalab analyze --summary arms.csv --variant arm --metric converted:proportion --out results"

// analyzeSummary is analyze --summary: the analysis of a table of
// sufficient statistics per group (analysis.AnalyzeSummary).
func analyzeSummary(opts analyzeOptions, stdout io.Writer) error {
	switch {
	case opts.Units != "":
		return exitcode.Usagef(summaryHint, "analyze: --units and --summary are alternatives; give one")
	case opts.Out == "":
		return exitcode.Usagef(summaryHint, "analyze: --out is required")
	case opts.Experiment == "" && opts.Variant == "" && len(opts.Arms) == 0:
		return exitcode.Usagef(summaryHint, "analyze: --summary needs --variant COL (one row per variant) or --arm SUFFIX=NAME twice or more (both arms in a row), and --metric")
	case opts.Variant != "" && len(opts.Arms) > 0:
		return exitcode.Usagef(summaryHint, "analyze: --variant (one row per variant) and --arm (both arms in a row) are alternatives; give one")
	case len(opts.Arms) == 1:
		return exitcode.Usagef(summaryHint+" --arm _c=control --arm _t=treatment", "analyze: --arm: give a suffix for the control and for each treatment")
	}
	var lay analysis.Summary
	for _, a := range opts.Arms {
		sfx, name, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return exitcode.Usagef(summaryHint+" --arm _c=control", "analyze: --arm %q: want SUFFIX=NAME, e.g. _c=control", a)
		}
		lay.Arms = append(lay.Arms, analysis.SummaryArm{Suffix: sfx, Name: name})
	}
	for _, w := range opts.Where {
		col, val, ok := strings.Cut(w, "=")
		if !ok || col == "" {
			return exitcode.Usagef(summaryHint+" --where experiment_id=036afc", "analyze: --where %q: want COL=VALUE", w)
		}
		lay.Where = append(lay.Where, [2]string{col, val})
	}
	lay.Latest = opts.Latest
	var cfg analysis.Config
	var ctx analysis.Context
	var err error
	if opts.Experiment != "" {
		if opts.Variant != "" || len(opts.Metrics) > 0 {
			return exitcode.Usagef(summaryHint, "analyze: --experiment and --variant/--metric are alternatives; give one")
		}
		cfg, ctx, err = experimentAnalysis(opts, opts.Summary)
		for _, m := range cfg.Metrics {
			lay.Prefixes = append(lay.Prefixes, m.Name+"_")
		}
	} else {
		cfg, lay.Prefixes, err = summaryConfig(opts)
	}
	if err != nil {
		return err
	}
	return analyzeInto(opts, &cfg, opts.Summary, stdout, func(tbl analysis.Table) (*results.Results, error) {
		return analysis.AnalyzeSummary(cfg, tbl, lay, ctx)
	})
}

// summaryConfig builds the analysis of a summary table named by flags:
// --metric [NAME=]STEM:TYPE reads the columns STEM_<statistic>, and
// NAME=:TYPE the bare statistic names; --cuped NAME adds the covariate's
// sums.
func summaryConfig(opts analyzeOptions) (analysis.Config, []string, error) {
	cfg := flagConfig(opts, opts.Summary)
	if !(opts.Alpha > 0 && opts.Alpha < 1) {
		return cfg, nil, exitcode.Usagef(summaryHint+" --alpha 0.05", "analyze: --alpha %v: the significance level must be in (0, 1)", opts.Alpha)
	}
	if len(opts.Metrics) == 0 {
		return cfg, nil, exitcode.Usagef(summaryHint, "analyze: give at least one --metric STEM:TYPE")
	}
	var prefixes []string
	for _, s := range opts.Metrics {
		name, spec := "", s
		if i := strings.Index(s, "="); i >= 0 {
			name, spec = s[:i], s[i+1:]
		}
		stem, typ, ok := strings.Cut(spec, ":")
		if !ok || (stem == "" && name == "") {
			return cfg, nil, exitcode.Usagef(summaryHint, "analyze: --metric %q: want [NAME=]STEM:TYPE (STEM_sum, STEM_sum_sq, ... are its columns; NAME=:TYPE for bare names)", s)
		}
		t, err := metrics.ParseType(typ)
		if err != nil {
			return cfg, nil, exitcode.Usagef(summaryHint, "analyze: --metric %q: %v", s, err)
		}
		if name == "" {
			name = stem
		}
		prefix := ""
		if stem != "" {
			prefix = stem + "_"
		}
		m := analysis.Metric{Name: name, Type: t, Columns: []string{prefix + "sum"}}
		if t == metrics.Ratio {
			m.Columns = []string{prefix + "sum_m", prefix + "sum_d"}
		}
		cfg.Metrics = append(cfg.Metrics, m)
		prefixes = append(prefixes, prefix)
	}
	for _, c := range opts.Covariates {
		name, _, _ := strings.Cut(c, "=")
		i := slices.IndexFunc(cfg.Metrics, func(m analysis.Metric) bool { return m.Name == name })
		if i < 0 {
			return cfg, nil, exitcode.Usagef(summaryHint, "analyze: --cuped %q: want the NAME of a --metric (its covariate's sums are STEM_sum_x, ... in a summary)", c)
		}
		m := &cfg.Metrics[i]
		m.Covariates = []string{prefixes[i] + "sum_x"}
		if m.Type == metrics.Ratio {
			m.Covariates = []string{prefixes[i] + "sum_u", prefixes[i] + "sum_v"}
		}
		cfg.CUPED = true
	}
	if len(opts.Arms) > 0 {
		cfg.VariantCol = "arm"
	}
	if err := genericRoles(&cfg, opts); err != nil {
		return cfg, nil, err
	}
	return cfg, prefixes, nil
}

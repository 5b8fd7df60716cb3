package main

import (
	"fmt"
	"io"
	"math"
	"path/filepath"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/stats"
)

const clusterPowerHint = "signalab power --baseline 0.10 --mde 0.3 --cluster-size 60 --cluster-size-cv 1.8 --icc 0.03"

// clusterPowerRun plans a cluster-randomized design (stats.ClusterPowerSpec).
func clusterPowerRun(opts powerOptions, stdout io.Writer) error {
	spec := stats.ClusterPowerSpec{PowerSpec: stats.PowerSpec{Kind: stats.Proportion, Baseline: opts.Baseline,
		Absolute: opts.Absolute, Alpha: opts.Alpha}, MeanSize: opts.ClusterSize, SizeCV: opts.ClusterSizeCV, ICC: opts.ICC}
	metric := metrics.Proportion
	cr := &clusterReport{}
	if opts.From != "" {
		var err error
		if metric, err = fromRun(opts, &spec); err != nil {
			return err
		}
		cr.From = opts.From
		cr.Fixed = !opts.set("clusters-per-arm")
		spec.Fixed = cr.Fixed
		var sum, sum2 float64
		for _, n := range spec.Sizes {
			sum += n
			sum2 += n * n
		}
		m := sum / float64(len(spec.Sizes))
		spec.MeanSize = m
		spec.SizeCV = math.Sqrt(math.Max(sum2/float64(len(spec.Sizes))-m*m, 0)) / m
		if cr.Fixed {
			opts.ClustersPerArm = len(spec.Sizes) / 2
		}
	} else {
		if math.IsNaN(opts.Baseline) {
			return exitcode.Usagef(clusterPowerHint, "power: --baseline is required (or --from RUN_DIR)")
		}
		if opts.Variance > 0 {
			spec.Kind, spec.Variance, metric = stats.Mean, opts.Variance, metrics.Mean
		}
		if !(opts.ClusterSize >= 1) {
			return exitcode.Usagef(clusterPowerHint, "power: --cluster-size is required for a cluster design (mean rows per cluster, at least 1)")
		}
		if opts.set("design-effect") {
			if opts.set("icc") {
				return exitcode.Usagef(clusterPowerHint, "power: give --icc or --design-effect, not both")
			}
			spec.ICC = stats.ICCFromDesignEffect(opts.DesignEffect, opts.ClusterSize, opts.ClusterSizeCV)
		}
	}
	switch {
	case !(opts.Alpha > 0 && opts.Alpha < 1):
		return exitcode.Usagef(clusterPowerHint, "power: --alpha %v: must be between 0 and 1", opts.Alpha)
	case !(opts.Power > 0 && opts.Power < 1):
		return exitcode.Usagef(clusterPowerHint, "power: --power %v: must be between 0 and 1", opts.Power)
	case math.IsNaN(opts.MDE) && opts.ClustersPerArm == 0:
		return exitcode.Usagef(clusterPowerHint, "power: give --mde (clusters needed) or --clusters-per-arm (their power and MDE)")
	case opts.ClustersPerArm < 0 || (opts.set("clusters-per-arm") && opts.ClustersPerArm < 2):
		return exitcode.Usagef(clusterPowerHint, "power: --clusters-per-arm %d: need at least 2", opts.ClustersPerArm)
	case opts.Variants != 2:
		return exitcode.Usagef(clusterPowerHint, "power: cluster designs are planned for two arms (--variants 2)")
	}
	alt := "two-sided"
	if opts.OneSided {
		spec.Alternative, alt = stats.Greater, "greater"
		if opts.MDE < 0 {
			spec.Alternative, alt = stats.Less, "less"
		}
	}
	cr.MeanSize, cr.SizeCV, cr.ICC = spec.MeanSize, spec.SizeCV, spec.ICC
	cr.DesignEffect = stats.DesignEffect(spec.ICC, spec.MeanSize, spec.SizeCV)
	rep := powerReport{Reachable: true, Metric: metric, Baseline: spec.Baseline, Variance: spec.Variance, MDE: opts.MDE,
		Relative: !opts.Absolute, Alpha: opts.Alpha, Power: opts.Power, Alternative: alt, Variants: 2,
		Sequential: opts.Sequential, Clusters: cr}
	if metric == metrics.Proportion {
		rep.Variance = spec.Baseline * (1 - spec.Baseline)
	}
	k := opts.ClustersPerArm
	var err error
	if opts.Sequential {
		tuning := opts.TuningN
		if k > 0 && tuning == 0 {
			tuning = float64(2 * k)
		}
		if tuning > 0 {
			spec.Sequential = stats.Sequential{Enabled: true, TuningN: tuning}
		} else {
			// Fixed point N* = 2K, from the fixed-horizon plan.
			if k, err = spec.ClustersPerArm(opts.MDE, opts.Power); err != nil {
				return exitcode.Usagef(clusterPowerHint, "power: %v", err)
			}
			for range 30 {
				spec.Sequential = stats.Sequential{Enabled: true, TuningN: float64(2 * k)}
				m, err := spec.ClustersPerArm(opts.MDE, opts.Power)
				if err != nil {
					return exitcode.Usagef(clusterPowerHint, "power: %v", err)
				}
				if m == k {
					break
				}
				k = m
			}
			tuning = float64(2 * k)
			spec.Sequential = stats.Sequential{Enabled: true, TuningN: tuning}
		}
		rep.TuningN = &tuning
	}
	if k == 0 {
		if k, err = spec.ClustersPerArm(opts.MDE, opts.Power); err != nil {
			return exitcode.Usagef(clusterPowerHint, "power: %v", err)
		}
	}
	cr.PerArm = float64(k)
	if !math.IsNaN(opts.MDE) {
		if cr.PowerAt, err = spec.Power(opts.MDE, k); err != nil {
			return exitcode.Usagef(clusterPowerHint, "power: %v", err)
		}
	}
	if cr.MDEAt, err = spec.MDE(opts.Power, k); err != nil {
		cr.MDEAt = math.NaN()
	}
	cr.MeanDF = spec.MeanDF(k)
	perArm, total := float64(k), float64(2*k)
	if cr.Fixed {
		total = float64(len(spec.Sizes))
	}
	rep.PerArm, rep.Total = &perArm, &total
	if opts.JSON {
		if math.IsNaN(cr.MDEAt) {
			cr.MDEAt = 0
		}
		if math.IsNaN(rep.MDE) {
			rep.MDE = 0
		}
	}
	return writePower(stdout, rep, opts.JSON)
}

// fromRun fills spec from a past run: the metric's clusters (units.parquet,
// population all, both arms pooled), their sizes, the baseline, the per-row
// variance (means) and the intraclass correlation (stats.EstimateICC).
func fromRun(opts powerOptions, spec *stats.ClusterPowerSpec) (metrics.Type, error) {
	sp, err := experiment.Load(filepath.Join(opts.From, "experiment.yaml"))
	if err != nil {
		return "", err
	}
	acfg, err := sp.AnalysisConfig()
	if err != nil {
		return "", err
	}
	if acfg.ClusterCol == "" {
		return "", exitcode.Usagef(clusterPowerHint, "power: --from %s: the experiment randomizes conversations; plan it without --from", opts.From)
	}
	name := opts.Metric
	if name == "" {
		name = acfg.Primary
	}
	tbl, err := analysis.OpenTable(filepath.Join(opts.From, metrics.UnitsFile))
	if err != nil {
		return "", err
	}
	acfg.TriggeredCol = ""
	ct, err := analysis.ScanClusters(acfg, tbl)
	if err != nil {
		return "", err
	}
	for _, m := range ct.Metrics {
		if m.Name != name {
			continue
		}
		if m.Type == metrics.Quantile {
			return "", exitcode.Usagef(clusterPowerHint, "power: --metric %s is a quantile metric; plan a proportion, mean or ratio metric", name)
		}
		mean, rowVar, icc, err := stats.EstimateICC(m.Sums[0])
		if err != nil {
			return "", fmt.Errorf("power: --from %s, metric %s: %w", opts.From, name, err)
		}
		spec.Baseline, spec.ICC = mean, icc
		kind := metrics.Proportion
		if m.Type != metrics.Proportion {
			spec.Kind, spec.Variance, kind = stats.Mean, rowVar, metrics.Mean
		}
		for _, c := range m.Sums[0] {
			if c.D > 0 {
				spec.Sizes = append(spec.Sizes, c.D)
			}
		}
		return kind, nil
	}
	return "", exitcode.Usagef(clusterPowerHint, "power: --metric %q is not a metric of %s", name, opts.From)
}

// printClusterPower writes a cluster plan.
func printClusterPower(w io.Writer, r powerReport) {
	c := r.Clusters
	where := fmt.Sprintf("%.0f clusters per arm", c.PerArm)
	if c.Fixed {
		where = fmt.Sprintf("the %.0f clusters of %s (split at random)", *r.Total, c.From)
	}
	fmt.Fprintf(w, "cluster design: %s, %.1f rows per cluster on average (cv %.2f), intraclass correlation %.4f: design effect %.2f\n",
		where, c.MeanSize, c.SizeCV, c.ICC, c.DesignEffect)
	if r.MDE != 0 && !math.IsNaN(r.MDE) {
		fmt.Fprintf(w, "power at %s: %.3f\n", effectWords(r.MDE, r.Relative), c.PowerAt)
	}
	if !math.IsNaN(c.MDEAt) && c.MDEAt != 0 {
		fmt.Fprintf(w, "MDE at %g power: %s\n", r.Power, effectWords(c.MDEAt, r.Relative))
	}
	if !c.Fixed {
		fmt.Fprintf(w, "clusters per arm: %.0f (total %.0f)\n", c.PerArm, *r.Total)
	}
	fmt.Fprintf(w, "test: randomization or CR2, mean degrees of freedom %.1f\n", c.MeanDF)
	printPlan(w, r)
}

func effectWords(x float64, relative bool) string {
	if relative {
		return fmt.Sprintf("%+.3g%% relative", 100*x)
	}
	return fmt.Sprintf("%+g (absolute)", x)
}

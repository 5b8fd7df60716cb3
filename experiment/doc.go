// Package experiment owns the experiment spec (experiment.yaml) and the
// end-to-end run. No stage imports it: each stage takes its own typed
// configuration, and this package translates the spec into them.
//
//   - Load / Parse decode an experiment.yaml over the defaults (NewSpec),
//     field by field so that every YAML problem names its key path and line,
//     then validate it with each stage's own rules: assign.Config.Validate
//     (unit, salt, hash, variants, coverage, namespace, window, filters,
//     analysis.srm_alpha, analysis.segments), signal.Params.Validate
//     (signals:), metrics.Spec.Validate (metrics, primary, guardrails,
//     pre_period) and analysis.Options.Validate (the rest of analysis:).
//     Their errors (keyerr) carry the key, to which the loader adds the path
//     and the line: one owner and one validation per key.
//   - Spec.AssignConfig, Spec.MetricsSpec, Spec.AnalysisConfig and
//     Spec.Signals are the stages' configurations.
//   - Run runs replay → assign → metrics → analyze (→ report) into one
//     folder and writes manifest.json.
//
// See docs/experiment-spec.md and docs/pipeline.md.
package experiment

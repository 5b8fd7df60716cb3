// Package assign is deterministic cohort assignment by hashing
// (GrowthBook-compatible), exposure-log checks, and sample ratio mismatch
// (SRM) tests on randomization units.
//
// The pieces, in the order the pipeline uses them:
//
//   - Config is an experiment's assignment (unit, salt, hash, variants,
//     coverage, namespace, window, filters, SRM threshold and segments);
//     Config.Validate judges those keys. The experiment package builds it
//     from experiment.yaml.
//   - Bucket and Hash are the hashes (growthbook-v1, growthbook-v2, sha256);
//     GetBucketRanges, ChooseVariation, InNamespace and GetEqualWeights are
//     GrowthBook's float helpers, kept for cross-SDK vector checks.
//   - Assigner maps a unit id to an arm with integer bucket arithmetic that
//     agrees with GrowthBook's float comparisons on every bucket.
//   - Runner / Run / RunFile assign the randomization units of a replay's conversations
//     (window, filters, namespace, coverage, or an exposure log) and compute
//     the SRM test overall and per segment; WriteOutputs writes
//     assignments.parquet and assign.json.
//
// See docs/assignment.md and docs/experiment-spec.md.
package assign

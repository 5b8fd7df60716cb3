// Package analysis is the analyze stage: it reads a per-unit table
// (units.parquet from the metrics stage, or any Parquet or CSV table with a
// variant column and metric columns), accumulates sufficient statistics per
// variant × segment × population in one pass, runs package stats, applies
// the multiple-testing correction, and assembles results.json (package
// results) and results.parquet. See docs/metrics.md and docs/results-schema.md.
//
// When the randomization unit (a cluster column such as shop_id) is coarser
// than a row, every metric is analysed as the ratio of per-cluster sums,
//
//	Y_c = Σ_{rows in c} y,  N_c = #rows in c,  estimate = ΣY_c / ΣN_c,
//
// with the delta-method variance of a ratio of means (Deng, Knoblich & Lu
// 2018, "Applying the Delta Method in Metric Analytics", KDD), never a naive
// per-row test, which would understate the variance when outcomes within a
// cluster are correlated.
package analysis

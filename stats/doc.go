// Package stats is signalab's statistical engine. It works on sufficient
// statistics per arm, so it is equally fast on ten rows or ten billion and
// can analyse summary tables from a warehouse. Each estimator's doc comment
// states its formula, preconditions, special cases and a citation;
// docs/statistics.md explains the methods.
//
// # Inputs
//
// Per arm, accumulate one of (all are additive: Observe a unit, Add shards):
//
//   - Moments{N, Sum, SumSq}: mean and proportion metrics.
//   - RatioMoments{N, SumM, SumM2, SumD, SumD2, SumMD}: ratio metrics ΣM/ΣD,
//     one row per randomization unit; also the shop-clustered case (one row
//     per shop: M = its conversions, D = its conversations).
//   - CovariateMoments{N, SumY, SumY2, SumX, SumX2, SumXY}: CUPED for means.
//   - RatioCovariateMoments: CUPED for ratios (outcome M/D, covariate U/V,
//     all sums, squares and six cross-products).
//
// # Comparisons (treatment versus control)
//
//   - CompareMeans(control, treatment, Mean|Proportion, opts) Result
//   - CompareRatios(control, treatment, opts) Result
//   - CompareMeansCUPED / CompareRatiosCUPED (pooled θ; Result.Theta and
//     Result.VarianceReduction)
//   - CompareQuantiles (from per-arm quantile + outer CI, GrowthBook style)
//     and BootstrapQuantiles (seeded percentile bootstrap from raw values);
//     QuantileCI gives the distribution-free CI of a quantile from data.
//
// Options select α (default 0.05), the test (Welch default, Z,
// StudentPooled), the alternative (TwoSided, Greater, Less), a relative
// non-inferiority margin, the relative interval (DeltaCI default, FiellerCI,
// LogCI), asymptotic confidence sequences (Options.Sequential) and a Gaussian
// prior on the relative effect (Options.Bayesian → Result.Bayesian).
//
// Every Result is JSON-safe: degenerate inputs (empty arm, n < 2, zero
// variance, zero control mean, NaN or overflowing moments) give p = 1 and a
// Reason instead of NaN; an Interval writes infinite bounds as null.
//
// # Families, planning and checks
//
//   - Holm, Hochberg, HolmSidak, HochbergSidak, Bonferroni,
//     BenjaminiHochberg, BenjaminiYekutieli; AdjustedCI; Adjust (in place on
//     a family of Results).
//   - PowerSpec.SampleSize, Power and MDE for proportion and mean metrics,
//     fixed-horizon or sequential.
//   - GroupSequentialBounds: nominal levels of planned looks under α-spending.
//   - SRM (χ² goodness of fit), SampleRatioZ, and exact and likelihood-ratio
//     tests of a 2×2 table (FisherExact, BarnardExact, BoschlooExact, GTest,
//     BinomialTest).
//   - MomentsFromSummary turns (count, mean, variance) rows into Moments.
package stats

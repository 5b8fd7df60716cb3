// Package results defines results.json, the versioned output of the analyze
// stage that the report stage reads (docs/results-schema.md), and the flat
// row of results.parquet.
//
// Every number is a Num: a float64 that is written as JSON null when it is
// not finite (an undefined p-value, an interval of a degenerate arm), and
// read back from null as NaN. A row that could not be computed carries a
// Reason.
package results

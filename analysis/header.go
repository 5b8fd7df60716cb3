package analysis

import (
	"encoding/csv"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/signalab/signalab/internal/columnar"
)

// Header returns the column names of the table at path (a CSV header row,
// or a Parquet schema).
func Header(path string) ([]string, error) {
	if !strings.HasSuffix(strings.ToLower(path), ".csv") {
		return columnar.Names(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	h, err := csv.NewReader(f).Read()
	if err != nil {
		return nil, fmt.Errorf("read %s: header row: %w", path, err)
	}
	for i := range h {
		h[i] = strings.TrimSpace(strings.TrimPrefix(h[i], "\ufeff"))
	}
	return h, nil
}

// summaryWords are the name parts of summary-statistic columns: a count or
// a mean beside a spread.
var (
	summaryLevel  = []string{"count", "n", "mean", "avg", "average", "sum"}
	summarySpread = []string{"variance", "var", "std", "stddev", "sd", "sumsq", "sum_sq", "stdev"}
)

// nameParts splits a column name into its lowercase words (on _ - . and
// spaces); "sum_sq" also counts as one word.
func nameParts(name string) []string {
	n := strings.ToLower(name)
	parts := strings.FieldsFunc(n, func(r rune) bool { return r == '_' || r == '-' || r == '.' || r == ' ' })
	if strings.Contains(n, "sum_sq") {
		parts = append(parts, "sum_sq")
	}
	return parts
}

func hasPart(name string, words []string) bool {
	for _, p := range nameParts(name) {
		if slices.Contains(words, p) {
			return true
		}
	}
	return false
}

// SummaryHint returns a message when a table given as per-unit looks like
// summary statistics instead (one row per arm or group, not per unit): a
// metric column read is a count or mean (count_c, mean_t) while the table
// also has a spread column (variance_c, std). Analysing such rows as units
// would treat each arm's summary as one unit. It returns "" otherwise.
func SummaryHint(header []string, metricCols []string) string {
	var level, spread []string
	for _, c := range metricCols {
		if hasPart(c, summaryLevel) {
			level = append(level, c)
		}
	}
	for _, c := range header {
		if hasPart(c, summarySpread) {
			spread = append(spread, c)
		}
	}
	if len(level) == 0 || len(spread) == 0 {
		return ""
	}
	return fmt.Sprintf("the table looks like summary statistics, not one row per unit: it analyses %s beside %s; "+
		"rows of counts, means and variances per arm analysed as units give meaningless results. "+
		"Analyse it with --summary (columns n, mean and variance per arm, or n, sum and sum_sq; docs/metrics.md, Summary tables)",
		strings.Join(level, ", "), strings.Join(spread, ", "))
}

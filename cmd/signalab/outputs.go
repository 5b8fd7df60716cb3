package main

import (
	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/internal/outdir"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/synth"
)

// The output set of each command that writes into an --out folder: the
// files it replaces as one unit (internal/outdir). signalab run's set is
// experiment.RunOutputs, the replay's experiment.ReplayOutputs.
var (
	assignOutputs   = []string{assign.AssignmentsFile, assign.SummaryFile}
	metricsOutputs  = []string{metrics.UnitsFile, metrics.SummaryFile}
	analyzeOutputs  = []string{analysis.ResultsJSON, analysis.ResultsParquet}
	generateOutputs = []string{synth.EventsFile, synth.TruthFile}
	goldenOutputs   = []string{output.GoldenSignalsFile, output.GoldenConversationsFile, output.GoldenOrdersFile, output.GoldenSessionsFile, output.GoldenCountsFile}
	aaOutputs       = []string{results.AAFile}
	// demo's set is a run's plus the generated log (its events.parquet
	// and truth.json in generated/).
	demoOutputs = append(append([]string(nil), experiment.RunOutputs...), demoGenerated)
)

// demoGenerated is the folder of signalab demo's generated log (and of
// live demo's, when it generates one).
const demoGenerated = "generated"

// beginOutputs starts replacing the command's output set in out
// (internal/outdir): it takes out's lock first, so a second writer fails
// at once (exit 2) before reading anything. The command writes into
// tx.Dir, then calls tx.Commit; a deferred tx.Abort undoes a failed run. A
// crash leaves the old set whole, and a later run removes what the crash
// left (docs/limits.md).
func beginOutputs(out, command string, owned []string) (*outdir.Tx, error) {
	return outdir.Begin(out, command, owned)
}

// replaceOutputs is beginOutputs, write and Commit in one call.
func replaceOutputs(out, command string, owned []string, write func(dir string) error) error {
	tx, err := beginOutputs(out, command, owned)
	if err != nil {
		return err
	}
	defer tx.Abort()
	if err := write(tx.Dir); err != nil {
		return err
	}
	return tx.Commit()
}

package beamreplay

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/replay"
)

// The output files are written with the embedded engine's writer
// (replay.WriteOutputFile: atomicfile, replay.OutputWriterOptions), so the
// compression, row-group size and created_by cannot drift from `signalab
// replay`'s; the parity test compares the files byte for byte.

// writeMergedTable k-way merges sorted shards into one Parquet file at path,
// streaming, and returns the row count.
func writeMergedTable[T any](path string, shards []string, compare func(a, b T) int) (int, error) {
	n := 0
	err := replay.WriteOutputFile(path, func(pw *parquet.GenericWriter[T]) error {
		return mergeShards(shards, compare, replay.OutputRowGroupRows, func(rows []T) error {
			n += len(rows)
			_, err := pw.Write(rows)
			return err
		})
	})
	return n, err
}

// writeTable writes rows (sorted) like the embedded engine: 128 Ki rows per call.
func writeTable[T any](path string, rows []T) error {
	return replay.WriteOutputFile(path, func(pw *parquet.GenericWriter[T]) error {
		for len(rows) > 0 {
			k := min(len(rows), replay.OutputRowGroupRows)
			if _, err := pw.Write(rows[:k]); err != nil {
				return err
			}
			rows = rows[k:]
		}
		return nil
	})
}

// compareQuarantineRows is the order of quarantine.parquet (replay's
// Outputs.Sort): input path, then row.
func compareQuarantineRows(a, b replay.QuarantineRow) int {
	if c := strings.Compare(a.File, b.File); c != 0 {
		return c
	}
	return cmp.Compare(a.Row, b.Row)
}

// writeOutputs writes the final outputs from the merged manifests into out:
// every file first into a staging folder, then all renamed into place, as
// the embedded engine does, so a failed merge leaves the previous outputs.
//
// An output URL is staged in a local temporary folder and each file uploaded
// at the end (one object at a time: object stores have no folder rename).
func writeOutputs(out string, all *merged, info *runInfo) error {
	stageIn := out
	if IsURL(out) {
		stageIn = ""
	}
	stage, err := os.MkdirTemp(stageIn, ".staging-")
	if err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	defer os.RemoveAll(stage)

	var rows replay.OutputRowCounts
	if rows.Signals, err = writeMergedTable(filepath.Join(stage, replay.SignalsFile), all.signals, replay.CompareSignals); err != nil {
		return err
	}
	if rows.Conversations, err = writeMergedTable(filepath.Join(stage, replay.ConversationsFile), all.conversations, replay.CompareConversations); err != nil {
		return err
	}
	if rows.Orders, err = writeMergedTable(filepath.Join(stage, replay.OrdersFile), all.orders, replay.CompareOrders); err != nil {
		return err
	}
	var quar []replay.QuarantineRow
	for _, p := range all.quarantine {
		qs, err := readQuarantineShard(p)
		if err != nil {
			return err
		}
		for _, q := range qs {
			quar = append(quar, replay.QuarantineRowOf(q))
		}
	}
	slices.SortFunc(quar, compareQuarantineRows)
	rows.Quarantine = len(quar)
	if err := writeTable(filepath.Join(stage, replay.QuarantineFile), quar); err != nil {
		return err
	}

	order, err := replay.ParseOrder(info.Order)
	if err != nil {
		return err
	}
	sum := replay.NewSummary(info.Params, order, &all.counts, nil)
	sum.Outputs = rows
	sum.ToolVersion = info.Meta.ToolVersion
	sum.Inputs = make([]replay.InputFile, len(info.Files))
	byPath := map[string]replay.InputFile{}
	for _, in := range all.inputs {
		byPath[in.Path] = in
	}
	for i, f := range info.Files {
		in, ok := byPath[f.Path]
		if !ok {
			return fmt.Errorf("merge: no checksum for input %s (a read step did not report)", f.Path)
		}
		sum.Inputs[i] = in
	}
	el := time.Since(time.UnixMicro(info.Meta.StartedAt)).Seconds()
	sum.ElapsedSeconds = roundTo(el, 3)
	if el > 0 {
		sum.EventsPerSecond = roundTo(float64(all.counts.Read)/el, 0)
	}
	b, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", replay.SummaryFile, err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(stage, replay.SummaryFile), append(b, '\n')); err != nil {
		return err
	}
	for _, n := range []string{replay.SignalsFile, replay.ConversationsFile, replay.OrdersFile, replay.QuarantineFile, replay.SummaryFile} {
		if IsURL(out) {
			if err := upload(filepath.Join(stage, n), joinPath(out, n)); err != nil {
				return err
			}
			continue
		}
		if err := os.Rename(filepath.Join(stage, n), filepath.Join(out, n)); err != nil {
			return fmt.Errorf("move %s into %s: %w", n, out, err)
		}
	}
	return nil
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

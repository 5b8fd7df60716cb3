package beamreplay

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
)

// The output files are written with the writer every engine uses
// (output.WriteFile: atomicfile, output.WriterOptions), so the compression,
// row-group size and created_by cannot drift from `signalab replay`'s; the
// parity test compares the files byte for byte.

// writeMergedTable k-way merges sorted shards into one Parquet file at path,
// streaming, and returns the row count.
func writeMergedTable[T any](path string, shards []string, compare func(a, b T) int) (int, error) {
	n := 0
	err := output.WriteFile(path, func(pw *parquet.GenericWriter[T]) error {
		return mergeShards(shards, compare, output.RowGroupRows, func(rows []T) error {
			n += len(rows)
			_, err := pw.Write(rows)
			return err
		})
	})
	return n, err
}

// writeTable writes rows (sorted) like the embedded engine: 128 Ki rows per call.
func writeTable[T any](path string, rows []T) error {
	return output.WriteFile(path, func(pw *parquet.GenericWriter[T]) error {
		for len(rows) > 0 {
			k := min(len(rows), output.RowGroupRows)
			if _, err := pw.Write(rows[:k]); err != nil {
				return err
			}
			rows = rows[k:]
		}
		return nil
	})
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

	var rows output.RowCounts
	if rows.Signals, err = writeMergedTable(filepath.Join(stage, output.SignalsFile), all.signals, output.CompareSignals); err != nil {
		return err
	}
	if rows.Conversations, err = writeMergedTable(filepath.Join(stage, output.ConversationsFile), all.conversations, output.CompareConversations); err != nil {
		return err
	}
	if rows.Orders, err = writeMergedTable(filepath.Join(stage, output.OrdersFile), all.orders, output.CompareOrders); err != nil {
		return err
	}
	names := []string{output.SignalsFile, output.ConversationsFile, output.OrdersFile, output.QuarantineFile, output.SummaryFile}
	if info.Sessions {
		n, err := writeMergedTable(filepath.Join(stage, output.SessionsFile), all.sessions, output.CompareSessions)
		if err != nil {
			return err
		}
		rows.Sessions = &n
		names = append(names, output.SessionsFile)
	}
	var quar []output.QuarantineRow
	for _, p := range all.quarantine {
		qs, err := readQuarantineShard(p)
		if err != nil {
			return err
		}
		for _, q := range qs {
			quar = append(quar, output.QuarantineRowOf(q))
		}
	}
	output.SortQuarantine(quar)
	rows.Quarantine = len(quar)
	if err := writeTable(filepath.Join(stage, output.QuarantineFile), quar); err != nil {
		return err
	}

	order, err := replay.ParseOrder(info.Order)
	if err != nil {
		return err
	}
	sum := output.NewSummary(info.Params, order, &all.counts, nil)
	sum.Outputs = rows
	sum.ToolVersion = info.Meta.ToolVersion
	sum.Inputs = make([]output.InputFile, len(info.Files))
	byPath := map[string]output.InputFile{}
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
		return fmt.Errorf("encode %s: %w", output.SummaryFile, err)
	}
	if err := atomicfile.WriteBytes(filepath.Join(stage, output.SummaryFile), append(b, '\n')); err != nil {
		return err
	}
	for _, n := range names {
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

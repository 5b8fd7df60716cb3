package synth

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/atomicfile"
)

// File names written by WriteDir.
const (
	EventsFile = "events.parquet"
	TruthFile  = "truth.json"
)

// WriteDir generates the log of cfg into dir/events.parquet (the v1 Parquet
// schema, rows in arrival order) and writes dir/truth.json. Both files are
// written atomically. progress, when not nil, is called with the number of
// rows written so far after each batch.
func WriteDir(ctx context.Context, cfg Config, dir string, progress func(rows int64)) (*Truth, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var truth *Truth
	path := filepath.Join(dir, EventsFile)
	err := atomicfile.Write(path, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		pw, err := event.NewParquetWriter(bw)
		if err != nil {
			return err
		}
		var rows int64
		truth, err = Generate(ctx, cfg, func(b []event.Event) error {
			if err := pw.Write(b); err != nil {
				return err
			}
			rows += int64(len(b))
			if progress != nil {
				progress(rows)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := pw.Close(); err != nil {
			return err
		}
		return bw.Flush()
	})
	if err != nil {
		return nil, err
	}
	if err := WriteTruth(filepath.Join(dir, TruthFile), truth); err != nil {
		return nil, err
	}
	return truth, nil
}

// WriteTruth writes t as indented JSON to path, atomically.
func WriteTruth(path string, t *Truth) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode truth: %w", err)
	}
	return atomicfile.WriteBytes(path, append(b, '\n'))
}

// ReadTruth reads a truth.json written by WriteDir.
func ReadTruth(r io.Reader) (*Truth, error) {
	var t Truth
	if err := json.NewDecoder(r).Decode(&t); err != nil {
		return nil, fmt.Errorf("decode truth: %w", err)
	}
	return &t, nil
}

package beamreplay

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/event"
)

// Split is one unit of reading work: a whole text file, or a range of row
// groups of a Parquet file. Splits are planned once, on the machine that
// launches the pipeline, and shipped to workers as JSON.
type Split struct {
	// Path is the input file; workers open it by this name, so it must be
	// readable from every worker (see docs/scale-out.md).
	Path string `json:"path"`
	// File is the file's ordinal among all inputs (event.Event.File).
	File int32 `json:"file"`
	// Format is the event format of the file, Gzip whether it is gzipped.
	Format event.Format `json:"format"`
	Gzip   bool         `json:"gzip,omitempty"`
	// RowGroupStart and RowGroupEnd bound the Parquet row groups [start, end)
	// of this split; both are 0 for a whole file.
	RowGroupStart int `json:"rg_start,omitempty"`
	RowGroupEnd   int `json:"rg_end,omitempty"`
	// FirstRow is the 1-based row number (event.Event.Row) of the split's
	// first row within its file.
	FirstRow int64 `json:"first_row"`
	// Rows is the number of rows in the split, or -1 when unknown (text).
	Rows int64 `json:"rows"`
	// FileSize is the size of the whole file in bytes.
	FileSize int64 `json:"file_size"`
}

// Whole reports whether the split covers its whole file.
func (s Split) Whole() bool { return s.RowGroupEnd == 0 }

// PlanSplits resolves paths with event.ResolvePaths (files, folders, globs:
// the same expansion and file ordinals as the embedded engine; URLs of a Beam
// file system are expanded alike, see resolveURL) and cuts each file into
// splits. Objects behind URLs are always whole-file splits. A Parquet file is cut at row-group boundaries into splits
// of about targetRows rows (at least one row group each) when rowGroupSplits
// is true, else kept whole, like every text file. targetRows ≤ 0 means one
// split per row group.
func PlanSplits(paths []string, targetRows int64, rowGroupSplits bool) ([]event.FileInfo, []Split, error) {
	files, err := resolveInputs(context.Background(), paths)
	if err != nil {
		return nil, nil, err
	}
	var splits []Split
	for i, f := range files {
		whole := Split{Path: f.Path, File: int32(i), Format: f.Format, Gzip: f.Gzip, FirstRow: 1, Rows: -1, FileSize: f.Size}
		if f.Format != event.FormatParquet || !rowGroupSplits || IsURL(f.Path) {
			splits = append(splits, whole)
			continue
		}
		groups, err := rowGroupRows(f.Path)
		if err != nil {
			return nil, nil, err
		}
		if len(groups) <= 1 {
			if len(groups) == 1 {
				whole.Rows = groups[0]
			}
			splits = append(splits, whole)
			continue
		}
		first := int64(1)
		for start := 0; start < len(groups); {
			end, rows := start, int64(0)
			for end < len(groups) && (end == start || rows+groups[end] <= targetRows) {
				rows += groups[end]
				end++
			}
			splits = append(splits, Split{Path: f.Path, File: int32(i), Format: f.Format,
				RowGroupStart: start, RowGroupEnd: end, FirstRow: first, Rows: rows, FileSize: f.Size})
			first += rows
			start = end
		}
	}
	return files, splits, nil
}

// rowGroupRows returns the row count of each row group of a Parquet file,
// from its footer.
func rowGroupRows(path string) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read events %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read events %s: %w", path, err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("read events %s: not a readable Parquet file: %w", path, err)
	}
	var out []int64
	for _, rg := range pf.RowGroups() {
		out = append(out, rg.NumRows())
	}
	return out, nil
}

// EncodeSplit and DecodeSplit move a Split through the pipeline as a string.
func EncodeSplit(s Split) string {
	b, _ := json.Marshal(s) // a Split always marshals
	return string(b)
}

// DecodeSplit is the inverse of EncodeSplit.
func DecodeSplit(s string) (Split, error) {
	var sp Split
	if err := json.Unmarshal([]byte(s), &sp); err != nil {
		return sp, fmt.Errorf("decode split %q: %w", s, err)
	}
	return sp, nil
}

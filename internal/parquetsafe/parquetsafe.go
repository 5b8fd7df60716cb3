// Package parquetsafe reads record batches from Parquet files with arrow-go
// so that a corrupt file is an error, never a crash: the columns of a batch
// are decoded in parallel on goroutines of this package (never on arrow-go's
// own, whose panics nothing can recover), each of which turns a panic of the
// decoder into an error naming the file and row group. docs/limits.md
// states the guarantee; every Parquet reader of signalab goes through it or
// recovers on its own goroutines.
package parquetsafe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// RecordReader reads the batches of some columns of some row groups. With
// more than one column group, each group is read by its own pqarrow record
// reader on its own goroutine, and the batches are zipped into one.
type RecordReader struct {
	name   string
	groups []pqarrow.RecordReader
	rg     string // the row groups, for messages
	rec    arrow.RecordBatch
	parts  []arrow.RecordBatch
	errs   []error
	done   bool
}

// NewRecordReader reads the leaf columns of leafGroups (each group one or
// more whole top-level columns; an empty group is skipped) from the row
// groups rowGroups (nil: all) of fr. fr.Props.Parallel must be false: the
// groups are the parallelism. name starts every error message (for
// example "read events logs/a.parquet").
func NewRecordReader(ctx context.Context, name string, fr *pqarrow.FileReader, leafGroups [][]int, rowGroups []int) (r *RecordReader, err error) {
	if fr.Props.Parallel {
		return nil, errors.New("parquetsafe: the file reader must not decode in parallel itself")
	}
	r = &RecordReader{name: name, rg: rowGroupText(rowGroups)}
	defer func() {
		if p := recover(); p != nil {
			r.Release()
			r, err = nil, r.corrupt(p)
		}
	}()
	for _, g := range leafGroups {
		if len(g) == 0 {
			continue
		}
		rr, err := fr.GetRecordReader(ctx, g, rowGroups)
		if err != nil {
			r.Release()
			return nil, fmt.Errorf("%s: %s: %v; the file may be corrupt: write it again", name, r.rg, err)
		}
		r.groups = append(r.groups, rr)
	}
	r.parts = make([]arrow.RecordBatch, len(r.groups))
	r.errs = make([]error, len(r.groups))
	return r, nil
}

func rowGroupText(rgs []int) string {
	if len(rgs) == 1 {
		return fmt.Sprintf("row group %d", rgs[0])
	}
	return "row groups"
}

func (r *RecordReader) corrupt(p any) error {
	return fmt.Errorf("%s: %s: corrupt Parquet data (%v); write the file again", r.name, r.rg, p)
}

// Next returns the next batch, io.EOF after the last, or an error (a
// decoder panic included). The batch is valid until the next call.
func (r *RecordReader) Next() (arrow.RecordBatch, error) {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	if r.done || len(r.groups) == 0 {
		return nil, io.EOF
	}
	more := make([]bool, len(r.groups))
	read := func(i int) {
		defer func() {
			if p := recover(); p != nil {
				r.errs[i] = r.corrupt(p)
			}
		}()
		r.parts[i], r.errs[i] = nil, nil
		if more[i] = r.groups[i].Next(); more[i] {
			r.parts[i] = r.groups[i].RecordBatch()
		} else if err := r.groups[i].Err(); err != nil && !errors.Is(err, io.EOF) {
			r.errs[i] = fmt.Errorf("%s: %s: %v; the file may be corrupt: write it again", r.name, r.rg, err)
		}
	}
	if len(r.groups) == 1 {
		read(0)
	} else {
		var wg sync.WaitGroup
		for i := range r.groups {
			wg.Add(1)
			go func() { defer wg.Done(); read(i) }()
		}
		wg.Wait()
	}
	if err := errors.Join(r.errs...); err != nil {
		r.done = true
		return nil, err
	}
	n := 0
	for _, m := range more {
		if m {
			n++
		}
	}
	switch {
	case n == 0:
		r.done = true
		return nil, io.EOF
	case n < len(more):
		r.done = true
		return nil, fmt.Errorf("%s: %s: columns end at different rows; the file is corrupt: write it again", r.name, r.rg)
	}
	if len(r.parts) == 1 {
		r.rec = r.parts[0]
		r.rec.Retain()
		return r.rec, nil
	}
	rows := r.parts[0].NumRows()
	var fields []arrow.Field
	var cols []arrow.Array
	for _, p := range r.parts {
		if p.NumRows() != rows {
			r.done = true
			return nil, fmt.Errorf("%s: %s: columns have different row counts in one batch (%d, %d); the file is corrupt: write it again", r.name, r.rg, rows, p.NumRows())
		}
		fields = append(fields, p.Schema().Fields()...)
		cols = append(cols, p.Columns()...)
	}
	r.rec = array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, rows)
	return r.rec, nil
}

// Release frees the readers.
func (r *RecordReader) Release() {
	if r.rec != nil {
		r.rec.Release()
		r.rec = nil
	}
	for _, g := range r.groups {
		g.Release()
	}
	r.groups = nil
}

// Split divides columns (each a list of leaf indices of one top-level
// column) into at most k groups of whole columns, round robin.
func Split(columns [][]int, k int) [][]int {
	k = max(1, min(k, len(columns)))
	out := make([][]int, k)
	for i, c := range columns {
		out[i%k] = append(out[i%k], c...)
	}
	return out
}

// MulSat returns v·k (k > 0) saturated at the int64 limits instead of
// wrapping around: a timestamp scaled to microseconds (k = 1000 from
// milliseconds, 10⁶ from seconds) that wrapped could land in the valid
// range, a saturated one is refused by the readers' range check.
func MulSat(v, k int64) int64 {
	switch {
	case v > math.MaxInt64/k:
		return math.MaxInt64
	case v < math.MinInt64/k:
		return math.MinInt64
	}
	return v * k
}

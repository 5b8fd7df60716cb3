// Package columnar reads named top-level columns of a Parquet file in record
// batches, with typed accessors that accept whichever physical type a writer
// chose. It is the general reader of the per-row tables signalab writes and
// reads back (conversations, orders, assignments, signals, units): metrics
// builds the unit table with it and analysis reads the unit table with it.
//
// The event reader (event/parquet_reader.go) does not use it: it decodes the
// fixed v1 event schema on its hot path with specialised per-column readers
// (string arenas, interning, parallel row groups). What the two share is the
// choice to read dictionary-encoded string columns as Arrow dictionaries and
// the conversion of a timestamp's unit to µs; see Column.Micros for the one
// difference (nanoseconds are truncated here, floored there).
//
// Use:
//
//	err := columnar.Scan(path, []string{"unit_id", "m_revenue"}, nil,
//		func(cols []*columnar.Column, rows int, first int64) error {
//			for i := range rows {
//				v, ok := cols[1].Float(i) // row first+i of the file
//				...
//			}
//			return nil
//		})
package columnar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/signalab/signalab/internal/parquetsafe"
	"github.com/signalab/signalab/internal/safeio"
)

// BatchRows is the number of rows per record batch that Scan hands to its
// callback (the last batch may be shorter).
const BatchRows = 64 << 10

// ErrMissingColumn is wrapped by Scan (and by other table readers that follow
// its convention) when a required column is absent.
var ErrMissingColumn = errors.New("missing column")

// Scan streams the named top-level columns of a Parquet file in record
// batches of BatchRows (read with arrow-go's pqarrow, which decodes only the
// requested column chunks). fn gets one Column per name, in the order asked,
// and the batch's row count; first is the 1-based file row of the batch's
// first row. Optional columns (names in optional) that are absent come as nil;
// a required one that is absent is an error wrapping ErrMissingColumn that
// lists the file's columns. An error returned by fn ends the scan and is
// returned as is. The Columns passed to fn are valid only during that call.
// Batches are decoded one ahead of fn on another goroutine, and the column
// chunks of a batch in parallel (on goroutines of internal/parquetsafe). A
// corrupt file is an error naming it (and the row group), never a panic:
// decoder panics are recovered on every goroutine that decodes.
func Scan(path string, names []string, optional map[string]bool, fn func(cols []*Column, rows int, first int64) error) (err error) {
	// Setup (footer, schema, dictionaries) runs on this goroutine.
	decoding := true
	defer func() {
		if p := recover(); p != nil {
			if !decoding {
				panic(p) // a panic of fn is not the file's fault
			}
			err = fmt.Errorf("read %s: corrupt Parquet file (%v); write it again", path, p)
		}
	}()
	f, err := safeio.Open(path)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return fmt.Errorf("read %s: not a Parquet file: %w", path, err)
	}
	defer pf.Close()
	sc := pf.MetaData().Schema
	props := pqarrow.ArrowReadProperties{BatchSize: BatchRows} // parallel by parquetsafe, not by arrow-go
	// Read dictionary-encoded string columns as dictionaries: decoding
	// skips materialising every value, and Column.String indexes the
	// dictionary. (Plain-encoded ones stay plain: building a dictionary of
	// unique ids would cost a hash lookup per value.)
	for _, n := range names {
		if j := sc.ColumnIndexByName(n); j >= 0 && sc.Column(j).PhysicalType() == parquet.Types.ByteArray && dictEncoded(pf, j) {
			props.SetReadDict(j, true)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, props, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	var idx []int
	present := make([]bool, len(names))
	for i, n := range names {
		j := sc.ColumnIndexByName(n)
		if j < 0 {
			if optional[n] {
				continue
			}
			return fmt.Errorf("read %s: column %q: %w (have: %s)", path, n, ErrMissingColumn, strings.Join(columnNames(pf), ", "))
		}
		present[i] = true
		idx = append(idx, j)
	}
	if pf.NumRows() == 0 || len(idx) == 0 {
		return nil
	}
	perColumn := make([][]int, len(idx))
	for i, j := range idx {
		perColumn[i] = []int{j}
	}
	rr, err := parquetsafe.NewRecordReader(context.Background(), "read "+path, fr, parquetsafe.Split(perColumn, runtime.GOMAXPROCS(0)), nil)
	if err != nil {
		return err
	}
	defer rr.Release()
	// Decode the next batch while fn works on the current one: a producer
	// goroutine owns the reader and hands over retained batches.
	batches := make(chan arrow.RecordBatch, 1)
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(batches)
		for {
			rec, err := rr.Next() // recovers decoder panics into err
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
			rec.Retain()
			select {
			case batches <- rec:
			case <-done:
				rec.Release()
				return
			}
		}
	}()
	decoding = false
	defer func() {
		close(done)
		for rec := range batches { // drain so the producer exits
			rec.Release()
		}
	}()
	cols := make([]*Column, len(names))
	var first int64 = 1
	for rec := range batches {
		err := func() error {
			defer rec.Release()
			for i, n := range names {
				cols[i] = nil
				if !present[i] {
					continue
				}
				k := rec.Schema().FieldIndices(n)
				if len(k) == 0 {
					return fmt.Errorf("read %s: column %q not decoded", path, n)
				}
				cols[i] = &Column{Name: n, arr: rec.Column(k[0])}
			}
			rows := int(rec.NumRows())
			if err := fn(cols, rows, first); err != nil {
				return err
			}
			first += int64(rows)
			return nil
		}()
		if err != nil {
			return err
		}
	}
	if readErr != nil {
		return readErr
	}
	return nil
}

// dictEncoded reports whether column j is dictionary-encoded in the first
// row group.
func dictEncoded(pf *file.Reader, j int) bool {
	if pf.NumRowGroups() == 0 {
		return false
	}
	cc, err := pf.MetaData().RowGroup(0).ColumnChunk(j)
	return err == nil && cc.HasDictionaryPage()
}

func columnNames(pf *file.Reader) []string {
	sc := pf.MetaData().Schema
	out := make([]string, sc.NumColumns())
	for i := range out {
		out[i] = sc.Column(i).Path()
	}
	return out
}

// Column is one decoded column of a record batch with typed accessors that
// accept any of the physical types a writer may have chosen (int32/int64,
// timestamp, float, bool, string, dictionary-encoded strings).
type Column struct {
	Name string
	arr  arrow.Array
}

// Null reports whether row i is null.
func (c *Column) Null(i int) bool { return c.arr.IsNull(i) }

// String returns row i as a string ("" when null).
func (c *Column) String(i int) string {
	if c.arr.IsNull(i) {
		return ""
	}
	switch a := c.arr.(type) {
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Binary:
		return string(a.Value(i))
	case *array.Dictionary:
		j := a.GetValueIndex(i)
		switch d := a.Dictionary().(type) {
		case *array.String:
			return d.Value(j)
		case *array.Binary:
			return string(d.Value(j))
		case *array.LargeString:
			return d.Value(j)
		}
		return a.Dictionary().ValueStr(j)
	default:
		return a.ValueStr(i)
	}
}

// Int returns row i as an int64 (timestamps in their stored unit). ok is
// false when the row is null or not an integer.
func (c *Column) Int(i int) (int64, bool) {
	if c.arr.IsNull(i) {
		return 0, false
	}
	switch a := c.arr.(type) {
	case *array.Int64:
		return a.Value(i), true
	case *array.Int32:
		return int64(a.Value(i)), true
	case *array.Int16:
		return int64(a.Value(i)), true
	case *array.Int8:
		return int64(a.Value(i)), true
	case *array.Uint32:
		return int64(a.Value(i)), true
	case *array.Uint64:
		return int64(a.Value(i)), true
	case *array.Timestamp:
		return int64(a.Value(i)), true
	case *array.Boolean:
		if a.Value(i) {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Micros returns a timestamp column's row i in µs since the epoch, converting
// from the column's unit (nanoseconds are divided by 1000 truncating toward
// zero, so a nanosecond time before 1970 rounds up; the event reader floors
// instead). An integer column is taken as µs already. ok is false when null
// or not a timestamp/integer.
func (c *Column) Micros(i int) (int64, bool) {
	v, ok := c.Int(i)
	if !ok {
		return 0, false
	}
	if ts, isTS := c.arr.DataType().(*arrow.TimestampType); isTS {
		switch ts.Unit {
		case arrow.Second:
			v = parquetsafe.MulSat(v, 1e6)
		case arrow.Millisecond:
			v = parquetsafe.MulSat(v, 1e3)
		case arrow.Nanosecond:
			v /= 1e3
		}
	}
	return v, true
}

// Bool returns row i as a bool: a boolean, or a number (from a numeric
// column, or a string read by ParseNumber, so true/True/TRUE and false too)
// that is true when non-zero. ok is false when null or unreadable.
func (c *Column) Bool(i int) (bool, bool) {
	if c.arr.IsNull(i) {
		return false, false
	}
	if b, ok := c.arr.(*array.Boolean); ok {
		return b.Value(i), true
	}
	f, ok := c.Float(i)
	if !ok {
		return false, false
	}
	return f != 0, true
}

// Float returns row i as a float64. Booleans read as 0/1 and strings are
// parsed with ParseNumber. ok is false when null or not a number.
func (c *Column) Float(i int) (float64, bool) {
	if c.arr.IsNull(i) {
		return 0, false
	}
	switch a := c.arr.(type) {
	case *array.Float64:
		v := a.Value(i)
		return v, !math.IsNaN(v)
	case *array.Float32:
		v := float64(a.Value(i))
		return v, !math.IsNaN(v)
	case *array.String, *array.LargeString, *array.Dictionary, *array.Binary:
		return ParseNumber(c.String(i))
	}
	v, ok := c.Int(i)
	return float64(v), ok
}

// ParseNumber reads a metric value written as text: a decimal number, or a
// boolean written 0/1, true/false, True/False, TRUE/FALSE (as 1 and 0).
// ok is false for anything else, including the empty string.
func ParseNumber(s string) (float64, bool) {
	switch s {
	case "true", "True", "TRUE":
		return 1, true
	case "false", "False", "FALSE":
		return 0, true
	case "":
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// Float64s returns the column's values when it is a float64 column without
// nulls (a fast path for hot loops), else nil.
func (c *Column) Float64s() []float64 {
	if a, ok := c.arr.(*array.Float64); ok && a.NullN() == 0 {
		return a.Float64Values()
	}
	return nil
}

// DictCodes returns the dictionary indices of a dictionary-encoded column
// with int32 indices and no nulls (a fast path: equal codes within one batch
// mean equal strings), else nil.
func (c *Column) DictCodes() []int32 {
	if a, ok := c.arr.(*array.Dictionary); ok && a.NullN() == 0 {
		if ix, ok := a.Indices().(*array.Int32); ok {
			return ix.Int32Values()
		}
	}
	return nil
}

// Names returns the column names of the Parquet file at path, in schema
// order.
func Names(path string) (names []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			names, err = nil, fmt.Errorf("read %s: corrupt Parquet file (%v); write it again", path, p)
		}
	}()
	f, err := safeio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	pf, err := file.NewParquetReader(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: not a Parquet file: %w", path, err)
	}
	defer pf.Close()
	return columnNames(pf), nil
}

package analysis

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/signalab/signalab/internal/columnar"

	"github.com/signalab/signalab/internal/safeio"
)

// Col reads one column of a batch of rows.
type Col interface {
	Null(i int) bool
	String(i int) string
	Float(i int) (float64, bool)
	Micros(i int) (int64, bool)
	Bool(i int) (bool, bool)
}

// Table is a per-unit table read in batches of rows.
type Table interface {
	// Scan calls fn for each batch with one Col per name (nil for an absent
	// optional column); first is the 1-based row number of the batch's
	// first row.
	Scan(names []string, optional map[string]bool, fn func(cols []Col, rows int, first int64) error) error
	// Path names the table in error messages.
	Path() string
}

// OpenTable returns the table at path: Parquet for *.parquet, else CSV with
// a header row.
func OpenTable(path string) (Table, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open unit table: %w", err)
	}
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		return csvTable{path}, nil
	}
	return parquetTable{path}, nil
}

type parquetTable struct{ path string }

func (t parquetTable) Path() string { return t.path }

func (t parquetTable) Scan(names []string, optional map[string]bool, fn func([]Col, int, int64) error) error {
	cols := make([]Col, len(names))
	return columnar.Scan(t.path, names, optional, func(mc []*columnar.Column, rows int, first int64) error {
		for i, c := range mc {
			if c == nil {
				cols[i] = nil
			} else {
				cols[i] = c
			}
		}
		return fn(cols, rows, first)
	})
}

type csvTable struct{ path string }

func (t csvTable) Path() string { return t.path }

// csvCol is a column of CSV text cells.
type csvCol []string

func (c csvCol) Null(i int) bool             { return c[i] == "" }
func (c csvCol) String(i int) string         { return c[i] }
func (c csvCol) Float(i int) (float64, bool) { return columnar.ParseNumber(c[i]) }
func (c csvCol) Bool(i int) (bool, bool) {
	v, ok := columnar.ParseNumber(c[i])
	return v != 0, ok
}

// Micros parses an RFC 3339 timestamp, or a date YYYY-MM-DD.
func (c csvCol) Micros(i int) (int64, bool) {
	s := c[i]
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMicro(), true
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t.UnixMicro(), true
	}
	return 0, false
}

const csvBatch = 8192

// MaxRecordBytes bounds one record of a CSV table (a row, line breaks
// inside quotes included), as event.MaxRecordBytes does for event logs.
const MaxRecordBytes = 64 << 20

func (t csvTable) Scan(names []string, optional map[string]bool, fn func([]Col, int, int64) error) error {
	f, err := safeio.Open(t.path)
	if err != nil {
		return fmt.Errorf("open %s: %w", t.path, err)
	}
	defer f.Close()
	// One record (quoted line breaks included) is bounded: the limiter is
	// reset after each record.
	lim := &safeio.Limiter{R: f, Max: MaxRecordBytes, What: "CSV record"}
	r := csv.NewReader(lim)
	r.ReuseRecord = true
	header, err := r.Read()
	lim.Reset()
	if err != nil {
		return fmt.Errorf("read %s: header row: %w", t.path, err)
	}
	idx := make([]int, len(names))
	for i, n := range names {
		idx[i] = -1
		for j, h := range header {
			if strings.TrimSpace(h) == n {
				idx[i] = j
			}
		}
		if idx[i] < 0 && !optional[n] {
			return fmt.Errorf("read %s: column %q: %w (have: %s)", t.path, n, columnar.ErrMissingColumn, strings.Join(header, ", "))
		}
	}
	bufs := make([]csvCol, len(names))
	cols := make([]Col, len(names))
	var first int64 = 1
	rows := 0
	flush := func() error {
		if rows == 0 {
			return nil
		}
		for i := range names {
			if idx[i] < 0 {
				cols[i] = nil
			} else {
				cols[i] = bufs[i]
			}
		}
		err := fn(cols, rows, first)
		first += int64(rows)
		rows = 0
		for i := range bufs {
			bufs[i] = bufs[i][:0]
		}
		return err
	}
	for {
		rec, err := r.Read()
		lim.Reset()
		if errors.Is(err, io.EOF) {
			break
		}
		if safeio.IsTooLong(err) {
			return fmt.Errorf("read %s: row %d: %w (docs/limits.md); is a quote left open?", t.path, first+int64(rows), err)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", t.path, err)
		}
		for i, j := range idx {
			if j >= 0 {
				bufs[i] = append(bufs[i], strings.TrimSpace(rec[j]))
			}
		}
		rows++
		if rows == csvBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

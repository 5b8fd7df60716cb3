package beamreplay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

	"github.com/signalab/signalab/event"
)

// Row-group splits. Package event reads whole files by path. To read row
// groups [start, end) of a Parquet file with it (same decoding, validation
// and quarantine as every other read), a split extracts them into a
// temporary Parquet file: the column chunks' bytes are copied to the same
// offsets they have in the source (the file is sparse: the holes take no
// disk space), and a new footer lists only the selected row groups, so every
// offset in the copied metadata stays valid. The I/O is the split's own
// compressed bytes, not the file's.

// extractRowGroups writes row groups [start, end) of the Parquet file src as
// a Parquet file dst and returns the number of rows.
func extractRowGroups(src string, start, end int, dst string) (int64, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("read events %s: %w", src, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("read events %s: %w", src, err)
	}
	pf, err := parquet.OpenFile(f, st.Size(), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return 0, fmt.Errorf("read events %s: not a readable Parquet file: %w", src, err)
	}
	md := *pf.Metadata()
	if start < 0 || end > len(md.RowGroups) || start >= end {
		return 0, fmt.Errorf("read events %s: row groups %d..%d out of range (file has %d)", src, start, end, len(md.RowGroups))
	}
	out, err := os.Create(dst)
	if err != nil {
		return 0, fmt.Errorf("read events %s: extract row groups: %w", src, err)
	}
	defer out.Close()
	if _, err := out.Write([]byte("PAR1")); err != nil {
		return 0, err
	}
	groups := make(thrift.Slice[format.RowGroup], 0, end-start)
	var rows, tail int64
	for i, rg := range md.RowGroups[start:end] {
		cols := make(thrift.Slice[format.ColumnChunk], len(rg.Columns))
		for j, cc := range rg.Columns {
			if cc.FilePath != "" {
				return 0, fmt.Errorf("read events %s: column chunks in other files are not supported", src)
			}
			m := &cc.MetaData
			off := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < off {
				off = m.DictionaryPageOffset
			}
			if off < 4 || m.TotalCompressedSize < 0 || off+m.TotalCompressedSize > st.Size() {
				return 0, fmt.Errorf("read events %s: row group %d: column chunk out of file bounds", src, start+i)
			}
			if _, err := io.Copy(io.NewOffsetWriter(out, off), io.NewSectionReader(f, off, m.TotalCompressedSize)); err != nil {
				return 0, fmt.Errorf("read events %s: extract row groups: %w", src, err)
			}
			tail = max(tail, off+m.TotalCompressedSize)
			// Page indexes and bloom filters live outside the chunk and
			// are not copied.
			cc.OffsetIndexOffset, cc.OffsetIndexLength = 0, 0
			cc.ColumnIndexOffset, cc.ColumnIndexLength = 0, 0
			m.BloomFilterOffset, m.BloomFilterLength = 0, 0
			cols[j] = cc
		}
		rg.Columns = cols
		rg.Ordinal = int16(i)
		groups = append(groups, rg)
		rows += rg.NumRows
	}
	md.RowGroups = groups
	md.NumRows = rows
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		return 0, fmt.Errorf("read events %s: encode footer: %w", src, err)
	}
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	footer = append(footer, "PAR1"...)
	if _, err := out.WriteAt(footer, tail); err != nil {
		return 0, fmt.Errorf("read events %s: extract row groups: %w", src, err)
	}
	return rows, out.Close()
}

// splitReader reads one split: a whole file directly, a row-group range
// through a temporary file (see extractRowGroups). It puts back what the
// temporary file changes: the path in quarantined rows and in strict-mode
// errors, and the row numbers (the reader counts from the temporary file's
// first row).
type splitReader struct {
	*event.Reader
	sp  Split
	tmp string
}

func openSplit(sp Split, opts event.ReadOptions) (*splitReader, error) {
	if sp.Whole() {
		r, err := event.Open([]string{sp.Path}, opts)
		if err != nil {
			return nil, err
		}
		return &splitReader{Reader: r, sp: sp}, nil
	}
	tmpf, err := os.CreateTemp("", "signalab-split-*.parquet")
	if err != nil {
		return nil, fmt.Errorf("read events %s: %w", sp.Path, err)
	}
	tmp := tmpf.Name()
	tmpf.Close()
	rows, err := extractRowGroups(sp.Path, sp.RowGroupStart, sp.RowGroupEnd, tmp)
	if err == nil && sp.Rows >= 0 && rows != sp.Rows {
		err = fmt.Errorf("read events %s: row groups %d..%d hold %d rows, the plan said %d (did the file change?)",
			sp.Path, sp.RowGroupStart, sp.RowGroupEnd, rows, sp.Rows)
	}
	if err != nil {
		os.Remove(tmp)
		return nil, err
	}
	if q := opts.OnQuarantine; q != nil {
		opts.OnQuarantine = func(x event.Quarantined) error {
			x.Path = sp.Path
			return q(x)
		}
	}
	r, err := event.Open([]string{tmp}, opts)
	if err != nil {
		os.Remove(tmp)
		return nil, sp.fixError(err, tmp)
	}
	return &splitReader{Reader: r, sp: sp, tmp: tmp}, nil
}

// Next is event.Reader.Next with errors naming the source file and row.
func (r *splitReader) Next() ([]event.Event, error) {
	b, err := r.Reader.Next()
	if err != nil && !errors.Is(err, io.EOF) && r.tmp != "" {
		return b, r.sp.fixError(err, r.tmp)
	}
	return b, err
}

func (r *splitReader) Close() error {
	err := r.Reader.Close()
	if r.tmp != "" {
		os.Remove(r.tmp)
	}
	return err
}

// fixError rewrites an error of a read of tmp to name the split's file and
// its row numbers.
func (sp Split) fixError(err error, tmp string) error {
	var re *event.RowError
	if errors.As(err, &re) {
		re.Q.Path = sp.Path
		re.Q.Row += sp.FirstRow - 1
		return re
	}
	name := sp.Path
	if !sp.Whole() {
		name = fmt.Sprintf("%s (row groups %d..%d)", sp.Path, sp.RowGroupStart, sp.RowGroupEnd-1)
	}
	return errors.New(strings.ReplaceAll(err.Error(), tmp, name))
}

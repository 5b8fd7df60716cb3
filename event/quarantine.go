package event

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/signalab/signalab/internal/buildinfo"
)

// QuarantineRow is one row of quarantine.parquet: a row that broke the
// schema, with where it came from and why.
type QuarantineRow struct {
	File      string `parquet:"file" json:"file"`             // input path
	FileIndex int32  `parquet:"file_index" json:"file_index"` // ordinal among the inputs (Event.File)
	Row       int64  `parquet:"row" json:"row"`               // Event.Row: Parquet row or text line, 1-based
	Column    string `parquet:"column" json:"column"`         // offending column; "" when the row is malformed
	Reason    string `parquet:"reason,dict" json:"reason"`    // a Reason code
	Detail    string `parquet:"detail" json:"detail"`         // human-readable explanation
	Raw       string `parquet:"raw" json:"raw"`               // the row as read (text line or JSON rendering)
}

// ToRow returns q as a quarantine.parquet row. Bytes that are not UTF-8
// (in an input path, or in a raw line that was quarantined for them) are
// escaped as \xNN, so the file stays readable by every Parquet reader.
func (q Quarantined) ToRow() QuarantineRow {
	return QuarantineRow{File: EscapeInvalidUTF8(q.Path), FileIndex: q.File, Row: q.Row, Column: EscapeInvalidUTF8(q.Column),
		Reason: string(q.Reason), Detail: EscapeInvalidUTF8(q.Detail), Raw: EscapeInvalidUTF8(q.Raw)}
}

// QuarantineWriter streams quarantined rows to a Parquet file (zstd). Use it
// as ReadOptions.OnQuarantine target so bad rows are never held in memory.
type QuarantineWriter struct {
	w   *parquet.GenericWriter[QuarantineRow]
	buf []QuarantineRow
	n   int64
}

// NewQuarantineWriter returns a writer of quarantine.parquet rows to w.
func NewQuarantineWriter(w io.Writer) *QuarantineWriter {
	return &QuarantineWriter{w: parquet.NewGenericWriter[QuarantineRow](w,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.CreatedBy("signalab", buildinfo.Version(), ""),
	)}
}

// Write buffers one quarantined row (flushed in chunks and at Close).
func (q *QuarantineWriter) Write(r Quarantined) error {
	q.buf = append(q.buf, r.ToRow())
	if len(q.buf) >= 4096 {
		return q.flush()
	}
	return nil
}

func (q *QuarantineWriter) flush() error {
	if _, err := q.w.Write(q.buf); err != nil {
		return fmt.Errorf("write quarantine rows: %w", err)
	}
	q.n += int64(len(q.buf))
	clear(q.buf)
	q.buf = q.buf[:0]
	return nil
}

// Rows returns the number of rows written.
func (q *QuarantineWriter) Rows() int64 { return q.n + int64(len(q.buf)) }

// Close flushes and writes the footer; the caller still closes the output.
func (q *QuarantineWriter) Close() error {
	if err := q.flush(); err != nil {
		return err
	}
	if err := q.w.Close(); err != nil {
		return fmt.Errorf("close quarantine writer: %w", err)
	}
	return nil
}

// WriteQuarantineParquet writes rows as a complete quarantine.parquet to w.
func WriteQuarantineParquet(w io.Writer, rows []Quarantined) error {
	qw := NewQuarantineWriter(w)
	for _, r := range rows {
		if err := qw.Write(r); err != nil {
			return err
		}
	}
	return qw.Close()
}

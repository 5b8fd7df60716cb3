package event

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/signalab/signalab/internal/buildinfo"
)

// DefaultRowGroupRows is the number of rows per Parquet row group the writer
// aims at: about one million, a common size for analytic scans (DuckDB and
// pyarrow read row groups of this size in parallel efficiently).
const DefaultRowGroupRows = 1 << 20

// parquetRow is the on-disk shape of one event: the v1 schema of
// docs/design.md. Required columns are plain values; optional columns are
// pointers, which parquet-go writes as OPTIONAL columns with nil as NULL (so
// that 0 and "" stay distinguishable from absent). Low-cardinality strings are
// dictionary encoded.
type parquetRow struct {
	EventID         string   `parquet:"event_id"`
	Kind            string   `parquet:"kind,dict"`
	EventTime       int64    `parquet:"event_time,timestamp(microsecond)"`
	IngestTime      *int64   `parquet:"ingest_time,timestamp(microsecond)"`
	ShopID          string   `parquet:"shop_id,dict"`
	BuyerID         string   `parquet:"buyer_id"`
	ConversationID  *string  `parquet:"conversation_id"`
	Channel         *string  `parquet:"channel,dict"`
	Sender          *string  `parquet:"sender,dict"`
	CartToken       *string  `parquet:"cart_token"`
	ItemCount       *int32   `parquet:"item_count"`
	CartValueCents  *int64   `parquet:"cart_value_cents"`
	ProductIDs      []string `parquet:"product_ids,list"`
	OrderID         *string  `parquet:"order_id"`
	OrderValueCents *int64   `parquet:"order_value_cents"`
	Currency        *string  `parquet:"currency,dict"`
}

// WriterOption configures a ParquetWriter.
type WriterOption func(*writerConfig)

type writerConfig struct {
	rowGroupRows int64
}

// WithRowGroupRows sets the maximum number of rows per row group
// (default DefaultRowGroupRows). Tests use small values to get many row groups.
func WithRowGroupRows(n int64) WriterOption {
	return func(c *writerConfig) {
		if n > 0 {
			c.rowGroupRows = n
		}
	}
}

// ParquetWriter writes events as a v1 Parquet file: zstd compression,
// timestamps as TIMESTAMP(MICROS, isAdjustedToUTC=true), money as int64 cents,
// item_count as int32, product_ids as LIST<STRING>, optional columns OPTIONAL.
//
// Rows are encoded as they are written; memory is bounded by one row group
// (compressed pages are buffered until the group is flushed), not by the file.
// A ParquetWriter is not safe for concurrent use.
type ParquetWriter struct {
	w    *parquet.GenericWriter[parquetRow]
	buf  []parquetRow
	rows int64
}

// NewParquetWriter returns a writer of v1 events to w. Call Close to flush the
// last row group and the footer; the caller still closes w.
func NewParquetWriter(w io.Writer, opts ...WriterOption) (*ParquetWriter, error) {
	if w == nil {
		return nil, fmt.Errorf("new parquet writer: nil output")
	}
	cfg := writerConfig{rowGroupRows: DefaultRowGroupRows}
	for _, o := range opts {
		o(&cfg)
	}
	pw := parquet.NewGenericWriter[parquetRow](w,
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedDefault}),
		parquet.MaxRowsPerRowGroup(cfg.rowGroupRows),
		parquet.CreatedBy("signalab", buildinfo.Version(), ""),
		parquet.KeyValueMetadata("signalab.schema", SchemaVersion),
	)
	return &ParquetWriter{w: pw}, nil
}

// SchemaVersion is the event schema version written to Parquet key-value
// metadata under "signalab.schema".
const SchemaVersion = "v1"

// writeChunk bounds the rows converted per call to the underlying writer, so a
// huge slice does not double its memory in row structs.
const writeChunk = 4096

// Write appends events. The events are not retained after Write returns.
// It does not validate them; use Validate first when the source is untrusted.
func (p *ParquetWriter) Write(events []Event) error {
	for len(events) > 0 {
		n := min(len(events), writeChunk)
		if cap(p.buf) < n {
			p.buf = make([]parquetRow, n)
		}
		buf := p.buf[:n]
		for i := range n {
			toRow(&events[i], &buf[i])
		}
		if _, err := p.w.Write(buf); err != nil {
			return fmt.Errorf("write events: row %d: %w", p.rows+1, err)
		}
		clear(buf) // drop the pointers into events
		p.rows += int64(n)
		events = events[n:]
	}
	return nil
}

// Rows returns the number of events written so far.
func (p *ParquetWriter) Rows() int64 { return p.rows }

// Close flushes buffered rows and writes the Parquet footer.
func (p *ParquetWriter) Close() error {
	if err := p.w.Close(); err != nil {
		return fmt.Errorf("close parquet writer: %w", err)
	}
	return nil
}

// toRow fills r from e. Optional fields point into e (no allocation); this is
// safe because the underlying writer copies values before Write returns.
func toRow(e *Event, r *parquetRow) {
	*r = parquetRow{
		EventID:    e.EventID,
		Kind:       string(e.Kind),
		EventTime:  e.EventTime,
		ShopID:     e.ShopID,
		BuyerID:    e.BuyerID,
		ProductIDs: e.ProductIDs,
	}
	if e.HasIngestTime {
		r.IngestTime = &e.IngestTime
	}
	r.ConversationID = optString(&e.ConversationID)
	r.Channel = optString(&e.Channel)
	r.Sender = optString(&e.Sender)
	r.CartToken = optString(&e.CartToken)
	r.OrderID = optString(&e.OrderID)
	r.Currency = optString(&e.Currency)
	if e.HasItemCount {
		r.ItemCount = &e.ItemCount
	}
	if e.HasCartValue {
		r.CartValueCents = &e.CartValueCents
	}
	if e.HasOrderValue {
		r.OrderValueCents = &e.OrderValueCents
	}
}

func optString(s *string) *string {
	if *s == "" {
		return nil
	}
	return s
}

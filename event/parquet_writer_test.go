package event

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// sampleEvents returns n events cycling through every kind, with optional
// fields set or absent in a pattern that covers 0 and "" versus absent.
func sampleEvents(n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		k := Kinds[i%len(Kinds)]
		e := Event{
			EventID:   fmt.Sprintf("e%06d", i),
			Kind:      k,
			EventTime: 1772323200000000 + int64(i)*1_000_123, // 2026-03-01T00:00:00Z + i·1.000123 s
			ShopID:    fmt.Sprintf("shop%d", i%3),
			BuyerID:   fmt.Sprintf("buyer%d", i%11),
		}
		if i%2 == 0 {
			e.IngestTime, e.HasIngestTime = e.EventTime+int64(i%5)*1000, true
		}
		switch k {
		case KindCartUpdate:
			e.CartToken = fmt.Sprintf("cart%d", i%11)
			e.ItemCount, e.HasItemCount = int32(i%4), true // includes 0
			e.CartValueCents, e.HasCartValue = int64(i%4)*1999, true
			e.ProductIDs = []string{"p1", fmt.Sprintf("p%d", i%7)}[:i%4%3]
			e.Currency = "EUR"
		case KindCheckoutStarted:
			e.CartToken = fmt.Sprintf("cart%d", i%11)
			e.CartValueCents, e.HasCartValue = 5000, true
		case KindOrderPlaced:
			e.OrderID = fmt.Sprintf("o%d", i)
			e.OrderValueCents, e.HasOrderValue = int64(i)*100, true
			e.Currency = "USD"
		case KindConversationStarted, KindConversationClosed:
			e.ConversationID = fmt.Sprintf("c%d", i%13)
			e.Channel = "messenger"
		case KindMessage:
			e.ConversationID = fmt.Sprintf("c%d", i%13)
			e.Channel = "online_store_chat"
			e.Sender = SenderBuyer
			if i%3 == 0 {
				e.Sender = SenderMerchant
			}
		case KindPageView:
			e.ProductIDs = []string{fmt.Sprintf("p%d", i%7)}
		}
		evs[i] = e
	}
	return evs
}

func writeParquet(t testing.TB, evs []Event, opts ...WriterOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewParquetWriter(&buf, opts...)
	if err != nil {
		t.Fatal(err)
	}
	// Two calls, to check that Write appends.
	half := len(evs) / 2
	if err := w.Write(evs[:half]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(evs[half:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Rows() != int64(len(evs)) {
		t.Fatalf("Rows() = %d, want %d", w.Rows(), len(evs))
	}
	return buf.Bytes()
}

// TestParquetWriterReadByArrow writes events with our writer and reads them
// back with the other Parquet implementation in the module (arrow-go pqarrow),
// checking the schema (types, logical types, nullability) and every value.
func TestParquetWriterReadByArrow(t *testing.T) {
	evs := sampleEvents(100)
	data := writeParquet(t, evs, WithRowGroupRows(16))

	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pf.NumRowGroups(), 7; got != want { // ceil(100/16)
		t.Errorf("row groups = %d, want %d", got, want)
	}
	if got := pf.MetaData().KeyValueMetadata().FindValue("signalab.schema"); got == nil || *got != "v1" {
		t.Errorf("signalab.schema metadata = %v, want v1", got)
	}
	// Physical compression of every column chunk is zstd.
	for c := 0; c < pf.MetaData().RowGroup(0).NumColumns(); c++ {
		cc, err := pf.MetaData().RowGroup(0).ColumnChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		if got := cc.Compression().String(); got != "ZSTD" {
			t.Errorf("column %d compression = %s, want ZSTD", c, got)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()

	ts := &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	wantSchema := []struct {
		name     string
		typ      arrow.DataType
		nullable bool
	}{
		{"event_id", arrow.BinaryTypes.String, false},
		{"kind", arrow.BinaryTypes.String, false},
		{"event_time", ts, false},
		{"ingest_time", ts, true},
		{"shop_id", arrow.BinaryTypes.String, false},
		{"buyer_id", arrow.BinaryTypes.String, false},
		{"conversation_id", arrow.BinaryTypes.String, true},
		{"channel", arrow.BinaryTypes.String, true},
		{"sender", arrow.BinaryTypes.String, true},
		{"cart_token", arrow.BinaryTypes.String, true},
		{"item_count", arrow.PrimitiveTypes.Int32, true},
		{"cart_value_cents", arrow.PrimitiveTypes.Int64, true},
		{"product_ids", nil, false},
		{"order_id", arrow.BinaryTypes.String, true},
		{"order_value_cents", arrow.PrimitiveTypes.Int64, true},
		{"currency", arrow.BinaryTypes.String, true},
	}
	sc := tbl.Schema()
	if sc.NumFields() != len(wantSchema) {
		t.Fatalf("schema has %d fields, want %d:\n%s", sc.NumFields(), len(wantSchema), sc)
	}
	for i, w := range wantSchema {
		f := sc.Field(i)
		if f.Name != w.name {
			t.Errorf("field %d = %q, want %q", i, f.Name, w.name)
			continue
		}
		if w.name == "product_ids" {
			lt, ok := f.Type.(*arrow.ListType)
			if !ok || !arrow.TypeEqual(lt.Elem(), arrow.BinaryTypes.String) {
				t.Errorf("product_ids type = %s, want list<string>", f.Type)
			}
			continue
		}
		if !arrow.TypeEqual(f.Type, w.typ) {
			t.Errorf("%s type = %s, want %s", w.name, f.Type, w.typ)
		}
		if f.Nullable != w.nullable {
			t.Errorf("%s nullable = %v, want %v", w.name, f.Nullable, w.nullable)
		}
	}
	if tbl.NumRows() != int64(len(evs)) {
		t.Fatalf("rows = %d, want %d", tbl.NumRows(), len(evs))
	}

	// Flatten the table back into events and compare.
	got := make([]Event, 0, len(evs))
	tr := array.NewTableReader(tbl, 1000)
	defer tr.Release()
	for tr.Next() {
		rec := tr.RecordBatch()
		str := func(c int) *array.String { return rec.Column(c).(*array.String) }
		for i := 0; i < int(rec.NumRows()); i++ {
			var e Event
			e.EventID = str(0).Value(i)
			e.Kind = Kind(str(1).Value(i))
			e.EventTime = int64(rec.Column(2).(*array.Timestamp).Value(i))
			if it := rec.Column(3).(*array.Timestamp); it.IsValid(i) {
				e.IngestTime, e.HasIngestTime = int64(it.Value(i)), true
			}
			e.ShopID = str(4).Value(i)
			e.BuyerID = str(5).Value(i)
			opt := func(c int) string {
				if str(c).IsNull(i) {
					return ""
				}
				return str(c).Value(i)
			}
			e.ConversationID, e.Channel, e.Sender, e.CartToken = opt(6), opt(7), opt(8), opt(9)
			if a := rec.Column(10).(*array.Int32); a.IsValid(i) {
				e.ItemCount, e.HasItemCount = a.Value(i), true
			}
			if a := rec.Column(11).(*array.Int64); a.IsValid(i) {
				e.CartValueCents, e.HasCartValue = a.Value(i), true
			}
			l := rec.Column(12).(*array.List)
			if l.IsValid(i) {
				s, end := l.ValueOffsets(i)
				vals := l.ListValues().(*array.String)
				for j := s; j < end; j++ {
					e.ProductIDs = append(e.ProductIDs, vals.Value(int(j)))
				}
			}
			e.OrderID = opt(13)
			if a := rec.Column(14).(*array.Int64); a.IsValid(i) {
				e.OrderValueCents, e.HasOrderValue = a.Value(i), true
			}
			e.Currency = opt(15)
			got = append(got, e)
		}
	}
	for i := range evs {
		if d := diffEvent(evs[i], got[i]); d != "" {
			t.Errorf("row %d: %s", i+1, d)
		}
	}
}

// diffEvent compares the schema fields of two events (not File/Row
// provenance) and describes the first difference, or returns "".
func diffEvent(want, got Event) string {
	w, g := want, got
	w.File, w.Row, g.File, g.Row = 0, 0, 0, 0
	if len(w.ProductIDs) == 0 && len(g.ProductIDs) == 0 {
		w.ProductIDs, g.ProductIDs = nil, nil
	}
	if fmt.Sprintf("%#v", w) != fmt.Sprintf("%#v", g) {
		return fmt.Sprintf("got  %+v\nwant %+v", g, w)
	}
	return ""
}

func TestParquetWriterEmpty(t *testing.T) {
	data := writeParquet(t, nil)
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("an empty event file must still be valid Parquet: %v", err)
	}
	if pf.NumRows() != 0 {
		t.Errorf("rows = %d, want 0", pf.NumRows())
	}
}

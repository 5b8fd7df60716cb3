package event

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// TestReadArrowWrittenParquet reads a file written the way pandas/pyarrow
// write one (all columns nullable, timestamps in nanoseconds, int64 counts,
// dictionary-encoded strings), which the schema check must accept: values
// are converted (ns → µs floored, int64 → int32) and nulls in required
// columns are quarantined.
func TestReadArrowWrittenParquet(t *testing.T) {
	mem := memory.DefaultAllocator
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "event_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "kind", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "event_time", Type: &arrow.TimestampType{Unit: arrow.Nanosecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "shop_id", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "buyer_id", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "cart_token", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "item_count", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "cart_value_cents", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "unrelated", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	b.Field(0).(*array.StringBuilder).AppendValues([]string{"e1", "e2", "e3"}, nil)
	kb := b.Field(1).(*array.BinaryDictionaryBuilder)
	kb.AppendString("cart_update")
	kb.AppendString("page_view")
	kb.AppendString("page_view")
	b.Field(2).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1772359200000001999, 1772359200000000000, 0}, []bool{true, true, false})
	b.Field(3).(*array.StringBuilder).AppendValues([]string{"s", "s", "s"}, nil)
	b.Field(4).(*array.LargeStringBuilder).AppendValues([]string{"b1", "b2", "b3"}, nil)
	b.Field(5).(*array.StringBuilder).AppendValues([]string{"c", "", ""}, []bool{true, false, false})
	b.Field(6).(*array.Int64Builder).AppendValues([]int64{3, 0, 0}, []bool{true, false, false})
	b.Field(7).(*array.Int64Builder).AppendValues([]int64{4500, 0, 0}, []bool{true, false, false})
	b.Field(8).(*array.Float64Builder).AppendValues([]float64{1, 2, 3}, nil)
	rec := b.NewRecordBatch()
	defer rec.Release()
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(true))
	if err := pqarrow.WriteTable(array.NewTableFromRecords(sc, []arrow.RecordBatch{rec}), &buf, 1024, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		t.Fatal(err)
	}
	p := writeFile(t, t.TempDir(), "arrow.parquet", buf.Bytes())
	got, r, err := ReadAll([]string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{
		{EventID: "e1", Kind: KindCartUpdate, EventTime: 1772359200000001, ShopID: "s", BuyerID: "b1", CartToken: "c",
			ItemCount: 3, HasItemCount: true, CartValueCents: 4500, HasCartValue: true},
		{EventID: "e2", Kind: KindPageView, EventTime: 1772359200000000, ShopID: "s", BuyerID: "b2"},
	}
	checkSame(t, want, got)
	q := r.Quarantined()
	if len(q) != 1 || q[0].Row != 3 || q[0].Column != "event_time" || q[0].Reason != ReasonMissingField {
		t.Fatalf("quarantined %+v", q)
	}
}

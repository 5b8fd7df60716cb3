package columnar

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// writeParquet writes one record batch built by fill to dir/name, with
// dictionary encoding only for the columns named in dict.
func writeParquet(t *testing.T, name string, sc *arrow.Schema, dict []string, fill func(rb *array.RecordBuilder)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	opts := []parquet.WriterProperty{parquet.WithDictionaryDefault(false)}
	for _, d := range dict {
		opts = append(opts, parquet.WithDictionaryFor(d, true))
	}
	fw, err := pqarrow.NewFileWriter(sc, f, parquet.NewWriterProperties(opts...), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	rb := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer rb.Release()
	fill(rb)
	rec := rb.NewRecordBatch()
	defer rec.Release()
	if err := fw.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := fw.Close(); err != nil { // closes f
		t.Fatal(err)
	}
	return path
}

func ts(unit arrow.TimeUnit) arrow.DataType { return &arrow.TimestampType{Unit: unit, TimeZone: "UTC"} }

// TestScanTypes reads back every physical type a writer may choose for a
// string, integer, timestamp, number or boolean column, with a null row.
func TestScanTypes(t *testing.T) {
	// 2024-01-02T03:04:05.123456789Z; µs from the time package, not from
	// the code under test.
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.UTC)
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "sd", Type: arrow.BinaryTypes.String, Nullable: true}, // dictionary-encoded
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
		{Name: "i16", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "ts_s", Type: ts(arrow.Second), Nullable: true},
		{Name: "ts_ms", Type: ts(arrow.Millisecond), Nullable: true},
		{Name: "ts_us", Type: ts(arrow.Microsecond), Nullable: true},
		{Name: "ts_ns", Type: ts(arrow.Nanosecond), Nullable: true},
	}, nil)
	path := writeParquet(t, "types.parquet", sc, []string{"sd"}, func(rb *array.RecordBuilder) {
		// Row 0: values; row 1: "true"/false/NaN; row 2: nulls.
		rb.Field(0).(*array.StringBuilder).AppendValues([]string{"2.5", "TRUE", ""}, []bool{true, true, false})
		rb.Field(1).(*array.StringBuilder).AppendValues([]string{"shop-a", "shop-b", ""}, []bool{true, true, false})
		rb.Field(2).(*array.BinaryBuilder).AppendValues([][]byte{[]byte("7"), []byte("x"), nil}, []bool{true, true, false})
		rb.Field(3).(*array.Int8Builder).AppendValues([]int8{-8, 0, 0}, []bool{true, true, false})
		rb.Field(4).(*array.Int16Builder).AppendValues([]int16{-16, 0, 0}, []bool{true, true, false})
		rb.Field(5).(*array.Int32Builder).AppendValues([]int32{-32, 0, 0}, []bool{true, true, false})
		rb.Field(6).(*array.Int64Builder).AppendValues([]int64{1 << 40, 0, 0}, []bool{true, true, false})
		rb.Field(7).(*array.Uint32Builder).AppendValues([]uint32{1 << 31, 0, 0}, []bool{true, true, false})
		rb.Field(8).(*array.Float32Builder).AppendValues([]float32{0.5, float32(math.NaN()), 0}, []bool{true, true, false})
		rb.Field(9).(*array.Float64Builder).AppendValues([]float64{-1.25, math.NaN(), 0}, []bool{true, true, false})
		rb.Field(10).(*array.BooleanBuilder).AppendValues([]bool{true, false, false}, []bool{true, true, false})
		rb.Field(11).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(at.Unix()), 0, 0}, []bool{true, true, false})
		rb.Field(12).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(at.UnixMilli()), 0, 0}, []bool{true, true, false})
		rb.Field(13).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(at.UnixMicro()), 0, 0}, []bool{true, true, false})
		rb.Field(14).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{arrow.Timestamp(at.UnixNano()), -1500, 0}, []bool{true, true, false})
	})
	names := make([]string, sc.NumFields())
	for i := range names {
		names[i] = sc.Field(i).Name
	}
	calls := 0
	err := Scan(path, names, nil, func(c []*Column, rows int, first int64) error {
		calls++
		if rows != 3 || first != 1 {
			t.Fatalf("batch of %d rows from row %d, want 3 from 1", rows, first)
		}
		for k, col := range c {
			if col == nil || col.Name != names[k] {
				t.Fatalf("column %d = %v, want %s", k, col, names[k])
			}
			if !col.Null(2) || col.Null(0) {
				t.Errorf("%s: Null(0) = %v, Null(2) = %v", col.Name, col.Null(0), col.Null(2))
			}
			if _, ok := col.Float(2); ok {
				t.Errorf("%s: Float of a null row is ok", col.Name)
			}
			if col.String(2) != "" {
				t.Errorf("%s: String of a null row = %q", col.Name, col.String(2))
			}
		}
		// Strings, plain and dictionary-encoded.
		if got := c[0].String(0); got != "2.5" {
			t.Errorf("s = %q", got)
		}
		if got := c[1].String(1); got != "shop-b" {
			t.Errorf("sd = %q", got)
		}
		if c[1].DictCodes() != nil {
			t.Error("sd: dictionary-encoded column with a null has the no-null DictCodes")
		}
		if got := c[2].String(0); got != "7" {
			t.Errorf("bin = %q", got)
		}
		// Numbers from text.
		if v, ok := c[0].Float(0); !ok || v != 2.5 {
			t.Errorf("s Float = %v, %v", v, ok)
		}
		if v, ok := c[0].Bool(1); !ok || !v {
			t.Errorf("s Bool(TRUE) = %v, %v", v, ok)
		}
		if v, ok := c[2].Float(0); !ok || v != 7 {
			t.Errorf("bin Float = %v, %v", v, ok)
		}
		if _, ok := c[2].Float(1); ok {
			t.Error("bin Float(\"x\") is ok")
		}
		if _, ok := c[1].Float(0); ok {
			t.Error("sd Float(\"shop-a\") is ok")
		}
		// Integers of every width.
		for k, want := range map[int]int64{3: -8, 4: -16, 5: -32, 6: 1 << 40, 7: 1 << 31} {
			if v, ok := c[k].Int(0); !ok || v != want {
				t.Errorf("%s Int = %d, %v, want %d", names[k], v, ok, want)
			}
			if v, ok := c[k].Float(0); !ok || v != float64(want) {
				t.Errorf("%s Float = %v, %v", names[k], v, ok)
			}
		}
		if _, ok := c[9].Int(0); ok {
			t.Error("f64 Int is ok")
		}
		// Floats: NaN reads as missing.
		if v, ok := c[8].Float(0); !ok || v != 0.5 {
			t.Errorf("f32 = %v, %v", v, ok)
		}
		if v, ok := c[9].Float(0); !ok || v != -1.25 {
			t.Errorf("f64 = %v, %v", v, ok)
		}
		for _, k := range []int{8, 9} {
			if _, ok := c[k].Float(1); ok {
				t.Errorf("%s: NaN read as a number", names[k])
			}
		}
		if c[9].Float64s() != nil {
			t.Error("f64 with a null has the no-null fast path")
		}
		// Booleans.
		if v, ok := c[10].Bool(0); !ok || !v {
			t.Errorf("b(0) = %v, %v", v, ok)
		}
		if v, ok := c[10].Bool(1); !ok || v {
			t.Errorf("b(1) = %v, %v", v, ok)
		}
		if v, ok := c[10].Float(0); !ok || v != 1 {
			t.Errorf("b Float = %v, %v", v, ok)
		}
		if v, ok := c[5].Bool(0); !ok || !v {
			t.Errorf("i32 Bool(-32) = %v, %v", v, ok)
		}
		// Timestamps of every unit, in µs.
		wantUS := map[int]int64{11: at.Unix() * 1e6, 12: at.UnixMilli() * 1e3, 13: at.UnixMicro(), 14: at.UnixMicro()}
		for k, want := range wantUS {
			if v, ok := c[k].Micros(0); !ok || v != want {
				t.Errorf("%s Micros = %d, %v, want %d", names[k], v, ok, want)
			}
		}
		// Nanoseconds truncate toward zero: −1500 ns → −1 µs.
		if v, ok := c[14].Micros(1); !ok || v != -1 {
			t.Errorf("ts_ns Micros(-1500 ns) = %d, %v, want -1", v, ok)
		}
		if v, ok := c[6].Micros(0); !ok || v != 1<<40 {
			t.Errorf("i64 Micros = %d, %v (an integer is µs already)", v, ok)
		}
		if _, ok := c[0].Micros(0); ok {
			t.Error("string Micros is ok")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("%d batches, want 1", calls)
	}
}

// TestScanBatchesAndRowNumbers reads more than BatchRows rows: the batches
// cover every row once, in order, and first numbers them from 1.
func TestScanBatchesAndRowNumbers(t *testing.T) {
	n := BatchRows + 1000
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "row", Type: arrow.PrimitiveTypes.Int64},
		{Name: "x", Type: arrow.PrimitiveTypes.Float64},
		{Name: "other", Type: arrow.PrimitiveTypes.Int64},
		{Name: "shop", Type: arrow.BinaryTypes.String},  // dictionary-encoded
		{Name: "plain", Type: arrow.BinaryTypes.String}, // plain
	}, nil)
	shop := func(i int64) string { return "shop-" + strconv.FormatInt(i%7, 10) }
	path := writeParquet(t, "many.parquet", sc, []string{"shop"}, func(rb *array.RecordBuilder) {
		for i := 1; i <= n; i++ {
			rb.Field(0).(*array.Int64Builder).Append(int64(i))
			rb.Field(1).(*array.Float64Builder).Append(float64(i) / 2)
			rb.Field(2).(*array.Int64Builder).Append(0)
			rb.Field(3).(*array.StringBuilder).Append(shop(int64(i)))
			rb.Field(4).(*array.StringBuilder).Append(shop(int64(i)))
		}
	})
	var firsts []int64
	seen := 0
	// Columns come in the order asked, not the file's order.
	err := Scan(path, []string{"x", "row", "shop", "plain"}, nil, func(c []*Column, rows int, first int64) error {
		firsts = append(firsts, first)
		xs := c[0].Float64s()
		if len(xs) != rows {
			t.Fatalf("Float64s has %d values for %d rows", len(xs), rows)
		}
		codes := c[2].DictCodes()
		if len(codes) != rows {
			t.Fatalf("DictCodes has %d codes for %d rows", len(codes), rows)
		}
		if c[3].DictCodes() != nil {
			t.Fatal("plain string column has DictCodes")
		}
		for i := range rows {
			r, _ := c[1].Int(i)
			if r != first+int64(i) {
				t.Fatalf("row %d of the batch from %d holds %d", i, first, r)
			}
			if xs[i] != float64(r)/2 {
				t.Fatalf("row %d: x = %v", r, xs[i])
			}
			if c[2].String(i) != shop(r) || c[3].String(i) != shop(r) {
				t.Fatalf("row %d: shop = %q, plain = %q, want %q", r, c[2].String(i), c[3].String(i), shop(r))
			}
			if i > 0 && (codes[i] == codes[i-1]) != (c[2].String(i) == c[2].String(i-1)) {
				t.Fatalf("row %d: equal codes do not mean equal strings", r)
			}
		}
		seen += rows
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n || len(firsts) != 2 || firsts[0] != 1 || firsts[1] != int64(BatchRows)+1 {
		t.Fatalf("read %d rows in batches starting at %v, want %d in [1 %d]", seen, firsts, n, BatchRows+1)
	}
}

func TestScanMissingAndOptionalColumns(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.PrimitiveTypes.Int64}}, nil)
	path := writeParquet(t, "ab.parquet", sc, nil, func(rb *array.RecordBuilder) {
		rb.Field(0).(*array.Int64Builder).Append(1)
		rb.Field(1).(*array.Int64Builder).Append(2)
	})
	err := Scan(path, []string{"a", "z"}, nil, func([]*Column, int, int64) error { return nil })
	if !errors.Is(err, ErrMissingColumn) {
		t.Fatalf("missing column: got %v, want ErrMissingColumn", err)
	}
	for _, want := range []string{path, `"z"`, "have: a, b"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	got := 0
	err = Scan(path, []string{"z", "b"}, map[string]bool{"z": true}, func(c []*Column, rows int, first int64) error {
		if c[0] != nil {
			t.Error("absent optional column is not nil")
		}
		v, _ := c[1].Int(0)
		got += int(v)
		return nil
	})
	if err != nil || got != 2 {
		t.Fatalf("optional column: got %d, %v", got, err)
	}
}

func TestScanStopsOnCallbackError(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	path := writeParquet(t, "a.parquet", sc, nil, func(rb *array.RecordBuilder) {
		for i := range 3 * BatchRows {
			rb.Field(0).(*array.Int64Builder).Append(int64(i))
		}
	})
	stop := errors.New("stop here")
	calls := 0
	err := Scan(path, []string{"a"}, nil, func([]*Column, int, int64) error {
		calls++
		return stop
	})
	if err != stop || calls != 1 {
		t.Fatalf("got %v after %d calls, want the callback's error after 1", err, calls)
	}
}

func TestScanEmptyAndUnreadable(t *testing.T) {
	sc := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}}, nil)
	path := writeParquet(t, "empty.parquet", sc, nil, func(*array.RecordBuilder) {})
	err := Scan(path, []string{"a"}, nil, func([]*Column, int, int64) error {
		t.Error("callback called for an empty file")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := Scan(filepath.Join(t.TempDir(), "none.parquet"), []string{"a"}, nil, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: got %v, want os.ErrNotExist", err)
	}
	text := filepath.Join(t.TempDir(), "units.csv")
	if err := os.WriteFile(text, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Scan(text, []string{"a"}, nil, nil); err == nil || !strings.Contains(err.Error(), "not a Parquet file") || !strings.Contains(err.Error(), text) {
		t.Errorf("text file: got %v, want an error naming it and saying it is not Parquet", err)
	}
}

func TestParseNumber(t *testing.T) {
	for s, want := range map[string]float64{"1": 1, "0": 0, "true": 1, "False": 0, "TRUE": 1, " 2.5": 2.5, "-3e2": -300} {
		if v, ok := ParseNumber(s); !ok || v != want {
			t.Errorf("ParseNumber(%q) = %v, %v", s, v, ok)
		}
	}
	for _, s := range []string{"", "abc", "NaN", "Inf", "yes"} {
		if _, ok := ParseNumber(s); ok {
			t.Errorf("ParseNumber(%q) accepted", s)
		}
	}
}

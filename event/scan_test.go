package event

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// ownEvent copies e's strings, which Scan only lends.
func ownEvent(e Event) Event {
	e.EventID = strings.Clone(e.EventID)
	e.Kind = Kind(strings.Clone(string(e.Kind)))
	e.ShopID = strings.Clone(e.ShopID)
	e.BuyerID = strings.Clone(e.BuyerID)
	e.ConversationID = strings.Clone(e.ConversationID)
	e.Channel = strings.Clone(e.Channel)
	e.Sender = strings.Clone(e.Sender)
	e.CartToken = strings.Clone(e.CartToken)
	e.OrderID = strings.Clone(e.OrderID)
	e.Currency = strings.Clone(e.Currency)
	if e.ProductIDs != nil {
		p := make([]string, len(e.ProductIDs))
		for i, s := range e.ProductIDs {
			p[i] = strings.Clone(s)
		}
		e.ProductIDs = p
	}
	return e
}

// scanAll reads paths with Scan and returns the events and quarantined
// rows in input order.
func scanAll(t *testing.T, paths []string, opts ReadOptions) ([]Event, []Quarantined, *Reader, error) {
	t.Helper()
	r, err := Open(paths, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	defer r.Close()
	var mu sync.Mutex
	var got []Event
	err = r.Scan(func(w int, batch []Event) error {
		if w < 0 || w >= max(opts.Workers, 2) {
			t.Errorf("worker %d out of range", w)
		}
		own := make([]Event, len(batch))
		for i := range batch {
			own[i] = ownEvent(batch[i])
		}
		// Overwrite the lent batch, so a later use of it would show.
		for i := range batch {
			batch[i] = Event{}
		}
		mu.Lock()
		got = append(got, own...)
		mu.Unlock()
		return nil
	})
	byPos := func(a, b Event) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Row, b.Row))
	}
	slices.SortFunc(got, byPos)
	q := slices.Clone(r.Quarantined())
	slices.SortFunc(q, func(a, b Quarantined) int { return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Row, b.Row)) })
	return got, q, r, err
}

// usesPages reports whether Scan reads path with the page decoder.
func usesPages(t *testing.T, path string, columns []string) bool {
	t.Helper()
	pp, err := planPages(path, columns)
	if err != nil {
		t.Fatal(err)
	}
	return pp != nil
}

// checkScanEqualsNext reads paths with Next and with Scan (page decoder and
// forced Arrow decoder) and requires the same events, quarantined rows and
// counts.
func checkScanEqualsNext(t *testing.T, paths []string, opts ReadOptions) {
	t.Helper()
	want, r, err := ReadAll(paths, opts)
	if err != nil {
		t.Fatal(err)
	}
	wantQ := r.Quarantined()
	for _, arrowOnly := range []bool{false, true} {
		o := opts
		o.arrowOnly = arrowOnly
		got, gotQ, sr, err := scanAll(t, paths, o)
		if err != nil {
			t.Fatalf("arrowOnly=%v: %v", arrowOnly, err)
		}
		if len(got) != len(want) {
			t.Fatalf("arrowOnly=%v: %d events, Next gave %d", arrowOnly, len(got), len(want))
		}
		for i := range want {
			if d := diffEvent(want[i], got[i]); d != "" || !slices.Equal(want[i].ProductIDs, got[i].ProductIDs) ||
				(want[i].ProductIDs == nil) != (got[i].ProductIDs == nil) {
				t.Fatalf("arrowOnly=%v: event %d (file %d row %d): %s\nNext %+v\nScan %+v", arrowOnly, i, want[i].File, want[i].Row, d, want[i], got[i])
			}
		}
		if !slices.Equal(gotQ, wantQ) {
			t.Fatalf("arrowOnly=%v: quarantined\n%+v\nNext gave\n%+v", arrowOnly, gotQ, wantQ)
		}
		if sr.RowsRead() != r.RowsRead() || sr.Accepted() != r.Accepted() || fmt.Sprint(sr.QuarantineCounts()) != fmt.Sprint(r.QuarantineCounts()) ||
			fmt.Sprint(sr.CurrencyCounts()) != fmt.Sprint(r.CurrencyCounts()) {
			t.Fatalf("arrowOnly=%v: counts %d/%d/%v/%v, Next %d/%d/%v/%v", arrowOnly, sr.RowsRead(), sr.Accepted(), sr.QuarantineCounts(), sr.CurrencyCounts(),
				r.RowsRead(), r.Accepted(), r.QuarantineCounts(), r.CurrencyCounts())
		}
	}
}

// badSampleEvents is sampleEvents(n) with every 17th row broken in one of
// several ways: missing or unknown values, negative or too large money,
// invalid UTF-8 (in an id, a product id, a dictionary-encoded column, and
// split across two values), times outside the supported range.
func badSampleEvents(n int) []Event {
	evs := sampleEvents(n)
	for i := 5; i < n; i += 17 {
		e := &evs[i]
		switch (i / 17) % 14 {
		case 0:
			e.ShopID = ""
		case 1:
			e.Kind = "refund"
		case 2:
			e.CartValueCents, e.HasCartValue = -5, true
		case 3:
			e.Sender = "bot"
		case 4:
			e.EventID = ""
		case 5:
			e.ItemCount, e.HasItemCount = -1, true
		case 6:
			e.BuyerID = ""
		case 7:
			e.EventID = "e\xff\xfe"
		case 8:
			e.ShopID = "shop\xc3" // dictionary-encoded by our writer
		case 9:
			e.Kind, e.ProductIDs = KindCartUpdate, []string{"p1", "p\xe2\x82"}
			e.CartToken, e.ItemCount, e.HasItemCount, e.CartValueCents, e.HasCartValue = "c", 1, true, 5, true
		case 10:
			// "\xc3" ends this id and "\xa9" starts the next row's: the page
			// holds a valid "é", but neither value is valid alone.
			e.EventID = "e\xc3"
			if i+1 < n {
				evs[i+1].EventID = "\xa9e"
			}
		case 11:
			e.EventTime = 253402300800000000 // year 10000
		case 12:
			e.IngestTime, e.HasIngestTime = MaxTime, true
		case 13:
			e.Kind, e.OrderID, e.OrderValueCents, e.HasOrderValue = KindOrderPlaced, "o", MaxMoneyCents+1, true
		}
	}
	return evs
}

// TestScanEqualsNext: Scan (page decoder) and Next (Arrow decoder) read the
// same events, quarantined rows and counts from our writer's files (many
// row groups and pages, broken rows), the committed log, a column
// selection, and several files at once.
func TestScanEqualsNext(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.parquet", writeParquet(t, badSampleEvents(5000), WithRowGroupRows(700)))
	b := writeFile(t, dir, "b.parquet", writeParquet(t, sampleEvents(300)))
	c := writeFile(t, dir, "c.jsonl", jsonlBytes(t, badSampleEvents(200)))
	if !usesPages(t, a, nil) {
		t.Fatal("our writer's file is not read by the page decoder")
	}
	committed := filepath.Join("..", "testdata", "events", "events.parquet")
	for _, workers := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) {
			checkScanEqualsNext(t, []string{a}, ReadOptions{Workers: workers})
			checkScanEqualsNext(t, []string{b, c, a}, ReadOptions{Workers: workers})
			checkScanEqualsNext(t, []string{committed}, ReadOptions{Workers: workers})
			checkScanEqualsNext(t, []string{a, committed}, ReadOptions{Workers: workers, Columns: []string{"ingest_time", "product_ids", "cart_token"}})
		})
	}
}

// arrowVariant is how writeArrowEvents writes a file.
type arrowVariant struct {
	name     string
	unit     arrow.TimeUnit
	item     arrow.DataType // int32, int64 or uint32
	large    bool           // large_string ids and a large_list of products
	dict     bool           // dictionary encoding
	v1       bool           // data page v1
	codec    compress.Compression
	pageSize int64
	pages    bool // the page decoder must read it
}

// writeArrowEvents writes evs with arrow-go pqarrow, every column nullable;
// rows with index%23 == 7 get nulls in required columns, %29 == 3 a null
// product list, %31 == 4 a null product entry, %37 == 1 an item_count
// beyond 32 bits (when the column is 64 bits wide), %41 == 9 an
// event_time before 1970 (negative: ns must be floored, not truncated).
func writeArrowEvents(t *testing.T, evs []Event, v arrowVariant) []byte {
	t.Helper()
	str := arrow.BinaryTypes.String
	if v.large {
		str = arrow.BinaryTypes.LargeString
	}
	var list arrow.DataType = arrow.ListOf(str)
	if v.large {
		list = arrow.LargeListOf(str)
	}
	ts := &arrow.TimestampType{Unit: v.unit, TimeZone: "UTC"}
	fields := []arrow.Field{
		{Name: "event_id", Type: str}, {Name: "kind", Type: arrow.BinaryTypes.String}, {Name: "event_time", Type: ts},
		{Name: "ingest_time", Type: ts}, {Name: "shop_id", Type: arrow.BinaryTypes.String}, {Name: "buyer_id", Type: str},
		{Name: "conversation_id", Type: str}, {Name: "channel", Type: arrow.BinaryTypes.String}, {Name: "sender", Type: arrow.BinaryTypes.String},
		{Name: "cart_token", Type: str}, {Name: "item_count", Type: v.item}, {Name: "cart_value_cents", Type: arrow.PrimitiveTypes.Int64},
		{Name: "product_ids", Type: list}, {Name: "order_id", Type: str}, {Name: "order_value_cents", Type: arrow.PrimitiveTypes.Int64},
		{Name: "currency", Type: arrow.BinaryTypes.String},
	}
	for i := range fields {
		fields[i].Nullable = true
	}
	sc := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	scale := map[arrow.TimeUnit]int64{arrow.Millisecond: 1, arrow.Microsecond: 1000, arrow.Nanosecond: 1_000_000}[v.unit]
	appendStr := func(f int, s string, null bool) {
		switch fb := b.Field(f).(type) {
		case *array.StringBuilder:
			if null {
				fb.AppendNull()
			} else {
				fb.Append(s)
			}
		case *array.LargeStringBuilder:
			if null {
				fb.AppendNull()
			} else {
				fb.Append(s)
			}
		}
	}
	appendTime := func(f int, us int64, ok bool) {
		tb := b.Field(f).(*array.TimestampBuilder)
		if !ok {
			tb.AppendNull()
			return
		}
		// ms: drop the µs part (the reader gets whole ms); ns: add 999 ns
		// to check flooring.
		switch v.unit {
		case arrow.Millisecond:
			if us == math.MaxInt64 {
				tb.Append(arrow.Timestamp(math.MaxInt64/1000 + 5)) // times 1000 would wrap around
				return
			}
			tb.Append(arrow.Timestamp(us / 1000))
		case arrow.Nanosecond:
			tb.Append(arrow.Timestamp(us*1000 + 999))
		default:
			tb.Append(arrow.Timestamp(us * scale / 1000))
		}
	}
	appendInt := func(f int, x int64, ok bool) {
		switch fb := b.Field(f).(type) {
		case *array.Int64Builder:
			if ok {
				fb.Append(x)
			} else {
				fb.AppendNull()
			}
		case *array.Int32Builder:
			if ok {
				fb.Append(int32(x))
			} else {
				fb.AppendNull()
			}
		case *array.Uint32Builder:
			if ok {
				fb.Append(uint32(x))
			} else {
				fb.AppendNull()
			}
		}
	}
	for i, e := range evs {
		nullReq := i%23 == 7
		appendStr(0, e.EventID, nullReq && i%2 == 0 || e.EventID == "")
		appendStr(1, string(e.Kind), e.Kind == "")
		switch {
		case i%41 == 9:
			e.EventTime = -1_234_567_891
		case i%43 == 2 && v.unit == arrow.Millisecond:
			e.EventTime = math.MaxInt64 // written as a ms value whose µs saturate (appendTime)
		}
		appendTime(2, e.EventTime, !(nullReq && i%2 == 1))
		appendTime(3, e.IngestTime, e.HasIngestTime)
		appendStr(4, e.ShopID, e.ShopID == "")
		appendStr(5, e.BuyerID, e.BuyerID == "")
		appendStr(6, e.ConversationID, e.ConversationID == "")
		appendStr(7, e.Channel, e.Channel == "")
		appendStr(8, e.Sender, e.Sender == "")
		appendStr(9, e.CartToken, e.CartToken == "")
		ic := int64(e.ItemCount)
		if i%37 == 1 && v.item.ID() == arrow.INT64 {
			ic, e.HasItemCount = 1<<33, true
		}
		appendInt(10, ic, e.HasItemCount)
		appendInt(11, e.CartValueCents, e.HasCartValue)
		switch lb := b.Field(12).(type) {
		case *array.ListBuilder:
			appendList(lb, lb.ValueBuilder(), e.ProductIDs, i)
		case *array.LargeListBuilder:
			appendList(lb, lb.ValueBuilder(), e.ProductIDs, i)
		}
		appendStr(13, e.OrderID, e.OrderID == "")
		appendInt(14, e.OrderValueCents, e.HasOrderValue)
		appendStr(15, e.Currency, e.Currency == "")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	opts := []parquet.WriterProperty{parquet.WithDictionaryDefault(v.dict), parquet.WithCompression(v.codec)}
	if v.v1 {
		opts = append(opts, parquet.WithDataPageVersion(parquet.DataPageV1))
	}
	if v.pageSize > 0 {
		opts = append(opts, parquet.WithDataPageSize(v.pageSize), parquet.WithBatchSize(64))
	}
	var buf bytes.Buffer
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	if err := pqarrow.WriteTable(tbl, &buf, 1500, parquet.NewWriterProperties(opts...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type listAppender interface {
	Append(bool)
	AppendNull()
}

func appendList(lb listAppender, vb array.Builder, ps []string, i int) {
	switch {
	case i%29 == 3:
		lb.AppendNull()
		return
	case len(ps) == 0 && i%2 == 0:
		lb.Append(true) // an empty list rather than a null one
		return
	case len(ps) == 0:
		lb.AppendNull()
		return
	}
	lb.Append(true)
	sb := vb.(interface {
		Append(string)
		AppendNull()
	})
	for j, p := range ps {
		if i%31 == 4 && j == 0 {
			sb.AppendNull()
			continue
		}
		sb.Append(p)
	}
}

// TestScanArrowWritten: files as arrow-go (and so pyarrow) write them:
// nullable columns with nulls where the schema requires values, ms and ns
// timestamps, 64-bit item counts (some beyond 32 bits), large strings and
// lists, null and empty lists and null entries, dictionary or plain
// encoding, data pages v1 and v2, several codecs and small pages (values of
// a batch spread over pages). Scan must read what Next reads; files with
// unsigned item counts go to the Arrow decoder.
func TestScanArrowWritten(t *testing.T) {
	evs := badSampleEvents(4000)
	variants := []arrowVariant{
		{name: "dict-v2-zstd", unit: arrow.Microsecond, item: arrow.PrimitiveTypes.Int32, dict: true, codec: compress.Codecs.Zstd, pages: true},
		{name: "plain-v1-snappy-ns-smallpages", unit: arrow.Nanosecond, item: arrow.PrimitiveTypes.Int64, codec: compress.Codecs.Snappy, v1: true, pageSize: 512, pages: true},
		{name: "dict-v1-gzip-ms-large", unit: arrow.Millisecond, item: arrow.PrimitiveTypes.Int64, large: true, dict: true, v1: true, codec: compress.Codecs.Gzip, pageSize: 2048, pages: true},
		{name: "plain-v2-uncompressed-smallpages", unit: arrow.Microsecond, item: arrow.PrimitiveTypes.Int32, codec: compress.Codecs.Uncompressed, pageSize: 300, pages: true},
		{name: "unsigned", unit: arrow.Microsecond, item: arrow.PrimitiveTypes.Uint32, dict: true, codec: compress.Codecs.Snappy},
	}
	dir := t.TempDir()
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			p := writeFile(t, dir, v.name+".parquet", writeArrowEvents(t, evs, v))
			if got := usesPages(t, p, nil); got != v.pages {
				t.Fatalf("page decoder used: %v, want %v", got, v.pages)
			}
			checkScanEqualsNext(t, []string{p}, ReadOptions{Workers: 2})
			checkScanEqualsNext(t, []string{p}, ReadOptions{Workers: 2, Columns: []string{"product_ids", "item_count"}})
		})
	}
}

// TestScanStrict: with Strict, Scan fails with the first bad row in input
// order, as Next does, whatever the worker count.
func TestScanStrict(t *testing.T) {
	dir := t.TempDir()
	evs := sampleEvents(3000)
	evs[2500].ShopID = "" // in a later row group: an earlier worker must not win
	evs[1900].Kind = "refund"
	a := writeFile(t, dir, "a.parquet", writeParquet(t, evs, WithRowGroupRows(400)))
	b := writeFile(t, dir, "b.jsonl", jsonlBytes(t, badSampleEvents(100)))
	for _, paths := range [][]string{{a}, {b, a}, {a, b}} {
		_, _, nextErr := ReadAll(paths, ReadOptions{Strict: true})
		for _, workers := range []int{1, 2, 4} {
			_, _, _, err := scanAll(t, paths, ReadOptions{Strict: true, Workers: workers})
			var re *RowError
			if !errors.As(err, &re) || err.Error() != nextErr.Error() {
				t.Errorf("%v workers=%d: Scan error %v, Next error %v", paths, workers, err, nextErr)
			}
		}
	}
}

// TestScanVisitError: an error from visit stops the scan and is returned.
func TestScanVisitError(t *testing.T) {
	p := writeFile(t, t.TempDir(), "a.parquet", writeParquet(t, sampleEvents(3000), WithRowGroupRows(300)))
	r, err := Open([]string{p}, ReadOptions{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	stop := errors.New("stop")
	err = r.Scan(func(int, []Event) error { return stop })
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want stop", err)
	}
	if _, err := r.Next(); err == nil {
		t.Error("Next after a failed Scan returned no error")
	}
}

// TestScanCorruptParquetNeverPanics: the damaged files of
// TestCorruptParquetNeverPanics (parquetsafe.Corruptions of the committed
// log and of a file with several row groups) read with Scan end in valid
// rows (the same as Next's when Next reads it too) or in an error naming
// the file, never a panic.
func TestScanCorruptParquetNeverPanics(t *testing.T) {
	dir := t.TempDir()
	for _, src := range corruptSources(t) {
		errs := 0
		for i, c := range src.cs {
			p := writeFile(t, dir, src.name+"-"+itoa(int64(i))+".parquet", c.Data)
			for _, workers := range []int{1, 2} {
				_, _, _, err := scanAll(t, []string{p}, ReadOptions{Workers: workers})
				if err != nil {
					errs++
					if !strings.Contains(err.Error(), p) {
						t.Errorf("%s %s (workers %d): error does not name the file: %v", src.name, c.Name, workers, err)
					}
				}
			}
		}
		t.Logf("%s: %d corruptions, %d scans failed cleanly", src.name, len(src.cs), errs)
	}
}

// TestScanCorruptPages: damaged pages are an error naming the file and the
// row group, never a panic or a hang.
func TestScanCorruptPages(t *testing.T) {
	good := writeParquet(t, sampleEvents(2000), WithRowGroupRows(500))
	for seed := 0; seed < 8; seed++ {
		bad := bytes.Clone(good)
		for i := 100 + seed*13; i < len(bad)/2; i += 7 + seed {
			bad[i] ^= byte(0x5a + seed)
		}
		p := writeFile(t, t.TempDir(), "c.parquet", bad)
		r, err := Open([]string{p}, ReadOptions{Workers: 2})
		if err != nil {
			continue // the footer check caught it
		}
		err = r.Scan(func(int, []Event) error { return nil })
		r.Close()
		if err == nil {
			continue // the damage happened to leave valid pages
		}
		if !strings.Contains(err.Error(), "c.parquet") {
			t.Errorf("seed %d: error does not name the file: %v", seed, err)
		}
	}
}

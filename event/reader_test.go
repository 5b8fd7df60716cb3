package event

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func jsonlBytes(t testing.TB, evs []Event) []byte {
	var buf bytes.Buffer
	if err := WriteJSONL(&buf, evs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func checkSame(t *testing.T, want, got []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d", len(got), len(want))
	}
	for i := range want {
		if d := diffEvent(want[i], got[i]); d != "" {
			t.Fatalf("event %d: %s", i, d)
		}
	}
}

// TestReadParquetRoundTrip writes with many small row groups and reads with
// two workers and small batches: events must come back identical and in
// file order, with File and Row provenance.
func TestReadParquetRoundTrip(t *testing.T) {
	evs := sampleEvents(1000)
	dir := t.TempDir()
	p := writeFile(t, dir, "a.parquet", writeParquet(t, evs, WithRowGroupRows(97)))
	for _, workers := range []int{1, 2, 3} {
		got, r, err := ReadAll([]string{p}, ReadOptions{Workers: workers, BatchSize: 40})
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, evs, got)
		for i, e := range got {
			if e.File != 0 || e.Row != int64(i+1) {
				t.Fatalf("workers=%d event %d: File=%d Row=%d, want 0 and %d", workers, i, e.File, e.Row, i+1)
			}
		}
		if r.TotalRows() != 1000 || r.RowsRead() != 1000 || r.Accepted() != 1000 {
			t.Errorf("TotalRows=%d RowsRead=%d Accepted=%d, want 1000 each", r.TotalRows(), r.RowsRead(), r.Accepted())
		}
	}
}

// TestReadParquetUnordered: with Unordered, every event arrives exactly once
// with its File and Row (the same set as in input order), whatever order the
// row groups finish in; with Strict the option is ignored (input order).
func TestReadParquetUnordered(t *testing.T) {
	evs := sampleEvents(3000)
	dir := t.TempDir()
	p := writeFile(t, dir, "a.parquet", writeParquet(t, evs, WithRowGroupRows(250)))
	for _, workers := range []int{1, 2, 3} {
		got, r, err := ReadAll([]string{p}, ReadOptions{Workers: workers, BatchSize: 40, Unordered: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(evs) || r.RowsRead() != int64(len(evs)) {
			t.Fatalf("workers=%d: %d events, %d rows read, want %d", workers, len(got), r.RowsRead(), len(evs))
		}
		seen := make([]bool, len(evs))
		for _, e := range got {
			i := int(e.Row) - 1
			if e.File != 0 || i < 0 || i >= len(evs) || seen[i] {
				t.Fatalf("workers=%d: event with File=%d Row=%d duplicated or out of range", workers, e.File, e.Row)
			}
			seen[i] = true
			if d := diffEvent(evs[i], e); d != "" {
				t.Fatalf("workers=%d row %d: %s", workers, e.Row, d)
			}
		}
	}
	got, _, err := ReadAll([]string{p}, ReadOptions{Workers: 2, BatchSize: 40, Unordered: true, Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, evs, got)
}

// TestReadColumnsSubset reads only the required columns plus item_count.
func TestReadColumnsSubset(t *testing.T) {
	evs := sampleEvents(50)
	p := writeFile(t, t.TempDir(), "a.parquet", writeParquet(t, evs))
	got, _, err := ReadAll([]string{p}, ReadOptions{Columns: []string{"item_count", "cart_token", "cart_value_cents"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 {
		t.Fatalf("got %d events", len(got))
	}
	for i, e := range got {
		w := evs[i]
		if e.EventID != w.EventID || e.Kind != w.Kind || e.EventTime != w.EventTime || e.ItemCount != w.ItemCount || e.HasItemCount != w.HasItemCount {
			t.Fatalf("event %d: got %+v want %+v", i, e, w)
		}
		if e.OrderID != "" || e.HasIngestTime || e.ProductIDs != nil {
			t.Fatalf("event %d: unselected columns were read: %+v", i, e)
		}
	}
	if _, err := Open([]string{p}, ReadOptions{Columns: []string{"nope"}}); err == nil || !strings.Contains(err.Error(), `unknown column "nope"`) {
		t.Errorf("unknown column selection: err = %v", err)
	}
}

func TestReadJSONLRoundTripAndMultipleFiles(t *testing.T) {
	evs := sampleEvents(300)
	dir := t.TempDir()
	// Files in a folder are read sorted by name; hidden files are skipped.
	writeFile(t, dir, "b.jsonl", jsonlBytes(t, evs[100:]))
	writeFile(t, dir, "a.ndjson", jsonlBytes(t, evs[:100]))
	writeFile(t, dir, ".a.jsonl.tmp-1", []byte("garbage"))
	writeFile(t, dir, "README.md", []byte("not events"))
	got, r, err := ReadAll([]string{dir}, ReadOptions{BatchSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, evs, got)
	if got[100].File != 1 || got[100].Row != 1 || got[99].Row != 100 {
		t.Errorf("provenance: got[99]=(%d,%d) got[100]=(%d,%d)", got[99].File, got[99].Row, got[100].File, got[100].Row)
	}
	if r.TotalRows() != -1 {
		t.Errorf("TotalRows for text = %d, want -1", r.TotalRows())
	}
	if fs := r.Files(); len(fs) != 2 || filepath.Base(fs[0].Path) != "a.ndjson" {
		t.Errorf("files = %+v", fs)
	}
}

func TestReadGlobMixedFormats(t *testing.T) {
	evs := sampleEvents(30)
	dir := t.TempDir()
	writeFile(t, dir, "part-1.parquet", writeParquet(t, evs[:10]))
	writeFile(t, dir, "part-2.jsonl", jsonlBytes(t, evs[10:20]))
	writeFile(t, dir, "part-3.csv", csvBytes(t, evs[20:]))
	got, _, err := ReadAll([]string{filepath.Join(dir, "part-*")}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, evs, got)
}

// csvBytes renders events as CSV by hand (an independent writer), with an
// extra unknown column that must be ignored.
func csvBytes(t testing.TB, evs []Event) []byte {
	var sb strings.Builder
	sb.WriteString("event_id,kind,event_time,ingest_time,shop_id,buyer_id,conversation_id,channel,sender,cart_token,item_count,cart_value_cents,product_ids,order_id,order_value_cents,currency,extra\n")
	for _, e := range evs {
		it := ""
		if e.HasIngestTime {
			it = FormatTimestamp(e.IngestTime)
		}
		n := func(v int64, ok bool) string {
			if !ok {
				return ""
			}
			return strings.TrimSpace(strings.Replace(string(rune(0)), "\x00", "", 1)) + itoa(v)
		}
		f := []string{e.EventID, string(e.Kind), FormatTimestamp(e.EventTime), it, e.ShopID, e.BuyerID, e.ConversationID, e.Channel, e.Sender, e.CartToken,
			n(int64(e.ItemCount), e.HasItemCount), n(e.CartValueCents, e.HasCartValue), strings.Join(e.ProductIDs, "|"), e.OrderID, n(e.OrderValueCents, e.HasOrderValue), e.Currency, "x"}
		sb.WriteString(strings.Join(f, ","))
		sb.WriteString("\n")
	}
	return []byte(sb.String())
}

func itoa(v int64) string {
	if v == 0 {
		return "0"
	}
	neg := v < 0
	if neg {
		v = -v
	}
	var b []byte
	for v > 0 {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

func TestReadCSVRoundTrip(t *testing.T) {
	evs := sampleEvents(200)
	p := writeFile(t, t.TempDir(), "e.csv", csvBytes(t, evs))
	got, _, err := ReadAll([]string{p}, ReadOptions{BatchSize: 33})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, evs, got)
	if got[0].Row != 2 {
		t.Errorf("first CSV row is line %d, want 2 (after the header)", got[0].Row)
	}
}

// TestQuarantine feeds one bad row per reason through JSONL and CSV and
// checks reason, column, row, counts, and the strict-mode error.
func TestQuarantine(t *testing.T) {
	good := `{"event_id":"g1","kind":"page_view","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b"}`
	cases := []struct {
		line   string
		reason Reason
		column string
	}{
		{`{"kind":"page_view","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b"}`, ReasonMissingField, "event_id"},
		{`{"event_id":"x","kind":"refund","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b"}`, ReasonUnknownKind, "kind"},
		{`{"event_id":"x","kind":"order_placed","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b","order_id":"o","order_value_cents":-5}`, ReasonNegativeMoney, "order_value_cents"},
		{`{"event_id":"x","kind":"page_view","event_time":"yesterday","shop_id":"s","buyer_id":"b"}`, ReasonBadTimestamp, "event_time"},
		{`{"event_id":"x","kind":"cart_update","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b","cart_token":"c","item_count":-1,"cart_value_cents":0}`, ReasonBadValue, "item_count"},
		{`{"event_id":"x","kind":"cart_update","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b","cart_token":"c","item_count":2}`, ReasonMissingField, "cart_value_cents"},
		{`{"event_id":"x","kind":"message","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b","conversation_id":"c","sender":"bot"}`, ReasonBadValue, "sender"},
		{`{"event_id":"x","kind":"page_view","shop_id":"s","buyer_id":"b"}`, ReasonMissingField, "event_time"},
		{`{"event_id":"x","kind":"page_view","event_time":`, ReasonMalformedRow, ""},
	}
	var lines []string
	for _, c := range cases {
		lines = append(lines, good, c.line)
	}
	p := writeFile(t, t.TempDir(), "q.jsonl", []byte(strings.Join(lines, "\n")+"\n"))
	got, r, err := ReadAll([]string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(cases) {
		t.Errorf("accepted %d events, want %d", len(got), len(cases))
	}
	q := r.Quarantined()
	if len(q) != len(cases) {
		t.Fatalf("quarantined %d rows, want %d: %+v", len(q), len(cases), q)
	}
	for i, c := range cases {
		if q[i].Reason != c.reason || q[i].Column != c.column || q[i].Row != int64(2*i+2) || q[i].Raw != c.line {
			t.Errorf("case %d: got %+v, want reason %s column %q row %d", i, q[i], c.reason, c.column, 2*i+2)
		}
	}
	if r.QuarantineCounts()[ReasonMissingField] != 3 || r.QuarantinedRows() != int64(len(cases)) {
		t.Errorf("counts = %v", r.QuarantineCounts())
	}

	_, _, err = ReadAll([]string{p}, ReadOptions{Strict: true})
	var re *RowError
	if !errors.As(err, &re) {
		t.Fatalf("strict: err = %v, want *RowError", err)
	}
	want := "q.jsonl: row 2: column event_id: required column event_id is missing or empty (missing_field)"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("strict error = %q, want it to contain %q", err, want)
	}
}

func TestQuarantineCSV(t *testing.T) {
	data := "event_id,kind,event_time,shop_id,buyer_id,cart_token,item_count,cart_value_cents\n" +
		"a,page_view,2026-03-01T10:00:00Z,s,b,,,\n" +
		"b,cart_update,2026-03-01T10:00:00Z,s,b,c,1.5,100\n" +
		"c,cart_update,2026-03-01T10:00:00Z,s,b,c,1,-100\n" +
		"d,page_view,2026-03-01T10:00:00Z,s\n" +
		"e,page_view,1772359200000000,s,b,,,\n"
	p := writeFile(t, t.TempDir(), "q.csv", []byte(data))
	got, r, err := ReadAll([]string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[1].EventTime != 1772359200000000 || got[0].EventTime != 1772359200000000 {
		t.Fatalf("got %+v", got)
	}
	q := r.Quarantined()
	want := []struct {
		row    int64
		reason Reason
		col    string
	}{{3, ReasonBadValue, "item_count"}, {4, ReasonNegativeMoney, "cart_value_cents"}, {5, ReasonMalformedRow, ""}}
	if len(q) != len(want) {
		t.Fatalf("quarantined %+v", q)
	}
	for i, w := range want {
		if q[i].Row != w.row || q[i].Reason != w.reason || q[i].Column != w.col {
			t.Errorf("quarantine %d = %+v, want %+v", i, q[i], w)
		}
	}
}

// TestParquetQuarantine writes rows that break the schema through the
// writer (which does not validate) and checks they are quarantined on read.
func TestParquetQuarantine(t *testing.T) {
	evs := sampleEvents(10)
	evs[3].ShopID = ""
	evs[5].Kind = "refund"
	p := writeFile(t, t.TempDir(), "q.parquet", writeParquet(t, evs, WithRowGroupRows(4)))
	got, r, err := ReadAll([]string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 {
		t.Errorf("accepted %d, want 8", len(got))
	}
	q := r.Quarantined()
	if len(q) != 2 || q[0].Row != 4 || q[0].Column != "shop_id" || q[1].Row != 6 || q[1].Reason != ReasonUnknownKind {
		t.Fatalf("quarantined %+v", q)
	}
	if !strings.Contains(q[1].Raw, `"kind":"refund"`) {
		t.Errorf("raw = %s", q[1].Raw)
	}
	_, _, err = ReadAll([]string{p}, ReadOptions{Strict: true})
	if err == nil || !strings.Contains(err.Error(), "q.parquet: row 4: column shop_id:") {
		t.Errorf("strict error = %v", err)
	}
}

func TestOnQuarantineCallback(t *testing.T) {
	p := writeFile(t, t.TempDir(), "q.jsonl", []byte("{}\n{}\n"))
	var n int
	_, r, err := ReadAll([]string{p}, ReadOptions{OnQuarantine: func(Quarantined) error { n++; return nil }})
	if err != nil || n != 2 || len(r.Quarantined()) != 0 {
		t.Fatalf("err=%v n=%d kept=%d", err, n, len(r.Quarantined()))
	}
	stop := errors.New("stop")
	_, _, err = ReadAll([]string{p}, ReadOptions{OnQuarantine: func(Quarantined) error { return stop }})
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want stop", err)
	}
}

// TestFileErrors checks each file-level error: an error (not a panic) whose
// message names the file and says what is wrong.
func TestFileErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeParquet(t, sampleEvents(20))
	cases := []struct {
		name string
		path func() string
		want string
	}{
		{"not parquet", func() string { return writeFile(t, dir, "x.parquet", []byte("event_id,kind\nhello,world\n")) }, "x.parquet: not a Parquet file (no PAR1 magic at the start)"},
		{"empty parquet", func() string { return writeFile(t, dir, "empty.parquet", nil) }, "empty.parquet: file is empty (0 bytes)"},
		{"empty jsonl", func() string { return writeFile(t, dir, "empty.jsonl", nil) }, "empty.jsonl: file is empty"},
		{"empty csv", func() string { return writeFile(t, dir, "empty.csv", nil) }, "empty.csv: file is empty"},
		{"truncated parquet", func() string { return writeFile(t, dir, "trunc.parquet", good[:len(good)/2]) }, "trunc.parquet: truncated Parquet file (no PAR1 footer at the end)"},
		{"missing file", func() string { return filepath.Join(dir, "nope.parquet") }, "nope.parquet: no such file or folder"},
		{"glob without match", func() string { return filepath.Join(dir, "*.nothing") }, "matches no file"},
		{"unsupported extension", func() string { return writeFile(t, dir, "x.txt", []byte("x")) }, "x.txt: unsupported file type"},
		{"csv missing column", func() string { return writeFile(t, dir, "m.csv", []byte("event_id,kind,shop_id,buyer_id\n")) }, "m.csv: header has no event_time column"},
		{"parquet missing column", func() string { return writeFile(t, dir, "m.parquet", otherParquet(t, false)) }, "m.parquet: missing required column buyer_id"},
		{"parquet wrong type", func() string { return writeFile(t, dir, "w.parquet", otherParquet(t, true)) }, "w.parquet: column event_time has type utf8, want timestamp"},
		{"empty folder", func() string { d := filepath.Join(dir, "sub"); os.Mkdir(d, 0o755); return d }, "folder has no .parquet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ReadAll([]string{c.path()}, ReadOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error = %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

// TestCorruptParquetBody flips bytes inside the data pages: the read must
// fail with an error, never panic or hang.
func TestCorruptParquetBody(t *testing.T) {
	good := writeParquet(t, sampleEvents(2000), WithRowGroupRows(500))
	bad := bytes.Clone(good)
	for i := 100; i < len(bad)/2; i += 7 {
		bad[i] ^= 0x5a
	}
	p := writeFile(t, t.TempDir(), "c.parquet", bad)
	r, err := Open([]string{p}, ReadOptions{})
	if err != nil {
		return // the footer check caught it: fine
	}
	defer r.Close()
	for {
		_, err := r.Next()
		if err == io.EOF {
			t.Fatal("corrupt data read without error")
		}
		if err != nil {
			if !strings.Contains(err.Error(), "c.parquet") {
				t.Errorf("error does not name the file: %v", err)
			}
			return
		}
	}
}

// TestEmptyButValid: a header-only CSV and a Parquet file with no rows are
// valid logs with no events (unlike 0-byte files).
func TestEmptyButValid(t *testing.T) {
	dir := t.TempDir()
	csvPath := writeFile(t, dir, "h.csv", []byte("event_id,kind,event_time,shop_id,buyer_id\n"))
	pq := writeFile(t, dir, "z.parquet", writeParquet(t, nil))
	evs, r, err := ReadAll([]string{csvPath, pq}, ReadOptions{})
	if err != nil || len(evs) != 0 || r.RowsRead() != 0 {
		t.Fatalf("events %d, rows %d, err %v", len(evs), r.RowsRead(), err)
	}
}

func TestReadGzip(t *testing.T) {
	evs := sampleEvents(50)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(jsonlBytes(t, evs))
	zw.Close()
	dir := t.TempDir()
	p := writeFile(t, dir, "e.jsonl.gz", buf.Bytes())
	got, _, err := ReadAll([]string{p}, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, evs, got)
	bad := writeFile(t, dir, "bad.csv.gz", []byte("not gzip at all"))
	if _, _, err := ReadAll([]string{bad}, ReadOptions{}); err == nil || !strings.Contains(err.Error(), "bad.csv.gz: not a valid gzip file") {
		t.Errorf("err = %v", err)
	}
}

// TestCloseEarly stops reading after one batch: Close must stop the
// decoding goroutines (none left behind) and later calls must fail cleanly.
func TestCloseEarly(t *testing.T) {
	p := writeFile(t, t.TempDir(), "a.parquet", writeParquet(t, sampleEvents(5000), WithRowGroupRows(500)))
	before := runtime.NumGoroutine()
	r, err := Open([]string{p}, ReadOptions{BatchSize: 100, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	r.Close()
	if _, err := r.Next(); err == nil || err == io.EOF {
		t.Errorf("Next after Close: err = %v, want an error", err)
	}
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

// TestMissingTimePrecedence: a row missing both event_id and event_time is
// reported for event_id (column order) in every format.
func TestMissingTimePrecedence(t *testing.T) {
	dir := t.TempDir()
	evs := sampleEvents(1)
	evs[0].EventID = ""
	pq := writeFile(t, dir, "a.parquet", writeParquetNoTime(t, evs))
	js := writeFile(t, dir, "a.jsonl", []byte(`{"kind":"page_view","shop_id":"s","buyer_id":"b"}`+"\n"))
	cs := writeFile(t, dir, "a.csv", []byte("event_id,kind,event_time,shop_id,buyer_id\n,page_view,,s,b\n"))
	for _, p := range []string{pq, js, cs} {
		_, r, err := ReadAll([]string{p}, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if q := r.Quarantined(); len(q) != 1 || q[0].Column != "event_id" {
			t.Errorf("%s: quarantined %+v, want event_id", filepath.Base(p), q)
		}
	}
}

// TestReadManyParquetFiles reads several Parquet files (the next one is
// opened ahead while the current one is read): order and provenance must
// hold, errors must come in file order, and Close must stop everything.
func TestReadManyParquetFiles(t *testing.T) {
	dir := t.TempDir()
	evs := sampleEvents(900)
	var paths []string
	for i := 0; i < 3; i++ {
		paths = append(paths, writeFile(t, dir, "p"+itoa(int64(i))+".parquet", writeParquet(t, evs[i*300:(i+1)*300], WithRowGroupRows(70))))
	}
	got, r, err := ReadAll(paths, ReadOptions{BatchSize: 32})
	if err != nil {
		t.Fatal(err)
	}
	checkSame(t, evs, got)
	if got[300].File != 1 || got[300].Row != 1 || got[899].File != 2 || got[899].Row != 300 {
		t.Errorf("provenance: %d/%d %d/%d", got[300].File, got[300].Row, got[899].File, got[899].Row)
	}
	if r.TotalRows() != 900 {
		t.Errorf("TotalRows = %d", r.TotalRows())
	}

	// A bad row in file 0 (strict) is reported before a corrupt file 1,
	// although file 1 is opened ahead.
	bad := sampleEvents(10)
	bad[4].BuyerID = ""
	first := writeFile(t, dir, "q0.parquet", writeParquet(t, bad))
	good := writeParquet(t, sampleEvents(50), WithRowGroupRows(10))
	corrupt := bytes.Clone(good)
	for i := 50; i < len(corrupt)/2; i += 5 {
		corrupt[i] ^= 0xff
	}
	second := writeFile(t, dir, "q1.parquet", corrupt)
	if _, _, err := ReadAll([]string{second}, ReadOptions{}); err == nil {
		t.Fatal("the corrupted file reads without error; the test needs a corrupt file")
	}
	_, _, err = ReadAll([]string{first, second}, ReadOptions{Strict: true})
	var re *RowError
	if !errors.As(err, &re) || re.Q.Path != first || re.Q.Row != 5 {
		t.Fatalf("err = %v, want the strict error of %s row 5", err, first)
	}

	before := runtime.NumGoroutine()
	r2, err := Open(paths, ReadOptions{BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	r2.Next()
	r2.Close()
	for i := 0; i < 100 && runtime.NumGoroutine() > before; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Errorf("%d goroutines after Close, %d before", n, before)
	}
}

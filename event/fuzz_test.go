package event

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// The fuzzers check that the parsers never panic or hang on any input and
// that what they accept is valid: every accepted event passes Validate, and
// every quarantined row has a known reason. Seeds live in testdata/fuzz/.
// Run: go test ./event -run '^$' -fuzz FuzzJSONL -fuzztime 20s

func knownReason(r Reason) bool {
	for _, k := range Reasons {
		if r == k {
			return true
		}
	}
	return false
}

func fuzzRead(t *testing.T, name string, data []byte) {
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	evs, r, err := ReadAll([]string{p}, ReadOptions{BatchSize: 7})
	if err != nil {
		return // a file-level error is a fine answer; a panic is not
	}
	for i := range evs {
		if p := Validate(&evs[i]); p != nil {
			t.Fatalf("accepted an invalid event %+v: %+v", evs[i], p)
		}
	}
	for _, q := range r.Quarantined() {
		if !knownReason(q.Reason) {
			t.Fatalf("unknown reason %q", q.Reason)
		}
	}
	if r.RowsRead() != r.Accepted()+r.QuarantinedRows() {
		t.Fatalf("rows read %d != accepted %d + quarantined %d", r.RowsRead(), r.Accepted(), r.QuarantinedRows())
	}
}

func FuzzJSONL(f *testing.F) {
	f.Add([]byte(`{"event_id":"e1","kind":"cart_update","event_time":"2026-03-01T10:00:00Z","shop_id":"s","buyer_id":"b","cart_token":"c","item_count":2,"cart_value_cents":1999,"product_ids":["p1","p2"]}` + "\n"))
	f.Add([]byte(`{"event_id":"e1","kind":"message","event_time":1772359200000000,"shop_id":"s","buyer_id":"b","conversation_id":"c","sender":"buyer"}`))
	f.Add([]byte("{}\n\n[1,2]\n{\"event_id\":\"\\u00e9\"}"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "f.jsonl", data) })
}

func FuzzCSV(f *testing.F) {
	f.Add([]byte("event_id,kind,event_time,shop_id,buyer_id,product_ids\ne1,page_view,2026-03-01T10:00:00Z,s,b,p1|p2\n"))
	f.Add([]byte("event_id,kind,event_time,shop_id,buyer_id,cart_token,item_count,cart_value_cents\ne1,cart_update,2026-03-01T10:00:00+02:00,s,b,c,1,100\n\"a,b\n"))
	f.Add([]byte("\ufeffevent_id,kind,event_time,shop_id,buyer_id\n\"x\"\"y\",page_view,1,s,b\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzRead(t, "f.csv", data) })
}

// FuzzParquetSchema mutates valid event files (and other Parquet files): the
// schema check and the reader must return an error, never panic.
func FuzzParquetSchema(f *testing.F) {
	f.Add(writeParquet(f, sampleEvents(20), WithRowGroupRows(8)))
	f.Add(otherParquet(f, true))
	f.Add(otherParquet(f, false))
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := CheckParquetSchema("f.parquet", bytes.NewReader(data), int64(len(data))); err != nil {
			return
		}
		fuzzRead(t, "f.parquet", data)
	})
}

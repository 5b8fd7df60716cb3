package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/signalab/signalab/internal/parquetsafe"
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
		// quarantine.parquet must stay readable: valid UTF-8 everywhere.
		row := q.ToRow()
		for _, s := range []string{row.File, row.Column, row.Detail, row.Raw} {
			if !utf8.ValidString(s) {
				t.Fatalf("quarantine row %+v is not valid UTF-8", row)
			}
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
	// Damaged files (issue 16): flipped bytes in page headers (dictionary
	// and data pages), half-zeroed column chunks (truncated pages), files
	// cut mid-chunk; of a small multi-row-group file, and a sample of the
	// committed log's.
	small, err := parquetsafe.Corruptions(writeParquet(f, sampleEvents(40), WithRowGroupRows(16)))
	if err != nil {
		f.Fatal(err)
	}
	for i, c := range small {
		if i%3 == 0 {
			f.Add(c.Data)
		}
	}
	if data, err := os.ReadFile(filepath.Join("..", "testdata", "events", "events.parquet")); err == nil {
		committed, err := parquetsafe.Corruptions(data)
		if err != nil {
			f.Fatal(err)
		}
		for i, c := range committed {
			if i%10 == 0 {
				f.Add(c.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := CheckParquetSchema("f.parquet", bytes.NewReader(data), int64(len(data))); err != nil {
			return
		}
		fuzzRead(t, "f.parquet", data)
	})
}

// FuzzJSONScanDifferential checks the hand-written JSON scanner against
// encoding/json: the same lines are valid JSON objects, and the v1 keys get
// the same values (compared after decoding both with encoding/json).
func FuzzJSONScanDifferential(f *testing.F) {
	f.Add([]byte(`{"event_id":"e\u00e91","kind":"page_view","product_ids":["a","b\n"],"x":{"y":[1,2.5e-3,true,null]}}`))
	f.Add([]byte(` {"event_id" : "e1" , "event_id":"e2"} `))
	f.Add([]byte(`{"a":01}`))
	f.Add([]byte(`{"a":"\ud800"}`))
	f.Add([]byte("{\"event_id\":\"\xff\"}"))
	f.Add([]byte(`{"a":[1,]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		vals, err := scanJSONObject(line)
		var std map[string]json.RawMessage
		stdErr := json.Unmarshal(line, &std)
		if stdErr == nil && std == nil {
			stdErr = errors.New("null is not an object")
		}
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("%q: scanner err %v, encoding/json err %v", line, err, stdErr)
		}
		if err != nil {
			return
		}
		for fi, col := range Columns {
			want, ok := std[col]
			// encoding/json matches keys case-insensitively and decodes
			// escaped keys; the scanner matches exact keys only. Compare
			// only when the line has the key written plainly.
			if !bytes.Contains(line, []byte(`"`+col+`"`)) {
				continue
			}
			if !ok || vals[fi] == nil {
				continue
			}
			var a, b any
			if json.Unmarshal(vals[fi], &a) != nil || json.Unmarshal(want, &b) != nil {
				t.Fatalf("%q: key %s: raw values do not decode: %q vs %q", line, col, vals[fi], want)
			}
			if !reflect.DeepEqual(a, b) && !caseVariantKey(line, col) {
				t.Fatalf("%q: key %s: scanner %q, encoding/json %q", line, col, vals[fi], want)
			}
		}
		// Strings with invalid UTF-8 are kept as they are for Validate to
		// quarantine (encoding/json replaces them with U+FFFD).
		if raw := vals[fProductIDs]; raw != nil && raw[0] == '[' && utf8.Valid(raw) {
			got, ok := stringArray(raw, string(raw))
			var want []string
			if stdOK := json.Unmarshal(raw, &want) == nil; ok != stdOK || ok && !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
				t.Fatalf("product_ids %q: scanner %q %v, encoding/json %q %v", raw, got, ok, want, stdOK)
			}
		}
	})
}

// caseVariantKey reports whether line may hold another spelling of key
// (encoding/json folds case and decodes escapes in keys, so its last match
// can differ from the scanner's exact one).
func caseVariantKey(line []byte, key string) bool {
	return bytes.Contains(bytes.ToLower(line), []byte(key)) && bytes.Count(bytes.ToLower(line), []byte(key)) != bytes.Count(line, []byte(`"`+key+`"`)) || bytes.Contains(line, []byte(`\`))
}

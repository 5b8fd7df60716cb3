package event

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go"
)

func TestQuarantineParquetRoundTrip(t *testing.T) {
	in := []Quarantined{
		{Path: "a.jsonl", File: 0, Row: 7, Column: "kind", Reason: ReasonUnknownKind, Detail: "kind \"x\"", Raw: `{"kind":"x"}`},
		{Path: "b.csv", File: 1, Row: 2, Reason: ReasonMalformedRow, Detail: "row has 3 fields", Raw: "a,b,c"},
	}
	var buf bytes.Buffer
	if err := WriteQuarantineParquet(&buf, in); err != nil {
		t.Fatal(err)
	}
	got, err := parquet.Read[QuarantineRow](bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != in[0].ToRow() || got[1] != in[1].ToRow() {
		t.Fatalf("got %+v", got)
	}
}

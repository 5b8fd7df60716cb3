package event

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated fixtures in testdata/bad")

// badFixtures are the committed bad-input files of testdata/bad: how each is
// made and the error reading it must give. Other packages' CLI tests may use
// them as ready-made bad inputs.
var badFixtures = []struct {
	name string
	make func(t *testing.T) []byte
	want string
}{
	{"not_parquet.parquet", func(*testing.T) []byte {
		return []byte("event_id,kind,event_time,shop_id,buyer_id\ne1,page_view,2026-03-01T10:00:00Z,s,b\n")
	},
		"not a Parquet file (no PAR1 magic at the start)"},
	{"empty.parquet", func(*testing.T) []byte { return nil }, "file is empty (0 bytes)"},
	{"truncated.parquet", func(t *testing.T) []byte {
		b := writeParquet(t, sampleEvents(200), WithRowGroupRows(50))
		return b[:len(b)*2/3]
	}, "truncated Parquet file (no PAR1 footer at the end)"},
	{"missing_column.parquet", func(t *testing.T) []byte { return otherParquet(t, false) }, "missing required column buyer_id"},
	{"wrong_type.parquet", func(t *testing.T) []byte { return otherParquet(t, true) }, "column event_time has type utf8, want timestamp"},
	{"empty.jsonl", func(*testing.T) []byte { return nil }, "file is empty"},
	{"no_header.csv", func(*testing.T) []byte { return []byte("e1,page_view,2026-03-01T10:00:00Z,s,b\n") }, "header has no event_id column"},
}

func TestBadInputFixtures(t *testing.T) {
	dir := filepath.Join("testdata", "bad")
	for _, f := range badFixtures {
		p := filepath.Join(dir, f.name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, f.make(t), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		_, _, err := ReadAll([]string{p}, ReadOptions{})
		if err == nil || !strings.Contains(err.Error(), f.want) || !strings.Contains(err.Error(), f.name) {
			t.Errorf("%s: err = %v, want it to name the file and contain %q", f.name, err, f.want)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/event"
)

func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "otto.jsonl")
	os.WriteFile(in, []byte(`{"session":1,"events":[{"aid":5,"ts":1659304800025,"type":"clicks"},{"aid":5,"ts":1659304900000,"type":"carts"},{"aid":5,"ts":1659305000000,"type":"orders"}]}`+"\n"), 0o644)
	out := filepath.Join(dir, "out", "events.parquet")
	var so, se bytes.Buffer
	if code := run([]string{"import", "--format", "otto", "--in", in, "--out", out, "--json"}, &so, &se); code != 0 {
		t.Fatalf("exit %d: %s", code, se.String())
	}
	var st struct {
		Records int64            `json:"records"`
		Events  int64            `json:"events"`
		ByKind  map[string]int64 `json:"by_kind"`
	}
	if err := json.Unmarshal(so.Bytes(), &st); err != nil {
		t.Fatalf("--json output %q: %v", so.String(), err)
	}
	if st.Records != 1 || st.Events != 3 || st.ByKind["order_placed"] != 1 {
		t.Errorf("summary %+v", st)
	}
	evs, _, err := event.ReadAll([]string{out}, event.ReadOptions{Strict: true})
	if err != nil || len(evs) != 3 {
		t.Fatalf("read back: %d events, %v", len(evs), err)
	}
}

func TestImportCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("nope\n"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"import", "--in", "x", "--out", "y"}, "--format is required"},
		{[]string{"import", "--format", "kaggle", "--in", "x", "--out", "y"}, `--format "kaggle" is not supported`},
		{[]string{"import", "--format", "otto", "--out", "y"}, "--in is required"},
		{[]string{"import", "--format", "otto", "--in", filepath.Join(dir, "none.jsonl"), "--out", filepath.Join(dir, "o.parquet")}, "none.jsonl: no such file"},
		{[]string{"import", "--format", "otto", "--in", bad, "--out", filepath.Join(dir, "o.parquet")}, "bad.jsonl: no events: all 1 source records were quarantined or skipped; the first: line 1: not an OTTO session object"},
	} {
		var so, se bytes.Buffer
		code := run(c.args, &so, &se)
		if code != 2 || !strings.Contains(se.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, se.String(), c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "o.parquet")); err == nil {
		t.Error("a failed import left an output file")
	}
}

// TestImportCommandQuarantine: one cut-off line does not sink an import;
// the summary names the quarantined rows and where they went, and --strict
// exits 2 naming the line.
func TestImportCommandQuarantine(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "slice.csv")
	os.WriteFile(in, []byte("event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n"+
		"2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,72d76fde-8bb3-4e00-8c23-a032dfed738c\n"+
		"2019-10-01 00:00:02 UTC,view,17200506,2053013559"), 0o644)
	out := filepath.Join(dir, "out", "events.parquet")
	code, _, stderr := runCLI(t, "import", "--format", "rees46", "--in", in, "--out", out)
	if code != 0 || !strings.Contains(stderr, "quarantined 1 malformed source rows (malformed_row 1): "+filepath.Join(dir, "out", "_events.quarantine.parquet")) {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	code, _, stderr = runCLI(t, "import", "--format", "rees46", "--in", in, "--out", filepath.Join(dir, "strict.parquet"), "--strict")
	if code != 2 || !strings.Contains(stderr, "line 3: row has 4 fields, the header has 9 (malformed_row)") {
		t.Errorf("strict: exit %d, stderr %q", code, stderr)
	}
}

// TestImportReplacesBothOrNeither: an import writes the log and its
// quarantine in full before either replaces an earlier one, so a failed
// import (here: --strict on a cut-off last line, found after the good rows
// were written) leaves both earlier files byte for byte and no temporary;
// and an --out that is a folder is refused before anything is written
// (before, the quarantine was renamed into place first and the rename of
// the log over the folder then failed, leaving a new quarantine behind).
func TestImportReplacesBothOrNeither(t *testing.T) {
	dir := t.TempDir()
	header := "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n"
	good := "2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,72d76fde-8bb3-4e00-8c23-a032dfed738c\n"
	cut := "2019-10-01 00:00:02 UTC,view,17200506,2053013559"
	first, second := filepath.Join(dir, "first.csv"), filepath.Join(dir, "second.csv")
	os.WriteFile(first, []byte(header+good+cut), 0o644)
	os.WriteFile(second, []byte(header+good+good+cut), 0o644)
	out := filepath.Join(dir, "out", "events.parquet")
	quarantine := filepath.Join(dir, "out", "_events.quarantine.parquet")
	if code, _, stderr := runCLI(t, "import", "--format", "rees46", "--in", first, "--out", out); code != 0 {
		t.Fatalf("first import: exit %d, %s", code, stderr)
	}
	before := map[string][]byte{}
	for _, p := range []string{out, quarantine} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		before[p] = b
	}
	if code, _, stderr := runCLI(t, "import", "--format", "rees46", "--in", second, "--out", out, "--strict"); code != 2 {
		t.Fatalf("strict import: exit %d, %s", code, stderr)
	}
	for p, b := range before {
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, b) {
			t.Errorf("a failed import changed %s (%v)", p, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("after a failed import the folder holds %v; want the two earlier files only", names)
	}

	folder := filepath.Join(dir, "events")
	os.Mkdir(folder, 0o755)
	code, _, stderr := runCLI(t, "import", "--format", "rees46", "--in", first, "--out", folder)
	if code != 2 || !strings.Contains(stderr, "--out "+folder+" is a folder") {
		t.Errorf("--out a folder: exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "_events.quarantine.parquet")); err == nil {
		t.Error("--out a folder: the quarantine was written anyway")
	}
}

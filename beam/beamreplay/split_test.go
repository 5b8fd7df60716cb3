package beamreplay

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/signalab/signalab/event"
)

// writeParquet writes events as a Parquet file with row groups of rg rows.
func writeParquet(t testing.TB, path string, events []event.Event, rg int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := event.NewParquetWriter(f, event.WithRowGroupRows(rg))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestPlanSplits(t *testing.T) {
	events := generate(t, 60, 5)[:450]
	dir := t.TempDir()
	pq := filepath.Join(dir, "a.parquet")
	writeParquet(t, pq, events, 100) // row groups of 100, 100, 100, 100, 50
	js := filepath.Join(dir, "b.jsonl")
	if err := os.WriteFile(js, []byte(jsonLine(events[0])+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	files, splits, err := PlanSplits([]string{dir}, 250, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("resolved %d files, want 2", len(files))
	}
	type cut struct {
		file           int32
		start, end     int
		firstRow, rows int64
	}
	var got []cut
	for _, s := range splits {
		got = append(got, cut{s.File, s.RowGroupStart, s.RowGroupEnd, s.FirstRow, s.Rows})
	}
	// At most 250 rows per split unless one row group is bigger, never
	// cutting a row group: 100+100 (a third would make 300), then
	// 100+100+50; the text file is whole (rows unknown).
	want := []cut{{0, 0, 2, 1, 200}, {0, 2, 5, 201, 250}, {1, 0, 0, 1, -1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("splits:\n got %+v\nwant %+v", got, want)
	}
	_, whole, err := PlanSplits([]string{pq}, 250, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != 1 || !whole[0].Whole() {
		t.Errorf("without row-group splits: %+v, want one whole-file split", whole)
	}
	for _, s := range splits {
		back, err := DecodeSplit(EncodeSplit(s))
		if err != nil || back != s {
			t.Errorf("split round trip: %+v → %+v (%v)", s, back, err)
		}
	}
}

// TestExtractRowGroups: a split's temporary file reads back as exactly the
// rows of its row groups, through package event's reader.
func TestExtractRowGroups(t *testing.T) {
	events := generate(t, 60, 5)[:450]
	dir := t.TempDir()
	pq := filepath.Join(dir, "a.parquet")
	writeParquet(t, pq, events, 100)
	for _, tc := range []struct{ start, end, lo, hi int }{{0, 1, 0, 100}, {1, 3, 100, 300}, {4, 5, 400, 450}, {0, 5, 0, 450}} {
		tmp := filepath.Join(dir, "x.parquet")
		n, err := extractRowGroups(pq, tc.start, tc.end, tmp)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := event.ReadAll([]string{tmp}, event.ReadOptions{Strict: true})
		if err != nil {
			t.Fatalf("row groups %d..%d: %v", tc.start, tc.end, err)
		}
		want := events[tc.lo:tc.hi]
		if n != int64(len(want)) || len(got) != len(want) {
			t.Fatalf("row groups %d..%d: %d rows (footer %d), want %d", tc.start, tc.end, len(got), n, len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			g.File, g.Row = 0, 0
			if len(g.ProductIDs) == 0 {
				g.ProductIDs = nil
			}
			if len(w.ProductIDs) == 0 {
				w.ProductIDs = nil
			}
			if !reflect.DeepEqual(g, w) {
				t.Fatalf("row groups %d..%d, row %d:\n got %+v\nwant %+v", tc.start, tc.end, i, g, w)
			}
		}
	}
	if _, err := extractRowGroups(pq, 3, 9, filepath.Join(dir, "y.parquet")); err == nil {
		t.Error("out-of-range row groups: no error")
	}
}

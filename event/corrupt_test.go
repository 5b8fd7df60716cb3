package event

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/internal/parquetsafe"
)

// TestCorruptParquetNeverPanics reads damaged copies of the committed test
// log and of a multi-row-group file (parquetsafe.Corruptions: flipped bytes
// in dictionary and data page headers, half-zeroed column chunks, files cut
// mid-chunk) with 1, 2 and 4 workers, in input order and unordered: each
// read ends in valid rows or in an error naming the file, never a panic
// (before: a flipped byte made arrow-go panic with "makeslice: len out of
// range" inside its own errgroup goroutine, taking the process down with
// 23 lines of stack; issue 16, class 1). A panic on any goroutine fails the
// corruptSource is the damaged copies (parquetsafe.Corruptions) of one
// valid file.
type corruptSource struct {
	name string
	cs   []parquetsafe.Corruption
}

// corruptSources are the damaged copies of the committed log and of a
// file with three row groups.
func corruptSources(t *testing.T) []corruptSource {
	t.Helper()
	committed, err := parquetsafe.CorruptionsOfFile(filepath.Join("..", "testdata", "events", "events.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	groups, err := parquetsafe.Corruptions(writeParquet(t, sampleEvents(600), WithRowGroupRows(200)))
	if err != nil {
		t.Fatal(err)
	}
	return []corruptSource{{"committed", committed}, {"row-groups", groups}}
}

// whole test binary.
func TestCorruptParquetNeverPanics(t *testing.T) {
	dir := t.TempDir()
	for _, src := range corruptSources(t) {
		errs := 0
		for i, c := range src.cs {
			if src.name == "row-groups" && !strings.HasPrefix(c.Name, "rg1/") {
				continue // the middle row group is enough (and keeps the test short)
			}
			p := writeFile(t, dir, strings.ReplaceAll(src.name, "/", "_")+"-"+itoa(int64(i))+".parquet", c.Data)
			for _, opts := range []ReadOptions{{Workers: 1}, {Workers: 4}, {Workers: 2, Unordered: true, Columns: []string{}}} {
				_, _, err := ReadAll([]string{p}, opts)
				if err != nil {
					errs++
					if !strings.Contains(err.Error(), p) {
						t.Errorf("%s %s (workers %d): error does not name the file: %v", src.name, c.Name, opts.Workers, err)
					}
				}
			}
		}
		t.Logf("%s: %d corruptions, %d reads failed cleanly", src.name, len(src.cs), errs)
	}
}

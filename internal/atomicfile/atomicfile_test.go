package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestFiles: files written with Create appear only when committed; an
// aborted one leaves the earlier file and no temporary; a failed fill in
// Write does the same; Commit after Abort is an error.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := WriteBytes(p, []byte("old")); err != nil {
			t.Fatal(err)
		}
	}
	fa, err := Create(a)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := Create(b)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fa, "new a")
	io.WriteString(fb, "new b")
	if got, _ := os.ReadFile(a); string(got) != "old" {
		t.Errorf("before Commit, a holds %q", got)
	}
	if err := fa.Commit(); err != nil {
		t.Fatal(err)
	}
	fb.Abort()
	fa.Abort() // after Commit: nothing
	if got, _ := os.ReadFile(a); string(got) != "new a" {
		t.Errorf("committed a holds %q", got)
	}
	if got, _ := os.ReadFile(b); string(got) != "old" {
		t.Errorf("aborted b: the file holds %q", got)
	}
	if err := fb.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	boom := errors.New("boom")
	if err := Write(b, func(w io.Writer) error { io.WriteString(w, "half"); return boom }); !errors.Is(err, boom) {
		t.Errorf("Write: %v", err)
	}
	if got, _ := os.ReadFile(b); string(got) != "old" {
		t.Errorf("failed Write: the file holds %q", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d entries in the folder; want a and b only", len(entries))
	}
}

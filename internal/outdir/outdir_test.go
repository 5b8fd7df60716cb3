package outdir

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
)

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func listing(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel += "=" + string(b)
		}
		out = append(out, rel)
		return nil
	})
	sort.Strings(out)
	return out
}

// TestCommitReplacesTheSet: the new set replaces the owned files as a
// whole; files the command does not own (a user's notes, another stage's
// outputs, a subfolder) are kept; owned files the new set lacks go; stale
// temporaries go; nothing is left next to the folder.
func TestCommitReplacesTheSet(t *testing.T) {
	root := t.TempDir()
	out := filepath.Join(root, "run")
	write(t, filepath.Join(out, "a.parquet"), "old a")
	write(t, filepath.Join(out, "b.json"), "old b")
	write(t, filepath.Join(out, "a-00001.parquet"), "old shard")
	write(t, filepath.Join(out, "notes.txt"), "mine")
	write(t, filepath.Join(out, "generated", "events.parquet"), "events")
	write(t, filepath.Join(out, ".spill-123", "p0"), "stale spill")
	write(t, filepath.Join(out, ".a.parquet.tmp-9"), "stale temp")
	write(t, filepath.Join(root, ".run.staging-42", "x"), "stale staging")
	os.Symlink("notes.txt", filepath.Join(out, "link"))

	tx, err := Begin(out, "test", []string{"a.parquet", "a-*.parquet", "b.json"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, ".run.staging-42")); !errors.Is(err, os.ErrNotExist) {
		t.Error("a stale staging folder next to the output folder was not removed")
	}
	write(t, filepath.Join(tx.Dir, "a.parquet"), "new a")
	write(t, filepath.Join(tx.Dir, "b.json"), "new b")
	// Before Commit the folder is untouched.
	if b, _ := os.ReadFile(filepath.Join(out, "a.parquet")); string(b) != "old a" {
		t.Errorf("before commit: a.parquet = %q", b)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	got := strings.Join(listing(t, out), "\n")
	want := strings.Join([]string{".signalab.lock=" + lockContent(t, out), "a.parquet=new a", "b.json=new b", "generated",
		"generated/events.parquet=events", "link=mine", "notes.txt=mine"}, "\n")
	if got != want {
		t.Errorf("after commit:\n%s\nwant:\n%s", got, want)
	}
	if l, err := os.Readlink(filepath.Join(out, "link")); err != nil || l != "notes.txt" {
		t.Errorf("symlink: %q %v", l, err)
	}
	entries, _ := os.ReadDir(root)
	if len(entries) != 1 {
		t.Errorf("left next to the output folder: %v", entries)
	}
}

func lockContent(t *testing.T, out string) string {
	b, _ := os.ReadFile(filepath.Join(out, LockFile))
	return string(b)
}

// TestSecondWriterFails: while one transaction holds the folder, another
// Begin fails at once with a BusyError naming the holder; after Commit (or
// Abort) the folder is free again, and the lock is the same file in every
// generation of the folder.
func TestSecondWriterFails(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	tx, err := Begin(out, "signalab run", []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(filepath.Join(out, LockFile))
	_, err = Begin(out, "signalab replay", []string{"y"})
	var busy *BusyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), "signalab run") || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("second Begin: %v", err)
	}
	write(t, filepath.Join(tx.Dir, "x"), "1")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(out, LockFile))
	if !os.SameFile(before, after) {
		t.Error("the lock file of the new generation is another file")
	}
	tx2, err := Begin(out, "signalab replay", []string{"y"})
	if err != nil {
		t.Fatalf("after commit: %v", err)
	}
	tx2.Abort()
}

// TestBeginRefusesAFile: --out naming a file is an error.
func TestBeginRefusesAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	write(t, f, "x")
	if _, err := Begin(f, "test", nil); err == nil || !strings.Contains(err.Error(), "is a file") {
		t.Errorf("err %v", err)
	}
}

// TestWorkingFolderFollows: a process whose working folder is the output
// folder works in the new folder after Commit.
func TestWorkingFolderFollows(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	os.MkdirAll(out, 0o755)
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(out)
	tx, err := Begin(".", "test", []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(tx.Dir, "x"), "new")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile("x"); err != nil || string(b) != "new" {
		t.Errorf("relative read after commit: %q %v", b, err)
	}
}

// TestTempRemovesOnlyStale: Temp removes spill folders nobody holds (and
// old lockless ones), never a live one.
func TestTempRemovesOnlyStale(t *testing.T) {
	root := t.TempDir()
	live, release, err := Temp(root, ".spill-")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	write(t, filepath.Join(root, ".spill-old", "p0"), "lockless, from an older version")
	dead, releaseDead, err := Temp(root, ".spill-")
	if err != nil {
		t.Fatal(err)
	}
	// A crashed holder: its lock is released but the folder stays.
	os.Rename(dead, dead+"x")
	releaseDead() // removes nothing now (renamed) and closes the lock
	dead += "x"
	other, release2, err := Temp(root, ".spill-")
	if err != nil {
		t.Fatal(err)
	}
	defer release2()
	for path, want := range map[string]bool{live: true, other: true, dead: false, filepath.Join(root, ".spill-old"): false} {
		_, err := os.Stat(path)
		if (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(path), err == nil, want)
		}
	}
}

// TestCommitWithoutLinks: when an entry cannot be carried over (here a
// FIFO, which is neither file, folder nor symlink), Commit falls back to
// moving the new files into place one by one; nothing is lost.
func TestCommitWithoutLinks(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	write(t, filepath.Join(out, "a"), "old")
	write(t, filepath.Join(out, "keep"), "mine")
	if err := syscall.Mkfifo(filepath.Join(out, "pipe"), 0o644); err != nil {
		t.Skip(err)
	}
	tx, err := Begin(out, "test", []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(tx.Dir, "a"), "new")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"a": "new", "keep": "mine"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q %v", name, b, err)
		}
	}
	if st, err := os.Lstat(filepath.Join(out, "pipe")); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("pipe: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("left next to the folder: %v", entries)
	}
}

// TestFinal: a path inside the staging folder is named by the place it has
// once committed, under --out as the command named it (relative stays
// relative); a path elsewhere is unchanged. Both the swap and the in-place
// staging folder map the same way.
func TestFinal(t *testing.T) {
	t.Chdir(t.TempDir())
	tx, err := Begin("out", "test", []string{"generated"})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort()
	for in, want := range map[string]string{
		filepath.Join(tx.Dir, "generated", "events.parquet"): filepath.Join("out", "generated", "events.parquet"),
		tx.Dir: "out",
		filepath.Join(tx.Dir, "..", "elsewhere.parquet"): filepath.Join(tx.Dir, "..", "elsewhere.parquet"),
		"events.parquet": "events.parquet",
	} {
		if got := tx.Final(in); got != want {
			t.Errorf("Final(%s) = %s, want %s", in, got, want)
		}
	}
	p := filepath.Join(tx.Dir, "generated", "events.parquet")
	write(t, p, "e")
	final := tx.Final(p)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(final); err != nil || string(b) != "e" {
		t.Errorf("after Commit, %s: %q, %v", final, b, err)
	}
}

// TestCommitKeepsPermissions: the folder swapped in has the permissions of
// the one it replaces (the staging folder is made 0700; before, every
// command left --out readable by its owner only).
func TestCommitKeepsPermissions(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if err := os.Mkdir(out, 0o750); err != nil {
		t.Fatal(err)
	}
	os.Chmod(out, 0o750) // whatever the umask
	tx, err := Begin(out, "test", []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(tx.Dir, "x"), "1")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o750 {
		t.Errorf("after Commit, %s has mode %v, want 0750", out, st.Mode().Perm())
	}
}

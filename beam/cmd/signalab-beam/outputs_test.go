package main

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/signalab/signalab/internal/outdir"
)

// listFolder names dir's entries and their bytes (the lock file left out),
// and the temporaries a run can leave next to dir.
func listFolder(t *testing.T, dir string) (files map[string]string, temps []string) {
	t.Helper()
	files = map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() == outdir.LockFile {
			continue
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			temps = append(temps, e.Name())
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	next, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".*"))
	temps = append(temps, next...)
	sort.Strings(temps)
	return files, temps
}

// TestSecondWriterRefused: while another process writes the output folder
// (a transaction holding its lock), signalab-beam replay fails at once with
// exit 2, names the folder and the holder, and changes nothing (before, it
// took no lock and renamed its files in among the other writer's).
func TestSecondWriterRefused(t *testing.T) {
	log := committedLog(t)
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("keep"), 0o644)
	holder, err := outdir.Begin(out, "signalab replay (the first writer)", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Abort()
	code, _, stderr := runCLI("replay", "--events", log, "--out", out)
	if code != 2 || !strings.Contains(stderr, "output folder "+out+" is being written by another signalab process") ||
		!strings.Contains(stderr, "the first writer") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the folder and its holder", code, stderr)
	}
	files, temps := listFolder(t, out)
	if len(temps) == 1 && temps[0] == holder.Dir {
		temps = nil // the first writer's own staging folder
	}
	if len(files) != 1 || files["notes.txt"] != "keep" || len(temps) != 0 {
		t.Errorf("the folder changed: %v, temporaries %v", keys(files), temps)
	}
}

// TestOutputsReplacedAsOneSet: a replay replaces the replay outputs of the
// folder as one set, as signalab replay does: a later run without
// --sessions drops the sessions.parquet of an earlier one (before, it was
// left beside a replay.json that lists no sessions), files it does not own
// stay, and a failed run leaves the previous set byte for byte, with no
// staging folder or shard folder behind.
func TestOutputsReplacedAsOneSet(t *testing.T) {
	log := committedLog(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	if code, _, stderr := runCLI("replay", "--events", log, "--out", out, "--sessions"); code != 0 {
		t.Fatalf("replay --sessions: exit %d: %s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "sessions.parquet")); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("keep"), 0o644)
	if code, _, stderr := runCLI("replay", "--events", log, "--out", out); code != 0 {
		t.Fatalf("replay: exit %d: %s", code, stderr)
	}
	before, temps := listFolder(t, out)
	if _, ok := before["sessions.parquet"]; ok {
		t.Error("sessions.parquet of the earlier --sessions run is still there")
	}
	if before["notes.txt"] != "keep" || before["signals.parquet"] == "" || len(temps) != 0 {
		t.Errorf("after the second run: files %v, temporaries %v", keys(before), temps)
	}

	bad := filepath.Join(dir, "bad.jsonl")
	row := `{"event_id":"e1","kind":"teleport","event_time":"2026-03-01T00:00:00Z","shop_id":"s","buyer_id":"b"}` + "\n"
	os.WriteFile(bad, []byte(row), 0o644)
	if code, _, _ := runCLI("replay", "--events", bad, "--out", out, "--strict"); code != 2 {
		t.Fatalf("a --strict run on a bad row: exit %d, want 2", code)
	}
	after, temps := listFolder(t, out)
	if len(after) != len(before) || len(temps) != 0 {
		t.Errorf("after a failed run: files %v (before %v), temporaries %v", keys(after), keys(before), temps)
	}
	for name, b := range before {
		if after[name] != b {
			t.Errorf("a failed run changed %s", name)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

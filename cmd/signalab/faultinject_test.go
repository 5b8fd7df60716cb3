package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/signalab/signalab/internal/outdir"
)

// TestKillAtEveryPoint builds the CLI with the faultinject tag
// (internal/fault) and, for signalab replay, run, demo and live demo, kills
// a real process with SIGKILL at every point it passes: each rename of an output
// (in its staging folder and into the output folder) and each boundary
// between stages and replay phases. After each kill the output folder,
// which held a complete earlier set, must hold that old set whole or the
// new set whole, never a mix; a rerun then succeeds and leaves no temporary
// folder behind (issue 16, classes 10 and 12). Before the staging folder
// and swap, a kill between the stages of run left new assignments.parquet
// and units.parquet beside an old results.json and manifest.json.
func TestKillAtEveryPoint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and runs it about 150 times")
	}
	bin := filepath.Join(t.TempDir(), "signalab")
	build := exec.Command("go", "build", "-tags", "faultinject", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags faultinject: %v\n%s", err, out)
	}
	events, err := filepath.Abs(filepath.Join("..", "..", "testdata", "events"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile(filepath.Join("..", "..", "testdata", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	specs := t.TempDir()
	salt := regexp.MustCompile(`(?m)^salt: .*$`)
	oldSpec, newSpec := filepath.Join(specs, "old.yaml"), filepath.Join(specs, "new.yaml")
	os.WriteFile(oldSpec, salt.ReplaceAll(spec, []byte("salt: faults-old")), 0o644)
	os.WriteFile(newSpec, salt.ReplaceAll(spec, []byte("salt: faults-new")), 0o644)

	for _, sc := range []struct {
		name     string
		old, new func(out string) []string
		// stride > 1 kills at every stride-th point and at the last
		// three (the commit) only: demo and live demo pass through the
		// same staged stages as run, which is killed at all of them.
		stride int
	}{
		{"replay",
			func(out string) []string {
				return []string{"replay", "--events", events, "--out", out, "--order", "event-time", "--workers", "2"}
			},
			func(out string) []string {
				return []string{"replay", "--events", events, "--out", out, "--order", "arrival", "--workers", "2"}
			}, 1},
		{"run",
			func(out string) []string { return []string{"run", oldSpec, "--events", events, "--out", out} },
			func(out string) []string { return []string{"run", newSpec, "--events", events, "--out", out} }, 1},
		// demo's generated log and spec belong to its set: before, they
		// were written into --out before the run's own staging began, so
		// a kill in the run left a new log beside old results.
		{"demo",
			func(out string) []string { return []string{"demo", "--out", out, "--events", "1000", "--seed", "1"} },
			func(out string) []string { return []string{"demo", "--out", out, "--events", "1000", "--seed", "2"} }, 4},
		// live demo's live/ and replay/ (and generated/) are one set:
		// before, each was replaced on its own, so a kill between them
		// left a new live dump beside an old replay.
		{"live demo",
			func(out string) []string {
				return []string{"live", "demo", "--events", events, "--out", out, "--sessions"}
			},
			func(out string) []string { return []string{"live", "demo", "--events", events, "--out", out} }, 4},
	} {
		t.Run(sc.name, func(t *testing.T) {
			root := t.TempDir()
			// The old set, the new set (for reference), and the points the
			// new run passes.
			pristine := filepath.Join(root, "pristine", "out")
			mustRun(t, bin, nil, sc.old(pristine))
			oldSnap := snapshot(t, pristine)
			ref := filepath.Join(root, "ref", "out")
			mustRun(t, bin, nil, sc.new(ref))
			newSnap := snapshot(t, ref)
			if oldSnap.equal(newSnap) {
				t.Fatal("the old and the new output sets are the same: the test could not tell them apart")
			}
			pointLog := filepath.Join(root, "points")
			counted := filepath.Join(root, "count", "out")
			copyTree(t, pristine, counted)
			mustRun(t, bin, []string{"SIGNALAB_FAULT_LOG=" + pointLog}, sc.new(counted))
			points := readPoints(t, pointLog)
			if len(points) < 10 {
				t.Fatalf("only %d fault points: %v", len(points), points)
			}
			var oldSeen, newSeen, killed int
			for k := 1; k <= len(points); k++ {
				if k%sc.stride != 0 && k < len(points)-2 {
					continue
				}
				killed++
				work := filepath.Join(root, fmt.Sprintf("k%03d", k), "out")
				copyTree(t, pristine, work)
				cmd := exec.Command(bin, sc.new(work)...)
				cmd.Env = append(os.Environ(), "SIGNALAB_FAULT_KILL_AT="+strconv.Itoa(k))
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				err := cmd.Run()
				var ee *exec.ExitError
				if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
					t.Fatalf("kill at point %d (%s): the process was not killed: %v\n%s", k, points[k-1], err, stderr.String())
				}
				got := snapshot(t, work)
				switch {
				case got.equal(oldSnap):
					oldSeen++
				case got.equal(newSnap):
					newSeen++
				default:
					t.Errorf("kill at point %d (%s): the output folder is neither the old set nor the new one:\n%s",
						k, points[k-1], got.diff(oldSnap, newSnap))
					continue
				}
				// A rerun finds the leftovers and removes them.
				mustRun(t, bin, nil, sc.new(work))
				if got := snapshot(t, work); !got.equal(newSnap) {
					t.Errorf("rerun after a kill at point %d: not the new set:\n%s", k, got.diff(oldSnap, newSnap))
				}
				if left := temporaries(t, filepath.Dir(work)); len(left) > 0 {
					t.Errorf("rerun after a kill at point %d (%s): temporaries left: %v", k, points[k-1], left)
				}
			}
			t.Logf("%d points, killed at %d: %d left the old set, %d the new one", len(points), killed, oldSeen, newSeen)
			if oldSeen == 0 || newSeen == 0 {
				t.Errorf("expected kills before and after the swap (old %d, new %d)", oldSeen, newSeen)
			}
		})
	}
}

func mustRun(t *testing.T, bin string, env []string, args []string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		// Exit 1 is a failed gate (outputs are written): fine here.
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

func readPoints(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		_, name, _ := strings.Cut(l, " ")
		out = append(out, name)
	}
	return out
}

// folderState is a folder's files (the lock left out), each by its
// content: exact bytes for the deterministic files, and with every number
// and path masked for the ones that carry timings or the folder's place
// (replay.json, manifest.json, metrics.json, report.html, live.json, also
// in subfolders), which still
// tell the old set from the new one by the order or salt they name.
type folderState map[string]string

var volatileFiles = map[string]bool{"replay.json": true, "manifest.json": true, "metrics.json": true, "report.html": true, "live.json": true}
var (
	numbers = regexp.MustCompile(`[0-9][0-9.e+-]*`)
	paths   = regexp.MustCompile(`(/[A-Za-z0-9._-]+)+`)
)

func snapshot(t *testing.T, dir string) folderState {
	t.Helper()
	st := folderState{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == outdir.LockFile {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if volatileFiles[filepath.Base(rel)] {
			b = paths.ReplaceAll(b, []byte("PATH")) // the folder's own place
			b = numbers.ReplaceAll(b, []byte("#"))
		}
		st[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (s folderState) equal(o folderState) bool {
	if len(s) != len(o) {
		return false
	}
	for k, v := range s {
		if w, ok := o[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// diff says, per file, whether it matches the old set, the new one, or
// neither.
func (s folderState) diff(old, new folderState) string {
	names := map[string]bool{}
	for _, m := range []folderState{s, old, new} {
		for k := range m {
			names[k] = true
		}
	}
	var lines []string
	for k := range names {
		v, ok := s[k]
		var what string
		switch {
		case !ok:
			what = "missing"
		case v == old[k] && v == new[k]:
			what = "same in both"
		case v == old[k]:
			what = "old"
		case v == new[k]:
			what = "new"
		default:
			what = "neither"
		}
		lines = append(lines, "  "+k+": "+what)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// temporaries lists the staging, swapped-out, spill and atomic-write
// temporaries in dir and in the folders directly inside it.
func temporaries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, pat := range []string{".*.staging-*", ".*.old-*", "*/.staging-*", "*/.spill-*", "*/.*.tmp-*", ".staging-*", ".spill-*"} {
		m, _ := filepath.Glob(filepath.Join(dir, pat))
		out = append(out, m...)
	}
	return out
}

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSizeFlag: sizes with every unit, and refusals.
func TestSizeFlag(t *testing.T) {
	for in, want := range map[string]int64{
		"512MiB": 512 << 20, "1GiB": 1 << 30, "1.5GiB": 3 << 29, "800MB": 800e6, "64kib": 64 << 10,
		"123": 123, "123B": 123, " 2 GiB ": 2 << 30, "1TB": 1e12,
	} {
		var s sizeFlag
		if err := s.Set(in); err != nil || int64(s) != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, int64(s), err, want)
		}
	}
	for _, in := range []string{"", "lots", "-1MiB", "5XB", "1e30GiB"} {
		var s sizeFlag
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, int64(s))
		}
	}
	for v, want := range map[int64]string{512 << 20: "512MiB", 1 << 30: "1GiB", 1500: "1500B", 3 << 10: "3KiB"} {
		s := sizeFlag(v)
		if got := s.String(); got != want {
			t.Errorf("String(%d) = %q, want %q", v, got, want)
		}
	}
}

// TestProfileFlags: --cpuprofile and --memprofile write pprof files (gzip
// compressed protocol buffers) for a replay, and a profile that cannot be
// created is an error before any work.
func TestProfileFlags(t *testing.T) {
	root := repoRoot(t)
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.prof"), filepath.Join(dir, "mem.prof")
	code, _, stderr := runCLI(t, "replay", "--events", filepath.Join(root, "testdata", "events"), "--out", filepath.Join(dir, "out"),
		"--cpuprofile", cpu, "--memprofile", mem)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, p := range []string{cpu, mem} {
		b, err := os.ReadFile(p)
		if err != nil || len(b) < 2 || !bytes.Equal(b[:2], []byte{0x1f, 0x8b}) {
			t.Errorf("%s: %d bytes, err %v; want a gzip-compressed pprof profile", p, len(b), err)
		}
	}
	code, _, stderr = runCLI(t, "replay", "--events", filepath.Join(root, "testdata", "events"), "--out", filepath.Join(dir, "out2"),
		"--cpuprofile", filepath.Join(dir, "no", "such", "cpu.prof"))
	if code != 2 || !strings.Contains(stderr, "--cpuprofile") {
		t.Errorf("unwritable profile: exit %d, stderr %q; want 2 naming --cpuprofile", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out2")); err == nil {
		t.Error("the replay ran although its profile could not be created")
	}
	// Commands without heavy work have no profiling flags.
	if code, _, _ := runCLI(t, "diff", "--cpuprofile", cpu, "a", "b"); code != 2 {
		t.Errorf("diff --cpuprofile: exit %d, want 2 (unknown flag)", code)
	}
}

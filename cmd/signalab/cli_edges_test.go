package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUnknownCommand: a mistyped command is named as such, with the nearest
// command, whatever flags follow (cobra alone would report the flags of
// the root, or print the root's help and exit 0 for --help).
func TestUnknownCommand(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"replya", "--events", "x"}, `unknown command "replya", did you mean replay?`},
		{[]string{"repaly", "--help"}, `unknown command "repaly", did you mean replay?`},
		{[]string{"anlayze"}, `did you mean analyze?`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
	} {
		code, stdout, stderr := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) || stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", c.args, code, stdout, stderr, c.want)
		}
	}
	if code, stdout, _ := runCLI(t, "help", "replay"); code != 0 || !strings.Contains(stdout, "--events") {
		t.Errorf("help replay: exit %d", code)
	}
}

// TestRunMissingSpecMessage: run takes its spec as an argument, so its
// error must not send the user to an --experiment flag it does not have.
func TestRunMissingSpecMessage(t *testing.T) {
	events := filepath.Join(repoRoot(t), "testdata", "events", "events.parquet")
	code, _, stderr := runCLI(t, "run", filepath.Join(t.TempDir(), "nope.yaml"), "--events", events, "--out", t.TempDir())
	if code != 2 || !strings.Contains(stderr, "nope.yaml") || strings.Contains(stderr, "--experiment") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}

// TestEventListsOneRule: replay and run read --events the same way: the
// flag repeats, values split on commas, and a path that does not exist is
// a usage error naming it before any work starts.
func TestEventListsOneRule(t *testing.T) {
	root := repoRoot(t)
	a := filepath.Join(root, "testdata", "edge", "late.jsonl")
	b := filepath.Join(root, "testdata", "edge", "duplicates.jsonl")
	missing := filepath.Join(t.TempDir(), "missing.parquet")
	spec := filepath.Join(root, "testdata", "experiment.yaml")
	for _, args := range [][]string{
		{"replay", "--events", a + "," + missing, "--out", t.TempDir()},
		{"run", spec, "--events", a + "," + missing, "--out", t.TempDir()},
		{"run", spec, "--events", a, "--events", missing, "--out", t.TempDir()},
		{"replay", "--events", a, missing, "--out", t.TempDir()},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, "missing.parquet: no such file, folder or glob") || !strings.Contains(stderr, "Try:") {
			t.Errorf("%q: exit %d, stderr %q", args[:3], code, stderr)
		}
	}
	// A newline-separated list (as "$(ls …)" gives) is an error, not one
	// odd path or a silent split (issue 16, class 7).
	if code, _, stderr := runCLI(t, "replay", "--events", a+"\n"+b, "--out", t.TempDir()); code != 2 || !strings.Contains(stderr, "line break") {
		t.Errorf("newline list: exit %d, stderr %q", code, stderr)
	}
	// Both commands read both files of "a,b".
	out := t.TempDir()
	if code, _, stderr := runCLI(t, "replay", "--events", a+","+b, "--out", out, "--json"); code != 0 {
		t.Fatalf("replay a,b: exit %d: %s", code, stderr)
	}
	js, err := os.ReadFile(filepath.Join(out, "replay.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), "late.jsonl") || !strings.Contains(string(js), "duplicates.jsonl") {
		t.Errorf("replay.json does not list both inputs:\n%s", js)
	}
}

// TestReportUnknownExtension: report --out r.pdf is refused instead of
// silently writing HTML into a .pdf file; --format makes it explicit.
func TestReportUnknownExtension(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "report", "--in", dir, "--out", filepath.Join(dir, "r.pdf"))
	if code != 2 || !strings.Contains(stderr, `".pdf"`) || !strings.Contains(stderr, "--format") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.pdf")); err == nil {
		t.Error("r.pdf was written")
	}
}

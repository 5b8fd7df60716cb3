package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/internal/outdir"
)

// TestSecondWriterExits2: while another process writes an output folder
// (here: a transaction holding its lock), every command that writes into it
// fails at once with exit 2, names the folder and the holder, and changes
// nothing (before: two runs into one --out could both exit 0 and leave run
// A's assignments beside run B's results; issue 16, class 11).
func TestSecondWriterExits2(t *testing.T) {
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("keep"), 0o644)
	holder, err := outdir.Begin(out, "signalab run (the first writer)", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Abort()
	events := filepath.Join("..", "..", "testdata", "events")
	spec := filepath.Join("..", "..", "testdata", "experiment.yaml")
	otto := filepath.Join("..", "..", "testdata", "otto", "otto_train_first20sessions.jsonl")
	for _, args := range [][]string{
		{"replay", "--events", events, "--out", out},
		{"run", spec, "--events", events, "--out", out},
		{"assign", "--experiment", spec, "--in", out, "--out", out},
		{"metrics", "--experiment", spec, "--in", out, "--out", out},
		{"generate", "--out", out, "--buyers", "20"},
		{"report", "--in", reportFixture, "--out", filepath.Join(out, "report.html")},
		{"demo", "--out", out, "--events", "1000"},
		{"live", "demo", "--events", events, "--out", out},
		{"live", "dump", "--brokers", "127.0.0.1:1", "--out", out},
		{"import", "--format", "otto", "--in", otto, "--out", filepath.Join(out, "otto.parquet")},
		// --quarantine into the folder is refused too (the log goes elsewhere).
		{"import", "--format", "otto", "--in", otto, "--out", filepath.Join(t.TempDir(), "otto.parquet"),
			"--quarantine", filepath.Join(out, "q.parquet")},
	} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		if code != exitcode.Error || !strings.Contains(stderr.String(), "output folder "+out+" is being written by another signalab process") ||
			!strings.Contains(stderr.String(), "the first writer") {
			t.Errorf("%s: exit %d, stderr %q", strings.Join(args, " "), code, stderr.String())
		}
	}
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != outdir.LockFile+",notes.txt" {
		t.Errorf("the folder changed: %v", names)
	}
}

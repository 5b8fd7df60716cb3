package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/signalab/signalab/live"
	"github.com/signalab/signalab/replay/output"
)

// TestLiveDemo runs the README's one-command loop on the committed log:
// cluster, produce, two consumers, dump, replay, diff → exit 0. With
// --sessions both sides track sessions and the diff compares them.
func TestLiveDemo(t *testing.T) {
	events := filepath.Join(repoRoot(t), "testdata", "events", "events.parquet")
	out := t.TempDir()
	code, stdout, stderr := runCLI(t, "live", "demo", "--events", events, "--out", out, "--sessions")
	if code != 0 || !strings.Contains(stdout, "no differences") || !strings.Contains(stdout, " sessions)") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, side := range []string{"live", "replay"} {
		if _, err := os.Stat(filepath.Join(out, side, output.SessionsFile)); err != nil {
			t.Errorf("live demo --sessions: %v", err)
		}
	}
}

// TestLiveCommands runs the loop of docs/live.md command by command against
// an in-process cluster: live produce, signalab live (stopped as by
// SIGTERM), live dump, replay, diff.
func TestLiveCommands(t *testing.T) {
	c, err := live.StartCluster(live.ClusterConfig{Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")
	events := filepath.Join(repoRoot(t), "testdata", "events", "events.parquet")
	dir := t.TempDir()

	if code, stdout, stderr := runCLI(t, "live", "produce", "--brokers", brokers, "--events", events, "--topic", "ev", "--partitions", "3"); code != 0 || !strings.Contains(stdout, "produced 4589 events") {
		t.Fatalf("live produce: exit %d\n%s\n%s", code, stdout, stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var runErr error
	var logs bytes.Buffer
	wg.Add(1)
	go func() {
		defer wg.Done()
		runErr = liveRun(ctx, liveOptions{Conn: connFlags{Brokers: []string{brokers}}, Group: "g", Instance: "i1",
			Input: "ev", Output: "out", HTTP: "127.0.0.1:0", CreateTopics: true, ReplicationFactor: -1, MaxPollRecords: 1000,
			CommitInterval: live.DefaultCommitInterval}, &logs)
	}()
	liveDir, replayDir := filepath.Join(dir, "live"), filepath.Join(dir, "replay")
	code, stdout, stderr := runCLI(t, "live", "dump", "--brokers", brokers, "--topic", "out", "--out", liveDir, "--wait", "2m")
	cancel()
	wg.Wait()
	if code != 0 {
		t.Fatalf("live dump: exit %d\n%s\n%s\nlive:\n%s", code, stdout, stderr, logs.String())
	}
	if runErr != nil {
		t.Fatalf("signalab live: %v\n%s", runErr, logs.String())
	}
	if code, stdout, stderr := runCLI(t, "replay", "--events", events, "--out", replayDir); code != 0 {
		t.Fatalf("replay: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, "diff", replayDir, liveDir); code != 0 {
		t.Fatalf("diff: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestLiveUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"live", "nosuch"},
		{"live", "--max-poll-records", "0"},
		{"live", "--commit-interval", "-1s"},
		{"live", "--instance", ""},
		{"live", "--sasl", "md5", "--sasl-user", "u"},
		{"live", "produce"},
		{"live", "produce", "--events", "x.parquet", "--partitions", "0"},
		{"live", "dump"},
		{"live", "dump", "--out", "x", "--wait", "-1s"},
		{"live", "cluster", "--partitions", "0"},
		{"live", "demo", "--consumers", "0"},
	} {
		code, _, stderr := runCLI(t, args...)
		if code != 2 || !strings.Contains(stderr, "Try:") {
			t.Errorf("%q: exit %d, stderr %q; want 2 with a Try: line", args, code, stderr)
		}
	}
}

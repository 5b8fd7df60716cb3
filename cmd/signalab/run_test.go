package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/experiment"
	"github.com/signalab/signalab/synth"
)

// runLog generates a small log randomized by conversation with a planted
// lift of −90 % on triggered conversations (so a conversion guardrail fails).
func runLog(t *testing.T) (string, synth.Config) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Unit, cfg.Lift, cfg.Buyers, cfg.Days, cfg.PreDays = "conversation_id", -0.9, 15000, 14, 7
	dir := t.TempDir()
	if _, err := synth.WriteDir(context.Background(), cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, synth.EventsFile), cfg
}

func runSpec(t *testing.T, cfg synth.Config, guardrail string) string {
	t.Helper()
	s := fmt.Sprintf(`name: run-test
unit: %s
salt: %s
variants: [{name: control, weight: 0.5}, {name: treatment, weight: 0.5}]
window: {start: %s, end: %s}
metrics:
  - {name: conversion, type: proportion, outcome: converted, window: 72h}
  - {name: orders, type: mean, outcome: orders, window: 72h}
analysis: {segments: [channel]}
%s`, cfg.Unit, cfg.Salt, cfg.WindowStart.Format(time.RFC3339), cfg.WindowStart.AddDate(0, 0, cfg.Days).Format(time.RFC3339), guardrail)
	p := filepath.Join(t.TempDir(), "experiment.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunPipelineAndGates(t *testing.T) {
	events, cfg := runLog(t)

	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"run", runSpec(t, cfg, ""), "--events", events, "--out", out}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, f := range []string{"signals.parquet", "conversations.parquet", "orders.parquet", "replay.json", "assignments.parquet",
		"assign.json", "units.parquet", "metrics.json", "results.json", "results.parquet", "report.html", "report.md",
		"manifest.json", "experiment.yaml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("missing output: %v", err)
		}
	}
	var m experiment.Manifest
	b, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Inputs) != 1 || len(m.Inputs[0].SHA256) != 64 || len(m.SpecFile.SHA256) != 64 || len(m.Stages) != 5 || !m.GatesPassed {
		t.Errorf("manifest %+v", m)
	}
	if !strings.Contains(stdout.String(), "report: ") {
		t.Errorf("stdout lacks the report path:\n%s", stdout.String())
	}

	// The planted −90 % makes conversion significantly worse: the verdict
	// is "don't ship", which the default gates (srm, guardrail) let pass
	// and --gate dont-ship turns into exit 1.
	if !strings.HasPrefix(stdout.String(), "verdict: don't ship") {
		t.Errorf("stdout does not start with the verdict:\n%s", stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"run", runSpec(t, cfg, ""), "--events", events, "--out", t.TempDir(), "--gate", "srm,dont-ship"}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "verdict: don't ship") {
		t.Fatalf("--gate dont-ship: want exit 1 naming the verdict, got %d: %s", code, stderr.String())
	}

	// The same log with a guardrail: orders per conversation may not drop
	// by more than 5 % (max_drop, the older name of margin); the planted
	// −90 % breaks it: exit 1 with the default gates, 0 with --gate none.
	stdout.Reset()
	stderr.Reset()
	spec := runSpec(t, cfg, "guardrails: [{metric: orders, max_drop: -0.05}]\n")
	code = run([]string{"run", spec, "--events", events, "--out", t.TempDir()}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "guardrail:orders:treatment") {
		t.Fatalf("want exit 1 naming the guardrail, got %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code = run([]string{"run", spec, "--events", events, "--out", t.TempDir(), "--gate", "none"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--gate none: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code = run([]string{"run", spec, "--events", events, "--out", t.TempDir(), "--gate", "ship"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), `unknown gate "ship"`) {
		t.Fatalf("--gate ship: exit %d: %s", code, stderr.String())
	}
}

func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{
		{"run", "--events", "x", "--out", "y"},
		{"run", "spec.yaml", "--out", "y"},
		{"run", "spec.yaml", "--events", "x"},
		{"demo", "--events", "10"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "Try:") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", "/nonexistent.yaml", "--events", "x", "--out", t.TempDir()}, &stdout, &stderr); code != 2 {
		t.Errorf("missing spec: exit %d", code)
	}
}

func TestDemoSmall(t *testing.T) {
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"demo", "--out", out, "--events", "30000"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	abs, _ := filepath.Abs(filepath.Join(out, "report.html"))
	if !strings.Contains(stdout.String(), "report: "+abs) || !strings.Contains(stdout.String(), "planted lift") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	b, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Errorf("report.html: %v", err)
	}
}

// TestDemoSpecMatchesTestdata: the demo's spec is testdata/experiment.yaml,
// and both describe the experiment the generator plants by default.
func TestDemoSpecMatchesTestdata(t *testing.T) {
	spec, err := experiment.Parse([]byte(demoSpec))
	if err != nil {
		t.Fatalf("demo spec: %v", err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "experiment.yaml"))
	if err != nil {
		t.Skipf("testdata/experiment.yaml: %v", err)
	}
	if string(b) != demoSpec {
		t.Errorf("demoSpec differs from testdata/experiment.yaml; copy the file into cmd/signalab/demo.go")
	}
	cfg := synth.DefaultConfig()
	if spec.Unit != cfg.Unit || spec.Salt != cfg.Salt || spec.Hash != cfg.Hash ||
		!spec.Window.Start.Equal(cfg.WindowStart) || !spec.Window.End.Equal(cfg.WindowStart.AddDate(0, 0, cfg.Days)) ||
		spec.PrePeriod != time.Duration(cfg.PreDays)*24*time.Hour ||
		spec.Variants[1].Weight != cfg.TreatmentWeight {
		t.Errorf("demo spec %+v does not match the generator's defaults %+v", spec, cfg)
	}
}

// TestRunMemoryBudget: run passes --memory and --tmp to its replay stage:
// a budget too small for the log spills (replay.json says so), into --tmp,
// and every output table is byte for byte the one of a run that did not.
func TestRunMemoryBudget(t *testing.T) {
	// About 560k events: some 25 MB of records, beyond a 16 MiB budget.
	cfg := synth.DefaultConfig()
	cfg.Unit, cfg.Buyers, cfg.Days, cfg.PreDays = "conversation_id", 50000, 14, 0
	gen := t.TempDir()
	if _, err := synth.WriteDir(context.Background(), cfg, gen, nil); err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(gen, synth.EventsFile)
	spec := runSpec(t, cfg, "")
	big, small, tmp := t.TempDir(), t.TempDir(), t.TempDir()
	for _, args := range [][]string{
		{"run", spec, "--events", events, "--out", big},
		{"run", spec, "--events", events, "--out", small, "--memory", "16MiB", "--tmp", tmp},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
	}
	spilled := func(dir string) bool {
		var s struct{ Spilled bool }
		b, err := os.ReadFile(filepath.Join(dir, "replay.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		return s.Spilled
	}
	if spilled(big) || !spilled(small) {
		t.Fatalf("spilled: default budget %v, 16MiB %v; want false, true", spilled(big), spilled(small))
	}
	for _, f := range []string{"signals.parquet", "conversations.parquet", "orders.parquet", "assignments.parquet", "units.parquet", "results.parquet"} {
		a, err := os.ReadFile(filepath.Join(big, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(small, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the default budget and --memory 16MiB", f)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("--tmp keeps %d entries after the run", len(left))
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"run", spec, "--events", events, "--out", t.TempDir(), "--memory", "1MiB"}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "--memory 1MiB: want at least 16MiB") {
		t.Errorf("--memory 1MiB: exit %d, stderr %q", code, stderr.String())
	}
}

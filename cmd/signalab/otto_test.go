package main

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/results"
)

// ottoSource counts, from the committed OTTO sample itself (not through
// signalab), what the buyer- and session-level A/A must report pooled over
// both arms: buyers, buyers with an order within 168h of their first event,
// clicks, cart adds, and sessions split by gaps of more than 30 minutes.
func ottoSource(t *testing.T, path string) (buyers, converted, clicks, carts, sessions int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var s struct {
			Events []struct {
				TS   int64  `json:"ts"`
				Type string `json:"type"`
			} `json:"events"`
		}
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		buyers++
		first, conv := s.Events[0].TS, false
		for i, e := range s.Events {
			switch e.Type {
			case "clicks":
				clicks++
			case "carts":
				carts++
			case "orders":
				conv = conv || e.TS < first+168*3600*1000
			}
			if i == 0 || e.TS-s.Events[i-1].TS > 30*60*1000 {
				sessions++
			}
		}
		if conv {
			converted++
		}
	}
	return
}

// allRow returns the row of metric for the whole population.
func allRow(t *testing.T, res *results.Results, metric string) results.Row {
	t.Helper()
	for _, r := range res.Rows {
		if r.Metric == metric && r.Segment == results.SegmentAll && r.Population == results.PopulationAll {
			return r
		}
	}
	t.Fatalf("no row for %s", metric)
	return results.Row{}
}

// TestOTTOSample is the README tour on the committed public log: import →
// run at buyer level → report, every number finite, the pooled means equal
// to counts of the source file; a spec with conversation units is refused
// naming the cause; session units work too.
func TestOTTOSample(t *testing.T) {
	root := repoRoot(t)
	src := filepath.Join(root, "testdata", "otto", "otto_train_first20sessions.jsonl")
	dir := t.TempDir()
	events := filepath.Join(dir, "events.parquet")
	if code, _, stderr := runCLI(t, "import", "--format", "otto", "--in", src, "--out", events); code != 0 {
		t.Fatalf("import: exit %d: %s", code, stderr)
	}
	out := filepath.Join(dir, "run")
	code, stdout, stderr := runCLI(t, "run", filepath.Join(root, "testdata", "otto", "aa.yaml"), "--events", events, "--out", out)
	if code != 0 {
		t.Fatalf("run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if strings.Contains(stdout, "NaN") {
		t.Errorf("the results table prints NaN:\n%s", stdout)
	}
	res, err := results.Read(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	buyers, converted, clicks, carts, sessions := ottoSource(t, src)
	pooled := func(r results.Row) float64 {
		return (float64(r.Control.Mean)*float64(r.Control.Units) + float64(r.Treatment.Mean)*float64(r.Treatment.Units)) /
			float64(r.Control.Units+r.Treatment.Units)
	}
	for _, c := range []struct {
		metric string
		want   float64
	}{
		{"conversion", float64(converted) / float64(buyers)},
		{"page_views", float64(clicks) / float64(buyers)},
		{"cart_adds", float64(carts) / float64(buyers)},
	} {
		r := allRow(t, res, c.metric)
		if r.Control.Units+r.Treatment.Units != int64(buyers) || math.Abs(pooled(r)-c.want) > 1e-12 {
			t.Errorf("%s: %d+%d buyers, pooled mean %v; the source has %d buyers, mean %v", c.metric,
				r.Control.Units, r.Treatment.Units, pooled(r), buyers, c.want)
		}
		for name, x := range map[string]results.Num{"control mean": r.Control.Mean, "treatment mean": r.Treatment.Mean,
			"lift": r.Relative.Estimate, "p": r.PValue} {
			if !x.Valid() {
				t.Errorf("%s: %s is not finite (%v)", c.metric, name, x)
			}
		}
		// An interval end may be null: ±∞ (docs/results-schema.md), as
		// Fieller's relative interval is when 10 buyers per arm cannot
		// tell the control mean from 0. A finite end must hold the lift.
		lo, hi, lift := float64(r.Relative.CILower), float64(r.Relative.CIUpper), float64(r.Relative.Estimate)
		if r.Relative.CILower.Valid() && lo > lift || r.Relative.CIUpper.Valid() && hi < lift {
			t.Errorf("%s: relative interval [%v, %v] does not hold the lift %v", c.metric, lo, hi, lift)
		}
	}
	if res.Experiment.AnalysisUnit != "buyer" || !res.Gates.Passed {
		t.Errorf("analysis unit %q, gates %+v", res.Experiment.AnalysisUnit, res.Gates)
	}
	for _, f := range []string{"report.html", "report.md", "sessions.parquet", "units.parquet"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("run wrote no %s", f)
		}
	}
	if code, _, stderr := runCLI(t, "report", "--in", out, "--out", filepath.Join(dir, "r.md")); code != 0 {
		t.Errorf("report: exit %d: %s", code, stderr)
	}

	// Session units: one row per session, as counted from the source.
	spec := filepath.Join(dir, "sessions.yaml")
	os.WriteFile(spec, []byte("unit: session_id\nsalt: otto-s\nvariants: [{name: a1, weight: 0.5}, {name: a2, weight: 0.5}]\n"+
		"metrics: [{name: views, type: mean, outcome: page_views}]\nanalysis: {unit: session}\n"), 0o644)
	if code, _, stderr := runCLI(t, "run", spec, "--events", events, "--out", filepath.Join(dir, "sess")); code != 0 {
		t.Fatalf("session units: exit %d: %s", code, stderr)
	}
	sres, err := results.Read(filepath.Join(dir, "sess", "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r := allRow(t, sres, "views"); r.Control.Units+r.Treatment.Units != int64(sessions) ||
		math.Abs(pooled(r)-float64(clicks)/float64(sessions)) > 1e-12 {
		t.Errorf("session units: %d+%d sessions, pooled views %v; the source has %d sessions, %d clicks",
			r.Control.Units, r.Treatment.Units, pooled(r), sessions, clicks)
	}

	// Conversation units on a log without conversations: refused, naming
	// the cause and the fix.
	conv := filepath.Join(dir, "conv.yaml")
	os.WriteFile(conv, []byte("unit: buyer_id\nsalt: otto-c\nvariants: [{name: a1, weight: 0.5}, {name: a2, weight: 0.5}]\n"+
		"metrics: [{name: conversion, type: proportion, outcome: converted}]\n"), 0o644)
	code, stdout, stderr = runCLI(t, "run", conv, "--events", events, "--out", filepath.Join(dir, "conv"))
	if code != 2 || !strings.Contains(stderr, "the log has no conversation events") || !strings.Contains(stderr, "analysis.unit: buyer or session") ||
		strings.Contains(stdout+stderr, "NaN") {
		t.Errorf("conversation units: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
}

package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/results"
)

// sharedDatasets returns ../shared/datasets beside the repository, or skips
// the test when it is absent (a user's clone does not have it).
func sharedDatasets(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "..", "shared", "datasets")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s absent: skipping the tests on the public datasets", p)
	}
	return p
}

// TestSharedSamplesAA: the public OTTO and REES46 samples, imported, run end
// to end as buyer-level and session-level A/A experiments to finite
// numbers, with every buyer of the source in the unit table (REES46 buyers
// counted from its user_id column here, independently of the importer).
// OTTO's revenue (it has no prices) is the one comparison left undefined,
// with a reason.
func TestSharedSamplesAA(t *testing.T) {
	data := sharedDatasets(t)
	rees := filepath.Join(data, "rees46_sample", "2019-Oct-first1000.csv")
	f, err := os.Open(rees)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	users := map[string]bool{}
	for _, r := range recs[1:] {
		users[r[7]] = true // user_id
	}
	for _, c := range []struct {
		name, format, in string
		buyers           int
	}{
		{"otto", "otto", filepath.Join(data, "otto_sample", "otto_train_first20sessions.jsonl"), 20},
		{"rees46", "rees46", rees, len(users)},
	} {
		dir := t.TempDir()
		events := filepath.Join(dir, "events.parquet")
		if code, _, stderr := runCLI(t, "import", "--format", c.format, "--in", c.in, "--out", events); code != 0 {
			t.Fatalf("%s: import: exit %d: %s", c.name, code, stderr)
		}
		for _, unit := range []string{"buyer", "session"} {
			spec := filepath.Join(dir, unit+".yaml")
			rand := map[string]string{"buyer": "buyer_id", "session": "session_id"}[unit]
			os.WriteFile(spec, []byte("unit: "+rand+"\nsalt: aa-"+c.name+"\nvariants: [{name: a1, weight: 0.5}, {name: a2, weight: 0.5}]\n"+
				"metrics:\n  - {name: conversion, type: proportion, outcome: converted}\n  - {name: revenue, type: mean, outcome: revenue_cents}\n"+
				"  - {name: views, type: mean, outcome: page_views}\nanalysis: {unit: "+unit+"}\n"), 0o644)
			out := filepath.Join(dir, unit)
			code, stdout, stderr := runCLI(t, "run", spec, "--events", events, "--out", out)
			if code != 0 {
				t.Fatalf("%s %s: run: exit %d\n%s\n%s", c.name, unit, code, stdout, stderr)
			}
			if strings.Contains(stdout, "NaN") {
				t.Errorf("%s %s: the results table prints NaN:\n%s", c.name, unit, stdout)
			}
			res, err := results.Read(filepath.Join(out, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range []string{"conversion", "revenue", "views"} {
				r := allRow(t, res, m)
				if c.name == "otto" && m == "revenue" {
					// OTTO has no prices: revenue is 0 in every unit, and the
					// comparison is undefined with a reason, not a number.
					if r.Reason == "" || r.Absolute.Estimate.Valid() || r.PValue.Valid() {
						t.Errorf("otto %s revenue: reason %q, absolute %v, p %v: want undefined with a reason", unit, r.Reason, r.Absolute.Estimate, r.PValue)
					}
					continue
				}
				for name, x := range map[string]results.Num{"control mean": r.Control.Mean, "treatment mean": r.Treatment.Mean,
					"absolute": r.Absolute.Estimate, "p": r.PValue} {
					if !x.Valid() {
						t.Errorf("%s %s %s: %s is not finite", c.name, unit, m, name)
					}
				}
				if unit == "buyer" && r.Control.Units+r.Treatment.Units != int64(c.buyers) {
					t.Errorf("%s: %d+%d buyers in the analysis, the source has %d", c.name, r.Control.Units, r.Treatment.Units, c.buyers)
				}
			}
			t.Logf("%s, %s units: %d + %d", c.name, unit, allRow(t, res, "views").Control.Units, allRow(t, res, "views").Treatment.Units)
		}
	}
}

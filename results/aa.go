package results

import (
	"encoding/json"
	"fmt"
	"os"
)

// AAFile is the A/A study's output in a run folder.
const AAFile = "aa.json"

// AASchema is the version of aa.json.
const AASchema = "1.0"

// AA is aa.json: the A/A study of a run folder. Each redraw assigns
// the experiment's units afresh (the spec's hash, weights, coverage,
// namespace and unit, salt "<salt>/aa/<k>"), which plants no effect, and
// tests every metric as the analysis would. A sound test rejects about α
// of the time and its p-values are uniform.
type AA struct {
	Schema      string  `json:"schema"`
	ToolVersion string  `json:"tool_version"`
	Experiment  string  `json:"experiment"`
	Unit        string  `json:"unit"`
	Redraws     int     `json:"redraws"`
	Alpha       float64 `json:"alpha"`
	Inference   string  `json:"inference"`
	Draws       int     `json:"randomization_draws"`
	// BandLevel is the coverage of each check's band: 1 − 0.05/m for m
	// checks, so that a sound analysis fails the study with probability
	// at most 5%.
	BandLevel float64   `json:"band_level"`
	Units     int       `json:"units"`
	Checks    []AACheck `json:"checks"`
	Passed    bool      `json:"passed"`
	Seconds   float64   `json:"seconds"`
	Salts     string    `json:"salts"`
	Notes     []string  `json:"notes"`
	Spec      *AASpec   `json:"spec"`
}

// AASpec names the spec the study read.
type AASpec struct {
	Path string `json:"path"`
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

// AACheck is one metric × treatment × population over the redraws.
type AACheck struct {
	Metric     string `json:"metric"`
	Variant    string `json:"variant"`
	Population string `json:"population"`
	// Inference counts the redraws tested by each method (auto can pick
	// different ones for different redraws).
	Inference map[string]int `json:"inference"`
	// Tested counts redraws with a defined test; Rejections those with
	// p < α; Rate = Rejections/Tested with its 95% Clopper–Pearson interval.
	Tested     int        `json:"tested"`
	Rejections int        `json:"rejections"`
	Rate       float64    `json:"rate"`
	RateCI     [2]float64 `json:"rate_ci"`
	// Band is the range of rates a sound analysis produces with
	// probability BandLevel (exact binomial at α); the check passes when
	// Rate is inside it.
	Band [2]float64 `json:"band"`
	// Histogram counts the p-values in [0, 0.1), [0.1, 0.2), …, [0.9, 1];
	// KS is the Kolmogorov–Smirnov test of their uniformity (indicative:
	// randomization and few-conversion p-values are discrete).
	Histogram [10]int `json:"p_histogram"`
	KS        float64 `json:"ks_statistic"`
	KSPValue  float64 `json:"ks_p_value"`
	Passed    bool    `json:"passed"`
	// PValues are the redraws' p-values in redraw order (null when the
	// redraw's test is undefined).
	PValues []Num `json:"p_values"`
}

// ReadAA reads an aa.json written by signalab aa.
func ReadAA(path string) (*AA, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var a AA
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("parse %s: %w (re-run signalab aa)", path, err)
	}
	return &a, nil
}

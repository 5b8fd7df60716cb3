package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/signalab/signalab/results"

	"github.com/signalab/signalab/internal/safeio"
)

// File names of a run folder (docs/design.md, "Data flow").
const (
	ResultsFile  = "results.json"
	ReplayFile   = "replay.json"
	AssignFile   = "assign.json"
	ManifestFile = "manifest.json"
)

// specFiles are the names under which a run folder may hold its experiment
// spec, in order of preference.
var specFiles = []string{"experiment.yaml", "experiment.yml"}

// Report is everything a report shows, loaded from one run folder. Results is
// required; the other summaries are optional and shown verbatim when present.
type Report struct {
	// Dir is the run folder the report was loaded from ("" when built in memory).
	Dir     string
	Results *results.Results
	// Replay, Assign and Manifest are the raw JSON of replay.json,
	// assign.json and manifest.json, nil when the file is absent. Their key
	// figures already live in Results.Health; the report shows them in full
	// in its appendix.
	Replay   json.RawMessage
	Assign   json.RawMessage
	Manifest json.RawMessage
	// Spec is the experiment spec's YAML text and SpecPath where it was read
	// from; empty when no spec was found.
	Spec     []byte
	SpecPath string
	// AA is the A/A study of the run (aa.json, signalab aa), nil when it has
	// not been run.
	AA *results.AA
}

// Load reads a run folder: results.json (required), and replay.json,
// assign.json, manifest.json, aa.json and experiment.yaml when present. specPath,
// when not empty, names the experiment spec explicitly.
func Load(dir, specPath string) (*Report, error) {
	res, err := results.Read(filepath.Join(dir, ResultsFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s has no %s: run signalab analyze (or signalab run) into it first", dir, ResultsFile)
		}
		return nil, err
	}
	r := &Report{Dir: dir, Results: res}
	for _, f := range []struct {
		name string
		dst  *json.RawMessage
	}{{ReplayFile, &r.Replay}, {AssignFile, &r.Assign}, {ManifestFile, &r.Manifest}} {
		b, err := readOptional(filepath.Join(dir, f.name))
		if err != nil {
			return nil, err
		}
		if b == nil {
			continue
		}
		if !json.Valid(b) {
			return nil, fmt.Errorf("parse %s: not valid JSON; re-run the stage that wrote it", filepath.Join(dir, f.name))
		}
		*f.dst = bytes.TrimSpace(b)
	}
	if b, err := readOptional(filepath.Join(dir, results.AAFile)); err != nil {
		return nil, err
	} else if b != nil {
		if r.AA, err = results.ReadAA(filepath.Join(dir, results.AAFile)); err != nil {
			return nil, err
		}
	}
	if specPath != "" {
		b, err := safeio.ReadFile(specPath, safeio.MaxJSONBytes)
		if err != nil {
			return nil, fmt.Errorf("read experiment spec: %w", err)
		}
		r.Spec, r.SpecPath = b, specPath
		return r, nil
	}
	for _, name := range specFiles {
		p := filepath.Join(dir, name)
		b, err := readOptional(p)
		if err != nil {
			return nil, err
		}
		if b != nil {
			r.Spec, r.SpecPath = b, p
			break
		}
	}
	return r, nil
}

// readOptional returns the file's bytes, or nil when it does not exist.
func readOptional(path string) ([]byte, error) {
	b, err := safeio.ReadFile(path, safeio.MaxJSONBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

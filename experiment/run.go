package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/signalab/signalab/analysis"
	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/embedded"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/results"

	"github.com/signalab/signalab/internal/safeio"
)

// ManifestFile is the run folder's manifest.
const ManifestFile = "manifest.json"

// ManifestSchema is the version of manifest.json.
const ManifestSchema = "1.0"

// Manifest is manifest.json: what a run read, with checksums, how it was
// configured, and how long each stage took.
type Manifest struct {
	Schema      string            `json:"schema"`
	ToolVersion string            `json:"tool_version"`
	Experiment  string            `json:"experiment"`
	StartedAt   time.Time         `json:"started_at"`
	SpecFile    *output.InputFile `json:"spec_file"`
	// Spec is the parsed spec with defaults applied, as JSON.
	Spec        json.RawMessage    `json:"spec"`
	Inputs      []output.InputFile `json:"inputs"`
	Stages      []Stage            `json:"stages"`
	Outputs     []string           `json:"outputs"`
	GatesPassed bool               `json:"gates_passed"`
	Seconds     float64            `json:"seconds"`
}

// Stage is one stage's wall time.
type Stage struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// RunConfig configures Run.
type RunConfig struct {
	// SpecPath is the experiment.yaml (copied into Out as experiment.yaml).
	SpecPath string
	Events   []string
	Out      string
	Order    replay.Order
	Workers  int
	// Progress receives progress bars (only give it a terminal); Log
	// receives one line per stage. Both may be nil.
	Progress io.Writer
	Log      io.Writer
	// Trace receives the replay's phase timings (embedded.Config.Trace).
	Trace io.Writer
	// Report, when not nil, renders the report from the finished run
	// folder; it runs after manifest.json is written and its time is added
	// to the manifest.
	Report func(dir, specPath string) error
}

// RunResult is what a run produced.
type RunResult struct {
	Results  *results.Results
	Manifest *Manifest
}

// Run runs replay → assign → metrics → analyze (→ report) in one process,
// all outputs in cfg.Out, and writes manifest.json. It returns the results
// whatever the gates say; the caller decides the exit code.
func Run(cfg RunConfig) (*RunResult, error) {
	t0 := time.Now()
	spec, err := Load(cfg.SpecPath)
	if err != nil {
		return nil, err
	}
	specBytes, err := safeio.ReadFile(cfg.SpecPath, safeio.MaxSpecBytes)
	if err != nil {
		return nil, fmt.Errorf("read experiment spec: %w", err)
	}
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	sum := sha256.Sum256(specBytes)
	m := &Manifest{Schema: ManifestSchema, ToolVersion: buildinfo.Version(), Experiment: spec.Name,
		StartedAt: t0.UTC().Truncate(time.Second),
		SpecFile:  &output.InputFile{Path: cfg.SpecPath, Format: "yaml", Bytes: int64(len(specBytes)), SHA256: hex.EncodeToString(sum[:])}}
	if m.Spec, err = json.Marshal(spec); err != nil {
		return nil, err
	}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, format+"\n", args...)
		}
	}
	stage := func(name string, fn func() error) error {
		s := time.Now()
		if err := fn(); err != nil {
			return err
		}
		m.Stages = append(m.Stages, Stage{Name: name, Seconds: time.Since(s).Seconds()})
		logf("%-8s %6.2fs", name, time.Since(s).Seconds())
		return nil
	}

	var rsum *output.Summary
	err = stage("replay", func() error {
		rsum, err = embedded.Run(embedded.Config{Events: cfg.Events, Out: cfg.Out, Params: spec.Signals,
			Order: cfg.Order, Workers: cfg.Workers, Progress: cfg.Progress, Trace: cfg.Trace})
		return err
	})
	if err != nil {
		return nil, err
	}
	m.Inputs = rsum.Inputs
	err = stage("assign", func() error {
		res, err := assign.RunFile(spec.AssignConfig(), filepath.Join(cfg.Out, metrics.ConversationsFile), nil)
		if err != nil {
			return err
		}
		return assign.WriteOutputs(cfg.Out, res)
	})
	if err != nil {
		return nil, err
	}
	err = stage("metrics", func() error {
		_, err := metrics.Build(metrics.Options{Spec: spec.MetricsSpec(), In: []string{cfg.Out}, Out: cfg.Out})
		return err
	})
	if err != nil {
		return nil, err
	}
	var res *results.Results
	err = stage("analyze", func() error {
		acfg, err := spec.AnalysisConfig()
		if err != nil {
			return err
		}
		ctx, err := analysis.LoadContext(cfg.Out)
		if err != nil {
			return err
		}
		tbl, err := analysis.OpenTable(filepath.Join(cfg.Out, metrics.UnitsFile))
		if err != nil {
			return err
		}
		if res, err = analysis.Analyze(acfg, tbl, ctx); err != nil {
			return err
		}
		return analysis.Write(cfg.Out, res)
	})
	if err != nil {
		return nil, err
	}
	// Keep the spec with the run so the folder is self-contained.
	specCopy := filepath.Join(cfg.Out, "experiment.yaml")
	if abs1, abs2 := absPath(specCopy), absPath(cfg.SpecPath); abs1 != abs2 {
		if err := atomicfile.WriteBytes(specCopy, specBytes); err != nil {
			return nil, err
		}
	}
	m.GatesPassed = res.Gates.Passed
	m.Outputs = []string{"signals.parquet", "conversations.parquet", "orders.parquet", "quarantine.parquet", "replay.json",
		"assignments.parquet", "assign.json", metrics.UnitsFile, metrics.SummaryFile, analysis.ResultsJSON, analysis.ResultsParquet,
		"experiment.yaml", ManifestFile}
	if cfg.Report != nil {
		m.Outputs = append(m.Outputs, "report.html", "report.md")
	}
	m.Outputs = slices.DeleteFunc(m.Outputs, func(name string) bool {
		_, err := os.Stat(filepath.Join(cfg.Out, name))
		return err != nil && name != ManifestFile && name != "report.html" && name != "report.md"
	})
	m.Seconds = time.Since(t0).Seconds()
	if err := writeManifest(cfg.Out, m); err != nil {
		return nil, err
	}
	if cfg.Report != nil {
		if err := stage("report", func() error { return cfg.Report(cfg.Out, specCopy) }); err != nil {
			return nil, err
		}
		m.Seconds = time.Since(t0).Seconds()
		if err := writeManifest(cfg.Out, m); err != nil {
			return nil, err
		}
	}
	return &RunResult{Results: res, Manifest: m}, nil
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

func absPath(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return p
	}
	return a
}

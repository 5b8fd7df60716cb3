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
	"github.com/signalab/signalab/internal/fault"
	"github.com/signalab/signalab/internal/outdir"
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
	// MemoryBudget and TempDir are the replay stage's memory budget (0:
	// embedded.DefaultMemoryBudget) and spill folder ("": inside Out), as
	// embedded.Config has them.
	MemoryBudget int64
	TempDir      string
	// Progress receives progress bars (only give it a terminal); Log
	// receives one line per stage. Both may be nil.
	Progress io.Writer
	Log      io.Writer
	// Trace receives the replay's phase timings (embedded.Config.Trace).
	Trace io.Writer
	// Report, when not nil, renders the report from the finished run
	// folder; it runs after manifest.json is written and its time is added
	// to the manifest. dir is the staging folder holding the run's outputs
	// (specPath the spec copy in it); out is the output folder they will
	// be in once the run commits, for paths the report shows.
	Report func(dir, specPath, out string) error
	// Tx, when not nil, is an open output transaction on Out that Run
	// writes into instead of beginning its own; the caller commits it (or
	// aborts it) after Run. Its owned set must include RunOutputs.
	// signalab demo uses it to make the generated log and the spec part
	// of the same output set as the run's outputs: SpecPath and Events may
	// then name files inside Tx.Dir, and the manifest and replay.json
	// record them by the paths they have once committed (Tx.Final).
	Tx *outdir.Tx
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
	// Every output goes into a staging folder that replaces the output
	// folder's run outputs as one unit at the end, under the folder's lock
	// (internal/outdir; docs/limits.md).
	tx := cfg.Tx
	if tx == nil {
		if tx, err = outdir.Begin(cfg.Out, "signalab run", RunOutputs); err != nil {
			return nil, err
		}
		defer tx.Abort()
	}
	dir := tx.Dir
	sum := sha256.Sum256(specBytes)
	m := &Manifest{Schema: ManifestSchema, ToolVersion: buildinfo.Version(), Experiment: spec.Name,
		StartedAt: t0.UTC().Truncate(time.Second),
		SpecFile:  &output.InputFile{Path: tx.Final(cfg.SpecPath), Format: "yaml", Bytes: int64(len(specBytes)), SHA256: hex.EncodeToString(sum[:])}}
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
		fault.Point("run: start " + name)
		if err := fn(); err != nil {
			return err
		}
		fault.Point("run: end " + name)
		m.Stages = append(m.Stages, Stage{Name: name, Seconds: time.Since(s).Seconds()})
		logf("%-8s %6.2fs", name, time.Since(s).Seconds())
		return nil
	}

	var rsum *output.Summary
	err = stage("replay", func() error {
		rsum, err = embedded.Run(embedded.Config{Events: cfg.Events, Out: dir, Params: spec.Signals, Sessions: spec.Sessions(),
			Order: cfg.Order, Workers: cfg.Workers, MemoryBudget: cfg.MemoryBudget, TempDir: cfg.TempDir,
			Progress: cfg.Progress, Trace: cfg.Trace, InputName: tx.Final})
		return err
	})
	if err != nil {
		return nil, err
	}
	m.Inputs = rsum.Inputs
	err = stage("assign", func() error {
		res, err := RunAssign(spec, dir, nil)
		if err != nil {
			return err
		}
		return assign.WriteOutputs(dir, res)
	})
	if err != nil {
		return nil, err
	}
	err = stage("metrics", func() error {
		_, err := metrics.Build(metrics.Options{Spec: spec.MetricsSpec(), In: []string{dir}, Out: dir})
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
		ctx, err := analysis.LoadContext(dir)
		if err != nil {
			return err
		}
		tbl, err := analysis.OpenTable(filepath.Join(dir, metrics.UnitsFile))
		if err != nil {
			return err
		}
		if res, err = analysis.Analyze(acfg, tbl, ctx); err != nil {
			return err
		}
		return analysis.Write(dir, res)
	})
	if err != nil {
		return nil, err
	}
	// Keep the spec with the run so the folder is self-contained (the
	// bytes read at the start, also when the spec is the folder's own
	// experiment.yaml).
	specCopy := filepath.Join(dir, "experiment.yaml")
	if err := atomicfile.WriteBytes(specCopy, specBytes); err != nil {
		return nil, err
	}
	m.GatesPassed = res.Gates.Passed
	m.Outputs = []string{"signals.parquet", "conversations.parquet", "orders.parquet", "quarantine.parquet", "sessions.parquet", "replay.json",
		"assignments.parquet", "assign.json", metrics.UnitsFile, metrics.SummaryFile, analysis.ResultsJSON, analysis.ResultsParquet,
		"experiment.yaml", ManifestFile}
	if cfg.Report != nil {
		m.Outputs = append(m.Outputs, "report.html", "report.md")
	}
	m.Outputs = slices.DeleteFunc(m.Outputs, func(name string) bool {
		_, err := os.Stat(filepath.Join(dir, name))
		return err != nil && name != ManifestFile && name != "report.html" && name != "report.md"
	})
	m.Seconds = time.Since(t0).Seconds()
	if err := writeManifest(dir, m); err != nil {
		return nil, err
	}
	if cfg.Report != nil {
		if err := stage("report", func() error { return cfg.Report(dir, specCopy, tx.Out) }); err != nil {
			return nil, err
		}
		m.Seconds = time.Since(t0).Seconds()
		if err := writeManifest(dir, m); err != nil {
			return nil, err
		}
	}
	if cfg.Tx == nil {
		if err := tx.Commit(); err != nil {
			return nil, err
		}
	}
	return &RunResult{Results: res, Manifest: m}, nil
}

// RunAssign assigns the randomization units of spec from the replay's
// outputs in dir: its conversations.parquet, or its sessions.parquet when
// the analysis unit is buyer or session.
func RunAssign(spec *Spec, dir string, exposures *assign.ExposureLog) (*assign.Result, error) {
	if spec.Analysis.Unit.FromSessions() {
		p := filepath.Join(dir, metrics.SessionsFile)
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s: no such file: analysis.unit: %s is built from the replay's sessions; run signalab replay with this experiment (--experiment) or with --sessions", p, spec.Analysis.Unit)
		}
		return assign.RunSessionsFile(spec.AssignConfig(), p, exposures)
	}
	return assign.RunFile(spec.AssignConfig(), filepath.Join(dir, metrics.ConversationsFile), exposures)
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, ManifestFile), append(b, '\n'))
}

// RunOutputs are the files a run writes into its folder (and replaces as
// one set): the replay's tables (also sharded ones, which an earlier Beam
// replay may have left) and replay.json, the assignment, the unit table,
// the results, the spec copy, the manifest and the reports. aa.json is
// owned too, so that a new run removes the A/A study of the old data.
var RunOutputs = append(append([]string(nil), ReplayOutputs...),
	"assignments.parquet", "assign.json", metrics.UnitsFile, metrics.SummaryFile, analysis.ResultsJSON, analysis.ResultsParquet,
	"experiment.yaml", ManifestFile, "report.html", "report.md", results.AAFile)

// ReplayOutputs are the files of a replay's output set (signalab replay
// replaces them as one set): the tables, their shards, replay.json; also
// sessions.parquet, so that a replay without sessions leaves none from an
// earlier one behind.
var ReplayOutputs = []string{output.SignalsFile, output.ConversationsFile, output.OrdersFile, output.QuarantineFile, output.SummaryFile,
	output.SessionsFile, "signals-*.parquet", "conversations-*.parquet", "orders-*.parquet", "quarantine-*.parquet", "sessions-*.parquet"}

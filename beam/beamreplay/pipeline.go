package beamreplay

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// Options configure a Beam replay.
type Options struct {
	// Events are the input files, folders or globs, as for `signalab replay`,
	// or URLs of a Beam file system (see IsURL).
	Events []string
	// Out is the output folder or URL. Workers write shards under it, so it
	// must be writable from every worker.
	Out string
	// Params and Order are the signal logic's parameters and processing
	// order, as for the embedded engine.
	Params signal.Params
	Order  replay.Order
	// Sessions, when positive, is the session gap: the replay also writes
	// sessions.parquet, as the embedded engine's Config.Sessions.
	Sessions time.Duration
	// Strict makes the first row that breaks the schema fail the pipeline.
	Strict bool
	// SplitRows is the target number of rows per Parquet split (row groups
	// are never cut). Zero means DefaultSplitRows; a negative value keeps
	// every file whole.
	SplitRows int64
	// SpillRows bounds the output rows a worker buffers per bundle before it
	// writes them as a sorted shard. Zero means DefaultSpillRows.
	SpillRows int
	// KeepShards leaves the intermediate shards in Work/_beam for inspection.
	KeepShards bool
	// Work is the folder or URL under which workers write their shards
	// (Work/_beam/<run id>); default Out. signalab-beam replay has the
	// merge write the outputs into a staging folder (Out) that replaces
	// the output folder's replay outputs at the end, and keeps the shards
	// in the output folder itself (Work), so that kept shards of earlier
	// runs stay beside them.
	Work string
	// Meta is what replay.json records about the run beyond the counts.
	Meta RunMeta
}

// RunMeta is what replay.json records about the run beyond the counts.
type RunMeta struct {
	// ToolVersion is replay.json's tool_version.
	ToolVersion string `json:"tool_version"`
	// StartedAt (µs since epoch; Build sets it when zero) is the start of
	// replay.json's elapsed_seconds.
	StartedAt int64 `json:"started_at"`
}

// Defaults of Options.
const (
	DefaultSplitRows = 1 << 20
	DefaultSpillRows = 256 * 1024
)

func init() {
	register.DoFn4x1[context.Context, string, func(string, []byte), func(string), error](&readSplitFn{})
	register.Emitter2[string, []byte]()
	register.DoFn3x1[string, func(*[]byte) bool, func(string), error](&replayBuyersFn{})
	register.Emitter1[string]()
	register.Iter1[[]byte]()
	register.DoFn2x1[int, func(*string) bool, error](&mergeFn{})
	register.Iter1[string]()
	beam.RegisterType(reflect.TypeOf((*readSplitFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*replayBuyersFn)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*mergeFn)(nil)).Elem())
}

// Plan is what Build planned.
type Plan struct {
	// Files and Splits are the numbers of input files and of splits.
	Files, Splits int
	// WorkDir holds the run's shards (Work/_beam/<run id>); the merge removes
	// it, and a caller whose run failed may remove it too.
	WorkDir string
}

// Build plans the input splits and adds the replay to the pipeline scope s.
// It reads the Parquet footers of the inputs (on the launching machine).
func Build(s beam.Scope, opts Options) (Plan, error) {
	if opts.Out == "" {
		return Plan{}, fmt.Errorf("no output folder given")
	}
	if opts.SplitRows == 0 {
		opts.SplitRows = DefaultSplitRows
	}
	if opts.SpillRows <= 0 {
		opts.SpillRows = DefaultSpillRows
	}
	if opts.Meta.StartedAt == 0 {
		opts.Meta.StartedAt = time.Now().UnixMicro()
	}
	files, splits, err := PlanSplits(opts.Events, opts.SplitRows, opts.SplitRows > 0)
	if err != nil {
		return Plan{}, err
	}
	run := newRunID()
	root := opts.Work
	if root == "" {
		root = opts.Out
	}
	work := joinPath(root, "_beam", run)
	plan := Plan{Files: len(files), Splits: len(splits), WorkDir: work}
	params, err := json.Marshal(opts.Params)
	if err != nil {
		return Plan{}, fmt.Errorf("encode params: %w", err)
	}

	enc := make([]string, len(splits))
	for i, sp := range splits {
		enc[i] = EncodeSplit(sp)
	}
	s = s.Scope("signalab-replay")
	in := beam.Reshuffle(s, beam.CreateList(s, enc))
	events, readManifests := beam.ParDo2(s, &readSplitFn{Strict: opts.Strict, WorkDir: work}, in)
	grouped := beam.GroupByKey(s, events)
	bundleManifests := beam.ParDo(s, &replayBuyersFn{Params: string(params), Order: int(opts.Order),
		WorkDir: work, SpillRows: opts.SpillRows, Sessions: int64(opts.Sessions)}, grouped)
	all := beam.Flatten(s, readManifests, bundleManifests)
	one := beam.GroupByKey(s, beam.AddFixedKey(s, all))
	meta, err := json.Marshal(runInfo{Meta: opts.Meta, Files: files, Params: opts.Params, Order: opts.Order.String(),
		Splits: len(splits), Sessions: opts.Sessions > 0})
	if err != nil {
		return Plan{}, fmt.Errorf("encode run info: %w", err)
	}
	beam.ParDo0(s, &mergeFn{Out: opts.Out, WorkDir: work, Run: string(meta), KeepShards: opts.KeepShards}, one)
	return plan, nil
}

// runInfo is shipped to the merge step for replay.json.
type runInfo struct {
	Meta   RunMeta          `json:"meta"`
	Files  []event.FileInfo `json:"files"`
	Params signal.Params    `json:"params"`
	Order  string           `json:"order"`
	Splits int              `json:"splits"`
	// Sessions: the run writes sessions.parquet.
	Sessions bool `json:"sessions,omitempty"`
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// Cause digs the user-facing error out of a failed pipeline's error. Runners
// wrap a DoFn's error in the execution plan, bundle and job (a dozen lines
// naming stages and coders); the DoFn's own message, which names the file,
// row and column, follows the last "failed:" line.
func Cause(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	i := strings.LastIndex(msg, "] failed:\n")
	if i < 0 {
		return err
	}
	cause := strings.TrimSpace(msg[i+len("] failed:\n"):])
	cause = strings.TrimRight(cause, "\"")
	if j := strings.Index(cause, "\n"); j >= 0 {
		cause = cause[:j]
	}
	if cause == "" {
		return err
	}
	return causeError{cause: cause, full: err}
}

// causeError prints as its cause and unwraps to the full runner error.
type causeError struct {
	cause string
	full  error
}

func (e causeError) Error() string { return e.cause }
func (e causeError) Unwrap() error { return e.full }

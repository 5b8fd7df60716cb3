package output

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/internal/fault"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"

	"github.com/signalab/signalab/internal/safeio"
)

// Output file names in --out.
const (
	SignalsFile       = "signals.parquet"
	ConversationsFile = "conversations.parquet"
	OrdersFile        = "orders.parquet"
	QuarantineFile    = "quarantine.parquet"
	// SessionsFile is written only when the replay tracks sessions (an
	// experiment whose analysis.unit is buyer or session, or --sessions).
	SessionsFile = "sessions.parquet"
	SummaryFile  = "replay.json"
)

// RowGroupRows is the row-group size of the output Parquet files.
const RowGroupRows = 128 * 1024

// QuarantineRow is a row of quarantine.parquet: an input row that broke the
// schema, with where it came from and why.
type QuarantineRow struct {
	File   string `parquet:"file" json:"file"`
	Row    int64  `parquet:"row" json:"row"`
	Column string `parquet:"column" json:"column"`
	Reason string `parquet:"reason" json:"reason"`
	Detail string `parquet:"detail" json:"detail"`
	Raw    string `parquet:"raw" json:"raw"`
}

// QuarantineRowOf converts a reader's quarantined row.
func QuarantineRowOf(q event.Quarantined) QuarantineRow {
	r := q.ToRow() // escapes bytes that are not UTF-8
	return QuarantineRow{File: r.File, Row: r.Row, Column: r.Column, Reason: r.Reason, Detail: r.Detail, Raw: r.Raw}
}

// Tables are the rows of a replay's output tables.
type Tables struct {
	Signals       []signal.Signal
	Conversations []signal.Conversation
	Orders        []signal.Order
	Quarantine    []QuarantineRow
	// Sessions are the buyers' sessions; WithSessions says whether the
	// replay tracked them (and so whether sessions.parquet is written, or
	// was found by Read).
	Sessions     []replay.Session
	WithSessions bool
	// Summary is replay.json when read back by Read (nil if absent).
	Summary *Summary
}

// Sort puts every table in its output order (see SortSignals,
// SortConversations, SortOrders; quarantine by file then row).
func (o *Tables) Sort() {
	var wg sync.WaitGroup
	wg.Add(3)
	SortSessions(o.Sessions)
	go func() { defer wg.Done(); SortSignals(o.Signals) }()
	go func() { defer wg.Done(); SortConversations(o.Conversations) }()
	go func() { defer wg.Done(); SortOrders(o.Orders) }()
	SortQuarantine(o.Quarantine)
	wg.Wait()
}

// Write writes o's tables into dir in their output order (their rows are
// not moved; quarantine rows are sorted in place): signals.parquet,
// conversations.parquet, orders.parquet, quarantine.parquet, sessions.parquet
// with WithSessions, and replay.json when sum is not nil. Staged as
// WriteStaged does: a failed write leaves the previous outputs (or none)
// rather than a mix.
func Write(dir string, o *Tables, sum *Summary) error {
	return WriteStaged(dir, o.Files(), func() *Summary { return sum })
}

// File writes one output file (Name, e.g. SignalsFile) to a path.
type File struct {
	Name  string
	Write func(path string) error
}

// Files are the jobs writing the tables of o (WriteStaged runs them in
// parallel): Parts.Files of o's tables as single parts, so each table is
// written in its output order without moving its rows.
func (o *Tables) Files() []File {
	p := Parts{Signals: [][]signal.Signal{o.Signals}, Conversations: [][]signal.Conversation{o.Conversations},
		Orders: [][]signal.Order{o.Orders}, Quarantine: o.Quarantine, WithSessions: o.WithSessions}
	if o.WithSessions {
		p.Sessions = [][]replay.Session{o.Sessions}
	}
	return p.Files()
}

// WriteStaged runs the file jobs into a staging folder inside dir (in
// parallel), then writes the summary (computed last, so that an elapsed
// time in it includes writing; nil for none), then renames everything into
// dir. Every file is written completely first (each with
// internal/atomicfile), and only when all succeeded are they renamed into
// place, so a failed run leaves dir as it was.
func WriteStaged(dir string, files []File, summary func() *Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	stage, err := os.MkdirTemp(dir, ".staging-")
	if err != nil {
		return fmt.Errorf("create output folder: %w", err)
	}
	defer os.RemoveAll(stage)
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, t := range files {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = t.Write(filepath.Join(stage, t.Name)) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	var names []string
	for _, t := range files {
		names = append(names, t.Name)
	}
	if summary != nil {
		if sum := summary(); sum != nil {
			b, err := json.MarshalIndent(sum, "", "  ")
			if err != nil {
				return fmt.Errorf("encode %s: %w", SummaryFile, err)
			}
			if err := atomicfile.WriteBytes(filepath.Join(stage, SummaryFile), append(b, '\n')); err != nil {
				return err
			}
			names = append(names, SummaryFile)
		}
	}
	for _, n := range names {
		fault.Point("replay output: before rename " + n)
		if err := os.Rename(filepath.Join(stage, n), filepath.Join(dir, n)); err != nil {
			return fmt.Errorf("move %s into %s: %w", n, dir, err)
		}
	}
	return nil
}

// WriterOptions are the writer options of every output Parquet file
// (signals, conversations, orders, quarantine): zstd at its fastest level,
// RowGroupRows rows per row group, created_by "signalab". Every engine
// writes its outputs with them (through WriteFile), which is what makes the
// engines' files byte-identical.
func WriterOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.Compression(&zstd.Codec{Level: zstd.SpeedFastest}),
		parquet.MaxRowsPerRowGroup(RowGroupRows),
		parquet.CreatedBy("signalab", "", ""),
	}
}

// WriteFile creates the output Parquet file path atomically (with
// internal/atomicfile) and with WriterOptions; fill writes the rows,
// already in output order, and WriteFile closes the writer.
func WriteFile[T any](path string, fill func(*parquet.GenericWriter[T]) error) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		pw := parquet.NewGenericWriter[T](w, WriterOptions()...)
		if err := fill(pw); err != nil {
			return err
		}
		return pw.Close()
	})
}

// readParquet reads every row of a Parquet file of T.
func readParquet[T any](path string) ([]T, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w (is it a signalab replay output?)", path, err)
	}
	r := parquet.NewGenericReader[T](pf)
	defer r.Close()
	rows := make([]T, 0, pf.NumRows())
	buf := make([]T, 4096)
	for {
		n, err := r.Read(buf)
		rows = append(rows, buf[:n]...)
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
}

// readTable reads one output table from dir: the single file base+".parquet",
// or the shards base+"-*.parquet" (in name order, concatenated), or the
// canonical JSON Lines base+".jsonl" of a golden set. It reports whether any
// was found.
func readTable[T, J any](dir, base string, fromJSON func(J) T) ([]T, bool, error) {
	single := filepath.Join(dir, base+".parquet")
	if _, err := os.Stat(single); err == nil {
		rows, err := readParquet[T](single)
		return rows, true, err
	}
	shards, _ := filepath.Glob(filepath.Join(dir, base+"-*.parquet"))
	if len(shards) > 0 {
		sort.Strings(shards)
		var all []T
		for _, s := range shards {
			rows, err := readParquet[T](s)
			if err != nil {
				return nil, true, err
			}
			all = append(all, rows...)
		}
		return all, true, nil
	}
	jl := filepath.Join(dir, base+".jsonl")
	if f, err := safeio.Open(jl); err == nil {
		defer f.Close()
		rows, err := ReadJSONL(f, jl, fromJSON)
		return rows, true, err
	}
	return nil, false, nil
}

func identity[T any](v T) T { return v }

// Read reads the outputs of a replay from dir: signals, conversations,
// orders, quarantine and (when the replay tracked them, WithSessions)
// sessions as single Parquet files, as shards (signals-00001.parquet, ...,
// as written by distributed engines) or as canonical JSON Lines (a golden
// set), plus replay.json or counts.json when present. Rows are returned in
// output order. It is an error if dir has no signals table.
func Read(dir string) (*Tables, error) {
	o := &Tables{}
	var ok bool
	var err error
	if o.Signals, ok, err = readTable(dir, "signals", SignalJSON.Signal); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("read replay outputs: no signals.parquet, signals-*.parquet or signals.jsonl in %s (is it the --out folder of signalab replay?)", dir)
	}
	if o.Conversations, _, err = readTable(dir, "conversations", ConversationJSON.Conversation); err != nil {
		return nil, err
	}
	if o.Orders, _, err = readTable(dir, "orders", OrderJSON.Order); err != nil {
		return nil, err
	}
	if o.Quarantine, _, err = readTable(dir, "quarantine", identity[QuarantineRow]); err != nil {
		return nil, err
	}
	if o.Sessions, o.WithSessions, err = readTable(dir, "sessions", SessionJSON.Session); err != nil {
		return nil, err
	}
	for _, name := range []string{SummaryFile, GoldenCountsFile} {
		b, err := safeio.ReadFile(filepath.Join(dir, name), safeio.MaxJSONBytes)
		if err != nil {
			continue
		}
		var s Summary
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, name), err)
		}
		o.Summary = &s
		break
	}
	o.Sort()
	return o, nil
}

// SortQuarantine sorts quarantined rows by file, then row: the order of
// quarantine.parquet.
func SortQuarantine(q []QuarantineRow) {
	slices.SortFunc(q, func(a, b QuarantineRow) int {
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return cmp.Compare(a.Row, b.Row)
	})
}

// Parts are a replay's output rows as its partitions produced them, not yet
// concatenated or sorted: what an engine holds when every row fits in
// memory. Files writes the same bytes as sorting the parts' concatenation
// (SortSignals, ...) and writing it would, reading the rows in place.
type Parts struct {
	Signals       [][]signal.Signal
	Conversations [][]signal.Conversation
	Orders        [][]signal.Order
	Sessions      [][]replay.Session
	Quarantine    []QuarantineRow
	WithSessions  bool
}

// Files are the jobs writing the tables of p, one per output file.
func (p *Parts) Files() []File {
	files := []File{
		{SignalsFile, func(path string) error {
			return writeBatches(path, sortedBatches(p.Signals, signalKey(p.Signals), CompareSignals))
		}},
		{ConversationsFile, func(path string) error {
			return writeBatches(path, sortedBatches(p.Conversations, conversationKey(p.Conversations), CompareConversations))
		}},
		{OrdersFile, func(path string) error {
			return writeBatches(path, sortedBatches(p.Orders, orderKey(p.Orders), CompareOrders))
		}},
		{QuarantineFile, func(path string) error { SortQuarantine(p.Quarantine); return WriteRows(path, p.Quarantine) }},
	}
	if p.WithSessions {
		files = append(files, File{SessionsFile, func(path string) error {
			s := slices.Concat(p.Sessions...)
			SortSessions(s)
			return WriteRows(path, s)
		}})
	}
	return files
}

package embedded

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/buildinfo"
	"github.com/signalab/signalab/internal/fault"
	"github.com/signalab/signalab/internal/outdir"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/replay/wire"
	"github.com/signalab/signalab/signal"

	"github.com/signalab/signalab/internal/safeio"
)

// Defaults of Config.
const (
	DefaultPartitions   = 64   // the minimum; see partitionsFor
	MaxPartitions       = 1024 // the maximum partitionsFor picks
	DefaultMemoryBudget = 128 << 20
	partitionRows       = 150_000 // target events per partition
)

// partitionsFor picks the partition count for the inputs of r: a power of
// two giving about partitionRows events per partition (so that a worker's
// memory for the logic stays near 40 MB whatever the input size), between
// DefaultPartitions and MaxPartitions. Rows are counted from Parquet
// metadata, or estimated at 150 bytes per row of text input.
func partitionsFor(r *event.Reader) int {
	var rows int64
	for _, f := range r.Files() {
		if f.Rows >= 0 {
			rows += f.Rows
		} else {
			rows += f.Size / 150
		}
	}
	n := DefaultPartitions
	for n < MaxPartitions && int64(n)*partitionRows < rows {
		n *= 2
	}
	return n
}

// Config configures Run.
type Config struct {
	// Events are the input paths (files, folders or globs; see event.Open).
	Events []string
	// Out is the output folder.
	Out string
	// Params are the signal parameters.
	Params signal.Params
	// Order is the processing order of each buyer's events.
	Order replay.Order
	// Workers is the number of goroutines running the logic and decoding
	// Parquet (default GOMAXPROCS). The output does not depend on it.
	Workers int
	// Strict makes the first row that breaks the schema an error.
	Strict bool
	// Progress, when not nil, receives a progress bar (give it standard
	// error only when that is a terminal).
	Progress io.Writer
	// TempDir holds spill files (default: a hidden folder inside Out).
	TempDir string
	// MemoryBudget is the size in bytes of encoded events kept in memory
	// before partitions spill to disk (default DefaultMemoryBudget).
	MemoryBudget int64
	// OutputRows is the number of output rows held in memory before they
	// are sorted and spilled as a run (default DefaultOutputRows).
	OutputRows int
	// Partitions is the number of buyer-hash partitions (default: from
	// the input size, see partitionsFor). Peak memory for the logic is
	// about one partition per worker. The output does not depend on it.
	Partitions int
	// Sessions, when positive, is the session gap: the replay then also
	// writes sessions.parquet (replay.Session: every buyer's sessions
	// split by this much inactivity), which the analysis units buyer and
	// session are built from. Zero writes no sessions (the other outputs
	// are the same either way).
	Sessions time.Duration
	// Trace, when not nil, receives a line with the wall and process CPU
	// time at the end of each phase (read and partition, logic, write; see
	// docs/benchmarks/replay.md). The CLI gives it standard error when
	// SIGNALAB_TRACE is set.
	Trace io.Writer
}

// logicColumns are the optional columns the replay reads: those of the
// signal logic and currency (counted for replay.json, not given to the
// logic); a Parquet read skips decoding any other.
var logicColumns = []string{"ingest_time", "conversation_id", "channel", "sender", "cart_token",
	"item_count", "cart_value_cents", "product_ids", "order_id", "order_value_cents", "currency"}

// Run replays the event logs of cfg.Events through the signal logic and
// writes the outputs and replay.json into cfg.Out. See docs/replay.md.
//
// How: events are read file by file (event.Reader; Parquet row groups
// decoded in parallel and taken as they finish), each is appended as a wire
// record (package replay/wire) to the partition of its buyer (buyerHash of
// shop_id, buyer_id mod Partitions), and partitions spill to temporary
// files once MemoryBudget is exceeded, so input of any size and any order
// works. Workers then take partitions one at a time, group each
// partition's events by buyer, and run each buyer's events through a
// replay.Buyer (Replay). All output rows are finally sorted by their total
// output orders and written. Because each buyer's events are ordered by a
// key of their content and the outputs are sorted, the output bytes do not
// depend on the worker count, the file split or the row-group order.
func Run(cfg Config) (*output.Summary, error) {
	start := time.Now()
	if cfg.Out == "" {
		return nil, errors.New("replay: no output folder")
	}
	if err := cfg.Params.Validate(); err != nil {
		return nil, fmt.Errorf("replay: %w (start from signal.DefaultParams)", err)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.MemoryBudget <= 0 {
		cfg.MemoryBudget = DefaultMemoryBudget
	}
	if cfg.OutputRows <= 0 {
		cfg.OutputRows = DefaultOutputRows
	}
	tr := tracer{w: cfg.Trace, start: start}
	var quarantine []output.QuarantineRow
	r, err := event.Open(cfg.Events, event.ReadOptions{Strict: cfg.Strict, Workers: cfg.Workers, Columns: logicColumns, Unordered: true,
		OnQuarantine: func(q event.Quarantined) error {
			quarantine = append(quarantine, output.QuarantineRowOf(q))
			return nil
		}})
	if err != nil {
		return nil, err
	}
	defer r.Close()

	// Checksums of the inputs, concurrently with the read.
	files := r.Files()
	inputs := make([]output.InputFile, len(files))
	sumErr := make(chan error, 1)
	go func() { sumErr <- checksumInputs(files, inputs) }()

	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, fmt.Errorf("create output folder: %w", err)
	}
	// The spill folder goes inside Out (the CLI's staging folder, whose
	// output-folder lock tells a crashed run's leftovers from a live run's),
	// or under TempDir with a lock of its own (outdir.Temp), so a later run
	// removes what a crash left behind.
	var spillDir string
	if cfg.TempDir == "" {
		spillDir, err = os.MkdirTemp(cfg.Out, ".spill-")
		if err != nil {
			return nil, fmt.Errorf("create spill folder: %w", err)
		}
		defer os.RemoveAll(spillDir)
	} else {
		var release func()
		if spillDir, release, err = outdir.Temp(cfg.TempDir, ".spill-"); err != nil {
			return nil, fmt.Errorf("create spill folder in %s: %w", cfg.TempDir, err)
		}
		defer release()
	}

	if cfg.Partitions <= 0 {
		cfg.Partitions = partitionsFor(r)
	}
	parts := make([]partition, cfg.Partitions)
	defer func() {
		for i := range parts {
			parts[i].release()
		}
	}()
	bar := newBar(cfg.Progress, r.TotalRows())
	spilled, err := partitionEvents(r, parts, cfg, spillDir, bar, &tr)
	if err != nil {
		return nil, err
	}
	tr.phase("partitioned")

	var counts replay.Counts
	counts.Read = r.RowsRead()
	counts.Currencies = r.CurrencyCounts()
	for k, v := range r.QuarantineCounts() {
		if counts.Quarantined == nil {
			counts.Quarantined = map[string]int64{}
		}
		counts.Quarantined[string(k)] = v
	}
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(cfg.Progress)
		bar = progressbar.NewOptions(len(parts),
			progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionSetDescription("replay: running the signal logic (partitions)"),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionFullWidth())
	}
	runs := &outputRuns{dir: spillDir, limit: cfg.OutputRows}
	logicCounts, err := processPartitions(parts, cfg, bar, runs)
	if err != nil {
		return nil, err
	}
	counts.Add(logicCounts)
	tr.phase("logic")
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(cfg.Progress)
	}
	if err := <-sumErr; err != nil {
		return nil, err
	}

	outs := &output.Tables{Quarantine: quarantine, WithSessions: cfg.Sessions > 0}
	var tables []output.File
	if runs.runs == 0 {
		held := runs.take()
		outs.Signals, outs.Conversations, outs.Orders, outs.Sessions = held.Signals, held.Conversations, held.Orders, held.Sessions
		tables = outs.Files()
	} else {
		if err := runs.spill(); err != nil {
			return nil, err
		}
		tables = []output.File{
			{Name: output.SignalsFile, Write: func(p string) error {
				return output.MergeRuns(p, runs.paths("signals"), output.CompareSignals)
			}},
			{Name: output.ConversationsFile, Write: func(p string) error {
				return output.MergeRuns(p, runs.paths("conversations"), output.CompareConversations)
			}},
			{Name: output.OrdersFile, Write: func(p string) error {
				return output.MergeRuns(p, runs.paths("orders"), output.CompareOrders)
			}},
			{Name: output.QuarantineFile, Write: func(p string) error {
				output.SortQuarantine(outs.Quarantine)
				return output.WriteRows(p, outs.Quarantine)
			}},
		}
		if cfg.Sessions > 0 {
			tables = append(tables, output.File{Name: output.SessionsFile, Write: func(p string) error {
				return output.MergeRuns(p, runs.paths("sessions"), output.CompareSessions)
			}})
		}
	}

	sum := output.NewSummary(cfg.Params, cfg.Order, &counts, outs)
	sum.Outputs = output.RowCounts{Signals: int(counts.Signal.SignalTotal()), Conversations: int(counts.Signal.Conversations),
		Orders: int(counts.Signal.Orders), Quarantine: len(quarantine)}
	if cfg.Sessions > 0 {
		n := runs.sessions
		sum.Outputs.Sessions = &n
	}
	sum.ToolVersion = buildinfo.Version()
	sum.Inputs = inputs
	sum.Workers = cfg.Workers
	sum.Spilled = spilled || runs.runs > 0
	err = output.WriteStaged(cfg.Out, tables, func() *output.Summary {
		el := time.Since(start).Seconds()
		sum.ElapsedSeconds = roundTo(el, 3)
		if el > 0 {
			sum.EventsPerSecond = roundTo(float64(counts.Read)/el, 0)
		}
		return &sum
	})
	if err != nil {
		return nil, err
	}
	tr.phase("written")
	return &sum, nil
}

// tracer writes Config.Trace's lines; its methods do nothing when w is nil.
type tracer struct {
	w     io.Writer
	start time.Time
}

// phase reports the wall and process CPU time at the end of a phase.
func (t *tracer) phase(what string) {
	fault.Point("replay: " + what)
	if t.w != nil {
		fmt.Fprintf(t.w, "trace: %s at %.2fs (process CPU %.2fs)\n", what, time.Since(t.start).Seconds(), processCPU().Seconds())
	}
}

func roundTo(v float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

func newBar(w io.Writer, total int64) *progressbar.ProgressBar {
	if w == nil {
		return nil
	}
	if total <= 0 {
		total = -1
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("replay: reading events"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("events"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionFullWidth())
}

// partitionEvents reads every event and appends it to its buyer's
// partition, spilling all partitions to disk whenever the records held in
// memory exceed the budget (their chunks are then reused, so chunk memory
// stays near the budget plus one open chunk per partition). It reports
// whether anything was spilled.
func partitionEvents(r *event.Reader, parts []partition, cfg Config, spillDir string, bar *progressbar.ProgressBar, tr *tracer) (bool, error) {
	var buffered int64
	var pool [][]byte
	spilled := false
	np := uint64(len(parts))
	chunk := chunkSizeFor(cfg.MemoryBudget, len(parts))
	var waited time.Duration
	for {
		t0 := time.Now()
		batch, err := r.Next()
		waited += time.Since(t0)
		if err == io.EOF {
			if tr.w != nil {
				var total int64
				for i := range parts {
					total += parts[i].size
					for _, c := range parts[i].chunks {
						total += int64(len(c))
					}
				}
				fmt.Fprintf(tr.w, "trace: waited for batches %.2fs; %d record bytes\n", waited.Seconds(), total)
			}
			return spilled, nil
		}
		if err != nil {
			return spilled, err
		}
		for i := range batch {
			e := &batch[i]
			h := buyerHash(e.ShopID, e.BuyerID)
			buffered += parts[h%np].add(e, h, chunk, &pool)
		}
		if buffered > cfg.MemoryBudget {
			for i := range parts {
				if err := parts[i].flush(spillDir, i, chunk, &pool); err != nil {
					return spilled, err
				}
			}
			buffered, spilled = 0, true
		}
		if bar != nil {
			bar.Add(len(batch))
		}
	}
}

// partResult is what one partition produced: rows and counts.
type partResult struct {
	out replay.Output
	err error
}

// processPartitions runs the logic over every partition with cfg.Workers
// goroutines, hands each partition's rows to runs and returns the merged
// counts.
func processPartitions(parts []partition, cfg Config, bar *progressbar.ProgressBar, runs *outputRuns) (replay.Counts, error) {
	results := make([]partResult, len(parts))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.Workers, len(parts)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := partScratch{buyer: replay.NewBuyer(event.BuyerKey{}, cfg.Params, cfg.Order)}
			sc.buyer.TrackSessions(cfg.Sessions)
			for i := range next {
				processPartition(&parts[i], cfg, &sc, &results[i])
				parts[i].release()
				runs.add(&results[i].out)
				if bar != nil {
					bar.Add(1) // safe for concurrent use
				}
			}
		}()
	}
	for i := range parts {
		next <- i
	}
	close(next)
	wg.Wait()

	var counts replay.Counts
	for i := range results {
		if results[i].err != nil {
			return counts, results[i].err
		}
		counts.Add(results[i].out.Counts)
	}
	return counts, runs.err
}

// partScratch are the reusable buffers of a worker.
type partScratch struct {
	keys, bkeys []recordKey
	buf, load   []byte
	evs         []event.Event
	dec         wire.Decoder // zero-copy: strings point into buf
	buyer       *replay.Buyer
	group       hashGrouper
}

// hashGrouper puts records with equal buyer hashes next to each other,
// keeping their input order: a hash table from hash to a chain of records,
// linear in the number of records (a bucket's keys fit in the CPU cache).
// Buyers come out in the order of their first record; the outputs are
// sorted at the end, so that order does not matter.
type hashGrouper struct {
	table  []int32 // slot -> group index + 1
	groups []hashGroup
	next   []int32 // key index -> next key index of its group, -1 at the end
	out    []recordKey
}

type hashGroup struct {
	hash       uint64
	head, tail int32
}

// group returns keys (in input order) reordered so that equal hashes are
// adjacent, each group in input order. The result lives in g until the next
// call.
func (g *hashGrouper) group(keys []recordKey) []recordKey {
	n := len(keys)
	if n < 2 {
		return keys
	}
	size := 16
	for size < 2*n {
		size *= 2
	}
	if cap(g.table) < size {
		g.table = make([]int32, size)
	}
	table := g.table[:size]
	clear(table)
	mask := uint64(size - 1)
	g.groups = g.groups[:0]
	g.next = slices.Grow(g.next[:0], n)[:n]
	for i := range keys {
		h := keys[i].hash
		// The low bits chose the partition and bits 16-23 the bucket:
		// mix before probing.
		slot := (h * 0x9E3779B97F4A7C15 >> 32) & mask
		for {
			gi := table[slot]
			if gi == 0 {
				g.groups = append(g.groups, hashGroup{hash: h, head: int32(i), tail: int32(i)})
				table[slot] = int32(len(g.groups))
				break
			}
			if gr := &g.groups[gi-1]; gr.hash == h {
				g.next[gr.tail] = int32(i)
				gr.tail = int32(i)
				break
			}
			slot = (slot + 1) & mask
		}
		g.next[i] = -1
	}
	if len(g.groups) == n || len(g.groups) == 1 {
		return keys // every record its own buyer, or one buyer: already grouped
	}
	out := slices.Grow(g.out[:0], n)
	for _, gr := range g.groups {
		for k := gr.head; k >= 0; k = g.next[k] {
			out = append(out, keys[k])
		}
	}
	g.out = out
	return out
}

// processPartition groups one partition's records by buyer and runs each
// buyer's events through the logic: the records are moved into 256 small
// buckets by bits 16-23 of the buyer hash (bucketRecords), each bucket's records are
// grouped by buyer hash (hashGrouper: adjacent, in partition order), and
// each buyer is decoded, ordered and processed in turn.
func processPartition(p *partition, cfg Config, sc *partScratch, res *partResult) {
	data, err := p.load(sc.load)
	if err != nil {
		res.err = err
		return
	}
	if p.path != "" || len(p.chunks) != 1 {
		sc.load = data // keep the grown buffer for the next partition
	}
	sc.keys, err = index(data, sc.keys[:0])
	if err != nil {
		res.err = fmt.Errorf("read spilled events: %w", err)
		return
	}
	var bounds [numBuckets + 1]int
	sc.buf, sc.bkeys, bounds = bucketRecords(data, sc.keys, sc.buf, sc.bkeys)
	p.release() // the records now live in sc.buf
	for bi := range numBuckets {
		keys := sc.group.group(sc.bkeys[bounds[bi]:bounds[bi+1]])
		if err := processBucket(keys, sc, res); err != nil {
			res.err = err
			return
		}
	}
	// Output strings point into sc.buf, which the next partition reuses:
	// copy them.
	cloneRows(&res.out)
}

// processBucket decodes and processes the buyers of one grouped bucket.
func processBucket(keys []recordKey, sc *partScratch, res *partResult) error {
	for lo := 0; lo < len(keys); {
		hi := lo + 1
		for hi < len(keys) && keys[hi].hash == keys[lo].hash {
			hi++
		}
		// Decode overwrites each event whole, so the slice is grown without
		// zeroing and not cleared after use (its strings point into sc.buf
		// and the decoder's arena, which live on anyway).
		evs := slices.Grow(sc.evs[:0], hi-lo)[:hi-lo]
		for i, k := range keys[lo:hi] {
			if _, err := sc.dec.Decode(sc.buf[k.off+8:k.off+k.size], &evs[i]); err != nil {
				return fmt.Errorf("read spilled events: %w", err)
			}
		}
		sc.evs = evs
		// Distinct buyers with the same 64-bit hash: split them (stable,
		// so each buyer's events keep their input order).
		if !sameBuyer(evs) {
			slices.SortStableFunc(evs, func(a, b event.Event) int {
				if c := strings.Compare(a.ShopID, b.ShopID); c != 0 {
					return c
				}
				return strings.Compare(a.BuyerID, b.BuyerID)
			})
		}
		for blo := 0; blo < len(evs); {
			bhi := blo + 1
			for bhi < len(evs) && evs[bhi].BuyerID == evs[blo].BuyerID && evs[bhi].ShopID == evs[blo].ShopID {
				bhi++
			}
			sc.buyer.Replay(evs[blo:bhi], &res.out)
			blo = bhi
		}
		sc.dec.Reset()
		lo = hi
	}
	return nil
}

func sameBuyer(evs []event.Event) bool {
	for i := 1; i < len(evs); i++ {
		if evs[i].ShopID != evs[0].ShopID || evs[i].BuyerID != evs[0].BuyerID {
			return false
		}
	}
	return true
}

// cloneRows copies the strings of rows so that they no longer refer to
// spill buffers. Consecutive rows usually share ids; those are copied once.
func cloneRows(o *replay.Output) {
	var last [4]string
	var lastClone [4]string
	clone := func(slot int, s string) string {
		if s == last[slot] && s != "" {
			return lastClone[slot]
		}
		c := strings.Clone(s)
		last[slot], lastClone[slot] = s, c
		return c
	}
	for i := range o.Signals {
		s := &o.Signals[i]
		s.ConversationID = clone(0, s.ConversationID)
		s.ShopID = clone(1, s.ShopID)
		s.BuyerID = clone(2, s.BuyerID)
		s.SourceEventID = strings.Clone(s.SourceEventID)
		if s.OrderID != nil {
			v := strings.Clone(*s.OrderID)
			s.OrderID = &v
		}
	}
	for i := range o.Conversations {
		c := &o.Conversations[i]
		c.ConversationID = strings.Clone(c.ConversationID)
		c.ShopID = clone(1, c.ShopID)
		c.BuyerID = clone(2, c.BuyerID)
		c.Channel = clone(3, c.Channel)
	}
	for i := range o.Orders {
		r := &o.Orders[i]
		r.OrderID = strings.Clone(r.OrderID)
		r.ShopID = clone(1, r.ShopID)
		r.BuyerID = clone(2, r.BuyerID)
	}
	for i := range o.Sessions {
		r := &o.Sessions[i]
		r.ShopID = clone(1, r.ShopID)
		r.BuyerID = clone(2, r.BuyerID)
	}
}

// checksumInputs fills inputs with each file's path, format, size and SHA-256.
func checksumInputs(files []event.FileInfo, inputs []output.InputFile) error {
	for i, f := range files {
		fh, err := safeio.Open(f.Path)
		if err != nil {
			return fmt.Errorf("checksum input: %w", err)
		}
		h := sha256.New()
		n, err := io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return fmt.Errorf("checksum input %s: %w", f.Path, err)
		}
		format := string(f.Format)
		if f.Gzip {
			format += "+gzip"
		}
		inputs[i] = output.InputFile{Path: f.Path, Format: format, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	}
	return nil
}

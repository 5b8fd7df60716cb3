package embedded

import (
	"cmp"
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
	DefaultPartitions = 16   // the minimum; see partitionsFor
	MaxPartitions     = 1024 // the maximum partitionsFor picks
	// DefaultMemoryBudget is the default of Config.MemoryBudget: the event
	// records of a 10M-event log (about 700 MB) mostly fit, those of larger
	// logs spill.
	DefaultMemoryBudget = 512 << 20
	partitionRows       = 50_000 // target events per partition
)

// inputRows returns the number of rows of r's inputs: counted from Parquet
// metadata, or estimated at 150 bytes per row of text input.
func inputRows(r *event.Reader) int64 {
	var rows int64
	for _, f := range r.Files() {
		if f.Rows >= 0 {
			rows += f.Rows
		} else {
			rows += f.Size / 150
		}
	}
	return rows
}

// recordBytes is about the size of an event's partition entry (hash and
// wire record) on generated logs.
const recordBytes = 64

// partitionsFor picks the partition count for rows input rows: a power of
// two giving at most about partitionRows events per partition, between
// DefaultPartitions and MaxPartitions. A partition of that size (about 3
// MB of records) is grouped and decoded where it is (processDirect), in
// the CPU cache, without the bucketed copy larger ones need; more
// partitions cost the scan a little more (each goroutine appends to all of
// them at once) and the spill more files. At 10M events (256 partitions)
// this was 2.5 % less CPU than 64 bucketed partitions, 512 partitions 2 %
// more.
func partitionsFor(rows int64) int {
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
	// MemoryBudget bounds, in bytes, the event records held in memory
	// (partitions beyond it spill to disk) and, during the logic, those
	// records plus the output rows held (beyond it the rows are sorted and
	// spilled as a run). Default DefaultMemoryBudget. Peak memory is this
	// budget plus a constant (docs/replay.md, "Memory").
	MemoryBudget int64
	// OutputRows, when positive, is the number of output rows held in
	// memory before they are sorted and spilled as a run, whatever the
	// budget (tests use it to force runs).
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
	// directMax is the largest partition (bytes of records) grouped and
	// decoded in place (default directMax; tests set -1 to bucket all).
	directMax int
	// Trace, when not nil, receives a line with the wall and process CPU
	// time at the end of each phase (read and partition, logic, write; see
	// docs/benchmarks/replay.md). The CLI gives it standard error when
	// SIGNALAB_TRACE is set.
	Trace io.Writer
	// InputName, when not nil, gives the name under which an input file
	// is recorded (replay.json's inputs, the file column of
	// quarantine.parquet); by default its path as read. A command that
	// writes the log itself into its staging folder (signalab demo) names
	// it by the path it has once the output set is in place
	// (outdir.Tx.Final).
	InputName func(path string) string
}

// inputName is the name under which the input file path is recorded.
func (cfg *Config) inputName(path string) string {
	if cfg.InputName == nil {
		return path
	}
	return cfg.InputName(path)
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
	if cfg.directMax == 0 {
		cfg.directMax = directMax
	}
	tr := tracer{w: cfg.Trace, start: start}
	var quarantine []output.QuarantineRow
	r, err := event.Open(cfg.Events, event.ReadOptions{Strict: cfg.Strict, Workers: cfg.Workers, Columns: logicColumns,
		OnQuarantine: func(q event.Quarantined) error {
			row := output.QuarantineRowOf(q)
			row.File = cfg.inputName(row.File)
			quarantine = append(quarantine, row)
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
	go func() { sumErr <- checksumInputs(files, inputs, cfg.inputName) }()

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

	rows := inputRows(r)
	if cfg.Partitions <= 0 {
		cfg.Partitions = partitionsFor(rows)
	}
	shares := make([]share, cfg.Workers)
	for w := range shares {
		shares[w].parts = make([]partition, cfg.Partitions)
		withStages(shares[w].parts)
	}
	pool := &chunkPool{size: chunkSizeFor(cfg.MemoryBudget, cfg.Partitions*cfg.Workers, rows*recordBytes), budget: cfg.MemoryBudget}
	defer func() {
		for w := range shares {
			for i := range shares[w].parts {
				shares[w].parts[i].release(pool, false)
			}
		}
		pool.drop(nil)
		pool.unmapRetired()
	}()
	bar := newBar(cfg.Progress, r.TotalRows())
	shops := &shopTable{}
	spilled, err := partitionEvents(r, shares, shops, pool, spillDir, bar, &tr)
	if err != nil {
		return nil, err
	}
	pool.drop(nil) // the free chunks
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
		bar = progressbar.NewOptions(cfg.Partitions,
			progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionSetDescription("replay: running the signal logic (partitions)"),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionFullWidth())
	}
	runs := &outputRuns{dir: spillDir, limit: cfg.OutputRows, budget: cfg.MemoryBudget, records: pool}
	logicCounts, err := processPartitions(shares, shops.names, pool, cfg, bar, runs)
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
		parts := runs.parts()
		parts.Quarantine, parts.WithSessions = quarantine, cfg.Sessions > 0
		tables = parts.Files()
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

// share is one scan goroutine's share of every partition: the events it
// decoded (event.Reader.Scan), partitioned on that goroutine while they are
// in its cache, with no lock.
type share struct {
	parts   []partition
	spilled bool
	shops   shopCache
}

// partitionEvents reads every event and appends it to its buyer's
// partition in the share of the goroutine that decoded it. When the pool
// has no chunk left within the budget, that goroutine spills its largest
// partitions (spill) and reuses their chunks, so only what does not fit
// goes to disk. It reports whether anything was spilled.
func partitionEvents(r *event.Reader, shares []share, shops *shopTable, pool *chunkPool, spillDir string, bar *progressbar.ProgressBar, tr *tracer) (bool, error) {
	np := uint64(len(shares[0].parts))
	pow2 := np&(np-1) == 0 // the usual case: a mask, no division
	err := r.Scan(func(w int, batch []event.Event) error {
		s := &shares[w]
		for i := range batch {
			e := &batch[i]
			h := buyerHash(e.ShopID, e.BuyerID)
			pi := h & (np - 1)
			if !pow2 {
				pi = h % np
			}
			p := &s.parts[pi]
			shop := s.shops.number(shops, e.ShopID)
			if p.add(e, h, shop, pool) {
				continue
			}
			if err := s.spill(w, pool, spillDir); err != nil {
				return err
			}
			if !p.add(e, h, shop, pool) {
				// The other goroutines hold the budget (they spill when
				// they next need a chunk): go over it by one chunk.
				p.chunks = append(p.chunks, pool.alloc())
				p.add(e, h, shop, pool)
			}
		}
		if bar != nil {
			bar.Add(len(batch))
		}
		return nil
	})
	for i := range shares {
		for j := range shares[i].parts {
			shares[i].parts[j].unstageAll(pool)
		}
	}
	spilled := false
	for i := range shares {
		spilled = spilled || shares[i].spilled
	}
	if tr.w != nil {
		var mem, disk int64
		for i := range shares {
			for j := range shares[i].parts {
				p := &shares[i].parts[j]
				disk += p.size
				for _, c := range p.chunks {
					mem += int64(len(c))
				}
			}
		}
		fmt.Fprintf(tr.w, "trace: %d record bytes in memory, %d spilled; chunks %d bytes\n", mem, disk, pool.held.Load())
	}
	return spilled, err
}

// spill flushes the share's partitions to disk, the ones holding the most
// memory first, until a 32nd of the budget is free again (or the share
// holds nothing).
func (s *share) spill(w int, pool *chunkPool, dir string) error {
	order := make([]int, len(s.parts))
	held := make([]int64, len(s.parts))
	for i := range s.parts {
		order[i], held[i] = i, s.parts[i].held()
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(held[b], held[a]) })
	var freed int64
	for _, i := range order {
		if freed >= pool.budget/32 || held[i] == 0 {
			break
		}
		if err := s.parts[i].flush(dir, fmt.Sprintf("part-%04d-w%d", i, w), pool); err != nil {
			return err
		}
		freed += held[i]
		s.spilled = true
	}
	return nil
}

// partResult is what one partition produced: rows and counts.
type partResult struct {
	out replay.Output
	err error
}

// processPartitions runs the logic over every partition with cfg.Workers
// goroutines, hands each partition's rows to runs and returns the merged
// counts.
func processPartitions(shares []share, shops []string, pool *chunkPool, cfg Config, bar *progressbar.ProgressBar, runs *outputRuns) (replay.Counts, error) {
	np := len(shares[0].parts)
	results := make([]partResult, np)
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(cfg.Workers, np) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := partScratch{buyer: replay.NewBuyer(event.BuyerKey{}, cfg.Params, cfg.Order), directMax: cfg.directMax, shops: shops}
			sc.buyer.TrackSessions(cfg.Sessions)
			ps := make([]*partition, len(shares))
			for i := range next {
				for w := range shares {
					ps[w] = &shares[w].parts[i]
				}
				processPartition(ps, pool, &sc, &results[i])
				runs.add(&results[i].out)
				if bar != nil {
					bar.Add(1) // safe for concurrent use
				}
			}
		}()
	}
	for i := range np {
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
	directMax int      // Config.directMax
	shops     []string // shop ids by number (shopTable)
	bkeys     []recordKey
	buf, load []byte
	srcs      [][]byte
	evs       []event.Event
	dec       wire.Decoder // zero-copy: strings point into the records
	buyer     *replay.Buyer
	group     hashGrouper
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
	hash       uint32
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
		slot := (uint64(h) * 0x9E3779B97F4A7C15 >> 32) & mask
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

// processPartition groups one partition's records (the shares of every
// scan goroutine: spill files, then chunks) by buyer and runs each buyer's
// events through the logic: the records are moved into 256 small buckets
// by bits 16-23 of the buyer hash (bucketRecords), each bucket's records
// are grouped by buyer hash (hashGrouper: adjacent, in partition order), and
// each buyer is decoded, ordered and processed in turn.
func processPartition(ps []*partition, pool *chunkPool, sc *partScratch, res *partResult) {
	// Sources in scan order: each goroutine's spilled records, then its
	// chunks (event.Reader.Scan gives each goroutine a contiguous share of
	// the input, so a buyer's entries come as at most one run per
	// goroutine in input order).
	var err error
	sc.load = sc.load[:0]
	var ends [8]int
	fileEnd := ends[:0]
	for _, p := range ps {
		if sc.load, err = p.readFile(sc.load); err != nil {
			res.err = err
			return
		}
		fileEnd = append(fileEnd, len(sc.load))
	}
	sc.srcs = sc.srcs[:0]
	for w, p := range ps {
		lo := 0
		if w > 0 {
			lo = fileEnd[w-1]
		}
		if fileEnd[w] > lo {
			sc.srcs = append(sc.srcs, sc.load[lo:fileEnd[w]])
		}
		sc.srcs = append(sc.srcs, p.chunks...)
	}
	total := 0
	for _, src := range sc.srcs {
		total += len(src)
	}
	if total <= sc.directMax {
		processDirect(ps, pool, sc, res)
		return
	}
	var bounds [numBuckets + 1]int
	if sc.buf, sc.bkeys, bounds, err = bucketRecords(sc.srcs, sc.buf, sc.bkeys); err != nil {
		res.err = fmt.Errorf("read spilled events: %w", err)
		return
	}
	clear(sc.srcs) // no pointers to freed chunks
	for _, p := range ps {
		p.release(pool, false) // the records now live in sc.buf
	}
	sc.srcs = append(sc.srcs[:0], sc.buf)
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

// directMax is the size up to which a partition is grouped and decoded
// where its records are (processDirect) rather than bucketed first: about
// what stays in a core's cache.
const directMax = 4 << 20

// processDirect groups and runs a small partition's records where they are
// (chunks and spilled records): no bucketed copy. The chunks are then
// retired rather than freed, since the worker's scratch may still point
// into them.
func processDirect(ps []*partition, pool *chunkPool, sc *partScratch, res *partResult) {
	var err error
	if sc.bkeys, err = indexRecords(sc.srcs, sc.bkeys[:0]); err != nil {
		res.err = fmt.Errorf("read spilled events: %w", err)
		return
	}
	if err := processBucket(sc.group.group(sc.bkeys), sc, res); err != nil {
		res.err = err
		return
	}
	cloneRows(&res.out)
	for _, p := range ps {
		p.release(pool, true)
	}
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
			if err := decodeEntry(&sc.dec, sc.srcs[k.src][k.off:k.off+k.size], sc.shops, &evs[i]); err != nil {
				return fmt.Errorf("read spilled events: %w", err)
			}
		}
		sc.evs = evs
		if sameBuyer(evs) {
			sc.buyer.Replay(evs, &res.out)
			sc.dec.Reset()
			lo = hi
			continue
		}
		// Distinct buyers with the same 32-bit hash: split them (stable,
		// so each buyer's events keep their input order).
		{
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

// checksumInputs fills inputs with each file's name (path as named by
// name), format, size and SHA-256.
func checksumInputs(files []event.FileInfo, inputs []output.InputFile, name func(string) string) error {
	for i, f := range files {
		fh, err := safeio.Open(f.Path)
		if err != nil {
			return fmt.Errorf("checksum input: %w", err)
		}
		h := sha256.New()
		n, err := io.CopyBuffer(h, struct{ io.Reader }{fh}, make([]byte, 1<<20)) // 1 MiB reads (io.Copy's are 32 KiB)
		fh.Close()
		if err != nil {
			return fmt.Errorf("checksum input %s: %w", f.Path, err)
		}
		format := string(f.Format)
		if f.Gzip {
			format += "+gzip"
		}
		inputs[i] = output.InputFile{Path: name(f.Path), Format: format, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}
	}
	return nil
}

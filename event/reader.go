package event

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/signalab/signalab/internal/safeio"
)

// Format is an input file format, chosen by file extension.
type Format string

// Supported input formats.
const (
	FormatParquet Format = "parquet" // .parquet
	FormatJSONL   Format = "jsonl"   // .jsonl, .ndjson, optionally .gz
	FormatCSV     Format = "csv"     // .csv, optionally .gz
)

// DefaultBatchSize is the number of events per batch returned by Reader.Next
// and per Arrow record batch decoded. 16k decodes as fast as 64k here and
// keeps a third of the live heap (docs/benchmarks/event-io.md).
const DefaultBatchSize = 16 * 1024

// ReadOptions configures Open.
type ReadOptions struct {
	// Strict makes the first row that breaks the schema an error (a *RowError
	// naming file, row and column) instead of quarantining it.
	Strict bool
	// BatchSize is the maximum number of events per batch (default DefaultBatchSize).
	BatchSize int
	// Workers is the number of goroutines decoding Parquet row groups in
	// parallel (default 2). Batches are still delivered in input order
	// (unless Unordered).
	Workers int
	// Unordered lets the batches of a Parquet file's row groups arrive in
	// the order they finish decoding rather than in input order; files are
	// still read one after the other, and every event keeps its File and
	// Row. In input order, a worker that decoded a batch of a later row
	// group waits until the earlier row groups have been consumed, so with
	// row groups much larger than a batch (a 1M-row group is 64 batches)
	// the workers mostly take turns; unordered, they all keep decoding.
	// Quarantined rows are then reported in decoding order too. Ignored
	// with Strict, whose error must name the first bad row.
	Unordered bool
	// Columns, when not nil, restricts a Parquet read to the required columns
	// (event_id, kind, event_time, shop_id, buyer_id) plus the optional columns
	// named here; the others are left empty, which skips their decoding.
	// Validation then checks only what was read. Text formats always parse
	// every column.
	Columns []string
	// OnQuarantine, when set, receives each quarantined row, in input order,
	// from the goroutine calling Next; the Reader then keeps only counts. When
	// nil, the Reader keeps every quarantined row (see Reader.Quarantined).
	// Returning an error stops the read with that error.
	OnQuarantine func(Quarantined) error

	// arrowOnly makes Scan read Parquet with the Arrow decoder of Next
	// (tests compare the two).
	arrowOnly bool
}

// FileInfo describes one resolved input file.
type FileInfo struct {
	Path   string
	Format Format
	Gzip   bool
	Size   int64 // bytes on disk
	Rows   int64 // rows from Parquet metadata; -1 for text formats (unknown until read)
}

// Reader streams events from one or more files in input order: file by file in
// the order resolved by Open, rows in file order. Memory is bounded by a few
// batches (and, for Parquet, a few row groups), whatever the input size.
// A Reader is not safe for concurrent use.
type Reader struct {
	opts  ReadOptions
	files []FileInfo
	cur   int // index of the file being read
	src   source
	ahead *prefetched // the next Parquet file, opened while the current one is read
	last  *batch
	pool  *batchPool

	read     int64 // rows read, including quarantined
	accepted int64
	counts   map[Reason]int64
	// currencies counts accepted events by their currency (when the
	// column is read).
	currencies  map[string]int64
	quarantined []Quarantined
	err         error
}

// prefetched is a source opened ahead of its turn (or the error opening it,
// reported only when the read reaches that file, to keep errors in order).
type prefetched struct {
	idx int
	src source
	err error
}

// batch is a unit of work passed from a decoder to Next.
type batch struct {
	events []Event
	quar   []Quarantined
	rows   int64 // rows consumed, events plus quarantined
}

// source decodes one file.
type source interface {
	// next returns the next batch, or io.EOF after the last one.
	next() (*batch, error)
	close() error
}

// Open resolves paths and returns a Reader over them. Each path is a file, a
// folder (every supported file directly inside it, sorted by name, skipping
// names that start with "." or "_") or a glob (matches sorted by name). The
// format comes from the extension: .parquet; .jsonl or .ndjson; .csv; text
// formats may end in .gz. Open checks that every file exists and reads each
// Parquet footer (for TotalRows and the schema check), so most file-level
// errors surface here rather than midway.
func Open(paths []string, opts ReadOptions) (*Reader, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	files, err := ResolvePaths(paths)
	if err != nil {
		return nil, err
	}
	r := &Reader{opts: opts, files: files, cur: -1, counts: map[Reason]int64{}, pool: newBatchPool(opts.BatchSize)}
	for i := range r.files {
		f := &r.files[i]
		if f.Format == FormatParquet {
			n, err := checkParquetFile(f.Path, opts.Columns)
			if err != nil {
				return nil, err
			}
			f.Rows = n
		}
	}
	return r, nil
}

// ResolvePaths expands files, folders and globs into the ordered list of input
// files (see Open). It fails on a path that does not exist, a glob without a
// match, a folder without supported files, or a file of an unsupported type.
func ResolvePaths(paths []string) ([]FileInfo, error) {
	if len(paths) == 0 {
		return nil, errors.New("no event files given; pass one or more files, folders or globs (for example events.parquet or 'logs/*.jsonl')")
	}
	var out []FileInfo
	add := func(p string, explicit bool) error {
		format, gz, ok := FormatOf(p)
		if !ok {
			if !explicit {
				return nil
			}
			return fmt.Errorf("read events %s: unsupported file type; use .parquet, .jsonl, .ndjson or .csv (text formats may be gzipped: .jsonl.gz, .csv.gz)", p)
		}
		st, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("read events %s: %w", p, err)
		}
		if k := safeio.KindOf(st.Mode()); k != "" {
			// A FIFO would block (or be read once), a device never ends.
			return fmt.Errorf("read events %w", &safeio.NotRegularError{Path: p, Kind: k})
		}
		out = append(out, FileInfo{Path: p, Format: format, Gzip: gz, Size: st.Size(), Rows: -1})
		return nil
	}
	for _, p := range paths {
		if strings.ContainsAny(p, "*?[") {
			matches, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("read events: bad glob %q: %v", p, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("read events: glob %q matches no file; check the pattern and quote it so the shell does not expand it", p)
			}
			slices.Sort(matches)
			for _, m := range matches {
				if st, err := os.Stat(m); err == nil && st.IsDir() {
					continue
				}
				if err := add(m, true); err != nil {
					return nil, err
				}
			}
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("read events %s: no such file or folder; check the path", p)
			}
			return nil, fmt.Errorf("read events %s: %w", p, err)
		}
		if !st.IsDir() {
			if err := add(p, true); err != nil {
				return nil, err
			}
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, fmt.Errorf("read events %s: %w", p, err)
		}
		n := len(out)
		for _, e := range entries { // ReadDir sorts by name
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				continue
			}
			if err := add(filepath.Join(p, name), false); err != nil {
				return nil, err
			}
		}
		if len(out) == n {
			return nil, fmt.Errorf("read events %s: folder has no .parquet, .jsonl, .ndjson or .csv files", p)
		}
	}
	return out, nil
}

// FormatOf returns the format of a path from its extension, whether it is
// gzipped, and whether the extension is supported.
func FormatOf(path string) (f Format, gz bool, ok bool) {
	p := strings.ToLower(path)
	if strings.HasSuffix(p, ".gz") {
		gz = true
		p = strings.TrimSuffix(p, ".gz")
	}
	switch filepath.Ext(p) {
	case ".parquet":
		if gz {
			return "", false, false
		}
		return FormatParquet, false, true
	case ".jsonl", ".ndjson":
		return FormatJSONL, gz, true
	case ".csv":
		return FormatCSV, gz, true
	}
	return "", false, false
}

// Files returns the resolved input files in read order; Event.File indexes it.
func (r *Reader) Files() []FileInfo { return r.files }

// TotalRows returns the number of rows in all inputs when known (every input
// is Parquet: the sum of the footers' row counts), or -1. For progress bars.
func (r *Reader) TotalRows() int64 {
	var n int64
	for _, f := range r.files {
		if f.Rows < 0 {
			return -1
		}
		n += f.Rows
	}
	return n
}

// RowsRead returns the rows read so far, quarantined ones included.
func (r *Reader) RowsRead() int64 { return r.read }

// Accepted returns the number of events returned so far.
func (r *Reader) Accepted() int64 { return r.accepted }

// CurrencyCounts returns the valid events read so far by currency code
// (events without one are not counted; nothing is counted when the currency
// column is not among ReadOptions.Columns).
func (r *Reader) CurrencyCounts() map[string]int64 { return r.currencies }

// countCurrencies adds a batch's currencies, counting runs of one code with
// one map update (a log's events mostly come shop by shop).
func (r *Reader) countCurrencies(events []Event) {
	cur, n := "", int64(0)
	for i := range events {
		c := events[i].Currency
		if c == cur {
			n++
			continue
		}
		if cur != "" {
			r.addCurrency(cur, n)
		}
		cur, n = c, 1
	}
	if cur != "" {
		r.addCurrency(cur, n)
	}
}

func (r *Reader) addCurrency(code string, n int64) {
	if r.currencies == nil {
		r.currencies = map[string]int64{}
	}
	r.currencies[code] += n
}

// QuarantineCounts returns the number of quarantined rows by reason so far.
func (r *Reader) QuarantineCounts() map[Reason]int64 { return r.counts }

// QuarantinedRows returns the total number of quarantined rows so far.
func (r *Reader) QuarantinedRows() int64 {
	var n int64
	for _, c := range r.counts {
		n += c
	}
	return n
}

// Quarantined returns the quarantined rows kept so far (none when
// ReadOptions.OnQuarantine is set).
func (r *Reader) Quarantined() []Quarantined { return r.quarantined }

// Next returns the next batch of valid events, in input order, with File and
// Row set. It returns io.EOF after the last batch. The returned slice is
// reused by the following call to Next: copy an Event (a struct copy is
// enough) to keep it. Strings and ProductIDs slices are never reused and stay
// valid.
func (r *Reader) Next() ([]Event, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.last != nil {
		r.pool.put(r.last)
		r.last = nil
	}
	for {
		if r.src == nil {
			r.cur++
			if r.cur >= len(r.files) {
				r.err = io.EOF
				return nil, io.EOF
			}
			var src source
			var err error
			if r.ahead != nil && r.ahead.idx == r.cur {
				src, err = r.ahead.src, r.ahead.err
				r.ahead = nil
			} else {
				src, err = r.openSource(r.cur)
			}
			if err != nil {
				r.fail(err)
				return nil, err
			}
			r.src = src
			r.prefetch(r.cur + 1)
		}
		b, err := r.src.next()
		if err == io.EOF {
			cerr := r.src.close()
			r.src = nil
			if cerr != nil {
				r.err = cerr
				return nil, cerr
			}
			continue
		}
		if err != nil {
			r.fail(err)
			return nil, err
		}
		r.read += b.rows
		for _, q := range b.quar {
			if r.opts.Strict {
				err := &RowError{Q: q}
				r.fail(err)
				return nil, err
			}
			r.counts[q.Reason]++
			if r.opts.OnQuarantine != nil {
				if err := r.opts.OnQuarantine(q); err != nil {
					r.fail(err)
					return nil, err
				}
			} else {
				r.quarantined = append(r.quarantined, q)
			}
		}
		if len(b.events) == 0 {
			r.pool.put(b)
			continue
		}
		r.accepted += int64(len(b.events))
		r.countCurrencies(b.events)
		r.last = b
		return b.events, nil
	}
}

// prefetch opens file i ahead of its turn when it is Parquet, so its
// workers decode its first batches while the current file is consumed: at
// most two files are open at a time.
func (r *Reader) prefetch(i int) {
	if i >= len(r.files) || r.files[i].Format != FormatParquet {
		return
	}
	src, err := r.openSource(i)
	r.ahead = &prefetched{idx: i, src: src, err: err}
}

func (r *Reader) fail(err error) {
	r.err = err
	r.closeSources()
}

func (r *Reader) closeSources() error {
	var err error
	if r.src != nil {
		err = r.src.close()
		r.src = nil
	}
	if r.ahead != nil {
		if r.ahead.src != nil {
			r.ahead.src.close()
		}
		r.ahead = nil
	}
	return err
}

// Close stops any background decoding and releases files. It is safe to call
// more than once and after an error.
func (r *Reader) Close() error {
	err := r.closeSources()
	if r.err == nil {
		r.err = errors.New("read events: reader is closed")
	}
	return err
}

func (r *Reader) openSource(i int) (source, error) {
	f := r.files[i]
	switch f.Format {
	case FormatParquet:
		return openParquetSource(f.Path, int32(i), r.opts, r.pool)
	case FormatJSONL:
		return openJSONLSource(f, int32(i), r.opts, r.pool)
	case FormatCSV:
		return openCSVSource(f, int32(i), r.opts, r.pool)
	}
	return nil, fmt.Errorf("read events %s: unsupported format %q", f.Path, f.Format)
}

// batchPool recycles batches so that steady-state reading allocates no event
// slices. Its capacity bounds nothing; producers are bounded by channels.
type batchPool struct {
	size int
	free chan *batch
}

func newBatchPool(size int) *batchPool {
	return &batchPool{size: size, free: make(chan *batch, 16)}
}

func (p *batchPool) get() *batch {
	select {
	case b := <-p.free:
		return b
	default:
		return &batch{events: make([]Event, 0, p.size)}
	}
}

func (p *batchPool) put(b *batch) {
	// No clear: every event is overwritten whole before it is read again,
	// and the pool holds few batches, so stale strings retain little.
	b.events = b.events[:0]
	b.quar = b.quar[:0]
	b.rows = 0
	select {
	case p.free <- b:
	default:
	}
}

// ReadAll reads every event of paths into memory: for tests and small inputs.
func ReadAll(paths []string, opts ReadOptions) ([]Event, *Reader, error) {
	r, err := Open(paths, opts)
	if err != nil {
		return nil, nil, err
	}
	defer r.Close()
	var out []Event
	for {
		b, err := r.Next()
		if err == io.EOF {
			return out, r, nil
		}
		if err != nil {
			return out, r, err
		}
		out = append(out, b...)
	}
}

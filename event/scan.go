package event

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"sync/atomic"

	"github.com/signalab/signalab/internal/safeio"
)

// Scan reads every event of r's inputs on up to ReadOptions.Workers
// goroutines and calls visit with each batch of valid events. It is the
// parallel alternative to Next for a consumer that can take batches on
// several goroutines at once (the replay engine partitions them there, while
// the batch is in the CPU cache).
//
//   - visit runs concurrently; worker (0 ≤ worker < Workers) names the
//     goroutine calling it, so per-worker state needs no lock.
//   - Batches come in no particular order; every event keeps its File and
//     Row. Each Parquet row group, JSON Lines or CSV file is read by one
//     goroutine in row order, and each goroutine starts with its own
//     contiguous share of them, in input order (splitTasks).
//   - **Borrowed memory.** The batch slice, and the strings and ProductIDs
//     of its events, are valid only until visit returns (strings of
//     Parquet columns point into decoded pages that are then reused): copy
//     what you keep (strings.Clone). Interned columns (kind, shop_id,
//     channel, sender, currency) are the exception: they are never reused.
//     visit may modify the batch.
//   - Quarantined rows are counted and passed to OnQuarantine (calls are
//     serialized, in no particular order) or kept (Quarantined).
//   - With Strict, the error is the first bad row in input order, as with
//     Next. Otherwise, the first error in input order of a file that could
//     not be read; a non-nil error from visit stops the scan and is
//     returned.
//
// Parquet files are decoded by the page decoder (parquet_pages.go) unless a
// column type or codec needs the Arrow decoder of Next, which then reads
// the file on one goroutine. Scan must be the first and only read of r;
// afterwards RowsRead, Accepted, QuarantineCounts and CurrencyCounts hold
// the totals and Next returns io.EOF.
func (r *Reader) Scan(visit func(worker int, batch []Event) error) error {
	if r.cur != -1 || r.err != nil {
		return errors.New("read events: Scan must be the first read of a Reader")
	}
	r.cur = len(r.files)
	tasks, err := r.scanTasks()
	if err != nil {
		r.err = err
		return err
	}
	workers := max(1, min(r.opts.Workers, len(tasks)))
	s := &scanState{r: r, tasks: tasks, visit: visit, ranges: splitTasks(len(tasks), workers)}
	s.failedAt.Store(math.MaxInt64)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.work(w)
		}()
	}
	wg.Wait()
	if s.err != nil {
		r.err = s.err
		return s.err
	}
	r.err = io.EOF
	return nil
}

// scanTask is one unit of Scan's work: a row group of a Parquet file for
// the page decoder, or a whole file (rg < 0).
type scanTask struct {
	file  int
	rg    int
	start int64 // the row group's first row in the file
	plan  *pagePlan
}

// scanTasks lists the tasks in input order.
func (r *Reader) scanTasks() ([]scanTask, error) {
	var tasks []scanTask
	for i, f := range r.files {
		if f.Format == FormatParquet && !r.opts.arrowOnly {
			pp, err := planPages(f.Path, r.opts.Columns)
			if err != nil {
				return nil, err
			}
			if pp != nil {
				var start int64
				for rg, n := range pp.rgRows {
					tasks = append(tasks, scanTask{file: i, rg: rg, start: start, plan: pp})
					start += n
				}
				continue
			}
		}
		tasks = append(tasks, scanTask{file: i, rg: -1})
	}
	return tasks, nil
}

// planPages checks path's schema (openParquet) and returns the page
// decoder's plan, or nil when the file needs the Arrow decoder.
func planPages(path string, columns []string) (*pagePlan, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read events %s", errorNamed(path, err))
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read events %s: %w", path, err)
	}
	pf, _, plan, err := openParquet(path, f, st.Size(), columns)
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	pp, ok := pagePlanOf(pf, plan)
	if !ok {
		return nil, nil
	}
	return pp, nil
}

// scanState is what Scan's goroutines share.
type scanState struct {
	r     *Reader
	tasks []scanTask
	visit func(int, []Event) error

	tmu    sync.Mutex // guards ranges
	ranges [][2]int   // per goroutine, the tasks [lo, hi) it has yet to take

	mu       sync.Mutex // guards r's counters, OnQuarantine, err
	failedAt atomic.Int64
	err      error
}

// fail records err of task t; the error of the earliest task wins, and no
// task after it is started.
func (s *scanState) fail(t int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if int64(t) < s.failedAt.Load() {
		s.failedAt.Store(int64(t))
		s.err = err
	}
}

// account counts a batch (rows, events, currencies) and handles its
// quarantined rows.
func (s *scanState) account(evs []Event, quar []Quarantined, rows int64) error {
	r := s.r
	s.mu.Lock()
	defer s.mu.Unlock()
	r.read += rows
	r.accepted += int64(len(evs))
	r.countCurrencies(evs)
	for _, q := range quar {
		if r.opts.Strict {
			return &RowError{Q: q}
		}
		r.counts[q.Reason]++
		if r.opts.OnQuarantine != nil {
			if err := r.opts.OnQuarantine(q); err != nil {
				return err
			}
		} else {
			r.quarantined = append(r.quarantined, q)
		}
	}
	return nil
}

// scanWorker is one goroutine's state: the Parquet file it has open.
type scanWorker struct {
	s       *scanState
	w       int
	in      *interner
	fileIdx int
	f       *os.File
	dec     *pageDecoder
}

// splitTasks gives each of w goroutines a contiguous range of the n tasks,
// in order: a goroutine then meets each buyer's rows in input order, so a
// consumer that keeps the goroutines' events apart (the replay's
// partitions) sees each buyer as at most w runs in input order, which for a
// log written in arrival order are already sorted.
func splitTasks(n, w int) [][2]int {
	r := make([][2]int, w)
	for i := range r {
		r[i] = [2]int{i * n / w, (i + 1) * n / w}
	}
	return r
}

// take returns the next task of goroutine w: the first of its range, or,
// once that is empty, the last of the largest range left (so that no
// goroutine idles while another has work), or false when none is left.
func (s *scanState) take(w int) (int, bool) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	if r := &s.ranges[w]; r[0] < r[1] {
		r[0]++
		return r[0] - 1, true
	}
	best, left := -1, 0
	for v, r := range s.ranges {
		if r[1]-r[0] > left {
			best, left = v, r[1]-r[0]
		}
	}
	if best < 0 {
		return 0, false
	}
	s.ranges[best][1]--
	return s.ranges[best][1], true
}

func (s *scanState) work(w int) {
	sw := &scanWorker{s: s, w: w, in: newInterner(), fileIdx: -1}
	defer sw.closeFile()
	for {
		t, ok := s.take(w)
		if !ok {
			return
		}
		if int64(t) > s.failedAt.Load() {
			continue // after a failed task: not needed
		}
		if err := sw.run(&s.tasks[t]); err != nil {
			s.fail(t, err)
		}
	}
}

func (sw *scanWorker) closeFile() {
	if sw.f != nil {
		sw.f.Close()
		sw.f, sw.dec, sw.fileIdx = nil, nil, -1
	}
}

// visitPanic carries a panic of visit through run's recover, which turns
// only decoder panics into errors.
type visitPanic struct{ v any }

func (sw *scanWorker) visit(evs []Event) (err error) {
	defer func() {
		if p := recover(); p != nil {
			panic(visitPanic{p})
		}
	}()
	return sw.s.visit(sw.w, evs)
}

// run does one task.
func (sw *scanWorker) run(t *scanTask) (err error) {
	r := sw.s.r
	fi := r.files[t.file]
	defer func() {
		if p := recover(); p != nil {
			if vp, ok := p.(visitPanic); ok {
				panic(vp.v)
			}
			where := ""
			if t.rg >= 0 {
				where = fmt.Sprintf(" row group %d:", t.rg)
			}
			err = fmt.Errorf("read events %s:%s corrupt Parquet data (%v); write the file again", fi.Path, where, p)
		}
	}()
	sink := func(evs []Event, quar []Quarantined, rows int64) error {
		if err := sw.s.account(evs, quar, rows); err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		return sw.visit(evs)
	}
	if t.rg >= 0 {
		if sw.fileIdx != t.file {
			sw.closeFile()
			f, pf, err := openPageFile(fi.Path)
			if err != nil {
				return err
			}
			if len(pf.RowGroups()) != len(t.plan.rgRows) {
				f.Close()
				return fmt.Errorf("read events %s: the file changed while it was read", fi.Path)
			}
			sw.f, sw.fileIdx = f, t.file
			sw.dec = newPageDecoder(fi.Path, int32(t.file), pf, t.plan, sw.in)
		}
		return sw.dec.rowGroup(t.rg, t.start, sink)
	}
	sw.closeFile()
	return sw.wholeFile(t.file, sink)
}

// wholeFile reads file i with the sources of Next (the Arrow decoder on
// one goroutine for Parquet, the text parsers), in row order.
func (sw *scanWorker) wholeFile(i int, sink func([]Event, []Quarantined, int64) error) error {
	r := sw.s.r
	opts := r.opts
	opts.Workers, opts.Unordered = 1, false
	var src source
	var err error
	f := r.files[i]
	switch f.Format {
	case FormatParquet:
		src, err = openParquetSource(f.Path, int32(i), opts, r.pool)
	case FormatJSONL:
		src, err = openJSONLSource(f, int32(i), opts, r.pool)
	case FormatCSV:
		src, err = openCSVSource(f, int32(i), opts, r.pool)
	default:
		err = fmt.Errorf("read events %s: unsupported format %q", f.Path, f.Format)
	}
	if err != nil {
		return err
	}
	defer src.close()
	for {
		b, err := src.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = sink(b.events, b.quar, b.rows)
		r.pool.put(b)
		if err != nil {
			return err
		}
	}
}

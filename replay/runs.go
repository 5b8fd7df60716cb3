package replay

import (
	"container/heap"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/signal"
)

// DefaultOutputRows is the number of output rows (signals, conversations
// and orders together) the engine holds in memory before it sorts them and
// spills them to a temporary run (about 300 bytes each in memory).
const DefaultOutputRows = 1 << 20

// writeBatchRows is the number of rows per Write call to a Parquet writer,
// the same for in-memory tables and merged runs so that both give the same
// bytes.
const writeBatchRows = 4096

// outputRuns collects the output rows of the partitions as workers finish
// them. Once more than limit rows are held, they are sorted and written as
// one run per table (uncompressed Parquet in dir); at the end the runs are
// k-way merged into the output files, so memory for output rows is bounded
// by limit whatever the input size. Without runs the rows stay in memory.
type outputRuns struct {
	mu    sync.Mutex
	dir   string
	limit int
	held  []signal.Output // the partitions' rows, concatenated by take
	n     int             // rows held
	runs  int             // runs written
	err   error
}

// add takes the rows of out (and resets out). The rows are not copied
// until take concatenates them once, into slices of the exact size.
func (r *outputRuns) add(out *signal.Output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = append(r.held, signal.Output{Signals: out.Signals, Conversations: out.Conversations, Orders: out.Orders})
	r.n += len(out.Signals) + len(out.Conversations) + len(out.Orders)
	*out = signal.Output{}
	if r.err == nil && r.n > r.limit {
		r.err = r.spill()
	}
}

// take returns the held rows, concatenated, and forgets them.
func (r *outputRuns) take() Outputs {
	var ns, nc, no int
	for i := range r.held {
		ns += len(r.held[i].Signals)
		nc += len(r.held[i].Conversations)
		no += len(r.held[i].Orders)
	}
	o := Outputs{Signals: make([]signal.Signal, 0, ns), Conversations: make([]signal.Conversation, 0, nc),
		Orders: make([]signal.Order, 0, no)}
	for i := range r.held {
		o.Signals = append(o.Signals, r.held[i].Signals...)
		o.Conversations = append(o.Conversations, r.held[i].Conversations...)
		o.Orders = append(o.Orders, r.held[i].Orders...)
		r.held[i] = signal.Output{}
	}
	r.held, r.n = r.held[:0], 0
	return o
}

// spill sorts the held rows and writes them as run number r.runs.
func (r *outputRuns) spill() error {
	o := r.take()
	o.Sort()
	for _, t := range []struct {
		base  string
		write func(string) error
	}{
		{"signals", func(p string) error { return writeRun(p, o.Signals) }},
		{"conversations", func(p string) error { return writeRun(p, o.Conversations) }},
		{"orders", func(p string) error { return writeRun(p, o.Orders) }},
	} {
		if err := t.write(r.runPath(t.base, r.runs)); err != nil {
			return fmt.Errorf("spill output rows: %w (set --tmp to a folder with free space)", err)
		}
	}
	r.runs++
	return nil
}

func (r *outputRuns) runPath(base string, i int) string {
	return filepath.Join(r.dir, fmt.Sprintf("run-%04d-%s.parquet", i, base))
}

func (r *outputRuns) paths(base string) []string {
	p := make([]string, r.runs)
	for i := range p {
		p[i] = r.runPath(base, i)
	}
	return p
}

// writeRun writes sorted rows as an uncompressed Parquet run.
func writeRun[T any](path string, rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	pw := parquet.NewGenericWriter[T](f, parquet.MaxRowsPerRowGroup(OutputRowGroupRows))
	for len(rows) > 0 {
		n := min(len(rows), writeBatchRows)
		if _, err := pw.Write(rows[:n]); err != nil {
			f.Close()
			return err
		}
		rows = rows[n:]
	}
	if err := pw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runCursor streams the rows of one run.
type runCursor[T any] struct {
	f    *os.File
	r    *parquet.GenericReader[T]
	buf  []T
	i, n int
}

func (c *runCursor[T]) advance() (bool, error) {
	c.i++
	if c.i < c.n {
		return true, nil
	}
	n, err := c.r.Read(c.buf)
	c.i, c.n = 0, n
	if n > 0 {
		return true, nil
	}
	if err == io.EOF || err == nil {
		return false, nil
	}
	return false, err
}

type cursorHeap[T any] struct {
	c   []*runCursor[T]
	cmp func(a, b T) int
}

func (h *cursorHeap[T]) Len() int { return len(h.c) }
func (h *cursorHeap[T]) Less(i, j int) bool {
	return h.cmp(h.c[i].buf[h.c[i].i], h.c[j].buf[h.c[j].i]) < 0
}
func (h *cursorHeap[T]) Swap(i, j int) { h.c[i], h.c[j] = h.c[j], h.c[i] }
func (h *cursorHeap[T]) Push(x any)    { h.c = append(h.c, x.(*runCursor[T])) }
func (h *cursorHeap[T]) Pop() any {
	x := h.c[len(h.c)-1]
	h.c = h.c[:len(h.c)-1]
	return x
}

// mergeRuns k-way merges sorted runs into the output file path, written
// like writeParquet writes an in-memory table.
func mergeRuns[T any](path string, runs []string, cmp func(a, b T) int) error {
	h := &cursorHeap[T]{cmp: cmp}
	defer func() {
		for _, c := range h.c {
			c.f.Close()
		}
	}()
	for _, p := range runs {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		c := &runCursor[T]{f: f, r: parquet.NewGenericReader[T](f), buf: make([]T, 512), i: -1}
		ok, err := c.advance()
		if err != nil {
			f.Close()
			return fmt.Errorf("read output run %s: %w", p, err)
		}
		if !ok {
			f.Close()
			continue
		}
		h.c = append(h.c, c)
	}
	heap.Init(h)
	return writeParquetFrom(path, func(batch []T) ([]T, error) {
		for len(batch) < cap(batch) && h.Len() > 0 {
			c := h.c[0]
			batch = append(batch, c.buf[c.i])
			ok, err := c.advance()
			if err != nil {
				return batch, err
			}
			if ok {
				heap.Fix(h, 0)
			} else {
				c.f.Close()
				heap.Pop(h)
			}
		}
		return batch, nil
	})
}

// writeParquetFrom writes an output Parquet file from batches that next
// appends to (up to cap, writeBatchRows); a batch shorter than its capacity
// ends the table.
func writeParquetFrom[T any](path string, next func([]T) ([]T, error)) error {
	return WriteOutputFile(path, func(pw *parquet.GenericWriter[T]) error {
		batch := make([]T, 0, writeBatchRows)
		for {
			var err error
			batch, err = next(batch[:0])
			if err != nil {
				return err
			}
			if len(batch) > 0 {
				if _, err := pw.Write(batch); err != nil {
					return err
				}
			}
			if len(batch) < cap(batch) {
				return nil
			}
		}
	})
}

// sliceBatches returns a batch source over sorted in-memory rows.
func sliceBatches[T any](rows []T) func([]T) ([]T, error) {
	return func(batch []T) ([]T, error) {
		n := min(len(rows), cap(batch))
		batch = append(batch, rows[:n]...)
		rows = rows[n:]
		return batch, nil
	}
}

package output

import (
	"container/heap"
	"fmt"
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
)

// writeBatchRows is the number of rows per Write call to a Parquet writer,
// the same for in-memory tables and merged runs so that both give the same
// bytes.
const writeBatchRows = 4096

// WriteRows writes rows, already in output order, as the output Parquet
// file path (WriteFile), writeBatchRows rows per call, as MergeRuns does.
func WriteRows[T any](path string, rows []T) error {
	return writeBatches(path, sliceBatches(rows))
}

// A run is a temporary Parquet file of rows sorted in their table's output
// order (uncompressed). An engine that cannot hold all output rows in
// memory writes them as runs (WriteRun) and merges the runs into the output
// file at the end (MergeRuns), which writes the same bytes as WriteRows
// on all the rows.

// WriteRun writes sorted rows as an uncompressed Parquet run.
func WriteRun[T any](path string, rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	pw := parquet.NewGenericWriter[T](f, parquet.MaxRowsPerRowGroup(RowGroupRows))
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

// MergeRuns k-way merges sorted runs into the output file path, written
// like WriteRows writes an in-memory table; cmp is the table's order.
func MergeRuns[T any](path string, runs []string, cmp func(a, b T) int) error {
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
	return writeBatches(path, func(batch []T) ([]T, error) {
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

// writeBatches writes an output Parquet file from batches that next
// appends to (up to cap, writeBatchRows); a batch shorter than its capacity
// ends the table.
func writeBatches[T any](path string, next func([]T) ([]T, error)) error {
	return WriteFile(path, func(pw *parquet.GenericWriter[T]) error {
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

package beamreplay

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/parquet-go/parquet-go"
)

// Shards are intermediate Parquet files, each holding rows of one output
// table sorted by that table's output order. Workers write them; the merge
// step reads them back in parallel streams and k-way merges them, so neither
// side holds a whole table in memory.

// shardRowGroupRows bounds the rows a shard reader decodes at a time.
const shardRowGroupRows = 16 * 1024

// writeShard sorts rows with cmp and writes them to path atomically.
func writeShard[T any](path string, rows []T, cmp func(a, b T) int) error {
	slices.SortFunc(rows, cmp)
	return writeFile(path, func(w io.Writer) error {
		pw := parquet.NewGenericWriter[T](w, parquet.MaxRowsPerRowGroup(shardRowGroupRows))
		if _, err := pw.Write(rows); err != nil {
			return err
		}
		return pw.Close()
	})
}

// shardCursor streams the rows of one shard in order.
type shardCursor[T any] struct {
	path string
	f    *os.File
	r    *parquet.GenericReader[T]
	buf  []T
	i, n int
	done bool
}

func openShard[T any](path string) (*shardCursor[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open shard: %w", err)
	}
	c := &shardCursor[T]{path: path, f: f, r: parquet.NewGenericReader[T](f), buf: make([]T, 1024)}
	return c, nil
}

// fill makes c.buf[c.i] the next row; it reports false at the end.
func (c *shardCursor[T]) fill() (bool, error) {
	if c.i < c.n {
		return true, nil
	}
	if c.done {
		return false, nil
	}
	clear(c.buf)
	n, err := c.r.Read(c.buf)
	c.i, c.n = 0, n
	if errors.Is(err, io.EOF) {
		c.done = true
		err = nil
	}
	if err != nil {
		return false, fmt.Errorf("read shard %s: %w", c.path, err)
	}
	return n > 0, nil
}

func (c *shardCursor[T]) close() error {
	c.r.Close()
	return c.f.Close()
}

// mergeHeap orders cursors by their current row; ties break on the shard's
// position in the input list so the merge is deterministic.
type mergeHeap[T any] struct {
	cur []*shardCursor[T]
	idx []int
	cmp func(a, b T) int
}

func (h *mergeHeap[T]) Len() int { return len(h.cur) }
func (h *mergeHeap[T]) Less(i, j int) bool {
	a, b := h.cur[i], h.cur[j]
	if c := h.cmp(a.buf[a.i], b.buf[b.i]); c != 0 {
		return c < 0
	}
	return h.idx[i] < h.idx[j]
}
func (h *mergeHeap[T]) Swap(i, j int) {
	h.cur[i], h.cur[j] = h.cur[j], h.cur[i]
	h.idx[i], h.idx[j] = h.idx[j], h.idx[i]
}
func (h *mergeHeap[T]) Push(x any) { panic("unused") }
func (h *mergeHeap[T]) Pop() any {
	n := len(h.cur) - 1
	c := h.cur[n]
	h.cur, h.idx = h.cur[:n], h.idx[:n]
	return c
}

// mergeShards streams the rows of every shard in paths, each sorted by cmp,
// to yield in the merged order, in batches of up to batch rows. Memory is a
// buffer per shard plus the batch.
func mergeShards[T any](paths []string, cmp func(a, b T) int, batch int, yield func([]T) error) (err error) {
	h := &mergeHeap[T]{cmp: cmp}
	defer func() {
		for _, c := range h.cur {
			c.close()
		}
	}()
	for i, p := range paths {
		c, err := openShard[T](p)
		if err != nil {
			return err
		}
		ok, err := c.fill()
		if err != nil || !ok {
			c.close()
			if err != nil {
				return err
			}
			continue
		}
		h.cur = append(h.cur, c)
		h.idx = append(h.idx, i)
	}
	heap.Init(h)
	out := make([]T, 0, batch)
	for h.Len() > 0 {
		c := h.cur[0]
		out = append(out, c.buf[c.i])
		c.i++
		ok, err := c.fill()
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
			c.close()
		}
		if len(out) == batch {
			if err := yield(out); err != nil {
				return err
			}
			clear(out)
			out = out[:0]
		}
	}
	if len(out) > 0 {
		return yield(out)
	}
	return nil
}

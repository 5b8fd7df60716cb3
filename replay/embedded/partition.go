package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay/wire"
)

// The partition format: events of one buyer-hash partition, appended to
// in-memory chunks and flushed to a temporary file only when the chunks of
// all partitions would exceed the memory budget. Each entry is
//
//	buyer hash (low 32 bits, 4 bytes, little endian; see buyerHash) ·
//	shop number (uvarint; see shopTable) · record
//
// where record is the event's wire record without its shop id (package
// replay/wire: a length prefix, then only the fields the signal logic
// reads). The hash comes first
// so that entries can be partitioned, bucketed and grouped by buyer without
// decoding them; 32 bits are enough for that (the partition takes at most
// the low 10, the bucket bits 16-23, and buyers whose hashes collide are
// told apart by their ids in processBucket). The format is private to one
// run.

// hashLen is the length of an entry's hash.
const hashLen = 4

var errCorruptSpill = errors.New("corrupt spill record")

// recordKey locates one entry: its buyer hash, its source (a chunk, spilled
// records, or the bucketed copy of bucketRecords), offset and length (hash
// and record). Sources are less than 2 GiB.
type recordKey struct {
	hash uint32
	size int32
	off  int32
	src  int32
}

// entryAt returns the length of the entry at b[off:] (hash, shop and
// record) and its hash.
func entryAt(b []byte, off int) (int, uint32, error) {
	if len(b)-off < hashLen+2 {
		return 0, 0, errCorruptSpill
	}
	h := binary.LittleEndian.Uint32(b[off:])
	s := 1 // the shop number's length
	if b[off+hashLen] >= 0x80 {
		_, s = binary.Uvarint(b[off+hashLen:])
		if s <= 0 {
			return 0, 0, errCorruptSpill
		}
	}
	at := off + hashLen + s
	if at < len(b) {
		if n := int(b[at]); n < 0x80 && n >= 2 && len(b)-at-1 >= n { // a one-byte length
			return hashLen + s + 1 + n, h, nil
		}
	}
	n, err := wire.RecordLen(b[at:])
	if err != nil {
		return 0, 0, errCorruptSpill
	}
	return hashLen + s + n, h, nil
}

// Chunk sizes of the in-memory buffers of a partition (see chunkSizeFor).
const (
	minChunkSize = 64 << 10
	maxChunkSize = 1 << 20
)

// chunkSizeFor returns the chunk size for n open chunks (partitions times
// scan goroutines) sharing budget bytes, for input of about records bytes:
// at most an eighth of the budget is in chunks that are still filling (half
// empty on average), and a small input does not allocate large chunks.
func chunkSizeFor(budget int64, n int, records int64) int {
	size := min(budget/int64(8*n), records/int64(n))
	return int(min(max(size, minChunkSize), maxChunkSize))
}

// chunkPool hands out the chunks that partitions hold records in and
// accounts for their memory: held is the capacity of every live chunk,
// filled, filling or free for reuse. New chunks are allocated only while
// held stays within the budget; beyond it, a scan worker spills partitions
// to disk and reuses their chunks.
type chunkPool struct {
	size    int
	budget  int64
	held    atomic.Int64
	mu      sync.Mutex
	free    [][]byte
	retired [][]byte // see retire
}

// get returns an empty chunk with room for need bytes, or nil when none is
// free and a new one would exceed the budget. A record longer than the
// chunk size gets a chunk of its own, whatever the budget.
func (cp *chunkPool) get(need int) []byte {
	if need > cp.size {
		cp.held.Add(int64(need))
		return newChunk(need)
	}
	cp.mu.Lock()
	if n := len(cp.free); n > 0 {
		c := cp.free[n-1]
		cp.free = cp.free[:n-1]
		cp.mu.Unlock()
		return c
	}
	cp.mu.Unlock()
	if cp.held.Load()+int64(cp.size) > cp.budget {
		return nil
	}
	return cp.alloc()
}

// alloc returns a new chunk, whatever the budget.
func (cp *chunkPool) alloc() []byte {
	cp.held.Add(int64(cp.size))
	return newChunk(cp.size)
}

// put takes back a chunk whose records are no longer needed in memory.
func (cp *chunkPool) put(c []byte) {
	if cap(c) != cp.size {
		cp.drop(c)
		return
	}
	cp.mu.Lock()
	cp.free = append(cp.free, c[:0])
	cp.mu.Unlock()
}

// drop frees a chunk (freeChunk: nothing may use it afterwards), or every
// free chunk when c is nil.
func (cp *chunkPool) drop(c []byte) {
	if c != nil {
		cp.held.Add(-int64(cap(c)))
		freeChunk(c)
		return
	}
	cp.mu.Lock()
	for _, f := range cp.free {
		cp.held.Add(-int64(cap(f)))
		freeChunk(f)
	}
	cp.free = nil
	cp.mu.Unlock()
}

// retire gives a chunk's memory back (retireChunk) and unmaps it only in
// unmapRetired, when nothing can point into it any more: records decoded
// in place leave strings pointing into their chunk in the workers' scratch
// until they are overwritten.
func (cp *chunkPool) retire(c []byte) {
	cp.held.Add(-int64(cap(c)))
	retireChunk(c)
	cp.mu.Lock()
	cp.retired = append(cp.retired, c)
	cp.mu.Unlock()
}

// unmapRetired unmaps the retired chunks (at the end of a run).
func (cp *chunkPool) unmapRetired() {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	for _, c := range cp.retired {
		freeChunk(c)
	}
	cp.retired = nil
}

// partition holds one scan worker's share of one buyer-hash partition: a
// temporary file (possibly none; closed between flushes, so that a thousand
// partitions do not hold a thousand descriptors) followed by in-memory
// chunks. Records never span chunks.
type partition struct {
	chunks [][]byte
	stage  []byte // entries not yet moved to a chunk (see add)
	path   string // spill file, "" before the first flush
	size   int64  // bytes in the file
}

// stageSize is the capacity of a partition's stage.
const stageSize = 2048

// withStages gives each of parts a stage, all in one array: a scan
// goroutine writes its entries to the stages, which stay in its cache, and
// moves a stage into its chunk only when it is full, 2 KiB at once. Writing
// each entry straight to the end of its partition's chunk touched a cold
// cache line and page for almost every event (BenchmarkPartitionAdd, CPU
// ns per event into 1, 64, 256, 1024 partitions: 55, 71, 82, 133 without
// stages, 54, 56, 60, 70 with 2 KiB stages; 512 B and 1 KiB stages helped
// less, 4 KiB no more).
func withStages(parts []partition) {
	buf := make([]byte, len(parts)*stageSize)
	for i := range parts {
		parts[i].stage = buf[i*stageSize : i*stageSize : (i+1)*stageSize]
	}
}

// add appends e's entry (appendEntry: its shop is numbered shop) to the
// stage, first moving the staged entries to the chunks when there is no
// room (an entry larger than the stage goes to a chunk directly). It
// returns false, without adding, when a chunk is needed and the pool is out
// of budget.
func (p *partition) add(e *event.Event, h uint64, shop uint32, pool *chunkPool) bool {
	need := entryMaxLen(e)
	if cap(p.stage)-len(p.stage) < need {
		if !p.unstage(pool) {
			return false
		}
		if need > cap(p.stage) {
			c := p.room(need, pool)
			if c == nil {
				return false
			}
			*c = appendEntry(*c, h, shop, e)
			return true
		}
	}
	p.stage = appendEntry(p.stage, h, shop, e)
	return true
}

// room returns the last chunk when it has need bytes free, else a new one
// from pool (nil when the pool is out of budget).
func (p *partition) room(need int, pool *chunkPool) *[]byte {
	last := len(p.chunks) - 1
	if last < 0 || cap(p.chunks[last])-len(p.chunks[last]) < need {
		c := pool.get(need)
		if c == nil {
			return nil
		}
		p.chunks = append(p.chunks, c)
		last++
	}
	return &p.chunks[last]
}

// unstage moves the staged entries to the chunks. It returns false when a
// chunk is needed and the pool is out of budget.
func (p *partition) unstage(pool *chunkPool) bool {
	if len(p.stage) == 0 {
		return true
	}
	c := p.room(len(p.stage), pool)
	if c == nil {
		return false
	}
	*c = append(*c, p.stage...)
	p.stage = p.stage[:0]
	return true
}

// unstageAll moves the staged entries to the chunks at the end of the
// scan, over the budget if need be (stages are small).
func (p *partition) unstageAll(pool *chunkPool) {
	if !p.unstage(pool) {
		p.chunks = append(p.chunks, pool.alloc())
		p.unstage(pool)
	}
}

// held returns the capacity of p's chunks.
func (p *partition) held() int64 {
	var n int64
	for _, c := range p.chunks {
		n += int64(cap(c))
	}
	return n
}

// flush appends the in-memory chunks to the partition's file (created in
// dir, named after idx) and gives the chunks back to pool.
func (p *partition) flush(dir, name string, pool *chunkPool) (err error) {
	if len(p.chunks) == 0 {
		return nil
	}
	var f *os.File
	if p.path == "" {
		f, err = os.CreateTemp(dir, name+"-*.bin")
		if err == nil {
			p.path = f.Name()
		}
	} else {
		f, err = os.OpenFile(p.path, os.O_WRONLY|os.O_APPEND, 0)
	}
	if err != nil {
		return fmt.Errorf("spill events to %s: %w (set --tmp to a folder with free space)", dir, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("spill events to %s: %w", p.path, cerr)
		}
	}()
	for _, c := range p.chunks {
		if _, err := f.Write(c); err != nil {
			return fmt.Errorf("spill events to %s: %w (set --tmp to a folder with free space)", p.path, err)
		}
		p.size += int64(len(c))
		pool.put(c)
	}
	clear(p.chunks)
	p.chunks = p.chunks[:0]
	return nil
}

// readFile appends the partition's spilled records to buf.
func (p *partition) readFile(buf []byte) ([]byte, error) {
	if p.path == "" {
		return buf, nil
	}
	at := len(buf)
	buf = slices.Grow(buf, int(p.size))[:at+int(p.size)]
	f, err := os.Open(p.path)
	if err != nil {
		return nil, fmt.Errorf("read spilled events: %w", err)
	}
	_, err = io.ReadFull(f, buf[at:])
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("read spilled events %s: %w", p.path, err)
	}
	return buf, nil
}

// release removes the spill file and frees the chunks (chunkPool.drop), or
// retires them (chunkPool.retire) when records were decoded in place.
func (p *partition) release(pool *chunkPool, retire bool) {
	if p.path != "" {
		os.Remove(p.path)
		p.path = ""
	}
	for _, c := range p.chunks {
		if retire {
			pool.retire(c)
		} else {
			pool.drop(c)
		}
	}
	p.chunks = nil
}

// buyerHash is a 64-bit hash of (shop_id, buyer_id): it picks the
// partition and bucket of a buyer. Each id is read eight bytes at a time
// (the last word zero-padded), after mixing in its length so that no other
// pair of ids gives the same words; each word w updates
//
//	h = (h XOR w) · 0xff51afd7ed558ccd;  h = h XOR (h >> 32)
//
// and the result goes through the 64-bit finalizer of MurmurHash3 (fmix64,
// Austin Appleby, public domain), so every output bit depends on every
// input byte. It replaced byte-at-a-time FNV-1a, which cost about three
// times as much; equal hashes of distinct buyers are still split by
// processBucket, so the hash only affects speed and balance.
func buyerHash(shop, buyer string) uint64 {
	h := hashWords(14695981039346656037^uint64(len(shop)), shop)
	h = hashWords(h^uint64(len(buyer))*0x9e3779b97f4a7c15, buyer)
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// hashWords continues buyerHash's state h over s, eight bytes at a time.
func hashWords(h uint64, s string) uint64 {
	const k = 0xff51afd7ed558ccd
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = (h ^ w) * k
		h ^= h >> 32
		s = s[8:]
	}
	if len(s) > 0 {
		h = (h ^ tailWord(s)) * k
		h ^= h >> 32
	}
	return h
}

// tailWord is the little-endian word of s's 1 to 7 bytes, read with two
// overlapping loads rather than a byte at a time (ids are mostly short:
// "shop_0045", "buyer_t"): the value a loop over the bytes gives.
func tailWord(s string) uint64 {
	n := len(s)
	switch {
	case n >= 4:
		lo := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24
		t := s[n-4:]
		hi := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24
		return lo | hi<<(8*(n-4))
	case n >= 2:
		lo := uint64(s[0]) | uint64(s[1])<<8
		hi := uint64(s[n-2]) | uint64(s[n-1])<<8
		return lo | hi<<(8*(n-2))
	default:
		return uint64(s[0])
	}
}

// indexRecords appends the keys of the entries of srcs, in source order,
// for a partition small enough to be grouped and decoded where it is.
func indexRecords(srcs [][]byte, keys []recordKey) ([]recordKey, error) {
	for si, src := range srcs {
		if len(src) > math.MaxInt32 {
			return keys, fmt.Errorf("a source of %d bytes (2 GiB at most)", len(src))
		}
		for off := 0; off < len(src); {
			size, h, err := entryAt(src, off)
			if err != nil {
				return keys, err
			}
			keys = append(keys, recordKey{hash: h, size: int32(size), off: int32(off), src: int32(si)})
			off += size
		}
	}
	return keys, nil
}

// numBuckets is the number of sub-partitions bucketRecords makes.
const numBuckets = 256

// bucketRecords moves the entries of srcs (a partition's spilled records
// and chunks) into dst grouped by a third hash byte (bits 16-23; the
// partition used at most the low 10 bits), keeping their order within each
// bucket: a stable counting sort in two passes over the sources (count,
// then copy). It returns dst, the entries' keys in dst order, and the
// bucket bounds: bucket i holds keys[bounds[i]:bounds[i+1]]. Each bucket is
// small and contiguous, so grouping and decoding it stays in the CPU cache.
func bucketRecords(srcs [][]byte, dst []byte, out []recordKey) ([]byte, []recordKey, [numBuckets + 1]int, error) {
	var counts, sizes [numBuckets]int
	var bounds [numBuckets + 1]int
	total, n := 0, 0
	for _, src := range srcs {
		for off := 0; off < len(src); {
			size, h, err := entryAt(src, off)
			if err != nil {
				return dst, out, bounds, err
			}
			b := (h >> 16) & (numBuckets - 1)
			counts[b]++
			sizes[b] += size
			total += size
			n++
			off += size
		}
	}
	var at, boff [numBuckets]int // next key index and byte offset per bucket
	off := 0
	for i := range numBuckets {
		bounds[i+1] = bounds[i] + counts[i]
		at[i] = bounds[i]
		boff[i] = off
		off += sizes[i]
	}
	if total > math.MaxInt32 {
		return dst, out, bounds, fmt.Errorf("a partition of %d bytes (2 GiB at most): split the input or raise --memory", total)
	}
	dst = slices.Grow(dst[:0], total)[:total]
	out = slices.Grow(out[:0], n)[:n]
	for _, src := range srcs {
		for off := 0; off < len(src); {
			size, h, _ := entryAt(src, off) // checked in the first pass
			b := (h >> 16) & (numBuckets - 1)
			copy(dst[boff[b]:], src[off:off+size])
			out[at[b]] = recordKey{hash: h, off: int32(boff[b]), size: int32(size)}
			at[b]++
			boff[b] += size
			off += size
		}
	}
	return dst, out, bounds, nil
}

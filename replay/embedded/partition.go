package embedded

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay/wire"
)

// The partition format: events of one buyer-hash partition, appended to
// in-memory chunks and flushed to a temporary file when the chunks grow past
// the memory budget. Each entry is
//
//	buyer hash (8 bytes, little endian; see buyerHash) · record
//
// where record is the event's wire record (package replay/wire: a length
// prefix, then only the fields the signal logic reads). The hash comes first
// so that entries can be partitioned, bucketed and grouped by buyer without
// decoding them. The format is private to one run.

var errCorruptSpill = errors.New("corrupt spill record")

// recordKey locates one entry: its buyer hash, offset and length (hash and
// record).
type recordKey struct {
	hash uint64
	off  int
	size int
}

// index returns the key of every entry of b, in buffer order.
func index(b []byte, keys []recordKey) ([]recordKey, error) {
	for off := 0; off < len(b); {
		if len(b)-off < 8 {
			return keys, errCorruptSpill
		}
		n, err := wire.RecordLen(b[off+8:])
		if err != nil {
			return keys, errCorruptSpill
		}
		keys = append(keys, recordKey{hash: binary.LittleEndian.Uint64(b[off:]), off: off, size: 8 + n})
		off += 8 + n
	}
	return keys, nil
}

// Chunk sizes of the in-memory buffers of a partition (see chunkSizeFor).
const (
	minChunkSize = 64 << 10
	maxChunkSize = 1 << 20
)

// chunkSizeFor returns the chunk size for n partitions sharing budget
// bytes: about half the budget spread over the partitions' open chunks.
func chunkSizeFor(budget int64, n int) int {
	return int(min(max(budget/int64(2*n), minChunkSize), maxChunkSize))
}

// partition holds the events of one buyer-hash partition: a temporary file
// (possibly none; closed between flushes, so that a thousand partitions do
// not hold a thousand descriptors) followed by in-memory chunks. Records
// never span chunks.
type partition struct {
	chunks [][]byte
	path   string // spill file, "" before the first flush
	size   int64  // bytes in the file
	count  int64
}

// add appends e's entry and returns its size in bytes. Chunks of
// chunkSize come from and go back to pool.
func (p *partition) add(e *event.Event, h uint64, chunkSize int, pool *[][]byte) int64 {
	need := 8 + wire.MaxLen(e)
	last := len(p.chunks) - 1
	if last < 0 || cap(p.chunks[last])-len(p.chunks[last]) < need {
		var c []byte
		if need <= chunkSize && len(*pool) > 0 {
			c = (*pool)[len(*pool)-1]
			*pool = (*pool)[:len(*pool)-1]
		} else {
			c = make([]byte, 0, max(chunkSize, need))
		}
		p.chunks = append(p.chunks, c)
		last++
	}
	c := p.chunks[last]
	at := len(c)
	c = binary.LittleEndian.AppendUint64(c, h)
	p.chunks[last] = wire.AppendEvent(c, e)
	p.count++
	return int64(len(p.chunks[last]) - at)
}

// flush appends the in-memory chunks to the partition's file and returns
// chunks of chunkSize to pool for reuse.
func (p *partition) flush(dir string, idx int, chunkSize int, pool *[][]byte) (err error) {
	if len(p.chunks) == 0 {
		return nil
	}
	var f *os.File
	if p.path == "" {
		f, err = os.CreateTemp(dir, fmt.Sprintf("part-%04d-*.bin", idx))
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
		if cap(c) == chunkSize {
			*pool = append(*pool, c[:0])
		}
	}
	p.chunks = p.chunks[:0]
	return nil
}

// load returns the partition's records as one buffer: the file's contents
// then the chunks. It reuses buf when it needs a copy (a partition held in
// one chunk is returned as it is).
func (p *partition) load(buf []byte) ([]byte, error) {
	if p.path == "" && len(p.chunks) == 1 {
		return p.chunks[0], nil
	}
	total := p.size
	for _, c := range p.chunks {
		total += int64(len(c))
	}
	b := slices.Grow(buf[:0], int(total))[:total]
	if p.path != "" {
		f, err := os.Open(p.path)
		if err != nil {
			return nil, fmt.Errorf("read spilled events: %w", err)
		}
		_, err = io.ReadFull(f, b[:p.size])
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read spilled events %s: %w", p.path, err)
		}
	}
	off := p.size
	for _, c := range p.chunks {
		off += int64(copy(b[off:], c))
	}
	return b, nil
}

func (p *partition) release() {
	if p.path != "" {
		os.Remove(p.path)
		p.path = ""
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
		var w uint64
		for i := 0; i < len(s); i++ {
			w |= uint64(s[i]) << (8 * i)
		}
		h = (h ^ w) * k
		h ^= h >> 32
	}
	return h
}

// numBuckets is the number of sub-partitions bucketRecords makes.
const numBuckets = 256

// bucketRecords moves the records of data (indexed in data order by keys)
// into dst grouped by a third hash byte (bits 16-23; the partition used at
// most the low 10 bits), keeping their order within each bucket: a stable
// counting sort. It returns dst, the records' keys in dst order, and the
// bucket bounds: bucket i holds keys[bounds[i]:bounds[i+1]]. Each bucket is
// small and contiguous, so sorting and decoding it stays in the CPU cache.
func bucketRecords(data []byte, keys []recordKey, dst []byte, out []recordKey) ([]byte, []recordKey, [numBuckets + 1]int) {
	var counts, sizes [numBuckets]int
	for _, k := range keys {
		b := (k.hash >> 16) & (numBuckets - 1)
		counts[b]++
		sizes[b] += k.size
	}
	var bounds [numBuckets + 1]int
	var at, boff [numBuckets]int // next key index and byte offset per bucket
	off := 0
	for i := range numBuckets {
		bounds[i+1] = bounds[i] + counts[i]
		at[i] = bounds[i]
		boff[i] = off
		off += sizes[i]
	}
	dst = slices.Grow(dst[:0], len(data))[:len(data)]
	out = slices.Grow(out[:0], len(keys))[:len(keys)]
	for _, k := range keys {
		b := (k.hash >> 16) & (numBuckets - 1)
		copy(dst[boff[b]:], data[k.off:k.off+k.size])
		out[at[b]] = recordKey{hash: k.hash, off: boff[b], size: k.size}
		at[b]++
		boff[b] += k.size
	}
	return dst, out, bounds
}

package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"unsafe"

	"github.com/signalab/signalab/event"
)

// The spill format: events of one buyer-hash partition, appended to a byte
// buffer and flushed to a temporary file when the buffers grow past the
// memory budget. Each record is
//
//	uvarint(len(record)) record
//
// where record holds, in order: the buyer hash (8 bytes, little endian; see
// buyerHash), kind index (1 byte), flags (1 byte), File
// (uvarint), Row (uvarint), EventTime (8 bytes, little endian), IngestTime
// − EventTime (varint, if flagged; the lag is small), ItemCount (varint, if flagged), CartValueCents (varint, if
// flagged), OrderValueCents (varint, if flagged), then the strings EventID,
// ShopID, BuyerID, ConversationID, Channel, Sender, CartToken, OrderID
// (uvarint length + bytes each), and uvarint(len(ProductIDs))
// followed by each product id. The format is private to one run.
//
// Records hold only what the signal logic reads (see logicView): Currency
// is left out, and ProductIDs are kept only on cart_update events (the one
// kind whose products the logic compares). Page views, most of a log,
// carry a product each; dropping them saves encoding, memory and decoding.

const (
	flagIngest = 1 << iota
	flagItems
	flagCart
	flagOrder
	flagKindUnknown // kind not in event.Kinds: the kind string follows the strings
)

// logicView returns the fields of e the signal logic reads: e without
// Currency, and without ProductIDs unless e is a cart_update (signal.Buyer
// reads products only there). ProcessBuyer gives the same results for e and
// logicView(e); the spill records hold logicView(e).
func logicView(e event.Event) event.Event {
	e.Currency = ""
	if e.Kind != event.KindCartUpdate {
		e.ProductIDs = nil
	}
	return e
}

// keepProducts reports whether e's record holds its product ids.
func keepProducts(e *event.Event) bool { return e.Kind == event.KindCartUpdate }

// recordHeader builds the fixed part of e's record (hash, kind, flags,
// numbers) into rec and returns it with the record's payload length.
func recordHeader(rec []byte, e *event.Event, h uint64) ([]byte, int, byte) {
	r := binary.LittleEndian.AppendUint64(rec[:0], h)
	ki := kindIndex(e.Kind)
	var flags byte
	if e.HasIngestTime {
		flags |= flagIngest
	}
	if e.HasItemCount {
		flags |= flagItems
	}
	if e.HasCartValue {
		flags |= flagCart
	}
	if e.HasOrderValue {
		flags |= flagOrder
	}
	if ki < 0 {
		flags |= flagKindUnknown
		ki = 0
	}
	r = append(r, byte(ki), flags)
	r = binary.AppendUvarint(r, uint64(uint32(e.File)))
	r = binary.AppendUvarint(r, uint64(e.Row))
	r = binary.LittleEndian.AppendUint64(r, uint64(e.EventTime))
	if e.HasIngestTime {
		r = binary.AppendVarint(r, e.IngestTime-e.EventTime) // wraps; decoded by adding back
	}
	if e.HasItemCount {
		r = binary.AppendVarint(r, int64(e.ItemCount))
	}
	if e.HasCartValue {
		r = binary.AppendVarint(r, e.CartValueCents)
	}
	if e.HasOrderValue {
		r = binary.AppendVarint(r, e.OrderValueCents)
	}
	n := len(r) + strLen(e.EventID) + strLen(e.ShopID) + strLen(e.BuyerID) + strLen(e.ConversationID) +
		strLen(e.Channel) + strLen(e.Sender) + strLen(e.CartToken) + strLen(e.OrderID) + 1
	if keepProducts(e) {
		n += uvarintLen(uint64(len(e.ProductIDs))) - 1
		for _, p := range e.ProductIDs {
			n += strLen(p)
		}
	}
	if flags&flagKindUnknown != 0 {
		n += strLen(string(e.Kind))
	}
	return r, n, flags
}

// appendEvent appends the spill record of e, whose buyer hash is h, to b.
func appendEvent(b []byte, e *event.Event, h uint64) []byte {
	var rec [recordHeaderMax]byte
	r, n, flags := recordHeader(rec[:], e, h)
	return appendRecord(slices.Grow(b, uvarintLen(uint64(n))+n), e, r, n, flags)
}

// recordHeaderMax bounds the length of a record's fixed part.
const recordHeaderMax = 8 + 2 + binary.MaxVarintLen64*8

// appendRecord appends a record whose fixed part r and payload length n come
// from recordHeader. The record is written into b's spare capacity with
// plain copies (its size is known), which is cheaper than appending field
// by field.
func appendRecord(b []byte, e *event.Event, r []byte, n int, flags byte) []byte {
	at := len(b)
	need := uvarintLen(uint64(n)) + n
	b = slices.Grow(b, need)[:at+need]
	w := b[at:]
	i := binary.PutUvarint(w, uint64(n))
	i += copy(w[i:], r)
	i = putString(w, i, e.EventID)
	i = putString(w, i, e.ShopID)
	i = putString(w, i, e.BuyerID)
	i = putString(w, i, e.ConversationID)
	i = putString(w, i, e.Channel)
	i = putString(w, i, e.Sender)
	i = putString(w, i, e.CartToken)
	i = putString(w, i, e.OrderID)
	if keepProducts(e) {
		i += binary.PutUvarint(w[i:], uint64(len(e.ProductIDs)))
		for _, p := range e.ProductIDs {
			i = putString(w, i, p)
		}
	} else {
		w[i] = 0
		i++
	}
	if flags&flagKindUnknown != 0 {
		i = putString(w, i, string(e.Kind))
	}
	if i != need {
		panic("replay: spill record size mismatch") // recordHeader and appendRecord disagree: a bug
	}
	return b
}

// putString writes s (uvarint length, bytes) at w[i:] and returns the
// offset after it.
func putString(w []byte, i int, s string) int {
	if len(s) < 0x80 {
		w[i] = byte(len(s))
		i++
	} else {
		i += binary.PutUvarint(w[i:], uint64(len(s)))
	}
	return i + copy(w[i:], s)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func strLen(s string) int { return uvarintLen(uint64(len(s))) + len(s) }

// kindIndex is the index of k in event.Kinds, or -1 (a switch compiles to
// length then content comparisons, cheaper than scanning the list).
func kindIndex(k event.Kind) int {
	switch k {
	case event.Kinds[0]:
		return 0
	case event.Kinds[1]:
		return 1
	case event.Kinds[2]:
		return 2
	case event.Kinds[3]:
		return 3
	case event.Kinds[4]:
		return 4
	case event.Kinds[5]:
		return 5
	case event.Kinds[6]:
		return 6
	}
	for i, x := range event.Kinds[7:] { // kinds added to event.Kinds later
		if x == k {
			return 7 + i
		}
	}
	return -1
}

var errCorruptSpill = errors.New("corrupt spill record")

// spillDecoder decodes records from a buffer. Strings point into the
// buffer (no copies): the buffer must outlive the events, and strings that
// escape (into output rows) must be cloned.
type spillDecoder struct {
	b     []byte
	off   int
	err   error
	arena []string // backing store of ProductIDs slices
}

// recordKey locates one record: its buyer hash, offset and length (with
// the length prefix).
type recordKey struct {
	hash uint64
	off  int
	size int
}

// index returns the key of every record of b, in buffer order.
func index(b []byte, keys []recordKey) ([]recordKey, error) {
	for off := 0; off < len(b); {
		n, w := binary.Uvarint(b[off:])
		if w <= 0 || n < 10 || uint64(len(b)-off-w) < n {
			return keys, errCorruptSpill
		}
		keys = append(keys, recordKey{hash: binary.LittleEndian.Uint64(b[off+w:]), off: off, size: w + int(n)})
		off += w + int(n)
	}
	return keys, nil
}

func (d *spillDecoder) uvarint() uint64 {
	if d.off < len(d.b) && d.b[d.off] < 0x80 { // one-byte fast path
		v := uint64(d.b[d.off])
		d.off++
		return v
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.err = errCorruptSpill
		d.off = len(d.b)
		return 0
	}
	d.off += n
	return v
}

func (d *spillDecoder) varint() int64 {
	v, n := binary.Varint(d.b[d.off:])
	if n <= 0 {
		d.err = errCorruptSpill
		d.off = len(d.b)
		return 0
	}
	d.off += n
	return v
}

func (d *spillDecoder) str() string {
	n := int(d.uvarint())
	if n == 0 || d.err != nil {
		return ""
	}
	if d.off+n > len(d.b) {
		d.err = errCorruptSpill
		d.off = len(d.b)
		return ""
	}
	s := unsafe.String(&d.b[d.off], n)
	d.off += n
	return s
}

// next decodes one event into e; it returns false at the end of the buffer
// or on error (see d.err).
func (d *spillDecoder) next(e *event.Event) bool {
	if d.off >= len(d.b) || d.err != nil {
		return false
	}
	n := int(d.uvarint())
	end := d.off + n
	if d.err != nil || end > len(d.b) || n < 10 {
		d.err = errCorruptSpill
		return false
	}
	ki, flags := d.b[d.off+8], d.b[d.off+9]
	if int(ki) >= len(event.Kinds) {
		d.err = errCorruptSpill
		return false
	}
	d.off += 10
	*e = event.Event{Kind: event.Kinds[ki]}
	e.File = int32(uint32(d.uvarint()))
	e.Row = int64(d.uvarint())
	if d.off+8 > end {
		d.err = errCorruptSpill
		return false
	}
	e.EventTime = int64(binary.LittleEndian.Uint64(d.b[d.off:]))
	d.off += 8
	if flags&flagIngest != 0 {
		e.IngestTime, e.HasIngestTime = e.EventTime+d.varint(), true
	}
	if flags&flagItems != 0 {
		e.ItemCount, e.HasItemCount = int32(d.varint()), true
	}
	if flags&flagCart != 0 {
		e.CartValueCents, e.HasCartValue = d.varint(), true
	}
	if flags&flagOrder != 0 {
		e.OrderValueCents, e.HasOrderValue = d.varint(), true
	}
	e.EventID = d.str()
	e.ShopID = d.str()
	e.BuyerID = d.str()
	e.ConversationID = d.str()
	e.Channel = d.str()
	e.Sender = d.str()
	e.CartToken = d.str()
	e.OrderID = d.str()
	if np := int(d.uvarint()); np > 0 && d.err == nil {
		if np > end-d.off {
			d.err = errCorruptSpill
			return false
		}
		if len(d.arena)+np > cap(d.arena) {
			d.arena = make([]string, 0, max(4096, np))
		}
		e.ProductIDs = d.arena[len(d.arena) : len(d.arena)+np : len(d.arena)+np]
		d.arena = d.arena[:len(d.arena)+np]
		for i := range e.ProductIDs {
			e.ProductIDs[i] = d.str()
		}
	}
	if flags&flagKindUnknown != 0 {
		e.Kind = event.Kind(d.str())
	}
	if d.err != nil || d.off != end {
		d.err = errCorruptSpill
		return false
	}
	return true
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

// add appends e's record and returns its size in bytes. Chunks of
// chunkSize come from and go back to pool.
func (p *partition) add(e *event.Event, h uint64, chunkSize int, pool *[][]byte) int64 {
	var rec [recordHeaderMax]byte
	r, n, flags := recordHeader(rec[:], e, h)
	need := uvarintLen(uint64(n)) + n
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
	p.chunks[last] = appendRecord(p.chunks[last], e, r, n, flags)
	p.count++
	return int64(need)
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

package replay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"unsafe"

	"github.com/signalab/signalab/event"
)

// The spill format: events of one buyer-hash partition, appended to a byte
// buffer and flushed to a temporary file when the buffers grow past the
// memory budget. Each record is
//
//	uvarint(len(record)) record
//
// where record holds, in order: kind index (1 byte), flags (1 byte), File
// (uvarint), Row (uvarint), EventTime (varint), IngestTime (varint, if
// flagged), ItemCount (varint, if flagged), CartValueCents (varint, if
// flagged), OrderValueCents (varint, if flagged), then the strings EventID,
// ShopID, BuyerID, ConversationID, Channel, Sender, CartToken, OrderID,
// Currency (uvarint length + bytes each), and uvarint(len(ProductIDs))
// followed by each product id. The format is private to one run.

const (
	flagIngest = 1 << iota
	flagItems
	flagCart
	flagOrder
	flagKindUnknown // kind not in event.Kinds: the kind string follows the strings
)

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendEvent appends the spill record of e to b.
func appendEvent(b []byte, e *event.Event) []byte {
	var rec [binary.MaxVarintLen64 * 9]byte
	r := rec[:0]
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
	r = binary.AppendVarint(r, e.EventTime)
	if e.HasIngestTime {
		r = binary.AppendVarint(r, e.IngestTime)
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
		strLen(e.Channel) + strLen(e.Sender) + strLen(e.CartToken) + strLen(e.OrderID) + strLen(e.Currency) +
		uvarintLen(uint64(len(e.ProductIDs)))
	for _, p := range e.ProductIDs {
		n += strLen(p)
	}
	if flags&flagKindUnknown != 0 {
		n += strLen(string(e.Kind))
	}
	b = binary.AppendUvarint(b, uint64(n))
	b = append(b, r...)
	for _, s := range [...]string{e.EventID, e.ShopID, e.BuyerID, e.ConversationID, e.Channel, e.Sender, e.CartToken, e.OrderID, e.Currency} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(e.ProductIDs)))
	for _, p := range e.ProductIDs {
		b = appendString(b, p)
	}
	if flags&flagKindUnknown != 0 {
		b = appendString(b, string(e.Kind))
	}
	return b
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

func kindIndex(k event.Kind) int {
	for i, x := range event.Kinds {
		if x == k {
			return i
		}
	}
	return -1
}

var errCorruptSpill = errors.New("corrupt spill record")

// spillDecoder decodes records from a buffer. Strings point into the
// buffer (no copies): the buffer must outlive the events, and strings that
// escape (into output rows) must be cloned.
type spillDecoder struct {
	b   []byte
	off int
	err error
}

func (d *spillDecoder) uvarint() uint64 {
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
	if d.err != nil || end > len(d.b) || n < 2 {
		d.err = errCorruptSpill
		return false
	}
	ki, flags := d.b[d.off], d.b[d.off+1]
	d.off += 2
	*e = event.Event{Kind: event.Kinds[ki]}
	e.File = int32(uint32(d.uvarint()))
	e.Row = int64(d.uvarint())
	e.EventTime = d.varint()
	if flags&flagIngest != 0 {
		e.IngestTime, e.HasIngestTime = d.varint(), true
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
	e.Currency = d.str()
	if np := int(d.uvarint()); np > 0 && d.err == nil {
		if np > end-d.off {
			d.err = errCorruptSpill
			return false
		}
		e.ProductIDs = make([]string, np)
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

// partition holds the spilled events of one buyer-hash partition: a
// temporary file (possibly empty) plus an in-memory tail.
type partition struct {
	buf   []byte
	file  *os.File
	size  int64 // bytes in file
	count int64
}

func (p *partition) flush(dir string, idx int) error {
	if len(p.buf) == 0 {
		return nil
	}
	if p.file == nil {
		f, err := os.CreateTemp(dir, fmt.Sprintf("part-%03d-*.bin", idx))
		if err != nil {
			return fmt.Errorf("spill events to %s: %w (set --tmp to a folder with free space)", dir, err)
		}
		p.file = f
	}
	if _, err := p.file.Write(p.buf); err != nil {
		return fmt.Errorf("spill events to %s: %w (set --tmp to a folder with free space)", p.file.Name(), err)
	}
	p.size += int64(len(p.buf))
	p.buf = p.buf[:0]
	return nil
}

// load returns the partition's bytes: file contents then the in-memory tail.
func (p *partition) load() ([]byte, error) {
	if p.file == nil {
		return p.buf, nil
	}
	b := make([]byte, p.size+int64(len(p.buf)))
	if _, err := p.file.ReadAt(b[:p.size], 0); err != nil {
		return nil, fmt.Errorf("read spilled events %s: %w", p.file.Name(), err)
	}
	copy(b[p.size:], p.buf)
	return b, nil
}

func (p *partition) release() {
	if p.file != nil {
		name := p.file.Name()
		p.file.Close()
		os.Remove(name)
		p.file = nil
	}
	p.buf = nil
}

// buyerHash is the 64-bit FNV-1a hash of shop_id, a 0 byte and buyer_id:
// it picks the partition of a buyer.
func buyerHash(shop, buyer string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(shop); i++ {
		h ^= uint64(shop[i])
		h *= prime
	}
	h *= prime // the 0 separator
	for i := 0; i < len(buyer); i++ {
		h ^= uint64(buyer[i])
		h *= prime
	}
	return h
}

// Package wire is the compact binary form in which replay engines move
// events between their own stages: the embedded engine's partition spill
// (replay/embedded) and the Beam pipeline's shuffle (beam/beamreplay). One
// encoder serves both, so a field added to the events the logic reads is
// added once.
//
// # Record
//
// A record is
//
//	uvarint(len(body)) body
//
// where body holds, in order: the kind's index in event.Kinds (1 byte),
// flags (1 byte: HasIngestTime, HasItemCount, HasCartValue, HasOrderValue,
// kind unknown), File (uvarint of its uint32 bits), Row (uvarint of its
// uint64 bits), EventTime (8 bytes, little endian), IngestTime − EventTime
// (varint, if flagged; the lag is small), ItemCount, CartValueCents,
// OrderValueCents (varint each, if flagged), the strings EventID, ShopID,
// BuyerID, ConversationID, Channel, Sender, CartToken, OrderID (uvarint
// length + bytes each), uvarint(len(ProductIDs)) followed by each product id,
// and, for a kind not in event.Kinds, the kind string.
//
// A record holds what the signal logic reads (View), not the whole event:
// Currency is left out, and ProductIDs are kept only on cart_update events
// (the one kind whose products the logic compares). Page views, most of a
// log, carry a product each; dropping them saves encoding, memory and
// decoding. replay.Buyer gives the same results for e and View(e).
//
// # What differs between the two users, and only this
//
//   - Framing. The spill puts the buyer's 64-bit hash before each record, so
//     that it can partition and bucket records without decoding them. Beam
//     sends a buyer's records from one input split as one value (a pack)
//     that starts with Version: its records cross process boundaries, where
//     a worker could run another build, and a mismatch must fail loudly
//     rather than decode garbage. Spill files never leave the process that
//     wrote them.
//   - Decoded strings. The spill decodes without copying (Decoder.Copy
//     false): strings point into the spill buffer, which the engine keeps
//     until the buyer's rows are copied out. Beam decodes with copies
//     (Decoder.Copy true), since it holds output rows for a whole bundle and
//     its input buffers belong to the runner.
//
// The format is private to one run: nothing stores records across
// versions, so it may change freely together with Version.
package wire

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"unsafe"

	"github.com/signalab/signalab/event"
)

// Version identifies this record format in contexts where records cross
// process boundaries (Beam's packs start with it).
const Version byte = 2

// ErrCorrupt is returned for a record that is truncated or malformed.
var ErrCorrupt = errors.New("corrupt event record")

const (
	flagIngest = 1 << iota
	flagItems
	flagCart
	flagOrder
	flagKindUnknown // kind not in event.Kinds: the kind string follows the products
)

// View returns the fields of e that a record carries: e without Currency,
// and without ProductIDs unless e is a cart_update. Decoding the record of
// e gives View(e).
func View(e event.Event) event.Event {
	e.Currency = ""
	if !keepProducts(&e) {
		e.ProductIDs = nil
	}
	return e
}

// keepProducts reports whether e's record holds its product ids (signal.Buyer
// reads products only on cart_update).
func keepProducts(e *event.Event) bool { return e.Kind == event.KindCartUpdate }

// headerMax bounds the length of a body's fixed part (kind, flags, numbers).
const headerMax = 2 + binary.MaxVarintLen32 + binary.MaxVarintLen64 + 8 + 4*binary.MaxVarintLen64

// MaxLen is an upper bound of the bytes AppendEvent adds for e, cheap to
// compute, so that a caller can pick a buffer with room for the record
// before writing it.
func MaxLen(e *event.Event) int {
	n := binary.MaxVarintLen64 + headerMax + 9*binary.MaxVarintLen64 +
		len(e.EventID) + len(e.ShopID) + len(e.BuyerID) + len(e.ConversationID) +
		len(e.Channel) + len(e.Sender) + len(e.CartToken) + len(e.OrderID) + len(e.Kind)
	if keepProducts(e) {
		for _, p := range e.ProductIDs {
			n += binary.MaxVarintLen64 + len(p)
		}
	}
	return n
}

// header builds the fixed part of e's body into h and returns it with the
// body's total length and the flags.
func header(h *[headerMax]byte, e *event.Event) ([]byte, int, byte) {
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
	r := append(h[:0], byte(ki), flags)
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

// AppendEvent appends the record of e to b and returns the extended slice.
// The record is written into b's spare capacity with plain copies (its size
// is computed first), growing b only when MaxLen(e) bytes were not free.
func AppendEvent(b []byte, e *event.Event) []byte {
	var h [headerMax]byte
	r, n, flags := header(&h, e)
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
		panic("wire: record size mismatch") // header and AppendEvent disagree: a bug
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

// RecordLen returns the length of the record at the start of b, its length
// prefix included, without decoding it. It reports ErrCorrupt when b does
// not hold a whole record.
func RecordLen(b []byte) (int, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n < 2 || uint64(len(b)-w) < n {
		return 0, ErrCorrupt
	}
	return w + int(n), nil
}

// A Decoder decodes records. ProductIDs slices of decoded events are carved
// from an arena the Decoder reuses after Reset; strings either point into
// the record's buffer or are copies (Copy).
type Decoder struct {
	// Copy makes decoded strings copies. Without it they point into the
	// buffer given to Decode, which must then outlive them (and strings
	// that escape, into output rows, must be cloned).
	Copy  bool
	arena []string // backing store of ProductIDs slices
}

// Reset lets the Decoder reuse the memory of the ProductIDs slices it
// handed out: call it only when the events decoded so far are no longer
// used. (The arena is not cleared: its strings are overwritten by the next
// decodes.)
func (d *Decoder) Reset() { d.arena = d.arena[:0] }

// reader walks one record.
type reader struct {
	b    []byte
	off  int
	bad  bool
	copy bool
}

func (r *reader) uvarint() uint64 {
	if r.off < len(r.b) && r.b[r.off] < 0x80 { // one-byte fast path
		v := uint64(r.b[r.off])
		r.off++
		return v
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.bad = true
		r.off = len(r.b)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b[r.off:])
	if n <= 0 {
		r.bad = true
		r.off = len(r.b)
		return 0
	}
	r.off += n
	return v
}

func (r *reader) str() string {
	n := int(r.uvarint())
	if n == 0 || r.bad {
		return ""
	}
	if n > len(r.b)-r.off || n < 0 {
		r.bad = true
		r.off = len(r.b)
		return ""
	}
	var s string
	if r.copy {
		s = string(r.b[r.off : r.off+n])
	} else {
		s = unsafe.String(&r.b[r.off], n)
	}
	r.off += n
	return s
}

// Decode decodes the record at the start of b into e (overwriting all of
// e) and returns the record's length, its prefix included. Bytes after the
// record are not looked at.
func (d *Decoder) Decode(b []byte, e *event.Event) (int, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n < 12 || uint64(len(b)-w) < n { // kind, flags, file, row, event time at least
		return 0, ErrCorrupt
	}
	end := w + int(n)
	r := reader{b: b[:end], off: w, copy: d.Copy}
	ki, flags := b[w], b[w+1]
	if int(ki) >= len(event.Kinds) {
		return 0, ErrCorrupt
	}
	r.off += 2
	*e = event.Event{Kind: event.Kinds[ki]}
	e.File = int32(uint32(r.uvarint()))
	e.Row = int64(r.uvarint())
	if r.off+8 > end {
		return 0, ErrCorrupt
	}
	e.EventTime = int64(binary.LittleEndian.Uint64(b[r.off:]))
	r.off += 8
	if flags&flagIngest != 0 {
		e.IngestTime, e.HasIngestTime = e.EventTime+r.varint(), true
	}
	if flags&flagItems != 0 {
		v := r.varint()
		if v < math.MinInt32 || v > math.MaxInt32 {
			return 0, ErrCorrupt
		}
		e.ItemCount, e.HasItemCount = int32(v), true
	}
	if flags&flagCart != 0 {
		e.CartValueCents, e.HasCartValue = r.varint(), true
	}
	if flags&flagOrder != 0 {
		e.OrderValueCents, e.HasOrderValue = r.varint(), true
	}
	e.EventID = r.str()
	e.ShopID = r.str()
	e.BuyerID = r.str()
	e.ConversationID = r.str()
	e.Channel = r.str()
	e.Sender = r.str()
	e.CartToken = r.str()
	e.OrderID = r.str()
	if np := int(r.uvarint()); np > 0 && !r.bad {
		if np > end-r.off || np < 0 { // each id takes at least a byte
			return 0, ErrCorrupt
		}
		if len(d.arena)+np > cap(d.arena) {
			d.arena = make([]string, 0, max(4096, np))
		}
		e.ProductIDs = d.arena[len(d.arena) : len(d.arena)+np : len(d.arena)+np]
		d.arena = d.arena[:len(d.arena)+np]
		for i := range e.ProductIDs {
			e.ProductIDs[i] = r.str()
		}
	}
	if flags&flagKindUnknown != 0 {
		e.Kind = event.Kind(r.str())
	}
	if r.bad || r.off != end {
		return 0, ErrCorrupt
	}
	return end, nil
}

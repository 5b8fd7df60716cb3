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
// products present, kind unknown), a string mask (1 byte: bit i set when
// the i-th of EventID, ShopID, BuyerID, ConversationID, Channel, Sender,
// CartToken, OrderID is not empty), File (uvarint of its uint32 bits), Row
// (uvarint of its uint64 bits), EventTime (8 bytes, little endian),
// IngestTime − EventTime (varint, if flagged; the lag is small),
// ItemCount, CartValueCents, OrderValueCents (varint each, if flagged),
// the non-empty strings of the mask (uvarint length + bytes each), if
// flagged uvarint(len(ProductIDs)) followed by each product id, and, for a
// kind not in event.Kinds, the kind string. Empty strings and absent
// products take no bytes (page views, most of a log, have five empty
// strings), and a decoder touches only what is present.
//
// # What differs between the two users, and only this
//
//   - Framing. The spill puts the low 32 bits of the buyer's hash and the
//     shop's number (shops are numbered once per run) before each record,
//     whose shop id it leaves empty, so that it can partition and bucket
//     records without decoding them and keeps ten bytes less. Beam
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
	"math/bits"
	"slices"
	"unsafe"

	"github.com/signalab/signalab/event"
)

// Version identifies this record format in contexts where records cross
// process boundaries (Beam's packs start with it).
const Version byte = 3

// ErrCorrupt is returned for a record that is truncated or malformed.
var ErrCorrupt = errors.New("corrupt event record")

const (
	flagIngest = 1 << iota
	flagItems
	flagCart
	flagOrder
	flagKindUnknown // kind not in event.Kinds: the kind string follows the products
	flagProducts    // the record holds product ids
)

// numStrings is the number of string fields of a record (the string mask's
// bits: EventID, ShopID, BuyerID, ConversationID, Channel, Sender,
// CartToken, OrderID).
const numStrings = 8

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

// MaxLen is an upper bound of the bytes AppendEvent adds for e, cheap to
// compute, so that a caller can pick a buffer with room for the record
// before writing it.
func MaxLen(e *event.Event) int {
	n := 2*binary.MaxVarintLen64 + 3 + binary.MaxVarintLen32 + 8 + 4*binary.MaxVarintLen64 + 9*binary.MaxVarintLen64 +
		len(e.EventID) + len(e.ShopID) + len(e.BuyerID) + len(e.ConversationID) +
		len(e.Channel) + len(e.Sender) + len(e.CartToken) + len(e.OrderID) + len(e.Kind)
	if keepProducts(e) {
		n += binary.MaxVarintLen64 // the count
		for _, p := range e.ProductIDs {
			n += binary.MaxVarintLen64 + len(p)
		}
	}
	return n
}

// AppendEvent appends the record of e to b and returns the extended slice.
// The record is written in one pass into b's spare capacity (grown to
// MaxLen(e) bytes free when needed): the fields after a one-byte length,
// which is filled in last; a record of 128 bytes or more (rare: a long
// product list) is then moved up to make room for its longer length.
func AppendEvent(b []byte, e *event.Event) []byte {
	at := len(b)
	b = slices.Grow(b, MaxLen(e))
	w := b[at:cap(b)]
	ki := kindIndex(e.Kind)
	var flags, mask byte
	i := putUvarint(w, 4, uint64(uint32(e.File))) // w[0] length, w[1:4] kind, flags, mask
	i = putUvarint(w, i, uint64(e.Row))
	binary.LittleEndian.PutUint64(w[i:], uint64(e.EventTime))
	i += 8
	if e.HasIngestTime {
		flags |= flagIngest
		i += binary.PutVarint(w[i:], e.IngestTime-e.EventTime) // wraps; decoded by adding back
	}
	if e.HasItemCount {
		flags |= flagItems
		i += binary.PutVarint(w[i:], int64(e.ItemCount))
	}
	if e.HasCartValue {
		flags |= flagCart
		i += binary.PutVarint(w[i:], e.CartValueCents)
	}
	if e.HasOrderValue {
		flags |= flagOrder
		i += binary.PutVarint(w[i:], e.OrderValueCents)
	}
	// The strings, in mask order, written out rather than looped over (an
	// array of the eight cost a third of the encoding) or passed to a helper
	// (which does not inline: BenchmarkEncode +22 % for page views).
	if e.EventID != "" {
		mask |= 1 << 0
		i = putString(w, i, e.EventID)
	}
	if e.ShopID != "" {
		mask |= 1 << 1
		i = putString(w, i, e.ShopID)
	}
	if e.BuyerID != "" {
		mask |= 1 << 2
		i = putString(w, i, e.BuyerID)
	}
	if e.ConversationID != "" {
		mask |= 1 << 3
		i = putString(w, i, e.ConversationID)
	}
	if e.Channel != "" {
		mask |= 1 << 4
		i = putString(w, i, e.Channel)
	}
	if e.Sender != "" {
		mask |= 1 << 5
		i = putString(w, i, e.Sender)
	}
	if e.CartToken != "" {
		mask |= 1 << 6
		i = putString(w, i, e.CartToken)
	}
	if e.OrderID != "" {
		mask |= 1 << 7
		i = putString(w, i, e.OrderID)
	}
	if keepProducts(e) && len(e.ProductIDs) > 0 {
		flags |= flagProducts
		i = putUvarint(w, i, uint64(len(e.ProductIDs)))
		for _, p := range e.ProductIDs {
			i = putString(w, i, p)
		}
	}
	if ki < 0 {
		flags |= flagKindUnknown
		ki = 0
		i = putString(w, i, string(e.Kind))
	}
	w[1], w[2], w[3] = byte(ki), flags, mask
	n := i - 1 // the payload, w[1:i]
	if n < 0x80 {
		w[0] = byte(n)
		return b[:at+i]
	}
	k := uvarintLen(uint64(n))
	copy(w[k:], w[1:i])
	binary.PutUvarint(w, uint64(n))
	return b[:at+k+n]
}

// putUvarint writes v at w[i:] and returns the offset after it.
func putUvarint(w []byte, i int, v uint64) int {
	if v < 0x80 {
		w[i] = byte(v)
		return i + 1
	}
	return i + binary.PutUvarint(w[i:], v)
}

// putString writes s (uvarint length, bytes) at w[i:] and returns the
// offset after it.
func putString(w []byte, i int, s string) int {
	i = putUvarint(w, i, uint64(len(s)))
	return i + copy(w[i:], s)
}

func uvarintLen(v uint64) int { return (bits.Len64(v|1) + 6) / 7 }

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
	n, w := uvarintAt(b, 0)
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

// uvarintAt reads a uvarint at b[i:] and returns it and the offset after
// it, or -1 when b ends first or the varint overflows.
func uvarintAt(b []byte, i int) (uint64, int) {
	if i+3 < len(b) { // fast paths for one to four bytes: lengths, rows, lags
		b0, b1, b2, b3 := b[i], b[i+1], b[i+2], b[i+3]
		switch {
		case b0 < 0x80:
			return uint64(b0), i + 1
		case b1 < 0x80:
			return uint64(b0&0x7f) | uint64(b1)<<7, i + 2
		case b2 < 0x80:
			return uint64(b0&0x7f) | uint64(b1&0x7f)<<7 | uint64(b2)<<14, i + 3
		case b3 < 0x80:
			return uint64(b0&0x7f) | uint64(b1&0x7f)<<7 | uint64(b2&0x7f)<<14 | uint64(b3)<<21, i + 4
		}
	} else if i < len(b) && b[i] < 0x80 {
		return uint64(b[i]), i + 1
	}
	if i >= len(b) {
		return 0, -1
	}
	v, n := binary.Uvarint(b[i:])
	if n <= 0 {
		return 0, -1
	}
	return v, i + n
}

// varintAt is uvarintAt for a zig-zag varint.
func varintAt(b []byte, i int) (int64, int) {
	u, j := uvarintAt(b, i)
	return int64(u>>1) ^ -int64(u&1), j
}

// strAt reads a string (uvarint length, bytes) at b[i:]: a copy, or a
// string pointing into b.
func strAt(b []byte, i int, copyStr bool) (string, int) {
	l, j := uvarintAt(b, i)
	if j < 0 || l > uint64(len(b)-j) {
		return "", -1
	}
	if l == 0 {
		return "", j
	}
	if copyStr {
		return string(b[j : j+int(l)]), j + int(l)
	}
	return unsafe.String(&b[j], int(l)), j + int(l)
}

// Decode decodes the record at the start of b into e (overwriting all of
// e) and returns the record's length, its prefix included. Bytes after the
// record are not looked at.
func (d *Decoder) Decode(b []byte, e *event.Event) (int, error) {
	n, w := uvarintAt(b, 0)
	if w < 0 || n < 11 || n > uint64(len(b)-w) { // kind, flags, mask, file, row, event time at least
		return 0, ErrCorrupt
	}
	end := w + int(n)
	r := b[:end]
	ki, flags, mask := r[w], r[w+1], r[w+2]
	if int(ki) >= len(event.Kinds) {
		return 0, ErrCorrupt
	}
	file, i := uvarintAt(r, w+3)
	if i < 0 {
		return 0, ErrCorrupt
	}
	row, i := uvarintAt(r, i)
	if i < 0 || i+8 > end {
		return 0, ErrCorrupt
	}
	et := int64(binary.LittleEndian.Uint64(r[i:]))
	i += 8
	var lag, items, cart, order int64
	if flags&flagIngest != 0 {
		lag, i = varintAt(r, i)
	}
	if flags&flagItems != 0 && i >= 0 {
		items, i = varintAt(r, i)
		if items < math.MinInt32 || items > math.MaxInt32 {
			return 0, ErrCorrupt
		}
	}
	if flags&flagCart != 0 && i >= 0 {
		cart, i = varintAt(r, i)
	}
	if flags&flagOrder != 0 && i >= 0 {
		order, i = varintAt(r, i)
	}
	var strs [numStrings]string
	for m := mask; m != 0 && i >= 0; m &= m - 1 {
		strs[bits.TrailingZeros8(m)], i = strAt(r, i, d.Copy)
	}
	if i < 0 {
		return 0, ErrCorrupt
	}
	// Every field is written once, directly (a composite literal would be
	// built aside and copied in).
	e.EventID, e.Kind, e.EventTime = strs[0], event.Kinds[ki], et
	e.IngestTime, e.HasIngestTime = 0, false
	if flags&flagIngest != 0 {
		e.IngestTime, e.HasIngestTime = et+lag, true
	}
	e.ShopID, e.BuyerID, e.ConversationID, e.Channel, e.Sender, e.CartToken = strs[1], strs[2], strs[3], strs[4], strs[5], strs[6]
	e.ItemCount, e.HasItemCount = int32(items), flags&flagItems != 0
	e.CartValueCents, e.HasCartValue = cart, flags&flagCart != 0
	e.ProductIDs = nil
	e.OrderID = strs[7]
	e.OrderValueCents, e.HasOrderValue = order, flags&flagOrder != 0
	e.Currency = ""
	e.File, e.Row = int32(uint32(file)), int64(row)
	if flags&flagProducts != 0 {
		var np uint64
		np, i = uvarintAt(r, i)
		if i < 0 || np == 0 || np > uint64(end-i) { // each id takes at least a byte
			return 0, ErrCorrupt
		}
		if len(d.arena)+int(np) > cap(d.arena) {
			d.arena = make([]string, 0, max(4096, int(np)))
		}
		ps := d.arena[len(d.arena) : len(d.arena)+int(np) : len(d.arena)+int(np)]
		d.arena = d.arena[:len(d.arena)+int(np)]
		for k := range ps {
			if ps[k], i = strAt(r, i, d.Copy); i < 0 {
				return 0, ErrCorrupt
			}
		}
		e.ProductIDs = ps
	}
	if flags&flagKindUnknown != 0 {
		var k string
		if k, i = strAt(r, i, d.Copy); i < 0 {
			return 0, ErrCorrupt
		}
		e.Kind = event.Kind(k)
	}
	if i != end {
		return 0, ErrCorrupt
	}
	return end, nil
}

package embedded

import (
	"encoding/binary"
	"strings"
	"sync"
	"unsafe"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay/wire"
)

// shopTable numbers the shop ids of a run, so that partition entries carry
// a shop's number (a byte or two) instead of its id (about ten bytes, a
// sixth of an entry on generated logs): more events fit the memory budget
// and fewer bytes are copied. It is filled by the scan goroutines and only
// read afterwards.
type shopTable struct {
	mu    sync.Mutex
	index map[string]uint32
	names []string
}

// number returns shop's number, giving it one when it has none.
func (t *shopTable) number(shop string) uint32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.index[shop]; ok {
		return n
	}
	if t.index == nil {
		t.index = map[string]uint32{}
	}
	c := strings.Clone(shop)
	n := uint32(len(t.names))
	t.index[c] = n
	t.names = append(t.names, c)
	return n
}

// shopCache is a scan goroutine's cache of shop numbers. Its first level
// is keyed by the address and length of the shop id: the readers intern
// shop_id (Scan lends every other string, but interned columns are never
// reused), so within a goroutine equal ids mostly share their bytes, and a
// hit costs a multiply, a load and a compare instead of hashing the id. A
// slot holds the id itself, so its bytes cannot be freed and reused for
// another id while cached. Then comes the goroutine's own map (ids with
// other addresses, as text formats give), then the shared table.
type shopCache struct {
	slots [256]struct {
		id string
		n  uint32
	}
	local map[string]uint32
}

func (c *shopCache) number(t *shopTable, shop string) uint32 {
	p := unsafe.StringData(shop)
	slot := &c.slots[(uint64(uintptr(unsafe.Pointer(p)))+uint64(len(shop)))*0x9E3779B97F4A7C15>>56]
	if unsafe.StringData(slot.id) == p && len(slot.id) == len(shop) && p != nil {
		return slot.n
	}
	n, ok := c.local[shop]
	if !ok {
		n = t.number(shop)
		if c.local == nil {
			c.local = map[string]uint32{}
		}
		c.local[strings.Clone(shop)] = n
	}
	slot.id, slot.n = shop, n
	return n
}

// The entry format, after the buyer hash: the shop number (uvarint), then
// the event's wire record without its shop id.

// entryMaxLen bounds the bytes of e's entry.
func entryMaxLen(e *event.Event) int { return hashLen + binary.MaxVarintLen32 + wire.MaxLen(e) }

// appendEntry appends the entry of e (whose ShopID is numbered shop) to b.
// It clears e.ShopID, which the record does not carry.
func appendEntry(b []byte, h uint64, shop uint32, e *event.Event) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(h))
	if shop < 0x80 {
		b = append(b, byte(shop))
	} else {
		b = binary.AppendUvarint(b, uint64(shop))
	}
	e.ShopID = ""
	return wire.AppendEvent(b, e)
}

// decodeEntry decodes the entry b (whole, hash included) into e.
func decodeEntry(d *wire.Decoder, b []byte, shops []string, e *event.Event) error {
	if len(b) < hashLen+1 {
		return errCorruptSpill
	}
	shop, n := uint64(b[hashLen]), 1
	if shop >= 0x80 {
		shop, n = binary.Uvarint(b[hashLen:])
	}
	if n <= 0 || shop >= uint64(len(shops)) {
		return errCorruptSpill
	}
	if _, err := d.Decode(b[hashLen+n:], e); err != nil {
		return err
	}
	e.ShopID = shops[shop]
	return nil
}

package beamreplay

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/signalab/signalab/event"
)

// The wire encoding of an event between the read and group stages: the
// shuffle moves every event once, so the encoding is compact and cheap rather
// than self-describing. It is private to one pipeline run (reader and decoder
// are the same binary), so it carries a version byte only to fail loudly if
// that ever stops being true.
//
// Layout, in order:
//
//	version   byte (codecVersion)
//	flags     byte: bit 0 HasIngestTime, 1 HasItemCount, 2 HasCartValue, 3 HasOrderValue
//	event_time, ingest_time, cart_value_cents, order_value_cents: zig-zag varints
//	item_count: zig-zag varint
//	file: zig-zag varint; row: zig-zag varint
//	event_id, kind, shop_id, buyer_id, conversation_id, channel, sender,
//	cart_token, order_id, currency: uvarint length + bytes
//	product_ids: uvarint count, then each as uvarint length + bytes
//
// Absent optional numbers encode as 0 with their flag cleared, so a decoded
// event equals the encoded one field for field.
const codecVersion = 1

const (
	flagIngest byte = 1 << iota
	flagItemCount
	flagCartValue
	flagOrderValue
)

var errShort = errors.New("truncated event encoding")

// AppendEvent appends the wire encoding of e to b and returns the result.
func AppendEvent(b []byte, e *event.Event) []byte {
	var flags byte
	if e.HasIngestTime {
		flags |= flagIngest
	}
	if e.HasItemCount {
		flags |= flagItemCount
	}
	if e.HasCartValue {
		flags |= flagCartValue
	}
	if e.HasOrderValue {
		flags |= flagOrderValue
	}
	b = append(b, codecVersion, flags)
	b = binary.AppendVarint(b, e.EventTime)
	b = binary.AppendVarint(b, e.IngestTime)
	b = binary.AppendVarint(b, e.CartValueCents)
	b = binary.AppendVarint(b, e.OrderValueCents)
	b = binary.AppendVarint(b, int64(e.ItemCount))
	b = binary.AppendVarint(b, int64(e.File))
	b = binary.AppendVarint(b, e.Row)
	for _, s := range [...]string{e.EventID, string(e.Kind), e.ShopID, e.BuyerID, e.ConversationID,
		e.Channel, e.Sender, e.CartToken, e.OrderID, e.Currency} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, uint64(len(e.ProductIDs)))
	for _, p := range e.ProductIDs {
		b = appendString(b, p)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// DecodeEvent decodes one event written by AppendEvent. Strings are copied
// out of b, so b may be reused afterwards.
func DecodeEvent(b []byte) (event.Event, error) {
	d := decoder{b: b}
	var e event.Event
	if v := d.byte(); v != codecVersion {
		if d.err != nil {
			return e, d.err
		}
		return e, fmt.Errorf("decode event: encoding version %d, this binary reads %d", v, codecVersion)
	}
	flags := d.byte()
	e.HasIngestTime = flags&flagIngest != 0
	e.HasItemCount = flags&flagItemCount != 0
	e.HasCartValue = flags&flagCartValue != 0
	e.HasOrderValue = flags&flagOrderValue != 0
	e.EventTime = d.varint()
	e.IngestTime = d.varint()
	e.CartValueCents = d.varint()
	e.OrderValueCents = d.varint()
	ic := d.varint()
	file := d.varint()
	e.Row = d.varint()
	if ic < math.MinInt32 || ic > math.MaxInt32 || file < math.MinInt32 || file > math.MaxInt32 {
		return e, fmt.Errorf("decode event: item_count or file ordinal out of int32 range")
	}
	e.ItemCount, e.File = int32(ic), int32(file)
	e.EventID = d.string()
	e.Kind = event.Kind(d.string())
	e.ShopID = d.string()
	e.BuyerID = d.string()
	e.ConversationID = d.string()
	e.Channel = d.string()
	e.Sender = d.string()
	e.CartToken = d.string()
	e.OrderID = d.string()
	e.Currency = d.string()
	if n := d.uvarint(); n > 0 && d.err == nil {
		if n > uint64(len(d.b)) { // each id takes at least one byte
			return e, fmt.Errorf("decode event %s: %w", e.EventID, errShort)
		}
		e.ProductIDs = make([]string, n)
		for i := range e.ProductIDs {
			e.ProductIDs[i] = d.string()
		}
	}
	if d.err != nil {
		return e, fmt.Errorf("decode event: %w", d.err)
	}
	if len(d.b) != 0 {
		return e, fmt.Errorf("decode event %s: %d trailing bytes", e.EventID, len(d.b))
	}
	return e, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.b) == 0 {
		d.err = errShort
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// BuyerKeyString encodes a buyer key as the shuffle key: the shop id with its
// uvarint length prefix, then the buyer id. The prefix makes the encoding
// injective (no two different (shop_id, buyer_id) pairs share a key, whatever
// bytes the ids contain), which is all grouping needs.
func BuyerKeyString(k event.BuyerKey) string {
	b := make([]byte, 0, len(k.ShopID)+len(k.BuyerID)+3)
	b = appendString(b, k.ShopID)
	b = append(b, k.BuyerID...)
	return string(b)
}

package event

import (
	"bufio"
	"encoding/json"
	"io"
	"slices"
	"strconv"
)

// AppendJSON appends e as one JSON object in the JSONL format the reader
// accepts (no newline): timestamps RFC 3339 in UTC with µs precision, absent
// optional columns omitted, keys in schema order. Provenance is not written.
func AppendJSON(dst []byte, e *Event) []byte {
	dst = append(dst, '{')
	first := true
	str := func(k, v string) {
		if v == "" {
			return
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendKey(dst, k)
		b, _ := json.Marshal(EscapeInvalidUTF8(v)) // not U+FFFD: keep the bytes visible
		dst = append(dst, b...)
	}
	num := func(k string, v int64, ok bool) {
		if !ok {
			return
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendKey(dst, k)
		dst = strconv.AppendInt(dst, v, 10)
	}
	str("event_id", e.EventID)
	str("kind", string(e.Kind))
	str("event_time", FormatTimestamp(e.EventTime))
	if e.HasIngestTime {
		str("ingest_time", FormatTimestamp(e.IngestTime))
	}
	str("shop_id", e.ShopID)
	str("buyer_id", e.BuyerID)
	str("conversation_id", e.ConversationID)
	str("channel", e.Channel)
	str("sender", e.Sender)
	str("cart_token", e.CartToken)
	num("item_count", int64(e.ItemCount), e.HasItemCount)
	num("cart_value_cents", e.CartValueCents, e.HasCartValue)
	if e.ProductIDs != nil {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendKey(dst, "product_ids")
		ids := e.ProductIDs
		for i, id := range ids {
			if esc := EscapeInvalidUTF8(id); esc != id {
				ids = slices.Clone(ids)
				ids[i] = esc
			}
		}
		b, _ := json.Marshal(ids)
		dst = append(dst, b...)
	}
	str("order_id", e.OrderID)
	num("order_value_cents", e.OrderValueCents, e.HasOrderValue)
	str("currency", e.Currency)
	return append(dst, '}')
}

func appendKey(dst []byte, k string) []byte {
	dst = append(dst, '"')
	dst = append(dst, k...)
	return append(dst, '"', ':')
}

// EventJSON returns e as one JSON object (see AppendJSON).
func EventJSON(e *Event) string { return string(AppendJSON(nil, e)) }

// WriteJSONL writes events to w as JSON Lines, one object per line.
func WriteJSONL(w io.Writer, events []Event) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	for i := range events {
		line = AppendJSON(line[:0], &events[i])
		line = append(line, '\n')
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

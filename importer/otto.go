package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/signalab/signalab/event"

	"github.com/signalab/signalab/internal/safeio"
)

type ottoSession struct {
	Session *int64 `json:"session"`
	Events  []struct {
		AID  *int64 `json:"aid"`
		TS   *int64 `json:"ts"`
		Type string `json:"type"`
	} `json:"events"`
}

// importOTTO maps OTTO sessions (one JSON object per line) to v1 events:
//
//	buyer_id   "s<session>"                 (a session is a buyer)
//	clicks  →  page_view    product_ids [aid]
//	carts   →  cart_update  running snapshot of the session's cart since its last
//	                        order: item_count = cart adds, product_ids = distinct aids,
//	                        cart_value_cents = 0 (OTTO has no prices), cart_token
//	                        "s<session>-c<n>" (n counts orders before it)
//	orders  →  order_placed one per run of consecutive orders events with the same ts:
//	                        order_id "s<session>-o<ts>", order_value_cents = 0,
//	                        product_ids the aids ordered; the cart is then cleared
//	event_id   "otto-<session>-<i>"         (i: index of the source event in the session)
//	event_time ts (unix ms) × 1000; no ingest_time.
func importOTTO(r io.Reader, name string, opts Options, out *emitter) error {
	br := bufio.NewReaderSize(r, 1<<20)
	var line int64
	var buf []byte
	for {
		b, err := readLine(br, buf[:0], event.MaxLineBytes)
		buf = b
		if safeio.IsTooLong(err) {
			return fmt.Errorf("import %s: line %d: %w (docs/limits.md); is this really OTTO JSON Lines?", name, line+1, err)
		}
		if len(b) > 0 {
			line++
			if err := ottoLine(bytes.TrimSpace(b), name, line, opts, out); err != nil {
				return err
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("import %s: line %d: %w", name, line+1, err)
		}
	}
}

// readLine appends the next line (with its newline) to buf, failing with a
// *safeio.TooLongError beyond max bytes instead of reading on.
func readLine(br *bufio.Reader, buf []byte, max int) ([]byte, error) {
	for {
		chunk, err := br.ReadSlice('\n')
		buf = append(buf, chunk...)
		if len(buf) > max {
			return nil, &safeio.TooLongError{What: "line", Limit: int64(max)}
		}
		if err != bufio.ErrBufferFull {
			return buf, err
		}
	}
}

func ottoLine(b []byte, name string, line int64, opts Options, out *emitter) error {
	if len(b) == 0 {
		return nil
	}
	out.st.Records++
	var s ottoSession
	if err := json.Unmarshal(b, &s); err != nil {
		return out.quarantine(line, "", event.ReasonMalformedRow, b,
			"not an OTTO session object (%v); expected {\"session\":N,\"events\":[{\"aid\":…,\"ts\":…,\"type\":\"clicks\"}]}", err)
	}
	if s.Session == nil {
		return out.quarantine(line, "session", event.ReasonMissingField, b, "missing \"session\"")
	}
	// A session is imported whole or not at all: its cart snapshots and
	// orders depend on every event before them.
	for i, ev := range s.Events {
		if ev.AID == nil || ev.TS == nil {
			return out.quarantine(line, "events", event.ReasonMissingField, b, "event %d lacks aid or ts", i)
		}
	}
	sess := strconv.FormatInt(*s.Session, 10)
	buyer := "s" + sess
	orders := 0
	c := &cart{token: buyer + "-c0"}
	for i := 0; i < len(s.Events); i++ {
		ev := s.Events[i]
		aid := strconv.FormatInt(*ev.AID, 10)
		e := event.Event{
			EventID:   "otto-" + sess + "-" + strconv.Itoa(i),
			EventTime: *ev.TS * 1000,
			ShopID:    opts.ShopID,
			BuyerID:   buyer,
		}
		switch ev.Type {
		case "clicks":
			e.Kind = event.KindPageView
			e.ProductIDs = []string{aid}
		case "carts":
			c.add(aid, 0)
			e.Kind = event.KindCartUpdate
			e.CartToken = c.token
			e.ItemCount, e.HasItemCount = c.items, true
			e.CartValueCents, e.HasCartValue = 0, true
			e.ProductIDs = c.snapshot()
		case "orders":
			e.Kind = event.KindOrderPlaced
			e.OrderID = buyer + "-o" + strconv.FormatInt(*ev.TS, 10)
			e.OrderValueCents, e.HasOrderValue = 0, true
			e.ProductIDs = []string{aid}
			for i+1 < len(s.Events) && s.Events[i+1].Type == "orders" && s.Events[i+1].TS != nil && *s.Events[i+1].TS == *ev.TS && s.Events[i+1].AID != nil {
				i++
				e.ProductIDs = append(e.ProductIDs, strconv.FormatInt(*s.Events[i].AID, 10))
			}
			orders++
			c = &cart{token: buyer + "-c" + strconv.Itoa(orders)}
		default:
			out.skip("unknown_type")
			continue
		}
		if err := out.add(e); err != nil {
			return err
		}
	}
	return nil
}

package importer

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/signalab/signalab/event"

	"github.com/signalab/signalab/internal/safeio"
)

var rees46Columns = []string{"event_time", "event_type", "product_id", "price", "user_id", "user_session"}

// importREES46 maps REES46 rows to v1 events:
//
//	buyer_id   user_id (or user_session with Options.BuyerFromSession)
//	view     → page_view    product_ids [product_id]
//	cart     → cart_update  running snapshot of the session's cart since its last
//	                        purchase: item_count = cart adds, cart_value_cents = Σ price,
//	                        product_ids = distinct products, cart_token = user_session
//	purchase → order_placed one per (user_session, event_time) group of purchase
//	                        rows (other rows may come between them): order_value_cents = Σ price, order_id
//	                        "<user_session>-<unix s>"; the session's cart is then cleared
//	event_id   "rees46-<line>"            (line of the source row; of its first row for orders)
//	event_time "2019-10-01 00:00:00 UTC" parsed as UTC; price "35.79" → 3579 cents
//	           (exact decimal parsing, no floating point). Other event types
//	           (remove_from_cart in later months) are counted as skipped.
func importREES46(r io.Reader, name string, opts Options, out *emitter) error {
	// One CSV record (quoted line breaks included) is bounded: the limiter
	// is reset after each record.
	lim := &safeio.Limiter{R: r, Max: event.MaxRecordBytes, What: "record"}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1 // a row with another field count is quarantined, not fatal
	header, err := cr.Read()
	lim.Reset()
	if err != nil {
		return fmt.Errorf("import %s: no CSV header (%v); expected %s", name, err, strings.Join(rees46Columns, ","))
	}
	prevLine := 1 // the line of the last record read (for the message of a record too long)
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i
	}
	for _, c := range rees46Columns {
		if _, ok := col[c]; !ok {
			return fmt.Errorf("import %s: header has no %s column; is this a REES46 log (%s)?", name, c, strings.Join(rees46Columns, ","))
		}
	}
	width := len(header)
	carts := map[string]*cart{}
	// Orders being grouped: purchase rows of one session with the same
	// event_time are one order, even when other buyers' rows come between
	// them. The groups are written when a row with another time arrives (the
	// source is sorted by time), in the order they were opened.
	var pending []*event.Event
	pendingBy := map[string]*event.Event{}
	flush := func() error {
		for _, e := range pending {
			if err := out.add(*e); err != nil {
				return err
			}
		}
		pending = pending[:0]
		clear(pendingBy)
		return nil
	}
	stuck := 0
	for {
		rec, err := cr.Read()
		lim.Reset()
		if err == io.EOF {
			return flush()
		}
		if safeio.IsTooLong(err) {
			return fmt.Errorf("import %s: line %d: a CSV record (one row, line breaks inside quotes included) longer than %s; is a quote left open? (docs/limits.md)",
				name, prevLine+1, safeio.Size(event.MaxRecordBytes))
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// Broken quoting: the csv package resumes after the record;
			// guard against a reader that makes no progress.
			if pe.StartLine == prevLine {
				if stuck++; stuck > 3 {
					return fmt.Errorf("import %s: line %d: %v; check the CSV quoting", name, pe.StartLine, err)
				}
			}
			prevLine = pe.StartLine
			out.st.Records++
			if err := out.quarantine(int64(pe.StartLine), "", event.ReasonMalformedRow, nil, "invalid CSV: %v", pe.Err); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("import %s: after line %d: %w", name, prevLine, err)
		}
		line, _ := cr.FieldPos(0)
		prevLine, stuck = line, 0
		if len(rec) == 1 && rec[0] == "" {
			continue // blank line
		}
		out.st.Records++
		get := func(c string) string { return strings.TrimSpace(rec[col[c]]) }
		bad := func(column string, reason event.Reason, format string, args ...any) error {
			return out.quarantine(int64(line), column, reason, csvLine(rec), format, args...)
		}
		if len(rec) != width {
			// A cut-off last line (an interrupted download or head -c)
			// lands here.
			if err := bad("", event.ReasonMalformedRow, "row has %d fields, the header has %d", len(rec), width); err != nil {
				return err
			}
			continue
		}
		if c := invalidUTF8(rec, col); c != "" {
			// The ids become event strings, which readers quarantine
			// as invalid_utf8: refuse them here, at their source line.
			if err := bad(c, event.ReasonInvalidUTF8, "%s holds bytes that are not UTF-8", c); err != nil {
				return err
			}
			continue
		}
		t, err := time.Parse("2006-01-02 15:04:05 MST", get("event_time"))
		if err != nil {
			if err := bad("event_time", event.ReasonBadTimestamp, "event_time %q is not like 2019-10-01 00:00:00 UTC", get("event_time")); err != nil {
				return err
			}
			continue
		}
		price, err := ParseCents(get("price"))
		if err != nil {
			if err := bad("price", event.ReasonBadValue, "price: %v", err); err != nil {
				return err
			}
			continue
		}
		session, user, product := get("user_session"), get("user_id"), get("product_id")
		buyer, buyerCol := user, "user_id"
		if opts.BuyerFromSession {
			buyer, buyerCol = session, "user_session"
		}
		missing := ""
		switch {
		case buyer == "":
			missing = buyerCol
		case product == "":
			missing = "product_id"
		case session == "" && get("event_type") != "view":
			missing = "user_session" // the cart and the order need it
		}
		if missing != "" {
			if err := bad(missing, event.ReasonMissingField, "%s is empty", missing); err != nil {
				return err
			}
			continue
		}
		e := event.Event{
			EventID:   "rees46-" + strconv.Itoa(line),
			EventTime: t.UnixMicro(),
			ShopID:    opts.ShopID,
			BuyerID:   buyer,
		}
		typ := get("event_type")
		if len(pending) > 0 && pending[0].EventTime != e.EventTime {
			if err := flush(); err != nil {
				return err
			}
		}
		switch typ {
		case "view":
			e.Kind = event.KindPageView
			e.ProductIDs = []string{product}
		case "cart":
			c := carts[session]
			if c == nil {
				c = &cart{token: session}
				carts[session] = c
			}
			c.add(product, price)
			e.Kind = event.KindCartUpdate
			e.CartToken = c.token
			e.ItemCount, e.HasItemCount = c.items, true
			e.CartValueCents, e.HasCartValue = c.value, true
			e.ProductIDs = c.snapshot()
		case "purchase":
			delete(carts, session)
			key := buyer + "\x00" + session
			if p := pendingBy[key]; p != nil {
				p.OrderValueCents += price
				p.ProductIDs = append(p.ProductIDs, product)
				continue
			}
			e.Kind = event.KindOrderPlaced
			e.OrderID = session + "-" + strconv.FormatInt(t.Unix(), 10)
			e.OrderValueCents, e.HasOrderValue = price, true
			e.ProductIDs = []string{product}
			pending = append(pending, &e)
			pendingBy[key] = &e
			continue
		default:
			out.skip("event_type_" + typ)
			continue
		}
		if err := out.add(e); err != nil {
			return err
		}
	}
}

// invalidUTF8 returns the first of the columns the import keeps whose
// value in rec is not valid UTF-8, or "".
func invalidUTF8(rec []string, col map[string]int) string {
	for _, c := range rees46Columns {
		if !utf8.ValidString(rec[col[c]]) {
			return c
		}
	}
	return ""
}

// csvLine renders a parsed record back as one CSV line (the raw text of a
// quarantined row).
func csvLine(rec []string) []byte {
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	w.Write(rec)
	w.Flush()
	return []byte(strings.TrimRight(sb.String(), "\n"))
}

// ParseCents parses a non-negative decimal amount with at most two decimals
// ("35.79", "5", "0.5") into integer cents, exactly (no floating point).
func ParseCents(s string) (int64, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && !hasDot || len(frac) > 2 || hasDot && frac == "" {
		return 0, fmt.Errorf("%q is not an amount like 35.79", s)
	}
	if whole == "" {
		whole = "0"
	}
	w, err := strconv.ParseUint(whole, 10, 62)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount like 35.79", s)
	}
	var f uint64
	if frac != "" {
		for len(frac) < 2 {
			frac += "0"
		}
		if f, err = strconv.ParseUint(frac, 10, 8); err != nil {
			return 0, fmt.Errorf("%q is not an amount like 35.79", s)
		}
	}
	return int64(w*100 + f), nil
}

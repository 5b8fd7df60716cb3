package replay

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/signalab/signalab/event"
)

// Order is the order in which a buyer's events reach the signal logic.
type Order int

const (
	// OrderArrival orders a buyer's events by (ingest_time, event_time,
	// event_id): what merchants actually saw. Without ingest_time, arrival
	// is the input position (file, row); see SortBuyerEvents.
	OrderArrival Order = iota
	// OrderEventTime orders them by (event_time, event_id): the ideal pipeline.
	OrderEventTime
)

// String returns the flag value of o: "arrival" or "event-time".
func (o Order) String() string {
	switch o {
	case OrderArrival:
		return "arrival"
	case OrderEventTime:
		return "event-time"
	}
	return fmt.Sprintf("Order(%d)", int(o))
}

// ParseOrder parses a --order flag value.
func ParseOrder(s string) (Order, error) {
	switch strings.ToLower(s) {
	case "arrival", "":
		return OrderArrival, nil
	case "event-time", "event_time", "eventtime":
		return OrderEventTime, nil
	}
	return 0, fmt.Errorf("unknown order %q: want arrival or event-time", s)
}

// SortBuyerEvents sorts one buyer's events into the processing order.
//
// OrderArrival: by (arrival, event_time, event_id, content, file, row),
// where arrival is ingest_time. If none of the events has ingest_time,
// arrival is the input position (file, row) alone. If only some have it, an
// event without one takes its event_time as arrival time.
//
// OrderEventTime: by (event_time, event_id, ingest_time, content, file, row).
//
// Content is CompareContent: conflicting redeliveries (same id and times,
// other values) are ordered by their values, and the trailing (file, row)
// only separate events identical in every column (exact redeliveries,
// interchangeable), so the result does not depend on the input's row order
// or split into files unless a log has no ingest_time at all. The sort is
// in place.
func SortBuyerEvents(events []event.Event, order Order) {
	if len(events) < 2 {
		return
	}
	cmp := buyerCmp(events, order)
	slices.SortFunc(events, func(a, b event.Event) int { return cmp(&a, &b) })
}

// Compare is the processing order of two events of one buyer for a source
// that delivers them one at a time (Buyer.Feed): under OrderArrival by
// (arrival, event_time, event_id, content, file, row), where arrival is
// ingest_time, or event_time for an event without one; under
// OrderEventTime by (event_time, event_id, arrival, content, file, row);
// content is CompareContent. It is SortBuyerEvents' order
// for every buyer with at least one ingest_time (a buyer without any is
// ordered by input position alone, which a stream does not have).
func (o Order) Compare(a, b *event.Event) int {
	if o == OrderEventTime {
		return cmpEventTime(a, b)
	}
	return cmpArrival(a, b)
}

// buyerCmp returns the comparison of the processing order for events.
func buyerCmp(events []event.Event, order Order) func(a, b *event.Event) int {
	if order == OrderEventTime {
		return cmpEventTime
	}
	for i := range events {
		if events[i].HasIngestTime {
			return cmpArrival
		}
	}
	return cmpPosition
}

func arrivalTime(e *event.Event) int64 {
	if e.HasIngestTime {
		return e.IngestTime
	}
	return e.EventTime
}

func cmpPosition(a, b *event.Event) int {
	if c := cmp.Compare(a.File, b.File); c != 0 {
		return c
	}
	return cmp.Compare(a.Row, b.Row)
}

func cmpArrival(a, b *event.Event) int {
	if c := cmp.Compare(arrivalTime(a), arrivalTime(b)); c != 0 {
		return c
	}
	if c := cmp.Compare(a.EventTime, b.EventTime); c != 0 {
		return c
	}
	if c := strings.Compare(a.EventID, b.EventID); c != 0 {
		return c
	}
	if c := CompareContent(a, b); c != 0 {
		return c
	}
	return cmpPosition(a, b)
}

func cmpEventTime(a, b *event.Event) int {
	if c := cmp.Compare(a.EventTime, b.EventTime); c != 0 {
		return c
	}
	if c := strings.Compare(a.EventID, b.EventID); c != 0 {
		return c
	}
	if c := cmp.Compare(arrivalTime(a), arrivalTime(b)); c != 0 {
		return c
	}
	if c := CompareContent(a, b); c != 0 {
		return c
	}
	return cmpPosition(a, b)
}

// CompareContent is a total order over the columns the signal logic reads
// that the processing order's time and id keys leave out: kind, shop_id,
// buyer_id, conversation_id, channel, sender, cart_token, item_count,
// cart_value_cents, product_ids (of cart_update events, the only ones whose
// products the logic reads), order_id, order_value_cents, and whether
// ingest_time is present (absent first; numbers: absent first, then by
// value; strings and product lists lexicographically). It decides which of
// two conflicting redeliveries (same event_id, ingest_time and event_time,
// other content) the logic sees first (and so keeps; the other is a
// duplicate), so the survivor does not depend on the input's row order or
// file split, and every engine picks the same one. Columns the logic does
// not read (currency, products of other kinds) are left out, so that an
// event and its wire.View compare alike.
func CompareContent(a, b *event.Event) int {
	products := 0
	if a.Kind == event.KindCartUpdate && b.Kind == event.KindCartUpdate {
		products = slices.Compare(a.ProductIDs, b.ProductIDs)
	}
	for _, c := range [...]int{
		strings.Compare(string(a.Kind), string(b.Kind)),
		strings.Compare(a.ShopID, b.ShopID),
		strings.Compare(a.BuyerID, b.BuyerID),
		strings.Compare(a.ConversationID, b.ConversationID),
		strings.Compare(a.Channel, b.Channel),
		strings.Compare(a.Sender, b.Sender),
		strings.Compare(a.CartToken, b.CartToken),
		cmpOpt(int64(a.ItemCount), a.HasItemCount, int64(b.ItemCount), b.HasItemCount),
		cmpOpt(a.CartValueCents, a.HasCartValue, b.CartValueCents, b.HasCartValue),
		products,
		strings.Compare(a.OrderID, b.OrderID),
		cmpOpt(a.OrderValueCents, a.HasOrderValue, b.OrderValueCents, b.HasOrderValue),
		cmpBool(a.HasIngestTime, b.HasIngestTime),
	} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// cmpOpt orders optional numbers: absent first, then by value.
func cmpOpt(a int64, hasA bool, b int64, hasB bool) int {
	if c := cmpBool(hasA, hasB); c != 0 || !hasA {
		return c
	}
	return cmp.Compare(a, b)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

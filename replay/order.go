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
// OrderArrival: by (arrival, event_time, event_id, file, row), where arrival
// is ingest_time. If none of the events has ingest_time, arrival is the input
// position (file, row) alone. If only some have it, an event without one
// takes its event_time as arrival time.
//
// OrderEventTime: by (event_time, event_id, ingest_time, file, row).
//
// The trailing (file, row) only separate events identical in every other key
// (exact redeliveries), so the result does not depend on how the input was
// split into files unless a log has no ingest_time at all. The sort is in
// place.
func SortBuyerEvents(events []event.Event, order Order) {
	if len(events) < 2 {
		return
	}
	cmp := buyerCmp(events, order)
	slices.SortFunc(events, func(a, b event.Event) int { return cmp(&a, &b) })
}

// Compare is the processing order of two events of one buyer for a source
// that delivers them one at a time (Buyer.Feed): under OrderArrival by
// (arrival, event_time, event_id, file, row), where arrival is ingest_time,
// or event_time for an event without one; under OrderEventTime by
// (event_time, event_id, arrival, file, row). It is SortBuyerEvents' order
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
	return cmpPosition(a, b)
}

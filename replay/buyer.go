package replay

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
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

// BuyerResult is what the signal logic produced for one buyer.
type BuyerResult struct {
	Signals       []signal.Signal
	Conversations []signal.Conversation
	Orders        []signal.Order
	Counts        Counts
}

// ProcessBuyer runs one buyer's events through the signal logic and returns
// its signals, conversations, orders and counts. Events are processed in
// the order of SortBuyerEvents (the slice itself is left as it is). All events must have the same (shop_id,
// buyer_id); the key of the first one is used. Watermark lag and time range
// statistics are included in Counts; Read and Quarantined are left to the
// reader (they count rows, not buyers' events).
func ProcessBuyer(params signal.Params, order Order, events []event.Event) BuyerResult {
	var out signal.Output
	var c Counts
	processBuyer(params, order, events, &out, &c)
	return BuyerResult{Signals: out.Signals, Conversations: out.Conversations, Orders: out.Orders, Counts: c}
}

// processBuyer is ProcessBuyer appending rows to out and adding counts to c,
// so the embedded engine can reuse buffers across buyers.
func processBuyer(params signal.Params, order Order, events []event.Event, out *signal.Output, c *Counts) {
	var sc buyerScratch
	processBuyerOrdered(params, order, events, &sc, out, c)
}

// buyerScratch is memory processBuyerOrdered reuses from one buyer to the
// next: the pointers it orders and the signal.Buyer (see Buyer.Reset).
type buyerScratch struct {
	ptrs  []*event.Event
	buyer *signal.Buyer
}

// processBuyerOrdered runs events in the processing order without moving
// them: it orders pointers (in sc, reused with its Buyer), which is
// cheaper than sorting the events themselves, and skips sorting when the
// events are already in order (the common case for logs written in arrival
// order).
func processBuyerOrdered(params signal.Params, order Order, events []event.Event, sc *buyerScratch, out *signal.Output, c *Counts) {
	if len(events) == 0 {
		return
	}
	cmp := buyerCmp(events, order)
	ptrs := sc.ptrs[:0]
	for i := range events {
		ptrs = append(ptrs, &events[i])
	}
	sorted := true
	for i := 1; i < len(ptrs); i++ {
		if cmp(ptrs[i-1], ptrs[i]) > 0 {
			sorted = false
			break
		}
	}
	if !sorted {
		slices.SortFunc(ptrs, cmp)
	}
	out.Counts = signal.Counts{}
	b := sc.buyer
	if b == nil || b.Params() != params {
		b = signal.NewBuyer(events[0].Key(), params)
		sc.buyer = b
	} else {
		b.Reset(events[0].Key())
	}
	for _, e := range ptrs {
		c.observe(e)
		b.Apply(e, out)
	}
	b.Finish(out)
	c.Signal.Add(out.Counts)
	out.Counts = signal.Counts{}
	clear(ptrs)
	sc.ptrs = ptrs[:0]
}

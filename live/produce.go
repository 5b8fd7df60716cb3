package live

import (
	"cmp"
	"container/heap"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
)

// ArrivalOrder reorders events (in place) into the order in which a
// pipeline would have received them: each buyer's events in the replay's
// arrival order (replay.SortBuyerEvents), buyers interleaved by arrival time
// (ingest_time, or event_time without one). Consumed partition by
// partition, such a log gives every buyer its events in exactly the order
// `signalab replay --order arrival` processes them.
func ArrivalOrder(events []event.Event) {
	// Group by buyer, keeping the input order within a buyer.
	slices.SortStableFunc(events, func(a, b event.Event) int {
		if c := strings.Compare(a.ShopID, b.ShopID); c != 0 {
			return c
		}
		return strings.Compare(a.BuyerID, b.BuyerID)
	})
	var runs mergeHeap
	for lo := 0; lo < len(events); {
		hi := lo + 1
		for hi < len(events) && events[hi].ShopID == events[lo].ShopID && events[hi].BuyerID == events[lo].BuyerID {
			hi++
		}
		replay.SortBuyerEvents(events[lo:hi], replay.OrderArrival)
		runs = append(runs, mergeRun{ev: events[lo:hi]})
		lo = hi
	}
	heap.Init(&runs)
	out := make([]event.Event, 0, len(events))
	for len(runs) > 0 {
		r := &runs[0]
		out = append(out, r.ev[0])
		r.ev = r.ev[1:]
		if len(r.ev) == 0 {
			heap.Pop(&runs)
		} else {
			heap.Fix(&runs, 0)
		}
	}
	copy(events, out)
}

type mergeRun struct{ ev []event.Event }

type mergeHeap []mergeRun

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	a, b := &h[i].ev[0], &h[j].ev[0]
	if c := cmp.Compare(arrival(a), arrival(b)); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(a.EventTime, b.EventTime); c != 0 {
		return c < 0
	}
	if c := strings.Compare(a.EventID, b.EventID); c != 0 {
		return c < 0
	}
	if c := cmp.Compare(a.File, b.File); c != 0 {
		return c < 0
	}
	return a.Row < b.Row
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeRun)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ProduceStats says what Produce wrote.
type ProduceStats struct {
	Events      int `json:"events"`
	Quarantined int `json:"quarantined"`
	// Reinterpreted counts bad rows whose text, read back as a JSON record,
	// is not quarantined for the same reason (rows of CSV or Parquet
	// files): live mode will count them differently from replay.
	Reinterpreted int `json:"reinterpreted"`
}

// Produce writes events to topic, one JSON object per record (the JSON Lines
// form of event.AppendJSON) keyed shop_id/buyer_id, in the order given (use
// ArrivalOrder first), then each row the reader quarantined as its raw text
// with no key, so that live mode quarantines it too. It returns when every
// record is acknowledged.
func Produce(ctx context.Context, cl *kgo.Client, topic string, events []event.Event, bad []event.Quarantined) (ProduceStats, error) {
	var st ProduceStats
	var mu sync.Mutex
	var first error
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if first == nil {
				first = fmt.Errorf("produce to %s: %w", topic, err)
			}
			mu.Unlock()
		}
	}
	for i := range events {
		e := &events[i]
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: BuyerRecordKey(e.Key()), Value: event.AppendJSON(nil, e)}, promise)
		st.Events++
	}
	for _, q := range bad {
		var e event.Event
		if p := event.ParseJSONEvent([]byte(q.Raw), &e); p == nil || p.Reason != q.Reason {
			st.Reinterpreted++
		}
		cl.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(q.Raw)}, promise)
		st.Quarantined++
	}
	if err := cl.Flush(ctx); err != nil {
		return st, fmt.Errorf("produce to %s: %w", topic, err)
	}
	mu.Lock()
	defer mu.Unlock()
	return st, first
}

package signal

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/signalab/signalab/event"
)

// DropReason is why the logic dropped an event without using it.
type DropReason uint8

// Drop reasons. Every event applied to a Buyer is either accepted or dropped
// for exactly one of these reasons.
const (
	// DropDuplicate: the event_id was already seen for this buyer within
	// dedupe_window (rule 1, an at-least-once redelivery).
	DropDuplicate DropReason = iota
	// DropLate: ingest_time − event_time > max_out_of_orderness +
	// allowed_lateness (rule 2).
	DropLate
	// DropStale: a cart_update not newer than the stored snapshot (rule 3).
	DropStale
	// DropDuplicateOrder: an order_placed whose order_id is already recorded
	// under another event_id (rule 5).
	DropDuplicateOrder
	// DropInvalid: an event the logic cannot use (unknown kind, or a
	// conversation event without conversation_id). The readers quarantine
	// such rows, so this is zero when events come through event/.
	DropInvalid

	NumDropReasons = iota
)

var dropNames = [NumDropReasons]string{"duplicate", "late", "stale", "duplicate_order", "invalid"}

// String returns the reason as written in replay.json.
func (r DropReason) String() string {
	if int(r) < len(dropNames) {
		return dropNames[r]
	}
	return fmt.Sprintf("DropReason(%d)", r)
}

// NumKinds is the number of event kinds of schema v1.
const NumKinds = 7

// KindIndex returns the position of k in event.Kinds, or -1 for an unknown kind.
func KindIndex(k event.Kind) int {
	switch k {
	case event.KindPageView:
		return 0
	case event.KindCartUpdate:
		return 1
	case event.KindCheckoutStarted:
		return 2
	case event.KindOrderPlaced:
		return 3
	case event.KindConversationStarted:
		return 4
	case event.KindMessage:
		return 5
	case event.KindConversationClosed:
		return 6
	}
	return -1
}

// SignalKinds lists the signal kinds in a fixed order (the index of Counts.Signals).
var SignalKinds = [NumSignalKinds]string{KindBuyerContext, KindCartAction, KindCheckoutStarted, KindOrderCompleted}

// NumSignalKinds is the number of signal kinds.
const NumSignalKinds = 4

func signalKindIndex(k string) int {
	for i, s := range SignalKinds {
		if s == k {
			return i
		}
	}
	return -1
}

// Counts are the signal logic's tallies. They are additive: counts of
// disjoint sets of buyers merge with Add, in any order.
type Counts struct {
	// Applied is the number of events given to Apply.
	Applied int64
	// Accepted is the number of events not dropped.
	Accepted int64
	// AcceptedByKind counts accepted events per kind, indexed as event.Kinds.
	AcceptedByKind [NumKinds]int64
	// Dropped counts dropped events per DropReason.
	Dropped [NumDropReasons]int64
	// Signals counts emitted signals per kind, indexed as SignalKinds.
	Signals [NumSignalKinds]int64
	// CartActions counts cart_action signals per action: added, removed, changed.
	CartActions [3]int64
	// Conversations is the number of conversation rows written.
	Conversations int64
	// Triggered is the number of those rows with triggered = true.
	Triggered int64
	// ImplicitStarts counts conversations whose first event was a message or
	// conversation_closed rather than conversation_started (see docs/signals.md).
	ImplicitStarts int64
	// Orders is the number of de-duplicated orders recorded.
	Orders int64
	// Expiries counts buyer states dropped after state_ttl without events.
	Expiries int64
}

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	c.Applied += o.Applied
	c.Accepted += o.Accepted
	for i := range c.AcceptedByKind {
		c.AcceptedByKind[i] += o.AcceptedByKind[i]
	}
	for i := range c.Dropped {
		c.Dropped[i] += o.Dropped[i]
	}
	for i := range c.Signals {
		c.Signals[i] += o.Signals[i]
	}
	for i := range c.CartActions {
		c.CartActions[i] += o.CartActions[i]
	}
	c.Conversations += o.Conversations
	c.Triggered += o.Triggered
	c.ImplicitStarts += o.ImplicitStarts
	c.Orders += o.Orders
	c.Expiries += o.Expiries
}

// SignalTotal is the number of signals of every kind.
func (c *Counts) SignalTotal() int64 {
	var n int64
	for _, v := range c.Signals {
		n += v
	}
	return n
}

// countsJSON is the JSON form of Counts: maps keyed by names so that the
// files are readable and diffs name what changed.
type countsJSON struct {
	Applied        int64            `json:"applied"`
	Accepted       int64            `json:"accepted"`
	AcceptedByKind map[string]int64 `json:"accepted_by_kind"`
	Dropped        map[string]int64 `json:"dropped"`
	Signals        map[string]int64 `json:"signals"`
	CartActions    map[string]int64 `json:"cart_actions"`
	Conversations  int64            `json:"conversations"`
	Triggered      int64            `json:"triggered"`
	ImplicitStarts int64            `json:"implicit_starts"`
	Orders         int64            `json:"orders"`
	Expiries       int64            `json:"expiries"`
}

var cartActionNames = [3]string{ActionAdded, ActionRemoved, ActionChanged}

// MarshalJSON writes the counts with named keys (every key present, zeros included).
func (c Counts) MarshalJSON() ([]byte, error) {
	j := countsJSON{
		Applied: c.Applied, Accepted: c.Accepted,
		AcceptedByKind: map[string]int64{}, Dropped: map[string]int64{},
		Signals: map[string]int64{}, CartActions: map[string]int64{},
		Conversations: c.Conversations, Triggered: c.Triggered,
		ImplicitStarts: c.ImplicitStarts, Orders: c.Orders, Expiries: c.Expiries,
	}
	for i, k := range event.Kinds {
		j.AcceptedByKind[string(k)] = c.AcceptedByKind[i]
	}
	for i := range c.Dropped {
		j.Dropped[DropReason(i).String()] = c.Dropped[i]
	}
	for i, k := range SignalKinds {
		j.Signals[k] = c.Signals[i]
	}
	for i, k := range cartActionNames {
		j.CartActions[k] = c.CartActions[i]
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes. Unknown names are an error.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var j countsJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*c = Counts{Applied: j.Applied, Accepted: j.Accepted, Conversations: j.Conversations,
		Triggered: j.Triggered, ImplicitStarts: j.ImplicitStarts, Orders: j.Orders, Expiries: j.Expiries}
	for k, v := range j.AcceptedByKind {
		i := KindIndex(event.Kind(k))
		if i < 0 {
			return fmt.Errorf("counts: accepted_by_kind: unknown kind %q", k)
		}
		c.AcceptedByKind[i] = v
	}
	for k, v := range j.Dropped {
		i := slices.Index(dropNames[:], k)
		if i < 0 {
			return fmt.Errorf("counts: dropped: unknown reason %q", k)
		}
		c.Dropped[i] = v
	}
	for k, v := range j.Signals {
		i := signalKindIndex(k)
		if i < 0 {
			return fmt.Errorf("counts: signals: unknown kind %q", k)
		}
		c.Signals[i] = v
	}
	for k, v := range j.CartActions {
		i := slices.Index(cartActionNames[:], k)
		if i < 0 {
			return fmt.Errorf("counts: cart_actions: unknown action %q", k)
		}
		c.CartActions[i] = v
	}
	return nil
}

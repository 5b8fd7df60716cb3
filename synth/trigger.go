package synth

import (
	"slices"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
)

// TriggerDefinition is the trigger definition recorded in truth.json. It is
// the team decision of docs/decisions.md.
const TriggerDefinition = "A conversation is triggered when the merchant is shown at least one signal of kind " +
	"buyer_context, cart_action or checkout_started while it is active (order_completed does not count: it is the outcome). " +
	"With the signal rules of docs/design.md: at conversation start the buyer has a live cart with items updated within " +
	"cart_lookback or an order within order_lookback (buyer_context); or, while the conversation is active (started, not " +
	"closed, last activity within conversation_inactivity), the buyer's cart snapshot changes (cart_action) or the buyer " +
	"starts a checkout of a cart token not yet signalled to it (checkout_started). The generator evaluates this on each " +
	"buyer's events in event-time order (event_time, event_id), after dropping events beyond the lateness bound, and with " +
	"buyer state expiring after state_ttl without events: what `signalab replay --order event-time` computes."

// triggerState mirrors the parts of the per-buyer signal state (docs/design.md
// "Signal logic (v1)") that decide whether a conversation is triggered. It is
// an independent implementation on purpose: the replay is tested against it.
// Events must come in event-time order and exclude late events and
// duplicates.
type triggerState struct {
	clock    int64
	hasClock bool

	cartKnown bool
	cartTime  int64
	cartLive  bool
	cartItems int32
	cartValue int64
	cartProds []int // sorted product indices (the product set)

	lastOrder    int64
	hasLastOrder bool

	convs []*convMirror // known conversations that may still be active
}

// convMirror is the trigger-relevant state of one conversation.
type convMirror struct {
	id           string
	lastActivity int64
	closedAt     int64
	hasClosed    bool
	checkouts    []string
	triggered    bool
	visible      bool // at least one of its events was accepted
}

func (c *convMirror) closed() bool { return c.hasClosed && c.closedAt >= c.lastActivity }

func (c *convMirror) activeAt(t int64, p *signal.Params) bool {
	return !c.closed() && t-c.lastActivity <= p.ConversationInactivity.Microseconds()
}

// apply runs one accepted event. products is the event's product set as
// sorted indices (cart_update only); conv is the generator's conversation
// for conversation events.
func (s *triggerState) apply(e *event.Event, products []int, conv *convMirror, p *signal.Params) {
	t := e.EventTime
	if s.hasClock && t-s.clock > p.StateTTL.Microseconds() {
		*s = triggerState{} // rule 8: expiry drops cart, orders and conversations
	}
	switch e.Kind {
	case event.KindCartUpdate:
		if s.cartKnown && t <= s.cartTime {
			return // stale: not accepted, the clock does not move
		}
		changed := !s.cartLive || e.ItemCount != s.cartItems || e.CartValueCents != s.cartValue ||
			!slices.Equal(products, s.cartProds)
		if !s.cartLive && e.ItemCount == 0 && e.CartValueCents == 0 && len(products) == 0 {
			changed = false
		}
		s.cartKnown, s.cartTime, s.cartLive = true, t, true
		s.cartItems, s.cartValue = e.ItemCount, e.CartValueCents
		s.cartProds = append(s.cartProds[:0], products...)
		if changed && e.CartValueCents >= p.MinCartValueCents {
			s.triggerActive(t, p)
		}
	case event.KindCheckoutStarted:
		if !e.HasCartValue || e.CartValueCents >= p.MinCartValueCents {
			for _, c := range s.convs {
				if c.activeAt(t, p) && !slices.Contains(c.checkouts, e.CartToken) {
					c.checkouts = append(c.checkouts, e.CartToken)
					c.triggered = true
				}
			}
		}
	case event.KindOrderPlaced:
		s.lastOrder, s.hasLastOrder = t, true
		s.cartLive, s.cartItems, s.cartValue, s.cartProds = false, 0, 0, s.cartProds[:0]
		if !s.cartKnown || t > s.cartTime {
			s.cartKnown, s.cartTime = true, t
		}
	case event.KindConversationStarted, event.KindMessage:
		if !conv.visible {
			s.start(conv, t, true, p)
			break
		}
		if !slices.Contains(s.convs, conv) {
			s.convs = append(s.convs, conv) // pruned while idle: a message revives it
		}
		if t > conv.lastActivity {
			conv.lastActivity = t
		}
	case event.KindConversationClosed:
		if !conv.visible {
			s.start(conv, t, false, p)
		}
		if !conv.hasClosed || t > conv.closedAt {
			conv.closedAt, conv.hasClosed = t, true
		}
	}
	if !s.hasClock || t > s.clock {
		s.clock, s.hasClock = t, true
	}
	s.prune(p)
}

// start makes conv known at t; with context it is triggered when the buyer
// has a live cart with items of at least min_cart_value_cents updated within
// cart_lookback, or an order in [t − order_lookback, t).
func (s *triggerState) start(conv *convMirror, t int64, context bool, p *signal.Params) {
	conv.visible = true
	conv.lastActivity = t
	s.convs = append(s.convs, conv)
	if !context {
		return
	}
	cart := s.cartLive && s.cartItems > 0 && t-s.cartTime <= p.CartLookback.Microseconds() &&
		s.cartValue >= p.MinCartValueCents
	order := s.hasLastOrder && s.lastOrder < t && t-s.lastOrder <= p.OrderLookback.Microseconds()
	if cart || order {
		conv.triggered = true
	}
}

func (s *triggerState) triggerActive(t int64, p *signal.Params) {
	for _, c := range s.convs {
		if c.activeAt(t, p) {
			c.triggered = true
		}
	}
}

// prune forgets conversations that can no longer be active: closed ones, and
// idle ones whose inactivity has passed at the current clock.
func (s *triggerState) prune(p *signal.Params) {
	s.convs = slices.DeleteFunc(s.convs, func(c *convMirror) bool {
		return c.closed() || s.clock-c.lastActivity > p.ConversationInactivity.Microseconds()
	})
}

// openUntil returns the latest time at which a known, unclosed conversation
// is still active, and whether there is one.
func (s *triggerState) openUntil(p *signal.Params) (int64, bool) {
	var until int64
	open := false
	for _, c := range s.convs {
		if !c.closed() {
			u := c.lastActivity + p.ConversationInactivity.Microseconds()
			if !open || u > until {
				until, open = u, true
			}
		}
	}
	return until, open
}

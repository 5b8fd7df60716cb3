package signal

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"math/bits"
	"slices"

	"github.com/signalab/signalab/event"
)

// Output collects what a Buyer emits. Apply and Finish append to it; the
// caller owns it and may reset it (Reset) between calls to reuse its memory.
// Rows are appended in processing order; the replay sorts them for output.
type Output struct {
	Signals       []Signal
	Conversations []Conversation
	Orders        []Order
	Counts        Counts
}

// Reset empties o, keeping its allocated memory.
func (o *Output) Reset() {
	o.Signals = o.Signals[:0]
	o.Conversations = o.Conversations[:0]
	o.Orders = o.Orders[:0]
	o.Counts = Counts{}
}

// Buyer is the signal state of one buyer (shop_id, buyer_id): a pure,
// deterministic state machine implementing docs/design.md "Signal logic (v1)"
// with the decisions of docs/signals.md. Give it the buyer's events one at a
// time in the processing order (arrival or event time, see replay.Order) with
// Apply, then call Finish at the end of input.
//
// A Buyer does no I/O, keeps no clock of its own (time is the events'
// event_time) and is not safe for concurrent use; distinct Buyers are
// independent. Its state survives MarshalBinary / UnmarshalBinary, so a
// real-time consumer can checkpoint it between events.
type Buyer struct {
	key event.BuyerKey
	p   Params
	st  state
	// prods are two product-set buffers: the cart's set is nil, a fresh
	// slice (restored state) or prods[cur], so cartUpdate builds the next
	// set in prods[1-cur] and no changed cart costs an allocation.
	prods [2][]string
	cur   int
	// eff gathers the Effect of the event being applied.
	eff Effect
}

// state is everything a Buyer remembers. Times are µs since epoch, UTC.
type state struct {
	// Clock is the largest event_time of the accepted events; HasClock is
	// false before the first one and after expiry.
	Clock    int64
	HasClock bool
	// Seen is the dedupe memory: event ids and their event_time, pruned to
	// those within DedupeWindow of Clock.
	Seen []seenID
	// Cart is the last cart snapshot.
	Cart cartSnapshot
	// Orders are the recorded orders, in processing order, pruned to those
	// within max(OrderLookback, DedupeWindow) of Clock.
	Orders []orderRecord
	// Convs are the buyer's conversations sorted by conversation_id, kept
	// until Finish or expiry so that one conversation is one row.
	Convs []*conversation

	seenIdx map[string]int64 // index of Seen once it is large; rebuilt on restore
	seenMin int64            // smallest Time in Seen (meaningful when Seen is not empty)
}

type seenID struct {
	ID   string `json:"id"`
	Time int64  `json:"t"`
	tag  uint64 // idTag(ID): compared before the id itself
}

// idTag is a cheap summary of an event id (its length and its first and
// last eight bytes): ids with different tags differ, so the dedupe scan
// compares whole ids only when their tags are equal. Scanning the memory
// compared every id of equal length byte by byte (generated ids are short
// and mostly of one length), 0.2 CPU-s of a 10M-event replay.
func idTag(id string) uint64 {
	n := len(id)
	if n < 8 {
		var w uint64
		for i := 0; i < n; i++ {
			w |= uint64(id[i]) << (8 * i)
		}
		return w ^ uint64(n)<<59
	}
	return load64(id) ^ bits.RotateLeft64(load64(id[n-8:]), 31) ^ uint64(n)*0x9e3779b97f4a7c15
}

// load64 reads the first eight bytes of s, little endian.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

type cartSnapshot struct {
	// Time is the event_time of the last snapshot or of the order that
	// cleared it; updates not newer than Time are stale. Known is false
	// before the first snapshot.
	Time  int64 `json:"time"`
	Known bool  `json:"known"`
	// Live is false when there is no cart (never one, or cleared by an order).
	Live     bool     `json:"live"`
	Token    string   `json:"token,omitempty"`
	Items    int32    `json:"items"`
	Value    int64    `json:"value"`
	Products []string `json:"products,omitempty"` // sorted, unique
}

type orderRecord struct {
	ID    string `json:"id"`
	Time  int64  `json:"t"`
	Value int64  `json:"value"`
}

type conversation struct {
	Row          Conversation `json:"row"`
	LastActivity int64        `json:"last_activity"`
	// ClosedAt is the latest conversation_closed event_time; the
	// conversation is closed when HasClosed and ClosedAt >= LastActivity.
	ClosedAt  int64    `json:"closed_at"`
	HasClosed bool     `json:"has_closed"`
	Checkouts []string `json:"checkouts,omitempty"` // cart tokens already signalled
}

// NewBuyer returns the empty state of buyer key under parameters p.
func NewBuyer(key event.BuyerKey, p Params) *Buyer {
	return &Buyer{key: key, p: p}
}

// Reset makes b the empty state of buyer key, as NewBuyer(key, p) would
// with b's parameters, but keeps the memory of its dedupe, order and
// conversation lists for reuse. An engine running many buyers one after
// the other can so use one Buyer for all of them.
func (b *Buyer) Reset(key event.BuyerKey) {
	st := &b.st
	clear(st.Seen)
	clear(st.Orders)
	clear(st.Convs)
	for _, p := range b.prods {
		clear(p[:cap(p)]) // their strings may point into the caller's buffers
	}
	// The dedupe index is dropped rather than cleared: clearing a map costs
	// its capacity, and few buyers need one.
	*st = state{Seen: st.Seen[:0], Orders: st.Orders[:0], Convs: st.Convs[:0]}
	b.key = key
}

// Params returns the parameters b runs under.
func (b *Buyer) Params() Params { return b.p }

// Key returns the buyer's key.
func (b *Buyer) Key() event.BuyerKey { return b.key }

// Empty reports whether the buyer has no state (new, or expired).
func (b *Buyer) Empty() bool {
	return !b.st.HasClock && len(b.st.Seen) == 0 && len(b.st.Convs) == 0
}

// Clock returns the largest event_time of the accepted events and whether
// there is one.
func (b *Buyer) Clock() (int64, bool) { return b.st.Clock, b.st.HasClock }

// Expired reports whether, at event time now, the state has had no event
// for longer than StateTTL (rule 8) and would be dropped by the next event.
func (b *Buyer) Expired(now int64) bool {
	return b.st.HasClock && now-b.st.Clock > b.p.StateTTL.Microseconds()
}

// Settle is the timer of a consumer that sees events one at a time (a
// stream). lowest is a lower bound on the event_time of every event still
// to come that is neither a duplicate (rule 1) nor late (rule 2). When
// lowest − clock > state_ttl, each such event will expire the state (rule
// 8) before it is applied, and duplicates and late events change nothing
// but the dedupe memory, so nothing still to come can change the buyer's
// conversations: Settle writes their rows to out and forgets the cart and
// the orders now, and keeps the clock and the dedupe memory, which the
// events to come still consult (a redelivery is still a duplicate, and the
// next accepted event still counts the expiry). Apply, Finish and the counts
// then give exactly what they give without Settle. It reports whether it
// settled anything. A clock before the epoch (negative) is never settled,
// so that the test above cannot overflow.
func (b *Buyer) Settle(lowest int64, out *Output) bool {
	c := b.st.Clock
	if !b.st.HasClock || c < 0 || lowest <= c || lowest-c <= b.p.StateTTL.Microseconds() || b.Settled() {
		return false
	}
	b.flushConversations(out)
	b.st.Cart = cartSnapshot{}
	clear(b.st.Orders)
	b.st.Orders = b.st.Orders[:0]
	return true
}

// Settled reports whether b holds nothing but its clock and dedupe memory:
// no conversation, cart or order, so that Finish would write nothing.
func (b *Buyer) Settled() bool {
	return len(b.st.Convs) == 0 && !b.st.Cart.Known && len(b.st.Orders) == 0
}

// Effect says what applying one event did, for a caller that summarises a
// buyer's activity (the replay's sessions): whether the event was accepted,
// whether it showed a triggering signal or would have shown one had a
// conversation been open (Trigger), and whether it started a conversation.
type Effect uint8

const (
	// EffectAccepted: the event was accepted (not dropped as invalid,
	// duplicate, late, stale or a duplicate order).
	EffectAccepted Effect = 1 << iota
	// EffectTrigger: the event showed a triggering signal (buyer_context,
	// cart_action or checkout_started) to at least one conversation, or is
	// a cart change or checkout for which the logic would have shown one to
	// an open conversation (the same rules: a changed snapshot, not stale,
	// at least min_cart_value_cents).
	EffectTrigger
	// EffectConversation: the event started a conversation (a new row;
	// explicitly or implicitly).
	EffectConversation
)

// Apply runs one event through the logic. Events must be the buyer's (same
// key) and come in the processing order. Signals, de-duplicated orders and
// conversations of expired state are appended to out, and out.Counts updated.
// It returns what the event did (Effect).
func (b *Buyer) Apply(e *event.Event, out *Output) Effect {
	b.eff = 0
	c := &out.Counts
	c.Applied++
	ki := KindIndex(e.Kind)
	if ki < 0 || (e.Kind.IsConversation() && e.ConversationID == "") {
		c.Dropped[DropInvalid]++
		return 0
	}
	// Rule 1: duplicates, within dedupe_window of the buyer's clock.
	b.pruneSeen()
	tag := idTag(e.EventID)
	if b.seen(e.EventID, tag) {
		c.Dropped[DropDuplicate]++
		return 0
	}
	// Rule 2: late, by the one-event rule.
	if e.HasIngestTime && e.IngestTime-e.EventTime > b.p.MaxOutOfOrderness.Microseconds()+b.p.AllowedLateness.Microseconds() {
		b.remember(e.EventID, tag, e.EventTime)
		c.Dropped[DropLate]++
		return 0
	}
	// Rule 8: expiry after state_ttl without events.
	if b.Expired(e.EventTime) {
		b.expire(out)
	}
	b.remember(e.EventID, tag, e.EventTime)

	var drop DropReason = NumDropReasons
	switch e.Kind {
	case event.KindCartUpdate:
		drop = b.cartUpdate(e, out)
	case event.KindCheckoutStarted:
		b.checkout(e, out)
	case event.KindOrderPlaced:
		drop = b.order(e, out)
	case event.KindConversationStarted:
		b.conversationStarted(e, out)
	case event.KindMessage:
		b.message(e, out)
	case event.KindConversationClosed:
		b.conversationClosed(e, out)
	}
	if drop != NumDropReasons {
		c.Dropped[drop]++
		return 0
	}
	c.Accepted++
	c.AcceptedByKind[ki]++
	if !b.st.HasClock || e.EventTime > b.st.Clock {
		b.st.Clock, b.st.HasClock = e.EventTime, true
	}
	b.pruneOrders()
	return b.eff | EffectAccepted
}

// Finish flushes the buyer's conversations to out at the end of input. The
// cart, order and dedupe memory stay, so more events may follow, but
// conversations seen again after Finish start new rows.
func (b *Buyer) Finish(out *Output) {
	b.flushConversations(out)
}

// Conversations appends to dst the rows Finish would write now, in
// conversation_id order, without flushing them: what a real-time consumer
// shows (and upserts) while the conversations may still change.
func (b *Buyer) Conversations(dst []Conversation) []Conversation {
	for _, cv := range b.st.Convs {
		dst = append(dst, cv.rowNow())
	}
	return dst
}

// rowNow is the conversation's row as of now.
func (cv *conversation) rowNow() Conversation {
	row := cv.Row
	row.LastActivityAt = cv.LastActivity
	if cv.closed() {
		t := cv.ClosedAt
		row.ClosedAt = &t
	}
	return row
}

func (b *Buyer) flushConversations(out *Output) {
	for _, cv := range b.st.Convs {
		row := cv.rowNow()
		out.Conversations = append(out.Conversations, row)
		out.Counts.Conversations++
		if row.Triggered {
			out.Counts.Triggered++
		}
	}
	b.st.Convs = b.st.Convs[:0]
}

// expire flushes the conversations and forgets the state (rule 8),
// keeping the memory of its lists for the state to come, as Reset does.
func (b *Buyer) expire(out *Output) {
	b.flushConversations(out)
	b.Reset(b.key)
	out.Counts.Expiries++
}

// ---- dedupe memory ----

// seenIndexMin is the size from which Seen is indexed by a map; below it a
// linear scan is faster and allocates nothing.
const seenIndexMin = 48

func (b *Buyer) pruneSeen() {
	if !b.st.HasClock || len(b.st.Seen) == 0 {
		return
	}
	lo := b.st.Clock - b.p.DedupeWindow.Microseconds()
	if b.st.seenMin >= lo {
		return // nothing has fallen out of the window
	}
	kept := b.st.Seen[:0]
	m := int64(math.MaxInt64)
	for _, s := range b.st.Seen {
		if s.Time >= lo {
			kept = append(kept, s)
			m = min(m, s.Time)
		} else if b.st.seenIdx != nil {
			delete(b.st.seenIdx, s.ID)
		}
	}
	clear(b.st.Seen[len(kept):])
	b.st.Seen = kept
	b.st.seenMin = m
}

// seen reports whether id (whose idTag is tag) is in the dedupe memory.
func (b *Buyer) seen(id string, tag uint64) bool {
	if b.st.seenIdx != nil {
		_, ok := b.st.seenIdx[id]
		return ok
	}
	for i := range b.st.Seen {
		if b.st.Seen[i].tag == tag && b.st.Seen[i].ID == id {
			return true
		}
	}
	return false
}

// remember adds id (whose idTag is tag), seen at event time t, to the
// dedupe memory.
func (b *Buyer) remember(id string, tag uint64, t int64) {
	if b.st.HasClock && t < b.st.Clock-b.p.DedupeWindow.Microseconds() {
		return // already outside the window: would be pruned at once
	}
	if len(b.st.Seen) == 0 || t < b.st.seenMin {
		b.st.seenMin = t
	}
	b.st.Seen = append(b.st.Seen, seenID{ID: id, Time: t, tag: tag})
	if b.st.seenIdx != nil {
		b.st.seenIdx[id] = t
	} else if len(b.st.Seen) >= seenIndexMin {
		b.st.seenIdx = make(map[string]int64, 2*len(b.st.Seen))
		for _, s := range b.st.Seen {
			b.st.seenIdx[s.ID] = s.Time
		}
	}
}

// ---- cart, checkout, order ----

func (b *Buyer) cartUpdate(e *event.Event, out *Output) DropReason {
	cart := &b.st.Cart
	if cart.Known && e.EventTime <= cart.Time {
		return DropStale
	}
	prevItems, prevValue, prevProducts := int32(0), int64(0), []string(nil)
	if cart.Live {
		prevItems, prevValue, prevProducts = cart.Items, cart.Value, cart.Products
	}
	next := 1 - b.cur
	products := normalizeProducts(b.prods[next][:0], e.ProductIDs)
	changed := !cart.Live || e.ItemCount != prevItems || e.CartValueCents != prevValue || !slices.Equal(products, prevProducts)
	if !cart.Live && e.ItemCount == 0 && e.CartValueCents == 0 && len(products) == 0 {
		changed = false // an empty cart where there was none is no change
	}
	if products != nil {
		// The new set is in prods[next]; the old one (prods[cur] or not
		// a buffer) is no longer referenced (cartSnapshot copies from
		// liveCart read only the numbers).
		b.prods[next], b.cur = products, next
	}
	*cart = cartSnapshot{Time: e.EventTime, Known: true, Live: true, Token: e.CartToken,
		Items: e.ItemCount, Value: e.CartValueCents, Products: products}
	if !changed || e.CartValueCents < b.p.MinCartValueCents {
		return NumDropReasons
	}
	b.eff |= EffectTrigger // a cart_action to every open conversation
	action, ai := ActionChanged, 2
	switch {
	case e.ItemCount > prevItems:
		action, ai = ActionAdded, 0
	case e.ItemCount < prevItems:
		action, ai = ActionRemoved, 1
	}
	b.emitActive(e, out, KindCartAction, func(s *Signal) {
		s.Action = strPtr(action)
		s.CartValueCents = i64Ptr(e.CartValueCents)
		s.ItemCount = i32Ptr(e.ItemCount)
		out.Counts.CartActions[ai]++
	})
	return NumDropReasons
}

// normalizeProducts returns the product set: sorted, without repeats. It
// returns nil for an empty set and never modifies ids.
// The set is built in buf[:0] (grown if needed), so callers can reuse its
// memory; already sorted input (the common case) is not sorted again.
func normalizeProducts(buf, ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	p := append(buf[:0], ids...)
	if !slices.IsSorted(p) {
		slices.Sort(p)
	}
	return slices.Compact(p)
}

func (b *Buyer) checkout(e *event.Event, out *Output) {
	if e.HasCartValue && e.CartValueCents < b.p.MinCartValueCents {
		return
	}
	b.eff |= EffectTrigger // a checkout_started to every open conversation not yet told of this cart
	for _, cv := range b.st.Convs {
		if !cv.activeAt(e.EventTime, b.p) || slices.Contains(cv.Checkouts, e.CartToken) {
			continue
		}
		cv.Checkouts = append(cv.Checkouts, e.CartToken)
		b.emit(cv, e, out, KindCheckoutStarted, func(s *Signal) {
			if e.HasCartValue {
				s.CartValueCents = i64Ptr(e.CartValueCents)
			}
			if e.HasItemCount {
				s.ItemCount = i32Ptr(e.ItemCount)
			}
		})
	}
}

func (b *Buyer) order(e *event.Event, out *Output) DropReason {
	for _, o := range b.st.Orders {
		if o.ID == e.OrderID {
			return DropDuplicateOrder
		}
	}
	b.st.Orders = append(b.st.Orders, orderRecord{ID: e.OrderID, Time: e.EventTime, Value: e.OrderValueCents})
	out.Orders = append(out.Orders, Order{OrderID: e.OrderID, ShopID: b.key.ShopID, BuyerID: b.key.BuyerID,
		EventTime: e.EventTime, OrderValueCents: e.OrderValueCents})
	out.Counts.Orders++
	cart := &b.st.Cart
	cart.Live, cart.Items, cart.Value, cart.Products, cart.Token = false, 0, 0, nil, ""
	if !cart.Known || e.EventTime > cart.Time {
		cart.Time, cart.Known = e.EventTime, true
	}
	b.emitActive(e, out, KindOrderCompleted, func(s *Signal) {
		s.OrderID = strPtr(e.OrderID)
		s.OrderValueCents = i64Ptr(e.OrderValueCents)
	})
	return NumDropReasons
}

func (b *Buyer) pruneOrders() {
	lo := b.st.Clock - max(b.p.OrderLookback, b.p.DedupeWindow).Microseconds()
	for _, o := range b.st.Orders {
		if o.Time < lo {
			b.st.Orders = slices.DeleteFunc(b.st.Orders, func(o orderRecord) bool { return o.Time < lo })
			return
		}
	}
}

// ---- conversations ----

func (cv *conversation) closed() bool { return cv.HasClosed && cv.ClosedAt >= cv.LastActivity }

// activeAt reports whether the conversation is active for an event at
// event time now (rule 7): not closed, and now is at most
// conversation_inactivity after its last activity.
func (cv *conversation) activeAt(now int64, p Params) bool {
	return !cv.closed() && now-cv.LastActivity <= p.ConversationInactivity.Microseconds()
}

func (b *Buyer) findConv(id string) (*conversation, int) {
	i, ok := slices.BinarySearchFunc(b.st.Convs, id, func(c *conversation, id string) int {
		switch {
		case c.Row.ConversationID < id:
			return -1
		case c.Row.ConversationID > id:
			return 1
		}
		return 0
	})
	if ok {
		return b.st.Convs[i], i
	}
	return nil, i
}

// startConv creates the conversation of e at position i with the context
// known from state at e.EventTime (rule 6), emitting buyer_context when
// withContext and there is a cart or order to show.
func (b *Buyer) startConv(e *event.Event, i int, withContext bool, out *Output) *conversation {
	cv := &conversation{Row: Conversation{ConversationID: e.ConversationID, ShopID: b.key.ShopID,
		BuyerID: b.key.BuyerID, Channel: e.Channel, StartedAt: e.EventTime}, LastActivity: e.EventTime}
	b.st.Convs = slices.Insert(b.st.Convs, i, cv)
	b.eff |= EffectConversation
	cart, hasCart := b.liveCart(e.EventTime)
	if hasCart {
		cv.Row.HadCartAtStart = true
		cv.Row.CartValueAtStartCents = cart.Value
	}
	last, n, sum := b.priorOrders(e.EventTime)
	cv.Row.PriorOrders, cv.Row.PriorOrderValueCents = n, sum
	if withContext {
		b.context(cv, e, out, cart, hasCart, last)
	}
	return cv
}

// context emits buyer_context to cv if the buyer has a live cart of at least
// min_cart_value_cents updated within cart_lookback, or an order within
// order_lookback before e.EventTime.
func (b *Buyer) context(cv *conversation, e *event.Event, out *Output, cart cartSnapshot, hasCart bool, last *orderRecord) {
	hasCart = hasCart && cart.Value >= b.p.MinCartValueCents
	if !hasCart && last == nil {
		return
	}
	b.emit(cv, e, out, KindBuyerContext, func(s *Signal) {
		if hasCart {
			s.CartValueCents = i64Ptr(cart.Value)
			s.ItemCount = i32Ptr(cart.Items)
		}
		if last != nil {
			s.OrderID = strPtr(last.ID)
			s.OrderValueCents = i64Ptr(last.Value)
			s.OrderAgeSeconds = i64Ptr((e.EventTime - last.Time) / 1e6)
		}
	})
}

// HasLiveCart reports whether, at event time now, the buyer has a cart with
// items updated within cart_lookback: what a conversation starting now
// records as had_cart_at_start.
func (b *Buyer) HasLiveCart(now int64) bool {
	_, ok := b.liveCart(now)
	return ok
}

// liveCart returns the cart snapshot if there is one with items updated
// within cart_lookback of now.
func (b *Buyer) liveCart(now int64) (cartSnapshot, bool) {
	c := b.st.Cart
	if !c.Live || c.Items <= 0 || now-c.Time > b.p.CartLookback.Microseconds() {
		return cartSnapshot{}, false
	}
	return c, true
}

// priorOrders returns the latest recorded order placed before now and
// within order_lookback of it, and the count and value of all such orders.
func (b *Buyer) priorOrders(now int64) (last *orderRecord, n int32, sum int64) {
	lo := now - b.p.OrderLookback.Microseconds()
	for i := range b.st.Orders {
		o := &b.st.Orders[i]
		if o.Time >= now || o.Time < lo {
			continue
		}
		n++
		if o.Value > 0 && sum > math.MaxInt64-o.Value {
			sum = math.MaxInt64 // saturate: never a wrapped negative total
		} else {
			sum += o.Value
		}
		if last == nil || o.Time > last.Time || (o.Time == last.Time && o.ID > last.ID) {
			last = o
		}
	}
	return last, n, sum
}

// touch records conversation activity at e (start or message), reopening a
// closed or idle conversation when e is newer than its close.
func (cv *conversation) touch(e *event.Event) {
	if e.EventTime > cv.LastActivity {
		cv.LastActivity = e.EventTime
	}
	if e.EventTime < cv.Row.StartedAt {
		cv.Row.StartedAt = e.EventTime
	}
	if cv.Row.Channel == "" {
		cv.Row.Channel = e.Channel
	}
}

func (b *Buyer) conversationStarted(e *event.Event, out *Output) {
	cv, i := b.findConv(e.ConversationID)
	if cv == nil {
		b.startConv(e, i, true, out)
		return
	}
	// A known conversation: a start that arrives after an implicit start
	// (out of order) only moves started_at earlier; a start of a
	// conversation that is inactive at this event restarts it and shows
	// the context again.
	wasActive := cv.activeAt(e.EventTime, b.p)
	cv.touch(e)
	if !wasActive && cv.activeAt(e.EventTime, b.p) {
		cart, hasCart := b.liveCart(e.EventTime)
		last, _, _ := b.priorOrders(e.EventTime)
		b.context(cv, e, out, cart, hasCart, last)
	}
}

func (b *Buyer) message(e *event.Event, out *Output) {
	cv, i := b.findConv(e.ConversationID)
	if cv == nil {
		out.Counts.ImplicitStarts++
		cv = b.startConv(e, i, true, out)
	} else {
		cv.touch(e)
	}
	switch e.Sender {
	case event.SenderMerchant:
		cv.Row.MerchantMessages++
		if cv.Row.FirstMerchantReplyAt == nil || e.EventTime < *cv.Row.FirstMerchantReplyAt {
			cv.Row.FirstMerchantReplyAt = i64Ptr(e.EventTime)
		}
	default:
		cv.Row.BuyerMessages++
	}
}

func (b *Buyer) conversationClosed(e *event.Event, out *Output) {
	cv, i := b.findConv(e.ConversationID)
	if cv == nil {
		out.Counts.ImplicitStarts++
		cv = b.startConv(e, i, false, out)
	}
	if !cv.HasClosed || e.EventTime > cv.ClosedAt {
		cv.ClosedAt, cv.HasClosed = e.EventTime, true
	}
}

// ---- emission ----

// emitActive emits a signal of kind for e to every conversation active at
// e.EventTime, in conversation_id order.
func (b *Buyer) emitActive(e *event.Event, out *Output, kind string, fill func(*Signal)) {
	for _, cv := range b.st.Convs {
		if cv.activeAt(e.EventTime, b.p) {
			b.emit(cv, e, out, kind, fill)
		}
	}
}

func (b *Buyer) emit(cv *conversation, e *event.Event, out *Output, kind string, fill func(*Signal)) {
	emitTime := e.EventTime
	if e.HasIngestTime {
		emitTime = e.IngestTime
	}
	s := Signal{
		SignalID:       SignalID(cv.Row.ConversationID, kind, e.EventID),
		ConversationID: cv.Row.ConversationID,
		ShopID:         b.key.ShopID,
		BuyerID:        b.key.BuyerID,
		Kind:           kind,
		SourceEventID:  e.EventID,
		EventTime:      e.EventTime,
		EmitTime:       emitTime,
	}
	fill(&s)
	out.Signals = append(out.Signals, s)
	out.Counts.Signals[signalKindIndex(kind)]++
	r := &cv.Row
	r.Signals++
	if r.FirstSignalAt == nil || emitTime < *r.FirstSignalAt {
		r.FirstSignalAt = i64Ptr(emitTime)
	}
	if kind != KindOrderCompleted {
		r.Triggered = true
		b.eff |= EffectTrigger
	}
}

// SignalID is the deterministic id of the signal of kind emitted to
// conversation conversationID by source event sourceEventID: the lowercase
// hex of the first 128 bits of
//
//	SHA-256(conversationID ‖ 0x00 ‖ kind ‖ 0x00 ‖ sourceEventID)
//
// The same triple always gives the same id on every engine.
func SignalID(conversationID, kind, sourceEventID string) string {
	// One pass over a stack buffer (ids are short) instead of a hash.Hash.
	var buf [256]byte
	in := append(buf[:0], conversationID...)
	in = append(in, 0)
	in = append(in, kind...)
	in = append(in, 0)
	in = append(in, sourceEventID...)
	sum := sha256.Sum256(in)
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

func strPtr(s string) *string { return &s }
func i64Ptr(v int64) *int64   { return &v }
func i32Ptr(v int32) *int32   { return &v }

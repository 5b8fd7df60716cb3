package synth

import (
	"math"
	"slices"

	"github.com/signalab/signalab/event"
)

const (
	second = int64(1e6)
	minute = 60 * second
	hour   = 60 * minute
)

// conversation is the generator's record of one conversation while its
// session is built.
type conversation struct {
	id         string
	channel    string
	channelIdx int
	start      int64
	m          convMirror
}

// session generates one visit of buyer b starting at t0: page views, cart
// updates, maybe a conversation (with its planted conversion), maybe a
// checkout and an order; then schedules the buyer's next visit.
func (s *shard) session(b *buyer, t0 int64) {
	m := &s.cfg.Model
	b.sessionsLeft--
	t := t0
	for i := range 1 + s.r.geometric(m.ExtraPageViewsMean) {
		if i > 0 {
			t += s.gap(m.PageViewGapMedian, 0.8)
		}
		pv := s.newRow(b, event.KindPageView, t)
		pv.ev.ProductIDs = []string{b.shop.products[b.shop.product(s.r)]}
	}

	cartSession := s.r.bernoulli(m.CartProb)
	if len(b.cart) > 0 {
		cartSession = s.r.bernoulli(m.CartContinueProb)
	}
	convProb := m.ConversationProb
	if cartSession {
		convProb = m.ConversationCartProb
	}
	var conv *conversation
	end := t
	if s.r.bernoulli(convProb) {
		ch := s.r.pick(s.chanCum)
		conv = &conversation{id: s.id("conv_", &s.seqConv), channel: m.Channels[ch], channelIdx: ch}
		if cartSession && s.r.bernoulli(m.ChatBeforeCartProb) {
			// The buyer asks first and fills the cart while chatting.
			conv.start = t + s.gap(20, 0.8)
			chatEnd, lastMsg := s.chat(b, conv)
			cartEnd := s.cartUpdates(b, conv.start+s.gap(90, 0.8))
			end = max(chatEnd, cartEnd)
			s.chatCheckout(b, conv, lastMsg)
		} else {
			if cartSession {
				t = s.cartUpdates(b, t+s.gap(30, 0.8))
			}
			conv.start = t + s.gap(60, 0.8)
			chatEnd, lastMsg := s.chat(b, conv)
			end = chatEnd
			s.chatCheckout(b, conv, lastMsg)
		}
	} else {
		if cartSession {
			t = s.cartUpdates(b, t+s.gap(30, 0.8))
		}
		end = s.organicCheckout(b, t)
	}

	s.mirror(0)
	if conv != nil {
		end = s.convert(b, conv, end)
	}
	s.enqueue()
	s.schedule(b, end)
}

// mirror sorts the session's rows from index from on in event-time order
// (event_time, event_id) and runs the accepted ones through the trigger state.
func (s *shard) mirror(from int) {
	rows := s.sess[from:]
	slices.SortFunc(rows, func(a, b *item) int {
		switch {
		case a.ev.EventTime < b.ev.EventTime:
			return -1
		case a.ev.EventTime > b.ev.EventTime:
			return 1
		case a.ev.EventID < b.ev.EventID:
			return -1
		case a.ev.EventID > b.ev.EventID:
			return 1
		}
		return 0
	})
	p := &s.cfg.Params
	for _, it := range rows {
		if !it.late {
			it.b.trig.apply(&it.ev, it.prods, it.conv, p)
		}
	}
}

// cartUpdates writes 1 + Geometric(mean) cart snapshots from t on, each
// adding a unit (AddProb, always when the cart is empty or has one unit) or
// removing one, so every snapshot changes the cart. It returns the time of
// the last one.
func (s *shard) cartUpdates(b *buyer, t int64) int64 {
	m := &s.cfg.Model
	n := 1 + s.r.geometric(m.ExtraCartUpdatesMean)
	for i := range n {
		if i > 0 {
			t += s.gap(60, 0.8)
		}
		if len(b.cart) == 0 {
			b.cartToken = s.id("cart_", &s.seqCart)
		}
		units := int32(0)
		for _, l := range b.cart {
			units += l.qty
		}
		if units <= 1 || s.r.bernoulli(m.AddProb) {
			p := b.shop.product(s.r)
			found := false
			for k := range b.cart {
				if b.cart[k].product == p {
					b.cart[k].qty++
					found = true
				}
			}
			if !found {
				b.cart = append(b.cart, cartLine{product: p, qty: 1})
			}
		} else {
			k := s.r.intn(len(b.cart))
			if b.cart[k].qty > 1 {
				b.cart[k].qty--
			} else {
				b.cart = slices.Delete(b.cart, k, k+1)
			}
		}
		it := s.newRow(b, event.KindCartUpdate, t)
		s.cartFields(it, b)
	}
	return t
}

// chat writes the conversation: conversation_started, the buyer's opening
// message, exchanges of merchant replies (lognormal delays, capped; none at
// all with NoReplyProb) and buyer follow-ups, and conversation_closed with
// CloseProb. It returns the time of its last event and of its last message.
func (s *shard) chat(b *buyer, c *conversation) (end, lastMsg int64) {
	m := &s.cfg.Model
	conv := func(kind event.Kind, t int64, sender string) {
		it := s.newRow(b, kind, t)
		it.ev.ConversationID, it.ev.Channel, it.ev.Sender = c.id, c.channel, sender
		it.conv = &c.m
	}
	t := c.start
	conv(event.KindConversationStarted, t, "")
	t += s.gap(8, 0.6)
	conv(event.KindMessage, t, event.SenderBuyer)
	exchanges := min(1+s.r.geometric(m.ExtraExchangesMean), m.MaxExchanges)
	if !s.r.bernoulli(m.NoReplyProb) {
		for i := range exchanges {
			t += min(s.gap(m.ReplyMedian, m.ReplySigma), int64(m.ReplyCap*1e6))
			conv(event.KindMessage, t, event.SenderMerchant)
			if i < exchanges-1 {
				t += s.gap(m.BuyerReplyMedian, 1)
				conv(event.KindMessage, t, event.SenderBuyer)
			}
		}
	}
	lastMsg = t
	if s.r.bernoulli(m.CloseProb) {
		t += s.gap(m.CloseDelayMedian, 1)
		conv(event.KindConversationClosed, t, "")
	}
	return t, lastMsg
}

// chatCheckout writes, with ChatCheckoutProb when the buyer has a cart, a
// checkout_started at a uniform time during the chat (before its last
// message), without an order: the order is the planted conversion's.
func (s *shard) chatCheckout(b *buyer, c *conversation, lastMsg int64) {
	if len(b.cart) == 0 || !s.r.bernoulli(s.cfg.Model.ChatCheckoutProb) {
		return
	}
	t := c.start + second + int64(s.r.float64()*float64(max(lastMsg-c.start-second, 0)))
	it := s.newRow(b, event.KindCheckoutStarted, t)
	s.cartFields(it, b)
	it.ev.ProductIDs, it.prods = nil, it.prods[:0]
}

// organicCheckout writes, for a session without conversation, a checkout
// (probability CheckoutProb × buyer factor, when there is a cart) and then an
// order (OrderProb), unless an earlier non-converting conversation's
// attribution window forbids an order yet. It returns the session's end.
func (s *shard) organicCheckout(b *buyer, t int64) int64 {
	m := &s.cfg.Model
	if len(b.cart) == 0 || !s.r.bernoulli(math.Min(1, m.CheckoutProb*b.factor)) {
		return t
	}
	t += s.gap(60, 0.8)
	it := s.newRow(b, event.KindCheckoutStarted, t)
	s.cartFields(it, b)
	it.ev.ProductIDs, it.prods = nil, it.prods[:0]
	if !s.r.bernoulli(m.OrderProb) {
		return t
	}
	t += s.gap(90, 0.8)
	if t < b.noOrderUntil {
		return t // abandoned: planted non-conversion
	}
	s.order(b, t)
	return t
}

// order writes an order_placed at t for the buyer's cart (or, with no cart,
// for 1–3 products bought directly) and clears the cart.
func (s *shard) order(b *buyer, t int64) {
	it := s.newRow(b, event.KindOrderPlaced, t)
	it.ev.OrderID = s.id("order_", &s.seqOrder)
	it.ev.Currency = b.shop.currency
	if len(b.cart) == 0 {
		for range 1 + s.r.intn(3) {
			b.cart = append(b.cart, cartLine{product: b.shop.product(s.r), qty: 1})
		}
	} else {
		it.ev.CartToken = b.cartToken
	}
	var value int64
	ids := make([]string, 0, len(b.cart))
	for _, l := range b.cart {
		value += int64(l.qty) * b.shop.prices[l.product]
		ids = append(ids, b.shop.products[l.product])
	}
	it.ev.OrderValueCents, it.ev.HasOrderValue = value, true
	it.ev.ProductIDs = ids
	b.cart, b.cartToken = b.cart[:0], ""
}

// convert draws the planted outcome of conversation c, whose session ended at
// end, and writes the converting order. The base probability is
//
//	p₀ = min(MaxBaseProb, p_k × shop factor × buyer factor),  k = triggered or not,
//
// and p = p₀ × (1 + Lift) for triggered conversations of treatment units that
// start inside the window (p = p₀ otherwise). A converting order is placed in
// [max(end, no-order-until), start + attribution window); a non-converting
// conversation forbids the buyer's orders until start + attribution window,
// so the realised outcome equals the draw. It returns the session's new end.
func (s *shard) convert(b *buyer, c *conversation, end int64) int64 {
	m := &s.cfg.Model
	trig := c.m.triggered
	base := m.PNotTriggered
	if trig {
		base = m.PTriggered
	}
	p0 := math.Min(m.MaxBaseProb, base*b.shop.factor*b.factor)
	arm := s.armOf(b, c)
	inWindow := c.start >= s.windowStart && c.start < s.windowEnd
	p := p0
	if trig && inWindow && arm == 1 {
		p = p0 * (1 + s.cfg.Lift)
	}
	converted := s.r.bernoulli(p)
	deadline := c.start + s.attrWindow
	lo := max(end+second, b.noOrderUntil+1)
	orderLate := false
	if converted && lo >= deadline-second {
		converted = false // no room left in the window: cannot happen with the default model
		s.t.infeasible++
	}
	if converted {
		t := lo + s.gap(m.ConversionDelayMedian, 1.5)
		if t >= deadline {
			t = lo + int64(s.r.float64()*float64(deadline-lo-1))
		}
		from := len(s.sess)
		if trig && len(b.cart) > 0 {
			// A checkout just before the order; it cannot change the
			// trigger (the conversation already is triggered).
			ck := max(lo, t-s.gap(120, 0.8))
			it := s.newRow(b, event.KindCheckoutStarted, ck)
			s.cartFields(it, b)
			it.ev.ProductIDs, it.prods = nil, it.prods[:0]
		}
		s.order(b, t)
		orderLate = s.sess[len(s.sess)-1].late
		s.mirror(from)
		end = t
	} else {
		b.noOrderUntil = max(b.noOrderUntil, deadline)
	}
	s.t.conversation(s, b, c, arm, inWindow, trig, converted, orderLate, p, p0)
	return end
}

// armOf returns the experiment arm of conversation c (0 control, 1
// treatment) for the configured unit.
func (s *shard) armOf(b *buyer, c *conversation) int {
	switch s.cfg.Unit {
	case "buyer_id":
		return b.arm
	case "conversation_id":
		arm, _, _ := s.assigner.Assign(c.id)
		return arm
	}
	return b.shop.arm
}

// schedule sets the buyer's next session: a same-day return
// (lognormal(SameDayGapMedian, 0.7)) or a later one (1h + exponential(mean
// ReturnGapMeanDays)), and never while a conversation of the buyer may still
// be active, so each conversation's trigger is decided within its session.
func (s *shard) schedule(b *buyer, end int64) {
	m := &s.cfg.Model
	var g int64
	if s.r.bernoulli(m.SameDayReturnProb) {
		g = s.gap(m.SameDayGapMedian, 0.7)
	} else {
		g = hour + int64(s.r.exp(m.ReturnGapMeanDays*86400)*1e6)
	}
	next := end + g
	if until, open := b.trig.openUntil(&s.cfg.Params); open {
		next = max(next, until+hour)
	}
	b.next = next
}

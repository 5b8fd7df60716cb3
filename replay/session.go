package replay

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
)

// DefaultSessionGap is the inactivity that ends a session when none is
// configured (experiment.yaml's analysis.session_gap): 30 minutes, the
// convention of web analytics.
const DefaultSessionGap = 30 * time.Minute

// Session is one buyer's activity between inactivity gaps: a row of
// sessions.parquet, the replay output the analysis units buyer and session
// are built from (docs/metrics.md). Times are µs since the epoch, UTC.
//
// A session holds the events the logic accepted (duplicates, late and
// stale events and duplicate orders are not activity). An accepted event
// joins the buyer's open session when its event_time is at most the
// session gap after the session's latest event (EndedAt); otherwise it
// closes that session and opens the next. Events are taken in the
// processing order, so an event that arrives out of order joins the
// session open when it arrives, as a pipeline counting sessions live would.
// StartedAt is the event_time of the session's first event in that order
// (fixed when the session opens, so that a live consumer can key the open
// session by it); EndedAt is the latest event_time. Under --order
// event-time this is the usual gap sessionization.
//
// (shop_id, buyer_id, started_at) is a session's key; its id, where a
// unit id is needed (analysis.unit: session), is SessionID of the key. The
// table does not store it: 32 incompressible characters per row would
// double the file.
type Session struct {
	ShopID    string `parquet:"shop_id" json:"shop_id"`
	BuyerID   string `parquet:"buyer_id" json:"buyer_id"`
	StartedAt int64  `parquet:"started_at,timestamp(microsecond)" json:"started_at"`
	EndedAt   int64  `parquet:"ended_at,timestamp(microsecond)" json:"ended_at"`
	// Events counts the accepted events; PageViews ... Orders split them by
	// kind (order_placed: de-duplicated orders), OrderValueCents sums the
	// orders' values.
	Events          int32 `parquet:"events" json:"events"`
	PageViews       int32 `parquet:"page_views" json:"page_views"`
	CartUpdates     int32 `parquet:"cart_updates" json:"cart_updates"`
	Checkouts       int32 `parquet:"checkouts" json:"checkouts"`
	Orders          int32 `parquet:"orders" json:"orders"`
	OrderValueCents int64 `parquet:"order_value_cents" json:"order_value_cents"`
	// Conversations counts the conversations that started in the session;
	// BuyerMessages and MerchantMessages its messages.
	Conversations    int32 `parquet:"conversations" json:"conversations"`
	BuyerMessages    int32 `parquet:"buyer_messages" json:"buyer_messages"`
	MerchantMessages int32 `parquet:"merchant_messages" json:"merchant_messages"`
	// Signals counts the signals shown (every kind) to the buyer's
	// conversations by the session's events.
	Signals int32 `parquet:"signals" json:"signals"`
	// SignalEvents counts the events that showed a triggering signal
	// (buyer_context, cart_action, checkout_started) or would have shown
	// one had a conversation been open (signal.EffectTrigger);
	// FirstTriggerAt is the event_time of the first.
	SignalEvents   int32  `parquet:"signal_events" json:"signal_events"`
	FirstTriggerAt *int64 `parquet:"first_trigger_at,timestamp(microsecond)" json:"first_trigger_at,omitempty"`
	// Triggered: SignalEvents > 0, a signal was or would have been shown.
	Triggered bool `parquet:"triggered" json:"triggered"`
	// HadCartAtStart: the buyer had a cart with items updated within
	// cart_lookback just before the session's first event.
	HadCartAtStart bool `parquet:"had_cart_at_start" json:"had_cart_at_start"`
}

// SessionID returns the id of the session of buyer (shopID, buyerID) that
// started at startedAt (µs): the lowercase hex of the first 128 bits of
//
//	SHA-256(shop_id ‖ 0x00 ‖ buyer_id ‖ 0x00 ‖ decimal started_at µs)
//
// deterministic and unique per buyer and start, like signal ids.
func SessionID(shopID, buyerID string, startedAt int64) string {
	var buf [256]byte
	in := append(buf[:0], shopID...)
	in = append(in, 0)
	in = append(in, buyerID...)
	in = append(in, 0)
	in = strconv.AppendInt(in, startedAt, 10)
	sum := sha256.Sum256(in)
	return hex.EncodeToString(sum[:16])
}

// sessionState is the buyer's open session.
type sessionState struct {
	Open bool    `json:"open"`
	Row  Session `json:"row"`
}

// TrackSessions makes b split the buyer's accepted events into sessions
// separated by more than gap of inactivity and append them to
// Output.Sessions (see Session); gap ≤ 0 turns it off (the default: the
// other outputs are the same either way). Call it on a new or restored
// Buyer, before its first event.
func (b *Buyer) TrackSessions(gap time.Duration) {
	b.gap = max(gap.Microseconds(), 0)
}

// sessionBefore is called before the logic applies e: it reports whether
// e, if accepted, opens a new session, and if so whether the buyer has a
// live cart at that moment (had_cart_at_start).
func (b *Buyer) sessionBefore(e *event.Event) (opens, hadCart bool) {
	s := &b.sess
	if s.Open && e.EventTime <= s.Row.EndedAt+b.gap {
		return false, false
	}
	return true, b.sb.HasLiveCart(e.EventTime)
}

// sessionAfter adds the applied event e (effect eff; the logic appended
// signals rows for it) to the open session, first closing it and opening
// the next when opens.
func (b *Buyer) sessionAfter(e *event.Event, eff signal.Effect, opens, hadCart bool, signals int, out *Output) {
	if eff&signal.EffectAccepted == 0 {
		return
	}
	s := &b.sess
	if opens {
		b.flushSession(out)
		s.Open = true
		s.Row = Session{StartedAt: e.EventTime, EndedAt: e.EventTime, HadCartAtStart: hadCart}
	}
	r := &s.Row
	r.EndedAt = max(r.EndedAt, e.EventTime)
	r.Events++
	switch e.Kind {
	case event.KindPageView:
		r.PageViews++
	case event.KindCartUpdate:
		r.CartUpdates++
	case event.KindCheckoutStarted:
		r.Checkouts++
	case event.KindOrderPlaced:
		r.Orders++
		r.OrderValueCents += e.OrderValueCents
	case event.KindMessage:
		if e.Sender == event.SenderMerchant {
			r.MerchantMessages++
		} else {
			r.BuyerMessages++
		}
	}
	if eff&signal.EffectConversation != 0 {
		r.Conversations++
	}
	r.Signals += int32(signals)
	if eff&signal.EffectTrigger != 0 {
		r.SignalEvents++
		r.Triggered = true
		if r.FirstTriggerAt == nil || e.EventTime < *r.FirstTriggerAt {
			t := e.EventTime
			r.FirstTriggerAt = &t
		}
	}
}

// OpenSession returns the buyer's open session as its row would be written
// now (TrackSessions), and false when none is open: a row that is not
// final yet, for a consumer that shows or upserts the current state (as
// Conversations does for conversations). b is unchanged.
func (b *Buyer) OpenSession() (Session, bool) {
	if !b.sess.Open {
		return Session{}, false
	}
	r := b.sess.Row
	k := b.sb.Key()
	r.ShopID, r.BuyerID = k.ShopID, k.BuyerID
	return r, true
}

// flushSession appends the open session to out and closes it.
func (b *Buyer) flushSession(out *Output) {
	s := &b.sess
	if !s.Open {
		return
	}
	k := b.sb.Key()
	r := s.Row
	r.ShopID, r.BuyerID = k.ShopID, k.BuyerID
	out.Sessions = append(out.Sessions, r)
	*s = sessionState{}
}

// sessionDue is the smallest watermark at which no event still to come can
// join the open session (its lowest event_time passes EndedAt + gap), and
// false without an open session.
func (b *Buyer) sessionDue() (int64, bool) {
	if !b.sess.Open || b.sess.Row.EndedAt < 0 {
		return 0, false
	}
	return satAdd(satAdd(b.sess.Row.EndedAt, b.gap), satAdd(b.slack(), 1)), true
}

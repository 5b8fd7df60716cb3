package replay

import "strings"

// Activity is one analysis unit built from sessions (docs/metrics.md,
// "Analysis units"): a single session (analysis.unit: session), or the
// sessions of one buyer that started in the experiment's window, summed
// (analysis.unit: buyer). Times are µs since the epoch, UTC.
type Activity struct {
	// SessionID is the session's id; empty for a buyer.
	SessionID       string
	ShopID, BuyerID string
	// StartedAt is the (first) session's start: the unit's exposure time,
	// from which outcomes are attributed.
	StartedAt int64
	// Sessions counts the sessions summed (1 for a session).
	Sessions int64
	// The sums of the sessions' counts (Session).
	Events, PageViews, CartUpdates, Checkouts, Orders, OrderValueCents    int64
	Conversations, BuyerMessages, MerchantMessages, Signals, SignalEvents int64
	// Triggered: a signal was or would have been shown in one of the
	// sessions (SignalEvents > 0); FirstTriggerAt is the earliest such
	// event (meaningful when Triggered).
	Triggered      bool
	FirstTriggerAt int64
	// HadCartAtStart is the first session's.
	HadCartAtStart bool
}

// Add adds session s (of the same buyer, later than those added before)
// to a.
func (a *Activity) Add(s *Session) {
	if a.Sessions == 0 {
		// Copies: a reader may reuse the memory of s's strings.
		a.ShopID, a.BuyerID = strings.Clone(s.ShopID), strings.Clone(s.BuyerID)
		a.StartedAt, a.HadCartAtStart = s.StartedAt, s.HadCartAtStart
	}
	a.Sessions++
	a.Events += int64(s.Events)
	a.PageViews += int64(s.PageViews)
	a.CartUpdates += int64(s.CartUpdates)
	a.Checkouts += int64(s.Checkouts)
	a.Orders += int64(s.Orders)
	a.OrderValueCents += s.OrderValueCents
	a.Conversations += int64(s.Conversations)
	a.BuyerMessages += int64(s.BuyerMessages)
	a.MerchantMessages += int64(s.MerchantMessages)
	a.Signals += int64(s.Signals)
	a.SignalEvents += int64(s.SignalEvents)
	if s.Triggered && s.FirstTriggerAt != nil && (!a.Triggered || *s.FirstTriggerAt < a.FirstTriggerAt) {
		a.FirstTriggerAt = *s.FirstTriggerAt
	}
	a.Triggered = a.Triggered || s.Triggered
}

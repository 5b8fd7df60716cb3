package output

import (
	"cmp"
	"slices"
	"strings"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// SortSignals sorts signals by (conversation_id, emit_time, signal_id), the
// order of signals.parquet (docs/design.md), then by the remaining columns
// so that the order is total.
func SortSignals(s []signal.Signal) { sortKeyed(s, signalKey([][]signal.Signal{s}), CompareSignals) }

// signalKey is the sort key of signals (sortKeys): the conversation id's.
func signalKey(parts [][]signal.Signal) func(*signal.Signal) uint64 {
	pk := newPrefixKey(parts, func(r *signal.Signal) string { return r.ConversationID })
	return func(r *signal.Signal) uint64 { return pk.key(r.ConversationID, 64) }
}

// CompareSignals is the order of SortSignals.
func CompareSignals(a, b signal.Signal) int {
	if c := strings.Compare(a.ConversationID, b.ConversationID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.EmitTime, b.EmitTime); c != 0 {
		return c
	}
	if c := strings.Compare(a.SignalID, b.SignalID); c != 0 {
		return c
	}
	if c := strings.Compare(a.ShopID, b.ShopID); c != 0 {
		return c
	}
	if c := strings.Compare(a.BuyerID, b.BuyerID); c != 0 {
		return c
	}
	return cmp.Compare(a.EventTime, b.EventTime)
}

// SortConversations sorts conversation rows by (shop_id, buyer_id,
// started_at, conversation_id), then last_activity_at.
func SortConversations(s []signal.Conversation) {
	sortKeyed(s, conversationKey([][]signal.Conversation{s}), CompareConversations)
}

// conversationKey is the sort key of conversations (sortKeys).
func conversationKey(parts [][]signal.Conversation) func(*signal.Conversation) uint64 {
	return shopBuyerKey(parts, func(r *signal.Conversation) string { return r.ShopID },
		func(r *signal.Conversation) string { return r.BuyerID })
}

// CompareConversations is the order of SortConversations.
func CompareConversations(a, b signal.Conversation) int {
	if c := strings.Compare(a.ShopID, b.ShopID); c != 0 {
		return c
	}
	if c := strings.Compare(a.BuyerID, b.BuyerID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.StartedAt, b.StartedAt); c != 0 {
		return c
	}
	if c := strings.Compare(a.ConversationID, b.ConversationID); c != 0 {
		return c
	}
	return cmp.Compare(a.LastActivityAt, b.LastActivityAt)
}

// SortOrders sorts orders by (shop_id, buyer_id, event_time, order_id), then value.
func SortOrders(s []signal.Order) { sortKeyed(s, orderKey([][]signal.Order{s}), CompareOrders) }

// orderKey is the sort key of orders (sortKeys).
func orderKey(parts [][]signal.Order) func(*signal.Order) uint64 {
	return shopBuyerKey(parts, func(r *signal.Order) string { return r.ShopID },
		func(r *signal.Order) string { return r.BuyerID })
}

// CompareOrders is the order of SortOrders.
func CompareOrders(a, b signal.Order) int {
	if c := strings.Compare(a.ShopID, b.ShopID); c != 0 {
		return c
	}
	if c := strings.Compare(a.BuyerID, b.BuyerID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.EventTime, b.EventTime); c != 0 {
		return c
	}
	if c := strings.Compare(a.OrderID, b.OrderID); c != 0 {
		return c
	}
	return cmp.Compare(a.OrderValueCents, b.OrderValueCents)
}

// SortSessions sorts session rows by (shop_id, buyer_id, started_at), the
// key of a session, the order of sessions.parquet: a buyer's sessions are
// contiguous and in time order, as the metrics stage reads them.
func SortSessions(s []replay.Session) { slices.SortFunc(s, CompareSessions) }

// CompareSessions is the order of SortSessions.
func CompareSessions(a, b replay.Session) int {
	if c := strings.Compare(a.ShopID, b.ShopID); c != 0 {
		return c
	}
	if c := strings.Compare(a.BuyerID, b.BuyerID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.StartedAt, b.StartedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.EndedAt, b.EndedAt)
}

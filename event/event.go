// Package event defines signalab's v1 event schema (see docs/design.md, "Event schema"),
// its validation, and streaming readers and writers for Parquet, JSON Lines and CSV.
package event

// Kind is the type of an event, one of the Kind constants.
type Kind string

// The event kinds of schema v1.
const (
	KindPageView            Kind = "page_view"
	KindCartUpdate          Kind = "cart_update"
	KindCheckoutStarted     Kind = "checkout_started"
	KindOrderPlaced         Kind = "order_placed"
	KindConversationStarted Kind = "conversation_started"
	KindMessage             Kind = "message"
	KindConversationClosed  Kind = "conversation_closed"
)

// Kinds lists every valid kind in schema order.
var Kinds = []Kind{
	KindPageView, KindCartUpdate, KindCheckoutStarted, KindOrderPlaced,
	KindConversationStarted, KindMessage, KindConversationClosed,
}

// Valid reports whether k is a kind of schema v1.
func (k Kind) Valid() bool {
	switch k {
	case KindPageView, KindCartUpdate, KindCheckoutStarted, KindOrderPlaced,
		KindConversationStarted, KindMessage, KindConversationClosed:
		return true
	}
	return false
}

// IsConversation reports whether events of kind k belong to a conversation
// and so require a conversation_id.
func (k Kind) IsConversation() bool {
	return k == KindConversationStarted || k == KindMessage || k == KindConversationClosed
}

// Sender values of message events.
const (
	SenderBuyer    = "buyer"
	SenderMerchant = "merchant"
)

// Event is one row of the v1 event log.
//
// Timestamps are microseconds since the Unix epoch, UTC (Parquet
// TIMESTAMP(MICROS, isAdjustedToUTC=true)). Money is in integer minor units
// (cents). Optional numeric columns carry a Has* flag so that an absent value is
// distinguishable from zero; optional strings are empty when absent.
type Event struct {
	EventID   string
	Kind      Kind
	EventTime int64 // µs since epoch, UTC

	IngestTime    int64 // µs since epoch, UTC; meaningful only when HasIngestTime
	HasIngestTime bool

	ShopID         string
	BuyerID        string
	ConversationID string
	Channel        string
	Sender         string
	CartToken      string

	ItemCount    int32
	HasItemCount bool

	CartValueCents int64
	HasCartValue   bool

	ProductIDs []string

	OrderID         string
	OrderValueCents int64
	HasOrderValue   bool

	Currency string

	// Provenance, filled by readers: the ordinal of the input file among all
	// inputs (in the order given) and the 1-based row number within that file.
	// Together they are the event's position in the input, which is its
	// arrival order when ingest_time is absent.
	File int32
	Row  int64
}

// BuyerKey identifies the unit of signal state: a buyer at a shop.
type BuyerKey struct {
	ShopID  string
	BuyerID string
}

// Key returns the event's buyer key.
func (e *Event) Key() BuyerKey { return BuyerKey{ShopID: e.ShopID, BuyerID: e.BuyerID} }

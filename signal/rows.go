package signal

// Signal kinds.
const (
	KindCartAction      = "cart_action"
	KindCheckoutStarted = "checkout_started"
	KindOrderCompleted  = "order_completed"
	KindBuyerContext    = "buyer_context"
)

// Cart actions of a cart_action signal.
const (
	ActionAdded   = "added"
	ActionRemoved = "removed"
	ActionChanged = "changed"
)

// Signal is one signal shown (or, in control, that would have been shown) to
// a merchant in a conversation: a row of signals.parquet. Times are µs since
// the Unix epoch, UTC. Optional values are nil when they do not apply.
type Signal struct {
	SignalID        string  `parquet:"signal_id" json:"signal_id"`
	ConversationID  string  `parquet:"conversation_id" json:"conversation_id"`
	ShopID          string  `parquet:"shop_id" json:"shop_id"`
	BuyerID         string  `parquet:"buyer_id" json:"buyer_id"`
	Kind            string  `parquet:"kind" json:"kind"`
	Action          *string `parquet:"action" json:"action,omitempty"`
	SourceEventID   string  `parquet:"source_event_id" json:"source_event_id"`
	EventTime       int64   `parquet:"event_time,timestamp(microsecond)" json:"event_time"`
	EmitTime        int64   `parquet:"emit_time,timestamp(microsecond)" json:"emit_time"`
	CartValueCents  *int64  `parquet:"cart_value_cents" json:"cart_value_cents,omitempty"`
	ItemCount       *int32  `parquet:"item_count" json:"item_count,omitempty"`
	OrderID         *string `parquet:"order_id" json:"order_id,omitempty"`
	OrderValueCents *int64  `parquet:"order_value_cents" json:"order_value_cents,omitempty"`
	// OrderAgeSeconds is set on buyer_context signals with a last order: the
	// whole seconds from that order's event_time to the conversation start.
	OrderAgeSeconds *int64 `parquet:"order_age_seconds" json:"order_age_seconds,omitempty"`
}

// Conversation is one conversation's summary: a row of conversations.parquet.
type Conversation struct {
	ConversationID        string `parquet:"conversation_id" json:"conversation_id"`
	ShopID                string `parquet:"shop_id" json:"shop_id"`
	BuyerID               string `parquet:"buyer_id" json:"buyer_id"`
	Channel               string `parquet:"channel" json:"channel"`
	StartedAt             int64  `parquet:"started_at,timestamp(microsecond)" json:"started_at"`
	ClosedAt              *int64 `parquet:"closed_at,timestamp(microsecond)" json:"closed_at,omitempty"`
	LastActivityAt        int64  `parquet:"last_activity_at,timestamp(microsecond)" json:"last_activity_at"`
	BuyerMessages         int32  `parquet:"buyer_messages" json:"buyer_messages"`
	MerchantMessages      int32  `parquet:"merchant_messages" json:"merchant_messages"`
	FirstMerchantReplyAt  *int64 `parquet:"first_merchant_reply_at,timestamp(microsecond)" json:"first_merchant_reply_at,omitempty"`
	Signals               int32  `parquet:"signals" json:"signals"`
	FirstSignalAt         *int64 `parquet:"first_signal_at,timestamp(microsecond)" json:"first_signal_at,omitempty"`
	Triggered             bool   `parquet:"triggered" json:"triggered"`
	CartValueAtStartCents int64  `parquet:"cart_value_at_start_cents" json:"cart_value_at_start_cents"`
	HadCartAtStart        bool   `parquet:"had_cart_at_start" json:"had_cart_at_start"`
	PriorOrders           int32  `parquet:"prior_orders" json:"prior_orders"`
	PriorOrderValueCents  int64  `parquet:"prior_order_value_cents" json:"prior_order_value_cents"`
}

// Order is a de-duplicated order: a row of orders.parquet.
type Order struct {
	OrderID         string `parquet:"order_id" json:"order_id"`
	ShopID          string `parquet:"shop_id" json:"shop_id"`
	BuyerID         string `parquet:"buyer_id" json:"buyer_id"`
	EventTime       int64  `parquet:"event_time,timestamp(microsecond)" json:"event_time"`
	OrderValueCents int64  `parquet:"order_value_cents" json:"order_value_cents"`
}

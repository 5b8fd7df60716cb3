// Package signal is the buyer-signal logic: a pure, deterministic state machine
// per buyer (shop_id, buyer_id). See docs/design.md, "Signal logic".
package signal

import "time"

// Params are the tunable parameters of the signal logic, from the signals:
// block of experiment.yaml.
type Params struct {
	ConversationInactivity time.Duration `json:"conversation_inactivity"`
	CartLookback           time.Duration `json:"cart_lookback"`
	OrderLookback          time.Duration `json:"order_lookback"`
	DedupeWindow           time.Duration `json:"dedupe_window"`
	StateTTL               time.Duration `json:"state_ttl"`
	MaxOutOfOrderness      time.Duration `json:"max_out_of_orderness"`
	AllowedLateness        time.Duration `json:"allowed_lateness"`
	MinCartValueCents      int64         `json:"min_cart_value_cents"`
}

// DefaultParams returns the documented defaults.
func DefaultParams() Params {
	return Params{
		ConversationInactivity: 24 * time.Hour,
		CartLookback:           24 * time.Hour,
		OrderLookback:          720 * time.Hour,
		DedupeWindow:           24 * time.Hour,
		StateTTL:               168 * time.Hour,
		MaxOutOfOrderness:      5 * time.Minute,
		AllowedLateness:        time.Hour,
		MinCartValueCents:      0,
	}
}

// Package signal is the buyer-signal logic: a pure, deterministic state machine
// per buyer (shop_id, buyer_id). See docs/design.md, "Signal logic", and
// docs/signals.md for every rule as implemented and the decisions taken.
package signal

import (
	"fmt"
	"time"
)

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

// Validate reports the first parameter that makes no sense: a negative
// duration or minimum, or a zero dedupe window or state_ttl (which would
// forget everything at once). The error names the experiment.yaml key.
func (p Params) Validate() error {
	for _, d := range []struct {
		key      string
		v        time.Duration
		positive bool
	}{
		{"conversation_inactivity", p.ConversationInactivity, false},
		{"cart_lookback", p.CartLookback, false},
		{"order_lookback", p.OrderLookback, false},
		{"dedupe_window", p.DedupeWindow, true},
		{"state_ttl", p.StateTTL, true},
		{"max_out_of_orderness", p.MaxOutOfOrderness, false},
		{"allowed_lateness", p.AllowedLateness, false},
	} {
		if d.v < 0 || (d.positive && d.v == 0) {
			want := "a duration ≥ 0"
			if d.positive {
				want = "a positive duration"
			}
			return fmt.Errorf("signals.%s: %s is not valid: want %s such as 24h", d.key, d.v, want)
		}
	}
	if p.MinCartValueCents < 0 {
		return fmt.Errorf("signals.min_cart_value_cents: %d is not valid: want an amount in cents ≥ 0", p.MinCartValueCents)
	}
	return nil
}

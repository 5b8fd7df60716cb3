// Package signal is the buyer-signal logic: a pure, deterministic state machine
// per buyer (shop_id, buyer_id). See docs/design.md, "Signal logic", and
// docs/signals.md for every rule as implemented and the decisions taken.
package signal

import (
	"time"

	"github.com/signalab/signalab/internal/keyerr"
)

// Params are the tunable parameters of the signal logic: the signals: block
// of experiment.yaml, which decodes into this struct (durations as Go
// duration strings such as 24h; absent keys keep DefaultParams). Validate is
// the one judge of these keys.
type Params struct {
	ConversationInactivity time.Duration `json:"conversation_inactivity" yaml:"conversation_inactivity"`
	CartLookback           time.Duration `json:"cart_lookback" yaml:"cart_lookback"`
	OrderLookback          time.Duration `json:"order_lookback" yaml:"order_lookback"`
	DedupeWindow           time.Duration `json:"dedupe_window" yaml:"dedupe_window"`
	StateTTL               time.Duration `json:"state_ttl" yaml:"state_ttl"`
	MaxOutOfOrderness      time.Duration `json:"max_out_of_orderness" yaml:"max_out_of_orderness"`
	AllowedLateness        time.Duration `json:"allowed_lateness" yaml:"allowed_lateness"`
	MinCartValueCents      int64         `json:"min_cart_value_cents" yaml:"min_cart_value_cents"`
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

// Validate reports every parameter that makes no sense, as a keyerr.List
// keyed by the signals: block's keys ("dedupe_window"):
//
//   - a negative duration or minimum;
//   - a zero conversation_inactivity: a conversation would be active only at
//     the instant of its last activity, so no cart or checkout signal would
//     ever reach it;
//   - a zero dedupe_window: it does not turn de-duplication off but keeps
//     only the ids first seen at the buyer's current clock, so whether a
//     redelivery is dropped would depend on which event came last;
//   - a zero state_ttl, which would forget every buyer at its next event.
//
// docs/decisions.md records why zero is refused for these three.
func (p Params) Validate() error {
	var errs keyerr.List
	for _, d := range []struct {
		key      string
		v        time.Duration
		positive bool
	}{
		{"conversation_inactivity", p.ConversationInactivity, true},
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
			errs.Add(d.key, "%s is not valid: want %s such as 24h", d.v, want)
		}
	}
	if p.MinCartValueCents < 0 {
		errs.Add("min_cart_value_cents", "%d is not valid: want an amount in cents ≥ 0", p.MinCartValueCents)
	}
	return errs.Err()
}

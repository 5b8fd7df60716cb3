package signal

import (
	"testing"
	"time"

	"github.com/signalab/signalab/internal/keyerr"
)

// TestParamsValidate: the defaults are valid; zero is refused for the three
// windows where it makes no sense (docs/decisions.md) and allowed for the
// others; every problem is reported under its signals: key.
func TestParamsValidate(t *testing.T) {
	if err := DefaultParams().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	zero := DefaultParams()
	zero.CartLookback, zero.OrderLookback, zero.MaxOutOfOrderness, zero.AllowedLateness, zero.MinCartValueCents = 0, 0, 0, 0, 0
	if err := zero.Validate(); err != nil {
		t.Errorf("zero lookbacks, lateness and minimum: %v", err)
	}
	p := DefaultParams()
	p.ConversationInactivity, p.DedupeWindow, p.StateTTL, p.CartLookback, p.MinCartValueCents = 0, 0, 0, -time.Hour, -1
	errs := keyerr.From(p.Validate())
	want := []string{
		"conversation_inactivity: 0s is not valid: want a positive duration such as 24h",
		"cart_lookback: -1h0m0s is not valid: want a duration ≥ 0 such as 24h",
		"dedupe_window: 0s is not valid: want a positive duration such as 24h",
		"state_ttl: 0s is not valid: want a positive duration such as 24h",
		"min_cart_value_cents: -1 is not valid: want an amount in cents ≥ 0",
	}
	if len(errs) != len(want) {
		t.Fatalf("errors %v, want %d", errs, len(want))
	}
	for i, e := range errs {
		if e.Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, e, want[i])
		}
	}
}

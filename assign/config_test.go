package assign

import (
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/internal/keyerr"
)

// TestConfigValidate: every invalid assignment value is reported under its
// key; NewRunner refuses an invalid config with the same words.
func TestConfigValidate(t *testing.T) {
	if err := runConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	c := runConfig()
	c.Unit, c.Salt, c.Hash, c.Coverage = "session_id", " ", "md5", 1.5
	c.Namespace = &Namespace{ID: "ns", Range: [2]float64{0.6, 0.2}}
	c.Window = &Window{Start: t0, End: t0.Add(-time.Hour)}
	c.Filters = Filters{"country": {"DE"}, "triggered": {"yes"}}
	c.SRMAlpha = 0
	c.Segments = []string{"channel", "channel", ""}
	want := []string{
		`unit: "session_id" randomizes sessions: it needs analysis.unit: session (conversations are randomized by conversation_id, buyer_id, shop_id)`,
		"salt: missing or empty (any string; change it to re-randomize)",
		`hash: "md5" is not one of growthbook-v1, growthbook-v2, sha256`,
		"coverage: 1.5 is outside [0, 1]",
		"namespace.range: [0.6, 0.2]: start must be below end",
		"window.end: 2026-02-28T23:00:00Z is not after window.start 2026-03-01T00:00:00Z",
		`filters.country: "country" is not a filterable conversation column (want one of channel, shop_id, buyer_id, conversation_id, triggered, had_cart_at_start)`,
		`filters.triggered[0]: "yes": want true or false`,
		"srm_alpha: 0 is outside (0, 1)",
		`segments[1]: "channel" is listed twice`,
		`segments[2]: empty (want a unit-table column such as channel)`,
	}
	err := c.Validate()
	errs := keyerr.From(err)
	if len(errs) != len(want) {
		t.Fatalf("errors:\n%v\nwant %d", err, len(want))
	}
	for i, e := range errs {
		if e.Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, e, want[i])
		}
	}
	if _, err := NewRunner(c, nil); err == nil || !strings.Contains(err.Error(), want[0]) {
		t.Errorf("NewRunner: %v", err)
	}
}

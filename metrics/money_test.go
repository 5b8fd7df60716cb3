package metrics

import (
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/signal"
)

// TestBuildMoneyOverflow: order values beyond the money ceiling, or sums
// that leave int64, are an error naming the row, never a wrapped revenue
// (before: two orders at the int64 maximum gave revenue_cents = -2 and the
// analysis went on; issue 16, class 5).
func TestBuildMoneyOverflow(t *testing.T) {
	for _, c := range []struct {
		name   string
		values []int64
		want   string
	}{
		{"above the ceiling", []int64{math.MaxInt64, math.MaxInt64}, "row 2: order_value_cents 9223372036854775807 is above the ceiling"},
		{"negative", []int64{100, -5}, "row 3: order_value_cents -5 is negative"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, spec := fixture(t, fixtureConversations())
			orders := []signal.Order{{OrderID: "x", ShopID: "s1", BuyerID: "b0", EventTime: us("2026-03-02T11:00:00Z"), OrderValueCents: 1}}
			for i, v := range c.values {
				orders = append(orders, signal.Order{OrderID: string(rune('a' + i)), ShopID: "s1", BuyerID: "b1",
					EventTime: us("2026-03-02T12:00:00Z") + int64(i), OrderValueCents: v})
			}
			writeRows(t, filepath.Join(dir, OrdersFile), orders)
			_, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

// TestBuyerOrdersSumChecked: a buyer's order values that sum beyond int64
// are an error (each value within the ceiling; 9,224 orders at it).
func TestBuyerOrdersSumChecked(t *testing.T) {
	var b buyerOrders
	b.reset("s", "b")
	var err error
	for i := 0; i < 9300 && err == nil; i++ {
		err = b.add(int64(i), 1_000_000_000_000_000)
	}
	if err == nil || !strings.Contains(err.Error(), "overflow") {
		t.Fatalf("want an overflow error, got %v", err)
	}
}

package metrics

import (
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/columnar"
)

var convColumns = []string{"conversation_id", "shop_id", "buyer_id", "channel", "started_at",
	"first_merchant_reply_at", "buyer_messages", "merchant_messages", "signals", "first_signal_at",
	"triggered", "had_cart_at_start"}

var convOptional = map[string]bool{"channel": true, "first_merchant_reply_at": true, "buyer_messages": true,
	"merchant_messages": true, "signals": true, "first_signal_at": true, "had_cart_at_start": true}

// errStop ends a scan early without an error.
var errStop = errors.New("stop")

// conversations streams conversations.parquet in file order, checking that it
// is sorted by (shop_id, buyer_id, started_at).
func conversations(path string) iter.Seq2[*conv, error] {
	return func(yield func(*conv, error) bool) {
		var c, prev conv
		err := columnar.Scan(path, convColumns, convOptional, func(cols []*columnar.Column, rows int, first int64) error {
			for i := 0; i < rows; i++ {
				c = conv{row: first + int64(i), convs: 1}
				c.id = cols[0].String(i)
				c.shop = cols[1].String(i)
				c.buyer = cols[2].String(i)
				if cols[3] != nil {
					c.channel = cols[3].String(i)
				}
				var ok bool
				if c.started, ok = cols[4].Micros(i); !ok {
					return fmt.Errorf("%s: row %d: column started_at is null or not a timestamp", path, c.row)
				}
				if cols[5] != nil {
					c.replyAt, c.hasReply = cols[5].Micros(i)
				}
				if cols[6] != nil {
					c.buyerMsgs, _ = cols[6].Int(i)
				}
				if cols[7] != nil {
					c.merchantMsgs, _ = cols[7].Int(i)
				}
				if cols[8] != nil {
					c.signals, _ = cols[8].Int(i)
				}
				if cols[9] != nil {
					c.firstSignal, c.hasFirstSignal = cols[9].Micros(i)
				}
				c.triggered, _ = cols[10].Bool(i)
				if cols[11] != nil {
					c.hadCart, _ = cols[11].Bool(i)
				}
				if c.row > 1 && keyLess(c.shop, c.buyer, c.started, prev.shop, prev.buyer, prev.started) {
					return fmt.Errorf("%s: row %d: not sorted by (shop_id, buyer_id, started_at) after row %d; "+
						"write it with signalab replay or sort it", path, c.row, prev.row)
				}
				prev = c
				if !yield(&c, nil) {
					return errStop
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(nil, err)
		}
	}
}

func keyLess(shopA, buyerA string, tA int64, shopB, buyerB string, tB int64) bool {
	if shopA != shopB {
		return shopA < shopB
	}
	if buyerA != buyerB {
		return buyerA < buyerB
	}
	return tA < tB
}

// orderGroups streams orders.parquet as one group per (shop_id, buyer_id),
// checking the sort order. The yielded group is reused: copy what you keep.
func orderGroups(path string) iter.Seq2[*buyerOrders, error] {
	return func(yield func(*buyerOrders, error) bool) {
		var g buyerOrders
		started := false
		var prevT, prevRow int64
		err := columnar.Scan(path, []string{"shop_id", "buyer_id", "event_time", "order_value_cents"}, nil,
			func(cols []*columnar.Column, rows int, first int64) error {
				for i := 0; i < rows; i++ {
					row := first + int64(i)
					shop, buyer := cols[0].String(i), cols[1].String(i)
					t, ok := cols[2].Micros(i)
					if !ok {
						return fmt.Errorf("%s: row %d: column event_time is null or not a timestamp", path, row)
					}
					v, _ := cols[3].Int(i)
					switch {
					case v < 0:
						return fmt.Errorf("%s: row %d: order_value_cents %d is negative; money must be >= 0", path, row, v)
					case v > event.MaxMoneyCents:
						return fmt.Errorf("%s: row %d: order_value_cents %d is above the ceiling of 10^15 minor units (docs/limits.md); check the unit", path, row, v)
					}
					if started && keyLess(shop, buyer, t, g.shop, g.buyer, prevT) {
						return fmt.Errorf("%s: row %d: not sorted by (shop_id, buyer_id, event_time) after row %d; "+
							"write it with signalab replay or sort it", path, row, prevRow)
					}
					if !started || shop != g.shop || buyer != g.buyer {
						if started && !yield(&g, nil) {
							return errStop
						}
						g.reset(shop, buyer)
						started = true
					}
					if err := g.add(t, v); err != nil {
						return fmt.Errorf("%s: row %d: %w", path, row, err)
					}
					prevT, prevRow = t, row
				}
				return nil
			})
		if err != nil {
			if !errors.Is(err, errStop) {
				yield(nil, err)
			}
			return
		}
		if started {
			yield(&g, nil)
		}
	}
}

// Input file names inside a replay/assign output folder.
const (
	ConversationsFile = "conversations.parquet"
	OrdersFile        = "orders.parquet"
	AssignmentsFile   = "assignments.parquet"
	SignalsFile       = "signals.parquet"
	UnitsFile         = "units.parquet"
	SummaryFile       = "metrics.json"
)

func in(dir, name string) string { return filepath.Join(dir, name) }

// find returns name in the first of dirs that has it, else in the first dir
// (so that the error names a sensible path).
func find(dirs []string, name string) string {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if len(dirs) == 0 {
		return name
	}
	return filepath.Join(dirs[0], name)
}

func isNotExist(err error) bool { return errors.Is(err, os.ErrNotExist) }

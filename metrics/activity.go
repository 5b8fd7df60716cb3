package metrics

import (
	"errors"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/replay"
)

// SessionsFile is the replay's sessions table, which buyer and session
// units are built from.
const SessionsFile = "sessions.parquet"

// units streams the candidate analysis units in (shop_id, buyer_id,
// started_at) order: the conversations of conversations.parquet, or the
// buyers or sessions of sessions.parquet (assign.ReadActivity), as conv
// rows.
func (b *builder) units() iter.Seq2[*conv, error] {
	u := b.spec.Analysis()
	if !u.FromSessions() {
		return conversations(find(b.dirs, ConversationsFile))
	}
	path := find(b.dirs, SessionsFile)
	return func(yield func(*conv, error) bool) {
		var c conv
		var row int64
		err := assign.ReadActivity(path, u == UnitBuyer, b.hasWindow, b.winStart, b.winEnd, func(a *replay.Activity, inWindow bool) error {
			row++
			c = activityConv(a, row)
			c.outside = !inWindow
			if !yield(&c, nil) {
				return errStop
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStop) {
			yield(nil, err)
		}
	}
}

// activityConv is the unit-table row source of a buyer or session unit.
func activityConv(a *replay.Activity, row int64) conv {
	c := conv{id: a.SessionID, shop: a.ShopID, buyer: a.BuyerID, started: a.StartedAt,
		buyerMsgs: a.BuyerMessages, merchantMsgs: a.MerchantMessages, signals: a.Signals,
		triggered: a.Triggered, hadCart: a.HadCartAtStart, row: row, convs: a.Conversations,
		sessions: a.Sessions, events: a.Events, pageViews: a.PageViews, cartUpdates: a.CartUpdates}
	if a.Triggered {
		c.firstSignal, c.hasFirstSignal = a.FirstTriggerAt, true
	}
	return c
}

// Fixed columns of units.parquet for buyer and session units besides
// those they share with conversation units (shop_id, buyer_id, unit_id,
// variant, started_at, triggered, had_cart_at_start and the outcomes).
const ColSessionID = "session_id"

// activityFixed are the fixed columns of a buyer or session unit table, in
// order: session_id (sessions only), then identity, design and outcome
// columns.
func (b *builder) activityFixed() []arrow.Field {
	str := arrow.BinaryTypes.String
	i64 := arrow.PrimitiveTypes.Int64
	boolean := arrow.FixedWidthTypes.Boolean
	var fields []arrow.Field
	if b.spec.Analysis() == UnitSession {
		fields = append(fields, arrow.Field{Name: ColSessionID, Type: str})
	}
	fields = append(fields,
		arrow.Field{Name: ColShopID, Type: str}, arrow.Field{Name: ColBuyerID, Type: str},
		arrow.Field{Name: ColUnitID, Type: str}, arrow.Field{Name: ColVariant, Type: str},
		arrow.Field{Name: ColStartedAt, Type: timestampUTC}, arrow.Field{Name: ColTriggered, Type: boolean},
		arrow.Field{Name: ColHadCart, Type: boolean},
		arrow.Field{Name: Converted, Type: boolean}, arrow.Field{Name: Orders, Type: i64}, arrow.Field{Name: RevenueCents, Type: i64})
	for _, n := range []string{BuyerMessages, MerchantMessages, Signals, Conversations, Sessions, Events, PageViews, CartUpdates} {
		fields = append(fields, arrow.Field{Name: n, Type: i64})
	}
	return fields
}

// appendActivityFixed appends the fixed columns of u (activityFixed) to fb
// and returns how many it wrote.
func (a *unitAppender) appendActivityFixed(u *unit) int {
	b, fb, c := a.b, a.fb, u.c
	k := 0
	str := func(v string) { fb[k].(*array.StringBuilder).Append(v); k++ }
	i64 := func(v int64) { fb[k].(*array.Int64Builder).Append(v); k++ }
	boolean := func(v bool) { fb[k].(*array.BooleanBuilder).Append(v); k++ }
	if b.spec.Analysis() == UnitSession {
		str(c.id)
	}
	n, cents := u.orders.window(c.started, c.started+b.window.Microseconds())
	str(c.shop)
	str(c.buyer)
	str(u.unitID)
	str(b.arms[u.arm])
	fb[k].(*array.TimestampBuilder).Append(arrow.Timestamp(c.started))
	k++
	boolean(c.triggered)
	boolean(c.hadCart)
	boolean(n > 0)
	i64(n)
	i64(cents)
	for _, v := range []int64{c.buyerMsgs, c.merchantMsgs, c.signals, c.convs, c.sessions, c.events, c.pageViews, c.cartUpdates} {
		i64(v)
	}
	return k
}

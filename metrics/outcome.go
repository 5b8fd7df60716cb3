package metrics

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// The per-conversation outcome columns of units.parquet: what a metric's
// outcome, numerator or denominator may name.
const (
	Converted                 = "converted"
	Orders                    = "orders"
	RevenueCents              = "revenue_cents"
	FirstMerchantReplyMinutes = "first_merchant_reply_minutes"
	BuyerMessages             = "buyer_messages"
	MerchantMessages          = "merchant_messages"
	Signals                   = "signals"
	Conversations             = "conversations"
)

// The outcome columns of units built from sessions (analysis.unit buyer or
// session), besides the ones they share with conversations.
const (
	Sessions    = "sessions"
	Events      = "events"
	PageViews   = "page_views"
	CartUpdates = "cart_updates"
)

// OutcomeNames lists the outcome columns of conversation units in table
// order.
var OutcomeNames = []string{Converted, Orders, RevenueCents, FirstMerchantReplyMinutes,
	BuyerMessages, MerchantMessages, Signals, Conversations}

// ActivityOutcomeNames lists the outcome columns of buyer and session units
// in table order: the order outcomes, the conversations and messages they
// hold, and their activity (first_merchant_reply_minutes is a
// conversation's own).
var ActivityOutcomeNames = []string{Converted, Orders, RevenueCents, BuyerMessages, MerchantMessages, Signals,
	Conversations, Sessions, Events, PageViews, CartUpdates}

// DefaultWindow is the attribution window of a metric that declares none, and
// of the plain outcome columns when the primary metric has none.
const DefaultWindow = 72 * time.Hour

// conv is one conversations.parquet row, as the metrics stage needs it.
type conv struct {
	id, shop, buyer, channel string
	started                  int64
	replyAt                  int64
	hasReply                 bool
	buyerMsgs, merchantMsgs  int64
	signals                  int64
	firstSignal              int64
	hasFirstSignal           bool
	triggered, hadCart       bool
	row                      int64
	// convs is the conversations column: 1 for a conversation, the
	// conversations started in a buyer's or session's sessions.
	convs int64
	// The activity of a buyer or session unit (zero for a conversation),
	// and outside: a buyer none of whose sessions started in the window.
	sessions, events, pageViews, cartUpdates int64
	outside                                  bool
}

// buyerOrders are one buyer's orders at one shop sorted by time, with prefix
// sums of their values for O(log n) window totals.
type buyerOrders struct {
	shop, buyer string
	times       []int64
	cum         []int64 // cum[i] = Σ values[:i]
}

func (b *buyerOrders) reset(shop, buyer string) {
	b.shop, b.buyer = shop, buyer
	b.times = b.times[:0]
	b.cum = append(b.cum[:0], 0)
}

// add appends an order of value v at time t. The prefix sum is checked: a
// buyer's orders summing beyond int64 are an error, never a wrapped total.
func (b *buyerOrders) add(t, v int64) error {
	last := b.cum[len(b.cum)-1]
	if v > 0 && last > math.MaxInt64-v {
		return fmt.Errorf("buyer %s at shop %s: order values sum beyond %d cents (int64 overflow) after %d orders", b.buyer, b.shop, int64(math.MaxInt64), len(b.times))
	}
	b.times = append(b.times, t)
	b.cum = append(b.cum, last+v)
	return nil
}

// window returns the count and value of the orders with from ≤ time < to.
func (b *buyerOrders) window(from, to int64) (n int64, cents int64) {
	if b == nil || len(b.times) == 0 || to <= from {
		return 0, 0
	}
	lo := sort.Search(len(b.times), func(i int) bool { return b.times[i] >= from })
	hi := sort.Search(len(b.times), func(i int) bool { return b.times[i] >= to })
	return int64(hi - lo), b.cum[hi] - b.cum[lo]
}

// orderOutcome reports whether an outcome column is computed from attributed
// orders (and so has a pre-period value for CUPED).
func orderOutcome(name string) bool {
	return name == Converted || name == Orders || name == RevenueCents || name == Conversations
}

// outcome returns conversation c's value of an outcome column with orders
// counted in [from, to). ok is false when the value is undefined
// (first_merchant_reply_minutes without a reply).
func outcome(name string, c *conv, bo *buyerOrders, from, to int64) (v float64, ok bool) {
	switch name {
	case Converted, Orders, RevenueCents:
		n, cents := bo.window(from, to)
		switch name {
		case Converted:
			if n > 0 {
				return 1, true
			}
			return 0, true
		case Orders:
			return float64(n), true
		default:
			return float64(cents), true
		}
	case FirstMerchantReplyMinutes:
		if !c.hasReply {
			return 0, false
		}
		return float64(c.replyAt-c.started) / 60e6, true
	case BuyerMessages:
		return float64(c.buyerMsgs), true
	case MerchantMessages:
		return float64(c.merchantMsgs), true
	case Signals:
		return float64(c.signals), true
	case Conversations:
		return float64(c.convs), true
	case Sessions:
		return float64(c.sessions), true
	case Events:
		return float64(c.events), true
	case PageViews:
		return float64(c.pageViews), true
	case CartUpdates:
		return float64(c.cartUpdates), true
	}
	return 0, false
}

// IsMoney reports whether a unit-table column (or outcome) holds money in
// minor units: by the design's convention, its name ends in "_cents".
func IsMoney(column string) bool { return strings.HasSuffix(column, "_cents") }

// Def is one metric of the spec resolved to unit-table columns.
type Def struct {
	Metric
	// Window is the attribution window (DefaultWindow when the metric
	// gives none).
	Window time.Duration
	// Columns are the value column, or numerator and denominator columns.
	Columns []string
	// Covariates are the pre-period columns matching Columns (CUPED), empty
	// when the metric's outcome has no pre-period value.
	Covariates []string
}

// Resolve maps the spec's metrics to unit-table columns:
//
//	proportion, mean, quantile:  m_<name>            (+ m_<name>_pre)
//	ratio:                       m_<name>_num, m_<name>_den (+ m_<name>_pre_num, m_<name>_pre_den)
//
// Covariates exist when the spec has a pre_period, CUPED is on, and every
// outcome the metric reads is order-based (converted, orders, revenue_cents)
// or conversations; quantile metrics get none.
func Resolve(spec *Spec) ([]Def, error) {
	out := make([]Def, 0, len(spec.Metrics))
	cuped := spec.CUPED && spec.PrePeriod > 0
	for i, m := range spec.Metrics {
		d := Def{Metric: m, Window: m.Window}
		if d.Window <= 0 {
			d.Window = DefaultWindow
		}
		var outs []string
		switch m.Type {
		case Proportion, Mean, Quantile:
			d.Columns = []string{"m_" + m.Name}
			outs = []string{m.Outcome}
		case Ratio:
			d.Columns = []string{"m_" + m.Name + "_num", "m_" + m.Name + "_den"}
			outs = []string{m.Numerator, m.Denominator}
		default:
			return nil, fmt.Errorf("metrics[%d].type: %q is not %s", i, m.Type, typeList(" or "))
		}
		for _, o := range outs {
			if !slices.Contains(spec.Analysis().Outcomes(), o) {
				return nil, fmt.Errorf("metrics[%d] (%s): outcome %q is not a column of %s units (want one of %v)", i, m.Name, o, spec.Analysis(), spec.Analysis().Outcomes())
			}
		}
		if cuped && m.Type != Quantile && allOrderBased(outs, spec.Analysis()) {
			if m.Type == Ratio {
				d.Covariates = []string{"m_" + m.Name + "_pre_num", "m_" + m.Name + "_pre_den"}
			} else {
				d.Covariates = []string{"m_" + m.Name + "_pre"}
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// allOrderBased reports whether every outcome has a pre-period value for
// units of u: the order outcomes, and for conversations the constant
// conversations column (a buyer's or session's conversations are not
// counted before the window).
func allOrderBased(outs []string, u Unit) bool {
	for _, o := range outs {
		if !orderOutcome(o) || (o == Conversations && u.FromSessions()) {
			return false
		}
	}
	return true
}

// outcomes returns the outcome columns a metric reads.
func (d *Def) outcomes() []string {
	if d.Type == Ratio {
		return []string{d.Numerator, d.Denominator}
	}
	return []string{d.Outcome}
}

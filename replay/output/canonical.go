package output

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// The canonical JSON Lines form of the replay rows, used for golden sets and
// readable diffs: one JSON object per line, keys in a fixed order, times as
// RFC 3339 UTC strings with microseconds where needed, absent optional
// values omitted.

// Timestamp is a time in µs since the epoch that encodes to JSON as an
// RFC 3339 UTC string.
type Timestamp int64

// String formats t as RFC 3339 UTC with as many fractional digits as needed.
func (t Timestamp) String() string {
	return time.UnixMicro(int64(t)).UTC().Format(time.RFC3339Nano)
}

// MarshalJSON writes t as a quoted RFC 3339 string.
func (t Timestamp) MarshalJSON() ([]byte, error) { return json.Marshal(t.String()) }

// UnmarshalJSON reads an RFC 3339 string.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 time such as 2026-03-01T10:00:00Z, got %q", s)
	}
	*t = Timestamp(v.UnixMicro())
	return nil
}

func tsPtr(p *int64) *Timestamp {
	if p == nil {
		return nil
	}
	t := Timestamp(*p)
	return &t
}

func i64FromTS(p *Timestamp) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

// SignalJSON is the canonical JSON form of a signal.Signal.
type SignalJSON struct {
	SignalID        string    `json:"signal_id"`
	ConversationID  string    `json:"conversation_id"`
	ShopID          string    `json:"shop_id"`
	BuyerID         string    `json:"buyer_id"`
	Kind            string    `json:"kind"`
	Action          *string   `json:"action,omitempty"`
	SourceEventID   string    `json:"source_event_id"`
	EventTime       Timestamp `json:"event_time"`
	EmitTime        Timestamp `json:"emit_time"`
	CartValueCents  *int64    `json:"cart_value_cents,omitempty"`
	ItemCount       *int32    `json:"item_count,omitempty"`
	OrderID         *string   `json:"order_id,omitempty"`
	OrderValueCents *int64    `json:"order_value_cents,omitempty"`
	OrderAgeSeconds *int64    `json:"order_age_seconds,omitempty"`
}

// SignalToJSON converts s to its canonical JSON form.
func SignalToJSON(s signal.Signal) SignalJSON {
	return SignalJSON{s.SignalID, s.ConversationID, s.ShopID, s.BuyerID, s.Kind, s.Action, s.SourceEventID,
		Timestamp(s.EventTime), Timestamp(s.EmitTime), s.CartValueCents, s.ItemCount, s.OrderID,
		s.OrderValueCents, s.OrderAgeSeconds}
}

// Signal converts back.
func (j SignalJSON) Signal() signal.Signal {
	return signal.Signal{SignalID: j.SignalID, ConversationID: j.ConversationID, ShopID: j.ShopID,
		BuyerID: j.BuyerID, Kind: j.Kind, Action: j.Action, SourceEventID: j.SourceEventID,
		EventTime: int64(j.EventTime), EmitTime: int64(j.EmitTime), CartValueCents: j.CartValueCents,
		ItemCount: j.ItemCount, OrderID: j.OrderID, OrderValueCents: j.OrderValueCents, OrderAgeSeconds: j.OrderAgeSeconds}
}

// ConversationJSON is the canonical JSON form of a signal.Conversation.
type ConversationJSON struct {
	ConversationID        string     `json:"conversation_id"`
	ShopID                string     `json:"shop_id"`
	BuyerID               string     `json:"buyer_id"`
	Channel               string     `json:"channel"`
	StartedAt             Timestamp  `json:"started_at"`
	ClosedAt              *Timestamp `json:"closed_at,omitempty"`
	LastActivityAt        Timestamp  `json:"last_activity_at"`
	BuyerMessages         int32      `json:"buyer_messages"`
	MerchantMessages      int32      `json:"merchant_messages"`
	FirstMerchantReplyAt  *Timestamp `json:"first_merchant_reply_at,omitempty"`
	Signals               int32      `json:"signals"`
	FirstSignalAt         *Timestamp `json:"first_signal_at,omitempty"`
	Triggered             bool       `json:"triggered"`
	CartValueAtStartCents int64      `json:"cart_value_at_start_cents"`
	HadCartAtStart        bool       `json:"had_cart_at_start"`
	PriorOrders           int32      `json:"prior_orders"`
	PriorOrderValueCents  int64      `json:"prior_order_value_cents"`
}

// ConversationToJSON converts c to its canonical JSON form.
func ConversationToJSON(c signal.Conversation) ConversationJSON {
	return ConversationJSON{c.ConversationID, c.ShopID, c.BuyerID, c.Channel, Timestamp(c.StartedAt),
		tsPtr(c.ClosedAt), Timestamp(c.LastActivityAt), c.BuyerMessages, c.MerchantMessages,
		tsPtr(c.FirstMerchantReplyAt), c.Signals, tsPtr(c.FirstSignalAt), c.Triggered,
		c.CartValueAtStartCents, c.HadCartAtStart, c.PriorOrders, c.PriorOrderValueCents}
}

// Conversation converts back.
func (j ConversationJSON) Conversation() signal.Conversation {
	return signal.Conversation{ConversationID: j.ConversationID, ShopID: j.ShopID, BuyerID: j.BuyerID,
		Channel: j.Channel, StartedAt: int64(j.StartedAt), ClosedAt: i64FromTS(j.ClosedAt),
		LastActivityAt: int64(j.LastActivityAt), BuyerMessages: j.BuyerMessages,
		MerchantMessages: j.MerchantMessages, FirstMerchantReplyAt: i64FromTS(j.FirstMerchantReplyAt),
		Signals: j.Signals, FirstSignalAt: i64FromTS(j.FirstSignalAt), Triggered: j.Triggered,
		CartValueAtStartCents: j.CartValueAtStartCents, HadCartAtStart: j.HadCartAtStart,
		PriorOrders: j.PriorOrders, PriorOrderValueCents: j.PriorOrderValueCents}
}

// OrderJSON is the canonical JSON form of a signal.Order.
type OrderJSON struct {
	OrderID         string    `json:"order_id"`
	ShopID          string    `json:"shop_id"`
	BuyerID         string    `json:"buyer_id"`
	EventTime       Timestamp `json:"event_time"`
	OrderValueCents int64     `json:"order_value_cents"`
}

// OrderToJSON converts o to its canonical JSON form.
func OrderToJSON(o signal.Order) OrderJSON {
	return OrderJSON{o.OrderID, o.ShopID, o.BuyerID, Timestamp(o.EventTime), o.OrderValueCents}
}

// Order converts back.
func (j OrderJSON) Order() signal.Order {
	return signal.Order{OrderID: j.OrderID, ShopID: j.ShopID, BuyerID: j.BuyerID,
		EventTime: int64(j.EventTime), OrderValueCents: j.OrderValueCents}
}

// SessionJSON is the canonical JSON form of a replay.Session (a row of
// sessions.parquet).
type SessionJSON struct {
	ShopID           string     `json:"shop_id"`
	BuyerID          string     `json:"buyer_id"`
	StartedAt        Timestamp  `json:"started_at"`
	EndedAt          Timestamp  `json:"ended_at"`
	Events           int32      `json:"events"`
	PageViews        int32      `json:"page_views"`
	CartUpdates      int32      `json:"cart_updates"`
	Checkouts        int32      `json:"checkouts"`
	Orders           int32      `json:"orders"`
	OrderValueCents  int64      `json:"order_value_cents"`
	Conversations    int32      `json:"conversations"`
	BuyerMessages    int32      `json:"buyer_messages"`
	MerchantMessages int32      `json:"merchant_messages"`
	Signals          int32      `json:"signals"`
	SignalEvents     int32      `json:"signal_events"`
	FirstTriggerAt   *Timestamp `json:"first_trigger_at,omitempty"`
	Triggered        bool       `json:"triggered"`
	HadCartAtStart   bool       `json:"had_cart_at_start"`
}

// SessionToJSON converts s to its canonical JSON form.
func SessionToJSON(s replay.Session) SessionJSON {
	return SessionJSON{s.ShopID, s.BuyerID, Timestamp(s.StartedAt), Timestamp(s.EndedAt), s.Events, s.PageViews,
		s.CartUpdates, s.Checkouts, s.Orders, s.OrderValueCents, s.Conversations, s.BuyerMessages,
		s.MerchantMessages, s.Signals, s.SignalEvents, tsPtr(s.FirstTriggerAt), s.Triggered, s.HadCartAtStart}
}

// Session converts back.
func (j SessionJSON) Session() replay.Session {
	return replay.Session{ShopID: j.ShopID, BuyerID: j.BuyerID, StartedAt: int64(j.StartedAt), EndedAt: int64(j.EndedAt),
		Events: j.Events, PageViews: j.PageViews, CartUpdates: j.CartUpdates, Checkouts: j.Checkouts, Orders: j.Orders,
		OrderValueCents: j.OrderValueCents, Conversations: j.Conversations, BuyerMessages: j.BuyerMessages,
		MerchantMessages: j.MerchantMessages, Signals: j.Signals, SignalEvents: j.SignalEvents,
		FirstTriggerAt: i64FromTS(j.FirstTriggerAt), Triggered: j.Triggered, HadCartAtStart: j.HadCartAtStart}
}

// WriteJSONL writes rows to w as JSON Lines, converting each with conv.
func WriteJSONL[R, J any](w io.Writer, rows []R, conv func(R) J) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, r := range rows {
		if err := enc.Encode(conv(r)); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadJSONL reads JSON Lines written by WriteJSONL, converting each with
// conv. Unknown keys are an error, naming the line. name is used in errors.
func ReadJSONL[J, R any](r io.Reader, name string, conv func(J) R) ([]R, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	var rows []R
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var j J
		dec := json.NewDecoder(bytesReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&j); err != nil {
			return nil, fmt.Errorf("%s: line %d: %w", name, line, err)
		}
		rows = append(rows, conv(j))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", name, line+1, err)
	}
	return rows, nil
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

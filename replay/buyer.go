package replay

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/signal"
)

// Buyer is the replay of one buyer (shop_id, buyer_id): the signal logic
// (signal.Buyer) under the replay's rules for ordering, time and counting.
// It is what every engine runs per buyer; see the package documentation for
// the contract. A Buyer is not safe for concurrent use; distinct Buyers are
// independent.
type Buyer struct {
	params signal.Params
	order  Order
	sb     *signal.Buyer
	ptrs   []*event.Event // Replay's ordering scratch

	// Stream position: the last event applied (its ordering fields) and the
	// last watermark, which Feed checks events against. A stream keeps a
	// Buyer per buyer for long, so it holds no more than that.
	last      lastEvent
	hasLast   bool
	watermark int64
	hasMark   bool

	// gap is the session gap in µs (TrackSessions; 0: no sessions) and
	// sess the open session.
	gap  int64
	sess sessionState
}

// NewBuyer returns the empty replay of buyer key under params and order.
func NewBuyer(key event.BuyerKey, params signal.Params, order Order) *Buyer {
	return &Buyer{params: params, order: order, sb: signal.NewBuyer(key, params)}
}

// Key returns the buyer's key.
func (b *Buyer) Key() event.BuyerKey { return b.sb.Key() }

// Order returns the processing order b runs in.
func (b *Buyer) Order() Order { return b.order }

// reset makes b the empty replay of key, keeping its memory.
func (b *Buyer) reset(key event.BuyerKey) {
	b.sb.Reset(key)
	b.last, b.hasLast, b.watermark, b.hasMark = lastEvent{}, false, 0, false
	b.sess = sessionState{}
}

// begin lends out's row slices to sig, the signal.Output the logic appends
// to; end takes them back and folds the logic's counts into out.
func begin(sig *signal.Output, out *Output) {
	sig.Signals, sig.Conversations, sig.Orders = out.Signals, out.Conversations, out.Orders
}

func end(sig *signal.Output, out *Output) {
	out.Signals, out.Conversations, out.Orders = sig.Signals, sig.Conversations, sig.Orders
	out.Counts.Signal.Add(sig.Counts)
}

// lastEvent is what a Buyer keeps of the last event applied: its ordering
// fields.
type lastEvent struct {
	id                    string
	eventTime, ingestTime int64
	hasIngest             bool
}

func (l *lastEvent) event() event.Event {
	return event.Event{EventID: l.id, EventTime: l.eventTime, IngestTime: l.ingestTime, HasIngestTime: l.hasIngest}
}

// remember records e as the last event applied (its ordering fields only).
func (b *Buyer) remember(e *event.Event) {
	b.last = lastEvent{id: e.EventID, eventTime: e.EventTime, ingestTime: e.IngestTime, hasIngest: e.HasIngestTime}
	b.hasLast = true
}

// Replay runs a buyer's complete history: it makes b the empty replay of
// the buyer of events[0], applies the events in the processing order
// (SortBuyerEvents' order; the slice itself is not reordered) and finishes
// (Finish). All events must be of that buyer. This is what a batch engine
// calls once per buyer after grouping; b may be reused for the next buyer.
func (b *Buyer) Replay(events []event.Event, out *Output) {
	if len(events) == 0 {
		return
	}
	b.reset(events[0].Key())
	// Order pointers rather than events (cheaper to move), and skip the sort
	// when the events are already in order (logs written in arrival order).
	cmp := buyerCmp(events, b.order)
	ptrs := b.ptrs[:0]
	for i := range events {
		ptrs = append(ptrs, &events[i])
	}
	sorted := true
	for i := 1; i < len(ptrs); i++ {
		if cmp(ptrs[i-1], ptrs[i]) > 0 {
			sorted = false
			break
		}
	}
	if !sorted {
		slices.SortFunc(ptrs, cmp)
	}
	var sig signal.Output
	begin(&sig, out)
	c := &out.Counts
	if b.gap > 0 {
		for _, e := range ptrs {
			c.observe(e)
			b.apply(e, &sig, out)
		}
		b.flushSession(out)
	} else {
		for _, e := range ptrs {
			c.observe(e)
			b.sb.Apply(e, &sig)
		}
	}
	b.sb.Finish(&sig)
	end(&sig, out)
	b.remember(ptrs[len(ptrs)-1])
	clear(ptrs)
	b.ptrs = ptrs[:0]
}

// ErrOrder is the error of an event fed against the contract: out of the
// processing order, or arriving before a watermark already given.
var ErrOrder = errors.New("event out of processing order")

// ErrOtherBuyer is the error of an event fed to another buyer's Buyer.
var ErrOtherBuyer = errors.New("event of another buyer")

// Feed applies one event, the next of this buyer in the processing order
// (Order.Compare), as a stream delivers it: signals and orders it produces
// are appended to out at once and are final. An event of another buyer, one
// that comes before the previous event in the processing order, or one
// whose arrival time (event_time under OrderEventTime) is before a
// watermark already given to Advance is not applied: Feed returns an error
// wrapping ErrOtherBuyer or ErrOrder that names the event, and b is
// unchanged. Events equal in (arrival, event_time, event_id) are exact
// redeliveries and may come in any order.
func (b *Buyer) Feed(e *event.Event, out *Output) error {
	if k := b.sb.Key(); e.ShopID != k.ShopID || e.BuyerID != k.BuyerID {
		return fmt.Errorf("replay buyer %s/%s: event %s: %w %s/%s", k.ShopID, k.BuyerID, e.EventID, ErrOtherBuyer, e.ShopID, e.BuyerID)
	}
	if b.hasMark && b.order.time(e) < b.watermark {
		return fmt.Errorf("replay buyer %s/%s: event %s at %s: %w: the watermark %s has passed (rows up to it are final)",
			e.ShopID, e.BuyerID, e.EventID, fmtTime(b.order.time(e)), ErrOrder, fmtTime(b.watermark))
	}
	if b.hasLast {
		if last := b.last.event(); b.order.compareContent(e, &last) < 0 {
			return fmt.Errorf("replay buyer %s/%s: event %s at %s: %w: it comes before event %s at %s (%s order)",
				e.ShopID, e.BuyerID, e.EventID, fmtTime(b.order.time(e)), ErrOrder, last.EventID, fmtTime(b.order.time(&last)), b.order)
		}
	}
	var sig signal.Output
	begin(&sig, out)
	out.Counts.observe(e)
	b.apply(e, &sig, out)
	end(&sig, out)
	b.remember(e)
	return nil
}

// apply runs e through the logic (appending to sig) and, with sessions on,
// adds it to the buyer's sessions (appended to out).
func (b *Buyer) apply(e *event.Event, sig *signal.Output, out *Output) {
	if b.gap <= 0 {
		b.sb.Apply(e, sig)
		return
	}
	opens, hadCart := b.sessionBefore(e)
	first := len(sig.Signals)
	eff := b.sb.Apply(e, sig)
	b.sessionAfter(e, eff, opens, hadCart, len(sig.Signals)-first, out)
}

// Status is what a Buyer holds, for a consumer deciding what to keep.
type Status int

const (
	// Empty: no state at all. Dropping the Buyer changes nothing.
	Empty Status = iota
	// Settled: every row is final and written (Finish would write
	// nothing); the state is only the buyer's clock and dedupe memory (a
	// small snapshot). Keeping it makes a later redelivery count as
	// duplicate and the buyer's next accepted event count an expiry, exactly
	// as in a replay. Dropping it instead changes no row as long as every
	// event carries ingest_time and no event reuses an event_id with another
	// event_time; the counts then differ (such a redelivery counts as late,
	// and one expiry goes uncounted).
	Settled
	// Active: the state holds conversations, a cart or orders that events
	// still to come may change or read. Keep it.
	Active
)

// String returns the status' name.
func (s Status) String() string {
	switch s {
	case Empty:
		return "empty"
	case Settled:
		return "settled"
	case Active:
		return "active"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Status returns what b holds. An open session (TrackSessions) keeps the
// buyer Active.
func (b *Buyer) Status() Status {
	switch {
	case b.sess.Open:
		return Active
	case b.sb.Empty():
		return Empty
	case b.sb.Settled():
		return Settled
	}
	return Active
}

// Advance moves the buyer's watermark to w: a promise that every event
// still to come has an arrival time (ingest_time, or event_time without
// one) of at least w; under OrderEventTime, an event_time of at least w.
// Watermarks only move forward (a smaller w is ignored). When no event
// still to come can change the buyer's conversations any more (w − L −
// clock > state_ttl, where L = max_out_of_orderness + allowed_lateness
// under OrderArrival and 0 under OrderEventTime), Advance writes the
// conversation rows to out and settles the state (see signal.Buyer.Settle;
// the result is exactly what the events to come and Finish would give
// without it). It returns the status after the advance.
//
// Conversation inactivity needs no timer: whether a conversation is active
// is judged at each event by that event's own time, and a conversation
// idle for conversation_inactivity can still be reopened by a later
// message, so its row is final only when the state settles or expires.
func (b *Buyer) Advance(w int64, out *Output) Status {
	if b.hasMark && w <= b.watermark {
		return b.Status()
	}
	b.watermark, b.hasMark = w, true
	var sig signal.Output
	begin(&sig, out)
	lowest := b.lowest(w)
	b.sb.Settle(lowest, &sig)
	end(&sig, out)
	if b.sess.Open && b.sess.Row.EndedAt >= 0 && lowest-b.sess.Row.EndedAt > b.gap {
		// No event still to come can join the session (an event joins
		// when its event_time is at most EndedAt + gap).
		b.flushSession(out)
	}
	return b.Status()
}

// Due returns the smallest watermark at which Advance would settle b, and
// false when no watermark would (b is not Active). A consumer can keep its
// buyers in a timer queue by it rather than advancing every buyer.
func (b *Buyer) Due() (int64, bool) {
	sd, sok := b.sessionDue()
	clock, ok := b.sb.Clock()
	if !ok || clock < 0 || b.sb.Empty() || b.sb.Settled() {
		return sd, sok
	}
	due := satAdd(satAdd(clock, b.params.StateTTL.Microseconds()), satAdd(b.slack(), 1))
	if sok {
		due = min(due, sd)
	}
	return due, true
}

// slack is how far before the watermark an event still to come that is not
// late can lie in event time: L under OrderArrival, 0 under
// OrderEventTime.
func (b *Buyer) slack() int64 {
	if b.order == OrderEventTime {
		return 0
	}
	return satAdd(b.params.MaxOutOfOrderness.Microseconds(), b.params.AllowedLateness.Microseconds())
}

// lowest is the lower bound on the event_time of events still to come that
// are not late, given watermark w.
func (b *Buyer) lowest(w int64) int64 {
	s := b.slack()
	if w < math.MinInt64+s {
		return math.MinInt64
	}
	return w - s
}

// satAdd is a + b for b ≥ 0, saturating at math.MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Finish ends the input: it writes the rows of the conversations the buyer
// still holds. The cart, order and dedupe memory stay, so more events may
// follow, but a conversation seen again after Finish starts a new row (as
// in two replays of consecutive logs).
func (b *Buyer) Finish(out *Output) {
	var sig signal.Output
	begin(&sig, out)
	b.sb.Finish(&sig)
	end(&sig, out)
	b.flushSession(out)
}

// Conversations appends to dst the rows of the conversations b holds as
// Finish would write them now, without writing them: rows that are not
// final yet (see the package documentation), for a consumer that shows or
// upserts the current state. b is unchanged.
func (b *Buyer) Conversations(dst []signal.Conversation) []signal.Conversation {
	return b.sb.Conversations(dst)
}

// snapshotVersion is the version of Buyer's snapshot format.
const snapshotVersion = 1

// snapshot is the JSON form of a Buyer: the stream position and the logic's
// state (signal.Buyer's own versioned JSON).
type snapshot struct {
	Version   int       `json:"version"`
	Last      *position `json:"last,omitempty"`
	Watermark *int64    `json:"watermark,omitempty"`
	// Session is the open session (TrackSessions), absent when none is.
	Session *Session        `json:"session,omitempty"`
	State   json.RawMessage `json:"state"`
}

type position struct {
	EventID    string `json:"event_id"`
	EventTime  int64  `json:"event_time"`
	IngestTime *int64 `json:"ingest_time,omitempty"`
}

// MarshalBinary snapshots b: the buyer's key and state and the stream
// position (the last event fed and the watermark), as versioned JSON
// (deterministic: the same Buyer gives the same bytes). Parameters and
// order are configuration, not state: give them again to NewBuyer before
// UnmarshalBinary. Rows already appended to an Output are not part of it.
func (b *Buyer) MarshalBinary() ([]byte, error) {
	st, err := b.sb.MarshalBinary()
	if err != nil {
		return nil, err
	}
	s := snapshotHead{Version: snapshotVersion}
	if b.hasLast {
		s.Last = &position{EventID: b.last.id, EventTime: b.last.eventTime}
		if b.last.hasIngest {
			t := b.last.ingestTime
			s.Last.IngestTime = &t
		}
	}
	if b.hasMark {
		w := b.watermark
		s.Watermark = &w
	}
	if b.sess.Open {
		row := b.sess.Row
		s.Session = &row
	}
	// The snapshot's bytes, with the state spliced in as it is: marshalling
	// it as a json.RawMessage would scan and copy it once more (half the
	// cost of a snapshot) to give the same bytes, since the logic's JSON is
	// already compact and escaped.
	head, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(head)+len(st)+10)
	out = append(out, head[:len(head)-1]...)
	out = append(out, `,"state":`...)
	out = append(out, st...)
	return append(out, '}'), nil
}

// snapshotHead is snapshot without its state, which MarshalBinary appends.
type snapshotHead struct {
	Version   int       `json:"version"`
	Last      *position `json:"last,omitempty"`
	Watermark *int64    `json:"watermark,omitempty"`
	Session   *Session  `json:"session,omitempty"`
}

// UnmarshalBinary restores a snapshot written by MarshalBinary into b,
// keeping b's parameters and order. The restored Buyer continues exactly
// as the one snapshotted would have.
func (b *Buyer) UnmarshalBinary(data []byte) error {
	s, err := parseSnapshot(data)
	if err != nil {
		return fmt.Errorf("restore replay buyer: %w", err)
	}
	if s.Version != snapshotVersion {
		return fmt.Errorf("restore replay buyer: snapshot version %d, want %d (written by another signalab version)", s.Version, snapshotVersion)
	}
	if b.sb == nil {
		b.sb = signal.NewBuyer(event.BuyerKey{}, b.params)
	}
	if err := b.sb.UnmarshalBinary(s.State); err != nil {
		return err
	}
	b.last, b.hasLast, b.watermark, b.hasMark = lastEvent{}, false, 0, false
	if s.Last != nil {
		b.last = lastEvent{id: s.Last.EventID, eventTime: s.Last.EventTime}
		if s.Last.IngestTime != nil {
			b.last.ingestTime, b.last.hasIngest = *s.Last.IngestTime, true
		}
		b.hasLast = true
	}
	if s.Watermark != nil {
		b.watermark, b.hasMark = *s.Watermark, true
	}
	b.sess = sessionState{}
	if s.Session != nil {
		b.sess = sessionState{Open: true, Row: *s.Session}
	}
	return nil
}

// stateKey separates a snapshot's head from its state, which
// MarshalBinary writes last.
var stateKey = []byte(`,"state":`)

// parseSnapshot reads a snapshot. The state is taken as it is from behind
// the first `,"state":` when the snapshot ends with it (as MarshalBinary
// writes it), so that only the logic's decoder reads it: the sequence cannot
// occur earlier, since the head holds no key "state" and a quote inside a
// JSON string is escaped. Any other layout is decoded the ordinary way.
func parseSnapshot(data []byte) (snapshot, error) {
	var s snapshot
	if i := bytes.Index(data, stateKey); i > 0 && len(data) > i+len(stateKey) && data[len(data)-1] == '}' {
		head := make([]byte, 0, i+1)
		head = append(append(head, data[:i]...), '}')
		var h snapshotHead
		if err := json.Unmarshal(head, &h); err == nil {
			s.Version, s.Last, s.Watermark, s.Session = h.Version, h.Last, h.Watermark, h.Session
			s.State = data[i+len(stateKey) : len(data)-1]
			return s, nil
		}
	}
	err := json.Unmarshal(data, &s)
	return s, err
}

// time is the time a watermark bounds under o: the arrival time, or the
// event_time under OrderEventTime.
func (o Order) time(e *event.Event) int64 {
	if o == OrderEventTime {
		return e.EventTime
	}
	return arrivalTime(e)
}

// compareContent is Compare without the trailing input position, which a
// stream's events need not carry.
func (o Order) compareContent(a, b *event.Event) int {
	if c := cmp.Compare(o.time(a), o.time(b)); c != 0 {
		return c
	}
	if o == OrderEventTime {
		if c := strings.Compare(a.EventID, b.EventID); c != 0 {
			return c
		}
		return cmp.Compare(arrivalTime(a), arrivalTime(b))
	}
	if c := cmp.Compare(a.EventTime, b.EventTime); c != 0 {
		return c
	}
	return strings.Compare(a.EventID, b.EventID)
}

func fmtTime(us int64) string { return time.UnixMicro(us).UTC().Format(time.RFC3339Nano) }

package live

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

// settings is what every task of a processor shares.
type settings struct {
	params      signal.Params
	topics      Topics
	forgetAfter time.Duration
	// ingestFromRecord gives an event without ingest_time its record's
	// timestamp as ingest_time (Config.IngestTimeFromRecord).
	ingestFromRecord bool
	// sessions is the session gap (Config.Sessions); 0: no sessions.
	sessions time.Duration
}

// emitter takes the output records of a transaction.
type emitter interface {
	emit(r *kgo.Record)
}

// ReasonOutOfOrder is the quarantine reason of an event the buyer core
// refused (replay.ErrOrder): it comes before the buyer's previous event in
// arrival order, or behind the watermark at which its state settled. A
// stream in arrival order has none; replay has no such reason.
const ReasonOutOfOrder = "out_of_order"

// task is the state of one input partition: its buyers (each a
// replay.Buyer, the buyer core), its counts and its watermark, as Kafka
// Streams keeps a task per partition. A task is used by one goroutine at a
// time.
type task struct {
	s      *settings
	part   int32
	buyers map[event.BuyerKey]*buyer
	counts replay.Counts
	stats  LiveStats
	// openConvs and openTriggered count the conversation rows the buyers
	// hold (not final yet); counts records include them, as the replay's
	// end-of-log flush would.
	openConvs, openTriggered int64
	maxArrival               int64
	hasArrival               bool
	next                     int64 // next input offset to process
	timers                   timerHeap
	dirty                    []*buyer
	changed                  []*buyer // buyers changed in the current transaction, to publish at commit

	// out takes what the buyer core produces: its rows are taken after
	// each call, its counts accumulate until fold adds them to counts
	// (adding a Counts, lag histogram included, per event would cost more
	// than the event).
	out  replay.Output
	rows []signal.Conversation
	ts   time.Time // timestamp of the latest input record, given to output records
}

// buyer is one buyer's state in a task.
type buyer struct {
	key event.BuyerKey
	rb  *replay.Buyer
	// birth is the event_time of the first accepted event of the current
	// state (see ConversationKey).
	birth    int64
	hasBirth bool
	signals  []signal.Signal       // signals of the conversations held
	convs    []signal.Conversation // rows of the conversations held, as last written
	dirty    bool
	gone     bool
	written  bool // the changelog has a record of it
	// dueSet/due: a settle timer is pending for watermark due.
	due    int64
	dueSet bool
	// settledAt is the watermark when the buyer was found settled, for
	// --forget-after; forgetSet: a forget timer is pending.
	settledAt    int64
	hasSettledAt bool
	forgetSet    bool
	stateBytes   int // size of the last changelog value
	// openSess is the open session as last written to the sessions
	// topic (hasOpenSess: one was written and is still open).
	openSess    replay.Session
	hasOpenSess bool
}

func newTask(s *settings, part int32) *task {
	return &task{s: s, part: part, buyers: map[event.BuyerKey]*buyer{}}
}

// watermark is the partition's watermark: the latest arrival time
// (ingest_time, or event_time without one) minus max_out_of_orderness, the
// promise replay.Buyer.Advance takes (every record still to come arrives
// at or after it; LiveStats.BehindWatermark counts those that do not).
func (t *task) watermark() (int64, bool) {
	if !t.hasArrival {
		return 0, false
	}
	return t.maxArrival - t.s.params.MaxOutOfOrderness.Microseconds(), true
}

func arrival(e *event.Event) int64 {
	if e.HasIngestTime {
		return e.IngestTime
	}
	return e.EventTime
}

// cloneStrings gives e's strings their own memory: the parser makes them
// substrings of one copy of the record, which a long-lived state would
// otherwise keep alive whole.
func cloneStrings(e *event.Event) {
	e.EventID = strings.Clone(e.EventID)
	e.ConversationID = strings.Clone(e.ConversationID)
	e.Channel = strings.Clone(e.Channel)
	e.CartToken = strings.Clone(e.CartToken)
	e.OrderID = strings.Clone(e.OrderID)
	for i, p := range e.ProductIDs {
		e.ProductIDs[i] = strings.Clone(p)
	}
}

// quarantine writes r to the quarantine topic with its reason and counts it.
func (t *task) quarantine(r *kgo.Record, column, reason, detail string, em emitter) error {
	t.counts.Quarantine(reason)
	raw := string(r.Value)
	if len(raw) > 64<<10 {
		raw = raw[:64<<10] + "…"
	}
	v, err := json.Marshal(QuarantineRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		Column: column, Reason: reason, Detail: detail, Raw: raw})
	if err != nil {
		return err
	}
	em.emit(&kgo.Record{Topic: t.s.topics.Quarantine, Key: bytes.Clone(r.Key), Value: v, Timestamp: r.Timestamp})
	return nil
}

// record processes one input record.
func (t *task) record(r *kgo.Record, em emitter) error {
	t.counts.Read++
	t.next = r.Offset + 1
	t.ts = r.Timestamp
	var e event.Event
	if p := event.ParseJSONEvent(r.Value, &e); p != nil {
		return t.quarantine(r, p.Column, string(p.Reason), p.Detail, em)
	}
	if !e.HasIngestTime && t.s.ingestFromRecord && !r.Timestamp.IsZero() {
		e.IngestTime, e.HasIngestTime = r.Timestamp.UnixMicro(), true
	}
	key := e.Key()
	if !keyIs(r.Key, key) {
		t.stats.KeyMismatches++
	}
	arr := arrival(&e)
	if w, ok := t.watermark(); ok && arr < w {
		t.stats.BehindWatermark++
	}
	if !t.hasArrival || arr > t.maxArrival {
		t.maxArrival, t.hasArrival = arr, true
	}
	cloneStrings(&e)
	if e.Currency != "" {
		// As the event readers count them for replay.json (valid events).
		if t.counts.Currencies == nil {
			t.counts.Currencies = map[string]int64{}
		}
		if _, ok := t.counts.Currencies[e.Currency]; !ok {
			e.Currency = strings.Clone(e.Currency)
		}
		t.counts.Currencies[e.Currency]++
	}
	b := t.buyers[key]
	if b == nil {
		key = event.BuyerKey{ShopID: strings.Clone(key.ShopID), BuyerID: strings.Clone(key.BuyerID)}
		b = &buyer{key: key, rb: replay.NewBuyer(key, t.s.params, replay.OrderArrival)}
		b.rb.TrackSessions(t.s.sessions)
		t.buyers[key] = b
	}
	return t.feed(b, r, &e, em)
}

func keyIs(k []byte, b event.BuyerKey) bool {
	return len(k) == len(b.ShopID)+1+len(b.BuyerID) && string(k[:len(b.ShopID)]) == b.ShopID &&
		k[len(b.ShopID)] == '/' && string(k[len(b.ShopID)+1:]) == b.BuyerID
}

// feed gives e to the buyer core and writes what it produced.
func (t *task) feed(b *buyer, r *kgo.Record, e *event.Event, em emitter) error {
	o := &t.out
	t.takeRows()
	before, expiries := b.rb.Status(), o.Counts.Signal.Expiries
	if err := b.rb.Feed(e, o); err != nil {
		if !errors.Is(err, replay.ErrOrder) {
			return err
		}
		// The core refuses an event replay would order elsewhere; it is
		// kept and counted, not applied.
		t.stats.OutOfOrder++
		if b.rb.Status() == replay.Empty && !b.written {
			delete(t.buyers, b.key)
			b.gone = true
		}
		return t.quarantine(r, "ingest_time", ReasonOutOfOrder, err.Error(), em)
	}
	oldBirth, hadBirth := b.birth, b.hasBirth
	if o.Counts.Signal.Expiries > expiries {
		// The state expired before this event (rule 8): the conversations
		// it held are final (none if it had settled already).
		for _, row := range o.Conversations {
			if err := t.emitConversation(b, row, true, em); err != nil {
				return err
			}
		}
		t.dropOpen(b)
		b.hasBirth = false
	}
	if st := b.rb.Status(); st == replay.Active && (before != replay.Active || !b.hasBirth) {
		// A new state begins with this event.
		birth := e.EventTime
		if hadBirth && birth <= oldBirth {
			birth = oldBirth + 1
		}
		b.birth, b.hasBirth, b.forgetSet, b.hasSettledAt = birth, true, false, false
	}
	for i := range o.Signals {
		v, err := json.Marshal(output.SignalToJSON(o.Signals[i]))
		if err != nil {
			return err
		}
		em.emit(&kgo.Record{Topic: t.s.topics.Signals, Key: BuyerRecordKey(b.key), Value: v, Timestamp: t.ts})
		b.signals = append(b.signals, o.Signals[i])
	}
	for i := range o.Orders {
		v, err := json.Marshal(output.OrderToJSON(o.Orders[i]))
		if err != nil {
			return err
		}
		em.emit(&kgo.Record{Topic: t.s.topics.Orders, Key: BuyerRecordKey(b.key), Value: v, Timestamp: t.ts})
	}
	if err := t.emitSessions(b, em); err != nil {
		return err
	}
	t.markDirty(b)
	return nil
}

// emitSessions writes the sessions the buyer core finished (final rows,
// in t.out.Sessions) to the sessions topic.
func (t *task) emitSessions(b *buyer, em emitter) error {
	for _, row := range t.out.Sessions {
		if err := t.emitSession(b, row, true, em); err != nil {
			return err
		}
		if b.hasOpenSess && b.openSess.StartedAt == row.StartedAt {
			b.hasOpenSess = false
		}
	}
	return nil
}

func (t *task) emitSession(b *buyer, row replay.Session, final bool, em emitter) error {
	v, err := json.Marshal(SessionRecord{Session: row, Final: final})
	if err != nil {
		return err
	}
	em.emit(&kgo.Record{Topic: t.s.topics.Sessions, Key: SessionKey(b.key, row.StartedAt), Value: v, Timestamp: t.ts})
	return nil
}

// updateOpenSession writes b's open session when it differs from what was
// last written (a row not final yet, upserted under its key).
func (t *task) updateOpenSession(b *buyer, em emitter) error {
	row, ok := b.rb.OpenSession()
	if !ok || (b.hasOpenSess && sessionsEqual(row, b.openSess)) {
		return nil
	}
	if err := t.emitSession(b, row, false, em); err != nil {
		return err
	}
	b.openSess, b.hasOpenSess = row, true
	return nil
}

func sessionsEqual(a, b replay.Session) bool {
	ft := a.FirstTriggerAt == nil && b.FirstTriggerAt == nil ||
		a.FirstTriggerAt != nil && b.FirstTriggerAt != nil && *a.FirstTriggerAt == *b.FirstTriggerAt
	a.FirstTriggerAt, b.FirstTriggerAt = nil, nil
	return ft && a == b
}

// takeRows empties the rows of t.out (they have been written), keeping its
// counts.
func (t *task) takeRows() {
	o := &t.out
	clear(o.Signals)
	clear(o.Conversations)
	clear(o.Orders)
	clear(o.Sessions)
	o.Signals, o.Conversations, o.Orders, o.Sessions = o.Signals[:0], o.Conversations[:0], o.Orders[:0], o.Sessions[:0]
}

// fold adds the counts the buyer core produced since the last fold to
// t.counts.
func (t *task) fold() {
	t.counts.Add(t.out.Counts)
	t.out.Counts = replay.Counts{}
}

func (t *task) markDirty(b *buyer) {
	if !b.dirty {
		b.dirty = true
		t.dirty = append(t.dirty, b)
	}
}

// dropOpen forgets the conversations b held (written out as final).
func (t *task) dropOpen(b *buyer) {
	for _, c := range b.convs {
		t.openConvs--
		if c.Triggered {
			t.openTriggered--
		}
	}
	b.convs = b.convs[:0]
	clear(b.signals)
	b.signals = b.signals[:0]
}

func (t *task) emitConversation(b *buyer, row signal.Conversation, final bool, em emitter) error {
	if !b.hasBirth {
		return fmt.Errorf("partition %d: buyer %s/%s has a conversation but no birth (state inconsistent)", t.part, b.key.ShopID, b.key.BuyerID)
	}
	v, err := json.Marshal(ConversationRecord{ConversationJSON: output.ConversationToJSON(row), Final: final})
	if err != nil {
		return err
	}
	em.emit(&kgo.Record{Topic: t.s.topics.Conversations, Key: ConversationKey(b.key, row.ConversationID, b.birth),
		Value: v, Timestamp: t.ts})
	return nil
}

// scheduleDirty sets the timers of the buyers changed since the last
// flushDirty, so that fireTimers sees them.
func (t *task) scheduleDirty() {
	for _, b := range t.dirty {
		if !b.gone {
			t.schedule(b)
		}
	}
}

// fireTimers advances the buyers due at the partition's watermark: the
// core settles them (writes their conversation rows, final); with
// --forget-after, settled states that long behind the watermark are
// dropped (a tombstone in the changelog).
func (t *task) fireTimers(em emitter) error {
	w, ok := t.watermark()
	if !ok {
		return nil
	}
	for len(t.timers) > 0 && t.timers[0].due <= w {
		tm := heap.Pop(&t.timers).(timer)
		b := tm.b
		if b.gone {
			continue
		}
		st := b.rb.Status()
		if !tm.forget {
			if st != replay.Active || !b.dueSet || b.due != tm.due {
				continue // stale: the buyer moved on
			}
			b.dueSet = false
			o := &t.out
			t.takeRows()
			st := b.rb.Advance(w, o)
			// With sessions, the buyer may be due for its open session
			// alone: Advance writes it and the buyer stays active.
			if err := t.emitSessions(b, em); err != nil {
				return err
			}
			if st == replay.Active {
				if len(o.Sessions) > 0 {
					t.markDirty(b) // the snapshot no longer holds the session
				}
				t.schedule(b) // not settled (yet)
				continue
			}
			for _, row := range o.Conversations {
				if err := t.emitConversation(b, row, true, em); err != nil {
					return err
				}
			}
			t.dropOpen(b)
			t.stats.Settled++
			t.markDirty(b)
			t.schedule(b)
			continue
		}
		if st != replay.Settled || !b.forgetSet || b.settledAt+t.s.forgetAfter.Microseconds() != tm.due {
			continue
		}
		delete(t.buyers, b.key)
		b.gone = true
		t.stats.Forgotten++
		em.emit(&kgo.Record{Topic: t.s.topics.Changelog, Partition: t.part, Key: changelogKey(b.key), Timestamp: t.ts})
	}
	if len(t.timers) > 2*len(t.buyers)+1024 {
		t.rebuildTimers()
	}
	return nil
}

// schedule sets b's timer: settle when the watermark reaches its due
// (replay.Buyer.Due), or, settled and with --forget-after, forget it that
// long after the watermark at which it was found settled.
func (t *task) schedule(b *buyer) {
	switch b.rb.Status() {
	case replay.Active:
		due, ok := b.rb.Due()
		if !ok || (b.dueSet && b.due == due) {
			return
		}
		b.due, b.dueSet = due, true
		heap.Push(&t.timers, timer{due: due, b: b})
	case replay.Settled:
		b.dueSet = false
		if !b.hasSettledAt {
			b.settledAt, _ = t.watermark()
			b.hasSettledAt = true
		}
		if t.s.forgetAfter <= 0 || b.forgetSet {
			return
		}
		b.forgetSet = true
		heap.Push(&t.timers, timer{due: b.settledAt + t.s.forgetAfter.Microseconds(), b: b, forget: true})
	}
}

// flushDirty writes what changed in the buyers touched since the last
// call: conversation rows that changed (not final), the changelog records,
// and new timers.
func (t *task) flushDirty(em emitter) error {
	for _, b := range t.dirty {
		b.dirty = false
		if b.gone {
			continue
		}
		if b.rb.Status() == replay.Empty {
			// Nothing to keep (an invalid event only): no state to store.
			delete(t.buyers, b.key)
			b.gone = true
			if b.written {
				em.emit(&kgo.Record{Topic: t.s.topics.Changelog, Partition: t.part, Key: changelogKey(b.key), Timestamp: t.ts})
			}
			continue
		}
		state, err := b.rb.MarshalBinary()
		if err != nil {
			return fmt.Errorf("partition %d: buyer %s/%s: %w", t.part, b.key.ShopID, b.key.BuyerID, err)
		}
		t.rows = b.rb.Conversations(t.rows[:0])
		if err := t.updateOpen(b, t.rows, em); err != nil {
			return err
		}
		if err := t.updateOpenSession(b, em); err != nil {
			return err
		}
		v := encodeBuyerRecord(b, state)
		b.stateBytes, b.written = len(v), true
		em.emit(&kgo.Record{Topic: t.s.topics.Changelog, Partition: t.part, Key: changelogKey(b.key), Value: v, Timestamp: t.ts})
		t.schedule(b)
		t.changed = append(t.changed, b)
	}
	clear(t.dirty)
	t.dirty = t.dirty[:0]
	return nil
}

// updateOpen writes the rows of rows (b's conversations now, sorted by id)
// that differ from what was last written, and keeps them as b.convs.
func (t *task) updateOpen(b *buyer, rows []signal.Conversation, em emitter) error {
	i := 0
	for _, r := range rows {
		for i < len(b.convs) && b.convs[i].ConversationID < r.ConversationID {
			i++
		}
		if i < len(b.convs) && b.convs[i].ConversationID == r.ConversationID && sameConversation(&b.convs[i], &r) {
			continue
		}
		if err := t.emitConversation(b, r, false, em); err != nil {
			return err
		}
	}
	t.setOpen(b, rows)
	return nil
}

// setOpen replaces b.convs by rows, keeping the open counts.
func (t *task) setOpen(b *buyer, rows []signal.Conversation) {
	for _, c := range b.convs {
		t.openConvs--
		if c.Triggered {
			t.openTriggered--
		}
	}
	b.convs = append(b.convs[:0], rows...)
	for _, c := range b.convs {
		t.openConvs++
		if c.Triggered {
			t.openTriggered++
		}
	}
}

func sameConversation(a, b *signal.Conversation) bool {
	eq := func(x, y *int64) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return a.ConversationID == b.ConversationID && a.ShopID == b.ShopID && a.BuyerID == b.BuyerID &&
		a.Channel == b.Channel && a.StartedAt == b.StartedAt && eq(a.ClosedAt, b.ClosedAt) &&
		a.LastActivityAt == b.LastActivityAt && a.BuyerMessages == b.BuyerMessages &&
		a.MerchantMessages == b.MerchantMessages && eq(a.FirstMerchantReplyAt, b.FirstMerchantReplyAt) &&
		a.Signals == b.Signals && eq(a.FirstSignalAt, b.FirstSignalAt) && a.Triggered == b.Triggered &&
		a.CartValueAtStartCents == b.CartValueAtStartCents && a.HadCartAtStart == b.HadCartAtStart &&
		a.PriorOrders == b.PriorOrders && a.PriorOrderValueCents == b.PriorOrderValueCents
}

// rebuildTimers replaces the timer heap, which keeps stale entries until
// they come due, by one entry per buyer.
func (t *task) rebuildTimers() {
	t.timers = t.timers[:0]
	for _, b := range t.buyers {
		b.dueSet, b.forgetSet = false, false
		switch b.rb.Status() {
		case replay.Active:
			if due, ok := b.rb.Due(); ok {
				b.due, b.dueSet = due, true
				t.timers = append(t.timers, timer{due: due, b: b})
			}
		case replay.Settled:
			if !b.hasSettledAt {
				b.settledAt, _ = t.watermark()
				b.hasSettledAt = true
			}
			if t.s.forgetAfter > 0 {
				b.forgetSet = true
				t.timers = append(t.timers, timer{due: b.settledAt + t.s.forgetAfter.Microseconds(), b: b, forget: true})
			}
		}
	}
	heap.Init(&t.timers)
}

// partitionCounts returns the counts record of the task: its counts with
// the conversations it holds counted as the replay's final flush would.
func (t *task) partitionCounts() PartitionCounts {
	t.fold()
	c := t.counts
	c.Signal.Conversations += t.openConvs
	c.Signal.Triggered += t.openTriggered
	pc := PartitionCounts{Schema: CountsSchema, Input: t.s.topics.Input, Partition: t.part, NextOffset: t.next,
		Order: replay.OrderArrival.String(), Params: output.ParamsToJSON(t.s.params), Counts: CountsToJSON(&c), Live: t.stats}
	if t.hasArrival {
		ts := output.Timestamp(t.maxArrival)
		pc.MaxArrival = &ts
	}
	return pc
}

// emitCounts writes the partition's counts to the counts topic and to the
// changelog (from which a restore takes them).
func (t *task) emitCounts(em emitter) error {
	v, err := json.Marshal(t.partitionCounts())
	if err != nil {
		return err
	}
	em.emit(&kgo.Record{Topic: t.s.topics.Counts, Partition: t.part, Key: []byte(CountsKey(t.s.topics.Input, t.part)), Value: v, Timestamp: t.ts})
	em.emit(&kgo.Record{Topic: t.s.topics.Changelog, Partition: t.part, Key: []byte(changelogPartitionKey), Value: v, Timestamp: t.ts})
	return nil
}

// encodeBuyerRecord writes b's changelog value (see buyerRecord).
func encodeBuyerRecord(b *buyer, state []byte) []byte {
	r := buyerRecord{Birth: b.birth, HasBirth: b.hasBirth, SettledAt: b.settledAt, HasSettledAt: b.hasSettledAt, State: state}
	if len(b.signals) > 0 {
		js := make([]output.SignalJSON, len(b.signals))
		for i, s := range b.signals {
			js[i] = output.SignalToJSON(s)
		}
		v, err := json.Marshal(js)
		if err != nil {
			panic(err) // plain data
		}
		r.Signals = v
	}
	return r.append(make([]byte, 0, 24+len(r.Signals)+len(state)))
}

// load restores one changelog record into the task (the last record of
// each key, in any order).
func (t *task) load(key, value []byte) error {
	if string(key) == changelogPartitionKey {
		var pc PartitionCounts
		if err := json.Unmarshal(value, &pc); err != nil {
			return fmt.Errorf("partition record: %w", err)
		}
		if want := output.ParamsToJSON(t.s.params); pc.Params != want {
			return fmt.Errorf("the state was built with signal parameters %+v, not %+v: run with the same parameters, or start afresh with a new --group", pc.Params, want)
		}
		c, err := pc.Counts.Counts()
		if err != nil {
			return fmt.Errorf("partition record: %w", err)
		}
		// The record includes the conversations held then; they are
		// counted again from the buyers (see loaded).
		t.counts, t.stats, t.next = c, pc.Live, pc.NextOffset
		if pc.MaxArrival != nil {
			t.maxArrival, t.hasArrival = int64(*pc.MaxArrival), true
		}
		return nil
	}
	k, err := parseChangelogKey(key)
	if err != nil {
		return fmt.Errorf("key %q is neither a buyer ([shop_id, buyer_id]) nor %q: %w (is the topic a signalab live changelog?)", key, changelogPartitionKey, err)
	}
	var r buyerRecord
	if err := r.parse(value); err != nil {
		return fmt.Errorf("buyer %s/%s: %w", k.ShopID, k.BuyerID, err)
	}
	rb := replay.NewBuyer(k, t.s.params, replay.OrderArrival)
	rb.TrackSessions(t.s.sessions)
	if err := rb.UnmarshalBinary(r.State); err != nil {
		return fmt.Errorf("buyer %s/%s: %w", k.ShopID, k.BuyerID, err)
	}
	b := &buyer{key: k, rb: rb, stateBytes: len(value), written: true, birth: r.Birth, hasBirth: r.HasBirth,
		settledAt: r.SettledAt, hasSettledAt: r.HasSettledAt}
	if len(r.Signals) > 0 {
		var js []output.SignalJSON
		if err := json.Unmarshal(r.Signals, &js); err != nil {
			return fmt.Errorf("buyer %s/%s: signals: %w", k.ShopID, k.BuyerID, err)
		}
		for _, s := range js {
			b.signals = append(b.signals, s.Signal())
		}
	}
	b.convs = rb.Conversations(nil)
	b.openSess, b.hasOpenSess = rb.OpenSession() // written before the snapshot was
	t.buyers[k] = b
	return nil
}

// loaded finishes a restore: it takes the held conversations out of the
// restored counts (they are counted from the buyers) and sets the timers.
func (t *task) loaded() {
	for _, b := range t.buyers {
		for _, c := range b.convs {
			t.openConvs++
			if c.Triggered {
				t.openTriggered++
			}
		}
	}
	t.counts.Signal.Conversations -= t.openConvs
	t.counts.Signal.Triggered -= t.openTriggered
	t.rebuildTimers()
}

// timer is a pending settle (or forget) of a buyer, due when the watermark
// reaches due. Entries whose buyer moved on are skipped when they come due.
type timer struct {
	due    int64
	b      *buyer
	forget bool
}

type timerHeap []timer

func (h timerHeap) Len() int           { return len(h) }
func (h timerHeap) Less(i, j int) bool { return h[i].due < h[j].due }
func (h timerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)        { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = timer{}
	*h = old[:len(old)-1]
	return x
}

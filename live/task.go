package live

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// settings is what every task of a processor shares.
type settings struct {
	params      signal.Params
	topics      Topics
	forgetAfter time.Duration
}

// emitter takes the output records of a transaction.
type emitter interface {
	emit(r *kgo.Record)
}

// task is the state of one input partition: its buyers, its counts and its
// watermark, as Kafka Streams keeps a task per partition. A task is used by
// one goroutine at a time.
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

	out  signal.Output
	rows []signal.Conversation
	ts   time.Time // timestamp of the latest input record, given to output records
}

// buyer is one buyer's state in a task.
type buyer struct {
	key      event.BuyerKey
	l        logic
	birth    int64
	hasBirth bool
	// retired: the watermark passed state_ttl after the buyer's clock, so
	// its conversations were written out as final; the state stays for
	// duplicate detection and for counting the expiry the next event will
	// cause, as replay keeps it until the end of the log.
	retired bool
	touched int64
	signals []signal.Signal       // signals of the conversations held
	convs   []signal.Conversation // rows of the conversations held, as last written
	dirty   bool
	gone    bool
	// timerClock is the clock for which a retire timer is pending.
	timerClock int64
	timerSet   bool
	stateBytes int // size of the last changelog value
}

func newTask(s *settings, part int32) *task {
	return &task{s: s, part: part, buyers: map[event.BuyerKey]*buyer{}}
}

// safeTime is the event time below which no non-late event can arrive any
// more: the latest arrival time minus max_out_of_orderness (the watermark),
// minus max_out_of_orderness again (records may arrive that much out of
// order, see LiveStats.BehindWatermark), minus allowed_lateness (an event
// further behind its ingest_time is late and dropped before it can touch
// the state). A buyer whose clock + state_ttl is below it has expired for
// good: every event that could still reach its state would expire it.
func (t *task) safeTime() (int64, bool) {
	if !t.hasArrival {
		return 0, false
	}
	p := t.s.params
	return t.maxArrival - 2*p.MaxOutOfOrderness.Microseconds() - p.AllowedLateness.Microseconds(), true
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

// record processes one input record.
func (t *task) record(r *kgo.Record, em emitter) error {
	t.counts.Read++
	t.next = r.Offset + 1
	t.ts = r.Timestamp
	var e event.Event
	if p := event.ParseJSONEvent(r.Value, &e); p != nil {
		t.counts.Quarantine(string(p.Reason))
		raw := string(r.Value)
		if len(raw) > 64<<10 {
			raw = raw[:64<<10] + "…"
		}
		v, err := json.Marshal(QuarantineRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
			Column: p.Column, Reason: string(p.Reason), Detail: p.Detail, Raw: raw})
		if err != nil {
			return err
		}
		em.emit(&kgo.Record{Topic: t.s.topics.Quarantine, Key: bytes.Clone(r.Key), Value: v, Timestamp: r.Timestamp})
		return nil
	}
	key := e.Key()
	if !keyIs(r.Key, key) {
		t.stats.KeyMismatches++
	}
	arr := arrival(&e)
	if t.hasArrival && arr < t.maxArrival-t.s.params.MaxOutOfOrderness.Microseconds() {
		t.stats.BehindWatermark++
	}
	if !t.hasArrival || arr > t.maxArrival {
		t.maxArrival, t.hasArrival = arr, true
	}
	cloneStrings(&e)
	b := t.buyers[key]
	if b == nil {
		key = event.BuyerKey{ShopID: strings.Clone(key.ShopID), BuyerID: strings.Clone(key.BuyerID)}
		b = &buyer{key: key, l: newLogic(key, t.s.params)}
		t.buyers[key] = b
	}
	return t.apply(b, &e, em)
}

func keyIs(k []byte, b event.BuyerKey) bool {
	return len(k) == len(b.ShopID)+1+len(b.BuyerID) && string(k[:len(b.ShopID)]) == b.ShopID &&
		k[len(b.ShopID)] == '/' && string(k[len(b.ShopID)+1:]) == b.BuyerID
}

func (t *task) apply(b *buyer, e *event.Event, em emitter) error {
	o := &t.out
	o.Reset()
	b.l.apply(e, o, &t.counts)
	oldBirth, hadBirth := b.birth, b.hasBirth
	switch {
	case o.Counts.Expiries > 0:
		// The state expired before this event (rule 8): the conversations
		// it held are final (none if the watermark retired them already).
		for _, row := range o.Conversations {
			if err := t.emitConversation(b, row, true, em); err != nil {
				return err
			}
		}
		t.dropOpen(b)
		b.retired, b.hasBirth = false, false
	case b.retired && o.Counts.Accepted > 0:
		// The watermark finalised this buyer, yet an event arrived that
		// replay would apply to the unexpired state: the stream broke the
		// arrival-order bound. Go on with a new generation of rows.
		t.stats.EarlyExpiries++
		b.retired, b.hasBirth = false, false
	}
	if c, ok := b.l.clock(); ok && !b.hasBirth {
		if hadBirth && c <= oldBirth {
			c = oldBirth + 1
		}
		b.birth, b.hasBirth = c, true
	}
	for i := range o.Signals {
		s := &o.Signals[i]
		v, err := json.Marshal(replay.SignalToJSON(*s))
		if err != nil {
			return err
		}
		em.emit(&kgo.Record{Topic: t.s.topics.Signals, Key: BuyerRecordKey(b.key), Value: v, Timestamp: t.ts})
		b.signals = append(b.signals, *s)
	}
	for i := range o.Orders {
		v, err := json.Marshal(replay.OrderToJSON(o.Orders[i]))
		if err != nil {
			return err
		}
		em.emit(&kgo.Record{Topic: t.s.topics.Orders, Key: BuyerRecordKey(b.key), Value: v, Timestamp: t.ts})
	}
	t.counts.Signal.Add(o.Counts)
	t.markDirty(b)
	return nil
}

func (t *task) markDirty(b *buyer) {
	if s, ok := t.safeTime(); ok {
		b.touched = s
	}
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
	v, err := json.Marshal(ConversationRecord{ConversationJSON: replay.ConversationToJSON(row), Final: final})
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

// fireTimers retires buyers whose state has expired for good at the
// partition's safe time (writing their conversations out as final) and,
// with --forget-after, drops retired states that long after (a tombstone
// in the changelog).
func (t *task) fireTimers(em emitter) error {
	safe, ok := t.safeTime()
	if !ok {
		return nil
	}
	for len(t.timers) > 0 && t.timers[0].due < safe {
		tm := heap.Pop(&t.timers).(timer)
		b := tm.b
		if b.gone {
			continue
		}
		clock, hasClock := b.l.clock()
		switch {
		case !tm.forget:
			if b.retired || !hasClock || clock != tm.clock {
				continue // stale: the clock moved on, or already retired
			}
			b.timerSet = false
			o := &t.out
			o.Reset()
			b.l.finish(o)
			for _, row := range o.Conversations {
				if err := t.emitConversation(b, row, true, em); err != nil {
					return err
				}
			}
			t.counts.Signal.Add(o.Counts)
			t.dropOpen(b)
			b.retired = true
			t.stats.Retired++
			t.markDirty(b)
			if t.s.forgetAfter > 0 {
				heap.Push(&t.timers, timer{due: clock + t.s.params.StateTTL.Microseconds() + t.s.forgetAfter.Microseconds(),
					b: b, clock: clock, forget: true})
			}
		default:
			if hasClock && (!b.retired || clock != tm.clock) {
				continue
			}
			if !hasClock && b.touched != tm.clock {
				continue
			}
			delete(t.buyers, b.key)
			b.gone = true
			t.stats.Forgotten++
			em.emit(&kgo.Record{Topic: t.s.topics.Changelog, Partition: t.part, Key: changelogKey(b.key), Timestamp: t.ts})
		}
	}
	if len(t.timers) > 2*len(t.buyers)+1024 {
		t.rebuildTimers()
	}
	return nil
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
		state, err := b.l.marshal()
		if err != nil {
			return fmt.Errorf("partition %d: buyer %s/%s: %w", t.part, b.key.ShopID, b.key.BuyerID, err)
		}
		if !b.retired {
			rows := b.l.conversations(t.rows[:0])
			t.rows = rows
			if err := t.updateOpen(b, rows, em); err != nil {
				return err
			}
		}
		v := encodeBuyerRecord(b, state)
		b.stateBytes = len(v)
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

// schedule sets the timer of b: retire at clock + state_ttl, or (with
// --forget-after) forget a buyer without a clock that long after it was
// last touched.
func (t *task) schedule(b *buyer) {
	clock, ok := b.l.clock()
	switch {
	case ok && !b.retired:
		if b.timerSet && b.timerClock == clock {
			return
		}
		b.timerSet, b.timerClock = true, clock
		heap.Push(&t.timers, timer{due: clock + t.s.params.StateTTL.Microseconds(), b: b, clock: clock})
	case !ok && t.s.forgetAfter > 0:
		heap.Push(&t.timers, timer{due: b.touched + t.s.params.StateTTL.Microseconds() + t.s.forgetAfter.Microseconds(),
			b: b, clock: b.touched, forget: true})
	}
}

// rebuildTimers replaces the timer heap, which keeps stale entries until
// they come due, by one entry per buyer.
func (t *task) rebuildTimers() {
	t.timers = t.timers[:0]
	for _, b := range t.buyers {
		b.timerSet = false
		clock, ok := b.l.clock()
		if b.retired && t.s.forgetAfter > 0 && ok {
			t.timers = append(t.timers, timer{due: clock + t.s.params.StateTTL.Microseconds() + t.s.forgetAfter.Microseconds(),
				b: b, clock: clock, forget: true})
			continue
		}
		if b.retired {
			continue
		}
		if ok {
			b.timerSet, b.timerClock = true, clock
			t.timers = append(t.timers, timer{due: clock + t.s.params.StateTTL.Microseconds(), b: b, clock: clock})
		} else if t.s.forgetAfter > 0 {
			t.timers = append(t.timers, timer{due: b.touched + t.s.params.StateTTL.Microseconds() + t.s.forgetAfter.Microseconds(),
				b: b, clock: b.touched, forget: true})
		}
	}
	heap.Init(&t.timers)
}

// partitionCounts returns the counts record of the task: its counts with
// the conversations it holds counted as the replay's final flush would.
func (t *task) partitionCounts() PartitionCounts {
	c := t.counts
	c.Signal.Conversations += t.openConvs
	c.Signal.Triggered += t.openTriggered
	pc := PartitionCounts{Schema: CountsSchema, Input: t.s.topics.Input, Partition: t.part, NextOffset: t.next,
		Order: replay.OrderArrival.String(), Params: replay.ParamsToJSON(t.s.params), Counts: CountsToJSON(&c), Live: t.stats}
	if t.hasArrival {
		ts := replay.Timestamp(t.maxArrival)
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
	r := buyerRecord{Birth: b.birth, HasBirth: b.hasBirth, Retired: b.retired, Touched: b.touched, State: state}
	if len(b.signals) > 0 {
		js := make([]replay.SignalJSON, len(b.signals))
		for i, s := range b.signals {
			js[i] = replay.SignalToJSON(s)
		}
		v, err := json.Marshal(js)
		if err != nil {
			panic(err) // plain data
		}
		r.Signals = v
	}
	return r.append(make([]byte, 0, 16+len(r.Signals)+len(state)))
}

// load restores one changelog record into the task (the last record of
// each key, in any order).
func (t *task) load(key, value []byte) error {
	if string(key) == changelogPartitionKey {
		var pc PartitionCounts
		if err := json.Unmarshal(value, &pc); err != nil {
			return fmt.Errorf("partition record: %w", err)
		}
		if want := replay.ParamsToJSON(t.s.params); pc.Params != want {
			return fmt.Errorf("the state was built with signal parameters %+v, not %+v: run with the same parameters, or start afresh with a new --group", pc.Params, want)
		}
		c, err := pc.Counts.Counts()
		if err != nil {
			return fmt.Errorf("partition record: %w", err)
		}
		// The record includes the conversations held then; they are
		// counted again from the buyers (see partitionCounts).
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
	l, err := restoreLogic(t.s.params, r.State)
	if err != nil {
		return fmt.Errorf("buyer %s/%s: %w", k.ShopID, k.BuyerID, err)
	}
	b := &buyer{key: k, l: l, retired: r.Retired, touched: r.Touched, stateBytes: len(value),
		birth: r.Birth, hasBirth: r.HasBirth}
	if len(r.Signals) > 0 {
		var js []replay.SignalJSON
		if err := json.Unmarshal(r.Signals, &js); err != nil {
			return fmt.Errorf("buyer %s/%s: signals: %w", k.ShopID, k.BuyerID, err)
		}
		for _, s := range js {
			b.signals = append(b.signals, s.Signal())
		}
	}
	if !b.retired {
		b.convs = l.conversations(nil)
	}
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

// timer is a pending retire (or forget) of a buyer, due when the safe time
// passes due. Entries whose buyer moved on are skipped when they come due.
type timer struct {
	due    int64
	b      *buyer
	clock  int64
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

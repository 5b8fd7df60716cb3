package live

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

// Tests of a task alone (one partition, no Kafka): records in, records out,
// with the same steps per transaction as the processor.

// taskRun drives a task as the processor does, collecting what it emits.
type taskRun struct {
	t         *testing.T
	s         *settings
	task      *task
	out       []*kgo.Record
	changelog map[string][]byte // last value of each changelog key (nil: tombstone)
}

func (r *taskRun) emit(rec *kgo.Record) {
	r.out = append(r.out, rec)
	if rec.Topic == r.s.topics.Changelog {
		r.changelog[string(rec.Key)] = rec.Value
	}
}

func newTaskRun(t *testing.T, p signal.Params, forget time.Duration) *taskRun {
	s := &settings{params: p, topics: TopicsFor("in", "out", "g"), forgetAfter: forget}
	return &taskRun{t: t, s: s, task: newTask(s, 0), changelog: map[string][]byte{}}
}

// feed processes evs (in the order given) in transactions of n records,
// restoring the task from its changelog after every transaction when
// restore is set.
func (r *taskRun) feed(evs []event.Event, n int, restore bool) {
	r.t.Helper()
	off := r.task.next
	for lo := 0; lo < len(evs); lo += n {
		hi := min(lo+n, len(evs))
		for i := lo; i < hi; i++ {
			e := &evs[i]
			rec := &kgo.Record{Topic: r.s.topics.Input, Offset: off, Key: BuyerRecordKey(e.Key()), Value: event.AppendJSON(nil, e)}
			off++
			if err := r.task.record(rec, r); err != nil {
				r.t.Fatal(err)
			}
		}
		r.commit()
		if restore {
			r.restore()
		}
	}
}

func (r *taskRun) commit() {
	r.t.Helper()
	t := r.task
	t.scheduleDirty()
	if err := t.fireTimers(r); err != nil {
		r.t.Fatal(err)
	}
	if err := t.flushDirty(r); err != nil {
		r.t.Fatal(err)
	}
	if err := t.emitCounts(r); err != nil {
		r.t.Fatal(err)
	}
	t.changed = t.changed[:0]
}

// restore replaces the task by one loaded from the changelog.
func (r *taskRun) restore() {
	r.t.Helper()
	t := newTask(r.s, 0)
	for k, v := range r.changelog {
		if v == nil {
			continue
		}
		if err := t.load([]byte(k), v); err != nil {
			r.t.Fatal(err)
		}
	}
	t.loaded()
	r.task = t
}

// dump assembles the outputs as Dump does.
func (r *taskRun) dump() *DumpResult {
	r.t.Helper()
	b := newDumpBuilder(r.s.topics)
	b.o.WithSessions = r.s.sessions > 0
	var last []byte
	for _, rec := range r.out {
		if rec.Topic == r.s.topics.Counts {
			last = rec.Value
			continue
		}
		if err := b.add(rec); err != nil {
			r.t.Fatal(err)
		}
	}
	var pc PartitionCounts
	if err := json.Unmarshal(last, &pc); err != nil {
		r.t.Fatal(err)
	}
	d, err := b.result([]PartitionCounts{pc}, DumpInfo{Complete: true})
	if err != nil {
		r.t.Fatal(err)
	}
	return d
}

// smallLog generates a log of about 24,000 rows over 56 days.
func smallLog(t *testing.T, seed uint64) (string, []event.Event) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Buyers, cfg.Shops = seed, 2000, 40
	dir := t.TempDir()
	if _, err := synth.WriteDir(context.Background(), cfg, dir, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, synth.EventsFile)
	evs, _, err := event.ReadAll([]string{path}, event.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ArrivalOrder(evs)
	return path, evs
}

// TestTaskParityAnyBatching: one partition holding a whole generated log
// equals the arrival-order replay whatever the transaction size (1 record,
// 97, all), also when the state is restored from the changelog after every
// transaction; and which rows are final does not depend on it either.
func TestTaskParityAnyBatching(t *testing.T) {
	path, evs := smallLog(t, 5)
	want := replayOf(t, signal.DefaultParams(), path)
	if want.Summary.Counts.Logic.Expiries == 0 {
		t.Fatal("the log has no expiry: the test would not exercise state_ttl")
	}
	finals := map[int]int{}
	for _, c := range []struct {
		n       int
		restore bool
	}{{len(evs), false}, {97, false}, {1, false}, {500, true}} {
		r := newTaskRun(t, signal.DefaultParams(), 0)
		r.feed(evs, c.n, c.restore)
		d := r.dump()
		assertParity(t, d, want)
		finals[d.Info.FinalConversations]++
		if d.Info.Live.Settled == 0 {
			t.Errorf("batches of %d: no buyer settled by the watermark", c.n)
		}
	}
	if len(finals) != 1 {
		t.Errorf("final conversation rows depend on the batching: %v", finals)
	}
}

// TestTaskParitySessions: with sessions tracked, one partition holding a
// generated log gives the replay's sessions.parquet rows (and every other
// table) whatever the transaction size, also restored from the changelog
// after every transaction (the open session travels in the snapshot).
func TestTaskParitySessions(t *testing.T) {
	path, evs := smallLog(t, 5)
	gap := replay.DefaultSessionGap
	want := replayOfSessions(t, signal.DefaultParams(), gap, path)
	if len(want.Sessions) < 1000 {
		t.Fatalf("only %d sessions", len(want.Sessions))
	}
	for _, c := range []struct {
		n       int
		restore bool
	}{{len(evs), false}, {1, false}, {500, true}} {
		r := newTaskRun(t, signal.DefaultParams(), 0)
		r.s.sessions = gap
		r.feed(evs, c.n, c.restore)
		d := r.dump()
		assertParity(t, d, want)
		got := d.Outputs.Sessions
		output.SortSessions(got)
		if !reflect.DeepEqual(got, want.Sessions) {
			t.Errorf("batches of %d (restore %v): %d sessions (%d final, %d open), replay %d", c.n, c.restore,
				len(got), d.Info.FinalSessions, d.Info.OpenSessions, len(want.Sessions))
		}
	}
}

// TestTaskConversationAgainAfterExpiry: a conversation id seen again after
// its buyer's state expired is a second row (docs/signals.md "Expiry"), with
// a key of its own, whether the watermark settled the state first or the
// next event expired it.
func TestTaskConversationAgainAfterExpiry(t *testing.T) {
	day := 24 * time.Hour
	at := func(d time.Duration) int64 { return time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).Add(d).UnixMicro() }
	ev := func(id string, kind event.Kind, t time.Duration, buyer string) event.Event {
		e := event.Event{EventID: id, Kind: kind, EventTime: at(t), IngestTime: at(t + time.Second), HasIngestTime: true,
			ShopID: "s", BuyerID: buyer, ConversationID: "c1", Channel: "messenger"}
		if kind == event.KindMessage {
			e.Sender = event.SenderBuyer
		}
		return e
	}
	evs := []event.Event{
		ev("1", event.KindConversationStarted, 0, "b"),
		ev("2", event.KindMessage, time.Minute, "b"),
		// Another buyer's events move the partition's watermark 9 days on:
		// the watermark retires b (state_ttl 7 days).
		ev("3", event.KindPageView, 9*day, "other"),
		ev("4", event.KindConversationStarted, 9*day+time.Hour, "b"),
		ev("5", event.KindMessage, 9*day+2*time.Hour, "b"),
	}
	evs[2].ConversationID = ""
	for _, n := range []int{1, len(evs)} {
		r := newTaskRun(t, signal.DefaultParams(), 0)
		r.feed(evs, n, false)
		d := r.dump()
		if len(d.Outputs.Conversations) != 2 {
			t.Fatalf("batches of %d: %d conversation rows, want 2 (c1 before and after the expiry): %+v", n, len(d.Outputs.Conversations), d.Outputs.Conversations)
		}
		keys := map[string]bool{}
		for _, rec := range r.out {
			if rec.Topic == r.s.topics.Conversations {
				keys[string(rec.Key)] = true
			}
		}
		if len(keys) != 2 {
			t.Errorf("batches of %d: conversation keys %v, want two", n, keys)
		}
		if got := d.Summary.Counts.Logic.Expiries; got != 1 {
			t.Errorf("batches of %d: %d expiries, want 1 (replay counts the expiry when b's next event comes)", n, got)
		}
	}
}

// TestTaskOutOfOrderIsQuarantined: a partition whose records come far out
// of arrival order can make the watermark settle a buyer that replay keeps
// alive; the buyer core refuses the late-coming event (it is behind the
// watermark the buyer settled at), and live mode quarantines it with reason
// out_of_order and counts it (LiveStats.OutOfOrder, BehindWatermark).
func TestTaskOutOfOrderIsQuarantined(t *testing.T) {
	at := func(d time.Duration) int64 { return time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC).Add(d).UnixMicro() }
	mk := func(id, buyer string, kind event.Kind, t time.Duration) event.Event {
		return event.Event{EventID: id, Kind: kind, EventTime: at(t), IngestTime: at(t), HasIngestTime: true,
			ShopID: "s", BuyerID: buyer, ConversationID: "c", Sender: event.SenderBuyer}
	}
	evs := []event.Event{
		mk("1", "b", event.KindConversationStarted, 0),
		mk("2", "other", event.KindPageView, 10*24*time.Hour), // the watermark jumps 10 days
		mk("3", "b", event.KindMessage, time.Hour),            // arrives 10 days behind it, not late by its own times
	}
	evs[1].ConversationID = ""
	r := newTaskRun(t, signal.DefaultParams(), 0)
	r.feed(evs[:2], 2, false)
	r.feed(evs[2:], 1, false)
	d := r.dump()
	q := d.Summary.Counts.QuarantinedByReason
	if len(q) != 1 || q[ReasonOutOfOrder] != 1 || len(d.Outputs.Quarantine) != 1 || d.Outputs.Quarantine[0].Reason != ReasonOutOfOrder {
		t.Fatalf("quarantined %v, rows %+v: want the one out-of-order event", q, d.Outputs.Quarantine)
	}
	st := d.Info.Live
	if st.BehindWatermark != 1 || st.OutOfOrder != 1 || st.Settled == 0 {
		t.Errorf("live stats %+v: want 1 record behind the watermark, refused as out of order, after b settled", st)
	}
}

// TestTaskForgetAfter: with --forget-after, settled states are dropped
// (tombstoned) and memory shrinks; the rows still equal replay's, and only
// the counts docs/live.md names may differ: fewer expiries, and redeliveries
// of forgotten events counted late instead of duplicate.
func TestTaskForgetAfter(t *testing.T) {
	path, evs := smallLog(t, 6)
	want := replayOf(t, signal.DefaultParams(), path)
	r := newTaskRun(t, signal.DefaultParams(), time.Hour)
	r.feed(evs, 500, false)
	d := r.dump()
	if d.Info.Live.Forgotten == 0 {
		t.Fatal("no state forgotten")
	}
	var tombstones int
	for k, v := range r.changelog {
		if v == nil && k != changelogPartitionKey {
			tombstones++
		}
	}
	buyers := map[event.BuyerKey]bool{}
	for i := range evs {
		buyers[evs[i].Key()] = true
	}
	if tombstones == 0 || len(r.task.buyers)+tombstones != len(buyers) {
		t.Errorf("%d tombstones, %d buyers held, %d in the log: want every buyer either held or tombstoned, some tombstoned", tombstones, len(r.task.buyers), len(buyers))
	}
	got := *d.Outputs
	got.Summary = nil
	w := *want
	w.Summary = nil
	if diff := output.Compare(&w, &got); !diff.Equal() {
		t.Fatalf("rows differ from replay with --forget-after: %+v", diff)
	}
	gl, wl := d.Summary.Counts.Logic, want.Summary.Counts.Logic
	if gl.Expiries > wl.Expiries {
		t.Errorf("expiries %d, replay %d: forgetting can only lose expiries", gl.Expiries, wl.Expiries)
	}
	dup, late := signal.DropDuplicate, signal.DropLate
	if gl.Dropped[dup]+gl.Dropped[late] != wl.Dropped[dup]+wl.Dropped[late] || gl.Dropped[dup] > wl.Dropped[dup] {
		t.Errorf("duplicate/late %d/%d, replay %d/%d: only duplicate → late may move", gl.Dropped[dup], gl.Dropped[late], wl.Dropped[dup], wl.Dropped[late])
	}
	gl.Expiries, wl.Expiries = 0, 0
	gl.Dropped[dup], gl.Dropped[late], wl.Dropped[dup], wl.Dropped[late] = 0, 0, 0, 0
	if gl != wl {
		t.Errorf("other counts differ:\n got %+v\nwant %+v", gl, wl)
	}
	t.Logf("forgotten %d, expiries %d (replay %d)", d.Info.Live.Forgotten, d.Summary.Counts.Logic.Expiries, want.Summary.Counts.Logic.Expiries)
}

// TestTaskIngestTimeFromRecord: with IngestTimeFromRecord, an event without
// ingest_time arrives at its record's timestamp: it then orders, emits
// (emit_time) and can be late by it; an event with one keeps its own.
func TestTaskIngestTimeFromRecord(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	r := newTaskRun(t, signal.DefaultParams(), 0)
	r.s.ingestFromRecord = true
	feed := func(e event.Event, ts time.Time) {
		rec := &kgo.Record{Topic: r.s.topics.Input, Offset: r.task.next, Key: BuyerRecordKey(e.Key()), Value: event.AppendJSON(nil, &e), Timestamp: ts}
		if err := r.task.record(rec, r); err != nil {
			t.Fatal(err)
		}
	}
	base := event.Event{ShopID: "s", BuyerID: "b", ConversationID: "c"}
	start, cart, late := base, base, base
	start.EventID, start.Kind, start.EventTime = "1", event.KindConversationStarted, at.UnixMicro()
	cart.EventID, cart.Kind, cart.EventTime = "2", event.KindCartUpdate, at.Add(time.Minute).UnixMicro()
	cart.CartToken, cart.ItemCount, cart.HasItemCount, cart.CartValueCents, cart.HasCartValue = "t", 1, true, 500, true
	late.EventID, late.Kind, late.EventTime = "3", event.KindPageView, at.Add(2*time.Minute).UnixMicro()
	late.ConversationID = ""
	feed(start, at.Add(time.Second))
	feed(cart, at.Add(time.Minute+3*time.Second))
	feed(late, at.Add(3*time.Hour)) // received 3 hours after it happened
	r.commit()
	d := r.dump()
	if len(d.Outputs.Signals) != 1 || d.Outputs.Signals[0].EmitTime != at.Add(time.Minute+3*time.Second).UnixMicro() {
		t.Fatalf("signals %+v: want one cart_action emitted at its record's timestamp", d.Outputs.Signals)
	}
	if got := d.Summary.Counts.Logic.Dropped[signal.DropLate]; got != 1 {
		t.Errorf("%d late events, want the one received 3 hours after it happened", got)
	}
}

package replay_test

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"hash/maphash"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

// The stream contract (package documentation): a consumer that feeds each
// buyer's events one at a time in the processing order, advances a
// per-partition watermark, snapshots and restores buyers at any point and
// finishes at the end produces exactly the rows and counts of a batch
// replay of the same events.

// timerQueue orders buyers by the watermark at which they are due.
type timerQueue []timer

type timer struct {
	due int64
	key event.BuyerKey
}

func (q timerQueue) Len() int           { return len(q) }
func (q timerQueue) Less(i, j int) bool { return q[i].due < q[j].due }
func (q timerQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *timerQueue) Push(x any)        { *q = append(*q, x.(timer)) }
func (q *timerQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

// streamStats says how much of the stream machinery a run exercised, so
// that a test can insist it was not vacuous.
type streamStats struct {
	settled          int // Advance calls that settled a buyer
	restored         int // buyers restored from a snapshot
	sessionsAdvanced int // Advance calls that wrote a session of a buyer left active
}

// replayStream runs evs as a stream: events sorted by order.Compare (the
// order a topic in arrival order delivers), dealt to partitions by buyer,
// each partition consumed in that order with its watermark at the time of
// the last event consumed; buyers due are advanced from a timer queue
// (replay.Buyer.Due); every restartEvery events of a partition all its
// buyers are snapshotted and restored into new Buyers (a restart); at the
// end every buyer is finished.
func replayStream(t *testing.T, p signal.Params, order replay.Order, evs []event.Event, partitions, restartEvery int) (replay.Output, streamStats) {
	t.Helper()
	return replayStreamGap(t, p, order, evs, partitions, restartEvery, 0)
}

// replayStreamGap is replayStream with sessions of the given gap (0:
// none). A timer then also fires for a buyer's open session, which Advance
// writes while the buyer may stay Active; the buyer is rescheduled.
func replayStreamGap(t *testing.T, p signal.Params, order replay.Order, evs []event.Event, partitions, restartEvery int, gap time.Duration) (replay.Output, streamStats) {
	t.Helper()
	evs = slices.Clone(evs)
	slices.SortStableFunc(evs, func(a, b event.Event) int { return order.Compare(&a, &b) })
	seed := maphash.MakeSeed()
	parts := make([][]event.Event, partitions)
	for _, e := range evs {
		i := maphash.String(seed, e.ShopID+"\x00"+e.BuyerID) % uint64(partitions)
		parts[i] = append(parts[i], e)
	}
	var out replay.Output
	var st streamStats
	for _, part := range parts {
		buyers := map[event.BuyerKey]*replay.Buyer{}
		var q timerQueue
		schedule := func(b *replay.Buyer) {
			if due, ok := b.Due(); ok {
				heap.Push(&q, timer{due, b.Key()})
			}
		}
		for n, e := range part {
			w := e.EventTime
			if order == replay.OrderArrival && e.HasIngestTime {
				w = e.IngestTime
			}
			b := buyers[e.Key()]
			if b == nil {
				b = replay.NewBuyer(e.Key(), p, order)
				b.TrackSessions(gap)
				buyers[e.Key()] = b
			}
			if err := b.Feed(&e, &out); err != nil {
				t.Fatalf("feed: %v", err)
			}
			schedule(b)
			// The partition's watermark is now w: fire the timers due.
			for q.Len() > 0 && q[0].due <= w {
				tm := heap.Pop(&q).(timer)
				b := buyers[tm.key]
				if due, ok := b.Due(); !ok || due != tm.due {
					continue // stale timer: the buyer moved on
				}
				sessions := len(out.Sessions)
				switch b.Advance(w, &out) {
				case replay.Settled:
					st.settled++
				case replay.Active:
					if gap <= 0 || len(out.Sessions) == sessions {
						t.Fatalf("buyer %v due at %d did not settle at %d", tm.key, tm.due, w)
					}
					st.sessionsAdvanced++
					schedule(b)
				default:
					if gap <= 0 {
						t.Fatalf("buyer %v due at %d is empty at %d", tm.key, tm.due, w)
					}
				}
			}
			if restartEvery > 0 && (n+1)%restartEvery == 0 {
				for k, b := range buyers {
					snap, err := b.MarshalBinary()
					if err != nil {
						t.Fatal(err)
					}
					r := replay.NewBuyer(event.BuyerKey{}, p, order)
					r.TrackSessions(gap)
					if err := r.UnmarshalBinary(snap); err != nil {
						t.Fatal(err)
					}
					if r.Key() != k || r.Status() != b.Status() {
						t.Fatalf("restored %v as %v, status %v, want %v", k, r.Key(), r.Status(), b.Status())
					}
					buyers[k] = r
					st.restored++
				}
			}
		}
		for _, b := range buyers {
			b.Finish(&out)
		}
	}
	output.SortSignals(out.Signals)
	output.SortConversations(out.Conversations)
	output.SortOrders(out.Orders)
	output.SortSessions(out.Sessions)
	return out, st
}

func compareOutputs(t *testing.T, name string, got, want replay.Output) {
	t.Helper()
	if !reflect.DeepEqual(got.Signals, want.Signals) {
		t.Errorf("%s: signals differ: %d rows, want %d", name, len(got.Signals), len(want.Signals))
	}
	if !reflect.DeepEqual(got.Conversations, want.Conversations) {
		t.Errorf("%s: conversations differ: %d rows, want %d", name, len(got.Conversations), len(want.Conversations))
	}
	if !reflect.DeepEqual(got.Orders, want.Orders) {
		t.Errorf("%s: orders differ: %d rows, want %d", name, len(got.Orders), len(want.Orders))
	}
	if !reflect.DeepEqual(got.Sessions, want.Sessions) {
		t.Errorf("%s: sessions differ: %d rows, want %d", name, len(got.Sessions), len(want.Sessions))
		for i := range min(len(got.Sessions), len(want.Sessions)) {
			if !reflect.DeepEqual(got.Sessions[i], want.Sessions[i]) {
				t.Errorf("first difference at %d:\n got %+v\nwant %+v", i, got.Sessions[i], want.Sessions[i])
				break
			}
		}
	}
	if !reflect.DeepEqual(got.Counts, want.Counts) {
		t.Errorf("%s: counts differ:\n got %+v\nwant %+v", name, got.Counts.Signal, want.Counts.Signal)
	}
}

// TestStreamEqualsReplayGenerated: a generated log with duplicates,
// disorder and late events (synth, seed 7, about 47,000 rows) as a stream
// over 4 partitions with restarts equals the batch replay, in both orders,
// and the run did settle and restore buyers.
func TestStreamEqualsReplayGenerated(t *testing.T) {
	evs := generatedEvents(t, 7, 12, 5000, 14, 7)
	for i := range evs {
		if !evs[i].HasIngestTime {
			t.Fatalf("event %s has no ingest_time; the stream contract needs it", evs[i].EventID)
		}
	}
	// A short state_ttl, so that buyers settle within the 21 days.
	p := signal.DefaultParams()
	p.StateTTL = 72 * time.Hour
	for _, order := range []replay.Order{replay.OrderArrival, replay.OrderEventTime} {
		want := replayInMemory(p, order, evs)
		got, st := replayStream(t, p, order, evs, 4, 5003)
		compareOutputs(t, order.String(), got, want)
		if st.settled < 100 || st.restored < 1000 || want.Counts.Signal.Expiries == 0 {
			t.Errorf("%s: %d buyers settled, %d restored, %d expiries: the test wants all three exercised",
				order, st.settled, st.restored, want.Counts.Signal.Expiries)
		}
		t.Logf("%s: %d events, %d settled, %d restored, %d expiries, %d conversations", order, len(evs), st.settled,
			st.restored, want.Counts.Signal.Expiries, want.Counts.Signal.Conversations)
	}
}

// TestStreamEqualsReplaySessions: with sessions on (gap 30 minutes), the
// stream of the generated log over 4 partitions with restarts writes
// exactly the sessions (and every other row and count) of the batch replay,
// in both orders, and some sessions were written by a watermark while their
// buyer stayed active.
func TestStreamEqualsReplaySessions(t *testing.T) {
	evs := generatedEvents(t, 7, 12, 5000, 14, 7)
	p := signal.DefaultParams()
	p.StateTTL = 72 * time.Hour
	for _, order := range []replay.Order{replay.OrderArrival, replay.OrderEventTime} {
		want := replayInMemoryGap(p, order, evs, replay.DefaultSessionGap)
		got, st := replayStreamGap(t, p, order, evs, 4, 5003, replay.DefaultSessionGap)
		compareOutputs(t, order.String(), got, want)
		if len(want.Sessions) < 1000 || st.sessionsAdvanced < 100 || st.restored < 1000 {
			t.Errorf("%s: %d sessions, %d written by a watermark, %d restored: the test wants all exercised", order,
				len(want.Sessions), st.sessionsAdvanced, st.restored)
		}
		// Sessions do not change the other outputs.
		plain := replayInMemory(p, order, evs)
		want.Sessions = nil
		compareOutputs(t, order.String()+" without sessions", want, plain)
	}
}

// TestStreamEqualsReplayCases: every case of testdata/replay as a stream
// with a restart after every event equals its batch replay (the case
// without ingest_time is ordered by input position, which a stream does not
// have, and is left out).
func TestStreamEqualsReplayCases(t *testing.T) {
	root := filepath.Join("..", "testdata", "replay")
	dirs, err := os.ReadDir(root)
	must(t, err)
	n := 0
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "no_ingest" {
			continue
		}
		dir := filepath.Join(root, d.Name())
		p, o := loadCaseParams(t, dir)
		evs := readCaseEvents(t, filepath.Join(dir, "events.jsonl"))
		got, _ := replayStream(t, p, o, evs, 2, 1)
		compareOutputs(t, d.Name(), got, replayInMemory(p, o, evs))
		n++
	}
	if n < 10 {
		t.Fatalf("only %d cases", n)
	}
}

// TestSnapshotRestoreMidStream: a Buyer snapshotted after any number of
// events and restored into a fresh Buyer continues exactly as the
// uninterrupted one (rows and counts), for every buyer of every case in
// testdata/replay and every split point; the snapshot is deterministic.
// (The case without ingest_time is ordered by input position, not a stream
// order, and is left out; signal's own tests restore its state.)
func TestSnapshotRestoreMidStream(t *testing.T) {
	root := filepath.Join("..", "testdata", "replay")
	dirs, err := os.ReadDir(root)
	must(t, err)
	splits := 0
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "no_ingest" {
			continue
		}
		dir := filepath.Join(root, d.Name())
		p, o := loadCaseParams(t, dir)
		groups := map[event.BuyerKey][]event.Event{}
		for _, e := range readCaseEvents(t, filepath.Join(dir, "events.jsonl")) {
			groups[e.Key()] = append(groups[e.Key()], e)
		}
		for key, evs := range groups {
			for _, gap := range []time.Duration{0, time.Minute} {
				replay.SortBuyerEvents(evs, o)
				var want replay.Output
				wb := replay.NewBuyer(key, p, o)
				wb.TrackSessions(gap)
				wb.Replay(evs, &want)
				for k := 0; k <= len(evs); k++ {
					var got replay.Output
					b1 := replay.NewBuyer(key, p, o)
					b1.TrackSessions(gap)
					for i := range evs[:k] {
						must(t, b1.Feed(&evs[i], &got))
					}
					snap, err := b1.MarshalBinary()
					must(t, err)
					if again, _ := b1.MarshalBinary(); string(again) != string(snap) {
						t.Fatalf("%s: snapshot not deterministic", d.Name())
					}
					// The state spliced in by hand gives the bytes json.Marshal
					// of the whole snapshot gives (the open session included).
					var ref struct {
						Version int `json:"version"`
						Last    *struct {
							EventID    string `json:"event_id"`
							EventTime  int64  `json:"event_time"`
							IngestTime *int64 `json:"ingest_time,omitempty"`
						} `json:"last,omitempty"`
						Watermark *int64          `json:"watermark,omitempty"`
						Session   *replay.Session `json:"session,omitempty"`
						State     json.RawMessage `json:"state"`
					}
					must(t, json.Unmarshal(snap, &ref))
					if re, err := json.Marshal(ref); err != nil || string(re) != string(snap) {
						t.Fatalf("%s: snapshot %s is not json.Marshal's %s (%v)", d.Name(), snap, re, err)
					}
					b2 := replay.NewBuyer(event.BuyerKey{}, p, o)
					b2.TrackSessions(gap)
					must(t, b2.UnmarshalBinary(snap))
					for i := k; i < len(evs); i++ {
						must(t, b2.Feed(&evs[i], &got))
					}
					b2.Finish(&got)
					output.SortSessions(got.Sessions)
					output.SortSessions(want.Sessions)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s, buyer %v, gap %s, restored after %d events: output differs\n got %+v\nwant %+v", d.Name(), key, gap, k, got, want)
					}
					splits++
				}
			}
		}
	}
	if splits < 50 {
		t.Fatalf("only %d split points tested", splits)
	}
}

// TestFeedRejects: events of another buyer, out of the processing order or
// behind the watermark are refused with the named errors and leave the
// Buyer unchanged; exact redeliveries in any order are not refused.
func TestFeedRejects(t *testing.T) {
	key := event.BuyerKey{ShopID: "s", BuyerID: "b"}
	at := func(id string, ingest int64) event.Event {
		return event.Event{EventID: id, Kind: event.KindPageView, ShopID: "s", BuyerID: "b",
			EventTime: 1_000_000, IngestTime: ingest, HasIngestTime: true}
	}
	b := replay.NewBuyer(key, signal.DefaultParams(), replay.OrderArrival)
	var out replay.Output
	e1, e2 := at("e1", 2_000_000), at("e2", 3_000_000)
	must(t, b.Feed(&e2, &out))
	before, _ := b.MarshalBinary()
	other := e1
	other.BuyerID = "x"
	if err := b.Feed(&other, &out); !errors.Is(err, replay.ErrOtherBuyer) {
		t.Errorf("another buyer's event: err = %v", err)
	}
	if err := b.Feed(&e1, &out); !errors.Is(err, replay.ErrOrder) {
		t.Errorf("an earlier event: err = %v", err)
	}
	b.Advance(5_000_000, &out)
	b.Advance(4_000_000, &out) // ignored: watermarks only move forward
	e4 := at("e4", 4_500_000)
	if err := b.Feed(&e4, &out); !errors.Is(err, replay.ErrOrder) {
		t.Errorf("an event behind the watermark: err = %v", err)
	}
	after, _ := b.MarshalBinary()
	if out.Counts.Signal.Applied != 1 {
		t.Errorf("refused events were counted: %+v", out.Counts.Signal)
	}
	if string(before) == string(after) {
		t.Error("the watermark is not part of the snapshot")
	}
	e5 := at("e5", 5_000_000) // at the watermark: allowed
	must(t, b.Feed(&e5, &out))
	e5.Row = 99 // an exact redelivery, later in the input: allowed, a duplicate
	must(t, b.Feed(&e5, &out))
	if out.Counts.Signal.Applied != 3 || out.Counts.Signal.Dropped[signal.DropDuplicate] != 1 {
		t.Errorf("counts %+v, want 3 applied, 1 duplicate", out.Counts.Signal)
	}
}

// TestStatusAndDue: a buyer with a conversation is Active and due at clock
// + state_ttl + max_out_of_orderness + allowed_lateness + 1 µs; Advance to
// just before that changes nothing, Advance to it settles the buyer and
// writes the conversation row; a buyer without events is Empty.
func TestStatusAndDue(t *testing.T) {
	p := signal.DefaultParams()
	key := event.BuyerKey{ShopID: "s", BuyerID: "b"}
	b := replay.NewBuyer(key, p, replay.OrderArrival)
	if b.Status() != replay.Empty {
		t.Fatalf("new buyer: %v", b.Status())
	}
	if _, ok := b.Due(); ok {
		t.Error("a new buyer is due")
	}
	e := event.Event{EventID: "c1", Kind: event.KindConversationStarted, ShopID: "s", BuyerID: "b", ConversationID: "c",
		EventTime: 1_000_000_000, IngestTime: 1_000_000_500, HasIngestTime: true}
	var out replay.Output
	must(t, b.Feed(&e, &out))
	due, ok := b.Due()
	want := e.EventTime + p.StateTTL.Microseconds() + p.MaxOutOfOrderness.Microseconds() + p.AllowedLateness.Microseconds() + 1
	if !ok || due != want || b.Status() != replay.Active {
		t.Fatalf("Due = %d, %v, status %v; want %d, true, active", due, ok, b.Status(), want)
	}
	if s := b.Advance(due-1, &out); s != replay.Active || len(out.Conversations) != 0 {
		t.Fatalf("Advance(due−1) = %v with %d conversations", s, len(out.Conversations))
	}
	if s := b.Advance(due, &out); s != replay.Settled || len(out.Conversations) != 1 {
		t.Fatalf("Advance(due) = %v with %d conversations", s, len(out.Conversations))
	}
	if _, ok := b.Due(); ok {
		t.Error("a settled buyer is due")
	}
}

// TestStreamBoundary: events at the edges of the timer's bound. Buyer a's
// message comes exactly state_ttl after its clock (so it does not expire
// the state) and exactly max_out_of_orderness + allowed_lateness after
// that in ingest time (so it is not late), while another buyer has moved
// the partition's watermark to a microsecond before the message's arrival:
// a timer that fired early would write a's conversation before the message
// reaches it. A second message one microsecond later is late.
func TestStreamBoundary(t *testing.T) {
	p := signal.DefaultParams()
	ttl := p.StateTTL.Microseconds()
	l := p.MaxOutOfOrderness.Microseconds() + p.AllowedLateness.Microseconds()
	const t0 = 1_772_323_200_000_000 // 2026-03-01
	ev := func(id, buyer string, kind event.Kind, et, it int64) event.Event {
		return event.Event{EventID: id, Kind: kind, ShopID: "s", BuyerID: buyer, ConversationID: "c-" + buyer,
			Sender: event.SenderBuyer, EventTime: et, IngestTime: it, HasIngestTime: true}
	}
	evs := []event.Event{
		ev("a1", "a", event.KindConversationStarted, t0, t0),
		ev("b1", "b", event.KindPageView, t0+ttl+l-1, t0+ttl+l-1),
		ev("a2", "a", event.KindMessage, t0+ttl, t0+ttl+l),
		ev("b2", "b", event.KindPageView, t0+ttl+l+1, t0+ttl+l+1),
		ev("a3", "a", event.KindMessage, t0+ttl, t0+ttl+l+1),
		ev("b3", "b", event.KindPageView, t0+3*ttl, t0+3*ttl),
	}
	want := replayInMemory(p, replay.OrderArrival, evs)
	got, st := replayStream(t, p, replay.OrderArrival, evs, 1, 0)
	compareOutputs(t, "boundary", got, want)
	if want.Counts.Signal.Dropped[signal.DropLate] != 1 || len(want.Conversations) != 1 || st.settled == 0 {
		t.Errorf("late %d, conversations %d, settled %d: want 1, 1, > 0", want.Counts.Signal.Dropped[signal.DropLate],
			len(want.Conversations), st.settled)
	}
}

// TestConversationsIsFinishNow: after every event of a generated log fed
// as a stream, Conversations shows exactly the rows Finish would write at
// that point (checked on a restored copy, so the fed buyer is untouched).
func TestConversationsIsFinishNow(t *testing.T) {
	evs := generatedEvents(t, 3, 5, 300, 10, 4)
	p := signal.DefaultParams()
	slices.SortStableFunc(evs, func(a, b event.Event) int { return replay.OrderArrival.Compare(&a, &b) })
	buyers := map[event.BuyerKey]*replay.Buyer{}
	var out replay.Output
	shown := 0
	for i := range evs {
		e := &evs[i]
		b := buyers[e.Key()]
		if b == nil {
			b = replay.NewBuyer(e.Key(), p, replay.OrderArrival)
			buyers[e.Key()] = b
		}
		must(t, b.Feed(e, &out))
		peek := b.Conversations(nil)
		snap, err := b.MarshalBinary()
		must(t, err)
		c := replay.NewBuyer(event.BuyerKey{}, p, replay.OrderArrival)
		must(t, c.UnmarshalBinary(snap))
		var fin replay.Output
		c.Finish(&fin)
		if len(peek) != len(fin.Conversations) || (len(peek) > 0 && !reflect.DeepEqual(peek, fin.Conversations)) {
			t.Fatalf("after event %s of %s/%s: Conversations %+v, Finish %+v", e.EventID, e.ShopID, e.BuyerID, peek, fin.Conversations)
		}
		shown += len(peek)
	}
	if shown == 0 {
		t.Fatal("no conversation ever held: the test checked nothing")
	}
}

// TestSnapshotLayouts: a snapshot restores the same whether its state comes
// last (as MarshalBinary writes it, the fast path) or first, with spaces.
func TestSnapshotLayouts(t *testing.T) {
	p := signal.DefaultParams()
	key := event.BuyerKey{ShopID: "s", BuyerID: "b"}
	b := replay.NewBuyer(key, p, replay.OrderArrival)
	var out replay.Output
	e := event.Event{EventID: `id with ,"state": inside`, Kind: event.KindConversationStarted, EventTime: 1e15,
		IngestTime: 1e15 + 1e6, HasIngestTime: true, ShopID: "s", BuyerID: "b", ConversationID: "c"}
	must(t, b.Feed(&e, &out))
	b.Advance(1e15, &out)
	snap, err := b.MarshalBinary()
	must(t, err)
	var m map[string]json.RawMessage
	must(t, json.Unmarshal(snap, &m))
	other := []byte(`{ "state": ` + string(m["state"]) + `, "version": 1, "last": ` + string(m["last"]) + `, "watermark": ` + string(m["watermark"]) + ` }`)
	for _, data := range [][]byte{snap, other} {
		c := replay.NewBuyer(event.BuyerKey{}, p, replay.OrderArrival)
		must(t, c.UnmarshalBinary(data))
		again, err := c.MarshalBinary()
		must(t, err)
		if string(again) != string(snap) {
			t.Errorf("restored from %s, snapshots as\n%s\nwant\n%s", data, again, snap)
		}
	}
}

// generatedEvents is a synthetic log (synth.Generate with its default
// config but for the seed, the numbers of shops and buyers, and the days
// of the window and of the pre-period), in arrival order.
func generatedEvents(t *testing.T, seed uint64, shops, buyers, days, preDays int) []event.Event {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Shops, cfg.Buyers, cfg.Days, cfg.PreDays = seed, shops, buyers, days, preDays
	var evs []event.Event
	if _, err := synth.Generate(context.Background(), cfg, func(b []event.Event) error {
		evs = append(evs, b...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return evs
}

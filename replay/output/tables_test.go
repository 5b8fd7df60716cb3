package output

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
	"github.com/signalab/signalab/synth"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// replayLog generates a small synthetic log (synth, fixed seed), replays it
// in memory (replay.Buyer per buyer) and writes the outputs into dir.
func replayLog(t *testing.T, buyers int, dir string) {
	t.Helper()
	replayLogSessions(t, buyers, 0, dir)
}

// replayLogSessions is replayLog tracking sessions of the given gap (0: none).
func replayLogSessions(t *testing.T, buyers int, gap time.Duration, dir string) {
	t.Helper()
	cfg := synth.DefaultConfig()
	cfg.Seed, cfg.Shops, cfg.Buyers, cfg.Days, cfg.PreDays = 7, 12, buyers, 14, 7
	groups := map[event.BuyerKey][]event.Event{}
	var keys []event.BuyerKey
	_, err := synth.Generate(context.Background(), cfg, func(b []event.Event) error {
		for _, e := range b {
			if _, ok := groups[e.Key()]; !ok {
				keys = append(keys, e.Key())
			}
			groups[e.Key()] = append(groups[e.Key()], e)
		}
		return nil
	})
	must(t, err)
	p := signal.DefaultParams()
	b := replay.NewBuyer(event.BuyerKey{}, p, replay.OrderArrival)
	b.TrackSessions(gap)
	var out replay.Output
	for _, k := range keys {
		b.Replay(groups[k], &out)
	}
	tables := &Tables{Signals: out.Signals, Conversations: out.Conversations, Orders: out.Orders,
		Sessions: out.Sessions, WithSessions: gap > 0}
	sum := NewSummary(p, replay.OrderArrival, &out.Counts, tables)
	must(t, Write(dir, tables, &sum))
}

// TestReadShards: a replay written as shards (signals-00000.parquet,
// ..., as distributed engines write them, each shard sorted on its own)
// reads back as the same rows as the single files, and Compare finds no
// difference; a golden set (JSON Lines) of it does too.
func TestReadShards(t *testing.T) {
	dir := t.TempDir()
	single := filepath.Join(dir, "single")
	replayLog(t, 300, single)
	a, err := Read(single)
	must(t, err)
	if len(a.Signals) < 10 || len(a.Conversations) < 10 {
		t.Fatalf("too few rows to shard: %d signals, %d conversations", len(a.Signals), len(a.Conversations))
	}

	sharded := filepath.Join(dir, "sharded")
	must(t, os.MkdirAll(sharded, 0o755))
	// Three shards per table, rows dealt round-robin (so no shard is a
	// contiguous range), each shard sorted.
	for s := range 3 {
		var sig []signal.Signal
		var conv []signal.Conversation
		var ord []signal.Order
		for i := s; i < len(a.Signals); i += 3 {
			sig = append(sig, a.Signals[i])
		}
		for i := s; i < len(a.Conversations); i += 3 {
			conv = append(conv, a.Conversations[i])
		}
		for i := s; i < len(a.Orders); i += 3 {
			ord = append(ord, a.Orders[i])
		}
		name := func(base string) string { return filepath.Join(sharded, base+"-0000"+string(rune('0'+s))+".parquet") }
		must(t, WriteRows(name("signals"), sig))
		must(t, WriteRows(name("conversations"), conv))
		must(t, WriteRows(name("orders"), ord))
	}
	b, err := Read(sharded)
	must(t, err)
	if !reflect.DeepEqual(a.Signals, b.Signals) || !reflect.DeepEqual(a.Conversations, b.Conversations) || !reflect.DeepEqual(a.Orders, b.Orders) {
		t.Error("sharded outputs read back differently")
	}
	if d := Compare(a, b); !d.Signals.equal() || !d.Conversations.equal() || !d.Orders.equal() {
		t.Errorf("Compare(single, sharded) = %+v", d)
	}

	golden := filepath.Join(dir, "golden")
	must(t, WriteGolden(golden, a, *a.Summary))
	g, err := Read(golden)
	must(t, err)
	if d := Compare(g, a); !d.Equal() {
		t.Errorf("golden set differs from the replay it was written from: %+v", d)
	}
}

// TestCompareSessions: sessions.parquet is compared like the other tables
// when both replays have it (rows added, removed and changed, keyed by
// shop, buyer and start, with examples), and one replay with sessions
// against one without is a difference that names the side that has them.
func TestCompareSessions(t *testing.T) {
	dir := t.TempDir()
	with := filepath.Join(dir, "with")
	replayLogSessions(t, 120, replay.DefaultSessionGap, with)
	a, err := Read(with)
	must(t, err)
	if !a.WithSessions || len(a.Sessions) < 10 {
		t.Fatalf("read back %d sessions (tracked %v); want the replay's sessions", len(a.Sessions), a.WithSessions)
	}
	same, err := Read(with)
	must(t, err)
	if d := Compare(a, same); !d.Equal() || d.Sessions == nil || d.Sessions.RowsA != len(a.Sessions) {
		t.Fatalf("a replay against itself: %+v", d)
	}

	// B: the first session removed, the second changed, a new one added.
	b, err := Read(with)
	must(t, err)
	changed := b.Sessions[1]
	changed.Events++
	added := b.Sessions[2]
	added.StartedAt -= 1e6
	b.Sessions = append([]replay.Session{changed, added}, b.Sessions[2:]...)
	b.Summary = nil // compare the rows alone
	d := Compare(a, b)
	if d.Equal() || d.Sessions == nil || d.Sessions.Added != 1 || d.Sessions.Removed != 1 || d.Sessions.Changed != 1 {
		t.Fatalf("sessions diff = %+v, want 1 added, 1 removed, 1 changed", d.Sessions)
	}
	if !d.Signals.equal() || !d.Conversations.equal() || !d.Orders.equal() {
		t.Errorf("only sessions were touched, yet %s", d.Brief())
	}
	key := a.Sessions[1].ShopID + "/" + a.Sessions[1].BuyerID + "/" + Timestamp(a.Sessions[1].StartedAt).String()
	var text strings.Builder
	d.WriteText(&text, "a", "b")
	for _, want := range []string{"sessions:", "1 added, 1 removed, 1 changed", "changed session " + key + " (fields: events)",
		"removed session", "added session", `"started_at":"20`} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("WriteText lacks %q:\n%s", want, text.String())
		}
	}
	if got := d.Brief(); !strings.Contains(got, "sessions +1 -1 ~1") {
		t.Errorf("Brief() = %q", got)
	}

	// Only one side tracked sessions.
	without := filepath.Join(dir, "without")
	replayLog(t, 120, without)
	c, err := Read(without)
	must(t, err)
	if c.WithSessions {
		t.Fatal("a replay without sessions read back as tracking them")
	}
	for _, tc := range []struct {
		x, y *Tables
		only string
	}{{a, c, "A"}, {c, a, "B"}} {
		d := Compare(tc.x, tc.y)
		if d.Equal() || d.SessionsOnlyIn != tc.only || d.Sessions != nil {
			t.Errorf("sessions only in %s: Equal %v, SessionsOnlyIn %q, Sessions %v", tc.only, d.Equal(), d.SessionsOnlyIn, d.Sessions)
		}
		var text strings.Builder
		d.WriteText(&text, "x", "y")
		if want := "only " + tc.only + " = "; !strings.Contains(text.String(), want) || !strings.Contains(text.String(), "--sessions") {
			t.Errorf("WriteText lacks %q and the --sessions hint:\n%s", want, text.String())
		}
		if !strings.Contains(d.Brief(), "sessions only in "+tc.only) {
			t.Errorf("Brief() = %q", d.Brief())
		}
	}
	if d := Compare(c, c); !d.Equal() || d.Sessions != nil || d.SessionsOnlyIn != "" {
		t.Errorf("two replays without sessions: %+v", d)
	}
}

// TestGoldenSessions: a golden set of a replay that tracked sessions holds
// sessions.jsonl (canonical JSON, times as RFC 3339) and reads back equal
// to the replay; one of a replay without sessions holds none.
func TestGoldenSessions(t *testing.T) {
	dir := t.TempDir()
	with := filepath.Join(dir, "with")
	replayLogSessions(t, 60, replay.DefaultSessionGap, with)
	a, err := Read(with)
	must(t, err)
	golden := filepath.Join(dir, "golden")
	must(t, WriteGolden(golden, a, *a.Summary))
	b, err := os.ReadFile(filepath.Join(golden, GoldenSessionsFile))
	must(t, err)
	first, _, _ := strings.Cut(string(b), "\n")
	if strings.Count(string(b), "\n") != len(a.Sessions) || !strings.Contains(first, `"started_at":"20`) {
		t.Errorf("sessions.jsonl: %d lines for %d sessions, first %s", strings.Count(string(b), "\n"), len(a.Sessions), first)
	}
	g, err := Read(golden)
	must(t, err)
	if d := Compare(g, a); !d.Equal() || d.Sessions == nil {
		t.Errorf("golden set with sessions differs from its replay: %s", d.Brief())
	}
	if !reflect.DeepEqual(g.Sessions, a.Sessions) {
		t.Error("sessions read back from sessions.jsonl differ from the Parquet rows")
	}

	without := filepath.Join(dir, "without")
	replayLog(t, 60, without)
	c, err := Read(without)
	must(t, err)
	golden2 := filepath.Join(dir, "golden2")
	must(t, WriteGolden(golden2, c, *c.Summary))
	if _, err := os.Stat(filepath.Join(golden2, GoldenSessionsFile)); err == nil {
		t.Error("a golden set of a replay without sessions has sessions.jsonl")
	}
}

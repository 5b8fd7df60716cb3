package live

import (
	"testing"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

const committedLog = "../testdata/events/events.parquet"

// TestParityCommittedLog: the committed log through one live consumer on 4
// partitions, with sessions tracked, equals the arrival-order replay with
// sessions: every table, sessions.parquet's rows and the counts.
func TestParityCommittedLog(t *testing.T) {
	h := newHarness(t, "committed")
	st := h.produce(committedLog)
	if st.Events != 4589 {
		t.Fatalf("produced %d events, want the log's 4589", st.Events)
	}
	cfg := h.config("a")
	cfg.Sessions = replay.DefaultSessionGap
	m := h.start(cfg)
	d := h.dump()
	m.stop(t)
	want := replayOfSessions(t, signal.DefaultParams(), replay.DefaultSessionGap, committedLog)
	if !want.WithSessions || len(want.Sessions) < 400 {
		t.Fatalf("the replay tracked %d sessions (%v); want the committed log's", len(want.Sessions), want.WithSessions)
	}
	// Compares sessions.parquet too (output.Compare, as signalab diff does),
	// and replay.json's outputs.sessions with the counts.
	assertParity(t, d, want)
	t.Logf("dump: %d signals, %d conversations (%d final, %d open), %d orders, %d sessions (%d final, %d open); live %+v",
		len(d.Outputs.Signals), len(d.Outputs.Conversations), d.Info.FinalConversations, d.Info.OpenConversations,
		len(d.Outputs.Orders), len(d.Outputs.Sessions), d.Info.FinalSessions, d.Info.OpenSessions, d.Info.Live)
}

// TestParityEdgeLogs: the hand-written edge-case logs in JSON Lines
// (duplicates, lateness bounds, idle conversations, one bad row per
// quarantine reason) go through live mode as through replay, quarantine
// counts by reason included. Bad rows of CSV files cannot be written back
// as JSON with the same fault: produce counts them as reinterpreted.
func TestParityEdgeLogs(t *testing.T) {
	paths := []string{"../testdata/edge/bad_rows.jsonl", "../testdata/edge/duplicates.jsonl",
		"../testdata/edge/late.jsonl", "../testdata/edge/idle_conversation.jsonl"}
	h := newHarness(t, "edge")
	st := h.produce(paths...)
	if st.Quarantined != 7 || st.Reinterpreted != 0 {
		t.Fatalf("produced %+v, want the 7 bad rows of bad_rows.jsonl, none reinterpreted", st)
	}
	m := h.start(h.config("a"))
	d := h.dump()
	m.stop(t)
	want := replayOf(t, signal.DefaultParams(), paths...)
	assertParity(t, d, want)
	if len(d.Outputs.Quarantine) != 7 {
		t.Errorf("%d quarantined records, want 7", len(d.Outputs.Quarantine))
	}

	csv := newHarness(t, "csv")
	if st := csv.produce("../testdata/edge/bad_rows.csv"); st.Reinterpreted == 0 {
		t.Errorf("bad CSV rows produced as %+v: none counted as reinterpreted", st)
	}
}

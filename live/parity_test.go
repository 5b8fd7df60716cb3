package live

import (
	"testing"

	"github.com/signalab/signalab/signal"
)

const committedLog = "../testdata/events/events.parquet"

// TestParityCommittedLog: the committed log through one live consumer on 4
// partitions equals the arrival-order replay, counts included.
func TestParityCommittedLog(t *testing.T) {
	h := newHarness(t, "committed")
	st := h.produce(committedLog)
	if st.Events != 4589 {
		t.Fatalf("produced %d events, want the log's 4589", st.Events)
	}
	m := h.start(h.config("a"))
	d := h.dump()
	m.stop(t)
	assertParity(t, d, replayOf(t, signal.DefaultParams(), committedLog))
	t.Logf("dump: %d signals, %d conversations (%d final, %d open), %d orders; live %+v",
		len(d.Outputs.Signals), len(d.Outputs.Conversations), d.Info.FinalConversations, d.Info.OpenConversations,
		len(d.Outputs.Orders), d.Info.Live)
}

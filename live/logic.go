package live

import (
	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// logic is the seam between live mode and the per-buyer signal logic: the
// few operations a streaming engine needs on one buyer's state. Everything
// else in this package is Kafka, timers and bookkeeping.
type logic struct {
	b *signal.Buyer
}

func newLogic(key event.BuyerKey, p signal.Params) logic {
	return logic{b: signal.NewBuyer(key, p)}
}

// restoreLogic rebuilds a state written by marshal.
func restoreLogic(p signal.Params, data []byte) (logic, error) {
	b := signal.NewBuyer(event.BuyerKey{}, p)
	if err := b.UnmarshalBinary(data); err != nil {
		return logic{}, err
	}
	return logic{b: b}, nil
}

// apply feeds one event (the buyer's, in arrival order) and observes it in c
// as the replay does (time ranges and the lag histogram; the logic's counts
// go to out.Counts).
func (l logic) apply(e *event.Event, out *signal.Output, c *replay.Counts) {
	c.EventTime.Observe(e.EventTime)
	if e.HasIngestTime {
		c.IngestTime.Observe(e.IngestTime)
		c.Lag.Observe(e.IngestTime - e.EventTime)
	}
	l.b.Apply(e, out)
}

// finish writes the conversation rows out and forgets the conversations,
// keeping the rest of the state.
func (l logic) finish(out *signal.Output) { l.b.Finish(out) }

func (l logic) clock() (int64, bool) { return l.b.Clock() }

func (l logic) marshal() ([]byte, error) { return l.b.MarshalBinary() }

// conversations appends the rows finish would write now, without changing
// the state.
func (l logic) conversations(dst []signal.Conversation) []signal.Conversation {
	return l.b.Conversations(dst)
}

package replay

import "github.com/signalab/signalab/signal"

// Output collects what Buyers produce: rows and counts. Feed, Advance,
// Finish and Replay append to it; the caller owns it and decides its scope
// (one per buyer, partition, bundle or poll of a stream), takes the rows
// and the counts out, and may Reset it to reuse its memory.
//
// Every row appended is final: signals and orders when the event that
// produced them is applied, conversations when the buyer's state settles or
// expires or at Finish (see the package documentation). Rows are in
// processing order; the output tables are sorted at the end
// (replay/output).
type Output struct {
	Signals       []signal.Signal
	Conversations []signal.Conversation
	Orders        []signal.Order
	// Sessions are the buyers' sessions when the Buyers track them
	// (Buyer.TrackSessions), final when appended.
	Sessions []Session
	// Counts are the logic's counts and the watermark-lag and time-range
	// statistics of the events applied; Read and Quarantined are the
	// reader's business and stay zero here.
	Counts Counts
}

// Reset empties o, keeping the memory of its row slices.
func (o *Output) Reset() {
	clear(o.Signals)
	clear(o.Conversations)
	clear(o.Orders)
	clear(o.Sessions)
	o.Signals, o.Conversations, o.Orders, o.Sessions = o.Signals[:0], o.Conversations[:0], o.Orders[:0], o.Sessions[:0]
	o.Counts = Counts{}
}

// Rows is the number of rows o holds.
func (o *Output) Rows() int {
	return len(o.Signals) + len(o.Conversations) + len(o.Orders) + len(o.Sessions)
}

package embedded

import (
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

// outputRowBytes is the memory an output row (signal, conversation or
// order, with its strings) takes in memory, on average over the three
// tables: what outputRuns counts against the memory budget.
const outputRowBytes = 300

// outputRuns collects the output rows of the partitions as workers finish
// them. The rows live on the Go heap, which the garbage collector lets grow
// to twice its live data, so they count twice (at outputRowBytes each)
// against what the memory budget leaves beside the event records still in
// memory, and at least against a quarter of the budget (the records go as
// the partitions are done). Beyond that (or, when limit is positive, beyond
// limit rows) the rows are sorted and written as one run per table
// (uncompressed Parquet in dir); at the end the runs are k-way merged into
// the output files, so memory for output rows is bounded by the budget
// whatever the input size (output.WriteRun, output.MergeRuns). Without runs
// the rows stay in memory.
type outputRuns struct {
	mu      sync.Mutex
	dir     string
	limit   int
	budget  int64
	records *chunkPool      // the records still in memory
	held    []signal.Output // the partitions' rows, concatenated by take
	// heldSessions are the partitions' sessions (replay.Buyer.TrackSessions),
	// kept beside held (signal.Output has no sessions).
	heldSessions [][]replay.Session
	n            int // rows held
	runs         int // runs written
	sessions     int // sessions seen in all
	err          error
}

// add takes the rows of out (and forgets them in out; the counts stay).
// The rows are not copied until take concatenates them once, into slices
// of the exact size.
func (r *outputRuns) add(out *replay.Output) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held = append(r.held, signal.Output{Signals: out.Signals, Conversations: out.Conversations, Orders: out.Orders})
	if len(out.Sessions) > 0 {
		r.heldSessions = append(r.heldSessions, out.Sessions)
		r.sessions += len(out.Sessions)
	}
	r.n += out.Rows()
	out.Signals, out.Conversations, out.Orders, out.Sessions = nil, nil, nil, nil
	if r.err == nil && r.over() {
		r.err = r.spill()
	}
}

// over reports whether the rows held should be spilled.
func (r *outputRuns) over() bool {
	if r.limit > 0 {
		return r.n > r.limit
	}
	var records int64
	if r.records != nil {
		records = r.records.held.Load()
	}
	return 2*int64(r.n)*outputRowBytes > max(r.budget-records, r.budget/4)
}

// take returns the held rows, concatenated, and forgets them.
func (r *outputRuns) take() output.Tables {
	var ns, nc, no, nss int
	for i := range r.held {
		ns += len(r.held[i].Signals)
		nc += len(r.held[i].Conversations)
		no += len(r.held[i].Orders)
	}
	for _, ss := range r.heldSessions {
		nss += len(ss)
	}
	o := output.Tables{Signals: make([]signal.Signal, 0, ns), Conversations: make([]signal.Conversation, 0, nc),
		Orders: make([]signal.Order, 0, no)}
	for i := range r.held {
		o.Signals = append(o.Signals, r.held[i].Signals...)
		o.Conversations = append(o.Conversations, r.held[i].Conversations...)
		o.Orders = append(o.Orders, r.held[i].Orders...)
		r.held[i] = signal.Output{}
	}
	if nss > 0 {
		o.Sessions = make([]replay.Session, 0, nss)
		for i, ss := range r.heldSessions {
			o.Sessions = append(o.Sessions, ss...)
			r.heldSessions[i] = nil
		}
	}
	r.held, r.heldSessions, r.n = r.held[:0], r.heldSessions[:0], 0
	return o
}

// parts returns the held rows as they are, to be written sorted without
// concatenating them (output.Parts), and forgets them.
func (r *outputRuns) parts() output.Parts {
	var p output.Parts
	for i := range r.held {
		p.Signals = append(p.Signals, r.held[i].Signals)
		p.Conversations = append(p.Conversations, r.held[i].Conversations)
		p.Orders = append(p.Orders, r.held[i].Orders)
		r.held[i] = signal.Output{}
	}
	p.Sessions = slices.Clone(r.heldSessions)
	clear(r.heldSessions)
	r.held, r.heldSessions, r.n = r.held[:0], r.heldSessions[:0], 0
	return p
}

// spill sorts the held rows and writes them as run number r.runs.
func (r *outputRuns) spill() error {
	o := r.take()
	o.Sort()
	for _, t := range []struct {
		base  string
		write func(string) error
	}{
		{"signals", func(p string) error { return output.WriteRun(p, o.Signals) }},
		{"conversations", func(p string) error { return output.WriteRun(p, o.Conversations) }},
		{"orders", func(p string) error { return output.WriteRun(p, o.Orders) }},
		{"sessions", func(p string) error { return output.WriteRun(p, o.Sessions) }},
	} {
		if err := t.write(r.runPath(t.base, r.runs)); err != nil {
			return fmt.Errorf("spill output rows: %w (set --tmp to a folder with free space)", err)
		}
	}
	r.runs++
	return nil
}

func (r *outputRuns) runPath(base string, i int) string {
	return filepath.Join(r.dir, fmt.Sprintf("run-%04d-%s.parquet", i, base))
}

func (r *outputRuns) paths(base string) []string {
	p := make([]string, r.runs)
	for i := range p {
		p[i] = r.runPath(base, i)
	}
	return p
}

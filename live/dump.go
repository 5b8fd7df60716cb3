package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

// DumpResult is what Dump read from the output topics.
type DumpResult struct {
	// Outputs are the rows, as output.Write writes them: every
	// signal, order and quarantined record, and the last version of every
	// conversation row.
	Outputs *output.Tables
	// Summary is replay.json: the counts of every input partition added up.
	Summary output.Summary
	// Info is live.json: where the dump stands.
	Info DumpInfo
}

// DumpInfo describes a dump (live.json).
type DumpInfo struct {
	Input string `json:"input"`
	// Complete is true when every record of the input topic (up to its
	// end when the dump began) had been processed and committed: the dump
	// then equals a replay of the input topic in arrival order.
	Complete bool `json:"complete"`
	// Behind is, per input partition, how many records were not yet processed.
	Behind map[int32]int64 `json:"behind,omitempty"`
	// Partitions are the counts records read, one per input partition.
	Partitions []PartitionCounts `json:"partitions"`
	// Live adds up the partitions' live-mode counts.
	Live LiveStats `json:"live"`
	// FinalConversations and OpenConversations split the conversation
	// rows: final (their buyer's state expired) or open (as the replay's
	// end-of-log flush writes them).
	FinalConversations int `json:"final_conversations"`
	OpenConversations  int `json:"open_conversations"`
	// FinalSessions and OpenSessions split the session rows (with
	// sessions tracked) in the same way.
	FinalSessions int `json:"final_sessions,omitempty"`
	OpenSessions  int `json:"open_sessions,omitempty"`
}

// Dump reads the output topics of signals topic out (see OutputTopics)
// into replay outputs. With wait > 0 it first waits up to wait until the
// live consumers have processed the whole input topic (its end when the dump
// began); a dump of an unfinished stream is a prefix, said by Info.Complete.
//
// What is read is what read_committed consumers see: committed
// transactions only. While live consumers still run, the topics are read one
// after the other, so a dump can straddle a commit; dump a stream that is
// caught up (as with wait) for an exact comparison with replay.
func Dump(ctx context.Context, opts []kgo.Opt, out string, wait time.Duration) (*DumpResult, error) {
	topics := OutputTopics(out)
	admin, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	defer admin.Close()

	var parts []PartitionCounts
	var info DumpInfo
	deadline := time.Now().Add(wait)
	var inputEnds map[int32]int64
	for {
		parts, err = readCounts(ctx, admin, opts, topics.Counts)
		if errors.Is(err, kerr.UnknownTopicOrPartition) && wait > 0 && time.Now().Before(deadline) {
			parts, err = nil, nil // live mode has not created its topics yet
		}
		if err != nil {
			return nil, err
		}
		if len(parts) == 0 {
			if wait > 0 && time.Now().Before(deadline) {
				if err := sleep(ctx, 200*time.Millisecond); err != nil {
					return nil, err
				}
				continue
			}
			return nil, fmt.Errorf("dump: topic %s has no counts records: has signalab live processed anything with --output %s?", topics.Counts, out)
		}
		info.Input = parts[0].Input
		for _, pc := range parts {
			if pc.Input != info.Input {
				return nil, fmt.Errorf("dump: topic %s holds counts of two inputs, %s and %s: give each live pipeline its own --output", topics.Counts, info.Input, pc.Input)
			}
		}
		if inputEnds == nil {
			n, err := PartitionCount(ctx, admin, info.Input)
			if err != nil {
				return nil, fmt.Errorf("dump: input %w", err)
			}
			if inputEnds, err = endOffsets(ctx, admin, info.Input, allPartitions(n), readCommitted); err != nil {
				return nil, fmt.Errorf("dump: %w", err)
			}
		}
		info.Behind = behind(parts, inputEnds)
		info.Complete = len(info.Behind) == 0
		if info.Complete || wait <= 0 {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("dump: after %s the live consumers still have %v records (by partition) of %s to process: are they running?", wait, info.Behind, info.Input)
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return nil, err
		}
	}
	b := newDumpBuilder(topics)
	for _, topic := range []string{topics.Signals, topics.Orders, topics.Quarantine, topics.Conversations} {
		if err := readTopic(ctx, admin, opts, topic, b.add); err != nil {
			return nil, err
		}
	}
	// The sessions topic exists when the processor tracked sessions
	// (Config.Sessions): the dump then writes sessions.parquet.
	if _, err := PartitionCount(ctx, admin, topics.Sessions); err == nil {
		b.o.WithSessions = true
		if err := readTopic(ctx, admin, opts, topics.Sessions, b.add); err != nil {
			return nil, err
		}
	} else if !errors.Is(err, kerr.UnknownTopicOrPartition) {
		return nil, fmt.Errorf("dump: %w", err)
	}
	return b.result(parts, info)
}

// dumpBuilder assembles replay outputs from output records.
type dumpBuilder struct {
	topics   Topics
	o        output.Tables
	convs    map[string]ConversationRecord
	sessions map[string]SessionRecord
}

func newDumpBuilder(t Topics) *dumpBuilder {
	return &dumpBuilder{topics: t, convs: map[string]ConversationRecord{}, sessions: map[string]SessionRecord{}}
}

// add takes one record of an output topic (in offset order within a
// partition; conversation records keep the last of each key).
func (b *dumpBuilder) add(r *kgo.Record) error {
	switch r.Topic {
	case b.topics.Signals:
		var j output.SignalJSON
		if err := json.Unmarshal(r.Value, &j); err != nil {
			return err
		}
		b.o.Signals = append(b.o.Signals, j.Signal())
	case b.topics.Orders:
		var j output.OrderJSON
		if err := json.Unmarshal(r.Value, &j); err != nil {
			return err
		}
		b.o.Orders = append(b.o.Orders, j.Order())
	case b.topics.Quarantine:
		var q QuarantineRecord
		if err := json.Unmarshal(r.Value, &q); err != nil {
			return err
		}
		b.o.Quarantine = append(b.o.Quarantine, q.Row())
	case b.topics.Conversations:
		if r.Value == nil {
			delete(b.convs, string(r.Key))
			return nil
		}
		var c ConversationRecord
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		b.convs[string(r.Key)] = c
	case b.topics.Sessions:
		if r.Value == nil {
			delete(b.sessions, string(r.Key))
			return nil
		}
		var s SessionRecord
		if err := json.Unmarshal(r.Value, &s); err != nil {
			return err
		}
		b.sessions[string(r.Key)] = s
	}
	return nil
}

// result returns the outputs with the summary of the partitions' counts.
func (b *dumpBuilder) result(parts []PartitionCounts, info DumpInfo) (*DumpResult, error) {
	o := &b.o
	for _, c := range b.convs {
		o.Conversations = append(o.Conversations, c.Conversation())
		if c.Final {
			info.FinalConversations++
		} else {
			info.OpenConversations++
		}
	}
	for _, s := range b.sessions {
		o.Sessions = append(o.Sessions, s.Session)
		if s.Final {
			info.FinalSessions++
		} else {
			info.OpenSessions++
		}
	}
	if len(parts) == 0 {
		return nil, errors.New("dump: no counts records")
	}
	var total replay.Counts
	for _, pc := range parts {
		c, err := pc.Counts.Counts()
		if err != nil {
			return nil, fmt.Errorf("dump: counts of %s partition %d: %w", pc.Input, pc.Partition, err)
		}
		total.Add(c)
		info.Live.Add(pc.Live)
		if pc.Params != parts[0].Params {
			return nil, fmt.Errorf("dump: partitions %d and %d of %s were processed with different signal parameters (%+v, %+v)", parts[0].Partition, pc.Partition, pc.Input, parts[0].Params, pc.Params)
		}
	}
	params, err := paramsFromJSON(parts[0].Params)
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	o.Sort()
	sum := output.NewSummary(params, replay.OrderArrival, &total, o)
	sum.Inputs = []output.InputFile{{Path: "kafka:" + parts[0].Input, Format: "kafka"}}
	info.Partitions = parts
	return &DumpResult{Outputs: o, Summary: sum, Info: info}, nil
}

// readCounts returns the latest counts record of every input partition.
func readCounts(ctx context.Context, admin *kgo.Client, opts []kgo.Opt, topic string) ([]PartitionCounts, error) {
	latest := map[string]PartitionCounts{}
	err := readTopic(ctx, admin, opts, topic, func(r *kgo.Record) error {
		var pc PartitionCounts
		if err := json.Unmarshal(r.Value, &pc); err != nil {
			return err
		}
		if pc.Schema != CountsSchema {
			return fmt.Errorf("schema %q, want %q", pc.Schema, CountsSchema)
		}
		latest[string(r.Key)] = pc
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]PartitionCounts, 0, len(latest))
	for _, pc := range latest {
		out = append(out, pc)
	}
	slices.SortFunc(out, func(a, b PartitionCounts) int { return int(a.Partition) - int(b.Partition) })
	return out, nil
}

// behind returns, per input partition, the records before its end not yet
// counted.
func behind(parts []PartitionCounts, ends map[int32]int64) map[int32]int64 {
	next := map[int32]int64{}
	for _, pc := range parts {
		next[pc.Partition] = pc.NextOffset
	}
	var out map[int32]int64
	for p, end := range ends {
		if end > next[p] {
			if out == nil {
				out = map[int32]int64{}
			}
			out[p] = end - next[p]
		}
	}
	return out
}

// readTopic reads every committed record of every partition of topic up to
// its end when called.
func readTopic(ctx context.Context, admin *kgo.Client, opts []kgo.Opt, topic string, fn func(*kgo.Record) error) error {
	n, err := PartitionCount(ctx, admin, topic)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	ends, err := endOffsets(ctx, admin, topic, allPartitions(n), readCommitted)
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	return readPartitions(ctx, opts, topic, ends, func(r *kgo.Record) error {
		if err := fn(r); err != nil {
			return fmt.Errorf("dump: %s partition %d offset %d: %w", r.Topic, r.Partition, r.Offset, err)
		}
		return nil
	})
}

// paramsFromJSON parses the parameters of a counts record.
func paramsFromJSON(j output.ParamsJSON) (signal.Params, error) {
	var p signal.Params
	for _, d := range []struct {
		key string
		s   string
		v   *time.Duration
	}{
		{"conversation_inactivity", j.ConversationInactivity, &p.ConversationInactivity},
		{"cart_lookback", j.CartLookback, &p.CartLookback},
		{"order_lookback", j.OrderLookback, &p.OrderLookback},
		{"dedupe_window", j.DedupeWindow, &p.DedupeWindow},
		{"state_ttl", j.StateTTL, &p.StateTTL},
		{"max_out_of_orderness", j.MaxOutOfOrderness, &p.MaxOutOfOrderness},
		{"allowed_lateness", j.AllowedLateness, &p.AllowedLateness},
	} {
		v, err := time.ParseDuration(d.s)
		if err != nil {
			return p, fmt.Errorf("counts record: params.%s: %w", d.key, err)
		}
		*d.v = v
	}
	p.MinCartValueCents = j.MinCartValueCents
	return p, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// DumpInfoFile is the file of DumpInfo beside the replay outputs.
const DumpInfoFile = "live.json"

// WriteDump writes d into dir: the replay outputs and replay.json (see
// output.Write) and live.json.
func WriteDump(dir string, d *DumpResult) error {
	if err := output.Write(dir, d.Outputs, &d.Summary); err != nil {
		return err
	}
	b, err := json.MarshalIndent(d.Info, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, DumpInfoFile), append(b, '\n'))
}

package live

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Topics names every topic of a live pipeline. The output topics share the
// prefix of the signals topic, so that `signalab live dump --topic T` finds
// them all from T; the changelog belongs to the consumer group, as Kafka
// Streams names its state changelogs.
type Topics struct {
	// Input holds v1 events, one JSON object per record, keyed shop_id/buyer_id.
	Input string
	// Signals receives one record per signal (canonical JSON of a
	// signals.parquet row), keyed shop_id/buyer_id. Append-only.
	Signals string
	// Conversations receives upserts of conversation rows (compacted), keyed
	// by ConversationKey; the last record of a key is the row.
	Conversations string
	// Orders receives one record per de-duplicated order, keyed shop_id/buyer_id.
	Orders string
	// Quarantine receives input records that broke the schema, with the
	// reason codes of quarantine.parquet.
	Quarantine string
	// Counts receives, per input partition, the cumulative counts of
	// replay.json (compacted, keyed input/partition).
	Counts string
	// Sessions receives upserts of session rows (compacted), keyed by
	// SessionKey; the last record of a key is the row. Used only when
	// the processor tracks sessions (Config.Sessions).
	Sessions string
	// Changelog holds each buyer's state (compacted, keyed by buyer,
	// co-partitioned with Input), from which state is restored on
	// assignment.
	Changelog string
}

// TopicsFor derives the topic names of a pipeline reading input, writing
// signals to output (and output.conversations, output.orders,
// output.quarantine, output.counts beside it), in consumer group group
// (changelog group-state-changelog).
func TopicsFor(input, output, group string) Topics {
	t := OutputTopics(output)
	t.Input = input
	t.Changelog = group + "-state-changelog"
	return t
}

// OutputTopics names the output topics of signals topic output.
func OutputTopics(output string) Topics {
	return Topics{Signals: output, Conversations: output + ".conversations", Orders: output + ".orders",
		Quarantine: output + ".quarantine", Counts: output + ".counts", Sessions: output + ".sessions"}
}

// compacted are the topic configurations of a compacted (table-like) topic.
var compacted = map[string]string{"cleanup.policy": "compact"}

// TopicSpec says how to create a topic that does not exist yet.
type TopicSpec struct {
	Name       string
	Partitions int32
	// Configs are topic configurations such as cleanup.policy=compact.
	Configs map[string]string
}

// SessionsSpec is how live mode creates the sessions topic (compacted, with
// the input's partition count) when it tracks sessions.
func (t Topics) SessionsSpec(partitions int32) TopicSpec {
	return TopicSpec{Name: t.Sessions, Partitions: partitions, Configs: compacted}
}

// Specs returns how live mode creates its topics when they are missing:
// every output and the changelog with the input's partition count (the
// changelog must have exactly that many: it is co-partitioned with the
// input), the changelog, counts and conversations compacted. The input
// topic is not among them (see EnsureTopics).
func (t Topics) Specs(partitions int32) []TopicSpec {
	return []TopicSpec{
		{Name: t.Signals, Partitions: partitions},
		{Name: t.Conversations, Partitions: partitions, Configs: compacted},
		{Name: t.Orders, Partitions: partitions},
		{Name: t.Quarantine, Partitions: partitions},
		{Name: t.Counts, Partitions: partitions, Configs: compacted},
		{Name: t.Changelog, Partitions: partitions, Configs: compacted},
	}
}

// EnsureTopics creates the topics of specs that do not exist, with
// replication factor rf (-1: the broker's default). Existing topics are
// left as they are, and no CreateTopics request is sent when all exist (so
// a user without the Create permission can run on topics made for it).
func EnsureTopics(ctx context.Context, cl *kgo.Client, rf int16, specs ...TopicSpec) error {
	var missing []TopicSpec
	for _, s := range specs {
		if _, err := PartitionCount(ctx, cl, s.Name); err != nil {
			if !errors.Is(err, kerr.UnknownTopicOrPartition) {
				return err
			}
			missing = append(missing, s)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	specs = missing
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = 30000
	for _, s := range specs {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic = s.Name
		rt.NumPartitions = s.Partitions
		rt.ReplicationFactor = rf
		for k, v := range s.Configs {
			c := kmsg.NewCreateTopicsRequestTopicConfig()
			c.Name, c.Value = k, kmsg.StringPtr(v)
			rt.Configs = append(rt.Configs, c)
		}
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("create topics: %w (are the brokers reachable?)", err)
	}
	for _, t := range resp.Topics {
		err := kerr.ErrorForCode(t.ErrorCode)
		if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
			continue
		}
		msg := ""
		if t.ErrorMessage != nil {
			msg = ": " + *t.ErrorMessage
		}
		return fmt.Errorf("create topic %s: %w%s (create it yourself, see docs/live.md \"Topics\")", t.Topic, err, msg)
	}
	return nil
}

// PartitionCount returns the number of partitions of topic, or an error
// naming the topic when it does not exist.
func PartitionCount(ctx context.Context, cl *kgo.Client, topic string) (int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = false // a lookup must not create a topic with default settings
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, fmt.Errorf("metadata of topic %s: %w (are the brokers reachable?)", topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return 0, fmt.Errorf("topic %s: %w (create it, or check --input / --topic)", topic, err)
		}
		if len(t.Partitions) == 0 {
			return 0, fmt.Errorf("topic %s: %w (no partitions yet)", topic, kerr.UnknownTopicOrPartition)
		}
		return int32(len(t.Partitions)), nil
	}
	return 0, fmt.Errorf("topic %s: not in the cluster's metadata (create it, or check --input / --topic)", topic)
}

// Isolation levels of ListOffsets.
const (
	readUncommitted int8 = 0
	readCommitted   int8 = 1
)

// endOffsets returns, per partition of topic, the end offset a consumer at
// isolation level iso sees: the high watermark (read_uncommitted) or the
// last stable offset (read_committed: the first offset of the oldest open
// transaction, or the high watermark when none is open).
func endOffsets(ctx context.Context, cl *kgo.Client, topic string, parts []int32, iso int8) (map[int32]int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	req.ReplicaID = -1
	req.IsolationLevel = iso
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.CurrentLeaderEpoch = -1
		rp.Timestamp = -1 // latest
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("list offsets of %s: %w", topic, err)
	}
	out := make(map[int32]int64, len(parts))
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("list offsets of %s partition %d: %w", topic, p.Partition, err)
			}
			out[p.Partition] = p.Offset
		}
	}
	for _, p := range parts {
		if _, ok := out[p]; !ok {
			return nil, fmt.Errorf("list offsets of %s: no answer for partition %d", topic, p)
		}
	}
	return out, nil
}

// allPartitions returns 0..n-1.
func allPartitions(n int32) []int32 {
	ps := make([]int32, n)
	for i := range ps {
		ps[i] = int32(i)
	}
	return ps
}

// CountsKey is the key of the counts record of partition p of input.
func CountsKey(input string, p int32) string { return input + "/" + strconv.Itoa(int(p)) }

package live

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

// The record formats of the live topics. Values are JSON; rows use the
// canonical JSON of the replay's golden sets (output.SignalJSON,
// ConversationJSON, OrderJSON: times as RFC 3339 UTC strings, absent
// optional values omitted), so a record reads like a line of a golden set.
// docs/live.md "Topics and records" is the contract.

// BuyerRecordKey returns the key of a buyer's records in the input, signals
// and orders topics: shop_id/buyer_id. It decides the partition (Kafka's
// murmur2 of the key), so all of a buyer's events meet in one partition.
func BuyerRecordKey(k event.BuyerKey) []byte {
	b := make([]byte, 0, len(k.ShopID)+1+len(k.BuyerID))
	b = append(b, k.ShopID...)
	b = append(b, '/')
	return append(b, k.BuyerID...)
}

// ConversationRecord is the value of a conversations record: the
// conversation's row as Finish would write it at this point of the stream,
// and whether it is final. A row is final once its buyer's state expired
// (the watermark passed state_ttl after the buyer's last event, or a later
// event of the buyer expired it): no event can change it any more. Until
// then each change of the row is written again under the same key, and the
// last record of a key is the row (what a replay of the stream so far would
// write at its end-of-log flush).
type ConversationRecord struct {
	output.ConversationJSON
	Final bool `json:"final"`
}

// ConversationKey is the key of a conversation's records: the JSON array
// [shop_id, buyer_id, conversation_id, birth], where birth is the
// event_time (µs since the epoch) of the first accepted event of the buyer
// state holding the conversation. A conversation seen again after its
// buyer's state expired is a second row (docs/signals.md, "Expiry"), and
// its state was born later, so it gets a key of its own.
func ConversationKey(k event.BuyerKey, conversationID string, birth int64) []byte {
	b, _ := json.Marshal([]any{k.ShopID, k.BuyerID, conversationID, birth})
	return b
}

// SessionRecord is the value of a session record: a sessions.parquet row
// (replay.Session) and whether it is final. The last record of a key is
// the row; a session still open is upserted as its buyer's events come.
type SessionRecord struct {
	replay.Session
	Final bool `json:"final"`
}

// SessionKey is the key of a session's records: the JSON array [shop_id,
// buyer_id, started_at] (µs since the epoch), the session's key in
// sessions.parquet (started_at is fixed when the session opens).
func SessionKey(k event.BuyerKey, startedAt int64) []byte {
	b, _ := json.Marshal([]any{k.ShopID, k.BuyerID, startedAt})
	return b
}

// QuarantineRecord is the value of a quarantine record: an input record that
// broke the schema, where it was and why (the reason codes of
// quarantine.parquet; see event.Reason).
type QuarantineRecord struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Column    string `json:"column"`
	Reason    string `json:"reason"`
	Detail    string `json:"detail"`
	Raw       string `json:"raw"`
}

// Row returns q as a row of quarantine.parquet: file is "topic[partition]"
// and row the record's offset.
func (q QuarantineRecord) Row() output.QuarantineRow {
	return output.QuarantineRow{File: q.Topic + "[" + strconv.Itoa(int(q.Partition)) + "]", Row: q.Offset,
		Column: q.Column, Reason: q.Reason, Detail: q.Detail, Raw: q.Raw}
}

// CountsSchema identifies the format of PartitionCounts.
const CountsSchema = "signalab.live.counts/v1"

// PartitionCounts is the value of a counts record (and of the changelog's
// partition record): the cumulative counts of replay.json over the records
// of one input partition processed and committed so far, with the position
// reached and the partition's watermark. Counts of all partitions add up to
// the counts of a replay of the same records.
type PartitionCounts struct {
	Schema    string `json:"schema"`
	Input     string `json:"input"`
	Partition int32  `json:"partition"`
	// NextOffset is the offset of the next input record to process: every
	// record before it is counted.
	NextOffset int64             `json:"next_offset"`
	Order      string            `json:"order"`
	Params     output.ParamsJSON `json:"params"`
	Counts     CountsJSON        `json:"counts"`
	// MaxArrival is the latest arrival time (ingest_time, or event_time
	// without one) seen in the partition; the watermark is MaxArrival −
	// max_out_of_orderness.
	MaxArrival *output.Timestamp `json:"max_arrival,omitempty"`
	Live       LiveStats         `json:"live"`
}

// LiveStats are counts of live mode beyond replay.json: how often the
// stream broke an assumption the parity with replay rests on, and the
// timers that fired.
type LiveStats struct {
	// KeyMismatches counts records whose key is not the event's
	// shop_id/buyer_id (the producer partitioned by something else, so a
	// buyer's events may be split across partitions).
	KeyMismatches int64 `json:"key_mismatches"`
	// BehindWatermark counts records arriving (ingest_time, or event_time
	// without one) more than max_out_of_orderness before the partition's
	// latest arrival: the partition is not in arrival order within the
	// bound (the buyer core still applies them unless OutOfOrder).
	BehindWatermark int64 `json:"behind_watermark"`
	// OutOfOrder counts events the buyer core refused (replay.ErrOrder):
	// before the buyer's previous event in arrival order, or behind the
	// watermark at which its state settled. They are quarantined with
	// reason out_of_order; only they make outputs differ from replay.
	OutOfOrder int64 `json:"out_of_order"`
	// Settled counts buyer states the watermark settled (their
	// conversation rows written out as final).
	Settled int64 `json:"settled"`
	// Forgotten counts settled buyer states dropped (tombstoned)
	// --forget-after after they settled.
	Forgotten int64 `json:"forgotten"`
}

// Add adds o to s.
func (s *LiveStats) Add(o LiveStats) {
	s.KeyMismatches += o.KeyMismatches
	s.BehindWatermark += o.BehindWatermark
	s.OutOfOrder += o.OutOfOrder
	s.Settled += o.Settled
	s.Forgotten += o.Forgotten
}

// CountsJSON is replay.Counts in JSON: everything needed to rebuild the
// deterministic part of replay.json after adding up partitions.
type CountsJSON struct {
	Read                int64            `json:"read"`
	QuarantinedByReason map[string]int64 `json:"quarantined_by_reason,omitempty"`
	Logic               signal.Counts    `json:"logic"`
	Lag                 LagJSON          `json:"lag"`
	EventTime           RangeJSON        `json:"event_time"`
	IngestTime          RangeJSON        `json:"ingest_time"`
	// Currencies counts valid events by currency code (replay.json's
	// counts.currencies; absent in records written before it existed).
	Currencies map[string]int64 `json:"currencies,omitempty"`
}

// LagJSON is a replay.LagHistogram with only its non-empty buckets.
type LagJSON struct {
	N        int64         `json:"n"`
	Negative int64         `json:"negative"`
	Max      int64         `json:"max_us"`
	Buckets  map[int]int64 `json:"buckets,omitempty"`
}

// RangeJSON is a replay.TimeRange.
type RangeJSON struct {
	N   int64 `json:"n"`
	Min int64 `json:"min_us"`
	Max int64 `json:"max_us"`
}

// CountsToJSON converts c.
func CountsToJSON(c *replay.Counts) CountsJSON {
	j := CountsJSON{Read: c.Read, Logic: c.Signal,
		Lag:       LagJSON{N: c.Lag.N, Negative: c.Lag.Negative, Max: c.Lag.Max},
		EventTime: RangeJSON(c.EventTime), IngestTime: RangeJSON(c.IngestTime)}
	if len(c.Quarantined) > 0 {
		j.QuarantinedByReason = make(map[string]int64, len(c.Quarantined))
		for k, v := range c.Quarantined {
			j.QuarantinedByReason[k] = v
		}
	}
	if len(c.Currencies) > 0 {
		j.Currencies = make(map[string]int64, len(c.Currencies))
		for k, v := range c.Currencies {
			j.Currencies[k] = v
		}
	}
	for i, v := range c.Lag.Buckets {
		if v != 0 {
			if j.Lag.Buckets == nil {
				j.Lag.Buckets = map[int]int64{}
			}
			j.Lag.Buckets[i] = v
		}
	}
	return j
}

// Counts converts back; it fails on a lag bucket out of range.
func (j CountsJSON) Counts() (replay.Counts, error) {
	c := replay.Counts{Read: j.Read, Signal: j.Logic, EventTime: replay.TimeRange(j.EventTime),
		IngestTime: replay.TimeRange(j.IngestTime)}
	for k, v := range j.QuarantinedByReason {
		if c.Quarantined == nil {
			c.Quarantined = map[string]int64{}
		}
		c.Quarantined[k] = v
	}
	for k, v := range j.Currencies {
		if c.Currencies == nil {
			c.Currencies = map[string]int64{}
		}
		c.Currencies[k] = v
	}
	c.Lag.N, c.Lag.Negative, c.Lag.Max = j.Lag.N, j.Lag.Negative, j.Lag.Max
	for i, v := range j.Lag.Buckets {
		if i < 0 || i >= len(c.Lag.Buckets) {
			return c, fmt.Errorf("lag bucket %d out of range 0..%d", i, len(c.Lag.Buckets)-1)
		}
		c.Lag.Buckets[i] = v
	}
	return c, nil
}

// changelogPartitionKey is the changelog key of a partition's own record
// (its PartitionCounts); every other key is a buyer's (a JSON array).
const changelogPartitionKey = "#partition"

// changelogKey is the changelog key of buyer k: the JSON array
// [shop_id, buyer_id] (unambiguous whatever the ids contain).
func changelogKey(k event.BuyerKey) []byte {
	b, _ := json.Marshal([2]string{k.ShopID, k.BuyerID})
	return b
}

func parseChangelogKey(key []byte) (event.BuyerKey, error) {
	var a [2]string
	if err := json.Unmarshal(key, &a); err != nil {
		return event.BuyerKey{}, err
	}
	return event.BuyerKey{ShopID: a[0], BuyerID: a[1]}, nil
}

// buyerRecordVersion is the first byte of a changelog buyer value.
const buyerRecordVersion = 2

// buyerRecord is a buyer's changelog value: the buyer core's snapshot
// (replay.Buyer.MarshalBinary) and what live mode keeps beside it. It is
// internal to live mode, so it is binary where that is cheaper to read on a
// restore:
//
//	byte     version (2)
//	byte     flags: 1 birth present, 2 settled_at present
//	varint   birth (µs), when present: event_time of the state's first
//	         accepted event (see ConversationKey)
//	varint   settled_at (µs), when present: the partition's watermark when
//	         the state was found settled (for --forget-after)
//	uvarint  n, then n bytes: the signals of the conversations the state
//	         holds (what the HTTP endpoint serves), a JSON array of
//	         canonical signals, or n = 0
//	rest     the buyer core's snapshot (versioned JSON)
type buyerRecord struct {
	Birth        int64
	HasBirth     bool
	SettledAt    int64
	HasSettledAt bool
	Signals      []byte
	State        []byte
}

func (r *buyerRecord) append(dst []byte) []byte {
	var flags byte
	if r.HasBirth {
		flags |= 1
	}
	if r.HasSettledAt {
		flags |= 2
	}
	dst = append(dst, buyerRecordVersion, flags)
	if r.HasBirth {
		dst = binary.AppendVarint(dst, r.Birth)
	}
	if r.HasSettledAt {
		dst = binary.AppendVarint(dst, r.SettledAt)
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.Signals)))
	dst = append(dst, r.Signals...)
	return append(dst, r.State...)
}

func (r *buyerRecord) parse(b []byte) error {
	if len(b) < 2 {
		return errors.New("record too short")
	}
	if b[0] != buyerRecordVersion {
		return fmt.Errorf("record version %d, want %d (written by another signalab version: start afresh with a new --group)", b[0], buyerRecordVersion)
	}
	flags := b[1]
	b = b[2:]
	r.HasBirth, r.HasSettledAt = flags&1 != 0, flags&2 != 0
	var n int
	if r.HasBirth {
		if r.Birth, n = binary.Varint(b); n <= 0 {
			return errors.New("bad birth")
		}
		b = b[n:]
	}
	if r.HasSettledAt {
		if r.SettledAt, n = binary.Varint(b); n <= 0 {
			return errors.New("bad settled_at")
		}
		b = b[n:]
	}
	l, n := binary.Uvarint(b)
	if n <= 0 || uint64(len(b)-n) < l {
		return errors.New("bad signals length")
	}
	r.Signals, r.State = b[n:n+int(l)], b[n+int(l):]
	return nil
}

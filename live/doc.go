// Package live runs the buyer-signal logic on a Kafka stream: a consumer
// group reads v1 events (JSON, one per record, keyed shop_id/buyer_id) and
// feeds each buyer's events, in the order they arrive, to the buyer core
// every engine drives (replay.Buyer: Feed, Due and Advance at the
// partition's watermark, snapshots). It writes signals, conversation rows,
// orders, quarantined records and counts to output topics, with each
// buyer's snapshot in a compacted changelog, all in Kafka transactions
// together with the input offsets. What it writes equals a replay of the
// same records in arrival order (`signalab live dump` turns the topics into
// replay outputs for `signalab diff`). See docs/live.md.
//
// The pieces: Processor (the consumer), Produce and Dump (a log into a
// topic, the topics into Parquet), Handler (HTTP: a buyer's current
// signals, health, Prometheus metrics) and StartCluster (an in-process
// Kafka-protocol cluster for demos and tests). Per input partition a task
// holds the buyers, the counts and the watermark.
package live

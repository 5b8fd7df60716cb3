// Package beamreplay runs signalab's replay as an Apache Beam pipeline: the
// same buyer core as the embedded engine (package replay: replay.Buyer),
// the same event records (replay/wire) and the same output writers
// (replay/output), with Beam doing the shuffle and the parallelism.
//
// The pipeline is
//
//	splits (file × Parquet row-group range, or a whole text file)
//	  → Reshuffle → readSplitFn (package event's readers; quarantine kept)
//	  → KV<buyer key, pack of wire records> → GroupByKey
//	  → replayBuyersFn: replay.Buyer.Replay per buyer (which orders the
//	    buyer's events as the embedded engine does), rows buffered per
//	    bundle and written as sorted Parquet shard files
//	  → shard manifests → one key → mergeFn: k-way merge of the sorted shards
//	    into the final signals.parquet, conversations.parquet, orders.parquet,
//	    quarantine.parquet and replay.json
//
// No Beam per-element state is used: every buyer's events are grouped,
// ordered and run through the pure logic in one call, which is why the output
// is identical to the embedded engine's whatever the runner, the number of
// workers or the bundle boundaries. See docs/scale-out.md.
package beamreplay

// Package beamreplay runs signalab's replay as an Apache Beam pipeline: the
// same per-buyer logic as the embedded engine (package replay), with Beam
// doing the shuffle and the parallelism.
//
// The pipeline is
//
//	splits (file × Parquet row-group range, or a whole text file)
//	  → Reshuffle → readSplitFn (package event's readers; quarantine kept)
//	  → KV<buyer key, encoded event> → GroupByKey
//	  → replayBuyersFn: replay.ProcessBuyer per buyer (which orders the
//	    buyer's events with replay.SortBuyerEvents), rows buffered per bundle
//	    and written as sorted Parquet shard files
//	  → shard manifests → one key → mergeFn: k-way merge of the sorted shards
//	    into the final signals.parquet, conversations.parquet, orders.parquet,
//	    quarantine.parquet and replay.json
//
// No Beam per-element state is used: every buyer's events are grouped,
// ordered and run through the pure logic in one call, which is why the output
// is identical to the embedded engine's whatever the runner, the number of
// workers or the bundle boundaries. See docs/scale-out.md.
package beamreplay

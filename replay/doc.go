// Package replay drives event logs through the buyer-signal logic of package
// signal and writes the replay outputs (signals.parquet, conversations.parquet,
// orders.parquet, quarantine.parquet, replay.json). See docs/replay.md.
//
// The per-buyer API (SortBuyerEvents, ProcessBuyer, Counts) is what every
// engine shares: the embedded engine (Run) and the Apache Beam pipeline group
// events by buyer, order each buyer's events, and call ProcessBuyer, so that
// both give identical output on the same input.
package replay

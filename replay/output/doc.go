// Package output is what a replay writes and how replays are compared: the
// output tables (signals.parquet, conversations.parquet, orders.parquet,
// quarantine.parquet) with their sort orders and writer options, replay.json
// (Summary), golden sets in canonical JSON Lines, and Compare (what
// `signalab diff` and `--golden --check` report). Every engine writes
// through it, which keeps their files byte-identical. See docs/replay.md.
package output

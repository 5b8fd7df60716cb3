// Package replay is the buyer core every replay engine drives: the signal
// logic of package signal under the replay's rules for ordering, time and
// counting, one buyer at a time. The engines are its users: the embedded
// engine (replay/embedded: partitions, spill, workers), the Apache Beam
// pipeline (beam/beamreplay) and a stream consumer (signalab live). They
// share the output formats of replay/output and, where they move events
// between their own stages, the records of replay/wire. See docs/replay.md.
//
// # The contract
//
// A Buyer holds one buyer's state (NewBuyer, or UnmarshalBinary of a
// snapshot). Everything it produces goes to an Output the caller owns:
// signal, conversation and order rows, and Counts (additive: counts of
// disjoint buyers, partitions or bundles merge with Counts.Add in any
// order).
//
//   - A batch engine groups events by buyer and calls Replay once per buyer
//     with all of its events, in any order: Replay orders them
//     (SortBuyerEvents' processing order), applies them and finishes.
//   - A stream feeds events one at a time with Feed, in the processing
//     order (Order.Compare: under OrderArrival by arrival time, that is
//     ingest_time, then event_time, then event_id), advances the buyer's
//     watermark with Advance (Due says when that will matter), snapshots
//     the Buyer between events (MarshalBinary) and restores it anywhere
//     (UnmarshalBinary), and calls Finish where its input ends.
//
// What is final when:
//
//   - Signal and order rows are final when the event producing them is
//     applied (Replay, or Feed's return): no later event changes or
//     retracts them.
//   - A conversation row is final when the buyer's state settles (Advance:
//     no event still to come can reach the conversation), when the state
//     expires (the buyer's next accepted event comes more than state_ttl
//     after its clock; the rows are written by that Feed), or at Finish.
//     Before that, later events may still change it: activity, messages, a
//     close, a reopening after inactivity. Conversation inactivity therefore
//     needs no timer of its own.
//   - Counts are final as produced. An expiry is counted when it happens
//     (at the next accepted event), not when the state settles, exactly as
//     in a replay.
//
// Equal to a replay: a stream whose events reach each Buyer in the
// processing order, with watermarks that keep their promise (Advance(w):
// every event still to come arrives at w or later) and any snapshots and
// restores in between, produces after Finish exactly the rows and counts of
// a batch replay (OrderArrival) of the same events. This holds when every
// event has an ingest_time; a buyer without any is ordered by input
// position (file, row) in a replay, an order a stream does not have. Feed
// refuses, without applying it, an event out of that order or behind the
// watermark (ErrOrder) or of another buyer (ErrOtherBuyer).
//
// When state can go: Status says what a Buyer holds. Empty: nothing.
// Settled: every row written; only the buyer's clock and dedupe memory
// remain (a small snapshot), kept so that a redelivery arriving later still
// counts as a duplicate and the next accepted event counts its expiry, as
// in a replay. A consumer may delete settled state (a changelog tombstone)
// and accept that such counts then differ; the rows do not, as long as
// events carry ingest_time and no event reuses an event_id with another
// event_time. Active: keep it.
package replay

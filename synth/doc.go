// Package synth generates synthetic buyer-signal event logs with a known
// truth: heavy-tailed shops, buyers who browse, build carts, check out and
// order, conversations on several channels with buyer and merchant messages,
// realistic arrival delays (out-of-order and late events), at-least-once
// duplicates, a pre-period, and a planted treatment effect on triggered
// conversations of the treatment arm.
//
// The generator streams: events are produced session by session in
// start-time order and released in arrival (ingest_time) order through a
// reorder buffer as soon as nothing earlier can still be produced, so memory
// is bounded by the events in flight, not by the size of the log. Work is
// split into a fixed number of shards by shop, generated in parallel and
// merged by arrival order; the output is identical for a seed whatever the
// number of CPUs.
//
// The model (distributions and their parameters) and the trigger definition
// are documented in docs/synth.md; every parameter is also recorded in
// truth.json.
package synth

// Package embedded is the replay engine of `signalab replay`: it reads event
// logs, partitions the events by buyer hash into memory and spill files
// (as replay/wire records), runs each partition's buyers through a
// replay.Buyer on a pool of workers, and writes the outputs of
// replay/output. Run is its entry point; its memory is bounded by the
// partition budget, not the input size. See docs/replay.md, "How the
// embedded engine works".
package embedded

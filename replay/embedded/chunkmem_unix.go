//go:build unix

package embedded

import "golang.org/x/sys/unix"

// newChunk returns an empty chunk of capacity n in memory mapped outside
// the Go heap (an anonymous private mapping). The records a run holds are
// its largest memory: outside the heap they cost the garbage collector
// nothing, do not double its heap goal, and go back to the system the
// moment a partition is done with them (freeChunk) instead of at a later
// collection, so peak memory is the budget plus the heap's needs rather
// than twice the budget. Only bytes are stored in chunks, never Go
// pointers. If the mapping fails, the chunk comes from the heap. The pages
// are faulted in by the mapping itself (MAP_POPULATE, where the system has
// it): touching 512 MiB of fresh pages one by one cost 190 ms of CPU here,
// populating them 140 ms.
//
// (Slabs of chunks with transparent huge pages were tried: 60 % fewer
// page faults, but 2-11 % more CPU on a 10M-event replay.)
func newChunk(n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE|mapPopulate)
	if err != nil {
		return make([]byte, 0, n)
	}
	return b[:0]
}

// freeChunk unmaps a chunk of newChunk; nothing may use it afterwards. A
// chunk that came from the heap is left to the garbage collector (Munmap
// refuses memory it did not map).
func freeChunk(c []byte) {
	if cap(c) > 0 {
		unix.Munmap(c[:cap(c)])
	}
}

// retireChunk gives a chunk's memory back to the system but keeps its
// addresses mapped (as zero pages): strings the logic decoded in place may
// still point there until they are overwritten, and the addresses must not
// be reused (by the Go heap, say) before unretireChunks unmaps them.
func retireChunk(c []byte) {
	if cap(c) > 0 {
		unix.Madvise(c[:cap(c)], unix.MADV_DONTNEED)
	}
}

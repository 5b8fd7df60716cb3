//go:build !unix

package embedded

// newChunk returns an empty chunk of capacity n (on the heap; see the unix
// version).
func newChunk(n int) []byte { return make([]byte, 0, n) }

// freeChunk leaves c to the garbage collector.
func freeChunk(c []byte) {}

// retireChunk leaves c to the garbage collector.
func retireChunk(c []byte) {}

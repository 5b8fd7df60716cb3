package embedded

import (
	"math/rand/v2"
	"testing"
)

// TestTailWord: the two-load tail gives the value of the byte loop it
// replaced, for every length from 1 to 7 and random bytes.
func TestTailWord(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1; n <= 7; n++ {
		for range 1000 {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(r.IntN(256))
			}
			var want uint64
			for i := range b {
				want |= uint64(b[i]) << (8 * i)
			}
			if got := tailWord(string(b)); got != want {
				t.Fatalf("tailWord(%x) = %x, want %x", b, got, want)
			}
		}
	}
}

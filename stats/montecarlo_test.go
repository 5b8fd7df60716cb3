package stats

import (
	"math"
	"testing"
)

// TestBinomialBand: the 95% band of 1,000 experiments at 5% is 37–64
// (scipy.stats.binom(1000, 0.05): cdf(36) = 0.0212 ≤ 0.025 < cdf(37) =
// 0.0307; sf(64) = 0.0207 ≤ 0.025 < sf(63) = 0.0284), the issue's
// 3.6%–6.4% with exact tails; 200 experiments: 4–16 (cdf(3) = 0.0090,
// cdf(4) = 0.0264; sf(16) = 0.0238, sf(15) = 0.0444).
func TestBinomialBand(t *testing.T) {
	for _, c := range []struct{ n, lo, hi int }{{1000, 37, 64}, {200, 4, 16}} {
		lo, hi := BinomialBand(c.n, 0.05, 0.95)
		if lo != c.lo || hi != c.hi {
			t.Errorf("n = %d: [%d, %d], want [%d, %d]", c.n, lo, hi, c.lo, c.hi)
		}
	}
}

// TestClopperPearson against scipy.stats.beta.ppf (12 of 200 at 95%:
// beta.ppf(0.025, 12, 189) = 0.0313840, beta.ppf(0.975, 13, 188) =
// 0.1024618; 0 of 50: beta.ppf(0.975, 1, 50) = 0.0711217).
func TestClopperPearson(t *testing.T) {
	iv := ClopperPearson(12, 200, 0.95)
	if math.Abs(iv[0]-0.0313840) > 1e-7 || math.Abs(iv[1]-0.1024618) > 1e-7 {
		t.Errorf("12/200: %v", iv)
	}
	iv = ClopperPearson(0, 50, 0.95)
	if iv[0] != 0 || math.Abs(iv[1]-0.0711217) > 1e-7 {
		t.Errorf("0/50: %v", iv)
	}
}

// Package assign holds the experiment spec, deterministic cohort assignment by
// hashing (GrowthBook-compatible), exposure-log checks, and sample ratio
// mismatch tests.
package assign

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"
)

// HashVersion names a bucketing hash.
type HashVersion string

// Supported hashes.
const (
	// GrowthBookV1 is GrowthBook's hashVersion 1: fnv32a(value+seed) mod 1000, over 1000.
	GrowthBookV1 HashVersion = "growthbook-v1"
	// GrowthBookV2 is GrowthBook's hashVersion 2:
	// fnv32a(decimal(fnv32a(seed+value))) mod 10000, over 10000.
	GrowthBookV2 HashVersion = "growthbook-v2"
	// SHA256 takes the first 8 bytes of sha256(seed+value), big-endian, mod 10000.
	SHA256 HashVersion = "sha256"
)

// fnv32a is the 32-bit FNV-1a hash of the UTF-8 bytes of s.
func fnv32a(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// Bucket returns the unit's bucket in [0, 10000) for hash h with the given seed
// (the experiment salt). GrowthBook v1 has 1000 buckets; they are scaled by 10
// so every hash shares one integer scale. It returns an error for an unknown hash.
//
//	growthbook-v1: (fnv32a(value + seed) mod 1000) × 10
//	growthbook-v2:  fnv32a(decimal(fnv32a(seed + value))) mod 10000
//	sha256:         uint64be(sha256(seed + value)[0:8]) mod 10000
func Bucket(h HashVersion, seed, value string) (int, error) {
	switch h {
	case GrowthBookV1:
		return int(fnv32a(value+seed)%1000) * 10, nil
	case GrowthBookV2:
		inner := fnv32a(seed + value)
		return int(fnv32a(strconv.FormatUint(uint64(inner), 10)) % 10000), nil
	case SHA256:
		sum := sha256.Sum256([]byte(seed + value))
		return int(binary.BigEndian.Uint64(sum[:8]) % 10000), nil
	}
	return 0, fmt.Errorf("unknown hash %q (want growthbook-v1, growthbook-v2 or sha256)", h)
}

// Hash is GrowthBook's hash(seed, value, version) in [0, 1): version 1 or 2.
// It returns ok=false for other versions, as GrowthBook returns null.
func Hash(seed, value string, version int) (float64, bool) {
	switch version {
	case 1:
		return float64(fnv32a(value+seed)%1000) / 1000, true
	case 2:
		inner := fnv32a(seed + value)
		return float64(fnv32a(strconv.FormatUint(uint64(inner), 10))%10000) / 10000, true
	}
	return 0, false
}

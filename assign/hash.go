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

// HashVersions lists the supported hashes.
var HashVersions = []HashVersion{GrowthBookV1, GrowthBookV2, SHA256}

// Scale is the number of buckets every hash maps to: buckets are integers in
// [0, Scale). GrowthBook v1's 1000 buckets are multiplied by 10.
const Scale = 10000

// 32-bit FNV-1a constants (Fowler, Noll, Vo; http://www.isthe.com/chongo/tech/comp/fnv/).
const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

// fnvAdd continues a 32-bit FNV-1a hash h over the bytes of s.
func fnvAdd(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime32
	}
	return h
}

// fnvAddBytes continues a 32-bit FNV-1a hash h over b.
func fnvAddBytes(h uint32, b []byte) uint32 {
	for _, c := range b {
		h ^= uint32(c)
		h *= fnvPrime32
	}
	return h
}

// fnv32a is the 32-bit FNV-1a hash of the UTF-8 bytes of s.
func fnv32a(s string) uint32 { return fnvAdd(fnvOffset32, s) }

// bucketV1 is GrowthBook v1's bucket in [0, 1000): fnv32a(value + seed) mod 1000.
// The concatenation is hashed piecewise, without allocating.
func bucketV1(seed, value string) int {
	return int(fnvAdd(fnvAdd(fnvOffset32, value), seed) % 1000)
}

// bucketV2 is GrowthBook v2's bucket in [0, 10000):
// fnv32a(decimal(fnv32a(seed + value))) mod 10000, without allocating.
func bucketV2(seed, value string) int {
	return bucketV2From(fnvAdd(fnvOffset32, seed), value)
}

// bucketV2From is bucketV2 with the FNV state after the seed precomputed
// (FNV-1a is a left fold, so fnv32a(seed+value) = fnvAdd(fnv32a(seed), value)).
func bucketV2From(seedState uint32, value string) int {
	inner := fnvAdd(seedState, value)
	var buf [10]byte // 2^32-1 has 10 decimal digits
	digits := strconv.AppendUint(buf[:0], uint64(inner), 10)
	return int(fnvAddBytes(fnvOffset32, digits) % 10000)
}

// bucketSHA256 is uint64be(sha256(seed + value)[0:8]) mod 10000.
func bucketSHA256(seed, value string) int {
	var buf [128]byte
	b := append(buf[:0], seed...)
	b = append(b, value...)
	sum := sha256.Sum256(b)
	return int(binary.BigEndian.Uint64(sum[:8]) % 10000)
}

// hashKind is a HashVersion resolved once, so the hot path switches on an int.
type hashKind uint8

const (
	hashUnknown hashKind = iota
	hashV1
	hashV2
	hashSHA256
)

func kindOf(h HashVersion) hashKind {
	switch h {
	case GrowthBookV1:
		return hashV1
	case GrowthBookV2:
		return hashV2
	case SHA256:
		return hashSHA256
	}
	return hashUnknown
}

func (k hashKind) bucket(seed, value string) int {
	switch k {
	case hashV1:
		return bucketV1(seed, value) * 10
	case hashV2:
		return bucketV2(seed, value)
	default:
		return bucketSHA256(seed, value)
	}
}

// Bucket returns the unit's bucket in [0, Scale) for hash h with the given
// seed (the experiment salt), hashing the UTF-8 bytes of seed and value.
// GrowthBook v1 has 1000 buckets; they are scaled by 10 so every hash shares
// one integer scale (b/10000 equals GrowthBook's b₁/1000 exactly). It returns
// an error for an unknown hash.
//
//	growthbook-v1: (fnv32a(value + seed) mod 1000) × 10
//	growthbook-v2:  fnv32a(decimal(fnv32a(seed + value))) mod 10000
//	sha256:         uint64be(sha256(seed + value)[0:8]) mod 10000
//
// Reference: GrowthBook SDK spec, hash(seed, value, version)
// (packages/sdk-js/src/util.ts); FNV-1a per Fowler–Noll–Vo.
func Bucket(h HashVersion, seed, value string) (int, error) {
	k := kindOf(h)
	if k == hashUnknown {
		return 0, fmt.Errorf("unknown hash %q (want growthbook-v1, growthbook-v2 or sha256)", h)
	}
	return k.bucket(seed, value), nil
}

// Hash is GrowthBook's hash(seed, value, version) in [0, 1): version 1 or 2.
// It returns ok=false for other versions, as GrowthBook returns null.
//
//	v1: (fnv32a(value + seed) mod 1000) / 1000
//	v2: (fnv32a(decimal(fnv32a(seed + value))) mod 10000) / 10000
//
// Unlike GrowthBook's JavaScript SDK, which hashes UTF-16 code units, the
// bytes hashed are UTF-8 (as growthbook-golang does); the two agree on ASCII.
func Hash(seed, value string, version int) (float64, bool) {
	switch version {
	case 1:
		return float64(bucketV1(seed, value)) / 1000, true
	case 2:
		return float64(bucketV2(seed, value)) / 10000, true
	}
	return 0, false
}

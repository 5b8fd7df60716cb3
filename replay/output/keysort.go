package output

import (
	"cmp"
	"encoding/binary"
	"math/bits"
	"slices"
	"strings"
)

// The output tables are sorted by string columns first, and ids share long
// prefixes ("conv_", "shop_0", "gid://shop/Customer/"), so a comparison
// sort spends most of its time comparing equal bytes. sortKeyed sorts a
// table by 64-bit keys that order as its leading columns do, comparing rows
// only where keys tie, then moves the rows once. On a 10M-event replay's
// tables (230k signals, 181k conversations, 172k orders) this took the
// three sorts from 0.30 to about 0.1 CPU-s (BenchmarkSortTables).

// rowKey is a row's sort key and its index in the table.
type rowKey struct {
	k uint64
	i int
}

// sortKeyed sorts s by compare, a total order of the rows, given key, a
// 64-bit summary of each row that is monotone in compare (key(a) < key(b)
// implies compare(a, b) < 0). Rows that compare equal keep their order.
// It uses 16 bytes per row besides s.
func sortKeyed[T any](s []T, key func(*T) uint64, compare func(a, b T) int) {
	if len(s) < 2 {
		return
	}
	ks := make([]rowKey, len(s))
	for i := range s {
		ks[i] = rowKey{key(&s[i]), i}
	}
	slices.SortFunc(ks, func(a, b rowKey) int {
		if a.k != b.k {
			return cmp.Compare(a.k, b.k)
		}
		if c := compare(s[a.i], s[b.i]); c != 0 {
			return c
		}
		return cmp.Compare(a.i, b.i)
	})
	// Row j of the sorted table is s[ks[j].i]: follow each cycle of that
	// permutation, moving every row once; a placed row is marked by
	// ks[j].i = j.
	for j := range ks {
		if ks[j].i == j {
			continue
		}
		tmp := s[j]
		cur := j
		for {
			next := ks[cur].i
			ks[cur].i = cur
			if next == j {
				s[cur] = tmp
				break
			}
			s[cur] = s[next]
			cur = next
		}
	}
}

// prefixKey makes keys from one string column: the eight bytes that follow
// the prefix every row shares, big-endian, zero-padded. Monotone: if the
// keys of a and b differ, they differ first at a byte where a's is smaller
// (a zero for a that has ended means a is a prefix of b), so a < b.
type prefixKey struct{ skip int }

// newPrefixKey measures the prefix the column col shares over s.
func newPrefixKey[T any](s []T, col func(*T) string) prefixKey {
	if len(s) == 0 {
		return prefixKey{}
	}
	p := col(&s[0])
	for i := 1; i < len(s) && len(p) > 0; i++ {
		v := col(&s[i])
		n := min(len(p), len(v))
		j := 0
		for j < n && p[j] == v[j] {
			j++
		}
		p = p[:j]
	}
	return prefixKey{skip: len(p)}
}

// key returns the key of v (a value of the column), its n leading bits
// in the low n bits (1 <= n <= 64).
func (p prefixKey) key(v string, n int) uint64 {
	var b [8]byte
	if len(v) > p.skip {
		copy(b[:], v[p.skip:])
	}
	return binary.BigEndian.Uint64(b[:]) >> (64 - n)
}

// rankKey makes keys from a column with few distinct values (shop ids):
// each value's rank among them. Monotone: ranks order as the values do.
type rankKey struct {
	rank map[string]uint64
	bits int // bits a rank takes
}

// newRankKey ranks the distinct values of column col over s.
func newRankKey[T any](s []T, col func(*T) string) rankKey {
	rank := make(map[string]uint64)
	for i := range s {
		rank[col(&s[i])] = 0
	}
	vals := make([]string, 0, len(rank))
	for v := range rank {
		vals = append(vals, v)
	}
	slices.SortFunc(vals, strings.Compare)
	for r, v := range vals {
		rank[v] = uint64(r)
	}
	return rankKey{rank: rank, bits: bits.Len(uint(len(vals)))}
}

// shopBuyerKey keys tables sorted by (shop_id, buyer_id, ...): the shop's
// rank in the high bits, the buyer's prefix key in the rest. With more
// shops than fit 56 bits (impossible in practice) the key is the rank alone
// and still monotone.
func shopBuyerKey[T any](s []T, shop, buyer func(*T) string) func(*T) uint64 {
	rk := newRankKey(s, shop)
	bk := newPrefixKey(s, buyer)
	rest := 64 - rk.bits
	if rest < 8 {
		return func(r *T) uint64 { return rk.rank[shop(r)] }
	}
	return func(r *T) uint64 { return rk.rank[shop(r)]<<rest | bk.key(buyer(r), rest) }
}

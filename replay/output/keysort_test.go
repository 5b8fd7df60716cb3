package output

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/signalab/signalab/signal"
)

// idFrom draws ids that make keyed sorting hard: a shared prefix, lengths
// around the 8 key bytes, zero bytes, empty ids and ids that are prefixes
// of others.
func idFrom(r *rand.Rand, prefix string) string {
	alphabet := "\x00019az\xff"
	n := r.IntN(12)
	b := []byte(prefix)
	for range n {
		b = append(b, alphabet[r.IntN(len(alphabet))])
	}
	if r.IntN(20) == 0 {
		return ""
	}
	return string(b)
}

func randomTables(r *rand.Rand, n, shops int) ([]signal.Signal, []signal.Conversation, []signal.Order) {
	pick := func(ids []string) string { return ids[r.IntN(len(ids))] }
	var shopIDs, buyers, convs []string
	for range shops {
		shopIDs = append(shopIDs, idFrom(r, "shop_"))
	}
	for range max(1, n/4) {
		buyers = append(buyers, idFrom(r, "gid://x/Customer/"))
		convs = append(convs, idFrom(r, "conv_"))
	}
	sigs := make([]signal.Signal, n)
	cs := make([]signal.Conversation, n)
	os := make([]signal.Order, n)
	for i := range n {
		t := int64(r.IntN(4))
		sigs[i] = signal.Signal{ConversationID: pick(convs), EmitTime: t, SignalID: idFrom(r, "s"),
			ShopID: pick(shopIDs), BuyerID: pick(buyers), EventTime: t, Kind: fmt.Sprint(i)}
		cs[i] = signal.Conversation{ShopID: pick(shopIDs), BuyerID: pick(buyers), StartedAt: t,
			ConversationID: pick(convs), LastActivityAt: int64(r.IntN(2)), Channel: fmt.Sprint(i)}
		os[i] = signal.Order{ShopID: pick(shopIDs), BuyerID: pick(buyers), EventTime: t,
			OrderID: idFrom(r, "o"), OrderValueCents: int64(r.IntN(3))}
	}
	return sigs, cs, os
}

// TestSortKeyed checks the keyed sorts against a plain stable sort by the
// same comparison, on ids built to defeat the keys, with one shop, a few and
// many; rows that compare equal (Kind and Channel tell them apart) must
// keep their order, as a stable sort keeps them.
func TestSortKeyed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, shops int }{{0, 1}, {1, 1}, {2, 1}, {50, 1}, {500, 3}, {3000, 2000}} {
		for rep := range 20 {
			sigs, cs, os := randomTables(r, c.n, c.shops)
			want1, want2, want3 := slices.Clone(sigs), slices.Clone(cs), slices.Clone(os)
			slices.SortStableFunc(want1, CompareSignals)
			slices.SortStableFunc(want2, CompareConversations)
			slices.SortStableFunc(want3, CompareOrders)
			SortSignals(sigs)
			SortConversations(cs)
			SortOrders(os)
			name := fmt.Sprintf("n=%d shops=%d rep=%d", c.n, c.shops, rep)
			if !slices.Equal(sigs, want1) {
				t.Fatalf("%s: signals differ from a stable sort", name)
			}
			if !slices.Equal(cs, want2) {
				t.Fatalf("%s: conversations differ from a stable sort", name)
			}
			if !slices.Equal(os, want3) {
				t.Fatalf("%s: orders differ from a stable sort", name)
			}
		}
	}
}

// TestKeysMonotone checks the property sortKeyed relies on directly: a
// smaller key means an earlier row.
func TestKeysMonotone(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for rep := range 50 {
		_, cs, _ := randomTables(r, 200, 1+rep*5)
		key := shopBuyerKey(cs, func(c *signal.Conversation) string { return c.ShopID },
			func(c *signal.Conversation) string { return c.BuyerID })
		for i := range cs {
			for j := range cs {
				if key(&cs[i]) < key(&cs[j]) && CompareConversations(cs[i], cs[j]) >= 0 {
					t.Fatalf("rep %d: key(%q/%q) < key(%q/%q) but the row is not earlier",
						rep, cs[i].ShopID, cs[i].BuyerID, cs[j].ShopID, cs[j].BuyerID)
				}
			}
		}
	}
}

// BenchmarkSortTables sorts tables the size of a 10M-event replay's with
// the output's ids (go test ./replay/output -run '^$' -bench SortTables).
func BenchmarkSortTables(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 200000
	sigs := make([]signal.Signal, n)
	cs := make([]signal.Conversation, n)
	for i := range n {
		shop := fmt.Sprintf("shop_%03d", r.IntN(100))
		buyer := fmt.Sprintf("buyer_%x", r.Uint32())
		conv := fmt.Sprintf("conv_%x", r.Uint64())
		sigs[i] = signal.Signal{ConversationID: conv, ShopID: shop, BuyerID: buyer, EmitTime: r.Int64()}
		cs[i] = signal.Conversation{ShopID: shop, BuyerID: buyer, ConversationID: conv, StartedAt: r.Int64()}
	}
	b.Run("signals", func(b *testing.B) {
		for b.Loop() {
			s := slices.Clone(sigs)
			SortSignals(s)
		}
	})
	b.Run("conversations", func(b *testing.B) {
		for b.Loop() {
			s := slices.Clone(cs)
			SortConversations(s)
		}
	})
}

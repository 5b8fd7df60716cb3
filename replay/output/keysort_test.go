package output

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
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
	ords := make([]signal.Order, n)
	for i := range n {
		t := int64(r.IntN(4))
		sigs[i] = signal.Signal{ConversationID: pick(convs), EmitTime: t, SignalID: idFrom(r, "s"),
			ShopID: pick(shopIDs), BuyerID: pick(buyers), EventTime: t, Kind: fmt.Sprint(i)}
		cs[i] = signal.Conversation{ShopID: pick(shopIDs), BuyerID: pick(buyers), StartedAt: t,
			ConversationID: pick(convs), LastActivityAt: int64(r.IntN(2)), Channel: fmt.Sprint(i)}
		ords[i] = signal.Order{ShopID: pick(shopIDs), BuyerID: pick(buyers), EventTime: t,
			OrderID: idFrom(r, "o"), OrderValueCents: int64(r.IntN(3))}
	}
	return sigs, cs, ords
}

// TestSortKeyed checks the keyed sorts against a plain stable sort by the
// same comparison, on ids built to defeat the keys, with one shop, a few and
// many; rows that compare equal (Kind and Channel tell them apart) must
// keep their order, as a stable sort keeps them.
func TestSortKeyed(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct{ n, shops int }{{0, 1}, {1, 1}, {2, 1}, {50, 1}, {500, 3}, {3000, 2000}} {
		for rep := range 20 {
			sigs, cs, ords := randomTables(r, c.n, c.shops)
			want1, want2, want3 := slices.Clone(sigs), slices.Clone(cs), slices.Clone(ords)
			slices.SortStableFunc(want1, CompareSignals)
			slices.SortStableFunc(want2, CompareConversations)
			slices.SortStableFunc(want3, CompareOrders)
			SortSignals(sigs)
			SortConversations(cs)
			SortOrders(ords)
			name := fmt.Sprintf("n=%d shops=%d rep=%d", c.n, c.shops, rep)
			if !slices.Equal(sigs, want1) {
				t.Fatalf("%s: signals differ from a stable sort", name)
			}
			if !slices.Equal(cs, want2) {
				t.Fatalf("%s: conversations differ from a stable sort", name)
			}
			if !slices.Equal(ords, want3) {
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
		key := shopBuyerKey([][]signal.Conversation{cs}, func(c *signal.Conversation) string { return c.ShopID },
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

// split cuts s into parts of random sizes (some empty).
func split[T any](r *rand.Rand, s []T) [][]T {
	var parts [][]T
	for len(s) > 0 || r.IntN(3) == 0 {
		n := min(len(s), r.IntN(40))
		parts = append(parts, s[:n])
		s = s[n:]
		if len(parts) > 200 {
			break
		}
	}
	return append(parts, s)
}

// TestSortedBatches checks that the rows of parts come out as a stable
// sort of their concatenation orders them, across batch boundaries.
func TestSortedBatches(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{0, 1, 7, 300, 2000} {
		sigs, _, ords := randomTables(r, n, 1+n/100)
		sp, op := split(r, sigs), split(r, ords)
		want1, want2 := slices.Concat(sp...), slices.Concat(op...)
		slices.SortStableFunc(want1, CompareSignals)
		slices.SortStableFunc(want2, CompareOrders)
		drain := func(next func([]signal.Signal) ([]signal.Signal, error), size int) []signal.Signal {
			var got []signal.Signal
			for {
				b, _ := next(make([]signal.Signal, 0, size))
				got = append(got, b...)
				if len(b) < size {
					return got
				}
			}
		}
		if got := drain(sortedBatches(sp, signalKey(sp), CompareSignals), 1+r.IntN(50)); !slices.Equal(got, want1) {
			t.Fatalf("n=%d: signals from %d parts differ from a stable sort of their concatenation", n, len(sp))
		}
		next := sortedBatches(op, orderKey(op), CompareOrders)
		var got []signal.Order
		for {
			b, _ := next(make([]signal.Order, 0, 64))
			got = append(got, b...)
			if len(b) < 64 {
				break
			}
		}
		if !slices.Equal(got, want2) {
			t.Fatalf("n=%d: orders from %d parts differ from a stable sort of their concatenation", n, len(op))
		}
	}
}

// TestPartsFiles checks that Parts (and Tables, which writes through it)
// writes the bytes of the parts' concatenation sorted by a plain stable
// sort with the tables' comparisons and written with WriteRows.
func TestPartsFiles(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	sigs, cs, ords := randomTables(r, 3000, 20)
	parts := Parts{Signals: split(r, sigs), Conversations: split(r, cs), Orders: split(r, ords)}
	tables := Tables{Signals: slices.Concat(parts.Signals...), Conversations: slices.Concat(parts.Conversations...),
		Orders: slices.Concat(parts.Orders...)}
	ws, wc, wo := slices.Clone(tables.Signals), slices.Clone(tables.Conversations), slices.Clone(tables.Orders)
	slices.SortStableFunc(ws, CompareSignals)
	slices.SortStableFunc(wc, CompareConversations)
	slices.SortStableFunc(wo, CompareOrders)
	want := []File{
		{SignalsFile, func(p string) error { return WriteRows(p, ws) }},
		{ConversationsFile, func(p string) error { return WriteRows(p, wc) }},
		{OrdersFile, func(p string) error { return WriteRows(p, wo) }},
		{QuarantineFile, func(p string) error { return WriteRows[QuarantineRow](p, nil) }},
	}
	ref, a, b := t.TempDir(), t.TempDir(), t.TempDir()
	for _, c := range []struct {
		dir   string
		files []File
	}{{ref, want}, {a, parts.Files()}, {b, tables.Files()}} {
		for _, f := range c.files {
			if err := f.Write(filepath.Join(c.dir, f.Name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, name := range []string{SignalsFile, ConversationsFile, OrdersFile, QuarantineFile} {
		x, err := os.ReadFile(filepath.Join(ref, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, dir := range []string{a, b} {
			y, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(x, y) {
				t.Errorf("%s (%s): not the bytes of a stable sort of the rows", name, map[string]string{a: "Parts", b: "Tables"}[dir])
			}
		}
	}
}

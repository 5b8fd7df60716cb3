package importer

import (
	"bufio"
	"bytes"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/signalab/signalab/event"
)

// sharedDatasets returns ../shared/datasets relative to the repository root
// (found by walking up to go.mod), or skips the test when it is absent.
func sharedDatasets(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("repository root not found")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "datasets")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s absent: skipping tests on the public datasets", p)
	}
	return p
}

func importAll(t *testing.T, data string, opts Options) ([]event.Event, *Stats) {
	t.Helper()
	var evs []event.Event
	st, err := Import(strings.NewReader(data), "test", opts, func(b []event.Event) error {
		evs = append(evs, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, st
}

func TestOTTOMapping(t *testing.T) {
	in := `{"session":7,"events":[{"aid":1,"ts":1000,"type":"clicks"},{"aid":1,"ts":2000,"type":"carts"},{"aid":2,"ts":3000,"type":"carts"},{"aid":1,"ts":3500,"type":"carts"},{"aid":1,"ts":4000,"type":"orders"},{"aid":2,"ts":4000,"type":"orders"},{"aid":3,"ts":5000,"type":"carts"}]}` + "\n"
	evs, st := importAll(t, in, Options{Format: FormatOTTO})
	want := []event.Event{
		{EventID: "otto-7-0", Kind: event.KindPageView, EventTime: 1_000_000, ShopID: "otto", BuyerID: "s7", ProductIDs: []string{"1"}},
		{EventID: "otto-7-1", Kind: event.KindCartUpdate, EventTime: 2_000_000, ShopID: "otto", BuyerID: "s7", CartToken: "s7-c0", ItemCount: 1, HasItemCount: true, HasCartValue: true, ProductIDs: []string{"1"}},
		{EventID: "otto-7-2", Kind: event.KindCartUpdate, EventTime: 3_000_000, ShopID: "otto", BuyerID: "s7", CartToken: "s7-c0", ItemCount: 2, HasItemCount: true, HasCartValue: true, ProductIDs: []string{"1", "2"}},
		{EventID: "otto-7-3", Kind: event.KindCartUpdate, EventTime: 3_500_000, ShopID: "otto", BuyerID: "s7", CartToken: "s7-c0", ItemCount: 3, HasItemCount: true, HasCartValue: true, ProductIDs: []string{"1", "2"}},
		{EventID: "otto-7-4", Kind: event.KindOrderPlaced, EventTime: 4_000_000, ShopID: "otto", BuyerID: "s7", OrderID: "s7-o4000", HasOrderValue: true, ProductIDs: []string{"1", "2"}},
		{EventID: "otto-7-6", Kind: event.KindCartUpdate, EventTime: 5_000_000, ShopID: "otto", BuyerID: "s7", CartToken: "s7-c1", ItemCount: 1, HasItemCount: true, HasCartValue: true, ProductIDs: []string{"3"}},
	}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", evs, want)
	}
	if st.Records != 1 || st.Events != 6 || st.ByKind["cart_update"] != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestREES46Mapping(t *testing.T) {
	in := "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n" +
		"2019-10-01 00:00:00 UTC,view,10,1,,,35.79,100,sa\n" +
		"2019-10-01 00:00:01 UTC,cart,10,1,,,35.79,100,sa\n" +
		"2019-10-01 00:00:02 UTC,cart,11,1,,,4.5,100,sa\n" +
		"2019-10-01 00:00:03 UTC,purchase,10,1,,,35.79,100,sa\n" +
		"2019-10-01 00:00:03 UTC,view,12,1,,,1.00,200,sb\n" +
		"2019-10-01 00:00:03 UTC,purchase,11,1,,,4.50,100,sa\n" +
		"2019-10-01 00:00:04 UTC,remove_from_cart,11,1,,,4.50,100,sa\n"
	evs, st := importAll(t, in, Options{Format: FormatREES46})
	t0 := int64(1569888000000000) // 2019-10-01T00:00:00Z in µs (date -u -d 2019-10-01 +%s → 1569888000)
	want := []event.Event{
		{EventID: "rees46-2", Kind: event.KindPageView, EventTime: t0, ShopID: "rees46", BuyerID: "100", ProductIDs: []string{"10"}},
		{EventID: "rees46-3", Kind: event.KindCartUpdate, EventTime: t0 + 1e6, ShopID: "rees46", BuyerID: "100", CartToken: "sa", ItemCount: 1, HasItemCount: true, CartValueCents: 3579, HasCartValue: true, ProductIDs: []string{"10"}},
		{EventID: "rees46-4", Kind: event.KindCartUpdate, EventTime: t0 + 2e6, ShopID: "rees46", BuyerID: "100", CartToken: "sa", ItemCount: 2, HasItemCount: true, CartValueCents: 4029, HasCartValue: true, ProductIDs: []string{"10", "11"}},
		{EventID: "rees46-6", Kind: event.KindPageView, EventTime: t0 + 3e6, ShopID: "rees46", BuyerID: "200", ProductIDs: []string{"12"}},
		{EventID: "rees46-5", Kind: event.KindOrderPlaced, EventTime: t0 + 3e6, ShopID: "rees46", BuyerID: "100", OrderID: "sa-1569888003", OrderValueCents: 4029, HasOrderValue: true, ProductIDs: []string{"10", "11"}},
	}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", evs, want)
	}
	if st.Records != 7 || st.Skipped["event_type_remove_from_cart"] != 1 {
		t.Errorf("stats %+v", st)
	}
	evs, _ = importAll(t, in, Options{Format: FormatREES46, BuyerFromSession: true})
	if evs[0].BuyerID != "sa" {
		t.Errorf("BuyerFromSession: buyer %q, want sa", evs[0].BuyerID)
	}
}

func TestParseCents(t *testing.T) {
	for s, want := range map[string]int64{"35.79": 3579, "5": 500, "0.5": 50, ".5": 50, "4.50": 450, "0": 0, "1234567.01": 123456701} {
		got, err := ParseCents(s)
		if err != nil || got != want {
			t.Errorf("ParseCents(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".", "1.234", "-1", "1e3", "abc", "1."} {
		if _, err := ParseCents(s); err == nil {
			t.Errorf("ParseCents(%q): no error", s)
		}
	}
}

func TestImportErrors(t *testing.T) {
	for _, c := range []struct {
		f    Format
		in   string
		want string
	}{
		{FormatOTTO, "{\"session\":1,\"events\":[]}\nnot json\n", "test: line 2: not an OTTO session object"},
		{FormatREES46, "a,b\n1,2\n", "header has no event_time column"},
		{FormatREES46, "event_time,event_type,product_id,price,user_id,user_session\nyesterday,view,1,1.00,2,s\n", "line 2: event_time \"yesterday\""},
		{"parquet", "", `unknown format "parquet"`},
	} {
		_, err := Import(strings.NewReader(c.in), "test", Options{Format: c.f}, func([]event.Event) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.f, err, c.want)
		}
	}
}

// TestImportOTTOSample imports the real OTTO sample, reads the Parquet
// output back and checks counts against the source counted independently
// (by type string), validity, determinism and per-buyer time order.
func TestImportOTTOSample(t *testing.T) {
	in := filepath.Join(sharedDatasets(t), "otto_sample", "otto_train_first20sessions.jsonl")
	raw, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "otto.parquet")
	st, err := ImportFile(in, out, Options{Format: FormatOTTO})
	if err != nil {
		t.Fatal(err)
	}
	clicks := int64(bytes.Count(raw, []byte(`"type":"clicks"`)))
	carts := int64(bytes.Count(raw, []byte(`"type":"carts"`)))
	orders := int64(bytes.Count(raw, []byte(`"type":"orders"`)))
	if st.Records != 20 || clicks+carts+orders != 862 {
		t.Fatalf("records %d, source events %d; SOURCES.md says 20 sessions / 862 events", st.Records, clicks+carts+orders)
	}
	if st.ByKind["page_view"] != clicks || st.ByKind["cart_update"] != carts || st.ByKind["order_placed"] == 0 || st.ByKind["order_placed"] > orders {
		t.Errorf("by kind %v; source clicks %d carts %d orders %d", st.ByKind, clicks, carts, orders)
	}
	evs, r, err := event.ReadAll([]string{out}, event.ReadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(evs)) != st.Events || r.TotalRows() != st.Events {
		t.Errorf("read %d events (footer %d), imported %d", len(evs), r.TotalRows(), st.Events)
	}
	last := map[string]int64{}
	for _, e := range evs {
		if e.EventTime < last[e.BuyerID] {
			t.Fatalf("buyer %s: event %s goes back in time", e.BuyerID, e.EventID)
		}
		last[e.BuyerID] = e.EventTime
	}
	out2 := filepath.Join(t.TempDir(), "otto2.parquet")
	if _, err := ImportFile(in, out2, Options{Format: FormatOTTO}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if !bytes.Equal(a, b) {
		t.Error("two imports of the same input differ")
	}
}

// TestImportREES46Sample imports the real REES46 sample and checks counts and
// revenue against an independent pass over the CSV (float prices rounded
// to cents).
func TestImportREES46Sample(t *testing.T) {
	in := filepath.Join(sharedDatasets(t), "rees46_sample", "2019-Oct-first1000.csv")
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var views, carts, purchases, revenue int64
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fs := strings.Split(sc.Text(), ",")
		price, _ := strconv.ParseFloat(fs[6], 64)
		switch fs[1] {
		case "view":
			views++
		case "cart":
			carts++
		case "purchase":
			purchases++
			revenue += int64(math.Round(price * 100))
		}
	}
	out := filepath.Join(t.TempDir(), "rees46.parquet")
	st, err := ImportFile(in, out, Options{Format: FormatREES46})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 1000 || views != 987 || carts != 3 || purchases != 10 {
		t.Fatalf("records %d views %d carts %d purchases %d", st.Records, views, carts, purchases)
	}
	if st.ByKind["page_view"] != views || st.ByKind["cart_update"] != carts || st.ByKind["order_placed"] == 0 || st.ByKind["order_placed"] > purchases {
		t.Errorf("by kind %v", st.ByKind)
	}
	evs, _, err := event.ReadAll([]string{out}, event.ReadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	for _, e := range evs {
		if e.Kind == event.KindOrderPlaced {
			got += e.OrderValueCents
		}
	}
	if got != revenue {
		t.Errorf("imported revenue %d cents, source %d", got, revenue)
	}
}

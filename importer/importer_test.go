package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

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
		{FormatREES46, "a,b\n1,2\n", "header has no event_time column"},
		{FormatREES46, "", "no CSV header"},
		{"parquet", "", `unknown format "parquet"`},
	} {
		_, err := Import(strings.NewReader(c.in), "test", Options{Format: c.f}, func([]event.Event) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.f, err, c.want)
		}
	}
}

// TestImportQuarantine: every kind of malformed source row is counted and
// quarantined with its line, reason and escaped raw text, the good rows are
// imported, and --strict stops at the first bad row naming it.
func TestImportQuarantine(t *testing.T) {
	const hdr = "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n"
	good := "2019-10-01 00:00:00 UTC,view,1,9,,b,1.00,u1,s1\n"
	ottoGood := "{\"session\":2,\"events\":[{\"aid\":1,\"ts\":1000,\"type\":\"clicks\"}]}\n"
	for _, c := range []struct {
		name       string
		f          Format
		in         string
		events     int64
		line       int64
		reason     event.Reason
		column     string
		raw        string // substring of the escaped raw text
		strictWant string
	}{
		{"otto not json", FormatOTTO, "{\"session\":1,\"events\":[{\"aid\":1,\"ts\":1000,\"type\":\"clicks\"}]}\nnot json\x01\n",
			1, 2, event.ReasonMalformedRow, "", `not json\x01`, "line 2: not an OTTO session object"},
		{"otto missing session", FormatOTTO, "{\"events\":[]}\n" + ottoGood, 1, 1, event.ReasonMissingField, "session", `{"events":[]}`, "missing \"session\""},
		{"otto event without ts", FormatOTTO, "{\"session\":7,\"events\":[{\"aid\":1,\"ts\":1000,\"type\":\"clicks\"},{\"aid\":2,\"type\":\"carts\"}]}\n" + ottoGood,
			1, 1, event.ReasonMissingField, "events", `"aid":2`, "event 1 lacks aid or ts"},
		{"rees46 cut-off last line", FormatREES46, hdr + good + "2019-10-01 00:00:01 UTC,view,2,9", 1, 3, event.ReasonMalformedRow, "", "2019-10-01 00:00:01 UTC,view,2,9", "row has 4 fields, the header has 9"},
		{"rees46 bad time", FormatREES46, hdr + "yesterday,view,1,9,,b,1.00,u1,s1\n" + good, 1, 2, event.ReasonBadTimestamp, "event_time", "yesterday,view", `event_time "yesterday"`},
		{"rees46 bad price", FormatREES46, hdr + good + "2019-10-01 00:00:00 UTC,view,1,9,,b,1,5,u1,s1\n", 1, 3, event.ReasonMalformedRow, "", "1,5", "10 fields"},
		{"rees46 bad price value", FormatREES46, hdr + "2019-10-01 00:00:00 UTC,cart,1,9,,b,1.2.3,u1,s1\n" + good, 1, 2, event.ReasonBadValue, "price", "1.2.3", "price"},
		{"rees46 missing user", FormatREES46, hdr + "2019-10-01 00:00:00 UTC,view,1,9,,b,1.00,,s1\n" + good, 1, 2, event.ReasonMissingField, "user_id", ",,s1", "user_id is empty"},
		{"rees46 cart without session", FormatREES46, hdr + "2019-10-01 00:00:00 UTC,cart,1,9,,b,1.00,u1,\n" + good, 1, 2, event.ReasonMissingField, "user_session", "cart,1", "user_session is empty"},
		{"rees46 invalid utf-8", FormatREES46, hdr + "2019-10-01 00:00:00 UTC,view,1,9,,b,1.00,u\xff1,s1\n" + good, 1, 2, event.ReasonInvalidUTF8, "user_id", `u\xff1`, "user_id holds bytes that are not UTF-8"},
		{"rees46 broken quote", FormatREES46, hdr + "2019-10-01 00:00:00 UTC,view,1,9,\"x\"y,b,1.00,u1,s1\n" + good, 1, 2, event.ReasonMalformedRow, "", "", "invalid CSV"},
	} {
		var qs []event.Quarantined
		var n int64
		st, err := Import(strings.NewReader(c.in), "src", Options{Format: c.f, OnQuarantine: func(q event.Quarantined) error {
			qs = append(qs, q)
			return nil
		}}, func(evs []event.Event) error { n += int64(len(evs)); return nil })
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if n != c.events || st.Events != c.events || st.Quarantined != 1 || st.QuarantinedByReason[string(c.reason)] != 1 || len(qs) != 1 {
			t.Errorf("%s: %d events, stats %+v, %d quarantined; want %d events and one %s", c.name, n, st, len(qs), c.events, c.reason)
			continue
		}
		q := qs[0]
		if q.Row != c.line || q.Reason != c.reason || q.Column != c.column || !strings.Contains(q.Raw, c.raw) || q.Path != "src" {
			t.Errorf("%s: quarantined %+v; want line %d, %s, column %q, raw containing %q", c.name, q, c.line, c.reason, c.column, c.raw)
		}
		_, err = Import(strings.NewReader(c.in), "src", Options{Format: c.f, Strict: true}, func([]event.Event) error { return nil })
		var re *RowError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), fmt.Sprintf("src: line %d:", c.line)) ||
			!strings.Contains(err.Error(), c.strictWant) || !strings.Contains(err.Error(), "without --strict") {
			t.Errorf("%s: strict err = %v; want line %d and %q", c.name, err, c.line, c.strictWant)
		}
	}
}

// TestImportNoEvents: a source whose every record is bad, or that holds no
// record, is an error naming the first bad line, not an empty import.
func TestImportNoEvents(t *testing.T) {
	for _, c := range []struct {
		f    Format
		in   string
		want string
	}{
		{FormatOTTO, "not json\n", "no events: all 1 source records were quarantined or skipped; the first: line 1: not an OTTO session object"},
		{FormatOTTO, "\n\n", "no events: the file holds no otto records"},
		{FormatREES46, "event_time,event_type,product_id,price,user_id,user_session\n", "no events: the file holds no rees46 records"},
		{FormatREES46, "event_time,event_type,product_id,price,user_id,user_session\n2019-10-01 00:00:00 UTC,remove_from_cart,1,1.00,u,s\n", "skipped (map[event_type_remove_from_cart:1])"},
	} {
		_, err := Import(strings.NewReader(c.in), "src", Options{Format: c.f}, func([]event.Event) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s %q: err = %v, want %q", c.f, c.in, err, c.want)
		}
	}
}

func TestEscapeRaw(t *testing.T) {
	for in, want := range map[string]string{
		"plain, text\twith tab": "plain, text\twith tab",
		"a\nb\rc":               `a\nb\rc`,
		"bad \xff byte":         `bad \xff byte`,
		`back\slash`:            `back\\slash`,
		"nul\x00":               `nul\x00`,
		"café ✓":                "café ✓",
	} {
		if got := escapeRaw([]byte(in)); got != want {
			t.Errorf("escapeRaw(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("x", maxRaw+10)
	if got := escapeRaw([]byte(long)); len(got) != maxRaw+len("…") {
		t.Errorf("long line: %d bytes", len(got))
	}
}

// TestImportFileQuarantine: a REES46 slice whose last line is cut off (the
// issue's repro: it used to stop with "wrong number of fields" and write
// nothing) imports the good rows and writes the cut line to the quarantine
// file, which the event readers skip in a folder; --strict writes nothing.
func TestImportFileQuarantine(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(t.TempDir(), "slice.csv")
	src := "event_time,event_type,product_id,category_id,category_code,brand,price,user_id,user_session\n" +
		"2019-10-01 00:00:00 UTC,view,44600062,2103807459595387724,,shiseido,35.79,541312140,72d76fde-8bb3-4e00-8c23-a032dfed738c\n" +
		"2019-10-01 00:00:01 UTC,cart,3900821,2053013552326770905,appliances.environment.water_heater,aqua,33.20,554748717,9333dfbd-b87a-4708-9857-6336556b0fcc\n" +
		"2019-10-01 00:00:02 UTC,view,17200506,2053013559792632471,furniture.living_room.s"
	os.WriteFile(in, []byte(src), 0o644)
	out := filepath.Join(dir, "events.parquet")
	st, err := ImportFile(in, out, "", Options{Format: FormatREES46})
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 2 || st.Quarantined != 1 || st.Quarantine != filepath.Join(dir, "_events.quarantine.parquet") {
		t.Fatalf("stats %+v", st)
	}
	f, err := os.Open(st.Quarantine)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	pf, err := parquet.OpenFile(f, fi.Size())
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]event.QuarantineRow, 2)
	n, _ := parquet.NewGenericReader[event.QuarantineRow](pf).Read(rows)
	if n != 1 || rows[0].Row != 4 || rows[0].Reason != "malformed_row" || !strings.HasSuffix(rows[0].Raw, "furniture.living_room.s") || rows[0].File != in {
		t.Errorf("quarantine rows %+v", rows[:n])
	}
	// The folder reads as one event log: the quarantine file is skipped.
	evs, _, err := event.ReadAll([]string{dir}, event.ReadOptions{Strict: true})
	if err != nil || len(evs) != 2 {
		t.Errorf("reading the folder: %d events, %v", len(evs), err)
	}
	out2 := filepath.Join(dir, "strict.parquet")
	if _, err := ImportFile(in, out2, "", Options{Format: FormatREES46, Strict: true}); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Errorf("strict: err = %v", err)
	}
	for _, p := range []string{out2, QuarantinePath(out2)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("strict import wrote %s", p)
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
	st, err := ImportFile(in, out, "", Options{Format: FormatOTTO})
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
	if _, err := ImportFile(in, out2, "", Options{Format: FormatOTTO}); err != nil {
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
	st, err := ImportFile(in, out, "", Options{Format: FormatREES46})
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

// TestImportREES46SampleCutOff: the real REES46 sample with its last line
// cut in half (as an interrupted download leaves it) imports the 999 good
// rows and quarantines line 1001.
func TestImportREES46SampleCutOff(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(sharedDatasets(t), "rees46_sample", "2019-Oct-first1000.csv"))
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.TrimRight(src, "\n")
	last := bytes.LastIndexByte(body, '\n')
	cut := body[:last+1+(len(body)-last)/2]
	in := filepath.Join(t.TempDir(), "cut.csv")
	os.WriteFile(in, cut, 0o644)
	var qs []event.Quarantined
	st, err := ImportFile(in, filepath.Join(t.TempDir(), "events.parquet"), "", Options{Format: FormatREES46,
		OnQuarantine: func(q event.Quarantined) error { qs = append(qs, q); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if st.Records != 1000 || st.Quarantined != 1 || len(qs) != 1 || qs[0].Row != 1001 || qs[0].Reason != event.ReasonMalformedRow {
		t.Errorf("records %d, quarantined %d: %+v", st.Records, st.Quarantined, qs)
	}
}

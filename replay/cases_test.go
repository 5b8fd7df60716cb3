package replay_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/output"
	"github.com/signalab/signalab/signal"
)

var update = flag.Bool("update", false, "rewrite the expected files of testdata/replay cases and the golden set")

// caseParams is the optional params.yaml of a logic case: a signals: block
// as in experiment.yaml (absent keys keep the defaults) and the order.
type caseParams struct {
	Signals signal.Params `yaml:"signals"`
	Order   string        `yaml:"order"`
}

func loadCaseParams(t *testing.T, dir string) (signal.Params, replay.Order) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "params.yaml"))
	if os.IsNotExist(err) {
		return signal.DefaultParams(), replay.OrderArrival
	}
	if err != nil {
		t.Fatal(err)
	}
	cp := caseParams{Signals: signal.DefaultParams()}
	if err := yaml.Unmarshal(b, &cp); err != nil {
		t.Fatalf("%s/params.yaml: %v", dir, err)
	}
	o, err := replay.ParseOrder(cp.Order)
	if err != nil {
		t.Fatalf("%s/params.yaml: %v", dir, err)
	}
	if err := cp.Signals.Validate(); err != nil {
		t.Fatalf("%s/params.yaml: signals: %v", dir, err)
	}
	return cp.Signals, o
}

// caseEvent is the JSON form of an event in the case files: the v1 schema
// with RFC 3339 times (a tiny reader local to the tests, independent of the
// event/ readers).
type caseEvent struct {
	EventID         string   `json:"event_id"`
	Kind            string   `json:"kind"`
	EventTime       string   `json:"event_time"`
	IngestTime      string   `json:"ingest_time"`
	ShopID          string   `json:"shop_id"`
	BuyerID         string   `json:"buyer_id"`
	ConversationID  string   `json:"conversation_id"`
	Channel         string   `json:"channel"`
	Sender          string   `json:"sender"`
	CartToken       string   `json:"cart_token"`
	ItemCount       *int32   `json:"item_count"`
	CartValueCents  *int64   `json:"cart_value_cents"`
	ProductIDs      []string `json:"product_ids"`
	OrderID         string   `json:"order_id"`
	OrderValueCents *int64   `json:"order_value_cents"`
	Currency        string   `json:"currency"`
}

func readCaseEvents(t *testing.T, path string) []event.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var evs []event.Event
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var ce caseEvent
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ce); err != nil {
			t.Fatalf("%s:%d: %v", path, i+1, err)
		}
		parse := func(s string) int64 {
			v, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			return v.UnixMicro()
		}
		e := event.Event{EventID: ce.EventID, Kind: event.Kind(ce.Kind), EventTime: parse(ce.EventTime),
			ShopID: ce.ShopID, BuyerID: ce.BuyerID, ConversationID: ce.ConversationID, Channel: ce.Channel,
			Sender: ce.Sender, CartToken: ce.CartToken, ProductIDs: ce.ProductIDs, OrderID: ce.OrderID,
			Currency: ce.Currency, File: 0, Row: int64(i + 1)}
		if ce.IngestTime != "" {
			e.IngestTime, e.HasIngestTime = parse(ce.IngestTime), true
		}
		if ce.ItemCount != nil {
			e.ItemCount, e.HasItemCount = *ce.ItemCount, true
		}
		if ce.CartValueCents != nil {
			e.CartValueCents, e.HasCartValue = *ce.CartValueCents, true
		}
		if ce.OrderValueCents != nil {
			e.OrderValueCents, e.HasOrderValue = *ce.OrderValueCents, true
		}
		evs = append(evs, e)
	}
	return evs
}

// replayInMemory groups events by buyer (in order of first appearance),
// replays each with one reused replay.Buyer (as the engines do) and
// returns the merged, sorted result.
func replayInMemory(p signal.Params, o replay.Order, evs []event.Event) replay.Output {
	return replayInMemoryGap(p, o, evs, 0)
}

// replayInMemoryGap is replayInMemory with sessions of the given gap (0:
// none).
func replayInMemoryGap(p signal.Params, o replay.Order, evs []event.Event, gap time.Duration) replay.Output {
	groups := map[event.BuyerKey][]event.Event{}
	var keys []event.BuyerKey
	for _, e := range evs {
		k := e.Key()
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], e)
	}
	var all replay.Output
	b := replay.NewBuyer(event.BuyerKey{}, p, o)
	b.TrackSessions(gap)
	for _, k := range keys {
		b.Replay(groups[k], &all)
	}
	output.SortSignals(all.Signals)
	output.SortConversations(all.Conversations)
	output.SortOrders(all.Orders)
	output.SortSessions(all.Sessions)
	return all
}

// TestCases runs every folder of testdata/replay: events.jsonl (and the
// optional params.yaml) in, expected_signals.jsonl,
// expected_conversations.jsonl, expected_orders.jsonl and
// expected_counts.json out. The expected files were written with -update and
// then checked by hand against the rules; testdata/replay/README.md states,
// per case, what the rule requires.
func TestCases(t *testing.T) {
	root := filepath.Join("..", "testdata", "replay")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		n++
		dir := filepath.Join(root, d.Name())
		t.Run(d.Name(), func(t *testing.T) {
			p, o := loadCaseParams(t, dir)
			res := replayInMemory(p, o, readCaseEvents(t, filepath.Join(dir, "events.jsonl")))
			var sig, conv, ord bytes.Buffer
			must(t, output.WriteJSONL(&sig, res.Signals, output.SignalToJSON))
			must(t, output.WriteJSONL(&conv, res.Conversations, output.ConversationToJSON))
			must(t, output.WriteJSONL(&ord, res.Orders, output.OrderToJSON))
			cnt, err := json.MarshalIndent(res.Counts.Signal, "", "  ")
			must(t, err)
			cnt = append(cnt, '\n')
			compareGolden(t, filepath.Join(dir, "expected_signals.jsonl"), sig.Bytes())
			compareGolden(t, filepath.Join(dir, "expected_conversations.jsonl"), conv.Bytes())
			compareGolden(t, filepath.Join(dir, "expected_orders.jsonl"), ord.Bytes())
			compareGolden(t, filepath.Join(dir, "expected_counts.json"), cnt)
		})
	}
	if n < 10 {
		t.Fatalf("found %d cases under %s, want the full set", n, root)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		must(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./replay -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n%s", path, lineDiff(string(want), string(got)))
	}
}

// lineDiff lists the lines only in want (-) and only in got (+).
func lineDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for _, l := range wl {
		if !slices.Contains(gl, l) {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range gl {
		if !slices.Contains(wl, l) {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}

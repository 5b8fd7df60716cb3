package live

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay/output"
)

// TestHTTPServesCurrentSignals: after the committed log is consumed, the
// endpoint serves each buyer's open conversations (the last non-final
// record of each in the conversations topic) and their signals (those of the
// signals topic for these conversations); a buyer whose state settled is
// "settled" with nothing open; an unknown buyer is 404. /metrics counts what
// was committed.
func TestHTTPServesCurrentSignals(t *testing.T) {
	h := newHarness(t, "http")
	h.produce(committedLog)
	reg := prometheus.NewRegistry()
	cfg := h.config("a")
	cfg.Metrics = NewMetrics(reg)
	m := h.start(cfg)
	d := h.dump()
	// The views are published just after each commit: wait until they
	// cover what the dump read.
	eventually(t, "views published up to the dumped offsets", time.Minute, func() bool {
		pos := m.p.Position()
		for _, pc := range d.Info.Partitions {
			if pos[pc.Partition] < pc.NextOffset {
				return false
			}
		}
		return true
	})
	srv := httptest.NewServer(Handler(m.p, reg))
	defer srv.Close()
	defer m.stop(t)

	// What the topics say is open, per buyer.
	open := map[event.BuyerKey][]output.ConversationJSON{}
	final := map[event.BuyerKey]bool{}
	cl := h.client()
	defer cl.Close()
	latest := map[string]ConversationRecord{}
	if err := readTopic(context.Background(), cl, h.opts(), h.topics.Conversations, func(r *kgo.Record) error {
		var c ConversationRecord
		if err := json.Unmarshal(r.Value, &c); err != nil {
			return err
		}
		latest[string(r.Key)] = c
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range latest {
		k := event.BuyerKey{ShopID: c.ShopID, BuyerID: c.BuyerID}
		if c.Final {
			final[k] = true
		} else {
			open[k] = append(open[k], c.ConversationJSON)
		}
	}
	var withSignals, settled int
	for k, convs := range open {
		ids := map[string]bool{}
		for _, c := range convs {
			ids[c.ConversationID] = true
		}
		var want []output.SignalJSON
		for _, s := range d.Outputs.Signals {
			if s.ShopID == k.ShopID && s.BuyerID == k.BuyerID && ids[s.ConversationID] {
				want = append(want, output.SignalToJSON(s))
			}
		}
		v := getView(t, srv.URL, k, http.StatusOK)
		if v.State != "active" || !sameSet(v.Conversations, convs) || !sameSet(v.Signals, want) {
			t.Fatalf("buyer %s/%s: served %+v\nwant conversations %+v\nand signals %+v", k.ShopID, k.BuyerID, v, convs, want)
		}
		if len(want) > 0 {
			withSignals++
		}
	}
	for k := range final {
		if len(open[k]) > 0 {
			continue
		}
		if v := getView(t, srv.URL, k, http.StatusOK); v.State == "settled" {
			settled++
			if len(v.Signals) != 0 || len(v.Conversations) != 0 {
				t.Fatalf("settled buyer %s/%s still serves %+v", k.ShopID, k.BuyerID, v)
			}
		}
	}
	if withSignals == 0 || settled == 0 {
		t.Fatalf("%d buyers served with current signals, %d settled: the log should give some of each", withSignals, settled)
	}
	getView(t, srv.URL, event.BuyerKey{ShopID: "no-such-shop", BuyerID: "nobody"}, http.StatusNotFound)

	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200} {
		if code, _ := get(t, srv.URL+path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
	_, body := get(t, srv.URL+"/metrics")
	accepted := fmt.Sprintf(`signalab_live_events_total{outcome="accepted"} %d`, d.Summary.Counts.Logic.Accepted)
	if !strings.Contains(body, accepted) {
		t.Errorf("/metrics lacks %q", accepted)
	}
	t.Logf("%d buyers with current signals, %d settled", withSignals, settled)
}

func getView(t *testing.T, base string, k event.BuyerKey, wantCode int) BuyerView {
	t.Helper()
	code, body := get(t, base+"/v1/shops/"+url.PathEscape(k.ShopID)+"/buyers/"+url.PathEscape(k.BuyerID)+"/signals")
	if code != wantCode {
		t.Fatalf("buyer %s/%s: status %d (%s), want %d", k.ShopID, k.BuyerID, code, body, wantCode)
	}
	var v BuyerView
	if code == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	c := http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// sameSet reports whether a and b hold the same elements in any order.
func sameSet[T any](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	used := make([]bool, len(b))
outer:
	for _, x := range a {
		for j, y := range b {
			if !used[j] && reflect.DeepEqual(x, y) {
				used[j] = true
				continue outer
			}
		}
		return false
	}
	return true
}

// TestPartitionOfMatchesProducer: PartitionOf names the partition the
// default producer (murmur2 of shop_id/buyer_id) writes a buyer's events to,
// which the HTTP endpoint relies on to say who holds a buyer.
func TestPartitionOfMatchesProducer(t *testing.T) {
	h := newHarness(t, "part")
	h.produce(committedLog)
	cl := h.client()
	defer cl.Close()
	n := 0
	if err := readTopic(context.Background(), cl, h.opts(), h.topics.Input, func(r *kgo.Record) error {
		var e event.Event
		if p := event.ParseJSONEvent(r.Value, &e); p != nil {
			return fmt.Errorf("%s", p.Detail)
		}
		if got := PartitionOf(e.Key(), testPartitions); got != r.Partition {
			return fmt.Errorf("buyer %s/%s: PartitionOf = %d, the producer wrote to %d", e.ShopID, e.BuyerID, got, r.Partition)
		}
		n++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 4589 {
		t.Fatalf("checked %d records, want 4589", n)
	}
}

package live

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/replay/output"
)

// BuyerView is what GET /v1/shops/{shop}/buyers/{buyer}/signals returns: the
// buyer's current signals, as of the last committed transaction of its
// partition. Signals and Conversations are those of the conversations the
// buyer's state holds (open: they may still change); once the state
// expires they are final, are found in the output topics, and the view is
// empty with State "expired".
type BuyerView struct {
	ShopID    string `json:"shop_id"`
	BuyerID   string `json:"buyer_id"`
	Partition int32  `json:"partition"`
	// Offset is the input offset up to which the view is committed.
	Offset int64 `json:"offset"`
	// Watermark is the partition's event-time watermark.
	Watermark *output.Timestamp `json:"watermark,omitempty"`
	// State is the buyer core's status: "active", or "settled" once no
	// event still to come can change its rows (replay.Status).
	State         string                    `json:"state"`
	Conversations []output.ConversationJSON `json:"conversations"`
	Signals       []output.SignalJSON       `json:"signals"`
}

// views are the committed buyer views of the partitions this process
// holds, read by the HTTP handler while the processor works.
type views struct {
	mu    sync.RWMutex
	parts map[int32]map[event.BuyerKey]*BuyerView
	next  map[int32]int64 // the input offset each partition's views are committed up to
}

func newViews() *views {
	return &views{parts: map[int32]map[event.BuyerKey]*BuyerView{}, next: map[int32]int64{}}
}

// Position returns, per input partition held, the offset of the next input
// record: the views (and the outputs) hold everything before it.
func (p *Processor) Position() map[int32]int64 {
	p.views.mu.RLock()
	defer p.views.mu.RUnlock()
	out := make(map[int32]int64, len(p.views.next))
	for k, v := range p.views.next {
		out[k] = v
	}
	return out
}

func viewOf(t *task, b *buyer) *BuyerView {
	v := &BuyerView{ShopID: b.key.ShopID, BuyerID: b.key.BuyerID, Partition: t.part, Offset: t.next, State: b.rb.Status().String(),
		Conversations: make([]output.ConversationJSON, len(b.convs)), Signals: make([]output.SignalJSON, len(b.signals))}
	if t.hasArrival {
		w := output.Timestamp(t.maxArrival - t.s.params.MaxOutOfOrderness.Microseconds())
		v.Watermark = &w
	}
	for i, c := range b.convs {
		v.Conversations[i] = output.ConversationToJSON(c)
	}
	for i, s := range b.signals {
		v.Signals[i] = output.SignalToJSON(s)
	}
	return v
}

// publish makes the buyers t changed in its last transaction visible.
func (v *views) publish(t *task) {
	nv := make([]*BuyerView, len(t.changed))
	for i, b := range t.changed {
		if !b.gone {
			nv[i] = viewOf(t, b)
		}
	}
	v.mu.Lock()
	m := v.parts[t.part]
	if m == nil {
		m = map[event.BuyerKey]*BuyerView{}
		v.parts[t.part] = m
	}
	for i, b := range t.changed {
		if nv[i] == nil {
			delete(m, b.key)
		} else {
			m[b.key] = nv[i]
		}
	}
	v.next[t.part] = t.next
	v.mu.Unlock()
	clear(t.changed)
	t.changed = t.changed[:0]
}

// replace publishes every buyer of t (after a restore).
func (v *views) replace(t *task) {
	m := make(map[event.BuyerKey]*BuyerView, len(t.buyers))
	for k, b := range t.buyers {
		m[k] = viewOf(t, b)
	}
	v.mu.Lock()
	v.parts[t.part] = m
	v.next[t.part] = t.next
	v.mu.Unlock()
	t.changed = t.changed[:0]
}

func (v *views) drop(part int32) {
	v.mu.Lock()
	delete(v.parts, part)
	delete(v.next, part)
	v.mu.Unlock()
}

// lookup returns the view of key in partition part, whether the partition
// is held here, and whether the buyer is known.
func (v *views) lookup(part int32, key event.BuyerKey) (*BuyerView, bool, bool) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	m, held := v.parts[part]
	if !held {
		return nil, false, false
	}
	b, ok := m[key]
	return b, true, ok
}

// PartitionOf returns the input partition of a buyer: Kafka's default
// partitioning (murmur2 of the record key shop_id/buyer_id), which the
// producers of the input topic must use.
func PartitionOf(key event.BuyerKey, partitions int32) int32 {
	return int32(keyPartitioner.Partition(&kgo.Record{Key: BuyerRecordKey(key)}, int(partitions)))
}

// keyPartitioner is Kafka's default partitioner; for records with a key it
// only hashes the key, so one value serves every goroutine.
var keyPartitioner = kgo.StickyKeyPartitioner(nil).ForTopic("")

// Handler serves the live HTTP API of p:
//
//	GET /v1/shops/{shop}/buyers/{buyer}/signals   the buyer's current signals (BuyerView)
//	GET /healthz                                  200 while the process runs
//	GET /readyz                                   200 once the first assignment is restored
//	GET /metrics                                  Prometheus metrics of gatherer
//
// A buyer whose partition another group member holds gets 421 (misdirected)
// naming the partition; a buyer without state gets 404.
func Handler(p *Processor, gatherer prometheus.Gatherer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/shops/{shop}/buyers/{buyer}/signals", func(w http.ResponseWriter, r *http.Request) {
		key := event.BuyerKey{ShopID: r.PathValue("shop"), BuyerID: r.PathValue("buyer")}
		n := p.parts.Load()
		if n == 0 {
			writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "not started yet"})
			return
		}
		part := PartitionOf(key, n)
		v, held, ok := p.views.lookup(part, key)
		switch {
		case !held:
			writeJSON(w, http.StatusMisdirectedRequest, errorBody{Error: "partition not held by this instance; ask the group member that holds it",
				Partition: &part})
		case !ok:
			writeJSON(w, http.StatusNotFound, errorBody{Error: "no state for this buyer (no events yet, or forgotten)", Partition: &part})
		default:
			writeJSON(w, http.StatusOK, v)
		}
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-p.Ready():
			writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		default:
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "joining the group or restoring state"})
		}
	})
	if gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	}
	return mux
}

type errorBody struct {
	Error     string `json:"error"`
	Partition *int32 `json:"partition,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

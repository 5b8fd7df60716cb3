package synth

import (
	"math"
	"slices"
	"strconv"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/event"
)

// numShards is the fixed number of shards the buyers are split into (by
// shop). It does not depend on the machine, so the output for a seed is the
// same everywhere; the shards run in parallel on however many CPUs there are.
const numShards = 8

// batchRows is the number of rows a shard hands to the merger at a time.
const batchRows = 4096

// item is one delivered row in flight in a shard's reorder buffer.
type item struct {
	ev    event.Event
	b     *buyer
	prods []int // sorted product indices of a cart_update (its product set)
	conv  *convMirror
	dup   bool // an at-least-once redelivery of an earlier row
	late  bool // ingest − event beyond the lateness bound
}

type cartLine struct {
	product int
	qty     int32
}

// buyer is one buyer at one shop with the generator's state and the
// mirrored signal state that decides triggering.
type buyer struct {
	id     string
	seq    int64
	shop   *shop
	arm    int // when unit = buyer_id
	factor float64

	sessionsLeft int
	next         int64 // start of the next session, µs

	cart         []cartLine
	cartToken    string
	noOrderUntil int64 // no order before this (a non-converting conversation's window)

	trig triggerState

	// At delivery: the largest event_time delivered so far and the
	// largest accepted cart/order time in arrival order.
	maxDelivered  int64
	hasDelivered  bool
	arrCartTime   int64
	hasArrCart    bool
	hadWindowConv bool
}

// shard generates the buyers of a subset of shops, in arrival order.
type shard struct {
	idx      int
	cfg      *Config
	r        *rng
	assigner *assign.Assigner
	clock    *diurnalClock

	shops   []*shop
	shopCum []float64

	periodEnd   int64
	windowStart int64
	windowEnd   int64
	lateBound   int64
	attrWindow  int64
	chanCum     []float64

	buyersLeft  int
	buyerSeq    int64
	lastU       float64
	nextArrival int64

	sessions minHeap[*buyer]
	pending  minHeap[*item]
	free     []*item
	sess     []*item

	seqEvent, seqConv, seqOrder, seqCart uint64
	idBuf                                []byte

	batch   []event.Event
	emit    func([]event.Event) error
	t       tally
	scratch []int
}

func newShard(idx int, cfg *Config, shops []*shop, nBuyers int, a *assign.Assigner, clock *diurnalClock) *shard {
	s := &shard{
		idx: idx, cfg: cfg, r: newRNG(cfg.Seed, uint64(idx)+1), assigner: a, clock: clock,
		shops:       shops,
		periodEnd:   cfg.windowEnd().UnixMicro(),
		windowStart: cfg.WindowStart.UnixMicro(),
		windowEnd:   cfg.windowEnd().UnixMicro(),
		lateBound:   cfg.lateBound(),
		attrWindow:  cfg.Model.AttributionWindow.Microseconds(),
		buyersLeft:  nBuyers,
		sessions:    newMinHeap(sessionLess),
		pending:     newMinHeap(arrivalLess),
	}
	cum := 0.0
	for _, sh := range shops {
		cum += sh.weight
		s.shopCum = append(s.shopCum, cum)
	}
	cum = 0
	for _, w := range cfg.Model.ChannelWeights {
		cum += w
		s.chanCum = append(s.chanCum, cum)
	}
	s.drawArrival()
	return s
}

// drawArrival draws the next buyer's first-visit time. First visits are the
// order statistics of nBuyers uniforms, generated in ascending order
// (U₍₁₎ = 1 − V^{1/n}, then each next one uniform on the rest of the
// interval among the remaining n−i), mapped through the diurnal profile.
func (s *shard) drawArrival() {
	if s.buyersLeft == 0 {
		return
	}
	u := s.lastU + (1-s.lastU)*(1-math.Pow(s.r.open(), 1/float64(s.buyersLeft)))
	s.lastU = u
	s.nextArrival = s.clock.at(u)
}

// run generates every session of the shard's buyers in start-time order and
// releases rows in arrival order through emit.
func (s *shard) run() error {
	for {
		var b *buyer
		switch {
		case s.buyersLeft > 0 && (s.sessions.len() == 0 || s.nextArrival < s.sessions.peek().next):
			b = s.newBuyer(s.nextArrival)
			s.buyersLeft--
			s.drawArrival()
		case s.sessions.len() > 0:
			b = s.sessions.pop()
		default:
			return s.release(math.MaxInt64)
		}
		// Every row still to be generated has ingest ≥ event ≥ this
		// session's start, so every row with an earlier ingest is final.
		if err := s.release(b.next); err != nil {
			return err
		}
		s.session(b, b.next)
		s.t.maxInFlight = max(s.t.maxInFlight, s.pending.len())
		s.t.maxBuyers = max(s.t.maxBuyers, s.sessions.len()+1)
		if b.sessionsLeft > 0 && b.next < s.periodEnd {
			s.sessions.push(b)
		}
	}
}

func (s *shard) newBuyer(t int64) *buyer {
	m := &s.cfg.Model
	seq := s.buyerSeq
	s.buyerSeq++
	b := &buyer{
		id:     "buyer_" + strconv.FormatUint(uint64(seq)*numShards+uint64(s.idx), 36),
		seq:    seq,
		shop:   s.shops[s.r.pick(s.shopCum)],
		factor: math.Exp(m.BuyerFactorSigma*s.r.norm() - m.BuyerFactorSigma*m.BuyerFactorSigma/2),
		next:   t,
	}
	b.sessionsLeft = 1
	if !s.r.bernoulli(m.OneSessionProb) {
		b.sessionsLeft = 2 + s.r.geometric(m.ExtraSessionsMean)
	}
	s.t.buyers++
	if s.cfg.Unit == "buyer_id" {
		b.arm, _, _ = s.assigner.Assign(b.id)
		s.t.arms[b.arm].units++
	}
	return b
}

// ---- ids and rows ----

func (s *shard) id(prefix string, seq *uint64) string {
	n := *seq
	*seq++
	s.idBuf = append(s.idBuf[:0], prefix...)
	s.idBuf = strconv.AppendUint(s.idBuf, n*numShards+uint64(s.idx), 36)
	return string(s.idBuf)
}

// newRow creates a row of kind at event time t for buyer b with its arrival
// delay drawn, and adds it to the current session.
func (s *shard) newRow(b *buyer, kind event.Kind, t int64) *item {
	it := s.alloc()
	it.b = b
	d := s.delay()
	it.ev = event.Event{
		EventID: s.id("ev_", &s.seqEvent), Kind: kind, EventTime: t,
		IngestTime: t + d, HasIngestTime: true,
		ShopID: b.shop.id, BuyerID: b.id,
	}
	it.late = d > s.lateBound
	s.sess = append(s.sess, it)
	return it
}

// alloc returns an empty row, reusing a delivered one when possible.
func (s *shard) alloc() *item {
	n := len(s.free)
	if n == 0 {
		return &item{}
	}
	it := s.free[n-1]
	s.free = s.free[:n-1]
	*it = item{prods: it.prods[:0]}
	return it
}

// delay draws ingest − event in µs: lognormal(median, σ) seconds, or with
// probability HeavyDelayProb Pareto(xm, α) seconds; capped at DelayCap.
func (s *shard) delay() int64 {
	m := &s.cfg.Model
	var sec float64
	if s.r.bernoulli(m.HeavyDelayProb) {
		sec = s.r.pareto(m.DelayParetoXm, m.DelayParetoAlpha)
	} else {
		sec = s.r.lognormal(m.DelayMedian, m.DelaySigma)
	}
	return int64(math.Min(sec, m.DelayCap) * 1e6)
}

// gap returns a lognormal duration in µs with the given median seconds and σ,
// at least 1 ms.
func (s *shard) gap(median, sigma float64) int64 {
	return max(int64(s.r.lognormal(median, sigma)*1e6), 1000)
}

// cartFields fills the cart columns of row it from b's cart: token, item count
// (units), value (Σ qty × price), product ids in cart order, currency, and the
// sorted product set the trigger mirror compares.
func (s *shard) cartFields(it *item, b *buyer) {
	var items int32
	var value int64
	ids := make([]string, 0, len(b.cart))
	it.prods = it.prods[:0]
	for _, l := range b.cart {
		items += l.qty
		value += int64(l.qty) * b.shop.prices[l.product]
		ids = append(ids, b.shop.products[l.product])
		it.prods = append(it.prods, l.product)
	}
	slices.Sort(it.prods)
	it.ev.CartToken = b.cartToken
	it.ev.ItemCount, it.ev.HasItemCount = items, true
	it.ev.CartValueCents, it.ev.HasCartValue = value, true
	it.ev.ProductIDs = ids
	it.ev.Currency = b.shop.currency
}

// ---- delivery ----

// release delivers every pending row that arrives before watermark, in
// arrival order, counting what the replay will measure.
func (s *shard) release(watermark int64) error {
	for s.pending.len() > 0 && s.pending.peek().ev.IngestTime < watermark {
		it := s.pending.pop()
		s.t.deliver(it)
		s.batch = append(s.batch, it.ev)
		it.ev = event.Event{}
		it.b, it.conv = nil, nil
		s.free = append(s.free, it)
		if len(s.batch) == batchRows {
			if err := s.emit(s.batch); err != nil {
				return err
			}
			s.batch = s.batch[:0]
		}
	}
	if watermark == math.MaxInt64 && len(s.batch) > 0 {
		if err := s.emit(s.batch); err != nil {
			return err
		}
		s.batch = s.batch[:0]
	}
	return nil
}

// enqueue moves the session's rows into the reorder buffer, adding
// at-least-once redeliveries.
func (s *shard) enqueue() {
	m := &s.cfg.Model
	for _, it := range s.sess {
		s.pending.push(it)
		if s.r.bernoulli(m.DuplicateProb) {
			d := s.alloc()
			prods := d.prods
			*d = *it
			d.prods = append(prods[:0], it.prods...)
			d.dup = true
			redeliver := math.Min(s.r.lognormal(m.RedeliveryMedian, 1.2), m.RedeliveryCap)
			d.ev.IngestTime = it.ev.IngestTime + max(int64(redeliver*1e6), 1)
			d.late = d.ev.IngestTime-d.ev.EventTime > s.lateBound
			s.pending.push(d)
		}
	}
	s.sess = s.sess[:0]
}

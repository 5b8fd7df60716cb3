package synth

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/buildinfo"
)

// mergeRows is the size of the batches Generate hands to emit.
const mergeRows = 8192

// Generate produces the log described by cfg and hands its rows to emit in
// arrival order, (ingest_time, event_time, event_id), in batches. The batch
// is reused after emit returns; emit must not keep it. It returns the truth
// of the generated log. The output is a deterministic function of cfg.
//
// Shards of buyers (by shop) are generated concurrently and merged; memory
// is bounded by the rows in flight in the shards' reorder buffers and the
// buyers with sessions still to come, not by the size of the log.
func Generate(ctx context.Context, cfg Config, emit func([]event.Event) error) (*Truth, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	arms := []assign.Arm{{Name: "control", Weight: 1 - cfg.TreatmentWeight}, {Name: "treatment", Weight: cfg.TreatmentWeight}}
	assigner, err := assign.NewAssigner(cfg.Hash, cfg.Salt, arms, 1.0)
	if err != nil {
		return nil, fmt.Errorf("experiment split: %w", err)
	}
	shops := newShops(&cfg, newRNG(cfg.Seed, 0))
	var armTotals [2]int64
	for _, sh := range shops {
		sh.arm, _, _ = assigner.Assign(sh.id)
		armTotals[sh.arm]++
	}
	clock := newDiurnalClock(cfg.periodStart(), cfg.windowEnd())
	shards := makeShards(&cfg, shops, assigner, clock)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	streams := make([]*stream, len(shards))
	var wg sync.WaitGroup
	for i, s := range shards {
		st := &stream{out: make(chan []event.Event, 4), free: make(chan []event.Event, 8)}
		streams[i] = st
		s.batch = make([]event.Event, 0, batchRows)
		s.emit = st.sender(ctx, s)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(st.out)
			st.err = s.run()
		}()
	}
	mergeErr := merge(streams, emit)
	if mergeErr != nil {
		cancel()
		for _, st := range streams { // unblock and drain the shards
			for range st.out {
			}
		}
	}
	wg.Wait()
	if mergeErr != nil {
		return nil, mergeErr
	}
	for _, st := range streams {
		if st.err != nil {
			return nil, st.err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var t tally
	for _, s := range shards {
		t.add(&s.t)
	}
	if cfg.Unit == "shop_id" {
		t.arms[0].units, t.arms[1].units = armTotals[0], armTotals[1]
	}
	return buildTruth(&cfg, &t, arms), nil
}

// makeShards deals shop i to shard i mod numShards and splits the buyers
// over the shards in proportion to their shops' traffic weights (largest
// remainder, so the total is exact).
func makeShards(cfg *Config, shops []*shop, a *assign.Assigner, clock *diurnalClock) []*shard {
	var groups [numShards][]*shop
	var weights [numShards]float64
	total := 0.0
	for i, sh := range shops {
		groups[i%numShards] = append(groups[i%numShards], sh)
		weights[i%numShards] += sh.weight
		total += sh.weight
	}
	var counts [numShards]int
	var rem [numShards]float64
	assigned := 0
	for k := range numShards {
		x := float64(cfg.Buyers) * weights[k] / total
		counts[k] = int(math.Floor(x))
		rem[k] = x - float64(counts[k])
		assigned += counts[k]
	}
	for assigned < cfg.Buyers {
		best := -1
		for k := range numShards {
			if len(groups[k]) > 0 && (best < 0 || rem[k] > rem[best]) {
				best = k
			}
		}
		counts[best]++
		rem[best] = -1
		assigned++
	}
	var out []*shard
	for k := range numShards {
		if len(groups[k]) == 0 {
			continue
		}
		out = append(out, newShard(k, cfg, groups[k], counts[k], a, clock))
	}
	return out
}

// stream connects one shard to the merger.
type stream struct {
	out  chan []event.Event
	free chan []event.Event
	err  error
	cur  []event.Event
	pos  int
}

// sender returns the shard's emit: hand the full batch to the merger and
// continue with a recycled (or new) one.
func (st *stream) sender(ctx context.Context, s *shard) func([]event.Event) error {
	return func(b []event.Event) error {
		select {
		case st.out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case nb := <-st.free:
			s.batch = nb[:0]
		default:
			s.batch = make([]event.Event, 0, batchRows)
		}
		return nil
	}
}

// next makes st.cur[st.pos] the stream's next row; false at its end.
func (st *stream) next() bool {
	if st.cur != nil && st.pos < len(st.cur) {
		return true
	}
	if st.cur != nil {
		clear(st.cur)
		select {
		case st.free <- st.cur[:0]:
		default:
		}
	}
	b, ok := <-st.out
	if !ok {
		st.cur = nil
		return false
	}
	st.cur, st.pos = b, 0
	return len(b) > 0 || st.next()
}

func rowLess(a, b *event.Event) bool {
	if a.IngestTime != b.IngestTime {
		return a.IngestTime < b.IngestTime
	}
	if a.EventTime != b.EventTime {
		return a.EventTime < b.EventTime
	}
	return a.EventID < b.EventID
}

// merge interleaves the shards' streams by arrival order into batches for emit.
func merge(streams []*stream, emit func([]event.Event) error) error {
	var live []*stream
	for _, st := range streams {
		if st.next() {
			live = append(live, st)
		}
	}
	out := make([]event.Event, 0, mergeRows)
	for len(live) > 0 {
		best := 0
		for i := 1; i < len(live); i++ {
			if rowLess(&live[i].cur[live[i].pos], &live[best].cur[live[best].pos]) {
				best = i
			}
		}
		st := live[best]
		out = append(out, st.cur[st.pos])
		st.pos++
		if len(out) == mergeRows {
			if err := emit(out); err != nil {
				return err
			}
			clear(out)
			out = out[:0]
		}
		if !st.next() {
			live = append(live[:best], live[best+1:]...)
		}
	}
	if len(out) > 0 {
		return emit(out)
	}
	return nil
}

// pilotBuyers is the number of buyers of the pilot run that estimates the
// events per buyer for BuyersForEvents.
const pilotBuyers = 20000

// BuyersForEvents returns the number of buyers for which cfg (with its other
// settings) yields about n rows: a pilot run with pilotBuyers buyers measures
// rows per buyer, and the answer scales it. The relative error is the pilot's
// sampling error, about 1 % (see docs/synth.md).
func BuyersForEvents(ctx context.Context, cfg Config, n int64) (int, error) {
	if n < 1 {
		return 0, errors.New("events: want at least 1")
	}
	cfg.Buyers = pilotBuyers
	t, err := Generate(ctx, cfg, func([]event.Event) error { return nil })
	if err != nil {
		return 0, err
	}
	perBuyer := float64(t.Counts.Rows) / pilotBuyers
	return max(1, int(math.Round(float64(n)/perBuyer))), nil
}

func buildTruth(cfg *Config, t *tally, arms []assign.Arm) *Truth {
	m := cfg.Model
	p := cfg.Params
	tr := &Truth{
		ToolVersion: buildinfo.Version(),
		Seed:        cfg.Seed, Shops: cfg.Shops, Buyers: cfg.Buyers, Days: cfg.Days, PreDays: cfg.PreDays,
		PeriodStart: cfg.periodStart(), WindowStart: cfg.WindowStart.UTC(), WindowEnd: cfg.windowEnd(),
		Experiment: ExperimentTruth{Unit: cfg.Unit, Salt: cfg.Salt, Hash: string(cfg.Hash),
			TreatmentWeight: cfg.TreatmentWeight, Coverage: 1},
		SignalParams: map[string]string{
			"conversation_inactivity": p.ConversationInactivity.String(),
			"cart_lookback":           p.CartLookback.String(),
			"order_lookback":          p.OrderLookback.String(),
			"dedupe_window":           p.DedupeWindow.String(),
			"state_ttl":               p.StateTTL.String(),
			"max_out_of_orderness":    p.MaxOutOfOrderness.String(),
			"allowed_lateness":        p.AllowedLateness.String(),
			"min_cart_value_cents":    fmt.Sprint(p.MinCartValueCents),
		},
		LatenessBound:     (p.MaxOutOfOrderness + p.AllowedLateness).String(),
		TriggerDefinition: TriggerDefinition,
		Planted: Planted{
			RelativeLiftTriggered: cfg.Lift,
			AppliesTo:             "triggered conversations of treatment units that start inside the experiment window",
			Conversion: "p0 = min(max_base_prob, (p_triggered if triggered else p_not_triggered) × shop_factor × buyer_factor); " +
				"p = p0 × (1 + lift) for the population above, else p0; factors are exp(σZ − σ²/2) (mean 1)",
			AttributionWindow: m.AttributionWindow.String(),
			PTriggered:        m.PTriggered, PNotTriggered: m.PNotTriggered, MaxBaseProb: m.MaxBaseProb,
			ShopFactorSigma: m.ShopFactorSigma, BuyerFactorSigma: m.BuyerFactorSigma,
		},
		Counts: Counts{
			Rows: t.rows, UniqueEvents: t.unique,
			RowsByKind: map[string]int64{}, EventsByKind: map[string]int64{},
			DuplicatesInjected: t.duplicates, OutOfOrder: t.outOfOrder,
			LateEvents: t.late, LateDuplicateRows: t.lateDupRows, StaleCartUpdatesArrival: t.staleArrival,
			Buyers: t.buyers, Shops: cfg.Shops,
			Conversations: t.conversations, ConversationsTriggered: t.triggered,
			ConversationsNotVisible: t.notVisible, ConversionsInfeasible: t.infeasible,
			MaxRowsInFlight: int64(t.maxInFlight), MaxBuyersInFlight: int64(t.maxBuyers),
		},
		Model:       m,
		Definitions: definitions,
	}
	for i, k := range event.Kinds {
		tr.Counts.RowsByKind[string(k)] = t.rowsByKind[i]
		tr.Counts.EventsByKind[string(k)] = t.uniqueByKind[i]
	}
	for i, a := range arms {
		tr.Arms = append(tr.Arms, ArmTruth{Name: a.Name, Weight: a.Weight, Units: t.arms[i].units,
			UnitsWithConversations: t.arms[i].unitsWithConv,
			Window:                 t.arms[i].window.truth(), PrePeriod: t.arms[i].pre.truth(),
			WindowByChannel: map[string]PeriodTruth{}})
		for k, ch := range m.Channels {
			var pt periodTally
			if t.arms[i].byChannel != nil {
				pt = t.arms[i].byChannel[k]
			}
			tr.Arms[i].WindowByChannel[ch] = pt.truth()
		}
	}
	c, tt := &t.arms[0].window, &t.arms[1].window
	l := LiftTruth{PlantedTriggered: cfg.Lift}
	l.ExpectedAllConversations = cfg.Lift * ratio(tt.expTrig0, tt.expected0)
	l.DilutionFactor = ratio(l.ExpectedAllConversations, cfg.Lift)
	l.TriggeredShare = ratio(float64(c.triggered+tt.triggered), float64(c.conversations+tt.conversations))
	l.RealisedTriggered = relLift(tt.trigConversions, tt.triggered, c.trigConversions, c.triggered)
	l.RealisedAll = relLift(tt.conversions, tt.conversations, c.conversions, c.conversations)
	l.ExpectedTriggeredOverBaseline = ratio(tt.expTrig, tt.expTrig0)
	tr.Lift = l
	return tr
}

// relLift returns (xt/nt) / (xc/nc) − 1, or 0 when undefined.
func relLift(xt, nt, xc, nc int64) float64 {
	if nt == 0 || nc == 0 || xc == 0 {
		return 0
	}
	return (float64(xt)/float64(nt))/(float64(xc)/float64(nc)) - 1
}

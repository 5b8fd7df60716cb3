package synth

import (
	"time"

	"github.com/signalab/signalab/event"
)

// Truth is what truth.json records: the configuration, the planted effect,
// the trigger definition and the realised counts of a generated log.
type Truth struct {
	ToolVersion string `json:"tool_version"`
	Seed        uint64 `json:"seed"`
	Shops       int    `json:"shops"`
	Buyers      int    `json:"buyers"`
	Days        int    `json:"days"`
	PreDays     int    `json:"pre_days"`

	PeriodStart time.Time `json:"period_start"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`

	Experiment   ExperimentTruth   `json:"experiment"`
	SignalParams map[string]string `json:"signal_params"`
	// LatenessBound is max_out_of_orderness + allowed_lateness: rows with
	// ingest_time − event_time above it are dropped as late by the replay.
	LatenessBound     string      `json:"lateness_bound"`
	TriggerDefinition string      `json:"trigger_definition"`
	Planted           Planted     `json:"planted"`
	Counts            Counts      `json:"counts"`
	Arms              []ArmTruth  `json:"arms"`
	Lift              LiftTruth   `json:"lift"`
	Model             Model       `json:"model"`
	Definitions       Definitions `json:"definitions"`
}

// ExperimentTruth is the split the generator planted its effect on.
type ExperimentTruth struct {
	Unit            string  `json:"unit"`
	Salt            string  `json:"salt"`
	Hash            string  `json:"hash"`
	TreatmentWeight float64 `json:"treatment_weight"`
	Coverage        float64 `json:"coverage"`
}

// Planted describes the planted effect and the conversion model.
type Planted struct {
	RelativeLiftTriggered float64 `json:"relative_lift_triggered"`
	AppliesTo             string  `json:"applies_to"`
	Conversion            string  `json:"conversion"`
	AttributionWindow     string  `json:"attribution_window"`
	PTriggered            float64 `json:"p_triggered"`
	PNotTriggered         float64 `json:"p_not_triggered"`
	MaxBaseProb           float64 `json:"max_base_prob"`
	ShopFactorSigma       float64 `json:"shop_factor_sigma"`
	BuyerFactorSigma      float64 `json:"buyer_factor_sigma"`
}

// Counts are the realised counts of the log.
type Counts struct {
	// Rows is every row written (duplicates included); UniqueEvents the
	// distinct event_ids.
	Rows         int64            `json:"rows"`
	UniqueEvents int64            `json:"unique_events"`
	RowsByKind   map[string]int64 `json:"rows_by_kind"`
	EventsByKind map[string]int64 `json:"events_by_kind"`
	// DuplicatesInjected rows re-deliver an earlier event_id (later
	// ingest_time); the replay counts each as duplicate.
	DuplicatesInjected int64 `json:"duplicates_injected"`
	// OutOfOrder rows have an event_time earlier than the largest
	// event_time already delivered for their buyer, in file order.
	OutOfOrder int64 `json:"out_of_order"`
	// LateEvents are distinct events (first deliveries) with ingest − event
	// above the lateness bound; LateDuplicateRows are redeliveries above it
	// (dropped as duplicate first).
	LateEvents        int64 `json:"late_events"`
	LateDuplicateRows int64 `json:"late_duplicate_rows"`
	// StaleCartUpdatesArrival are first deliveries of cart_update, not
	// late, whose event_time is not newer than the buyer's latest accepted
	// cart_update or order_placed delivered before (arrival order): the
	// replay's stale count in --order arrival (0 in --order event-time).
	StaleCartUpdatesArrival int64 `json:"stale_cart_updates_arrival"`
	Buyers                  int64 `json:"buyers"`
	Shops                   int   `json:"shops"`
	Conversations           int64 `json:"conversations"`
	ConversationsTriggered  int64 `json:"conversations_triggered"`
	// ConversationsNotVisible had every event dropped as late: the replay
	// cannot see them.
	ConversationsNotVisible int64 `json:"conversations_not_visible"`
	// ConversionsInfeasible were drawn converting but had no room for an
	// order inside the attribution window (recorded as not converting).
	ConversionsInfeasible int64 `json:"conversions_infeasible"`
	// MaxRowsInFlight is the largest reorder buffer of a shard, summed over
	// shards: the memory bound of the generator, in rows.
	MaxRowsInFlight int64 `json:"max_rows_in_flight"`
	// MaxBuyersInFlight is the largest number of buyers with sessions still
	// to come, summed over shards: the other memory bound (buyers active
	// at once, which grows with the traffic per day, not with the days).
	MaxBuyersInFlight int64 `json:"max_buyers_in_flight"`
}

// ArmTruth are the per-arm counts over conversations started in the window
// and in the pre-period.
type ArmTruth struct {
	Name   string  `json:"name"`
	Weight float64 `json:"weight"`
	// Units: shops or buyers generated in the arm, or (unit
	// conversation_id) conversations in the window.
	Units int64 `json:"units"`
	// UnitsWithConversations: units with at least one conversation in the window.
	UnitsWithConversations int64       `json:"units_with_conversations"`
	Window                 PeriodTruth `json:"window"`
	PrePeriod              PeriodTruth `json:"pre_period"`
	// WindowByChannel splits Window by the conversation's channel (for
	// segment analyses).
	WindowByChannel map[string]PeriodTruth `json:"window_by_channel"`
}

// PeriodTruth counts conversations (by start time) of one arm and period.
type PeriodTruth struct {
	Conversations        int64 `json:"conversations"`
	Triggered            int64 `json:"triggered"`
	Conversions          int64 `json:"conversions"`
	TriggeredConversions int64 `json:"triggered_conversions"`
	// Rates: conversions / conversations (0 when there are none).
	ConversionRate          float64 `json:"conversion_rate"`
	TriggeredConversionRate float64 `json:"triggered_conversion_rate"`
	// Sums of the conversion probabilities drawn (with the effect) and of
	// the base probabilities (without it).
	ExpectedConversions                  float64 `json:"expected_conversions"`
	ExpectedConversionsNoEffect          float64 `json:"expected_conversions_no_effect"`
	ExpectedTriggeredConversions         float64 `json:"expected_triggered_conversions"`
	ExpectedTriggeredConversionsNoEffect float64 `json:"expected_triggered_conversions_no_effect"`
	// ConversionOrdersLate: converting conversations whose order row is
	// beyond the lateness bound (the replay will not see that conversion).
	ConversionOrdersLate int64 `json:"conversion_orders_late"`
	NotVisible           int64 `json:"not_visible"`
}

// LiftTruth compares the arms on conversations in the window.
type LiftTruth struct {
	// PlantedTriggered is the planted relative lift on triggered conversations.
	PlantedTriggered float64 `json:"planted_triggered"`
	// ExpectedAllConversations is the lift the planted effect implies on all
	// conversations of the realised treatment population (dilution):
	//
	//	lift × Σ_{treatment, triggered} p₀ / Σ_{treatment, all} p₀
	ExpectedAllConversations float64 `json:"expected_all_conversations"`
	// DilutionFactor is ExpectedAllConversations / PlantedTriggered.
	DilutionFactor float64 `json:"dilution_factor"`
	// TriggeredShare is the share of window conversations that are triggered.
	TriggeredShare float64 `json:"triggered_share"`
	// Realised lifts: treatment rate / control rate − 1, per conversation.
	RealisedTriggered float64 `json:"realised_triggered"`
	RealisedAll       float64 `json:"realised_all"`
	// ExpectedTriggeredOverBaseline is Σ p / Σ p₀ on treatment triggered
	// conversations (= 1 + lift unless probabilities were capped).
	ExpectedTriggeredOverBaseline float64 `json:"expected_triggered_over_baseline"`
}

// Definitions states, in words, how each count is measured.
type Definitions struct {
	OutOfOrder string `json:"out_of_order"`
	Late       string `json:"late"`
	Conversion string `json:"conversion"`
	Window     string `json:"window"`
}

var definitions = Definitions{
	OutOfOrder: "a row whose event_time is earlier than the largest event_time of the rows already delivered for the same (shop_id, buyer_id), rows in file order (ingest_time, event_time, event_id), duplicates and late rows included",
	Late:       "ingest_time − event_time > max_out_of_orderness + allowed_lateness (lateness_bound)",
	Conversion: "the buyer places an order at the same shop within the attribution window after the conversation's started_at (event time)",
	Window:     "a conversation belongs to the window when window_start ≤ started_at < window_end, to the pre-period when started_at < window_start",
}

// tally accumulates one shard's counts.
type tally struct {
	rows, unique, duplicates, late, lateDupRows, outOfOrder, staleArrival int64
	rowsByKind, uniqueByKind                                              [7]int64
	buyers, conversations, triggered, notVisible, infeasible              int64
	arms                                                                  [2]armTally
	maxInFlight, maxBuyers                                                int
}

type armTally struct {
	units, unitsWithConv int64
	window, pre          periodTally
	byChannel            []periodTally // window conversations by channel index
}

type periodTally struct {
	conversations, triggered, conversions, trigConversions int64
	expected, expected0, expTrig, expTrig0                 float64
	ordersLate, notVisible                                 int64
}

func kindIndex(k event.Kind) int {
	for i, v := range event.Kinds {
		if v == k {
			return i
		}
	}
	return 0
}

// deliver counts one row as it is written.
func (t *tally) deliver(it *item) {
	b, e := it.b, &it.ev
	k := kindIndex(e.Kind)
	t.rows++
	t.rowsByKind[k]++
	if it.dup {
		t.duplicates++
		if it.late {
			t.lateDupRows++
		}
	} else {
		t.unique++
		t.uniqueByKind[k]++
		if it.late {
			t.late++
		} else {
			switch e.Kind {
			case event.KindCartUpdate:
				if b.hasArrCart && e.EventTime <= b.arrCartTime {
					t.staleArrival++
				} else {
					b.arrCartTime, b.hasArrCart = e.EventTime, true
				}
			case event.KindOrderPlaced:
				if !b.hasArrCart || e.EventTime > b.arrCartTime {
					b.arrCartTime, b.hasArrCart = e.EventTime, true
				}
			}
		}
	}
	if b.hasDelivered && e.EventTime < b.maxDelivered {
		t.outOfOrder++
	}
	if !b.hasDelivered || e.EventTime > b.maxDelivered {
		b.maxDelivered, b.hasDelivered = e.EventTime, true
	}
}

// conversation records one conversation's planted outcome.
func (t *tally) conversation(s *shard, b *buyer, c *conversation, arm int, inWindow, trig, converted, orderLate bool, p, p0 float64) {
	t.conversations++
	if trig {
		t.triggered++
	}
	if !c.m.visible {
		t.notVisible++
	}
	a := &t.arms[arm]
	var pt *periodTally
	switch {
	case inWindow:
		pt = &a.window
		switch s.cfg.Unit {
		case "conversation_id":
			a.units++
			a.unitsWithConv++
		case "buyer_id":
			if !b.hadWindowConv {
				a.unitsWithConv++
			}
		default:
			if !b.shop.hadWindowConv {
				a.unitsWithConv++
				b.shop.hadWindowConv = true
			}
		}
		b.hadWindowConv = true
	case c.start < s.windowStart:
		pt = &a.pre
	default:
		return // started after the window (a session begun just before its end)
	}
	pt.record(trig, converted, orderLate, c.m.visible, p, p0)
	if inWindow {
		if a.byChannel == nil {
			a.byChannel = make([]periodTally, len(s.cfg.Model.Channels))
		}
		a.byChannel[c.channelIdx].record(trig, converted, orderLate, c.m.visible, p, p0)
	}
}

func (pt *periodTally) record(trig, converted, orderLate, visible bool, p, p0 float64) {
	pt.conversations++
	pt.expected += p
	pt.expected0 += p0
	if trig {
		pt.triggered++
		pt.expTrig += p
		pt.expTrig0 += p0
	}
	if converted {
		pt.conversions++
		if trig {
			pt.trigConversions++
		}
		if orderLate {
			pt.ordersLate++
		}
	}
	if !visible {
		pt.notVisible++
	}
}

func (t *tally) add(o *tally) {
	t.rows += o.rows
	t.unique += o.unique
	t.duplicates += o.duplicates
	t.late += o.late
	t.lateDupRows += o.lateDupRows
	t.outOfOrder += o.outOfOrder
	t.staleArrival += o.staleArrival
	for i := range t.rowsByKind {
		t.rowsByKind[i] += o.rowsByKind[i]
		t.uniqueByKind[i] += o.uniqueByKind[i]
	}
	t.buyers += o.buyers
	t.conversations += o.conversations
	t.triggered += o.triggered
	t.notVisible += o.notVisible
	t.infeasible += o.infeasible
	t.maxInFlight += o.maxInFlight
	t.maxBuyers += o.maxBuyers
	t.maxBuyers += o.maxBuyers
	for i := range t.arms {
		a, b := &t.arms[i], &o.arms[i]
		a.units += b.units
		a.unitsWithConv += b.unitsWithConv
		a.window.add(&b.window)
		a.pre.add(&b.pre)
		if b.byChannel != nil {
			if a.byChannel == nil {
				a.byChannel = make([]periodTally, len(b.byChannel))
			}
			for k := range b.byChannel {
				a.byChannel[k].add(&b.byChannel[k])
			}
		}
	}
}

func (p *periodTally) add(o *periodTally) {
	p.conversations += o.conversations
	p.triggered += o.triggered
	p.conversions += o.conversions
	p.trigConversions += o.trigConversions
	p.expected += o.expected
	p.expected0 += o.expected0
	p.expTrig += o.expTrig
	p.expTrig0 += o.expTrig0
	p.ordersLate += o.ordersLate
	p.notVisible += o.notVisible
}

func (p *periodTally) truth() PeriodTruth {
	return PeriodTruth{
		Conversions: p.conversions, Conversations: p.conversations, Triggered: p.triggered,
		TriggeredConversions:                 p.trigConversions,
		ConversionRate:                       ratio(float64(p.conversions), float64(p.conversations)),
		TriggeredConversionRate:              ratio(float64(p.trigConversions), float64(p.triggered)),
		ExpectedConversions:                  p.expected,
		ExpectedConversionsNoEffect:          p.expected0,
		ExpectedTriggeredConversions:         p.expTrig,
		ExpectedTriggeredConversionsNoEffect: p.expTrig0,
		ConversionOrdersLate:                 p.ordersLate,
		NotVisible:                           p.notVisible,
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

package synth

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/signal"
)

// Defaults of the experiment the generator plants, equal to
// testdata/experiment.yaml so that a generated log and the demo spec agree.
const (
	DefaultUnit            = "shop_id"
	DefaultSalt            = "inbox-signals-v1"
	DefaultHash            = assign.GrowthBookV2
	DefaultTreatmentWeight = 0.5
	DefaultLift            = 0.10
	DefaultShops           = 100
	DefaultBuyers          = 10000
	DefaultDays            = 28
	DefaultPreDays         = 28
	DefaultSeed            = 1
)

// MaxShops bounds --shops: every shop keeps its catalog (20–319 product ids
// and prices) in memory for the whole run, about 5 KB per shop.
const MaxShops = 20000

// DefaultWindowStart is the start of the default experiment window,
// 2026-03-01T00:00:00Z (testdata/experiment.yaml).
var DefaultWindowStart = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// Config describes one generated log. The zero value is not useful; start
// from DefaultConfig.
type Config struct {
	Seed    uint64 `json:"seed"`
	Shops   int    `json:"shops"`
	Buyers  int    `json:"buyers"`
	Days    int    `json:"days"`     // experiment window length
	PreDays int    `json:"pre_days"` // pre-period before the window

	// WindowStart is the start of the experiment window; the log starts
	// PreDays before it and sessions start until Days after it.
	WindowStart time.Time `json:"window_start"`

	// The planted experiment: units are split by assign.NewAssigner(Hash,
	// Salt, [control 1−w, treatment w], 1.0).Assign(unit id).
	Unit            string             `json:"unit"`
	Salt            string             `json:"salt"`
	Hash            assign.HashVersion `json:"hash"`
	TreatmentWeight float64            `json:"treatment_weight"`
	// Lift is the planted relative lift of the conversion probability of
	// triggered conversations of treatment units inside the window.
	Lift float64 `json:"lift"`

	// Params are the signal parameters that define triggering and lateness
	// (signal.DefaultParams unless changed).
	Params signal.Params `json:"signal_params"`

	// Model holds the behavioural parameters (DefaultModel).
	Model Model `json:"model"`

	// Currency, when set (an ISO 4217 code), is the currency of every shop;
	// empty keeps the default mix (USD, EUR, GBP, CAD, AUD in proportions
	// 3:2:1:1:1). The shops' currencies are drawn either way, so the rest of
	// the log does not depend on it.
	Currency string `json:"currency,omitempty"`
}

// DefaultConfig returns the configuration of `signalab generate` without flags.
func DefaultConfig() Config {
	return Config{
		Seed:            DefaultSeed,
		Shops:           DefaultShops,
		Buyers:          DefaultBuyers,
		Days:            DefaultDays,
		PreDays:         DefaultPreDays,
		WindowStart:     DefaultWindowStart,
		Unit:            DefaultUnit,
		Salt:            DefaultSalt,
		Hash:            DefaultHash,
		TreatmentWeight: DefaultTreatmentWeight,
		Lift:            DefaultLift,
		Params:          signal.DefaultParams(),
		Model:           DefaultModel(),
	}
}

// Model holds the behavioural parameters of the generator. Durations are in
// seconds unless named otherwise. See docs/synth.md for the meaning of each.
type Model struct {
	// Shops: traffic weight w ~ Pareto(1, ShopParetoAlpha).
	ShopParetoAlpha float64 `json:"shop_pareto_alpha"`
	// Per-shop conversion factor exp(σZ − σ²/2) (mean 1).
	ShopFactorSigma float64 `json:"shop_factor_sigma"`
	// Per-buyer propensity exp(σZ − σ²/2) (mean 1): scales checkout, order
	// and conversion probabilities.
	BuyerFactorSigma float64 `json:"buyer_factor_sigma"`

	// Sessions per buyer: 1 with probability OneSessionProb, else
	// 2 + Geometric(mean ExtraSessionsMean).
	OneSessionProb    float64 `json:"one_session_prob"`
	ExtraSessionsMean float64 `json:"extra_sessions_mean"`
	// Gap to the next session: with probability SameDayReturnProb
	// lognormal(median SameDayGapMedian, σ 0.7), else
	// 1h + exponential(mean ReturnGapMeanDays days).
	SameDayReturnProb float64 `json:"same_day_return_prob"`
	SameDayGapMedian  float64 `json:"same_day_gap_median_s"`
	ReturnGapMeanDays float64 `json:"return_gap_mean_days"`

	// Page views per session: 1 + Geometric(mean ExtraPageViewsMean), spaced
	// lognormal(median PageViewGapMedian, σ 0.8).
	ExtraPageViewsMean float64 `json:"extra_page_views_mean"`
	PageViewGapMedian  float64 `json:"page_view_gap_median_s"`
	// Cart activity in a session: probability CartProb (CartContinueProb
	// when the buyer has a cart from before); 1 + Geometric(mean
	// ExtraCartUpdatesMean) snapshots, each adding (AddProb) or removing.
	CartProb             float64 `json:"cart_prob"`
	CartContinueProb     float64 `json:"cart_continue_prob"`
	ExtraCartUpdatesMean float64 `json:"extra_cart_updates_mean"`
	AddProb              float64 `json:"add_prob"`
	// Sessions without a conversation: checkout with CheckoutProb × buyer
	// factor when there is a cart, then an order with OrderProb.
	CheckoutProb float64 `json:"checkout_prob"`
	OrderProb    float64 `json:"order_prob"`

	// Conversations: a session opens one with ConversationProb, or
	// ConversationCartProb when it has cart activity. Channels and weights.
	ConversationProb     float64   `json:"conversation_prob"`
	ConversationCartProb float64   `json:"conversation_cart_prob"`
	Channels             []string  `json:"channels"`
	ChannelWeights       []float64 `json:"channel_weights"`
	// Chat before cart: probability that a session with both starts the
	// conversation before its cart updates (which then happen in the chat).
	ChatBeforeCartProb float64 `json:"chat_before_cart_prob"`
	// Checkout inside a conversation with a cart.
	ChatCheckoutProb float64 `json:"chat_checkout_prob"`
	// Exchanges: 1 + Geometric(mean ExtraExchangesMean), at most MaxExchanges.
	ExtraExchangesMean float64 `json:"extra_exchanges_mean"`
	MaxExchanges       int     `json:"max_exchanges"`
	// Merchant reply delay lognormal(median ReplyMedian, σ ReplySigma),
	// capped at ReplyCap; no reply at all with NoReplyProb.
	ReplyMedian float64 `json:"reply_median_s"`
	ReplySigma  float64 `json:"reply_sigma"`
	ReplyCap    float64 `json:"reply_cap_s"`
	NoReplyProb float64 `json:"no_reply_prob"`
	// Buyer follow-up delay lognormal(median BuyerReplyMedian, σ 1).
	BuyerReplyMedian float64 `json:"buyer_reply_median_s"`
	// conversation_closed with CloseProb, lognormal(median CloseDelayMedian,
	// σ 1) after the last message; otherwise the conversation goes idle.
	CloseProb        float64 `json:"close_prob"`
	CloseDelayMedian float64 `json:"close_delay_median_s"`

	// Conversion of a conversation (an order by the buyer at the shop within
	// AttributionWindow after it starts): base probability
	// PTriggered or PNotTriggered, times the shop and buyer factors, capped
	// at MaxBaseProb; times (1 + Lift) for triggered conversations of
	// treatment units inside the window.
	PTriggered        float64       `json:"p_triggered"`
	PNotTriggered     float64       `json:"p_not_triggered"`
	MaxBaseProb       float64       `json:"max_base_prob"`
	AttributionWindow time.Duration `json:"-"` // recorded as planted.attribution_window
	// The converting order comes soon (lognormal median
	// ConversionDelayMedian, σ 1.5) after the session, or uniformly later
	// within the attribution window when that draw overshoots it.
	ConversionDelayMedian float64 `json:"conversion_delay_median_s"`

	// Arrival delay ingest − event: lognormal(median DelayMedian, σ
	// DelaySigma) seconds; with probability HeavyDelayProb instead
	// Pareto(DelayParetoXm s, DelayParetoAlpha), capped at DelayCap s.
	DelayMedian      float64 `json:"delay_median_s"`
	DelaySigma       float64 `json:"delay_sigma"`
	HeavyDelayProb   float64 `json:"heavy_delay_prob"`
	DelayParetoXm    float64 `json:"delay_pareto_xm_s"`
	DelayParetoAlpha float64 `json:"delay_pareto_alpha"`
	DelayCap         float64 `json:"delay_cap_s"`
	// At-least-once redelivery: each event is delivered again with
	// DuplicateProb, lognormal(median RedeliveryMedian, σ 1.2) seconds after
	// the first delivery (capped at RedeliveryCap).
	DuplicateProb    float64 `json:"duplicate_prob"`
	RedeliveryMedian float64 `json:"redelivery_median_s"`
	RedeliveryCap    float64 `json:"redelivery_cap_s"`
}

// DefaultModel returns the documented behavioural parameters.
func DefaultModel() Model {
	return Model{
		ShopParetoAlpha:  1.16, // the "80/20" shape
		ShopFactorSigma:  0.3,
		BuyerFactorSigma: 0.5,

		OneSessionProb:    0.5,
		ExtraSessionsMean: 2.5,
		SameDayReturnProb: 0.25,
		SameDayGapMedian:  3 * 3600,
		ReturnGapMeanDays: 5,

		ExtraPageViewsMean:   2.5,
		PageViewGapMedian:    45,
		CartProb:             0.30,
		CartContinueProb:     0.55,
		ExtraCartUpdatesMean: 1.2,
		AddProb:              0.75,
		CheckoutProb:         0.35,
		OrderProb:            0.60,

		ConversationProb:     0.06,
		ConversationCartProb: 0.15,
		Channels:             []string{"online_store_chat", "messenger", "apple_business_chat", "whatsapp", "instagram", "sms"},
		ChannelWeights:       []float64{0.50, 0.18, 0.08, 0.12, 0.07, 0.05},
		ChatBeforeCartProb:   0.5,
		ChatCheckoutProb:     0.25,
		ExtraExchangesMean:   1.3,
		MaxExchanges:         6,
		ReplyMedian:          240,
		ReplySigma:           1.4,
		ReplyCap:             6 * 3600,
		NoReplyProb:          0.10,
		BuyerReplyMedian:     90,
		CloseProb:            0.55,
		CloseDelayMedian:     600,

		PTriggered:            0.20,
		PNotTriggered:         0.05,
		MaxBaseProb:           0.45,
		AttributionWindow:     72 * time.Hour,
		ConversionDelayMedian: 1800,

		DelayMedian:      1.5,
		DelaySigma:       1.0,
		HeavyDelayProb:   0.05,
		DelayParetoXm:    10,
		DelayParetoAlpha: 0.6,
		DelayCap:         20 * 3600,
		DuplicateProb:    0.005,
		RedeliveryMedian: 30,
		RedeliveryCap:    1200,
	}
}

// Validate reports the first invalid setting, naming it.
func (c *Config) Validate() error {
	switch {
	case c.Currency != "" && !currencyCode(c.Currency):
		return fmt.Errorf("currency: %q, want an ISO 4217 code such as USD (three capital letters)", c.Currency)
	case c.Shops < 1 || c.Shops > MaxShops:
		return fmt.Errorf("shops: %d, want 1 to %d", c.Shops, MaxShops)
	case c.Buyers < 1:
		return fmt.Errorf("buyers: %d, want at least 1", c.Buyers)
	case c.Days < 1:
		return fmt.Errorf("days: %d, want at least 1", c.Days)
	case c.PreDays < 0:
		return fmt.Errorf("pre-days: %d, want 0 or more", c.PreDays)
	case c.Days+c.PreDays > 3660:
		return fmt.Errorf("days + pre-days: %d, want at most 3660", c.Days+c.PreDays)
	case math.IsNaN(c.Lift) || c.Lift < -1 || c.Lift > 10:
		return fmt.Errorf("lift: %v, want a relative lift in [-1, 10] (0.1 is +10%%)", c.Lift)
	case !(c.TreatmentWeight > 0 && c.TreatmentWeight < 1):
		return fmt.Errorf("treatment-weight: %v, want a share strictly between 0 and 1", c.TreatmentWeight)
	}
	if !validUnit(c.Unit) {
		return fmt.Errorf("unit: %q, want shop_id, buyer_id or conversation_id", c.Unit)
	}
	if _, err := assign.Bucket(c.Hash, "", ""); err != nil {
		return fmt.Errorf("hash: %w", err)
	}
	m := &c.Model
	if len(m.Channels) == 0 || len(m.Channels) != len(m.ChannelWeights) {
		return errors.New("model: channels and channel_weights must be non-empty and of equal length")
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"p_triggered", m.PTriggered}, {"p_not_triggered", m.PNotTriggered}, {"max_base_prob", m.MaxBaseProb},
		{"duplicate_prob", m.DuplicateProb}, {"heavy_delay_prob", m.HeavyDelayProb},
		{"conversation_prob", m.ConversationProb}, {"conversation_cart_prob", m.ConversationCartProb}} {
		if !(p.v >= 0 && p.v <= 1) {
			return fmt.Errorf("model: %s: %v, want a probability in [0, 1]", p.name, p.v)
		}
	}
	if m.MaxBaseProb*(1+max(c.Lift, 0)) > 1 {
		return fmt.Errorf("lift: %v would push conversion probabilities above 1 (max_base_prob %v): want at most %.2f",
			c.Lift, m.MaxBaseProb, math.Floor((1/m.MaxBaseProb-1)*100)/100)
	}
	if m.AttributionWindow <= 0 {
		return errors.New("model: attribution_window must be positive")
	}
	return nil
}

// validUnit reports whether u is a randomization unit of conversations in
// experiment specs (assign.UnitsFor), so the generator, whose truth is per
// conversation, and the spec loader accept the same set.
func validUnit(u string) bool { return slices.Contains(assign.UnitsFor("conversation"), u) }

// periodStart returns the first instant of the log (window start − pre-days).
func (c *Config) periodStart() time.Time { return c.WindowStart.AddDate(0, 0, -c.PreDays) }

// windowEnd returns the end of the experiment window.
func (c *Config) windowEnd() time.Time { return c.WindowStart.AddDate(0, 0, c.Days) }

// lateBound is max_out_of_orderness + allowed_lateness in µs: an event with
// ingest − event greater than it is dropped as late by the replay.
func (c *Config) lateBound() int64 {
	return (c.Params.MaxOutOfOrderness + c.Params.AllowedLateness).Microseconds()
}

func currencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

package synth

import (
	"math"
	"strconv"
	"time"
)

// shop is a merchant: its traffic weight, conversion factor, currency,
// catalog and experiment arm (when the unit is shop_id).
type shop struct {
	id       string
	weight   float64 // Pareto traffic weight
	factor   float64 // conversion factor, mean 1
	currency string
	products []string // product ids
	prices   []int64  // cents, by product
	arm      int      // arm index when unit = shop_id

	hadWindowConv bool // a conversation started in the window (counted once)
}

var currencies = []string{"USD", "USD", "USD", "EUR", "EUR", "GBP", "CAD", "AUD"}

// newShops draws the shops from the master stream: weights
// w ~ Pareto(1, α) (P(W > w) = w^−α), factors exp(σZ − σ²/2), a catalog of
// 20 + U{0..299} products with prices lognormal(median $25, σ 0.8) rounded to
// a whole dollar minus one cent.
func newShops(cfg *Config, r *rng) []*shop {
	m := &cfg.Model
	width := len(strconv.Itoa(cfg.Shops - 1))
	if width < 4 {
		width = 4
	}
	shops := make([]*shop, cfg.Shops)
	for i := range shops {
		s := &shop{
			id:       "shop_" + pad(i, width),
			weight:   r.pareto(1, m.ShopParetoAlpha),
			factor:   math.Exp(m.ShopFactorSigma*r.norm() - m.ShopFactorSigma*m.ShopFactorSigma/2),
			currency: currencies[r.intn(len(currencies))],
		}
		if cfg.Currency != "" {
			s.currency = cfg.Currency // drawn above all the same: the rest of the log is unchanged
		}
		n := 20 + r.intn(300)
		s.products = make([]string, n)
		s.prices = make([]int64, n)
		for k := range n {
			s.products[k] = "p" + strconv.Itoa(i) + "_" + strconv.Itoa(k)
			dollars := math.Max(1, math.Round(r.lognormal(25, 0.8)))
			s.prices[k] = int64(dollars)*100 - 1
		}
		shops[i] = s
	}
	return shops
}

// product draws a product index with popularity skewed to the head of the
// catalog: index ⌊n·U²⌋ (density ∝ 1/√x).
func (s *shop) product(r *rng) int {
	u := r.float64()
	return int(float64(len(s.products)) * u * u)
}

func pad(i, width int) string {
	s := strconv.Itoa(i)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// diurnalClock maps a uniform u ∈ [0, 1) to a time in [start, end) with
// density proportional to a daily and weekly traffic profile
//
//	λ(t) = (1 + 0.6·cos(2π(h − 20)/24)) × (1.15 on Saturday and Sunday)
//
// (h the UTC hour, peaking at 20:00), piecewise constant per hour, by
// inverting its cumulative integral. Sorted inputs give sorted times.
type diurnalClock struct {
	start int64     // µs
	cum   []float64 // cumulative mass at the end of each hour, normalised to 1
}

func newDiurnalClock(start, end time.Time) *diurnalClock {
	hours := int(math.Ceil(end.Sub(start).Hours()))
	c := &diurnalClock{start: start.UnixMicro(), cum: make([]float64, hours)}
	total := 0.0
	for i := range hours {
		t := start.Add(time.Duration(i) * time.Hour)
		w := 1 + 0.6*math.Cos(2*math.Pi*(float64(t.Hour())-20)/24)
		if d := t.Weekday(); d == time.Saturday || d == time.Sunday {
			w *= 1.15
		}
		total += w
		c.cum[i] = total
	}
	for i := range c.cum {
		c.cum[i] /= total
	}
	return c
}

func (c *diurnalClock) at(u float64) int64 {
	lo, hi := 0, len(c.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if c.cum[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	prev := 0.0
	if lo > 0 {
		prev = c.cum[lo-1]
	}
	frac := 0.0
	if c.cum[lo] > prev {
		frac = (u - prev) / (c.cum[lo] - prev)
	}
	const hour = int64(time.Hour / time.Microsecond)
	return c.start + int64(lo)*hour + int64(frac*float64(hour))
}

package synth

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/experiment"
)

// collect generates cfg and returns every row and the truth.
func collect(t testing.TB, cfg Config) ([]event.Event, *Truth) {
	t.Helper()
	var rows []event.Event
	truth, err := Generate(context.Background(), cfg, func(b []event.Event) error {
		rows = append(rows, b...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows, truth
}

func small() Config {
	cfg := DefaultConfig()
	cfg.Buyers = 3000
	cfg.Seed = 42
	return cfg
}

func parquetBytes(t *testing.T, cfg Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	pw, err := event.NewParquetWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Generate(context.Background(), cfg, pw.Write); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDeterministic(t *testing.T) {
	cfg := small()
	a, b := parquetBytes(t, cfg), parquetBytes(t, cfg)
	if !bytes.Equal(a, b) {
		t.Fatalf("same seed gave different Parquet bytes (%d vs %d bytes)", len(a), len(b))
	}
	cfg.Seed++
	if c := parquetBytes(t, cfg); bytes.Equal(a, c) {
		t.Fatal("different seeds gave identical bytes")
	}
}

func TestArrivalOrderAndDuplicates(t *testing.T) {
	rows, truth := collect(t, small())
	if int64(len(rows)) != truth.Counts.Rows {
		t.Fatalf("emitted %d rows, truth says %d", len(rows), truth.Counts.Rows)
	}
	first := map[string]event.Event{}
	var dups int64
	for i := range rows {
		e := &rows[i]
		if i > 0 && rowLess(e, &rows[i-1]) {
			t.Fatalf("row %d (%s) is before row %d in (ingest_time, event_time, event_id) order", i+1, e.EventID, i)
		}
		if !e.HasIngestTime || e.IngestTime < e.EventTime {
			t.Fatalf("row %d (%s): ingest_time %d before event_time %d", i+1, e.EventID, e.IngestTime, e.EventTime)
		}
		if p := event.Validate(e); p != nil {
			t.Fatalf("row %d (%s) breaks the schema: %+v", i+1, e.EventID, p)
		}
		if o, ok := first[e.EventID]; ok {
			dups++
			o.IngestTime = e.IngestTime
			if o.EventTime != e.EventTime || o.Kind != e.Kind || o.BuyerID != e.BuyerID || !slices.Equal(o.ProductIDs, e.ProductIDs) {
				t.Fatalf("redelivery of %s differs from the first delivery", e.EventID)
			}
			continue
		}
		first[e.EventID] = *e
	}
	if dups != truth.Counts.DuplicatesInjected || dups == 0 {
		t.Errorf("repeated event_ids %d, truth duplicates_injected %d (want equal and > 0)", dups, truth.Counts.DuplicatesInjected)
	}
}

// TestDelayFractions checks the measured out-of-order, late and duplicate
// shares against the ranges the model is tuned for (docs/synth.md), and
// recounts them from the rows with the definitions of truth.json.
func TestDelayFractions(t *testing.T) {
	cfg := small()
	cfg.Buyers = 20000
	rows, truth := collect(t, cfg)
	bound := cfg.lateBound()
	maxSeen := map[event.BuyerKey]int64{}
	seen := map[string]bool{}
	var ooo, late int64
	for i := range rows {
		e := &rows[i]
		if m, ok := maxSeen[e.Key()]; ok && e.EventTime < m {
			ooo++
		}
		if m, ok := maxSeen[e.Key()]; !ok || e.EventTime > m {
			maxSeen[e.Key()] = e.EventTime
		}
		if !seen[e.EventID] {
			seen[e.EventID] = true
			if e.IngestTime-e.EventTime > bound {
				late++
			}
		}
	}
	c := truth.Counts
	if ooo != c.OutOfOrder || late != c.LateEvents {
		t.Errorf("recounted out_of_order %d late %d; truth %d and %d", ooo, late, c.OutOfOrder, c.LateEvents)
	}
	n := float64(c.Rows)
	for _, r := range []struct {
		name   string
		v      float64
		lo, hi float64
	}{
		{"out-of-order share", float64(ooo) / n, 0.01, 0.05},
		{"late share", float64(late) / float64(c.UniqueEvents), 0.0005, 0.005},
		{"duplicate share", float64(c.DuplicatesInjected) / n, 0.003, 0.008},
	} {
		if r.v < r.lo || r.v > r.hi {
			t.Errorf("%s %.5f outside [%v, %v]", r.name, r.v, r.lo, r.hi)
		}
	}
	if c.MaxRowsInFlight <= 0 || float64(c.MaxRowsInFlight) > 0.05*n {
		t.Errorf("max rows in flight %d of %d rows: the reorder buffer should stay small", c.MaxRowsInFlight, c.Rows)
	}
}

// TestHeavyTailedShops: with Pareto(α=1.16) weights the largest tenth of 200
// shops should carry well over a third of the rows, and the largest shop
// many times the median one.
func TestHeavyTailedShops(t *testing.T) {
	cfg := small()
	cfg.Shops = 200
	cfg.Buyers = 10000
	rows, _ := collect(t, cfg)
	per := map[string]int{}
	for i := range rows {
		per[rows[i].ShopID]++
	}
	sizes := make([]int, 0, len(per))
	for _, n := range per {
		sizes = append(sizes, n)
	}
	slices.Sort(sizes)
	slices.Reverse(sizes)
	top := 0
	for _, n := range sizes[:len(sizes)/10] {
		top += n
	}
	share := float64(top) / float64(len(rows))
	median := sizes[len(sizes)/2]
	if share < 0.35 || float64(sizes[0]) < 10*float64(median) {
		t.Errorf("top 10%% of shops hold %.2f of rows (want ≥ 0.35), largest %d vs median %d (want ≥ 10×)", share, sizes[0], median)
	}
}

// TestArmSplit checks that the arms of truth.json are those of the assigner
// used directly, for shop and buyer units.
func TestArmSplit(t *testing.T) {
	for _, unit := range []string{"shop_id", "buyer_id"} {
		t.Run(unit, func(t *testing.T) {
			cfg := small()
			cfg.Unit = unit
			cfg.TreatmentWeight = 0.3
			rows, truth := collect(t, cfg)
			a, err := assign.NewAssigner(assign.GrowthBookV2, DefaultSalt,
				[]assign.Arm{{Name: "control", Weight: 0.7}, {Name: "treatment", Weight: 0.3}}, 1)
			if err != nil {
				t.Fatal(err)
			}
			var units [2]int64
			if unit == "shop_id" {
				shops := newShops(&cfg, newRNG(cfg.Seed, 0))
				for _, s := range shops {
					arm, _, _ := a.Assign(s.id)
					units[arm]++
				}
			} else {
				seen := map[string]bool{}
				for i := range rows {
					if id := rows[i].BuyerID; !seen[id] {
						seen[id] = true
						arm, _, _ := a.Assign(id)
						units[arm]++
					}
				}
			}
			for i := range 2 {
				got := truth.Arms[i].Units
				if unit == "buyer_id" && got < units[i] {
					t.Errorf("%s units %d, fewer than the %d seen in rows", truth.Arms[i].Name, got, units[i])
				}
				if unit == "shop_id" && got != units[i] {
					t.Errorf("%s units %d, assigner says %d", truth.Arms[i].Name, got, units[i])
				}
			}
			// Treatment share near 0.3 (binomial, 4 SE).
			n := float64(truth.Arms[0].Units + truth.Arms[1].Units)
			share := float64(truth.Arms[1].Units) / n
			if se := math.Sqrt(0.3 * 0.7 / n); math.Abs(share-0.3) > 4*se {
				t.Errorf("treatment share %.3f of %v units, want 0.3 ± %.3f", share, n, 4*se)
			}
		})
	}
}

// TestPlantedLift recovers the planted lift from the generator's own
// conversion flags. Units are conversations (independent draws), and chat is
// made common so the sample is large. Two checks, each at 4 standard errors:
//   - observed / expected-without-effect conversions of treatment triggered
//     conversations ≈ 1 + lift (SE from the binomial variances Σp(1−p));
//   - rate ratio treatment / control on triggered conversations ≈ 1 + lift
//     (delta method: Var(log r̂) ≈ (1−p_T)/(n_T p_T) + (1−p_C)/(n_C p_C)).
func TestPlantedLift(t *testing.T) {
	cfg := small()
	cfg.Buyers = 30000
	cfg.Unit = "conversation_id"
	cfg.Lift = 0.25
	cfg.Model.ConversationProb = 0.5
	cfg.Model.ConversationCartProb = 0.8
	_, truth := collect(t, cfg)
	ctl, trt := truth.Arms[0].Window, truth.Arms[1].Window
	if trt.Triggered < 5000 { // 4 SE ≈ 0.13 on the ratio: 0.25 stays ≥ 7 SE from no effect
		t.Fatalf("only %d triggered treatment conversations; the test needs a large sample", trt.Triggered)
	}
	ratio := float64(trt.TriggeredConversions) / trt.ExpectedTriggeredConversionsNoEffect
	se := math.Sqrt(trt.ExpectedTriggeredConversions) / trt.ExpectedTriggeredConversionsNoEffect // Σp(1−p) ≤ Σp
	if math.Abs(ratio-(1+cfg.Lift)) > 4*se {
		t.Errorf("observed/expected-without-effect %.4f, want %.4f ± %.4f", ratio, 1+cfg.Lift, 4*se)
	}
	pt := float64(trt.TriggeredConversions) / float64(trt.Triggered)
	pc := float64(ctl.TriggeredConversions) / float64(ctl.Triggered)
	logSE := math.Sqrt((1-pt)/(float64(trt.Triggered)*pt) + (1-pc)/(float64(ctl.Triggered)*pc))
	if d := math.Log(pt/pc) - math.Log(1+cfg.Lift); math.Abs(d) > 4*logSE {
		t.Errorf("rate ratio %.4f, want %.4f (log difference %.4f, 4 SE %.4f)", pt/pc, 1+cfg.Lift, d, 4*logSE)
	}
	if math.Abs(truth.Lift.RealisedTriggered-(pt/pc-1)) > 1e-12 {
		t.Errorf("truth realised_triggered %v, recomputed %v", truth.Lift.RealisedTriggered, pt/pc-1)
	}
	// Non-triggered conversations and the pre-period carry no effect.
	if r := truth.Arms[1].PrePeriod.ExpectedConversions / truth.Arms[1].PrePeriod.ExpectedConversionsNoEffect; r != 1 {
		t.Errorf("pre-period expected/no-effect %v, want 1", r)
	}
	// Dilution: the all-conversation lift is the planted one scaled by the
	// triggered share of baseline conversions.
	want := cfg.Lift * trt.ExpectedTriggeredConversionsNoEffect / trt.ExpectedConversionsNoEffect
	if math.Abs(truth.Lift.ExpectedAllConversations-want) > 1e-12 || want >= cfg.Lift {
		t.Errorf("expected all-conversation lift %v, want %v (< %v)", truth.Lift.ExpectedAllConversations, want, cfg.Lift)
	}
	t.Logf("triggered conversations %d/%d; ratio %.4f (SE %.4f); rate ratio %.4f (log SE %.4f)", ctl.Triggered, trt.Triggered, ratio, se, pt/pc, logSE)
}

func TestConversionRatesRealistic(t *testing.T) {
	cfg := small()
	cfg.Buyers = 20000
	_, truth := collect(t, cfg)
	var trig, trigConv, non, nonConv int64
	for _, a := range truth.Arms {
		for _, p := range []PeriodTruth{a.Window, a.PrePeriod} {
			trig += p.Triggered
			trigConv += p.TriggeredConversions
			non += p.Conversations - p.Triggered
			nonConv += p.Conversions - p.TriggeredConversions
		}
	}
	rt, rn := float64(trigConv)/float64(trig), float64(nonConv)/float64(non)
	if rt < 0.10 || rt > 0.30 || rn < 0.02 || rn > 0.08 {
		t.Errorf("conversion triggered %.3f (want 0.10–0.30), not triggered %.3f (want 0.02–0.08)", rt, rn)
	}
	if s := truth.Lift.TriggeredShare; s < 0.3 || s > 0.85 {
		t.Errorf("triggered share %.3f, want 0.3–0.85", s)
	}
	if truth.Counts.ConversionsInfeasible != 0 {
		t.Errorf("%d conversions had no room in the attribution window", truth.Counts.ConversionsInfeasible)
	}
	for _, k := range []string{"conversation_started", "message", "conversation_closed", "order_placed", "checkout_started", "cart_update", "page_view"} {
		if truth.Counts.EventsByKind[k] == 0 {
			t.Errorf("no %s events", k)
		}
	}
}

func TestEventsTarget(t *testing.T) {
	cfg := small()
	for _, n := range []int64{30000, 300000} {
		buyers, err := BuyersForEvents(context.Background(), cfg, n)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.Buyers = buyers
		var rows int64
		if _, err := Generate(context.Background(), c, func(b []event.Event) error { rows += int64(len(b)); return nil }); err != nil {
			t.Fatal(err)
		}
		if d := math.Abs(float64(rows)/float64(n) - 1); d > 0.03 {
			t.Errorf("asked for %d rows, got %d (%.1f%% off, want within 3%%)", n, rows, 100*d)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Shops = 0 }, "shops"},
		{func(c *Config) { c.Shops = MaxShops + 1 }, "shops"},
		{func(c *Config) { c.Buyers = -1 }, "buyers"},
		{func(c *Config) { c.Days = 0 }, "days"},
		{func(c *Config) { c.PreDays = -2 }, "pre-days"},
		{func(c *Config) { c.Unit = "session_id" }, "unit"},
		{func(c *Config) { c.TreatmentWeight = 1 }, "treatment-weight"},
		{func(c *Config) { c.Lift = -2 }, "lift"},
		{func(c *Config) { c.Lift = 5 }, "lift"},
		{func(c *Config) { c.Hash = "md5" }, "hash"},
	} {
		cfg := DefaultConfig()
		tc.mut(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error naming %q, got %v", tc.want, err)
		}
	}
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Errorf("default config: %v", err)
	}
}

func TestWriteDirRoundTrip(t *testing.T) {
	dir := t.TempDir()
	cfg := small()
	cfg.Buyers = 500
	truth, err := WriteDir(context.Background(), cfg, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	evs, r, err := event.ReadAll([]string{filepath.Join(dir, EventsFile)}, event.ReadOptions{Strict: true})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(evs)) != truth.Counts.Rows || r.QuarantinedRows() != 0 {
		t.Errorf("read back %d rows (%d quarantined), truth says %d", len(evs), r.QuarantinedRows(), truth.Counts.Rows)
	}
	want, _ := collect(t, cfg)
	for i := range evs {
		evs[i].File, evs[i].Row = 0, 0
		w := want[i]
		if evs[i].EventID != w.EventID || evs[i].IngestTime != w.IngestTime || evs[i].CartValueCents != w.CartValueCents ||
			!slices.Equal(evs[i].ProductIDs, w.ProductIDs) || evs[i].Channel != w.Channel {
			t.Fatalf("row %d differs after the Parquet round trip:\n got %+v\nwant %+v", i+1, evs[i], w)
		}
	}
	f, err := os.Open(filepath.Join(dir, TruthFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	back, err := ReadTruth(f)
	if err != nil {
		t.Fatal(err)
	}
	if back.Counts.Rows != truth.Counts.Rows || back.Lift != truth.Lift || back.TriggerDefinition != TriggerDefinition {
		t.Error("truth.json does not round-trip")
	}
}

// TestDemoSpecMatchesDefaults keeps testdata/experiment.yaml and the
// generator's defaults in step: unit, salt, hash, split, window, pre-period.
func TestDemoSpecMatchesDefaults(t *testing.T) {
	spec, err := experiment.Load(filepath.Join("..", "testdata", "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	d := DefaultConfig()
	if spec.Unit != d.Unit || spec.Salt != d.Salt || spec.Hash != d.Hash {
		t.Errorf("spec unit/salt/hash %s/%s/%s, generator %s/%s/%s", spec.Unit, spec.Salt, spec.Hash, d.Unit, d.Salt, d.Hash)
	}
	if len(spec.Variants) != 2 || spec.Variants[1].Weight != d.TreatmentWeight {
		t.Errorf("spec variants %+v, generator treatment weight %v", spec.Variants, d.TreatmentWeight)
	}
	if spec.Window == nil || !spec.Window.Start.Equal(d.WindowStart) || !spec.Window.End.Equal(d.windowEnd()) {
		t.Errorf("spec window %+v, generator [%v, %v)", spec.Window, d.WindowStart, d.windowEnd())
	}
	if got := spec.PrePeriod; got != time.Duration(d.PreDays)*24*time.Hour {
		t.Errorf("spec pre_period %v, generator %d days", got, d.PreDays)
	}
	if p := spec.Signals; p != d.Params {
		t.Errorf("spec signal params %+v, generator %+v", p, d.Params)
	}
}

// TestWindowByChannelSums checks that the per-channel split of each arm's
// window adds up to the window's counts, and that every channel occurs.
func TestWindowByChannelSums(t *testing.T) {
	cfg := small()
	cfg.Buyers = 10000
	_, truth := collect(t, cfg)
	for _, a := range truth.Arms {
		var conv, trig, convs, trigConvs int64
		for _, ch := range cfg.Model.Channels {
			p, ok := a.WindowByChannel[ch]
			if !ok || p.Conversations == 0 {
				t.Errorf("%s: no window conversations on %s", a.Name, ch)
			}
			conv += p.Conversations
			trig += p.Triggered
			convs += p.Conversions
			trigConvs += p.TriggeredConversions
		}
		w := a.Window
		if conv != w.Conversations || trig != w.Triggered || convs != w.Conversions || trigConvs != w.TriggeredConversions {
			t.Errorf("%s: channels sum to %d/%d/%d/%d, window has %d/%d/%d/%d", a.Name, conv, trig, convs, trigConvs,
				w.Conversations, w.Triggered, w.Conversions, w.TriggeredConversions)
		}
	}
}

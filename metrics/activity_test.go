package metrics

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/internal/columnar"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/signal"
)

// activityFixture writes a hand-made sessions.parquet, orders.parquet and
// assignments.parquet (buyer_id randomization: b1 treatment, b2 control,
// b9 unassigned) for analysis unit u.
func activityFixture(t *testing.T, u Unit) (string, *Spec) {
	t.Helper()
	dir := t.TempDir()
	sess := func(shop, buyer, start string, pv, carts int32, trig, hadCart bool) replay.Session {
		s := replay.Session{ShopID: shop, BuyerID: buyer, StartedAt: us(start), EndedAt: us(start) + 60e6,
			Events: pv + carts, PageViews: pv, CartUpdates: carts, Triggered: trig, HadCartAtStart: hadCart}
		if trig {
			s.SignalEvents, s.FirstTriggerAt = 1, ptr(us(start)+30e6)
		}
		return s
	}
	writeRows(t, filepath.Join(dir, SessionsFile), []replay.Session{
		sess("s1", "b1", "2026-03-02T10:00:00Z", 3, 2, true, false),
		sess("s1", "b1", "2026-03-02T12:30:00Z", 1, 0, false, true),
		sess("s1", "b2", "2026-02-20T00:00:00Z", 5, 0, false, false), // before the window
		sess("s1", "b2", "2026-03-08T00:00:00Z", 2, 0, false, true),
		sess("s2", "b9", "2026-03-05T00:00:00Z", 1, 0, false, false), // unassigned
	})
	writeRows(t, filepath.Join(dir, OrdersFile), []signal.Order{
		{OrderID: "o0", ShopID: "s1", BuyerID: "b1", EventTime: us("2026-02-25T00:00:00Z"), OrderValueCents: 3000}, // pre-period
		{OrderID: "o1", ShopID: "s1", BuyerID: "b1", EventTime: us("2026-03-02T12:00:00Z"), OrderValueCents: 8000},
		{OrderID: "o2", ShopID: "s1", BuyerID: "b1", EventTime: us("2026-03-04T11:00:00Z"), OrderValueCents: 2000},
	})
	writeRows(t, filepath.Join(dir, AssignmentsFile), []assign.Assignment{
		{UnitID: "b1", Variant: "treatment", InExperiment: true},
		{UnitID: "b2", Variant: "control", InExperiment: true},
	})
	spec := &Spec{Experiment: "activity", Unit: "buyer_id", AnalysisUnit: u, SessionGap: 30 * time.Minute,
		Variants:  []string{"control", "treatment"},
		Window:    &results.Window{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
		PrePeriod: 168 * time.Hour, CUPED: true,
		Metrics: []Metric{
			{Name: "conversion", Type: Proportion, Outcome: Orders, Window: 72 * time.Hour},
			{Name: "views", Type: Mean, Outcome: PageViews},
			{Name: "carts_per_session", Type: Ratio, Numerator: CartUpdates, Denominator: Sessions},
		},
	}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	return dir, spec
}

type activityRow struct {
	session, unit, variant                  string
	triggered, hadCart                      bool
	orders, revenue, sessions, views, carts int64
	conv, convPre, viewsM, cpsNum, cpsDen   float64
}

func readActivityUnits(t *testing.T, path string, u Unit) []activityRow {
	t.Helper()
	names := []string{"unit_id", "variant", "triggered", "had_cart_at_start", "orders", "revenue_cents", "sessions",
		"page_views", "cart_updates", "m_conversion", "m_conversion_pre", "m_views", "m_carts_per_session_num", "m_carts_per_session_den", "session_id"}
	opt := map[string]bool{"session_id": u != UnitSession}
	var out []activityRow
	err := columnar.Scan(path, names, opt, func(c []*columnar.Column, rows int, first int64) error {
		for i := 0; i < rows; i++ {
			f := func(k int) float64 { v, _ := c[k].Float(i); return v }
			in := func(k int) int64 { v, _ := c[k].Int(i); return v }
			b := func(k int) bool { v, _ := c[k].Bool(i); return v }
			r := activityRow{unit: c[0].String(i), variant: c[1].String(i), triggered: b(2), hadCart: b(3), orders: in(4), revenue: in(5),
				sessions: in(6), views: in(7), carts: in(8), conv: f(9), convPre: f(10), viewsM: f(11), cpsNum: f(12), cpsDen: f(13)}
			if c[14] != nil {
				r.session = c[14].String(i)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBuildBuyerUnits: one row per buyer with a session in the window, its
// in-window sessions summed, outcomes from its first in-window session's
// start; hand-computed.
func TestBuildBuyerUnits(t *testing.T) {
	dir, spec := activityFixture(t, UnitBuyer)
	sum, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	got := readActivityUnits(t, filepath.Join(dir, UnitsFile), UnitBuyer)
	// b1 from Mar 2 10:00: o1 (+2h) and o2 (+49h) within 72h; pre-period
	// [Feb 22, Mar 1) holds o0. b2: its Feb 20 session is outside the
	// window; the Mar 8 one had a cart at its start.
	want := []activityRow{
		{unit: "b1", variant: "treatment", triggered: true, orders: 2, revenue: 10000, sessions: 2, views: 4, carts: 2,
			conv: 1, convPre: 1, viewsM: 4, cpsNum: 2, cpsDen: 2},
		{unit: "b2", variant: "control", hadCart: true, sessions: 1, views: 2, viewsM: 2, cpsDen: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("units:\n got %+v\nwant %+v", got, want)
	}
	if sum.Units != 2 || sum.Conversations != 3 || sum.Excluded["unassigned"] != 1 || sum.AnalysisUnit != "buyer" {
		t.Errorf("summary %+v", sum)
	}
}

// TestBuildSessionUnits: one row per session in the window, randomized by
// buyer (unit_id the buyer); hand-computed.
func TestBuildSessionUnits(t *testing.T) {
	dir, spec := activityFixture(t, UnitSession)
	sum, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	got := readActivityUnits(t, filepath.Join(dir, UnitsFile), UnitSession)
	id := func(buyer, start string) string { return replay.SessionID("s1", buyer, us(start)) }
	// The 12:30 session comes after o1 (12:00): only o2 within 72h.
	want := []activityRow{
		{session: id("b1", "2026-03-02T10:00:00Z"), unit: "b1", variant: "treatment", triggered: true, orders: 2, revenue: 10000,
			sessions: 1, views: 3, carts: 2, conv: 1, convPre: 1, viewsM: 3, cpsNum: 2, cpsDen: 1},
		{session: id("b1", "2026-03-02T12:30:00Z"), unit: "b1", variant: "treatment", hadCart: true, orders: 1, revenue: 2000,
			sessions: 1, views: 1, conv: 1, convPre: 1, viewsM: 1, cpsDen: 1},
		{session: id("b2", "2026-03-08T00:00:00Z"), unit: "b2", variant: "control", hadCart: true, sessions: 1, views: 2, viewsM: 2, cpsDen: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("units:\n got %+v\nwant %+v", got, want)
	}
	if sum.Units != 3 || sum.Excluded["outside_window"] != 1 || sum.Excluded["unassigned"] != 1 {
		t.Errorf("summary %+v", sum)
	}
}

// TestBuildNoUnits: a table that would be empty, or have an empty arm, is
// an error saying what is missing, where from, and what to try; nothing
// is written.
func TestBuildNoUnits(t *testing.T) {
	// A storefront-only log: conversations.parquet without rows.
	dir, spec := fixture(t, []signal.Conversation{})
	_, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	var nu *NoUnitsError
	if !errors.As(err, &nu) || !strings.Contains(err.Error(), "the log has no conversation events") ||
		!strings.Contains(err.Error(), "analysis.unit: buyer or session") {
		t.Errorf("no conversations: %v", err)
	}
	// Every conversation outside the window.
	convs := fixtureConversations()
	dir, spec = fixture(t, convs)
	spec.Window.Start, spec.Window.End = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	_, err = Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if !errors.As(err, &nu) || !strings.Contains(err.Error(), "all 7 conversations were excluded (outside_window 7)") ||
		!strings.Contains(err.Error(), "check window:") {
		t.Errorf("outside the window: %v", err)
	}
	// Only treatment units: the control conversation removed.
	dir, spec = fixture(t, append(convs[:3:3], convs[4:]...))
	_, err = Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if !errors.As(err, &nu) || !strings.Contains(err.Error(), "arm control has no units (treatment 3;") {
		t.Errorf("empty arm: %v", err)
	}
	if _, serr := os.Stat(filepath.Join(dir, UnitsFile)); serr == nil {
		t.Error("units.parquet was written")
	}
	// Buyer units without sessions.parquet.
	dir, spec = activityFixture(t, UnitBuyer)
	if err := os.Remove(filepath.Join(dir, SessionsFile)); err != nil {
		t.Fatal(err)
	}
	_, err = Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if err == nil || !strings.Contains(err.Error(), "sessions.parquet: no such file") || !strings.Contains(err.Error(), "--sessions") {
		t.Errorf("no sessions table: %v", err)
	}
}

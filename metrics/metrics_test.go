package metrics

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/internal/columnar"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/signal"
)

func us(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMicro()
}

func ptr[T any](v T) *T { return &v }

func writeRows[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := parquet.NewGenericWriter[T](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// fixtureSpec is the experiment of the fixture: buyer_id units, March 2026,
// a 168h pre-period with CUPED, and one metric of each type.
func fixtureSpec() *Spec {
	return &Spec{
		Experiment: "fixture", Unit: "buyer_id", Variants: []string{"control", "treatment"},
		Window:    &results.Window{Start: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)},
		PrePeriod: 168 * time.Hour, CUPED: true,
		Metrics: []Metric{
			{Name: "conversion", Type: Proportion, Outcome: Orders, Window: 72 * time.Hour},
			{Name: "revenue", Type: Mean, Outcome: RevenueCents, Window: 24 * time.Hour, Cap: &Cap{Value: 5000}},
			{Name: "aov", Type: Ratio, Numerator: RevenueCents, Denominator: Orders, Window: 72 * time.Hour},
			{Name: "reply", Type: Quantile, Q: 0.5, Outcome: FirstMerchantReplyMinutes},
		},
	}
}

// fixture writes a hand-made replay + assign output (see the comments for
// the expected values, computed by hand).
func fixture(t *testing.T, convs []signal.Conversation) (dir string, spec *Spec) {
	t.Helper()
	dir = t.TempDir()
	spec = fixtureSpec()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	writeRows(t, filepath.Join(dir, ConversationsFile), convs)
	writeRows(t, filepath.Join(dir, OrdersFile), []signal.Order{
		{OrderID: "x", ShopID: "s1", BuyerID: "b0", EventTime: us("2026-03-02T11:00:00Z"), OrderValueCents: 999},   // no conversation
		{OrderID: "o0", ShopID: "s1", BuyerID: "b1", EventTime: us("2026-02-25T00:00:00Z"), OrderValueCents: 3000}, // pre-period
		{OrderID: "o1", ShopID: "s1", BuyerID: "b1", EventTime: us("2026-03-02T12:00:00Z"), OrderValueCents: 8000}, // c1 +2h
		{OrderID: "o2", ShopID: "s1", BuyerID: "b1", EventTime: us("2026-03-04T11:00:00Z"), OrderValueCents: 2000}, // c1 +49h
		{OrderID: "o3", ShopID: "s2", BuyerID: "b4", EventTime: us("2026-03-06T01:00:00Z"), OrderValueCents: 100},
	})
	writeRows(t, filepath.Join(dir, AssignmentsFile), []assign.Assignment{
		{UnitID: "b1", Variant: "treatment", InExperiment: true},
		{UnitID: "b2", Variant: "control", InExperiment: true},
		{UnitID: "b3", Variant: "", InExperiment: false, Reason: "coverage"},
	})
	return dir, spec
}

func fixtureConversations() []signal.Conversation {
	return []signal.Conversation{
		{ConversationID: "c1", ShopID: "s1", BuyerID: "b1", Channel: "messenger", StartedAt: us("2026-03-02T10:00:00Z"),
			FirstMerchantReplyAt: ptr(us("2026-03-02T10:05:00Z")), Signals: 2, FirstSignalAt: ptr(us("2026-03-02T10:00:30Z")), Triggered: true},
		{ConversationID: "c2", ShopID: "s1", BuyerID: "b1", Channel: "messenger", StartedAt: us("2026-03-10T00:00:00Z")},
		{ConversationID: "c3", ShopID: "s1", BuyerID: "b2", Channel: "messenger", StartedAt: us("2026-02-20T00:00:00Z")}, // outside window
		{ConversationID: "c7", ShopID: "s1", BuyerID: "b2", Channel: "messenger", StartedAt: us("2026-03-08T00:00:00Z")}, // control
		{ConversationID: "c4", ShopID: "s1", BuyerID: "b3", Channel: "messenger", StartedAt: us("2026-03-05T00:00:00Z")}, // not in experiment
		{ConversationID: "c5", ShopID: "s2", BuyerID: "b1", Channel: "online_store_chat", StartedAt: us("2026-03-03T00:00:00Z")},
		{ConversationID: "c6", ShopID: "s2", BuyerID: "b4", Channel: "messenger", StartedAt: us("2026-03-06T00:00:00Z")}, // unassigned
	}
}

type unitRow struct {
	id, variant, channel, unit                               string
	triggered, converted                                     bool
	orders, revenue                                          int64
	conv, convPre, rev, revPre, aovNum, aovDen, aovPN, aovPD float64
	reply                                                    float64
	replyNull                                                bool
}

func readUnits(t *testing.T, path string) []unitRow {
	t.Helper()
	names := []string{"conversation_id", "variant", "channel", "unit_id", "triggered", "converted", "orders", "revenue_cents",
		"m_conversion", "m_conversion_pre", "m_revenue", "m_revenue_pre", "m_aov_num", "m_aov_den", "m_aov_pre_num", "m_aov_pre_den", "m_reply"}
	var out []unitRow
	err := columnar.Scan(path, names, nil, func(c []*columnar.Column, rows int, first int64) error {
		for i := 0; i < rows; i++ {
			f := func(k int) float64 { v, _ := c[k].Float(i); return v }
			in := func(k int) int64 { v, _ := c[k].Int(i); return v }
			b := func(k int) bool { v, _ := c[k].Bool(i); return v }
			out = append(out, unitRow{id: c[0].String(i), variant: c[1].String(i), channel: c[2].String(i), unit: c[3].String(i),
				triggered: b(4), converted: b(5), orders: in(6), revenue: in(7),
				conv: f(8), convPre: f(9), rev: f(10), revPre: f(11), aovNum: f(12), aovDen: f(13), aovPN: f(14), aovPD: f(15),
				reply: f(16), replyNull: c[16].Null(i)})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildAttributionCapsCovariatesExclusions(t *testing.T) {
	dir, spec := fixture(t, fixtureConversations())
	sum, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir, Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	got := readUnits(t, filepath.Join(dir, UnitsFile))
	// Hand-computed. conversion is a proportion over outcome orders: 1 when
	// orders > 0 (c1 has 2), never the count. c1: orders o1 (+2h, 8000) and o2 (+49h, 2000) in 72h;
	// only o1 in 24h, capped at 5000. Pre-period [Feb 22, Mar 1): o0 (3000).
	// c2: no order in [Mar 10, Mar 13). c5: buyer b1 at shop s2 has no
	// orders there (s1's orders never attribute to s2). The plain outcome
	// columns use the primary metric's (conversion) 72h window.
	want := []unitRow{
		{id: "c1", variant: "treatment", channel: "messenger", unit: "b1", triggered: true, converted: true, orders: 2, revenue: 10000,
			conv: 1, convPre: 1, rev: 5000, revPre: 3000, aovNum: 10000, aovDen: 2, aovPN: 3000, aovPD: 1, reply: 5},
		{id: "c2", variant: "treatment", channel: "messenger", unit: "b1",
			convPre: 1, revPre: 3000, aovPN: 3000, aovPD: 1, replyNull: true},
		{id: "c7", variant: "control", channel: "messenger", unit: "b2", replyNull: true},
		{id: "c5", variant: "treatment", channel: "online_store_chat", unit: "b1", replyNull: true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d unit rows, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("row %d:\n got  %+v\n want %+v", i, got[i], want[i])
		}
	}
	ex := sum.Excluded
	if ex["outside_window"] != 1 || ex["not_in_experiment"] != 1 || ex["unassigned"] != 1 || ex["filtered"] != 0 {
		t.Errorf("excluded %v", ex)
	}
	if sum.Units != 4 || sum.Conversations != 7 || sum.Arms[0].Units != 1 || sum.Arms[1].Units != 3 || sum.Arms[1].RandomizationUnits != 1 || sum.Arms[1].Triggered != 1 {
		t.Errorf("summary %+v", sum)
	}
	rev := sum.Metrics[1]
	if rev.Cap == nil || float64(rev.Cap.Threshold) != 5000 || rev.Cap.Capped != 1 {
		t.Errorf("revenue cap %+v", rev.Cap)
	}
	if sig := sum.Signals; sig.Signals != 2 || sig.WithSignal != 1 || sig.TimeToFirstSignalSeconds.N != 1 ||
		float64(sig.TimeToFirstSignalSeconds.Mean) != 30 {
		t.Errorf("signals %+v", sig)
	}
}

func TestBuildPercentileCap(t *testing.T) {
	dir, spec := fixture(t, fixtureConversations())
	spec.Metrics[1].Cap = &Cap{Percentile: 0.5}
	sum, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if err != nil {
		t.Fatal(err)
	}
	// Positive 24h revenues: only c1's 8000, so the 50th percentile is 8000
	// and nothing is capped.
	if c := sum.Metrics[1].Cap; float64(c.Threshold) != 8000 || c.Capped != 0 {
		t.Errorf("cap %+v", c)
	}
}

func TestBuildRejectsUnsortedConversations(t *testing.T) {
	convs := fixtureConversations()
	convs[0], convs[4] = convs[4], convs[0]
	dir, spec := fixture(t, convs)
	_, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if err == nil || !strings.Contains(err.Error(), "not sorted") || !strings.Contains(err.Error(), "row 2") {
		t.Fatalf("want a sort error naming row 2, got %v", err)
	}
}

func TestBuildMissingAssignments(t *testing.T) {
	dir, spec := fixture(t, fixtureConversations())
	os.Remove(filepath.Join(dir, AssignmentsFile))
	_, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if err == nil || !strings.Contains(err.Error(), "assignments.parquet") || !strings.Contains(err.Error(), "signalab assign") {
		t.Fatalf("want an error naming assignments.parquet and what to run, got %v", err)
	}
}

func TestBuildMissingOrShardedConversations(t *testing.T) {
	dir, spec := fixture(t, fixtureConversations())
	os.Rename(filepath.Join(dir, ConversationsFile), filepath.Join(dir, "conversations-00001.parquet"))
	_, err := Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if err == nil || !strings.Contains(err.Error(), "shards") {
		t.Fatalf("want an error about shards, got %v", err)
	}
	os.Remove(filepath.Join(dir, "conversations-00001.parquet"))
	_, err = Build(Options{Spec: spec, In: []string{dir}, Out: dir})
	if err == nil || !strings.Contains(err.Error(), "conversations.parquet") || !strings.Contains(err.Error(), "signalab replay") {
		t.Fatalf("want an error naming conversations.parquet, got %v", err)
	}
}

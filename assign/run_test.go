package assign

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/signal"
)

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func conv(id, shop, buyer, channel string, at time.Duration) signal.Conversation {
	return signal.Conversation{ConversationID: id, ShopID: shop, BuyerID: buyer, Channel: channel,
		StartedAt: t0.Add(at).UnixMicro(), LastActivityAt: t0.Add(at).UnixMicro()}
}

// runConfig is the assignment of most tests here: shops hashed into two
// equal arms, conversations of the first week of March 2026 in two channels,
// SRM also per channel.
func runConfig() *Config {
	return &Config{Unit: "shop_id", Salt: "run-test", Hash: DefaultHash, Coverage: 1, SRMAlpha: DefaultSRMAlpha,
		Variants: []Arm{{"control", 0.5}, {"treatment", 0.5}},
		Window:   &Window{Start: t0, End: t0.AddDate(0, 0, 7)},
		Filters:  Filters{"channel": {"online_store_chat", "messenger"}},
		Segments: []string{"channel"}}
}

// TestRunReasons: every unit gets exactly one reason, with the documented
// precedence, and in-experiment units get the hash's arm.
func TestRunReasons(t *testing.T) {
	s := runConfig()
	convs := []signal.Conversation{
		conv("c1", "shop-a", "b1", "messenger", time.Hour),             // admitted
		conv("c2", "shop-a", "b2", "apple_business_chat", 2*time.Hour), // same shop, filtered conversation
		conv("c3", "shop-b", "b3", "apple_business_chat", time.Hour),   // filtered only
		conv("c4", "shop-c", "b4", "messenger", -time.Hour),            // before the window
		conv("c5", "shop-c", "b5", "messenger", 7*24*time.Hour),        // at window end: outside (half-open)
		conv("c6", "", "b6", "messenger", time.Hour),                   // missing shop id
		conv("c7", "shop-d", "b7", "online_store_chat", 7*24*time.Hour-time.Microsecond),
	}
	res, err := Run(s, convs, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"": ReasonMissingUnitID, "shop-a": ReasonAssigned, "shop-b": ReasonFiltered,
		"shop-c": ReasonOutsideWindow, "shop-d": ReasonAssigned}
	if len(res.Assignments) != len(want) {
		t.Fatalf("%d assignments, want %d: %+v", len(res.Assignments), len(want), res.Assignments)
	}
	asg, _ := NewConfigAssigner(s)
	for i, a := range res.Assignments {
		if i > 0 && res.Assignments[i-1].UnitID >= a.UnitID {
			t.Errorf("not sorted at %d", i)
		}
		if a.Reason != want[a.UnitID] {
			t.Errorf("unit %q: reason %q, want %q", a.UnitID, a.Reason, want[a.UnitID])
		}
		if a.InExperiment != (a.Reason == ReasonAssigned) {
			t.Errorf("unit %q: in_experiment %v with reason %s", a.UnitID, a.InExperiment, a.Reason)
		}
		arm, b, ok := asg.Assign(a.UnitID)
		if a.UnitID == "" {
			if a.Bucket != nil || a.Variant != "" {
				t.Errorf("missing id got bucket %v variant %q", a.Bucket, a.Variant)
			}
			continue
		}
		if a.Bucket == nil || int(*a.Bucket) != b {
			t.Errorf("unit %q: bucket %v, want %d", a.UnitID, a.Bucket, b)
		}
		if a.InExperiment && (!ok || a.Variant != s.Variants[arm].Name) {
			t.Errorf("unit %q: variant %q, hash says %d", a.UnitID, a.Variant, arm)
		}
	}
	c := res.Summary.Conversations
	if c.Read != 7 || c.InWindow != 5 || c.Admitted != 3 || c.MissingUnitID != 1 {
		t.Errorf("conversation counts %+v, want read 7, in window 5, admitted 3, missing 1", c)
	}
	u := res.Summary.Units
	if u.Total != 5 || u.InExperiment != 2 || u.ByReason[ReasonAssigned] != 2 {
		t.Errorf("unit counts %+v", u)
	}
	var conversations int64
	for _, a := range res.Summary.Arms {
		conversations += a.Conversations
	}
	if conversations != 2 { // c1 and c7; c2 was filtered
		t.Errorf("arm conversations %d, want 2", conversations)
	}
	if l, ok := res.Lookup("shop-b"); !ok || l.Reason != ReasonFiltered {
		t.Errorf("Lookup(shop-b) = %+v, %v", l, ok)
	}
	if _, ok := res.Lookup("shop-zzz"); ok {
		t.Error("Lookup of an unknown unit succeeded")
	}
}

// TestRunSRMOnUnits: with unit shop_id, SRM counts shops, not conversations.
// 600 shops in control and 400 in treatment (each with 5 conversations) give
// χ² = (600−500)²/500 + (400−500)²/500 = 40 (the published case),
// not the χ² of 3000 vs 2000 conversations.
func TestRunSRMOnUnits(t *testing.T) {
	s := runConfig()
	asg, _ := NewConfigAssigner(s)
	var convs []signal.Conversation
	n := [2]int{}
	for i := 0; n[0] < 600 || n[1] < 400; i++ {
		id := "shop-" + itoa(i)
		arm, _, _ := asg.Assign(id)
		if n[arm] >= [2]int{600, 400}[arm] {
			continue
		}
		n[arm]++
		for k := 0; k < 5; k++ {
			convs = append(convs, conv(id+"-"+itoa(k), id, "b", "messenger", time.Hour))
		}
	}
	res, err := Run(s, convs, nil)
	if err != nil {
		t.Fatal(err)
	}
	srm := res.Summary.SRM
	if srm.Observed[0] != 600 || srm.Observed[1] != 400 || srm.ChiSquare == nil || math.Abs(*srm.ChiSquare-40) > 1e-9 {
		t.Fatalf("SRM %+v, want observed [600 400], χ² 40", srm)
	}
	// p = P(χ²₁ > 40) = erfc(√20) = 2.5396e-10 (Python: math.erfc(math.sqrt(20))).
	if math.Abs(srm.PValue-2.539629e-10)/2.539629e-10 > 1e-5 || !srm.Flagged || srm.Alpha != 0.001 {
		t.Errorf("SRM p %v flagged %v alpha %v, want p 2.5396e-10 flagged at 0.001", srm.PValue, srm.Flagged, srm.Alpha)
	}
	// One segment (messenger) holding every shop: same test, Bonferroni over 1.
	if len(res.Summary.Segments) != 1 || res.Summary.Segments[0].Value != "messenger" || res.Summary.Segments[0].Units != 1000 {
		t.Errorf("segments %+v", res.Summary.Segments)
	}
}

// TestSRMTT5: REFERENCES.md TT-5: 53 vs 47 at 1:1 gives p 0.5485062 (χ²
// goodness of fit = uncorrected z test); χ² = 0.36.
func TestSRMTT5(t *testing.T) {
	c := newSRMCheck([]int64{53, 47}, []float64{0.5, 0.5}, 0.001, 1)
	if math.Abs(*c.ChiSquare-0.36) > 1e-12 || math.Abs(c.PValue-0.5485062) > 5e-8 || c.Flagged {
		t.Errorf("SRM(53, 47) = %+v, want χ² 0.36 p 0.5485062 not flagged", c)
	}
}

// TestSegmentBonferroni: with m segment tests each is flagged below srm_alpha/m.
func TestSegmentBonferroni(t *testing.T) {
	// 540 vs 460 at 1:1: χ² = 6.4, p = erfc(√3.2) = 0.011412 (Python math.erfc).
	// With srm_alpha 0.03 over 3 segment tests the threshold is 0.01: not
	// flagged; as a single test it is.
	c := newSRMCheck([]int64{540, 460}, []float64{0.5, 0.5}, 0.03, 3)
	if math.Abs(c.PValue-0.011412) > 1e-6 || c.Flagged || math.Abs(c.Alpha-0.01) > 1e-15 || c.Tests != 3 ||
		math.Abs(c.AdjustedP-3*c.PValue) > 1e-15 {
		t.Errorf("segment check %+v, want p 0.011412 not flagged at 0.01, adjusted p 0.034236", c)
	}
	if c := newSRMCheck([]int64{540, 460}, []float64{0.5, 0.5}, 0.03, 1); !c.Flagged {
		t.Errorf("single test at 0.03 should flag p 0.0114: %+v", c)
	}
}

func TestRunNamespaceAndCoverage(t *testing.T) {
	s := &Config{Unit: "buyer_id", Salt: "ns-test", Hash: DefaultHash, Coverage: 0.5, SRMAlpha: DefaultSRMAlpha,
		Namespace: &Namespace{ID: "inbox", Range: [2]float64{0, 0.5}},
		Variants:  []Arm{{"a", 0.5}, {"b", 0.5}}}
	var convs []signal.Conversation
	for i := 0; i < 4000; i++ {
		convs = append(convs, conv("c"+itoa(i), "shop", "buyer-"+itoa(i), "messenger", 0))
	}
	res, err := Run(s, convs, nil)
	if err != nil {
		t.Fatal(err)
	}
	by := res.Summary.Units.ByReason
	// Half the buyers are in the namespace, half of those inside coverage.
	// Binomial SEs: √(4000·¼·¾) ≈ 27; allow 5 SE.
	if math.Abs(float64(by[ReasonNotInNamespace])-2000) > 160 || math.Abs(float64(by[ReasonAssigned])-1000) > 140 ||
		by[ReasonNotInNamespace]+by[ReasonAssigned]+by[ReasonOutsideCoverage] != 4000 {
		t.Errorf("reasons %v, want about 2000 not_in_namespace, 1000 assigned, 1000 outside_coverage", by)
	}
	for _, a := range res.Assignments {
		in := InNamespace(a.UnitID, "inbox", 0, 0.5)
		if !in && a.Reason != ReasonNotInNamespace || in && a.Reason == ReasonNotInNamespace {
			t.Fatalf("unit %s: reason %s, InNamespace %v", a.UnitID, a.Reason, in)
		}
	}
}

func TestWriteReadOutputs(t *testing.T) {
	s := runConfig()
	convs := []signal.Conversation{
		conv("c1", "shop-a", "b1", "messenger", time.Hour),
		conv("c2", "shop-b", "b2", "messenger", time.Hour),
		conv("c3", "", "b3", "messenger", time.Hour),
	}
	res, err := Run(s, convs, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WriteOutputs(dir, res); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAssignments(filepath.Join(dir, AssignmentsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(res.Assignments) {
		t.Fatalf("read %d rows, wrote %d", len(got), len(res.Assignments))
	}
	for i := range got {
		a, b := got[i], res.Assignments[i]
		if a.UnitID != b.UnitID || a.Variant != b.Variant || a.InExperiment != b.InExperiment || a.Reason != b.Reason ||
			(a.Bucket == nil) != (b.Bucket == nil) || a.Bucket != nil && *a.Bucket != *b.Bucket {
			t.Errorf("row %d: read %+v, wrote %+v", i, a, b)
		}
	}
	js, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"tool_version"`, `"srm"`, `"chi_square"`, `"p_value"`, `"flagged"`, `"arms"`, `"segments"`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("assign.json lacks %s", key)
		}
	}
	// Conversations round trip through ReadConversations / RunFile.
	cp := filepath.Join(dir, "conversations.parquet")
	if err := writeConversations(cp, convs); err != nil {
		t.Fatal(err)
	}
	res2, err := RunFile(s, cp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Assignments) != len(res.Assignments) || res2.Summary.Conversations != res.Summary.Conversations {
		t.Errorf("RunFile differs from Run: %+v vs %+v", res2.Summary.Conversations, res.Summary.Conversations)
	}
	if _, err := ReadAssignments(cp); err == nil || !strings.Contains(err.Error(), "no column unit_id") {
		t.Errorf("reading conversations as assignments: %v", err)
	}
	if err := ReadConversations(filepath.Join(dir, AssignmentsFile), func(*signal.Conversation) error { return nil }); err == nil ||
		!strings.Contains(err.Error(), "no column conversation_id") {
		t.Errorf("reading assignments as conversations: %v", err)
	}
}

func itoa(i int) string { return strconvItoa(i) }

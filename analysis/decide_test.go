package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// TestCriticalLevels: the levels separate rejected from retained p-values
// for every correction, and equal the documented formulas. Holm on GB-13's
// p-values (adjusted 0.03, 0.05, 0.12, 0.12, 1, 1 in ascending order at
// α = 0.05): one rejection, at α/6; the retained ones at α/5, except
// p = 0.01, which sits exactly on α/5 and moves just below it.
func TestCriticalLevels(t *testing.T) {
	ps := []float64{0.01, 0.04, 0.03, 0.005, 0.55, 0.6}
	const alpha = 0.05
	adj := stats.Holm(ps)
	lv := criticalLevels(ps, adj, stats.HolmCorrection, alpha)
	if math.Abs(lv[3]-alpha/6) > 1e-15 || math.Abs(lv[1]-alpha/5) > 1e-15 || lv[0] >= 0.01 || lv[0] < 0.01*(1-1e-8) {
		t.Errorf("Holm levels %v", lv)
	}
	for _, c := range stats.Corrections {
		for k := 0; k < 200; k++ {
			m := 1 + k%9
			ps := make([]float64, m)
			for i := range ps {
				ps[i] = math.Pow(float64((k*31+i*17)%97+1)/98, 3) // spread over (0, 1), many small
			}
			adj := stats.AdjustPValues(ps, c)
			lv := criticalLevels(ps, adj, c, alpha)
			r := 0
			for j := range ps {
				if adj[j] < alpha {
					r++
				}
				if (adj[j] < alpha) != (ps[j] < lv[j]) {
					t.Fatalf("%s, p %v: row %d adjusted %g but level %g", c, ps, j, adj[j], lv[j])
				}
			}
			if c == stats.BHCorrection && r > 0 && math.Abs(lv[0]-float64(r)*alpha/float64(m)) > 1e-15 {
				t.Errorf("BH level %g, want r·α/m = %g", lv[0], float64(r)*alpha/float64(m))
			}
			if c == stats.BonferroniCorrection && math.Abs(lv[0]-alpha/float64(m)) > 1e-15 && ps[0] != lv[0]/(1-1e-9) {
				t.Errorf("Bonferroni level %g, want %g", lv[0], alpha/float64(m))
			}
		}
	}
}

// decisionTable writes a clustered table: 80 shops, arms alternating, 40
// rows each (random, fixed seed), with channel and triggered columns, a
// CUPED covariate, and metrics whose treatment effect is set per metric:
// conv (+60 % on a rate near 20 %), flat (none), drop (−25 %), money
// (revenue in cents, +5 %) over orders.
func decisionTable(t *testing.T) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 5))
	var b strings.Builder
	b.WriteString("variant,shop,channel,trig,day,conv,conv_pre,flat,drop,revenue_cents,orders\n")
	for s := 0; s < 80; s++ {
		arm := "control"
		if s%2 == 1 {
			arm = "treatment"
		}
		shopLevel := rng.NormFloat64()
		for i := 0; i < 40; i++ {
			pre := 0.0
			if rng.Float64() < 0.3 {
				pre = 1
			}
			rate := 0.16 + 0.1*pre + 0.02*shopLevel
			if arm == "treatment" {
				rate *= 1.6
			}
			conv := 0.0
			if rng.Float64() < rate {
				conv = 1
			}
			flat := 8 + rng.NormFloat64() + shopLevel
			drop := 12 + rng.NormFloat64() + shopLevel
			if arm == "treatment" {
				drop *= 0.75
			}
			rev := conv * (2000 + 1000*rng.Float64())
			if arm == "treatment" {
				rev *= 1.05
			}
			fmt.Fprintf(&b, "%s,s%02d,%c,%v,2026-03-%02dT10:00:00Z,%g,%g,%g,%g,%g,%g\n", arm, s, 'a'+rune(rng.IntN(3)), rng.IntN(4) != 0,
				1+rng.IntN(14), conv, pre, flat, drop, rev, conv)
		}
	}
	p := filepath.Join(t.TempDir(), "units.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func decisionConfig() Config {
	return Config{Name: "decide", VariantCol: "variant", Control: "control", ClusterCol: "shop", Unit: "shop",
		AnalysisUnit: "row", Segments: []string{"channel"}, TriggeredCol: "trig", TimeCol: "day",
		Options: Options{Alpha: 0.05, RelativeCI: stats.FiellerCI, Correction: stats.HolmCorrection, CUPED: true},
		Primary: "conv",
		Metrics: []Metric{
			{Name: "conv", Type: metrics.Proportion, Columns: []string{"conv"}, Covariates: []string{"conv_pre"}, Role: RolePrimary},
			{Name: "flat", Type: metrics.Mean, Columns: []string{"flat"}, Role: RoleSecondary},
			{Name: "drop", Type: metrics.Mean, Columns: []string{"drop"}, Guardrail: &Guardrail{Margin: -0.05}},
			{Name: "revenue", Type: metrics.Mean, Columns: []string{"revenue_cents"}, Money: []bool{true}, Role: RoleSecondary},
			{Name: "aov", Type: metrics.Ratio, Columns: []string{"revenue_cents", "orders"}, Money: []bool{true, false},
				Guardrail: &Guardrail{Margin: -0.5}},
		}}
}

func analyzeTable(t *testing.T, p string, cfg Config, ctx Context) *results.Results {
	t.Helper()
	tbl, err := OpenTable(p)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Analyze(cfg, tbl, ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestDecisionFamilies: rows fall into the families of the scope, each
// family's adjusted p-values are its correction of its own p-values, and
// every row's significance agrees with its intervals.
func TestDecisionFamilies(t *testing.T) {
	p := decisionTable(t)
	for _, scope := range Scopes {
		cfg := decisionConfig()
		cfg.CorrectionScope = scope
		res := analyzeTable(t, p, cfg, Context{})
		if bad := results.Inconsistencies(res, true); len(bad) > 0 {
			t.Errorf("scope %s: %v", scope, bad)
		}
		fams := map[string][]*results.Row{}
		for i := range res.Rows {
			r := &res.Rows[i]
			key := r.Family + "/" + r.Population
			if r.Segment != results.SegmentAll {
				key = r.Family
			}
			fams[key] = append(fams[key], r)
		}
		want := map[Scope][]string{
			ScopeNone:   {"none/all", "none/triggered", "segment:channel"},
			ScopeMetric: {"metric:conv/all", "metric:flat/triggered", "metric:aov/all", "segment:channel"},
			ScopeFamily: {"primary/all", "secondary/all", "guardrail/triggered", "segment:channel"},
			ScopeAll:    {"all/all", "all/triggered", "segment:channel"},
		}[scope]
		for _, k := range want {
			if len(fams[k]) == 0 {
				t.Errorf("scope %s: no family %s (have %v)", scope, k, keys(fams))
			}
		}
		for k, rows := range fams {
			var ps []float64
			for _, r := range rows {
				if r.Reason == "" {
					ps = append(ps, float64(r.PValue))
				}
			}
			corr := rows[0].Correction
			adj := stats.AdjustPValues(ps, corr)
			j := 0
			for _, r := range rows {
				if r.Reason != "" {
					continue
				}
				if scope != ScopeNone || r.Segment != results.SegmentAll {
					if r.FamilySize != len(ps) {
						t.Errorf("%s %s: family size %d, want %d", scope, k, r.FamilySize, len(ps))
					}
					if math.Abs(float64(r.PValueAdjusted)-adj[j]) > 1e-12 {
						t.Errorf("%s %s: adjusted p %g, want %g", scope, k, float64(r.PValueAdjusted), adj[j])
					}
				}
				j++
			}
			if strings.HasPrefix(k, "segment:") && corr != stats.BHCorrection {
				t.Errorf("segment family corrected with %s, want bh", corr)
			}
		}
	}
}

// TestGuardrailsAndVerdict: a guardrail whose metric drops 25 % against a
// 5 % margin fails (the whole interval lies below the margin) and makes
// the verdict "don't ship"; a 50 % margin on AOV passes; with a margin of
// 0.1 % on the flat metric the check is inconclusive, with low power; with
// the failing guardrail removed and the others passing, the significantly
// better primary metric ships.
func TestGuardrailsAndVerdict(t *testing.T) {
	p := decisionTable(t)
	res := analyzeTable(t, p, decisionConfig(), Context{})
	outcome := map[string]results.GuardrailResult{}
	for _, g := range res.Guardrails {
		outcome[g.Metric] = g
	}
	if g := outcome["drop"]; g.Outcome != GuardrailFail || float64(g.CIUpper) >= -0.05 {
		t.Errorf("drop: %+v", g)
	}
	if g := outcome["aov"]; g.Outcome != GuardrailPass || float64(g.CILower) <= -0.5 {
		t.Errorf("aov: %+v", g)
	}
	if res.Verdict.Decision != DontShip || !strings.Contains(strings.Join(res.Verdict.Reasons, "\n"), "guardrail failed: drop") {
		t.Errorf("verdict %+v", res.Verdict)
	}
	if res.Gates.Passed {
		t.Error("a failed guardrail must fail the gates")
	}

	cfg := decisionConfig()
	cfg.Metrics[2].Guardrail = nil
	cfg.Metrics[2].Role = RoleSecondary
	cfg.Metrics[1].Role, cfg.Metrics[1].Guardrail = "", &Guardrail{Margin: -0.001}
	res = analyzeTable(t, p, cfg, Context{})
	for _, g := range res.Guardrails {
		if g.Metric == "flat" && (g.Outcome != GuardrailInconclusive || float64(g.PowerAtMargin) > 0.2) {
			t.Errorf("flat at a 0.1%% margin: %+v", g)
		}
	}
	if res.Verdict.Decision != Inconclusive || !res.Gates.Passed {
		t.Errorf("an inconclusive guardrail: verdict %s, gates passed %v", res.Verdict.Decision, res.Gates.Passed)
	}

	cfg.Metrics[1].Role, cfg.Metrics[1].Guardrail = RoleSecondary, nil
	res = analyzeTable(t, p, cfg, Context{})
	v := res.Verdict
	if v.Decision != Ship || v.Variants[0].Primary[0].Outcome != OutcomeBetter || !v.Variants[0].Primary[0].MDERelative.Valid() {
		t.Errorf("verdict %+v", v)
	}

	// A primary metric that should decrease and rises significantly is
	// worse: don't ship.
	cfg.Metrics[0].Direction = metrics.Decrease
	res = analyzeTable(t, p, cfg, Context{})
	if res.Verdict.Decision != DontShip || res.Verdict.Variants[0].Primary[0].Outcome != OutcomeWorse {
		t.Errorf("direction decrease: %+v", res.Verdict)
	}

	// A flagged sample ratio: don't ship, whatever the metrics say.
	cfg.Metrics[0].Direction = ""
	cfg.Variants = []results.Variant{{Name: "control", Weight: 0.9}, {Name: "treatment", Weight: 0.1}}
	res = analyzeTable(t, p, cfg, Context{})
	if !res.Health.SRM.Flagged || res.Verdict.Decision != DontShip || !strings.Contains(res.Verdict.Reasons[0], "sample ratio mismatch") {
		t.Errorf("SRM: flagged %v, verdict %+v", res.Health.SRM.Flagged, res.Verdict)
	}
}

// TestMoneyAndAdjustedMeans: money columns are reported in major units of
// the data's currency (cents / 100; yen / 1), a ratio of money over a count
// is money and keeps its unit, CUPED-adjusted treatment means make the
// means agree with the change, and the daily series, CUPED-adjusted as the
// rows, ends at the row's estimate.
func TestMoneyAndAdjustedMeans(t *testing.T) {
	p := decisionTable(t)
	usd := analyzeTable(t, p, decisionConfig(), Context{Replay: &results.Replay{Currencies: map[string]int64{"USD": 10}}})
	jpy := analyzeTable(t, p, decisionConfig(), Context{Replay: &results.Replay{Currencies: map[string]int64{"JPY": 10}}})
	if usd.Experiment.Currency != "USD" || jpy.Experiment.Currency != "JPY" {
		t.Fatalf("currencies %q %q", usd.Experiment.Currency, jpy.Experiment.Currency)
	}
	for i := range usd.Rows {
		u, y := usd.Rows[i], jpy.Rows[i]
		switch u.Metric {
		case "revenue", "aov":
			if math.Abs(float64(u.Control.Mean)*100-float64(y.Control.Mean)) > 1e-9*float64(y.Control.Mean) ||
				math.Abs(float64(u.Absolute.Estimate)*100-float64(y.Absolute.Estimate)) > 1e-6 {
				t.Errorf("%s: USD mean %v, JPY mean %v", u.Metric, u.Control.Mean, y.Control.Mean)
			}
			if math.Abs(float64(u.Relative.Estimate-y.Relative.Estimate)) > 1e-12 {
				t.Errorf("%s: relative changes differ with the unit", u.Metric)
			}
		}
		if u.Metric == "revenue" && u.Segment == results.SegmentAll && (float64(u.Control.Mean) < 1 || float64(u.Control.Mean) > 30) {
			t.Errorf("revenue mean %v USD: not in dollars", u.Control.Mean)
		}
		if u.Treatment.AdjustedMean.Valid() {
			d := float64(u.Treatment.AdjustedMean - u.Control.Mean - u.Absolute.Estimate)
			r := float64(u.Treatment.AdjustedMean)/float64(u.Control.Mean) - 1 - float64(u.Relative.Estimate)
			if math.Abs(d) > 1e-12 || math.Abs(r) > 1e-12 {
				t.Errorf("%s: adjusted means disagree with the change by %g (relative %g)", u.Metric, d, r)
			}
		}
	}
	for _, m := range usd.Metrics {
		if m.Money != (m.Name == "revenue" || m.Name == "aov") {
			t.Errorf("metric %s money %v", m.Name, m.Money)
		}
	}
	// The daily points use CR2 where the rows use the randomization test
	// (40 shops per arm), so their intervals differ; with CR2 for the rows
	// too, the last point is the row.
	cfg := decisionConfig()
	cfg.Inference = stats.InferenceCR2
	cr2 := analyzeTable(t, p, cfg, Context{})
	for k, s := range append(usd.TimeSeries, cr2.TimeSeries...) {
		res := usd
		if k >= len(usd.TimeSeries) {
			res = cr2
		}
		last := s.Points[len(s.Points)-1]
		var row *results.Row
		for i := range res.Rows {
			r := &res.Rows[i]
			if r.Metric == s.Metric && r.Segment == results.SegmentAll && r.Population == s.Population {
				row = r
			}
		}
		same := func(a, b results.Num) bool { return math.Abs(float64(a-b)) <= 1e-9 }
		if !s.CUPED || !same(last.Relative, row.Relative.Estimate) ||
			(row.Inference == "cr2" && (!same(last.CILower, row.Relative.CILower) || !same(last.PValue, row.PValue))) {
			t.Errorf("series %s/%s (cuped %v): last point %v [%v, %v] p %v, row %v [%v, %v] p %v", s.Metric, s.Population, s.CUPED,
				last.Relative, last.CILower, last.CIUpper, last.PValue, row.Relative.Estimate, row.Relative.CILower,
				row.Relative.CIUpper, row.PValue)
		}
	}
}

// TestResolveCurrency: one currency is used; none gives "" (2 decimals);
// several are added with a warning naming their shares, refused when the
// spec names one, or when their minor units differ.
func TestResolveCurrency(t *testing.T) {
	money := []string{"revenue"}
	for _, c := range []struct {
		counts  map[string]int64
		want    string
		code    string
		scale   float64
		warning string
		err     string
	}{
		{map[string]int64{"EUR": 5}, "", "EUR", 0.01, "", ""},
		{map[string]int64{"JPY": 5}, "", "JPY", 1, "", ""},
		{map[string]int64{"KWD": 5}, "KWD", "KWD", 0.001, "", ""},
		{nil, "", "", 0.01, "", ""},
		{nil, "GBP", "GBP", 0.01, "", ""},
		{map[string]int64{"USD": 3, "EUR": 1}, "", "mixed", 0.01, "2 currencies without conversion (USD 75%, EUR 25% of events)", ""},
		{map[string]int64{"USD": 3, "EUR": 1}, "mixed", "mixed", 0.01, "USD 75%", ""},
		{map[string]int64{"USD": 3, "EUR": 1}, "USD", "", 0, "", "analysis.currency is USD but the events are in 2 currencies"},
		{map[string]int64{"USD": 3, "JPY": 1}, "", "", 0, "", "different minor units"},
		{map[string]int64{"EUR": 3}, "USD", "", 0, "", "analysis.currency is USD but the events are in EUR"},
	} {
		got, err := resolveCurrency(c.counts, c.want, money)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%v want %q: error %v, want %q", c.counts, c.want, err, c.err)
			}
		case err != nil:
			t.Errorf("%v want %q: %v", c.counts, c.want, err)
		case got.code != c.code || math.Abs(got.scale-c.scale) > 1e-15 || !strings.Contains(got.warning, c.warning) || (c.warning == "") != (got.warning == ""):
			t.Errorf("%v want %q: %+v", c.counts, c.want, got)
		}
	}
}

// TestHeterogeneity: with the same relative effect in every channel the
// Wald test does not reject; with a channel whose effect is reversed it
// does. Unclustered tables use Cochran's Q, equal here to a hand
// computation from the rows.
func TestHeterogeneity(t *testing.T) {
	p := decisionTable(t)
	res := analyzeTable(t, p, decisionConfig(), Context{})
	for _, h := range res.Heterogeneity {
		if h.Metric == "flat" && (h.Method != HeteroWaldCluster || h.DF != 2 || float64(h.PValue) < 0.01) {
			t.Errorf("flat by channel (no effect anywhere): %+v", h)
		}
	}
	// Unclustered: Cochran's Q by hand from the rows.
	cfg := decisionConfig()
	cfg.ClusterCol, cfg.Unit = "", ""
	res = analyzeTable(t, p, cfg, Context{})
	for _, h := range res.Heterogeneity {
		if h.Metric != "drop" || h.Population != results.PopulationAll {
			continue
		}
		var w, wl, wl2 float64
		for _, r := range res.Rows {
			if r.Metric == "drop" && r.Segment == "channel" && r.Population == results.PopulationAll {
				a, b := float64(r.Control.Mean), float64(r.Treatment.Mean)
				sa, sb := float64(r.Control.SE), float64(r.Treatment.SE)
				l := (b - a) / a
				v := sb*sb/(a*a) + b*b*sa*sa/(a*a*a*a)
				w += 1 / v
				wl += l / v
				wl2 += l * l / v
			}
		}
		q := wl2 - wl*wl/w
		if h.Method != HeteroCochranQ || math.Abs(float64(h.Statistic)-q) > 1e-9*q {
			t.Errorf("Cochran's Q %v (%s), by hand %v", h.Statistic, h.Method, q)
		}
	}
	// A reversed effect in channel a: the test rejects.
	b, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i := 1; i < len(lines); i++ {
		f := strings.Split(lines[i], ",")
		if f[0] == "treatment" && f[2] == "a" {
			var d float64
			fmt.Sscan(f[8], &d)
			f[8] = fmt.Sprint(d / 0.75 * 1.3)
			lines[i] = strings.Join(f, ",")
		}
	}
	q := filepath.Join(t.TempDir(), "units.csv")
	os.WriteFile(q, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	res = analyzeTable(t, q, decisionConfig(), Context{})
	for _, h := range res.Heterogeneity {
		if h.Metric == "drop" && h.Population == results.PopulationAll && float64(h.PValue) > 0.001 {
			t.Errorf("drop with a reversed channel: %+v", h)
		}
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

package analysis

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/metrics"
	"github.com/signalab/signalab/results"
)

// unitRow is one unit of the generated experiment: integer values, so that
// sums are exact in any order and both paths must give the same bits.
type unitRow struct {
	variant, shop, channel string
	trig                   bool
	day                    int
	conv, convPre          int
	rev, revPre            int
	orders, ordersPre      int
}

func genUnits(seed uint64, n int) []unitRow {
	r := rand.New(rand.NewPCG(seed, 7))
	out := make([]unitRow, n)
	for i := range out {
		u := &out[i]
		u.variant = []string{"control", "treatment", "treatment2"}[r.IntN(3)]
		u.shop = fmt.Sprintf("shop%02d", r.IntN(40))
		u.channel = []string{"chat", "messenger"}[r.IntN(2)]
		u.trig = r.IntN(3) == 0
		u.day = r.IntN(6)
		u.ordersPre = r.IntN(3)
		u.revPre = u.ordersPre * (500 + r.IntN(5000))
		u.convPre = min(u.ordersPre, 1)
		u.orders = r.IntN(3)
		if u.trig && u.variant != "control" && r.IntN(4) == 0 {
			u.orders++
		}
		u.rev = u.orders * (500 + r.IntN(5000))
		u.conv = min(u.orders, 1)
	}
	return out
}

var day0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// writeUnitsCSV writes the per-unit table.
func writeUnitsCSV(t *testing.T, us []unitRow) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("variant,shop,channel,triggered,started_at,conv,conv_pre,rev,rev_pre,orders,orders_pre\n")
	for i, u := range us {
		at := day0.AddDate(0, 0, u.day).Add(time.Duration(i%1000) * time.Minute).Format(time.RFC3339)
		fmt.Fprintf(&b, "%s,%s,%s,%v,%s,%d,%d,%d,%d,%d,%d\n", u.variant, u.shop, u.channel, u.trig, at, u.conv, u.convPre, u.rev, u.revPre, u.orders, u.ordersPre)
	}
	p := filepath.Join(t.TempDir(), "units.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// writeSummaryCSV groups the units as a warehouse query would (GROUP BY
// variant, triggered, channel, day[, shop]) into the summary layout.
func writeSummaryCSV(t *testing.T, us []unitRow, clustered bool) string {
	t.Helper()
	type key struct {
		variant, channel, shop string
		trig                   bool
		day                    int
	}
	type sums [25]int64
	groups := map[key]*sums{}
	for _, u := range us {
		k := key{u.variant, u.channel, "", u.trig, u.day}
		if clustered {
			k.shop = u.shop
		}
		g := groups[k]
		if g == nil {
			g = &sums{}
			groups[k] = g
		}
		y, x, m, d, mu, dv := int64(u.conv), int64(u.convPre), int64(u.rev), int64(u.orders), int64(u.revPre), int64(u.ordersPre)
		for i, v := range []int64{1,
			y, y * y, x, x * x, x * y, // conv: sum, sum_sq, sum_x, sum_x2, sum_xy
			m, m * m, mu, mu * mu, mu * m, // rev (mean): the same
			m, m * m, d, d * d, m * d, mu, mu * mu, dv, dv * dv, m * mu, m * dv, d * mu, d * dv, mu * dv, // aov (ratio)
		} {
			g[i] += v
		}
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	var b strings.Builder
	b.WriteString("variant,channel,triggered,day,shop,n," +
		"conv_sum,conv_sum_sq,conv_sum_x,conv_sum_x2,conv_sum_xy," +
		"rev_sum,rev_sum_sq,rev_sum_x,rev_sum_x2,rev_sum_xy," +
		"aov_sum_m,aov_sum_m2,aov_sum_d,aov_sum_d2,aov_sum_md,aov_sum_u,aov_sum_u2,aov_sum_v,aov_sum_v2,aov_sum_mu,aov_sum_mv,aov_sum_du,aov_sum_dv,aov_sum_uv\n")
	for _, k := range keys {
		g := groups[k]
		fmt.Fprintf(&b, "%s,%s,%v,%s,%s", k.variant, k.channel, k.trig, day0.AddDate(0, 0, k.day).Format(time.DateOnly), k.shop)
		for _, v := range g {
			fmt.Fprintf(&b, ",%d", v)
		}
		b.WriteString("\n")
	}
	p := filepath.Join(t.TempDir(), "summary.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSummaryEqualsUnits: one generated experiment (three arms, CUPED on
// a proportion, a mean and a ratio, segments, a triggered population, a
// daily series) analysed from its per-unit table and from its summary by
// arm × triggered × channel × day gives identical results.json numbers, both
// per-row and with shops as clusters (then one summary row per shop and
// group).
func TestSummaryEqualsUnits(t *testing.T) {
	us := genUnits(11, 3000)
	for _, clustered := range []bool{false, true} {
		// The variants are declared, as a spec does (otherwise each path
		// lists them in the order its table first shows them).
		cfg := Config{Name: "summary-vs-units", VariantCol: "variant", Control: "control", Segments: []string{"channel"},
			Variants:     []results.Variant{{Name: "control", Weight: 1.0 / 3}, {Name: "treatment", Weight: 1.0 / 3}, {Name: "treatment2", Weight: 1.0 / 3}},
			TriggeredCol: "triggered", TimeCol: "started_at", Options: Options{CUPED: true, Sequential: true},
			Metrics: []Metric{
				{Name: "conv", Type: metrics.Proportion, Columns: []string{"conv"}, Covariates: []string{"conv_pre"}},
				{Name: "rev", Type: metrics.Mean, Columns: []string{"rev"}, Covariates: []string{"rev_pre"}},
				{Name: "aov", Type: metrics.Ratio, Columns: []string{"rev", "orders"}, Covariates: []string{"rev_pre", "orders_pre"}},
			}}
		if clustered {
			cfg.ClusterCol, cfg.Unit = "shop", "shop"
		}
		want, err := Analyze(cfg, tableFile2(t, writeUnitsCSV(t, us)), Context{})
		if err != nil {
			t.Fatal(err)
		}
		scfg := cfg
		scfg.TimeCol = "day"
		if !clustered {
			scfg.ClusterCol = ""
		}
		got, err := AnalyzeSummary(scfg, tableFile2(t, writeSummaryCSV(t, us, clustered)), Summary{}, Context{})
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Rows) < 30 || len(want.TimeSeries) == 0 || len(want.Dilution) == 0 {
			t.Fatalf("the experiment is too small to compare: %d rows, %d series, %d dilution", len(want.Rows), len(want.TimeSeries), len(want.Dilution))
		}
		for _, part := range []struct {
			name      string
			got, want any
		}{
			{"rows", got.Rows, want.Rows}, {"dilution", got.Dilution, want.Dilution}, {"time_series", got.TimeSeries, want.TimeSeries},
			{"health", got.Health, want.Health}, {"gates", got.Gates, want.Gates}, {"experiment", got.Experiment, want.Experiment},
		} {
			a, _ := json.Marshal(part.got)
			b, _ := json.Marshal(part.want)
			if !bytes.Equal(a, b) {
				t.Errorf("clustered %v: %s differ:\nsummary  %.600s\nper unit %.600s", clustered, part.name, a, b)
			}
		}
	}
}

func tableFile2(t *testing.T, path string) Table {
	t.Helper()
	tbl, err := OpenTable(path)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// TestSummaryValidation: summary rows that cannot be sufficient statistics
// are errors naming the row and column.
func TestSummaryValidation(t *testing.T) {
	mean := []Metric{{Name: "rev", Type: metrics.Mean, Columns: []string{"rev_sum"}}}
	prop := []Metric{{Name: "conv", Type: metrics.Proportion, Columns: []string{"conv_sum"}}}
	for _, c := range []struct {
		name string
		csv  string
		ms   []Metric
		want string
	}{
		{"no count", "variant,rev_sum,rev_sum_sq\ncontrol,10,100\ntreatment,5,25\n", mean, "no column n (or count, units)"},
		{"no statistics", "variant,n,rev_total\ncontrol,2,10\ntreatment,2,5\n", mean, "metric rev (mean): the table has no rev_sum and rev_sum_sq, or rev_mean and rev_variance"},
		{"fractional count", "variant,n,rev_sum,rev_sum_sq\ncontrol,2.5,10,100\ntreatment,2,5,25\n", mean, "row 1: column n: \"2.5\" is not a count of units"},
		{"negative variance", "variant,n,rev_sum,rev_sum_sq\ncontrol,2,10,20\ntreatment,2,5,25\n", mean, "row 1: column rev_sum_sq: 20 is below (Σ)²/n = 50"},
		{"proportion above n", "variant,n,conv_sum\ncontrol,2,3\ntreatment,2,1\n", prop, "row 1: metric conv: Σy = 3 is outside [0, n = 2]"},
		{"proportion sum_sq", "variant,n,conv_sum,conv_sum_sq\ncontrol,2,1,2\ntreatment,2,1,1\n", prop, "a proportion's values are 0 or 1, so Σy² = Σy"},
		{"not a number", "variant,n,rev_sum,rev_sum_sq\ncontrol,2,x,100\ntreatment,2,5,25\n", mean, "row 1: column rev_sum: \"x\" is not a number"},
		{"duplicate group", "variant,n,rev_sum,rev_sum_sq\ncontrol,2,10,60\ntreatment,2,5,25\ncontrol,1,1,1\n", mean, "rows 1 and 3 are the same group (variant control)"},
		{"quantile", "variant,n,rev_sum\ncontrol,2,1\ntreatment,2,1\n", []Metric{{Name: "q", Type: metrics.Quantile, Q: 0.5, Columns: []string{"q"}}}, "a quantile has no sufficient statistics"},
	} {
		cfg := Config{VariantCol: "variant", Metrics: c.ms}
		_, err := AnalyzeSummary(cfg, tableFile(t, c.csv), Summary{}, Context{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	// Mean and variance instead of sums: the same result as the sums.
	a, err := AnalyzeSummary(Config{VariantCol: "variant", Metrics: mean},
		tableFile(t, "variant,n,rev_sum,rev_sum_sq\ncontrol,4,10,40\ntreatment,5,20,100\n"), Summary{}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	// control: mean 2.5, variance (40 − 4·6.25)/3 = 5; treatment: mean 4, variance (100 − 80)/4 = 5.
	b, err := AnalyzeSummary(Config{VariantCol: "variant", Metrics: mean},
		tableFile(t, "variant,n,rev_mean,rev_variance\ncontrol,4,2.5,5\ntreatment,5,4,5\n"), Summary{}, Context{})
	if err != nil {
		t.Fatal(err)
	}
	if ra, rb := a.Rows[0], b.Rows[0]; ra.Absolute != rb.Absolute || ra.PValue != rb.PValue {
		t.Errorf("sums %+v p %v; mean/variance %+v p %v", ra.Absolute, ra.PValue, rb.Absolute, rb.PValue)
	}
}

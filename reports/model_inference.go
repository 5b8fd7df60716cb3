package reports

// How the p-values and intervals were obtained (the tests of the rows, and
// what they assume independent), and the A/A study's section.

import (
	"fmt"
	"sort"
	"strings"

	"github.com/signalab/signalab/results"
	"github.com/signalab/signalab/stats"
)

// testsSentence describes the tests behind the rows' p-values and
// intervals, one clause per test used (rows with an estimate).
func testsSentence(res *results.Results) string {
	count := map[string]int{}
	for _, row := range res.Rows {
		if row.Reason == "" && row.Inference != "" {
			count[row.Inference]++
		}
	}
	names := make([]string, 0, len(count))
	for n := range count {
		names = append(names, n)
	}
	sort.Strings(names)
	ex := res.Experiment
	var parts []string
	for _, n := range names {
		var what string
		switch n {
		case "randomization":
			how := "the experiment's own assignment redrawn with new salts"
			if ex.Redraw == "permutation" {
				how = "the arms permuted among the randomization units"
			}
			what = fmt.Sprintf("randomization test (%s redraws: %s; exact whatever the unit sizes; intervals by test inversion)",
				Count(int64(ex.RandomizationDraws)), how)
		case "cr2":
			what = "CR2 cluster-robust t test (Bell–McCaffrey variance, Imbens–Kolesár degrees of freedom; Fieller relative interval)"
		case "delta":
			what = "delta method with Welch degrees of freedom on per-unit sums (anti-conservative with few, unequal units)"
		case "welch":
			what = "Welch t test"
		case "z":
			what = "z test"
		default:
			what = n
		}
		parts = append(parts, fmt.Sprintf("%s for %d row%s", what, count[n], plural2(count[n])))
	}
	if len(parts) == 0 {
		return ""
	}
	out := "P-values and intervals: " + strings.Join(parts, "; ") + "."
	if ex.Inference == stats.InferenceAuto && (count["randomization"] > 0 || count["cr2"] > 0) {
		out += fmt.Sprintf(" Inference auto: the randomization test below %d randomization units per arm or when one unit holds %.0f%% of an arm, CR2 above (docs/statistics.md).",
			stats.AutoRandomizationClusters, 100*stats.AutoRandomizationShare)
	}
	return out
}

func plural2(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// aaView is the A/A study section.
type aaView struct {
	Summary string
	Passed  bool
	Rows    []aaRow
	Notes   []string
}

type aaRow struct {
	Metric, Variant, Population string
	Test                        string
	Rejected                    string
	Rate, CI, Band              string
	KS                          string
	Histogram                   string
	Passed                      bool
}

// buildAA turns aa.json into its section; nil when the study was not run.
func buildAA(a *results.AA) *aaView {
	if a == nil {
		return nil
	}
	v := &aaView{Passed: a.Passed, Notes: a.Notes}
	verdict := "every rejection rate is inside its band: the analysis keeps its false-positive rate on this data"
	if !a.Passed {
		verdict = "at least one rejection rate is outside its band: the analysis is not calibrated on this data"
	}
	v.Summary = fmt.Sprintf("The assignment of the %s %ss was redrawn %s times with new salts (no effect planted) and every metric tested as the analysis does (inference %s); at α = %s a sound test rejects about %s of them. Bands hold a sound analysis's rate with probability %s each (all together: 95%%). Verdict: %s.",
		Count(int64(a.Units)), strings.TrimSuffix(a.Unit, "_id"), Count(int64(a.Redraws)), a.Inference, Alpha(a.Alpha), Percent(a.Alpha), Percent(a.BandLevel), verdict)
	for _, c := range a.Checks {
		methods := make([]string, 0, len(c.Inference))
		for m := range c.Inference {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		hist := make([]string, len(c.Histogram))
		for i, h := range c.Histogram {
			hist[i] = fmt.Sprint(h)
		}
		v.Rows = append(v.Rows, aaRow{Metric: DisplayName(c.Metric), Variant: c.Variant, Population: c.Population,
			Test: strings.Join(methods, ", "), Rejected: fmt.Sprintf("%d of %d", c.Rejections, c.Tested),
			Rate: Percent(c.Rate), CI: PercentRange(c.RateCI[0], c.RateCI[1]), Band: PercentRange(c.Band[0], c.Band[1]),
			KS: PValue(c.KSPValue), Histogram: strings.Join(hist, " "), Passed: c.Passed})
	}
	return v
}

// PercentRange formats a range of proportions: "3.1% to 10.2%".
func PercentRange(lo, hi float64) string { return Percent(lo) + " to " + Percent(hi) }

// clusterTests names the cluster inference of the rows for the method line
// ("" when every row was randomized one by one): "randomization test
// (auto, clustered by shop_id)".
func clusterTests(res *results.Results) string {
	seen := map[string]bool{}
	for _, row := range res.Rows {
		switch row.Inference {
		case "randomization", "cr2", "delta":
			seen[row.Inference] = true
		}
	}
	if len(seen) == 0 {
		return ""
	}
	var names []string
	for _, n := range []string{"randomization", "cr2", "delta"} {
		if !seen[n] {
			continue
		}
		switch n {
		case "randomization":
			names = append(names, "randomization test")
		case "cr2":
			names = append(names, "CR2 t test")
		default:
			names = append(names, "delta-method Welch test")
		}
	}
	return fmt.Sprintf("%s (inference %s, randomized by %s)", strings.Join(names, " and "), res.Experiment.Inference, res.Experiment.Unit)
}

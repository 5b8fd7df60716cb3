package reports

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/signalab/signalab/results"
)

// findChromium returns the path of a Chromium binary. Without one the test
// skips locally and fails in CI (CI=true), where .ci/run installs Debian's
// chromium package.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH; CI must install it (apt-get install chromium)")
	}
	t.Skip("no chromium on PATH; install it (apt-get install chromium) to run the browser test")
	return ""
}

// pageValue is one element of the report that carries a number in a data-
// attribute, as the page's own script-free markup exposes it.
type pageValue struct {
	Field      string `json:"field"`
	Value      string `json:"value"`
	Text       string `json:"text"`
	Row        string `json:"row"`
	Metric     string `json:"metric"`
	Variant    string `json:"variant"`
	Population string `json:"population"`
	Arm        string `json:"arm"`
	Name       string `json:"name"`
}

const collectJS = `Array.from(document.querySelectorAll('[data-field]')).map(e => {
  const row = e.closest('[data-row]'), head = e.closest('[data-key="headline"]');
  return {field: e.dataset.field, value: e.dataset.value || "", text: e.textContent.trim(),
    row: row ? row.dataset.row : "", metric: head ? head.dataset.metric : "",
    variant: head ? head.dataset.variant : "", population: head ? head.dataset.population : "",
    arm: e.dataset.arm || "", name: e.dataset.name || ""};
})`

// browserPage is what a headless Chromium saw when it opened a page.
type browserPage struct {
	Values     []pageValue
	Problems   []string // console errors, exceptions, failed resources, network requests
	Screenshot string   // path of the full-page PNG
	PDF        []byte   // the page printed with its print CSS
}

// openInBrowser opens the HTML file at page in headless Chromium with the
// flags of the issue and a fresh profile, records every console error,
// uncaught exception, failed resource, browser log error and network request
// other than the page itself, reads the data- values, prints the page to PDF
// and saves a full-page screenshot next to the page.
func openInBrowser(t *testing.T, chromium, page string) browserPage {
	t.Helper()
	tmp := filepath.Dir(page)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(filepath.Join(tmp, "profile")),
		chromedp.WindowSize(1280, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	var mu sync.Mutex
	var out browserPage
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		out.Problems = append(out.Problems, fmt.Sprintf(format, args...))
	}
	pageURL := "file://" + page
	if err := chromedp.Listen(bctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				report("console.%s: %v", ev.Type, args)
			}
		case *runtime.EventExceptionThrown:
			report("uncaught exception: %s", ev.ExceptionDetails.Text)
		case *network.EventLoadingFailed:
			report("failed resource (%s): %s %s", ev.Type, ev.ErrorText, ev.BlockedReason)
		case *network.EventRequestWillBeSent:
			if u := ev.Request.URL; u != pageURL && !strings.HasPrefix(u, "data:") {
				report("network request at view time: %s", u)
			}
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				report("browser log error (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL)
			}
		}
	}); err != nil {
		t.Fatalf("start chromium %s: %v", chromium, err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s: %v", page, err)
	}
	values, err := chromedp.Run(bctx, chromedp.Evaluate[[]pageValue](collectJS))
	if err != nil {
		t.Fatalf("read page values: %v", err)
	}
	shot, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	pdf, err := chromedp.Run(bctx, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if err != nil {
		t.Fatalf("print to PDF: %v", err)
	}
	png := strings.TrimSuffix(page, filepath.Ext(page)) + ".png"
	if err := os.WriteFile(png, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	out.Values, out.Screenshot, out.PDF = values, png, pdf
	return out
}

// TestBrowserReport opens the report of the fixture run folder in headless
// Chromium, fails on any console error, uncaught exception, failed resource
// or network request, checks that the numbers the page shows equal those in
// results.json, and saves a full-page screenshot under the test's temporary
// folder (copied to $SIGNALAB_SCREENSHOT_DIR when set).
func TestBrowserReport(t *testing.T) {
	chromium := findChromium(t)
	for _, name := range goldenCases {
		t.Run(name, func(t *testing.T) {
			r, err := Load(filepath.Join("testdata", name), "")
			if err != nil {
				t.Fatal(err)
			}
			var html bytes.Buffer
			if err := RenderHTML(&html, r); err != nil {
				t.Fatal(err)
			}
			page := filepath.Join(t.TempDir(), "report.html")
			if err := os.WriteFile(page, html.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			got := openInBrowser(t, chromium, page)
			t.Logf("screenshot: %s", got.Screenshot)
			if d := os.Getenv("SIGNALAB_SCREENSHOT_DIR"); d != "" {
				shot, _ := os.ReadFile(got.Screenshot)
				dst := filepath.Join(d, name+".png")
				if err := os.WriteFile(dst, shot, 0o644); err == nil {
					t.Logf("screenshot copied to %s", dst)
				}
				_ = os.WriteFile(filepath.Join(d, name+".pdf"), got.PDF, 0o644)
			}
			for _, p := range got.Problems {
				t.Errorf("browser: %s", p)
			}
			if !bytes.HasPrefix(got.PDF, []byte("%PDF-")) {
				t.Error("printing the page did not give a PDF")
			}
			checkPageValues(t, r.Results, got.Values)
		})
	}
}

// TestBrowserCatchesProblems shows that the browser test can fail: a page
// with a console error, an exception and a missing image must be reported.
func TestBrowserCatchesProblems(t *testing.T) {
	chromium := findChromium(t)
	page := filepath.Join(t.TempDir(), "bad.html")
	bad := `<!DOCTYPE html><html><head><title>bad</title></head><body>
<img src="missing.png" alt="">
<script>console.error("boom"); throw new Error("thrown");</script></body></html>`
	if err := os.WriteFile(page, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	got := openInBrowser(t, chromium, page)
	joined := strings.Join(got.Problems, "\n")
	for _, want := range []string{"console.error", "uncaught exception", "missing.png"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems %q lack %q", joined, want)
		}
	}
}

// checkPageValues compares every number the page exposes with results.json:
// the data-value must be the exact float64 and the visible text its
// formatted form.
func checkPageValues(t *testing.T, res *results.Results, values []pageValue) {
	t.Helper()
	rows := map[string]*results.Row{}
	for i := range res.Rows {
		rows[rowID(&res.Rows[i])] = &res.Rows[i]
	}
	seenRows := map[string]int{}
	headlines, dilutions, verdicts, guardrails := 0, 0, 0, 0
	check := func(where string, v pageValue, want results.Num, format func(float64) string) {
		t.Helper()
		if !want.Valid() {
			if v.Value != "" {
				t.Errorf("%s: data-value %q, want none (null in results.json)", where, v.Value)
			}
			if v.Text != notAvailable {
				t.Errorf("%s: text %q, want %q", where, v.Text, notAvailable)
			}
			return
		}
		got, err := strconv.ParseFloat(v.Value, 64)
		if err != nil || got != float64(want) {
			t.Errorf("%s: data-value %q, want %v", where, v.Value, float64(want))
		}
		if w := format(float64(want)); v.Text != w {
			t.Errorf("%s: text %q, want %q", where, v.Text, w)
		}
	}
	for _, v := range values {
		switch {
		case v.Metric != "":
			row := findRow(res, v.Metric, v.Variant, results.SegmentAll, "", v.Population)
			if row == nil {
				t.Errorf("headline %s/%s/%s: no such row in results.json", v.Metric, v.Variant, v.Population)
				continue
			}
			where := "headline " + rowID(row) + " " + v.Field
			switch v.Field {
			case "relative":
				headlines++
				check(where, v, row.Relative.Estimate, SignedPercent)
			case "ci-lower", "ci-upper":
				// The headline's interval is the one that agrees with the
				// verdict: the adjusted interval.
				want := row.Relative.CILower
				if row.Adjusted != nil {
					want = row.Adjusted.Relative.CILower
				}
				if v.Field == "ci-upper" {
					want = row.Relative.CIUpper
					if row.Adjusted != nil {
						want = row.Adjusted.Relative.CIUpper
					}
				}
				checkBound(t, where, v, want, v.Field == "ci-lower")
			case "p-value":
				check(where, v, row.PValue, PValue)
			}
		case v.Row != "":
			row, ok := rows[v.Row]
			if !ok {
				t.Errorf("page row %q is not in results.json", v.Row)
				continue
			}
			where := "row " + v.Row + " " + v.Field
			switch v.Field {
			case "relative":
				seenRows[v.Row]++
				check(where, v, row.Relative.Estimate, SignedPercent)
			case "p-value":
				check(where, v, row.PValue, PValue)
			case "p-adjusted":
				check(where, v, row.PValueAdjusted, PValue)
			case "rlo":
				checkBound(t, where, v, row.Relative.CILower, true)
			case "rhi":
				checkBound(t, where, v, row.Relative.CIUpper, false)
			case "alo", "ahi":
				if row.Adjusted == nil {
					t.Errorf("%s: shown, but results.json has no adjusted interval", where)
					continue
				}
				want, lower := row.Adjusted.Relative.CIUpper, false
				if v.Field == "alo" {
					want, lower = row.Adjusted.Relative.CILower, true
				}
				checkBound(t, where, v, want, lower)
			case "sig":
				if v.Value != strconv.FormatBool(row.Significant) {
					t.Errorf("%s: data-value %q, want %v", where, v.Value, row.Significant)
				}
			}
		case v.Field == "arm-units":
			found := false
			for _, a := range res.Health.Arms {
				if a.Name == v.Arm {
					found = true
					check("arm "+a.Name+" units", v, results.Num(a.Units), func(x float64) string { return Count(int64(x)) })
				}
			}
			if !found {
				t.Errorf("arm %q shown but not in results.json", v.Arm)
			}
		case v.Field == "dilution-triggered" || v.Field == "dilution-implied":
			dilutions++
			var d *results.Dilution
			for i := range res.Dilution {
				if DisplayName(res.Dilution[i].Metric) == v.Name && (v.Variant == "" || v.Variant == res.Dilution[i].Variant) {
					d = &res.Dilution[i]
				}
			}
			if d == nil {
				t.Errorf("dilution row %q shown but not in results.json", v.Name)
				continue
			}
			want := d.TriggeredRelative
			if v.Field == "dilution-implied" {
				want = d.ImpliedAllRelative
			}
			check("dilution "+d.Metric+" "+v.Field, v, want, SignedPercent)
		case v.Field == "verdict-decision":
			verdicts++
			if v.Value != res.Verdict.Decision || !strings.Contains(v.Text, verdictText(res.Verdict.Decision)) {
				t.Errorf("verdict: data-value %q text %q, results.json %q", v.Value, v.Text, res.Verdict.Decision)
			}
		case v.Field == "guardrail-outcome":
			guardrails++
		case v.Field == "srm-p":
			check("SRM p-value", v, res.Health.SRM.PValue, PValue)
		case v.Field == "quality":
			q := res.Health.Replay
			want := map[string]int64{"Accepted": q.Accepted, "Duplicates": q.Duplicates, "Stale": q.Stale,
				"Late": q.Late, "Quarantined": q.Quarantined}[v.Name]
			check("replay "+v.Name, v, results.Num(want), func(x float64) string { return Count(int64(x)) })
		}
	}
	if verdicts != 1 {
		t.Errorf("page shows the verdict %d times, want once", verdicts)
	}
	if guardrails != len(res.Guardrails) {
		t.Errorf("page shows %d guardrail outcomes, want %d", guardrails, len(res.Guardrails))
	}
	if dilutions != 2*len(res.Dilution) {
		t.Errorf("page shows %d dilution values, want %d", dilutions, 2*len(res.Dilution))
	}
	want := 0
	for _, v := range treatments(res.Experiment) {
		if main, _ := headlinePopulation(res, res.Experiment.Primary, v); main != nil && main.Reason == "" && main.Relative.Estimate.Valid() {
			want++
		}
	}
	if headlines != want {
		t.Errorf("page shows %d headline lifts, want %d (one per treatment with an estimate)", headlines, want)
	}
	for id, row := range rows {
		n := seenRows[id]
		if row.Reason != "" {
			continue // shown as words, without a number
		}
		if n != 1 {
			t.Errorf("row %s shown %d times, want once", id, n)
		}
	}
}

// checkBound compares an interval end shown on the page with results.json,
// where null is an infinite end: the page then shows ∓∞ without a
// data-value.
func checkBound(t *testing.T, where string, v pageValue, want results.Num, lower bool) {
	t.Helper()
	if !want.Valid() {
		inf := "+∞"
		if lower {
			inf = "\u2212∞"
		}
		if v.Value != "" || v.Text != inf {
			t.Errorf("%s: data-value %q text %q, want an infinite end %q", where, v.Value, v.Text, inf)
		}
		return
	}
	got, err := strconv.ParseFloat(v.Value, 64)
	if err != nil || got != float64(want) || v.Text != SignedPercent(float64(want)) {
		t.Errorf("%s: data-value %q text %q, want %v (%s)", where, v.Value, v.Text, float64(want), SignedPercent(float64(want)))
	}
}

package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/signalab/signalab/results"
)

func renderHTMLOf(t *testing.T, dir string) string {
	t.Helper()
	r, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// externalRef matches an attribute or CSS reference that would make the
// browser fetch something: src/href other than a data: URI or a fragment,
// and url(...) or @import in CSS.
var externalRef = regexp.MustCompile(`(?i)(\b(src|href)\s*=\s*"(?:[^"#d]|d[^a])|url\(|@import)`)

func TestHTMLSelfContained(t *testing.T) {
	for _, name := range goldenCases {
		t.Run(name, func(t *testing.T) {
			html := renderHTMLOf(t, filepath.Join("testdata", name))
			if m := externalRef.FindString(html); m != "" {
				t.Errorf("page references an external resource: %q", m)
			}
			if strings.Contains(strings.ToLower(html), "<script") {
				t.Error("page has a script; the report needs none")
			}
			for _, bad := range []string{"NaN", "+Inf", "-Inf", "%!", "<no value>"} {
				if i := strings.Index(html, bad); i >= 0 {
					t.Errorf("page contains %q near %q", bad, html[max(0, i-80):min(len(html), i+40)])
				}
			}
			if !strings.HasPrefix(html, "<!DOCTYPE html>") || !strings.HasSuffix(strings.TrimSpace(html), "</html>") {
				t.Error("page is not one complete HTML document")
			}
		})
	}
}

// TestHTMLSectionsInOrder checks that the page shows its sections in the
// order the issue asks for.
func TestHTMLSectionsInOrder(t *testing.T) {
	html := renderHTMLOf(t, filepath.Join("testdata", "run"))
	last := -1
	for _, id := range []string{"decision", "health", "metrics", "forest", "timeline", "dilution", "segments", "signals", "spec"} {
		i := strings.Index(html, `<section id="`+id+`"`)
		if i < 0 {
			t.Errorf("section %s missing", id)
			continue
		}
		if i < last {
			t.Errorf("section %s out of order", id)
		}
		last = i
	}
	for _, want := range []string{`<svg class="chart"`, "Conversion rose", "Holm", "By Channel", "buyer context", "inbox-signals-v1"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(html, `<svg class="chart"`); n < 4 {
		t.Errorf("page has %d charts, want the forest plot, two timelines and a histogram", n)
	}
}

// TestHTMLDegenerateInWords checks that undefined results read as words.
func TestHTMLDegenerateInWords(t *testing.T) {
	html := renderHTMLOf(t, filepath.Join("testdata", "degenerate"))
	for _, want := range []string{"could not be estimated: treatment arm is empty", "No estimate: no triggered conversations",
		"Mismatch", "Gates failed", "treatment arm has no units", "Too few days with a defined estimate",
		"No metric has a defined relative change to plot"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// TestHTMLEscapes checks that text from results.json passes through
// html/template escaping (a metric or segment name cannot inject markup).
func TestHTMLEscapes(t *testing.T) {
	r, err := Load(filepath.Join("testdata", "run"), "")
	if err != nil {
		t.Fatal(err)
	}
	r.Results.Experiment.Name = `<img src=x onerror=alert(1)>`
	r.Results.Warnings = []string{`<script>alert(1)</script>`}
	var buf bytes.Buffer
	if err := RenderHTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "<img src=x") || strings.Contains(buf.String(), "<script>alert") {
		t.Error("text from results.json reached the page unescaped")
	}
}

func TestRenderJSONIsResultsSchema(t *testing.T) {
	dir := filepath.Join("testdata", "run")
	r, err := Load(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Render(&buf, r, JSON); err != nil {
		t.Fatal(err)
	}
	want, err := results.Marshal(r.Results)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Error("JSON report differs from results.Marshal of the loaded results")
	}
	var back results.Results
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatalf("JSON report does not decode as results.Results: %v", err)
	}
	if back.SchemaVersion != results.SchemaVersion || len(back.Rows) != len(r.Results.Rows) {
		t.Errorf("round trip: schema %q, %d rows; want %q, %d", back.SchemaVersion, len(back.Rows),
			results.SchemaVersion, len(r.Results.Rows))
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	if _, err := Load(empty, ""); err == nil || !strings.Contains(err.Error(), "results.json") ||
		!strings.Contains(err.Error(), "signalab analyze") {
		t.Errorf("missing results.json: got %v, want an error naming the file and what to run", err)
	}
	bad := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "run", ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, ResultsFile), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bad, ReplayFile), []byte("{truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad, ""); err == nil || !strings.Contains(err.Error(), ReplayFile) {
		t.Errorf("broken replay.json: got %v, want an error naming it", err)
	}
	if _, err := Load(filepath.Join("testdata", "run"), filepath.Join(empty, "nope.yaml")); err == nil ||
		!strings.Contains(err.Error(), "nope.yaml") {
		t.Errorf("missing --experiment file: got %v, want an error naming it", err)
	}
}

func TestFormatSelection(t *testing.T) {
	for in, want := range map[string]Format{"a/report.html": HTML, "r.MD": Markdown, "x.json": JSON, "-": HTML, "r": HTML} {
		if got := FormatFromPath(in); got != want {
			t.Errorf("FormatFromPath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]Format{"html": HTML, "markdown": Markdown, "md": Markdown, "JSON": JSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("ParseFormat(pdf) succeeded")
	}
}

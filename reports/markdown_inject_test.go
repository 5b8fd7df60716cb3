package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"

	"github.com/signalab/signalab/results"
)

// hostileNames are names a spec or a data file could carry that try to add
// Markdown or HTML elements to the report: headings, links, images, raw
// HTML, tables, code, emphasis, autolinks, and a trailing backslash that
// would escape the cell's closing pipe.
var hostileNames = []string{
	"a\n# Injected heading",
	"b\r\n\r\n## Heading after a blank line",
	"c\n===",
	"d](javascript:alert(1))",
	"[click](javascript:alert(1))",
	"![img](http://evil.example/x.png)",
	"<script>alert(1)</script>",
	"<img src=x onerror=alert(1)>",
	"<details><summary>open",
	"<!-- comment",
	"e\n| fake | table |\n|---|---|\n| x | y |",
	"f | g",
	"trailing\\",
	"`code` and ``more``",
	"**bold** _em_ ~~strike~~",
	"&lt;script&gt; &amp; &#60;",
	"http://evil.example/path",
	"www.evil.example",
	"mail@evil.example",
	"<http://evil.example>",
	"# heading start",
	"- list start",
	"1. ordered start",
	"> quote start",
	"    indented",
	"$x^2$ and [^1]",
	"h\u2028i\u2029j\tk",
}

// TestMarkdownInjection renders the committed run report with every name
// that comes from data or the spec (experiment, variants, metrics, a
// warning) replaced, once by harmless placeholders and once by each hostile
// name, parses both with a CommonMark + GFM renderer (goldmark: tables,
// strikethrough, linkify, task lists) and requires the same element tree:
// a name can change text, never add a heading, link, image, HTML, table row
// or emphasis (issue 16, class 13).
func TestMarkdownInjection(t *testing.T) {
	base, err := Load(filepath.Join("testdata", "run"), "")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := results.Marshal(base.Results)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"inbox-buyer-signals-demo", "treatment", "control", "conversion", "revenue"}
	render := func(sub func(i int) string) string {
		s := string(raw)
		for i, n := range names {
			s = strings.ReplaceAll(s, jsonString(n), jsonString(sub(i)))
		}
		var res results.Results
		if err := json.Unmarshal([]byte(s), &res); err != nil {
			t.Fatal(err)
		}
		res.Warnings = append(res.Warnings, sub(0))
		r := *base
		r.Results = &res
		var buf bytes.Buffer
		if err := RenderMarkdown(&buf, &r); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	placeholder := func(i int) string { return fmt.Sprintf("name%c", 'a'+i) }
	want := elementTree(render(placeholder))
	for _, h := range hostileNames {
		for slot := range names {
			md := render(func(i int) string {
				if i == slot {
					return h
				}
				return placeholder(i)
			})
			if got := elementTree(md); got != want {
				t.Errorf("name %q as %s changes the element tree:\n%s\nMarkdown:\n%s", h, names[slot], treeDiff(want, got), md)
				break
			}
		}
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// elementTree is the goldmark AST of md as one line per element (kind and
// depth; text content left out, adjacent text nodes merged, since escapes
// split text differently).
func elementTree(md string) string {
	p := goldmark.New(goldmark.WithExtensions(extension.GFM)).Parser()
	doc := p.Parse(text.NewReader([]byte(md)))
	var b strings.Builder
	depth := 0
	lastText := false
	ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			depth--
			return ast.WalkContinue, nil
		}
		depth++
		k := n.Kind().String()
		isText := k == "Text" || k == "String"
		if isText && lastText {
			return ast.WalkContinue, nil
		}
		lastText = isText
		fmt.Fprintf(&b, "%s%s\n", strings.Repeat(" ", depth), k)
		return ast.WalkContinue, nil
	})
	return b.String()
}

func treeDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			lo := max(0, i-3)
			return fmt.Sprintf("first difference at element %d:\n  want %q\n  got  %q", i, w[lo:min(len(w), i+3)], g[lo:min(len(g), i+3)])
		}
	}
	return fmt.Sprintf("want %d elements, got %d", len(w), len(g))
}

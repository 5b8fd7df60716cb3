package reports

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/template"
)

// mdTemplate is the Markdown pull-request comment, parsed once.
var mdTemplate = template.Must(template.New("report.md.tmpl").Funcs(template.FuncMap{
	"cell":  markdownCell,
	"lower": strings.ToLower,
}).ParseFS(assets, "assets/report.md.tmpl"))

// markdownCell makes s safe inside a Markdown table cell: pipes escaped,
// line breaks turned into spaces.
func markdownCell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.Join(strings.Fields(s), " ")
}

// RenderMarkdown writes the report as GitHub-flavoured Markdown for a
// pull-request comment: the decision, the metric tables and the health
// checks. It renders into a buffer first, so w receives all or nothing.
func RenderMarkdown(w io.Writer, r *Report) error {
	p, err := buildPage(r, false)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := mdTemplate.ExecuteTemplate(&buf, "report", p); err != nil {
		return fmt.Errorf("render Markdown report: %w", err)
	}
	_, err = buf.WriteTo(w)
	return err
}

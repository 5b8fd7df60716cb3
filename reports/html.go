package reports

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
)

//go:embed assets/report.html.tmpl assets/report.css assets/report.md.tmpl
var assets embed.FS

// htmlTemplate is parsed once, at package initialisation; a broken template
// is a build defect caught by every test of this package.
var htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"tableArgs": func(p *page, rows []metricRow, segmented bool) tableArgs {
		return tableArgs{Page: p, Rows: rows, Segmented: segmented}
	},
}).ParseFS(assets, "assets/report.html.tmpl"))

var reportCSS = func() template.CSS {
	b, err := assets.ReadFile("assets/report.css")
	if err != nil {
		panic(err) // embedded at build time
	}
	return template.CSS(b)
}()

// tableArgs passes a metric table's rows and the page to the shared
// "metric-table" template.
type tableArgs struct {
	Page      *page
	Rows      []metricRow
	Segmented bool
}

// RenderHTML writes the report as one self-contained HTML page: CSS and SVG
// charts inline, no scripts, no network access at view time. It renders into
// a buffer first, so w receives either the whole page or nothing.
func RenderHTML(w io.Writer, r *Report) error {
	p, err := buildPage(r, true)
	if err != nil {
		return err
	}
	p.CSS = reportCSS
	var buf bytes.Buffer
	if err := htmlTemplate.ExecuteTemplate(&buf, "report", p); err != nil {
		return fmt.Errorf("render HTML report: %w", err)
	}
	_, err = buf.WriteTo(w)
	return err
}

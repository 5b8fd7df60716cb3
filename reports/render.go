package reports

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/signalab/signalab/results"
)

// Format is an output format of a report.
type Format string

// Formats.
const (
	HTML     Format = "html"
	Markdown Format = "md"
	JSON     Format = "json"
)

// ParseFormat reads a --format value: html, md (or markdown) or json.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "html", "htm":
		return HTML, nil
	case "md", "markdown":
		return Markdown, nil
	case "json":
		return JSON, nil
	}
	return "", fmt.Errorf("unknown report format %q (want html, md or json)", s)
}

// FormatFromPath guesses the format from an output file's extension: .md
// and .markdown are Markdown, .json is JSON, anything else HTML.
func FormatFromPath(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".md", ".markdown":
		return Markdown
	case ".json":
		return JSON
	}
	return HTML
}

// KnownExtension reports whether ext (with its dot, any case) is one that
// FormatFromPath recognises: .html, .htm, .md, .markdown or .json.
func KnownExtension(ext string) bool {
	switch strings.ToLower(ext) {
	case ".html", ".htm", ".md", ".markdown", ".json":
		return true
	}
	return false
}

// Render writes r in format f.
func Render(w io.Writer, r *Report, f Format) error {
	switch f {
	case HTML:
		return RenderHTML(w, r)
	case Markdown:
		return RenderMarkdown(w, r)
	case JSON:
		return RenderJSON(w, r)
	}
	return fmt.Errorf("unknown report format %q (want html, md or json)", f)
}

// RenderJSON writes the results in the results.json schema (results.Marshal):
// the machine-readable form of the same report.
func RenderJSON(w io.Writer, r *Report) error {
	b, err := results.Marshal(r.Results)
	if err != nil {
		return fmt.Errorf("render JSON report: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// Package reports turns the JSON summaries of a signalab run folder
// (results.json, replay.json, assign.json, manifest.json and the experiment
// spec) into reports people read: one self-contained HTML page, a Markdown
// pull-request comment, and the results JSON for machines.
//
// All three formats render from the same in-memory Report (see Load). The
// HTML page and the Markdown are html/template and text/template files under
// assets/, embedded with go:embed and parsed once; charts are SVG drawn with
// gonum.org/v1/plot and inlined. Reports read only JSON summaries, never
// Parquet, so rendering time and page size do not grow with the event count.
package reports

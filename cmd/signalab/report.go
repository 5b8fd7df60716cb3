package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/internal/outdir"
	"github.com/signalab/signalab/reports"
)

func init() { register(newReportCmd) }

type reportOptions struct {
	In         string
	Out        string
	Format     string
	Experiment string
}

func newReportCmd() *cobra.Command {
	opts := &reportOptions{}
	c := &cobra.Command{
		Use:   "report --in DIR --out FILE [--format html|md|json]",
		Short: "Write an HTML, Markdown or JSON report of a run folder",
		Long: `Report reads the JSON summaries of a run folder (results.json, and
replay.json, assign.json, manifest.json and experiment.yaml when present)
and writes one report:

  html  one self-contained page (CSS and SVG charts inline, no network)
  md    a Markdown pull-request comment: decision, metric table, health
  json  the results in the results.json schema

The format defaults to the extension of --out (.md, .json, else html).
--out - writes to standard output. Reports never read Parquet, so they
render in well under a second whatever the size of the run.`,
		Example: `  signalab report --in out/ --out out/report.html
  signalab report --in out/ --out - --format md | gh pr comment 12 --body-file -`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return reportRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.In, "in", "", "run folder holding results.json (required)")
	f.StringVar(&opts.Out, "out", "", "report file to write, or - for standard output (required)")
	f.StringVar(&opts.Format, "format", "", "html, md or json (default: from the --out extension)")
	f.StringVar(&opts.Experiment, "experiment", "", "experiment spec to show (default: experiment.yaml in --in)")
	return c
}

func reportRun(opts *reportOptions, stdout, stderr io.Writer) error {
	if opts.In == "" {
		return exitcode.Usagef("signalab report --in out/ --out out/report.html", "--in is required: the run folder holding results.json")
	}
	if opts.Out == "" {
		return exitcode.Usagef("signalab report --in "+opts.In+" --out "+opts.In+"/report.html", "--out is required: the report file to write, or - for standard output")
	}
	if st, err := os.Stat(opts.Out); err == nil && st.IsDir() {
		// Renaming the report over a folder would fail with "file exists".
		return exitcode.Usagef("signalab report --in "+opts.In+" --out "+filepath.Join(opts.Out, "report.html"),
			"--out %s is a folder; give the report's file name inside it", opts.Out)
	}
	format := reports.FormatFromPath(opts.Out)
	if opts.Format != "" {
		var err error
		if format, err = reports.ParseFormat(opts.Format); err != nil {
			return exitcode.Usagef("signalab report --in "+opts.In+" --out "+opts.Out+" --format html", "--format: %v", err)
		}
	} else if ext := filepath.Ext(opts.Out); opts.Out != "-" && ext != "" && !reports.KnownExtension(ext) {
		// An unknown extension (report.pdf) is refused rather than silently
		// written as HTML under a name that promises something else.
		base := strings.TrimSuffix(opts.Out, ext)
		return exitcode.Usagef("signalab report --in "+opts.In+" --out "+base+".html",
			"report: --out %s: cannot tell the report format from %q; reports are html, md or json: name the file .html, .md or .json, or give --format", opts.Out, ext)
	}
	r, err := reports.Load(opts.In, opts.Experiment)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := reports.Render(&buf, r, format); err != nil {
		return err
	}
	if opts.Out == "-" {
		_, err := buf.WriteTo(stdout)
		return err
	}
	release, err := outdir.LockExisting(filepath.Dir(opts.Out), "signalab report")
	if err != nil {
		return err
	}
	defer release()
	if err := atomicfile.WriteBytes(opts.Out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%s, %s)\n", opts.Out, format, reports.Bytes(int64(buf.Len())))
	return nil
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/signalab/signalab/importer"
	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/internal/outdir"
)

func init() { register(newImportCmd) }

type importOptions struct {
	Format     string
	In         string
	Out        string
	Shop       string
	Buyer      string
	Strict     bool
	Quarantine string
	JSON       bool
}

func newImportCmd() *cobra.Command {
	var opts importOptions
	c := &cobra.Command{
		Use:   "import --format otto|rees46 --in FILE --out events.parquet [--json]",
		Short: "Convert a public e-commerce event log (OTTO, REES46) to signalab events",
		Long: `import maps a public event log to the v1 event schema and writes it as
Parquet, ready for "signalab replay".

  otto    OTTO recsys JSON lines ({"session":N,"events":[{"aid","ts","type"}]}):
          sessions become buyers; clicks → page_view, carts → cart_update (a
          running cart snapshot), orders → order_placed. OTTO has no prices:
          cart and order values are 0.
  rees46  REES46 Open CDP CSV (event_time,event_type,product_id,…,price,
          user_id,user_session): users become buyers (--buyer session for
          sessions); view → page_view, cart → cart_update (running cart with
          value in cents), purchase → order_placed (purchases of a session at
          the same second form one order).

Neither log has conversations: analyse imported logs with analysis.unit:
buyer or session (docs/metrics.md). The input may be gzipped (.gz). Event
ids are deterministic: the same input always gives the same file.

Malformed source rows (a CSV row with the wrong number of fields, such as a
cut-off last line; an unparseable time or price; a line that is not JSON; a
missing id) are counted and written to --quarantine with their line, the
reason and the raw text, escaped; the rest is imported. --strict stops at
the first one instead. See docs/events.md.`,
		Example: `  signalab import --format otto --in train.jsonl --out otto/events.parquet
  signalab import --format rees46 --in 2019-Oct.csv.gz --out rees46/events.parquet --json`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			return importRun(opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Format, "format", "", "source format: otto or rees46")
	f.StringVar(&opts.In, "in", "", "source log file (optionally .gz)")
	f.StringVar(&opts.Out, "out", "", "Parquet file to write (written atomically)")
	f.StringVar(&opts.Shop, "shop", "", "shop_id of every event (default: the format name)")
	f.StringVar(&opts.Buyer, "buyer", "user", "rees46 only: make buyers of users (user_id) or sessions (user_session)")
	f.BoolVar(&opts.Strict, "strict", false, "fail on the first malformed source row instead of quarantining it")
	f.StringVar(&opts.Quarantine, "quarantine", "", "where to write the quarantined source rows (default: _<name>.quarantine.parquet beside --out)")
	f.BoolVar(&opts.JSON, "json", false, "print the summary as JSON on standard output")
	return c
}

func importRun(opts importOptions, stdout, stderr io.Writer) error {
	const hint = "signalab import --format otto --in FILE --out events.parquet"
	format := importer.Format(strings.ToLower(opts.Format))
	switch {
	case opts.Format == "":
		return exitcode.Usagef(hint, "--format is required (otto or rees46)")
	case !slices.Contains(importer.Formats, format):
		return exitcode.Usagef(hint, "--format %q is not supported; use otto or rees46", opts.Format)
	case opts.In == "":
		return exitcode.Usagef(hint, "--in is required: the source log file")
	case opts.Out == "":
		return exitcode.Usagef(hint, "--out is required: the Parquet file to write")
	case opts.Buyer != "user" && opts.Buyer != "session":
		return exitcode.Usagef(hint+" --buyer session", "--buyer %q: use user or session", opts.Buyer)
	}
	quarantine := opts.Quarantine
	if quarantine == "" {
		quarantine = importer.QuarantinePath(opts.Out)
	}
	for _, p := range []struct{ flag, path string }{{"--out", opts.Out}, {"--quarantine", quarantine}} {
		// Renaming a file over a folder fails, and only after the other
		// file is in place: refuse it first.
		if st, err := os.Stat(p.path); err == nil && st.IsDir() {
			return exitcode.Usagef(hint, "%s %s is a folder; give the file name to write inside it", p.flag, p.path)
		}
	}
	// The two files' folders, when they are signalab output folders, are
	// locked for the whole import (outdir.LockExisting).
	for _, dir := range distinctDirs(filepath.Dir(opts.Out), filepath.Dir(quarantine)) {
		release, err := outdir.LockExisting(dir, "signalab import")
		if err != nil {
			return err
		}
		defer release()
	}
	st, err := importer.ImportFile(opts.In, opts.Out, quarantine, importer.Options{
		Format: format, ShopID: opts.Shop, BuyerFromSession: opts.Buyer == "session", Strict: opts.Strict,
	})
	if err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	var parts []string
	for _, k := range sortedKeys(st.ByKind) {
		parts = append(parts, fmt.Sprintf("%s %d", k, st.ByKind[k]))
	}
	fmt.Fprintf(stderr, "imported %d %s records from %s into %d events (%s) in %s\n",
		st.Records, st.Format, st.Input, st.Events, strings.Join(parts, ", "), st.Output)
	for _, r := range sortedKeys(st.Skipped) {
		fmt.Fprintf(stderr, "skipped %d source rows: %s\n", st.Skipped[r], r)
	}
	if st.Quarantined > 0 {
		var reasons []string
		for _, r := range sortedKeys(st.QuarantinedByReason) {
			reasons = append(reasons, fmt.Sprintf("%s %d", r, st.QuarantinedByReason[r]))
		}
		fmt.Fprintf(stderr, "quarantined %d malformed source rows (%s): %s\n", st.Quarantined, strings.Join(reasons, ", "), st.Quarantine)
	}
	return nil
}

// distinctDirs returns the distinct folders of a and b (the same folder named
// twice would be locked twice, and the second lock would fail).
func distinctDirs(a, b string) []string {
	if x, err := filepath.Abs(a); err == nil {
		if y, err := filepath.Abs(b); err == nil && x == y {
			return []string{a}
		}
	}
	return []string{a, b}
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

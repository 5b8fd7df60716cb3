package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/signalab/signalab/internal/exitcode"
	"github.com/signalab/signalab/synth"
)

func init() { register(newGenerateCmd) }

type generateOptions struct {
	Out             string
	Events          int64
	Shops           int
	Buyers          int
	Days            int
	PreDays         int
	Start           string
	Lift            float64
	Seed            uint64
	Unit            string
	Salt            string
	TreatmentWeight float64
	Currency        string
	JSON            bool

	buyersSet bool // --buyers given explicitly
}

func newGenerateCmd() *cobra.Command {
	var opts generateOptions
	d := synth.DefaultConfig()
	c := &cobra.Command{
		Use:   "generate --out DIR [--events N | --shops N --buyers N --days N] [--pre-days N] [--lift X] [--seed S]",
		Short: "Generate a realistic synthetic event log with a planted, known effect",
		Long: `generate writes a synthetic buyer-signal event log to DIR/events.parquet
(v1 schema, rows in arrival order) and what is known about it to
DIR/truth.json: the planted lift, the trigger definition, and counts of
duplicates, out-of-order and late rows, conversations and conversions per arm.

Shops have heavy-tailed traffic; buyers browse, fill carts, check out, order
and return on later days; some chat with the merchant on several channels.
Rows arrive with heavy-tailed delays (a few percent out of order, a fraction
of a percent beyond the lateness bound) and some are delivered twice.

Units (--unit) are split into control and treatment with the same hashing as
"signalab assign" (growthbook-v2, --salt, --treatment-weight); triggered
conversations of treatment units inside the window convert with a relative
lift of --lift. The defaults match testdata/experiment.yaml.

--events N aims at about N rows by scaling the number of buyers (a pilot run
measures rows per buyer). The same flags always give the same bytes.`,
		Example: `  signalab generate --out out/gen
  signalab generate --out out/big --events 10000000 --seed 7
  signalab generate --out out/g --shops 50 --buyers 5000 --days 14 --pre-days 14 --lift 0.2 --unit buyer_id`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			opts.buyersSet = c.Flags().Changed("buyers")
			return generateRun(c.Context(), opts, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	f := c.Flags()
	f.StringVar(&opts.Out, "out", "", "folder to write events.parquet and truth.json to")
	f.Int64Var(&opts.Events, "events", 0, "aim at about N rows by scaling the number of buyers (not with --buyers)")
	f.IntVar(&opts.Shops, "shops", d.Shops, "number of shops")
	f.IntVar(&opts.Buyers, "buyers", d.Buyers, "number of buyers")
	f.IntVar(&opts.Days, "days", d.Days, "length of the experiment window in days")
	f.IntVar(&opts.PreDays, "pre-days", d.PreDays, "days of pre-period before the window")
	f.StringVar(&opts.Start, "start", d.WindowStart.Format("2006-01-02"), "start of the experiment window (YYYY-MM-DD or RFC 3339, UTC)")
	f.Float64Var(&opts.Lift, "lift", d.Lift, "planted relative lift of triggered conversions in treatment (0.1 = +10%)")
	f.Uint64Var(&opts.Seed, "seed", d.Seed, "random seed")
	f.StringVar(&opts.Unit, "unit", d.Unit, "randomization unit: shop_id, buyer_id or conversation_id")
	f.StringVar(&opts.Salt, "salt", d.Salt, "experiment salt (hash seed)")
	f.StringVar(&opts.Currency, "currency", "", "currency of every shop (ISO 4217, e.g. USD); default a mix of USD, EUR, GBP, CAD and AUD shops")
	f.Float64Var(&opts.TreatmentWeight, "treatment-weight", d.TreatmentWeight, "share of units in treatment")
	f.BoolVar(&opts.JSON, "json", false, "print the summary as JSON")
	return c
}

// generateSummary is the --json output of signalab generate.
type generateSummary struct {
	Events         string  `json:"events"`
	Truth          string  `json:"truth"`
	Rows           int64   `json:"rows"`
	UniqueEvents   int64   `json:"unique_events"`
	Duplicates     int64   `json:"duplicates"`
	OutOfOrder     int64   `json:"out_of_order"`
	Late           int64   `json:"late"`
	Shops          int     `json:"shops"`
	Buyers         int     `json:"buyers"`
	Conversations  int64   `json:"conversations"`
	Triggered      int64   `json:"triggered"`
	Unit           string  `json:"unit"`
	Lift           float64 `json:"lift"`
	Seed           uint64  `json:"seed"`
	ElapsedSeconds float64 `json:"elapsed_seconds"`
}

func generateRun(ctx context.Context, opts generateOptions, stdout, stderr io.Writer) error {
	const hint = "signalab generate --out out/gen [--events N | --shops N --buyers N --days N]"
	if ctx == nil {
		ctx = context.Background()
	}
	cfg := synth.DefaultConfig()
	switch {
	case opts.Out == "":
		return exitcode.Usagef(hint, "generate: --out is required")
	case opts.Events < 0:
		return exitcode.Usagef(hint, "generate: --events %d: want a positive number of rows", opts.Events)
	case opts.Events > 0 && opts.buyersSet:
		return exitcode.Usagef(hint, "generate: --events and --buyers both set: --events chooses the number of buyers")
	}
	start, err := parseDay(opts.Start)
	if err != nil {
		return exitcode.Usagef(hint, "generate: --start %q: want a date such as 2026-03-01 or 2026-03-01T00:00:00Z", opts.Start)
	}
	cfg.Seed, cfg.Shops, cfg.Buyers, cfg.Days, cfg.PreDays = opts.Seed, opts.Shops, opts.Buyers, opts.Days, opts.PreDays
	cfg.WindowStart, cfg.Lift, cfg.Unit, cfg.Salt, cfg.TreatmentWeight = start, opts.Lift, opts.Unit, opts.Salt, opts.TreatmentWeight
	cfg.Currency = opts.Currency
	if err := cfg.Validate(); err != nil {
		return exitcode.Usagef(hint, "generate: %v", err)
	}
	began := time.Now()
	if opts.Events > 0 {
		if cfg.Buyers, err = synth.BuyersForEvents(ctx, cfg, opts.Events); err != nil {
			return fmt.Errorf("generate: %w", err)
		}
	}
	progress, done := progressFor(stderr, opts.Events)
	var truth *synth.Truth
	err = replaceOutputs(opts.Out, "signalab generate", generateOutputs, func(dir string) error {
		truth, err = synth.WriteDir(ctx, cfg, dir, progress)
		return err
	})
	done()
	if err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	c := truth.Counts
	s := generateSummary{
		Events: filepath.Join(opts.Out, synth.EventsFile), Truth: filepath.Join(opts.Out, synth.TruthFile),
		Rows: c.Rows, UniqueEvents: c.UniqueEvents, Duplicates: c.DuplicatesInjected, OutOfOrder: c.OutOfOrder,
		Late: c.LateEvents, Shops: cfg.Shops, Buyers: cfg.Buyers, Conversations: c.Conversations,
		Triggered: c.ConversationsTriggered, Unit: cfg.Unit, Lift: cfg.Lift, Seed: cfg.Seed,
		ElapsedSeconds: time.Since(began).Seconds(),
	}
	if opts.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	_, err = fmt.Fprintf(stdout, "wrote %s: %d rows (%d duplicates, %d out of order, %d late), %d buyers at %d shops, "+
		"%d conversations (%d triggered), lift %+.1f%% on triggered by %s; truth in %s (%.1fs)\n",
		s.Events, s.Rows, s.Duplicates, s.OutOfOrder, s.Late, s.Buyers, s.Shops, s.Conversations, s.Triggered,
		100*s.Lift, s.Unit, s.Truth, s.ElapsedSeconds)
	return err
}

// parseDay parses a date (YYYY-MM-DD) or an RFC 3339 time, as UTC.
func parseDay(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	return t.UTC(), err
}

// progressFor returns a progress callback drawing a bar on stderr when it is
// a terminal (a no-op otherwise), and a function that finishes the bar.
func progressFor(stderr io.Writer, total int64) (func(int64), func()) {
	f, ok := stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil, func() {}
	}
	max := total
	if max <= 0 {
		max = -1
	}
	bar := progressbar.NewOptions64(max, progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("generating"), progressbar.OptionShowCount(),
		progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	var last int64
	return func(rows int64) {
			_ = bar.Add64(rows - last)
			last = rows
		}, func() {
			_ = bar.Finish()
		}
}

package importer

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/atomicfile"

	"github.com/signalab/signalab/internal/safeio"
)

// Format names a supported source log.
type Format string

// Supported source formats.
const (
	FormatOTTO   Format = "otto"
	FormatREES46 Format = "rees46"
)

// Formats lists the supported formats.
var Formats = []Format{FormatOTTO, FormatREES46}

// Options configures an import.
type Options struct {
	Format Format
	// ShopID is the shop_id of every event (default: the format name). Both
	// sources are single stores.
	ShopID string
	// BuyerFromSession makes REES46 sessions the buyers (buyer_id =
	// user_session) instead of users (buyer_id = user_id). OTTO has sessions
	// only, so there a session is always the buyer.
	BuyerFromSession bool
	// Strict makes the first malformed source row an error (*RowError)
	// instead of quarantining it.
	Strict bool
	// OnQuarantine receives each malformed source row (line, reason, the
	// raw text escaped); nil only counts them. An error it returns stops
	// the import.
	OnQuarantine func(event.Quarantined) error
}

// Stats summarises an import.
type Stats struct {
	Format  Format           `json:"format"`
	Input   string           `json:"input"`
	Output  string           `json:"output,omitempty"`
	Records int64            `json:"records"` // source records read: OTTO sessions or REES46 rows
	Events  int64            `json:"events"`  // v1 events written
	ByKind  map[string]int64 `json:"by_kind"`
	Skipped map[string]int64 `json:"skipped,omitempty"` // source rows not mapped, by reason
	// Quarantined counts malformed source rows (a CSV row with the wrong
	// number of fields, an unparseable time or price, a line that is not
	// JSON, a missing id), by event reason code; they are not imported.
	Quarantined         int64            `json:"quarantined"`
	QuarantinedByReason map[string]int64 `json:"quarantined_by_reason,omitempty"`
	// Quarantine is the file the quarantined rows were written to, if any.
	Quarantine string `json:"quarantine,omitempty"`
}

// Emit receives events in output order. The slice is reused after it returns.
type Emit func([]event.Event) error

// Import reads a source log from r (named name in errors) and passes the v1
// events to emit in batches.
func Import(r io.Reader, name string, opts Options, emit Emit) (*Stats, error) {
	st := &Stats{Format: opts.Format, Input: name, ByKind: map[string]int64{}}
	if opts.ShopID == "" {
		opts.ShopID = string(opts.Format)
	}
	out := &emitter{emit: emit, st: st, strict: opts.Strict, onQuarantine: opts.OnQuarantine}
	var err error
	switch opts.Format {
	case FormatOTTO:
		err = importOTTO(r, name, opts, out)
	case FormatREES46:
		err = importREES46(r, name, opts, out)
	default:
		return nil, fmt.Errorf("import: unknown format %q; use otto or rees46", opts.Format)
	}
	if err == nil {
		err = out.flush()
	}
	if err == nil && st.Events == 0 {
		err = noEvents(st, out.first)
	}
	return st, err
}

// noEvents is the error of an import that produced no event: an empty
// source, or one whose every record was quarantined or skipped (almost
// always the wrong file or the wrong --format).
func noEvents(st *Stats, first *event.Quarantined) error {
	what := fmt.Sprintf("import %s: no events: ", st.Input)
	switch {
	case st.Records == 0:
		return fmt.Errorf("%sthe file holds no %s records; check --in", what, st.Format)
	case first != nil:
		return fmt.Errorf("%sall %d source records were quarantined or skipped; the first: line %d: %s (%s): %s; is --in a %s log (check --format)?",
			what, st.Records, first.Row, first.Detail, first.Reason, shorten(first.Raw, 200), st.Format)
	}
	return fmt.Errorf("%sall %d source records were skipped (%v); is --in a %s log (check --format)?", what, st.Records, st.Skipped, st.Format)
}

// ImportFile imports inPath (optionally gzipped: .gz) into a v1 Parquet file
// at outPath, and writes the malformed source rows it quarantined (with
// line, reason and the raw text escaped) to quarantinePath as a
// quarantine.parquet table (event.QuarantineRow; "" means
// QuarantinePath(outPath)). Both are written atomically; under
// Options.Strict the first malformed row is an error and nothing is
// written.
func ImportFile(inPath, outPath, quarantinePath string, opts Options) (*Stats, error) {
	if quarantinePath == "" {
		quarantinePath = QuarantinePath(outPath)
	}
	f, err := safeio.Open(inPath) // a FIFO or a device is an error, not a hang
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	var r io.Reader = bufio.NewReaderSize(f, 256<<10)
	if strings.HasSuffix(strings.ToLower(inPath), ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			return nil, fmt.Errorf("import %s: not a valid gzip file (%v)", inPath, err)
		}
		defer gz.Close()
		r = gz
	}
	// Both files are written in full before either replaces its
	// destination, so a failure (a malformed row with Strict, a full disk)
	// replaces neither; the quarantine goes into place first, the log last.
	events, err := atomicfile.Create(outPath)
	if err != nil {
		return nil, err
	}
	defer events.Abort()
	quarantine, err := atomicfile.Create(quarantinePath)
	if err != nil {
		return nil, err
	}
	defer quarantine.Abort()
	pw, err := event.NewParquetWriter(events)
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", outPath, err)
	}
	q := event.NewQuarantineWriter(quarantine)
	user := opts.OnQuarantine
	opts.OnQuarantine = func(row event.Quarantined) error {
		if user != nil {
			if err := user(row); err != nil {
				return err
			}
		}
		return q.Write(row)
	}
	st, err := Import(r, inPath, opts, pw.Write)
	if err != nil {
		return st, err
	}
	if err := q.Close(); err != nil {
		return st, fmt.Errorf("write %s: %w", quarantinePath, err)
	}
	if err := pw.Close(); err != nil {
		return st, fmt.Errorf("write %s: %w", outPath, err)
	}
	if err := quarantine.Commit(); err != nil {
		return st, err
	}
	if err := events.Commit(); err != nil {
		return st, err
	}
	st.Output = outPath
	st.Quarantine = quarantinePath
	return st, nil
}

// QuarantinePath is where ImportFile writes the quarantined source rows of
// an import into outPath by default: beside it, named
// "_<name without extension>.quarantine.parquet". The leading underscore
// keeps the event readers from taking it for an event log when the folder
// is given to --events.
func QuarantinePath(outPath string) string {
	dir, base := filepath.Split(outPath)
	return filepath.Join(dir, "_"+strings.TrimSuffix(base, filepath.Ext(base))+".quarantine.parquet")
}

// emitter batches events for Emit and counts them.
type emitter struct {
	emit         Emit
	st           *Stats
	buf          []event.Event
	strict       bool
	onQuarantine func(event.Quarantined) error
	first        *event.Quarantined // the first quarantined row, for messages
}

func (e *emitter) add(ev event.Event) error {
	if p := event.Validate(&ev); p != nil {
		// The mappings only build valid events; this guards the contract.
		return fmt.Errorf("import %s: built an invalid event %s: %s", e.st.Input, ev.EventID, p.Detail)
	}
	e.buf = append(e.buf, ev)
	e.st.Events++
	e.st.ByKind[string(ev.Kind)]++
	if len(e.buf) >= 8192 {
		return e.flush()
	}
	return nil
}

func (e *emitter) flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	err := e.emit(e.buf)
	clear(e.buf)
	e.buf = e.buf[:0]
	return err
}

func (e *emitter) skip(reason string) {
	if e.st.Skipped == nil {
		e.st.Skipped = map[string]int64{}
	}
	e.st.Skipped[reason]++
}

// cart is a running cart snapshot: items added since the last order, and
// the distinct products in first-added order.
type cart struct {
	token    string
	items    int32
	value    int64
	products []string
	seen     map[string]bool
}

func (c *cart) add(product string, price int64) {
	c.items++
	c.value += price
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	if !c.seen[product] {
		c.seen[product] = true
		c.products = append(c.products, product)
	}
}

// snapshot returns the product list to store in an event (a copy).
func (c *cart) snapshot() []string { return append([]string(nil), c.products...) }

package importer

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
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
	out := &emitter{emit: emit, st: st}
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
	return st, err
}

// ImportFile imports inPath (optionally gzipped: .gz) into a v1 Parquet file
// at outPath, written atomically.
func ImportFile(inPath, outPath string, opts Options) (*Stats, error) {
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
	var st *Stats
	err = atomicfile.Write(outPath, func(w io.Writer) error {
		pw, err := event.NewParquetWriter(w)
		if err != nil {
			return err
		}
		st, err = Import(r, inPath, opts, pw.Write)
		if err != nil {
			return err
		}
		return pw.Close()
	})
	if err != nil {
		return st, err
	}
	st.Output = outPath
	return st, nil
}

// emitter batches events for Emit and counts them.
type emitter struct {
	emit Emit
	st   *Stats
	buf  []event.Event
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

package event

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/signalab/signalab/internal/safeio"
)

// field indexes the v1 columns in schema order.
type field int

const (
	fEventID field = iota
	fKind
	fEventTime
	fIngestTime
	fShopID
	fBuyerID
	fConversationID
	fChannel
	fSender
	fCartToken
	fItemCount
	fCartValue
	fProductIDs
	fOrderID
	fOrderValue
	fCurrency
	numFields
)

// Columns lists the v1 column names in schema order.
var Columns = [numFields]string{
	"event_id", "kind", "event_time", "ingest_time", "shop_id", "buyer_id",
	"conversation_id", "channel", "sender", "cart_token", "item_count",
	"cart_value_cents", "product_ids", "order_id", "order_value_cents", "currency",
}

// requiredColumn reports whether every row needs the column (so a file
// without it is rejected as a whole).
func requiredColumn(f field) bool {
	return f == fEventID || f == fKind || f == fEventTime || f == fShopID || f == fBuyerID
}

// fieldByName maps a column name to its field.
func fieldByName(name string) (field, bool) {
	for i, c := range Columns {
		if c == name {
			return field(i), true
		}
	}
	return 0, false
}

// ProductIDSeparator separates product ids in the product_ids column of CSV.
const ProductIDSeparator = "|"

// ParseTimestamp parses a text timestamp into µs since the epoch, UTC: an
// RFC 3339 timestamp with any offset (fractions beyond µs are truncated), or a
// base-10 integer count of µs since the epoch.
func ParseTimestamp(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not an RFC 3339 timestamp (2026-03-01T12:00:00Z) or integer microseconds since the epoch", truncate(s))
	}
	return t.UnixMicro(), nil
}

// FormatTimestamp renders µs since the epoch as RFC 3339 in UTC with
// microsecond precision, trailing zeros dropped; ParseTimestamp inverts it.
func FormatTimestamp(us int64) string {
	return time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
}

// kindOf returns the Kind constant for s (no allocation for valid kinds).
func kindOf(s string) Kind {
	for _, k := range Kinds {
		if string(k) == s {
			return k
		}
	}
	return Kind(strings.Clone(s))
}

// setText sets field f of e from the non-empty text s, as found in CSV and in
// JSON strings. It returns a problem for an unparseable value.
func setText(e *Event, f field, s string) *Problem {
	switch f {
	case fEventID:
		e.EventID = s
	case fKind:
		e.Kind = kindOf(s)
	case fEventTime, fIngestTime:
		t, err := ParseTimestamp(s)
		if err != nil {
			return problemf(Columns[f], ReasonBadTimestamp, "%s %v", Columns[f], err)
		}
		if f == fEventTime {
			e.EventTime = t
		} else {
			e.IngestTime, e.HasIngestTime = t, true
		}
	case fShopID:
		e.ShopID = s
	case fBuyerID:
		e.BuyerID = s
	case fConversationID:
		e.ConversationID = s
	case fChannel:
		e.Channel = s
	case fSender:
		e.Sender = s
	case fCartToken:
		e.CartToken = s
	case fItemCount:
		n, err := strconv.ParseInt(s, 10, 32)
		if err != nil {
			return problemf("item_count", ReasonBadValue, "item_count %q is not a 32-bit integer", truncate(s))
		}
		e.ItemCount, e.HasItemCount = int32(n), true
	case fCartValue, fOrderValue:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return problemf(Columns[f], ReasonBadValue, "%s %q is not an integer amount in minor units (cents)", Columns[f], truncate(s))
		}
		if f == fCartValue {
			e.CartValueCents, e.HasCartValue = n, true
		} else {
			e.OrderValueCents, e.HasOrderValue = n, true
		}
	case fProductIDs:
		e.ProductIDs = strings.Split(s, ProductIDSeparator)
	case fOrderID:
		e.OrderID = s
	case fCurrency:
		e.Currency = s
	}
	return nil
}

// textFile is an open text input, gunzipped when needed.
type textFile struct {
	f   *os.File
	gz  *gzip.Reader
	r   *bufio.Reader
	lim *safeio.Limiter // between the (gunzipped) bytes and r, when a record limit is set
}

// openText opens a text input. recordLimit > 0 puts a safeio.Limiter under
// the buffer, which the caller resets after each record.
func openText(fi FileInfo, recordLimit int64) (*textFile, error) {
	f, err := safeio.Open(fi.Path)
	if err != nil {
		return nil, fmt.Errorf("read events %s", errorNamed(fi.Path, err))
	}
	if fi.Size == 0 {
		f.Close()
		return nil, fmt.Errorf("read events %s: file is empty; a %s event log needs %s", fi.Path, fi.Format, map[Format]string{
			FormatJSONL: "one JSON object per line",
			FormatCSV:   "a header row (event_id,kind,event_time,shop_id,buyer_id,…) and one row per event",
		}[fi.Format])
	}
	t := &textFile{f: f}
	var r io.Reader = f
	if fi.Gzip {
		gz, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("read events %s: not a valid gzip file (%v); check the file or remove the .gz suffix", fi.Path, err)
		}
		t.gz = gz
		r = gzipErrors{gz}
	}
	if recordLimit > 0 {
		t.lim = &safeio.Limiter{R: r, Max: recordLimit, What: "record"}
		r = t.lim
	}
	t.r = bufio.NewReaderSize(r, 256<<10)
	return t, nil
}

// gzipErrors says that an error of the gzip stream comes from gzip, and
// what it usually means: "line 2: unexpected EOF" alone does not name it.
type gzipErrors struct{ r io.Reader }

func (g gzipErrors) Read(p []byte) (int, error) {
	n, err := g.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("gzip: %w (the .gz file is truncated or corrupt; check the download or the export)", err)
	}
	return n, err
}

// errorNamed formats an open error: "<path>: <what>" without repeating the
// path when err already names it (os.PathError, safeio.NotRegularError).
func errorNamed(path string, err error) string {
	var nr *safeio.NotRegularError
	var pe *fs.PathError
	switch {
	case errors.As(err, &nr):
		return nr.Error()
	case errors.As(err, &pe):
		return path + ": " + pe.Err.Error()
	}
	return path + ": " + err.Error()
}

func (t *textFile) close() error {
	if t.gz != nil {
		t.gz.Close()
	}
	return t.f.Close()
}

var bufioErrBufferFull = bufio.ErrBufferFull

package event

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Reason is a stable code saying why a row was quarantined. Codes are part of
// the output contract (replay.json counts, quarantine.parquet): never rename.
type Reason string

// Quarantine reasons.
const (
	// ReasonMissingField: a column required for the row's kind is absent,
	// null or empty (see RequiredColumns).
	ReasonMissingField Reason = "missing_field"
	// ReasonUnknownKind: kind is not one of Kinds.
	ReasonUnknownKind Reason = "unknown_kind"
	// ReasonNegativeMoney: cart_value_cents or order_value_cents < 0.
	ReasonNegativeMoney Reason = "negative_money"
	// ReasonBadTimestamp: event_time or ingest_time is not an RFC 3339
	// timestamp or an integer count of µs since the epoch.
	ReasonBadTimestamp Reason = "bad_timestamp"
	// ReasonBadValue: a value of the wrong type or out of range: a
	// non-integer or negative item_count, a non-integer amount, a sender other
	// than buyer or merchant, a JSON string where a number belongs.
	ReasonBadValue Reason = "bad_value"
	// ReasonMalformedRow: the row itself cannot be parsed (invalid JSON, a
	// CSV record with the wrong number of fields).
	ReasonMalformedRow Reason = "malformed_row"
	// ReasonInvalidUTF8: a string column holds bytes that are not valid
	// UTF-8 (the quarantine row shows them escaped as \xNN).
	ReasonInvalidUTF8 Reason = "invalid_utf8"
)

// The sane ranges of values (docs/limits.md). A time outside [MinTime,
// MaxTime) is a bad_timestamp; money above MaxMoneyCents a bad_value.
const (
	// MinTime is 1970-01-01T00:00:00Z in µs since the epoch.
	MinTime int64 = 0
	// MaxTime is 2100-01-01T00:00:00Z in µs since the epoch.
	MaxTime int64 = 4_102_444_800_000_000
	// MaxMoneyCents is the largest amount of money (in minor units) a row
	// may carry: 10^15, ten trillion in major units. Every such amount is
	// exact in a float64 (< 2^53), and 9,223 of them still sum within int64.
	MaxMoneyCents int64 = 1_000_000_000_000_000
)

// Reasons lists every reason code, for stable ordering of counts.
var Reasons = []Reason{
	ReasonMissingField, ReasonUnknownKind, ReasonNegativeMoney,
	ReasonBadTimestamp, ReasonBadValue, ReasonMalformedRow, ReasonInvalidUTF8,
}

// Problem is what is wrong with one row: the column (empty when the whole row
// is malformed), a reason code and a human-readable detail.
type Problem struct {
	Column string
	Reason Reason
	Detail string
}

func problemf(col string, r Reason, format string, args ...any) *Problem {
	return &Problem{Column: col, Reason: r, Detail: fmt.Sprintf(format, args...)}
}

// RequiredColumns returns the columns a row of kind k must have beyond the
// columns every row needs (event_id, kind, event_time, shop_id, buyer_id), per
// the schema table of docs/design.md.
func RequiredColumns(k Kind) []string {
	switch k {
	case KindCartUpdate:
		return []string{"cart_token", "item_count", "cart_value_cents"}
	case KindCheckoutStarted:
		return []string{"cart_token", "cart_value_cents"}
	case KindOrderPlaced:
		return []string{"order_id", "order_value_cents"}
	case KindMessage:
		return []string{"conversation_id", "sender"}
	case KindConversationStarted, KindConversationClosed:
		return []string{"conversation_id"}
	}
	return nil
}

// Validate checks e against schema v1 and returns the first problem found, or
// nil. It checks, in order: event_id, kind (present, then known), shop_id,
// buyer_id, the columns the kind requires, non-negative money, non-negative
// item_count and the sender value. Readers detect an absent or unparseable
// event_time while parsing, since Event cannot represent it.
func Validate(e *Event) *Problem { return validate(e, nil, true) }

// validate is Validate that skips the per-kind checks of columns marked in
// unread (columns left out of a Parquet column selection), and the UTF-8
// check when checkText is false (the caller checked the batch's strings).
func validate(e *Event, unread *[numFields]bool, checkText bool) *Problem {
	if checkText {
		if p := checkUTF8(e); p != nil {
			return p
		}
	}
	if p := checkIDKind(e); p != nil {
		return p
	}
	if p := checkTimes(e); p != nil {
		return p
	}
	switch {
	case e.ShopID == "":
		return missing("shop_id")
	case e.BuyerID == "":
		return missing("buyer_id")
	}
	need := func(f field, present bool) bool {
		return !present && (unread == nil || !unread[f])
	}
	switch e.Kind {
	case KindCartUpdate:
		switch {
		case need(fCartToken, e.CartToken != ""):
			return missing("cart_token")
		case need(fItemCount, e.HasItemCount):
			return missing("item_count")
		case need(fCartValue, e.HasCartValue):
			return missing("cart_value_cents")
		}
	case KindCheckoutStarted:
		switch {
		case need(fCartToken, e.CartToken != ""):
			return missing("cart_token")
		case need(fCartValue, e.HasCartValue):
			return missing("cart_value_cents")
		}
	case KindOrderPlaced:
		switch {
		case need(fOrderID, e.OrderID != ""):
			return missing("order_id")
		case need(fOrderValue, e.HasOrderValue):
			return missing("order_value_cents")
		}
	case KindMessage:
		switch {
		case need(fConversationID, e.ConversationID != ""):
			return missing("conversation_id")
		case need(fSender, e.Sender != ""):
			return missing("sender")
		}
	case KindConversationStarted, KindConversationClosed:
		if need(fConversationID, e.ConversationID != "") {
			return missing("conversation_id")
		}
	}
	switch {
	case e.HasCartValue && e.CartValueCents < 0:
		return problemf("cart_value_cents", ReasonNegativeMoney, "cart_value_cents is %d; money must be >= 0", e.CartValueCents)
	case e.HasOrderValue && e.OrderValueCents < 0:
		return problemf("order_value_cents", ReasonNegativeMoney, "order_value_cents is %d; money must be >= 0", e.OrderValueCents)
	case e.HasCartValue && e.CartValueCents > MaxMoneyCents:
		return aboveCeiling("cart_value_cents", e.CartValueCents)
	case e.HasOrderValue && e.OrderValueCents > MaxMoneyCents:
		return aboveCeiling("order_value_cents", e.OrderValueCents)
	case e.HasItemCount && e.ItemCount < 0:
		return problemf("item_count", ReasonBadValue, "item_count is %d; it must be >= 0", e.ItemCount)
	case e.Sender != "" && e.Sender != SenderBuyer && e.Sender != SenderMerchant:
		return problemf("sender", ReasonBadValue, "sender %q is neither buyer nor merchant", truncate(e.Sender))
	}
	return nil
}

func aboveCeiling(col string, v int64) *Problem {
	return problemf(col, ReasonBadValue, "%s is %d, above the ceiling of 10^15 minor units (ten trillion in major units; docs/limits.md); check the unit (minor units such as cents)", col, v)
}

// checkIDKind checks the columns before event_time: event_id and kind.
func checkIDKind(e *Event) *Problem {
	switch {
	case e.EventID == "":
		return missing("event_id")
	case e.Kind == "":
		return missing("kind")
	case !e.Kind.Valid():
		return problemf("kind", ReasonUnknownKind, "kind %q is not one of page_view, cart_update, checkout_started, order_placed, conversation_started, message, conversation_closed", truncate(string(e.Kind)))
	}
	return nil
}

// checkUTF8 returns an invalid_utf8 problem for the first string column (in
// schema order) that is not valid UTF-8. Outputs (Parquet strings, JSON)
// need valid UTF-8, and a byte sequence that is not would reach them
// changed or make them unreadable.
func checkUTF8(e *Event) *Problem {
	for _, c := range [...]struct {
		col string
		v   string
	}{{"event_id", e.EventID}, {"kind", string(e.Kind)}, {"shop_id", e.ShopID}, {"buyer_id", e.BuyerID},
		{"conversation_id", e.ConversationID}, {"channel", e.Channel}, {"sender", e.Sender},
		{"cart_token", e.CartToken}} {
		if !utf8.ValidString(c.v) {
			return badUTF8(c.col, c.v)
		}
	}
	for _, id := range e.ProductIDs {
		if !utf8.ValidString(id) {
			return badUTF8("product_ids", id)
		}
	}
	switch {
	case !utf8.ValidString(e.OrderID):
		return badUTF8("order_id", e.OrderID)
	case !utf8.ValidString(e.Currency):
		return badUTF8("currency", e.Currency)
	}
	return nil
}

func badUTF8(col, v string) *Problem {
	return problemf(col, ReasonInvalidUTF8, "%s \"%s\" is not valid UTF-8 (invalid bytes shown as \\xNN); re-export the file as UTF-8", col, EscapeInvalidUTF8(truncateBytes(v)))
}

// checkTimes checks that event_time and ingest_time lie in [MinTime,
// MaxTime).
func checkTimes(e *Event) *Problem {
	if e.EventTime < MinTime || e.EventTime >= MaxTime {
		return timeRange("event_time", e.EventTime)
	}
	if e.HasIngestTime && (e.IngestTime < MinTime || e.IngestTime >= MaxTime) {
		return timeRange("ingest_time", e.IngestTime)
	}
	return nil
}

func timeRange(col string, us int64) *Problem {
	return problemf(col, ReasonBadTimestamp, "%s %s is outside the supported range 1970-01-01T00:00:00Z to 2100-01-01T00:00:00Z (docs/limits.md); check its unit (µs since the epoch)",
		col, formatAnyTime(us))
}

// formatAnyTime renders µs since the epoch as RFC 3339 when the year has
// four digits, else as the integer.
func formatAnyTime(us int64) string {
	const lo, hi = -62135596800000000, 253402300799999999 // 0001-01-01, 9999-12-31
	if us < lo || us > hi {
		return strconv.FormatInt(us, 10) + " µs"
	}
	return FormatTimestamp(us)
}

// EscapeInvalidUTF8 returns s with every byte that is not part of valid
// UTF-8 written as \xNN (valid text is kept as it is), so that a quarantine
// row or a message can show the bytes of a broken value and stay readable.
func EscapeInvalidUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, "\\x%02x", s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// truncateBytes shortens s to at most 64 bytes plus "…" without splitting
// a UTF-8 sequence.
func truncateBytes(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > max-utf8.UTFMax && cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// missingTime is the problem of a row without event_time: problems of the
// columns before it (event_id, kind) win, as in Validate's column order.
func missingTime(e *Event) *Problem {
	if p := checkUTF8(e); p != nil {
		return p
	}
	if p := checkIDKind(e); p != nil {
		return p
	}
	return missing("event_time")
}

func missing(col string) *Problem {
	return problemf(col, ReasonMissingField, "required column %s is missing or empty", col)
}

// truncate shortens s for an error message (at most 64 bytes, never
// splitting a UTF-8 sequence) and escapes bytes that are not UTF-8.
func truncate(s string) string { return EscapeInvalidUTF8(truncateBytes(s)) }

// Quarantined is a row that broke the schema: kept out of the replay, counted
// by reason and written to quarantine.parquet, never silently dropped.
type Quarantined struct {
	Path   string // the input file
	File   int32  // ordinal of the file among the inputs, as Event.File
	Row    int64  // as Event.Row: 1-based row (Parquet) or line (JSONL, CSV) number
	Column string // the offending column; empty when the row is malformed
	Reason Reason
	Detail string
	Raw    string // the row as read: the text line, or a JSON rendering of a Parquet row
}

// RowError is the error of a strict read (ReadOptions.Strict): the first row
// that would have been quarantined.
type RowError struct{ Q Quarantined }

func (e *RowError) Error() string {
	col := ""
	if e.Q.Column != "" {
		col = " column " + e.Q.Column + ":"
	}
	return fmt.Sprintf("read events %s: row %d:%s %s (%s); fix the row, or run without --strict to quarantine such rows and go on",
		e.Q.Path, e.Q.Row, col, e.Q.Detail, e.Q.Reason)
}

package event

import "fmt"

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
)

// Reasons lists every reason code, for stable ordering of counts.
var Reasons = []Reason{
	ReasonMissingField, ReasonUnknownKind, ReasonNegativeMoney,
	ReasonBadTimestamp, ReasonBadValue, ReasonMalformedRow,
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
func Validate(e *Event) *Problem { return validate(e, nil) }

// validate is Validate that skips the per-kind checks of columns marked in
// unread (columns left out of a Parquet column selection).
func validate(e *Event, unread *[numFields]bool) *Problem {
	if p := checkIDKind(e); p != nil {
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
	case e.HasItemCount && e.ItemCount < 0:
		return problemf("item_count", ReasonBadValue, "item_count is %d; it must be >= 0", e.ItemCount)
	case e.Sender != "" && e.Sender != SenderBuyer && e.Sender != SenderMerchant:
		return problemf("sender", ReasonBadValue, "sender %q is neither buyer nor merchant", truncate(e.Sender))
	}
	return nil
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

// missingTime is the problem of a row without event_time: problems of the
// columns before it (event_id, kind) win, as in Validate's column order.
func missingTime(e *Event) *Problem {
	if p := checkIDKind(e); p != nil {
		return p
	}
	return missing("event_time")
}

func missing(col string) *Problem {
	return problemf(col, ReasonMissingField, "required column %s is missing or empty", col)
}

// truncate shortens s for an error message.
func truncate(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "…"
}

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

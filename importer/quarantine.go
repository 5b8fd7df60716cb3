package importer

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/signalab/signalab/event"
)

// maxRaw caps the raw text kept for a quarantined source row (64 KiB, as
// the event readers do).
const maxRaw = 64 << 10

// escapeRaw renders a source line for a quarantine row and for messages:
// printable text as is; tabs kept; backslashes, other control characters,
// and bytes that are not UTF-8 escaped as in Go string literals (\\, \n,
// \r, \x00, \xff, \u2028), so that the row reads on one line and any byte
// can be recovered. Longer lines are cut at maxRaw bytes of input, with "…".
func escapeRaw(b []byte) string {
	cut := false
	if len(b) > maxRaw {
		b, cut = b[:maxRaw], true
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&sb, `\x%02x`, b[0])
		case r == '\\':
			sb.WriteString(`\\`)
		case r == '\t' || (unicode.IsPrint(r) || r == ' '):
			sb.WriteRune(r)
		default:
			q := strconv.QuoteRune(r) // 'x' with the escape inside
			sb.WriteString(q[1 : len(q)-1])
		}
		b = b[n:]
	}
	if cut {
		sb.WriteString("…")
	}
	return sb.String()
}

// quarantine records one malformed source row: it counts it by reason and
// hands it to Options.OnQuarantine; under Options.Strict it returns the
// error that stops the import instead.
func (e *emitter) quarantine(line int64, column string, reason event.Reason, raw []byte, format string, args ...any) error {
	q := event.Quarantined{Path: e.st.Input, Row: line, Column: column, Reason: reason,
		Detail: fmt.Sprintf(format, args...), Raw: escapeRaw(raw)}
	if e.strict {
		return &RowError{Q: q}
	}
	if e.st.QuarantinedByReason == nil {
		e.st.QuarantinedByReason = map[string]int64{}
	}
	e.st.Quarantined++
	if e.first == nil {
		e.first = &q
	}
	e.st.QuarantinedByReason[string(reason)]++
	if e.onQuarantine != nil {
		return e.onQuarantine(q)
	}
	return nil
}

// RowError is the error of the first malformed source row of an import
// under Options.Strict.
type RowError struct{ Q event.Quarantined }

func (e *RowError) Error() string {
	col := ""
	if e.Q.Column != "" {
		col = " column " + e.Q.Column + ":"
	}
	return fmt.Sprintf("import %s: line %d:%s %s (%s): %s; fix the line, or run without --strict to quarantine such rows and go on",
		e.Q.Path, e.Q.Row, col, e.Q.Detail, e.Q.Reason, shorten(e.Q.Raw, 200))
}

// shorten cuts s to at most n bytes of text for a message.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

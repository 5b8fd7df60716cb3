package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"
)

// MaxExamples is the number of example rows a Diff keeps per table.
const MaxExamples = 5

// Diff is the difference between two replays A and B, table by table:
// rows only in B are added, rows only in A removed, rows with the same key
// but other values changed. Signals are keyed by (shop_id, buyer_id,
// signal_id), conversations by (shop_id, buyer_id, conversation_id), orders
// by (shop_id, buyer_id, order_id), sessions by (shop_id, buyer_id,
// started_at). Counts compares the deterministic part of the two summaries
// (replay.json or a golden counts.json), when both have one.
//
// Sessions (sessions.parquet, written only by replays that track them) are
// compared when both replays have them; when only one has, SessionsOnlyIn
// names it ("A" or "B") and the replays differ.
type Diff struct {
	Signals        TableDiff   `json:"signals"`
	Conversations  TableDiff   `json:"conversations"`
	Orders         TableDiff   `json:"orders"`
	Sessions       *TableDiff  `json:"sessions,omitempty"`
	SessionsOnlyIn string      `json:"sessions_only_in,omitempty"`
	Counts         []ValueDiff `json:"counts"`
}

// TableDiff is the difference of one table.
type TableDiff struct {
	RowsA   int `json:"rows_a"`
	RowsB   int `json:"rows_b"`
	Added   int `json:"added"`
	Removed int `json:"removed"`
	Changed int `json:"changed"`
	// ByKind splits the signal differences by signal kind.
	ByKind   map[string]*KindDiff `json:"by_kind,omitempty"`
	Examples []Example            `json:"examples"`
}

// KindDiff counts the differences of one signal kind.
type KindDiff struct {
	Added   int `json:"added"`
	Removed int `json:"removed"`
	Changed int `json:"changed"`
}

// Example is one differing row: A and B in canonical JSON (nil where absent)
// and, for a changed row, the names of the fields that differ.
type Example struct {
	Change string          `json:"change"` // added | removed | changed
	Key    string          `json:"key"`
	Fields []string        `json:"fields,omitempty"`
	A      json.RawMessage `json:"a,omitempty"`
	B      json.RawMessage `json:"b,omitempty"`
}

// ValueDiff is one differing summary value, by JSON path.
type ValueDiff struct {
	Path string          `json:"path"`
	A    json.RawMessage `json:"a"`
	B    json.RawMessage `json:"b"`
}

// Equal reports whether the two replays are the same.
func (d *Diff) Equal() bool {
	return d.Signals.equal() && d.Conversations.equal() && d.Orders.equal() &&
		(d.Sessions == nil || d.Sessions.equal()) && d.SessionsOnlyIn == "" && len(d.Counts) == 0
}

// Brief is the difference in one line: per table, rows added (+), removed
// (-) and changed (~), and the number of differing counts.
func (d *Diff) Brief() string {
	f := func(name string, t *TableDiff) string {
		return fmt.Sprintf("%s +%d -%d ~%d", name, t.Added, t.Removed, t.Changed)
	}
	parts := []string{f("signals", &d.Signals), f("conversations", &d.Conversations), f("orders", &d.Orders)}
	switch {
	case d.Sessions != nil:
		parts = append(parts, f("sessions", d.Sessions))
	case d.SessionsOnlyIn != "":
		parts = append(parts, "sessions only in "+d.SessionsOnlyIn)
	}
	return strings.Join(append(parts, fmt.Sprintf("%d counts", len(d.Counts))), ", ")
}

func (t *TableDiff) equal() bool { return t.Added == 0 && t.Removed == 0 && t.Changed == 0 }

// Compare computes the difference between replays a and b.
func Compare(a, b *Tables) *Diff {
	d := &Diff{}
	d.Signals = diffTable(a.Signals, b.Signals,
		func(s signal.Signal) string { return s.ShopID + "/" + s.BuyerID + "/" + s.SignalID },
		func(s signal.Signal) string { return s.Kind }, SignalToJSON)
	d.Conversations = diffTable(a.Conversations, b.Conversations,
		func(c signal.Conversation) string { return c.ShopID + "/" + c.BuyerID + "/" + c.ConversationID },
		nil, ConversationToJSON)
	d.Orders = diffTable(a.Orders, b.Orders,
		func(o signal.Order) string { return o.ShopID + "/" + o.BuyerID + "/" + o.OrderID },
		nil, OrderToJSON)
	switch {
	case a.WithSessions && b.WithSessions:
		t := diffTable(a.Sessions, b.Sessions,
			func(s replay.Session) string {
				return s.ShopID + "/" + s.BuyerID + "/" + Timestamp(s.StartedAt).String()
			},
			nil, SessionToJSON)
		d.Sessions = &t
	case a.WithSessions:
		d.SessionsOnlyIn = "A"
	case b.WithSessions:
		d.SessionsOnlyIn = "B"
	}
	if a.Summary != nil && b.Summary != nil {
		d.Counts = diffJSON(a.Summary.Deterministic(), b.Summary.Deterministic())
	}
	return d
}

// keyed indexes rows by key; repeated keys get a "#n" suffix in order.
func keyed[R any](rows []R, key func(R) string) (map[string]R, []string) {
	m := make(map[string]R, len(rows))
	keys := make([]string, 0, len(rows))
	for _, r := range rows {
		k := key(r)
		for n := 2; ; n++ {
			if _, dup := m[k]; !dup {
				break
			}
			k = fmt.Sprintf("%s#%d", key(r), n)
		}
		m[k] = r
		keys = append(keys, k)
	}
	return m, keys
}

func diffTable[R, J any](a, b []R, key func(R) string, kind func(R) string, canon func(R) J) TableDiff {
	t := TableDiff{RowsA: len(a), RowsB: len(b)}
	ma, ka := keyed(a, key)
	mb, kb := keyed(b, key)
	byKind := func(r R) *KindDiff {
		if kind == nil {
			return &KindDiff{}
		}
		if t.ByKind == nil {
			t.ByKind = map[string]*KindDiff{}
		}
		k := kind(r)
		if t.ByKind[k] == nil {
			t.ByKind[k] = &KindDiff{}
		}
		return t.ByKind[k]
	}
	enc := func(r R) json.RawMessage {
		b, _ := json.Marshal(canon(r))
		return b
	}
	example := func(e Example) {
		if len(t.Examples) < MaxExamples {
			t.Examples = append(t.Examples, e)
		}
	}
	for _, k := range ka {
		ra := ma[k]
		rb, ok := mb[k]
		if !ok {
			t.Removed++
			byKind(ra).Removed++
			example(Example{Change: "removed", Key: k, A: enc(ra)})
			continue
		}
		ja, jb := enc(ra), enc(rb)
		if !bytes.Equal(ja, jb) {
			t.Changed++
			byKind(ra).Changed++
			example(Example{Change: "changed", Key: k, Fields: changedFields(ja, jb), A: ja, B: jb})
		}
	}
	for _, k := range kb {
		if _, ok := ma[k]; !ok {
			t.Added++
			byKind(mb[k]).Added++
			example(Example{Change: "added", Key: k, B: enc(mb[k])})
		}
	}
	return t
}

// changedFields lists the top-level keys whose values differ.
func changedFields(a, b json.RawMessage) []string {
	var ma, mb map[string]json.RawMessage
	json.Unmarshal(a, &ma)
	json.Unmarshal(b, &mb)
	var f []string
	for k, v := range ma {
		if !bytes.Equal(v, mb[k]) {
			f = append(f, k)
		}
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			f = append(f, k)
		}
	}
	sort.Strings(f)
	return f
}

// diffJSON flattens both values to JSON paths and lists the differing leaves.
func diffJSON(a, b any) []ValueDiff {
	fa, fb := map[string]json.RawMessage{}, map[string]json.RawMessage{}
	flatten("", mustJSON(a), fa)
	flatten("", mustJSON(b), fb)
	var paths []string
	for p := range fa {
		paths = append(paths, p)
	}
	for p := range fb {
		if _, ok := fa[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	var out []ValueDiff
	null := json.RawMessage("null")
	for _, p := range paths {
		va, vb := fa[p], fb[p]
		if bytes.Equal(va, vb) {
			continue
		}
		if va == nil {
			va = null
		}
		if vb == nil {
			vb = null
		}
		out = append(out, ValueDiff{Path: p, A: va, B: vb})
	}
	return out
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain data types are passed
	}
	return b
}

func flatten(prefix string, raw json.RawMessage, out map[string]json.RawMessage) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err == nil && m != nil {
		for k, v := range m {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(p, v, out)
		}
		return
	}
	out[prefix] = raw
}

// WriteText writes a readable summary of d: per table, the rows added,
// removed and changed (signals also per kind), the differing counts, and the
// first examples with A above B.
func (d *Diff) WriteText(w io.Writer, labelA, labelB string) {
	if d.Equal() {
		sessions := ""
		if d.Sessions != nil {
			sessions = fmt.Sprintf(", %d sessions", d.Sessions.RowsA)
		}
		fmt.Fprintf(w, "no differences between %s and %s (%d signals, %d conversations, %d orders%s)\n",
			labelA, labelB, d.Signals.RowsA, d.Conversations.RowsA, d.Orders.RowsA, sessions)
		return
	}
	fmt.Fprintf(w, "differences between A = %s and B = %s:\n", labelA, labelB)
	for _, t := range d.tables() {
		fmt.Fprintf(w, "  %-14s %d in A, %d in B: %d added, %d removed, %d changed\n",
			t.name+":", t.t.RowsA, t.t.RowsB, t.t.Added, t.t.Removed, t.t.Changed)
		kinds := make([]string, 0, len(t.t.ByKind))
		for k := range t.t.ByKind {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			kd := t.t.ByKind[k]
			fmt.Fprintf(w, "    %-18s +%d -%d ~%d\n", k, kd.Added, kd.Removed, kd.Changed)
		}
	}
	if d.SessionsOnlyIn != "" {
		has, lacks := labelA, labelB
		if d.SessionsOnlyIn == "B" {
			has, lacks = labelB, labelA
		}
		fmt.Fprintf(w, "  %-14s only %s = %s has them; %s did not track sessions "+
			"(a replay tracks them with --sessions, or with an --experiment whose analysis.unit is buyer or session)\n",
			"sessions:", d.SessionsOnlyIn, has, lacks)
	}
	if len(d.Counts) > 0 {
		fmt.Fprintf(w, "  counts: %d values differ\n", len(d.Counts))
		for i, c := range d.Counts {
			if i == 20 {
				fmt.Fprintf(w, "    ... %d more\n", len(d.Counts)-i)
				break
			}
			fmt.Fprintf(w, "    %-48s A %s  B %s\n", c.Path, c.A, c.B)
		}
	}
	for _, t := range d.tables() {
		for _, e := range t.t.Examples {
			fmt.Fprintf(w, "  %s %s %s", e.Change, t.row, e.Key)
			if len(e.Fields) > 0 {
				fmt.Fprintf(w, " (fields: %s)", strings.Join(e.Fields, ", "))
			}
			fmt.Fprintln(w)
			if e.A != nil {
				fmt.Fprintf(w, "    A: %s\n", e.A)
			}
			if e.B != nil {
				fmt.Fprintf(w, "    B: %s\n", e.B)
			}
		}
	}
}

// namedTable is a table of a Diff with its name and the name of its rows.
type namedTable struct {
	name, row string
	t         *TableDiff
}

// tables are the compared tables of d, in the order WriteText lists them.
func (d *Diff) tables() []namedTable {
	ts := []namedTable{{"signals", "signal", &d.Signals}, {"conversations", "conversation", &d.Conversations},
		{"orders", "order", &d.Orders}}
	if d.Sessions != nil {
		ts = append(ts, namedTable{"sessions", "session", d.Sessions})
	}
	return ts
}

// Golden set files (canonical JSON Lines and counts.json).
const (
	GoldenSignalsFile       = "signals.jsonl"
	GoldenConversationsFile = "conversations.jsonl"
	GoldenOrdersFile        = "orders.jsonl"
	// GoldenSessionsFile is in a golden set when its replay tracked
	// sessions (o.WithSessions).
	GoldenSessionsFile = "sessions.jsonl"
)

// WriteGolden writes o as a golden set into dir: signals.jsonl,
// conversations.jsonl, orders.jsonl, sessions.jsonl when o tracked sessions
// (canonical JSON Lines, sorted) and counts.json (the deterministic part of
// sum). Other files in dir (a README.md) are left alone; a caller that
// replaces a golden set removes a sessions.jsonl the new set lacks
// (signalab replay --update does, through internal/outdir).
func WriteGolden(dir string, o *Tables, sum Summary) error {
	o.Sort()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create golden folder: %w", err)
	}
	if err := atomicfile.Write(filepath.Join(dir, GoldenSignalsFile), func(w io.Writer) error {
		return WriteJSONL(w, o.Signals, SignalToJSON)
	}); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, GoldenConversationsFile), func(w io.Writer) error {
		return WriteJSONL(w, o.Conversations, ConversationToJSON)
	}); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, GoldenOrdersFile), func(w io.Writer) error {
		return WriteJSONL(w, o.Orders, OrderToJSON)
	}); err != nil {
		return err
	}
	if o.WithSessions {
		if err := atomicfile.Write(filepath.Join(dir, GoldenSessionsFile), func(w io.Writer) error {
			return WriteJSONL(w, o.Sessions, SessionToJSON)
		}); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(sum.Deterministic(), "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, GoldenCountsFile), append(b, '\n'))
}

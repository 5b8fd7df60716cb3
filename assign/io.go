package assign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/signal"

	"github.com/signalab/signalab/internal/safeio"
)

// Output file names written by WriteOutputs.
const (
	AssignmentsFile = "assignments.parquet"
	SummaryFile     = "assign.json"
)

// ConversationColumnsRequired are the conversations.parquet columns assign
// reads: the unit ids, channel and started_at (filters on triggered and
// had_cart_at_start read those too).
var ConversationColumnsRequired = []string{"conversation_id", "shop_id", "buyer_id", "channel", "started_at"}

// ReadConversations streams the rows of a conversations.parquet file (the
// replay's output, signal.Conversation) to fn, in file order. It stops at the
// first error fn returns.
func ReadConversations(path string, fn func(c *signal.Conversation) error) error {
	f, err := safeio.Open(path)
	if err != nil {
		return fmt.Errorf("read conversations: %w (run signalab replay first, or check --in)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("read conversations: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("conversations %s: not a readable Parquet file: %w", path, err)
	}
	for _, c := range ConversationColumnsRequired {
		if _, ok := pf.Schema().Lookup(c); !ok {
			return fmt.Errorf("conversations %s: no column %s (want the replay's conversations.parquet)", path, c)
		}
	}
	r := parquet.NewGenericReader[signal.Conversation](pf)
	defer r.Close()
	buf := make([]signal.Conversation, 1024)
	var row int64
	for {
		n, err := r.Read(buf)
		for i := 0; i < n; i++ {
			row++
			if ferr := fn(&buf[i]); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("conversations %s: row %d: %w", path, row+1, err)
		}
	}
}

// RunFile assigns the conversations of a conversations.parquet file, streaming
// them through a Runner.
func RunFile(cfg *Config, conversationsPath string, exposures *ExposureLog) (*Result, error) {
	r, err := NewRunner(cfg, exposures)
	if err != nil {
		return nil, err
	}
	err = ReadConversations(conversationsPath, func(c *signal.Conversation) error {
		r.Add(c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.Result(), nil
}

// WriteOutputs writes dir/assignments.parquet (zstd, one row per unit, sorted
// by unit_id) and dir/assign.json (the Summary, indented), each atomically.
func WriteOutputs(dir string, res *Result) error {
	err := atomicfile.Write(filepath.Join(dir, AssignmentsFile), func(w io.Writer) error {
		return WriteAssignments(w, res.Assignments)
	})
	if err != nil {
		return err
	}
	b, err := MarshalSummary(&res.Summary)
	if err != nil {
		return err
	}
	return atomicfile.WriteBytes(filepath.Join(dir, SummaryFile), b)
}

// MarshalSummary renders a Summary as indented JSON with a final newline.
func MarshalSummary(s *Summary) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode %s: %w", SummaryFile, err)
	}
	return buf.Bytes(), nil
}

// WriteAssignments writes rows as an assignments.parquet stream to w.
func WriteAssignments(w io.Writer, rows []Assignment) error {
	pw := parquet.NewGenericWriter[Assignment](w, parquet.Compression(&zstd.Codec{}))
	const chunk = 1 << 16
	for i := 0; i < len(rows); i += chunk {
		if _, err := pw.Write(rows[i:min(i+chunk, len(rows))]); err != nil {
			return err
		}
	}
	return pw.Close()
}

// ReadAssignments reads an assignments.parquet file (the output of assign, or
// a user's own table with the columns unit_id, variant, in_experiment and
// optionally bucket and reason).
func ReadAssignments(path string) ([]Assignment, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read assignments: %w (run signalab assign first)", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read assignments: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("assignments %s: not a readable Parquet file: %w", path, err)
	}
	for _, c := range []string{"unit_id", "variant", "in_experiment"} {
		if _, ok := pf.Schema().Lookup(c); !ok {
			return nil, fmt.Errorf("assignments %s: no column %s (want unit_id, variant, bucket, in_experiment, reason)", path, c)
		}
	}
	r := parquet.NewGenericReader[Assignment](pf)
	defer r.Close()
	out := make([]Assignment, 0, pf.NumRows())
	buf := make([]Assignment, 1024)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("assignments %s: row %d: %w", path, len(out)+1, err)
		}
	}
}

package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// MaxLineBytes bounds one JSONL line, so a file without newlines cannot
// exhaust memory (docs/limits.md).
const MaxLineBytes = 64 << 20

// MaxRecordBytes bounds one CSV record: a row, with the line breaks inside
// its quoted fields (docs/limits.md).
const MaxRecordBytes = 64 << 20

// maxRaw bounds Quarantined.Raw.
const maxRaw = 64 << 10

type jsonlSource struct {
	fi   FileInfo
	file int32
	t    *textFile
	pool *batchPool
	line int64
	buf  []byte
	size int
	eof  bool
}

func openJSONLSource(fi FileInfo, file int32, opts ReadOptions, pool *batchPool) (source, error) {
	t, err := openText(fi, 0)
	if err != nil {
		return nil, err
	}
	return &jsonlSource{fi: fi, file: file, t: t, pool: pool, size: opts.BatchSize}, nil
}

func (s *jsonlSource) close() error { return s.t.close() }

// readLine returns the next line without its newline, or io.EOF.
func (s *jsonlSource) readLine() ([]byte, error) {
	s.buf = s.buf[:0]
	for {
		chunk, err := s.t.r.ReadSlice('\n')
		s.buf = append(s.buf, chunk...)
		if len(s.buf) > MaxLineBytes {
			return nil, fmt.Errorf("read events %s: line %d is longer than %d MiB; is this really JSON Lines (one event object per line)?", s.fi.Path, s.line+1, MaxLineBytes>>20)
		}
		switch err {
		case nil:
			return bytes.TrimRight(s.buf, "\r\n"), nil
		case io.EOF:
			if len(s.buf) == 0 {
				return nil, io.EOF
			}
			return s.buf, nil
		case bufioErrBufferFull:
			continue
		default:
			return nil, fmt.Errorf("read events %s: line %d: %w", s.fi.Path, s.line+1, err)
		}
	}
}

func (s *jsonlSource) next() (*batch, error) {
	if s.eof {
		return nil, io.EOF
	}
	b := s.pool.get()
	for len(b.events) < s.size {
		line, err := s.readLine()
		if err == io.EOF {
			s.eof = true
			break
		}
		if err != nil {
			s.pool.put(b)
			return nil, err
		}
		s.line++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		b.rows++
		b.events = append(b.events, Event{File: s.file, Row: s.line})
		e := &b.events[len(b.events)-1]
		if p := parseJSONEvent(line, e); p != nil {
			b.events = b.events[:len(b.events)-1]
			b.quar = append(b.quar, Quarantined{
				Path: s.fi.Path, File: s.file, Row: s.line,
				Column: p.Column, Reason: p.Reason, Detail: p.Detail, Raw: rawText(line),
			})
		}
	}
	if s.eof && s.line == 0 {
		s.pool.put(b)
		return nil, fmt.Errorf("read events %s: file has no lines; a JSONL event log needs one JSON object per line", s.fi.Path)
	}
	return b, nil
}

func rawText(line []byte) string {
	if len(line) > maxRaw {
		return string(line[:maxRaw]) + "…"
	}
	return string(line)
}

// ParseJSONEvent parses one JSONL line into e (provenance untouched) and
// validates it. The line must be one JSON object; keys match exactly
// (case-sensitive). Strings are JSON strings; timestamps an RFC 3339 string or an
// integer of µs since the epoch; item_count and money a JSON integer or a
// string holding one (as BigQuery exports INT64); product_ids an array of
// strings; null or "" means absent; unknown keys are ignored.
func ParseJSONEvent(line []byte, e *Event) *Problem { return parseJSONEvent(line, e) }

func parseJSONEvent(line []byte, e *Event) (p *Problem) {
	defer func() {
		// Parsing must not take the reader down on hostile input.
		if r := recover(); r != nil {
			p = problemf("", ReasonMalformedRow, "not a JSON object (parser failed: %v)", r)
		}
	}()
	vals, err := scanJSONObject(line)
	if err != nil {
		return problemf("", ReasonMalformedRow, "not a JSON object: %v", err)
	}
	// One copy of the line per event: string values are substrings of it
	// (a value's offset in line is cap(line) - cap(value)).
	text := string(line)
	for f := field(0); f < numFields; f++ {
		raw := vals[f]
		if len(raw) == 0 || string(raw) == "null" {
			if f == fEventTime {
				return missingTime(e)
			}
			continue
		}
		off := cap(line) - cap(raw)
		if p := setJSON(e, f, raw, text[off:off+len(raw)]); p != nil {
			return p
		}
	}
	return Validate(e)
}

// setJSON sets field f from its raw JSON value; str is the same bytes as a
// string sharing the event's line copy.
func setJSON(e *Event, f field, raw []byte, str string) *Problem {
	col := Columns[f]
	switch f {
	case fProductIDs:
		ids, ok := stringArray(raw, str)
		if !ok {
			return problemf(col, ReasonBadValue, "product_ids must be a JSON array of strings, got %s", truncate(string(raw)))
		}
		e.ProductIDs = ids
		return nil
	case fEventTime, fIngestTime, fItemCount, fCartValue, fOrderValue:
		if raw[0] != '"' {
			if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
				if _, err := strconv.ParseInt(str, 10, 64); err != nil {
					r := ReasonBadValue
					if f == fEventTime || f == fIngestTime {
						r = ReasonBadTimestamp
					}
					return problemf(col, r, "%s %s is not an integer", col, truncate(string(raw)))
				}
				return setText(e, f, str)
			}
			if f == fEventTime || f == fIngestTime {
				return problemf(col, ReasonBadTimestamp, "%s must be an RFC 3339 string or integer microseconds, got %s", col, truncate(string(raw)))
			}
			return problemf(col, ReasonBadValue, "%s must be an integer, got %s", col, truncate(string(raw)))
		}
	default:
		if raw[0] != '"' {
			return problemf(col, ReasonBadValue, "%s must be a JSON string, got %s", col, truncate(string(raw)))
		}
	}
	s, err := jsonString(raw, str)
	if err != nil {
		return problemf(col, ReasonBadValue, "%s: %v", col, err)
	}
	if s == "" {
		if f == fEventTime {
			return missingTime(e)
		}
		return nil
	}
	return setText(e, f, s)
}

// jsonString decodes the JSON string literal raw (str: the same bytes as a
// string), without copying when it has no escapes.
func jsonString(raw []byte, str string) (string, error) {
	if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		// Invalid UTF-8 is kept (encoding/json would turn it into U+FFFD
		// and hide it): Validate quarantines it.
		return str[1 : len(str)-1], nil
	}
	if !utf8.Valid(raw) {
		// With escapes: decode them, then put the invalid bytes back so
		// that Validate sees them.
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

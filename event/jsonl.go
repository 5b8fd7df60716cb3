package event

import (
	"bytes"
	"fmt"
	json "github.com/goccy/go-json"
	"io"
	"strconv"
)

// maxLine bounds one JSONL line, so a file without newlines cannot exhaust memory.
const maxLine = 64 << 20

// maxRaw bounds Quarantined.Raw.
const maxRaw = 64 << 10

// jsonEvent holds the raw JSON value of each v1 key of one JSONL object.
// Other keys are ignored.
type jsonEvent struct {
	EventID         json.RawMessage `json:"event_id"`
	Kind            json.RawMessage `json:"kind"`
	EventTime       json.RawMessage `json:"event_time"`
	IngestTime      json.RawMessage `json:"ingest_time"`
	ShopID          json.RawMessage `json:"shop_id"`
	BuyerID         json.RawMessage `json:"buyer_id"`
	ConversationID  json.RawMessage `json:"conversation_id"`
	Channel         json.RawMessage `json:"channel"`
	Sender          json.RawMessage `json:"sender"`
	CartToken       json.RawMessage `json:"cart_token"`
	ItemCount       json.RawMessage `json:"item_count"`
	CartValueCents  json.RawMessage `json:"cart_value_cents"`
	ProductIDs      json.RawMessage `json:"product_ids"`
	OrderID         json.RawMessage `json:"order_id"`
	OrderValueCents json.RawMessage `json:"order_value_cents"`
	Currency        json.RawMessage `json:"currency"`
}

func (j *jsonEvent) values() [numFields]json.RawMessage {
	return [numFields]json.RawMessage{
		j.EventID, j.Kind, j.EventTime, j.IngestTime, j.ShopID, j.BuyerID,
		j.ConversationID, j.Channel, j.Sender, j.CartToken, j.ItemCount,
		j.CartValueCents, j.ProductIDs, j.OrderID, j.OrderValueCents, j.Currency,
	}
}

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
	t, err := openText(fi)
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
		if len(s.buf) > maxLine {
			return nil, fmt.Errorf("read events %s: line %d is longer than %d MiB; is this really JSON Lines (one event object per line)?", s.fi.Path, s.line+1, maxLine>>20)
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

// JSON is decoded with github.com/goccy/go-json (already in the module graph
// through arrow-go): about 1.6× the throughput of encoding/json here, see
// docs/benchmarks/event-io.md.

// ParseJSONEvent parses one JSONL line into e (provenance untouched) and
// validates it. Strings are JSON strings; timestamps an RFC 3339 string or an
// integer of µs since the epoch; item_count and money a JSON integer or a
// string holding one (as BigQuery exports INT64); product_ids an array of
// strings; null or "" means absent; unknown keys are ignored.
func ParseJSONEvent(line []byte, e *Event) *Problem { return parseJSONEvent(line, e) }

func parseJSONEvent(line []byte, e *Event) (p *Problem) {
	defer func() {
		// The JSON decoder must not take the reader down on hostile input.
		if r := recover(); r != nil {
			p = problemf("", ReasonMalformedRow, "not a JSON object (decoder failed: %v)", r)
		}
	}()
	var j jsonEvent
	if err := json.Unmarshal(line, &j); err != nil {
		return problemf("", ReasonMalformedRow, "not a JSON object: %v", err)
	}
	vals := j.values()
	for f := field(0); f < numFields; f++ {
		raw := vals[f]
		if len(raw) == 0 || string(raw) == "null" {
			if f == fEventTime {
				return missing("event_time")
			}
			continue
		}
		if p := setJSON(e, f, raw); p != nil {
			return p
		}
	}
	return Validate(e)
}

func setJSON(e *Event, f field, raw json.RawMessage) *Problem {
	col := Columns[f]
	switch f {
	case fProductIDs:
		var ids []string
		if err := json.Unmarshal(raw, &ids); err != nil {
			return problemf(col, ReasonBadValue, "product_ids must be a JSON array of strings, got %s", truncate(string(raw)))
		}
		e.ProductIDs = ids
		return nil
	case fEventTime, fIngestTime, fItemCount, fCartValue, fOrderValue:
		if raw[0] != '"' {
			if raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9') {
				if _, err := strconv.ParseInt(string(raw), 10, 64); err != nil {
					r := ReasonBadValue
					if f == fEventTime || f == fIngestTime {
						r = ReasonBadTimestamp
					}
					return problemf(col, r, "%s %s is not an integer", col, truncate(string(raw)))
				}
				return setText(e, f, string(raw))
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
	s, err := jsonString(raw)
	if err != nil {
		return problemf(col, ReasonBadValue, "%s: %v", col, err)
	}
	if s == "" {
		if f == fEventTime {
			return missing("event_time")
		}
		return nil
	}
	return setText(e, f, s)
}

// jsonString decodes a JSON string literal, without reflection when it has
// no escapes.
func jsonString(raw []byte) (string, error) {
	if len(raw) >= 2 && raw[len(raw)-1] == '"' && bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1]), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

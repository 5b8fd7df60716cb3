package event

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/signalab/signalab/internal/safeio"
)

type csvSource struct {
	fi       FileInfo
	file     int32
	t        *textFile
	cr       *csv.Reader
	pool     *batchPool
	size     int
	cols     []field // per CSV column: its field, or -1 when ignored
	width    int
	eof      bool
	prevLine int
	stuck    int
}

// openCSVSource opens a CSV file and reads its header. Columns are matched by
// name (surrounding spaces and a UTF-8 byte-order mark ignored); unknown
// columns are ignored; a missing required column is an error.
func openCSVSource(fi FileInfo, file int32, opts ReadOptions, pool *batchPool) (source, error) {
	t, err := openText(fi, MaxRecordBytes)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(t.r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	t.lim.Reset()
	if err == io.EOF {
		t.close()
		return nil, fmt.Errorf("read events %s: no header row; a CSV event log starts with a header such as event_id,kind,event_time,shop_id,buyer_id", fi.Path)
	}
	if err != nil {
		t.close()
		return nil, fmt.Errorf("read events %s: header: %v; check that the file is CSV", fi.Path, err)
	}
	s := &csvSource{fi: fi, file: file, t: t, cr: cr, pool: pool, size: opts.BatchSize, width: len(header)}
	var seen [numFields]bool
	for _, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		f, ok := fieldByName(h)
		if !ok || seen[f] {
			s.cols = append(s.cols, -1)
			continue
		}
		seen[f] = true
		s.cols = append(s.cols, f)
	}
	for f := field(0); f < numFields; f++ {
		if requiredColumn(f) && !seen[f] {
			t.close()
			return nil, fmt.Errorf("read events %s: header has no %s column (found %s); every event log needs event_id, kind, event_time, shop_id and buyer_id",
				fi.Path, Columns[f], truncate(strings.Join(header, ",")))
		}
	}
	return s, nil
}

func (s *csvSource) close() error { return s.t.close() }

func (s *csvSource) next() (*batch, error) {
	if s.eof {
		return nil, io.EOF
	}
	b := s.pool.get()
	for len(b.events) < s.size {
		rec, err := s.cr.Read()
		s.t.lim.Reset()
		if err == io.EOF {
			s.eof = true
			break
		}
		var pe *csv.ParseError
		if err != nil && errors.As(err, &pe) {
			// The csv package resumes at the next record after a parse
			// error; guard against a reader that makes no progress.
			if pe.StartLine == s.prevLine {
				if s.stuck++; s.stuck > 3 {
					s.pool.put(b)
					return nil, fmt.Errorf("read events %s: line %d: %v; check the CSV quoting", s.fi.Path, pe.StartLine, err)
				}
			}
			s.prevLine = pe.StartLine
			b.rows++
			b.quar = append(b.quar, Quarantined{Path: s.fi.Path, File: s.file, Row: int64(pe.StartLine),
				Reason: ReasonMalformedRow, Detail: fmt.Sprintf("invalid CSV: %v", pe.Err)})
			continue
		}
		if safeio.IsTooLong(err) {
			s.pool.put(b)
			return nil, fmt.Errorf("read events %s: line %d: a CSV record (one row, line breaks inside quotes included) longer than %s; is a quote left open? (docs/limits.md)",
				s.fi.Path, s.prevLine+1, safeio.Size(MaxRecordBytes))
		}
		if err != nil {
			s.pool.put(b)
			return nil, fmt.Errorf("read events %s: after line %d: %w", s.fi.Path, s.prevLine, err)
		}
		line, _ := s.cr.FieldPos(0)
		s.prevLine, s.stuck = line, 0
		if len(rec) == 1 && rec[0] == "" {
			continue // blank line
		}
		b.rows++
		b.events = append(b.events, Event{File: s.file, Row: int64(line)})
		e := &b.events[len(b.events)-1]
		p := s.parse(rec, e)
		if p != nil {
			b.events = b.events[:len(b.events)-1]
			b.quar = append(b.quar, Quarantined{Path: s.fi.Path, File: s.file, Row: int64(line),
				Column: p.Column, Reason: p.Reason, Detail: p.Detail, Raw: csvRaw(rec)})
		}
	}
	return b, nil
}

func (s *csvSource) parse(rec []string, e *Event) *Problem {
	if len(rec) != s.width {
		return problemf("", ReasonMalformedRow, "row has %d fields, the header has %d", len(rec), s.width)
	}
	hasTime := false
	for i, v := range rec {
		f := s.cols[i]
		if f < 0 || v == "" {
			continue
		}
		if f == fEventTime {
			hasTime = true
		}
		if p := setText(e, f, v); p != nil {
			return p
		}
	}
	if !hasTime {
		return missingTime(e)
	}
	return Validate(e)
}

// csvRaw renders a parsed record back as one CSV line.
func csvRaw(rec []string) string {
	var sb strings.Builder
	w := csv.NewWriter(&sb)
	w.Write(rec)
	w.Flush()
	return rawText([]byte(strings.TrimRight(sb.String(), "\n")))
}

package event

import (
	"errors"
	"unicode/utf8"
)

// A small scanner for the flat JSON objects of JSON Lines event logs. It
// checks the full JSON grammar (RFC 8259) of the line, finds the value of
// each known key without decoding the others, and returns string values
// without escapes as sub-slices of the line, so a typical event line costs a
// few allocations instead of one per key. Escaped strings are decoded by
// the standard library. FuzzJSONScanDifferential compares it with
// encoding/json.

var errSyntax = errors.New("invalid JSON")

type jsonScanner struct {
	b []byte
	i int
}

func (s *jsonScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str scans a string starting at the opening quote and returns its contents
// (without quotes) and whether it contains escapes.
func (s *jsonScanner) str() (content []byte, escaped bool, err error) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, errSyntax
	}
	start := s.i + 1
	for i := start; i < len(s.b); {
		c := s.b[i]
		switch {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(s.b) {
				return nil, false, errSyntax
			}
			switch s.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.b) {
					return nil, false, errSyntax
				}
				for _, h := range s.b[i+2 : i+6] {
					if !isHex(h) {
						return nil, false, errSyntax
					}
				}
				i += 6
			default:
				return nil, false, errSyntax
			}
		case c < 0x20:
			return nil, false, errSyntax
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(s.b[i:])
			if r == utf8.RuneError && size == 1 {
				escaped = true // invalid UTF-8: let the standard decoder replace it
			}
			i += size
		}
	}
	return nil, false, errSyntax
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number scans a JSON number.
func (s *jsonScanner) number() error {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	default:
		return errSyntax
	}
	if i < len(b) && b[i] == '.' {
		i++
		if i >= len(b) || !isDigit(b[i]) {
			return errSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i >= len(b) || !isDigit(b[i]) {
			return errSyntax
		}
		for i < len(b) && isDigit(b[i]) {
			i++
		}
	}
	s.i = i
	return nil
}

const maxJSONDepth = 1000

// value scans any JSON value and returns its raw bytes.
func (s *jsonScanner) value(depth int) ([]byte, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("JSON nested too deeply")
	}
	start := s.i
	if s.i >= len(s.b) {
		return nil, errSyntax
	}
	switch c := s.b[s.i]; {
	case c == '"':
		if _, _, err := s.str(); err != nil {
			return nil, err
		}
	case c == '-' || isDigit(c):
		if err := s.number(); err != nil {
			return nil, err
		}
	case c == 't':
		if err := s.lit("true"); err != nil {
			return nil, err
		}
	case c == 'f':
		if err := s.lit("false"); err != nil {
			return nil, err
		}
	case c == 'n':
		if err := s.lit("null"); err != nil {
			return nil, err
		}
	case c == '[':
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			break
		}
		for {
			s.ws()
			if _, err := s.value(depth + 1); err != nil {
				return nil, err
			}
			s.ws()
			if s.i >= len(s.b) {
				return nil, errSyntax
			}
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			if s.b[s.i] == ']' {
				s.i++
				break
			}
			return nil, errSyntax
		}
	case c == '{':
		if err := s.object(depth+1, nil); err != nil {
			return nil, err
		}
	default:
		return nil, errSyntax
	}
	return s.b[start:s.i], nil
}

func (s *jsonScanner) lit(w string) error {
	if len(s.b)-s.i < len(w) || string(s.b[s.i:s.i+len(w)]) != w {
		return errSyntax
	}
	s.i += len(w)
	return nil
}

// object scans an object starting at '{'. For each member it calls member
// with the raw key (without quotes; escaped reports escapes) and raw value.
func (s *jsonScanner) object(depth int, member func(key []byte, escaped bool, val []byte)) error {
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return errSyntax
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		key, esc, err := s.str()
		if err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != ':' {
			return errSyntax
		}
		s.i++
		s.ws()
		val, err := s.value(depth)
		if err != nil {
			return err
		}
		if member != nil {
			member(key, esc, val)
		}
		s.ws()
		if s.i >= len(s.b) {
			return errSyntax
		}
		switch s.b[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

// scanJSONObject checks that line is exactly one JSON object (surrounding
// whitespace allowed) and returns the raw values of the v1 keys (exact,
// case-sensitive match; the last of repeated keys wins).
func scanJSONObject(line []byte) (vals [numFields][]byte, err error) {
	s := jsonScanner{b: line}
	s.ws()
	err = s.object(0, func(key []byte, esc bool, val []byte) {
		if esc {
			return // no v1 key needs escapes
		}
		if f, ok := fieldByBytes(key); ok {
			vals[f] = val
		}
	})
	if err != nil {
		return vals, err
	}
	s.ws()
	if s.i != len(s.b) {
		return vals, errors.New("invalid JSON: data after the object")
	}
	return vals, nil
}

func fieldByBytes(key []byte) (field, bool) {
	for i, c := range Columns {
		if c == string(key) {
			return field(i), true
		}
	}
	return 0, false
}

// stringArray parses a JSON array of strings (raw bytes of a scanned value;
// str holds the same bytes, and unescaped elements are substrings of it).
func stringArray(raw []byte, str string) ([]string, bool) {
	s := jsonScanner{b: raw}
	if len(raw) == 0 || raw[0] != '[' {
		return nil, false
	}
	s.i = 1
	s.ws()
	out := []string{}
	if s.i < len(raw) && raw[s.i] == ']' {
		return out, true
	}
	for {
		s.ws()
		c, esc, err := s.str()
		if err != nil {
			return nil, false
		}
		from := s.i - len(c) - 2
		v, err := jsonString(raw[from:s.i], str[from:s.i])
		if esc && err != nil {
			return nil, false
		}
		out = append(out, v)
		s.ws()
		if s.i >= len(raw) {
			return nil, false
		}
		if raw[s.i] == ']' {
			return out, true
		}
		if raw[s.i] != ',' {
			return nil, false
		}
		s.i++
	}
}

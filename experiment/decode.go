package experiment

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// specDecoder decodes a YAML node tree into a Go value field by field, so that
// every problem names its key path (variants[1].weight) and line, unknown and
// duplicate keys are errors, and the keys present are recorded with their
// lines (to place the stages' validation errors). Absent keys leave the
// value as it was: the spec starts from the defaults (NewSpec); so do keys
// given without a value (`coverage:` or `coverage: null`), except that a
// null block (`namespace: null`) is no block.
//
// Besides structs, maps, lists and scalars it reads time.Time (RFC 3339 or a
// date), time.Duration (a Go duration string such as 24h) and any
// encoding.TextUnmarshaler (the typed names of the stages: stats.Test,
// metrics.Type, ...), whose parse error it reports at the key. A struct
// field tagged yaml:",inline" adds its fields' keys to its parent's.
type specDecoder struct {
	problems []Problem
	present  map[string]int // key path → line
}

var (
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	timeType            = reflect.TypeOf(time.Time{})
	durationType        = reflect.TypeOf(time.Duration(0))
	singleOrListType    = reflect.TypeOf((*interface{ SingleOrList() })(nil)).Elem()
)

func (d *specDecoder) fail(path string, line int, format string, args ...any) {
	d.problems = append(d.problems, Problem{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func joinPath(base, key string) string {
	if base == "" {
		return key
	}
	return base + "." + key
}

// yamlFields maps a struct's yaml keys to field index paths (inline fields'
// keys included), and lists the keys in field order.
func yamlFields(t reflect.Type) (map[string][]int, []string) {
	m := map[string][]int{}
	var names []string
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			parts := strings.Split(f.Tag.Get("yaml"), ",")
			idx := append(append([]int(nil), index...), i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct && len(parts) > 1 && parts[1] == "inline" {
				walk(f.Type, idx)
				continue
			}
			tag := parts[0]
			if tag == "" || tag == "-" || !f.IsExported() {
				continue
			}
			m[tag] = idx
			names = append(names, tag)
		}
	}
	walk(t, nil)
	return m, names
}

// decode fills v (addressable) from n; path is v's key path.
func (d *specDecoder) decode(n *yaml.Node, v reflect.Value, path string) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if d.present != nil && path != "" {
		d.present[path] = n.Line
	}
	t := v.Type()
	if t.Kind() == reflect.Pointer {
		if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
			v.SetZero()
			return
		}
		p := reflect.New(t.Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // a key without a value (key: or key: null) keeps its default
	}
	switch {
	case t == timeType:
		d.decodeTime(n, v, path)
		return
	case t == durationType:
		d.decodeDuration(n, v, path)
		return
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		if n.Kind != yaml.ScalarNode {
			d.fail(path, n.Line, "want a single value, got %s", describe(n))
			return
		}
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(path, n.Line, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		if n.Kind == yaml.ScalarNode && t.Implements(singleOrListType) {
			// A list that may be written as its only element (primary: x).
			sl := reflect.MakeSlice(t, 1, 1)
			d.decode(n, sl.Index(0), path)
			v.Set(sl)
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(path, n.Line, "want a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, c := range n.Content {
			d.decode(c, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Array:
		if n.Kind != yaml.SequenceNode || len(n.Content) != t.Len() {
			d.fail(path, n.Line, "want a list of %d values, got %s", t.Len(), describe(n))
			return
		}
		for i, c := range n.Content {
			d.decode(c, v.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
	default:
		d.decodeScalar(n, v, path)
	}
}

func (d *specDecoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n.Line, "want a mapping of keys, got %s", describe(n))
		return
	}
	fields, names := yamlFields(v.Type())
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		kp := joinPath(path, key)
		if seen[key] {
			d.fail(kp, k.Line, "key appears twice")
			continue
		}
		seen[key] = true
		fi, ok := fields[key]
		if !ok {
			where := "at the top level"
			if path != "" {
				where = "in " + path
			}
			d.fail(kp, k.Line, "unknown key %q %s (known keys: %s)", key, where, strings.Join(names, ", "))
			continue
		}
		d.decode(val, v.FieldByIndex(fi), kp)
	}
}

func (d *specDecoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n.Line, "want a mapping of keys, got %s", describe(n))
		return
	}
	t := v.Type()
	m := reflect.MakeMapWithSize(t, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		kp := joinPath(path, k.Value)
		key := reflect.ValueOf(k.Value).Convert(t.Key())
		if m.MapIndex(key).IsValid() {
			d.fail(kp, k.Line, "key appears twice")
			continue
		}
		e := reflect.New(t.Elem()).Elem()
		d.decode(val, e, kp)
		m.SetMapIndex(key, e)
	}
	v.Set(m)
}

func (d *specDecoder) decodeScalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n.Line, "want a single value, got %s", describe(n))
		return
	}
	s := n.Value
	switch v.Kind() {
	case reflect.String:
		v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil || n.Tag == "!!str" && s != "true" && s != "false" {
			d.fail(path, n.Line, "want true or false, got %q", s)
			return
		}
		v.SetBool(b)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
		if err == nil && n.Tag == "!!str" && n.Style != 0 {
			d.fail(path, n.Line, "want a number, got the quoted string %q (write it without quotes)", s)
			return
		}
		if err != nil {
			d.fail(path, n.Line, "want a number, got %q", s)
			return
		}
		v.SetFloat(f)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 10, 64)
		if err != nil || v.OverflowInt(i) {
			d.fail(path, n.Line, "want a whole number, got %q", s)
			return
		}
		v.SetInt(i)
	default:
		d.fail(path, n.Line, "unsupported value %q", s)
	}
}

// decodeTime accepts RFC 3339 timestamps (2026-03-01T00:00:00Z) and dates
// (2026-03-01, meaning midnight UTC).
func (d *specDecoder) decodeTime(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n.Line, "want a timestamp such as 2026-03-01T00:00:00Z, got %s", describe(n))
		return
	}
	s := n.Value
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t, err = time.Parse("2006-01-02", s)
	}
	if err != nil {
		d.fail(path, n.Line, "want a timestamp such as 2026-03-01T00:00:00Z, got %q", s)
		return
	}
	v.Set(reflect.ValueOf(t.UTC()))
}

// decodeDuration reads a Go duration string (24h, 90m, 1h30m).
func (d *specDecoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n.Line, "want a duration such as 24h or 90m, got %s", describe(n))
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(path, n.Line, "want a duration such as 24h or 90m, got %q", n.Value)
		return
	}
	v.SetInt(int64(dur))
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "nothing"
}

package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// manifestField is one top-level field of manifest.json shown in words:
// its key and one line per scalar, object or array element.
type manifestField struct {
	Key   string
	Lines []string
}

// maxManifestLine bounds a field's text; longer fields (the spec repeated,
// long lists) are left to the full manifest shown below the table.
const maxManifestLine = 400

// manifestFields renders manifest.json generically, in its own key order,
// without depending on its Go type (which belongs to the run stage):
// scalars as they are, objects as "key value · key value", arrays of
// scalars comma-separated, other arrays one line per element.
func manifestFields(raw json.RawMessage) ([]manifestField, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("want a JSON object")
	}
	var out []manifestField
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		f := manifestField{Key: strings.ReplaceAll(kt.(string), "_", " ")}
		switch x := v.(type) {
		case []any:
			if allScalars(x) {
				f.Lines = []string{inline(x)}
				break
			}
			for _, e := range x {
				f.Lines = append(f.Lines, inline(e))
			}
		default:
			f.Lines = []string{inline(x)}
		}
		n := 0
		for _, l := range f.Lines {
			n += len(l)
		}
		if n > maxManifestLine {
			f.Lines = []string{"(see manifest.json below)"}
		}
		out = append(out, f)
	}
	return out, nil
}

// inline formats a JSON value on one line: objects as "k v · k v" with keys
// sorted, arrays comma-separated, numbers as written.
func inline(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case json.Number:
		if f, err := x.Float64(); err == nil && strings.ContainsAny(string(x), ".eE") {
			return strconv.FormatFloat(f, 'g', 4, 64)
		}
		return string(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = inline(e)
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + inline(x[k])
		}
		return strings.Join(parts, " · ")
	}
	return fmt.Sprint(v)
}

func allScalars(xs []any) bool {
	for _, x := range xs {
		switch x.(type) {
		case []any, map[string]any:
			return false
		}
	}
	return true
}

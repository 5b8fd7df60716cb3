package results

import (
	"encoding"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/fields.golden")

// fieldPaths lists every JSON field path of t, depth first, e.g.
// "rows[].control.units". It is the schema a reader of results.json relies on.
func fieldPaths(t reflect.Type, prefix string, out *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		fieldPaths(t.Elem(), prefix+"[]", out)
		return
	case reflect.Map:
		fieldPaths(t.Elem(), prefix+"{}", out)
		return
	case reflect.Struct:
		if t.PkgPath() == "time" {
			return
		}
	default:
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name == "" || name == "-" {
			continue
		}
		p := name
		if prefix != "" {
			p = prefix + "." + name
		}
		*out = append(*out, p+" "+typeName(f.Type))
		fieldPaths(f.Type, p, out)
	}
}

func typeName(t reflect.Type) string {
	switch {
	case t == reflect.TypeOf(Num(0)):
		return "number|null"
	case t.Kind() == reflect.Pointer:
		return typeName(t.Elem()) + "|null"
	case t.Kind() == reflect.Slice:
		return "array"
	case t.Kind() == reflect.Map:
		return "object"
	case t.PkgPath() == "time":
		return "string(RFC3339)"
	case t.Implements(reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()):
		return "string" // a typed name such as stats.Test
	case t.Kind() == reflect.Struct:
		return "object"
	case t.Kind() == reflect.Int, t.Kind() == reflect.Int64, t.Kind() == reflect.Float64:
		return "number"
	}
	return t.Kind().String()
}

// TestSchemaFieldsGolden pins the field list of results.json and the columns
// of results.parquet. A change here is a schema change: bump SchemaVersion
// and update docs/results-schema.md, then run go test ./results -update.
func TestSchemaFieldsGolden(t *testing.T) {
	var lines []string
	lines = append(lines, "# results.json schema "+SchemaVersion)
	fieldPaths(reflect.TypeOf(Results{}), "", &lines)
	lines = append(lines, "# results.parquet columns")
	pt := reflect.TypeOf(ParquetRow{})
	for i := 0; i < pt.NumField(); i++ {
		lines = append(lines, pt.Field(i).Tag.Get("parquet")+" "+pt.Field(i).Type.Kind().String())
	}
	got := strings.Join(lines, "\n") + "\n"
	golden := filepath.Join("testdata", "fields.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./results -update to create it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := 0; i < len(gl) || i < len(wl); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("schema changed at line %d:\n got  %q\n want %q\nbump SchemaVersion, update docs/results-schema.md, then go test ./results -update", i+1, g, w)
			}
		}
	}
}

func TestNumJSON(t *testing.T) {
	in := struct {
		A, B, C, D Num
	}{1.5, NaN(), Num(math.Inf(1)), 0}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"A":1.5,"B":null,"C":null,"D":0}` {
		t.Fatalf("marshal: %s", b)
	}
	var out struct{ A, B, C, D Num }
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.A != 1.5 || !math.IsNaN(float64(out.B)) || !math.IsNaN(float64(out.C)) || out.D != 0 {
		t.Fatalf("round trip: %+v", out)
	}
}

func TestReadRejectsOtherMajor(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "results.json")
	os.WriteFile(p, []byte(`{"schema_version":"1.0"}`), 0o644)
	if _, err := Read(p); err == nil || !strings.Contains(err.Error(), "schema_version") {
		t.Fatalf("want schema_version error, got %v", err)
	}
	r := &Results{SchemaVersion: SchemaVersion, Rows: []Row{{Metric: "m", PValue: NaN()}}}
	b, _ := Marshal(r)
	os.WriteFile(p, b, 0o644)
	back, err := Read(p)
	if err != nil || back.Rows[0].Metric != "m" || back.Rows[0].PValue.Valid() {
		t.Fatalf("round trip: %v %+v", err, back)
	}
}

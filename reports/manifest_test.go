package reports

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestManifestFields(t *testing.T) {
	raw := json.RawMessage(`{"schema":"1.0","seconds":2.575342943,"gates_passed":true,
		"stages":[{"name":"replay","seconds":2.5},{"name":"assign","seconds":0.04}],
		"outputs":["a.parquet","b.json"],"spec":{"long":"` + strings.Repeat("x", 500) + `"}}`)
	got, err := manifestFields(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := []manifestField{
		{"schema", []string{"1.0"}},
		{"seconds", []string{"2.575"}},
		{"gates passed", []string{"true"}},
		{"stages", []string{"name replay · seconds 2.5", "name assign · seconds 0.04"}},
		{"outputs", []string{"a.parquet, b.json"}},
		{"spec", []string{"(see manifest.json below)"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("manifestFields =\n%q\nwant\n%q", got, want)
	}
	if _, err := manifestFields(json.RawMessage(`[1,2]`)); err == nil {
		t.Error("a manifest that is not an object was accepted")
	}
}

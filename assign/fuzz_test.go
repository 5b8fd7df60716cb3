package assign

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseSpec: ParseSpec never panics, and a spec it accepts is valid
// (Validate agrees) and builds an Assigner. Seeds: testdata/experiment.yaml
// and testdata/fuzz/*.yaml. Run longer with
//
//	go test ./assign -run '^$' -fuzz FuzzParseSpec -fuzztime 60s
func FuzzParseSpec(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "*.yaml"))
	seeds = append(seeds, filepath.Join("testdata", "experiment.yaml"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(minimalSpec))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseSpec(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := s.validate(nil); err != nil {
			t.Fatalf("accepted spec fails validation: %v", err)
		}
		if _, err := NewSpecAssigner(s); err != nil {
			t.Fatalf("accepted spec gives no assigner: %v", err)
		}
	})
}

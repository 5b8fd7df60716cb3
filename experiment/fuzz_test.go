package experiment

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/signalab/signalab/assign"
)

// FuzzParse: Parse never panics, and a spec it accepts is valid (Validate
// agrees), builds an Assigner and translates into an analysis. Seeds:
// testdata/experiment.yaml and testdata/fuzz/*.yaml. Run longer with
//
//	go test ./experiment -run '^$' -fuzz FuzzParse -fuzztime 60s
func FuzzParse(f *testing.F) {
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
		s, err := Parse(b)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted spec fails validation: %v", err)
		}
		if _, err := assign.NewConfigAssigner(s.AssignConfig()); err != nil {
			t.Fatalf("accepted spec gives no assigner: %v", err)
		}
		if _, err := s.AnalysisConfig(); err != nil {
			t.Fatalf("accepted spec gives no analysis: %v", err)
		}
	})
}

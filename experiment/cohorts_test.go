package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/signalab/signalab/assign"
	"github.com/signalab/signalab/event"
	"github.com/signalab/signalab/internal/atomicfile"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/replay/embedded"
	"github.com/signalab/signalab/synth"
)

// These tests close the loop of issue 4 (spec → replay → assign): a log from the generator, replayed,
// then assigned, reproduces the generator's cohorts exactly: per arm, the
// units with a conversation in the window and those conversations, as the
// generator recorded them in truth.json. The generator buckets with
// assign.NewAssigner, so a drift in hashing, window or unit handling between
// the two shows up here.

// checkAgainstTruth replays events into a temporary folder, assigns with spec
// and compares per-arm counts with truth.
func checkAgainstTruth(t *testing.T, events string, spec *Spec, truth *synth.Truth) {
	t.Helper()
	out := t.TempDir()
	if _, err := embedded.Run(embedded.Config{Events: []string{events}, Out: out, Params: spec.Signals,
		Order: replay.OrderArrival, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	res, err := assign.RunFile(spec.AssignConfig(), filepath.Join(out, "conversations.parquet"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(truth.Arms) != len(res.Summary.Arms) {
		t.Fatalf("truth has %d arms, assign %d", len(truth.Arms), len(res.Summary.Arms))
	}
	for i, want := range truth.Arms {
		got := res.Summary.Arms[i]
		if got.Name != want.Name || got.Units != want.UnitsWithConversations || got.Conversations != want.Window.Conversations {
			t.Errorf("arm %s: assign has %d units, %d conversations; generator truth %s has %d units with conversations, %d conversations",
				got.Name, got.Units, got.Conversations, want.Name, want.UnitsWithConversations, want.Window.Conversations)
		}
	}
	if res.Summary.Units.ByReason[assign.ReasonOutsideCoverage]+res.Summary.Units.ByReason[assign.ReasonNotInNamespace] != 0 {
		t.Errorf("units lost to coverage or namespace: %v", res.Summary.Units.ByReason)
	}
}

// TestCohortsMatchCommittedLog uses the committed generated log
// (testdata/events, seed 2026) and the demo spec (testdata/experiment.yaml
// at the repository root).
func TestCohortsMatchCommittedLog(t *testing.T) {
	root := filepath.Join("..", "testdata")
	spec, err := Load(filepath.Join(root, "experiment.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "events", "truth.json"))
	if err != nil {
		t.Skipf("no committed log: %v", err)
	}
	var truth synth.Truth
	if err := json.Unmarshal(b, &truth); err != nil {
		t.Fatal(err)
	}
	checkAgainstTruth(t, filepath.Join(root, "events", "events.parquet"), spec, &truth)
}

// TestCohortsMatchGenerator generates small logs in-process for each
// randomization unit with an uneven split and checks assign against truth.
func TestCohortsMatchGenerator(t *testing.T) {
	for _, unit := range []string{"shop_id", "buyer_id", "conversation_id"} {
		t.Run(unit, func(t *testing.T) {
			cfg := synth.DefaultConfig()
			cfg.Seed, cfg.Shops, cfg.Buyers, cfg.Days, cfg.PreDays = 7, 30, 300, 7, 3
			cfg.Unit, cfg.Salt, cfg.TreatmentWeight = unit, "cohort-check-"+unit, 0.3
			path := filepath.Join(t.TempDir(), "events.parquet")
			var truth *synth.Truth
			err := atomicfile.Write(path, func(w io.Writer) error {
				pw, err := event.NewParquetWriter(w)
				if err != nil {
					return err
				}
				if truth, err = synth.Generate(context.Background(), cfg, pw.Write); err != nil {
					return err
				}
				return pw.Close()
			})
			if err != nil {
				t.Fatal(err)
			}
			spec, err := Parse([]byte(fmt.Sprintf(`unit: %s
salt: %s
hash: %s
variants: [{name: control, weight: 0.7}, {name: treatment, weight: 0.3}]
window: {start: %s, end: %s}
`, unit, cfg.Salt, cfg.Hash, truth.WindowStart.Format(time.RFC3339), truth.WindowEnd.Format(time.RFC3339))))
			if err != nil {
				t.Fatal(err)
			}
			checkAgainstTruth(t, path, spec, truth)
		})
	}
}

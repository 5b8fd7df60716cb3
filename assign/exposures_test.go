package assign

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/signalab/signalab/signal"
)

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestExposureLog: logged cohorts are used; the checks find the hash
// mismatch, the unit logged under two variants, the exposure outside the
// window, the admitted unit missing from the log and the logged unit without
// conversations.
func TestExposureLog(t *testing.T) {
	s := runConfig()
	asg, _ := NewConfigAssigner(s)
	hashVariant := func(id string) string {
		arm, _, _ := asg.Assign(id)
		return s.Variants[arm].Name
	}
	other := func(v string) string {
		if v == "control" {
			return "treatment"
		}
		return "control"
	}
	csv := "unit_id,variant,first_exposure_time,extra\n" +
		"shop-a," + hashVariant("shop-a") + ",2026-03-01T01:00:00Z,x\n" +
		"shop-b," + other(hashVariant("shop-b")) + ",2026-03-01T01:00:00Z,x\n" + // mismatch
		"shop-c,control,2026-03-01T01:00:00Z,x\n" +
		"shop-c,treatment,2026-03-02T01:00:00Z,x\n" + // two variants
		"shop-d," + hashVariant("shop-d") + ",2026-02-20T00:00:00Z,x\n" + // before the window
		"shop-z,control,2026-03-01T01:00:00Z,x\n" // no conversations
	log, err := ReadExposures(writeFile(t, "exposures.csv", csv))
	if err != nil {
		t.Fatal(err)
	}
	var convs []signal.Conversation
	for _, id := range []string{"shop-a", "shop-b", "shop-c", "shop-d", "shop-e"} {
		convs = append(convs, conv("c-"+id, id, "b", "messenger", time.Hour))
	}
	res, err := Run(s, convs, log)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		reason, variant string
	}{
		"shop-a": {ReasonExposureLog, hashVariant("shop-a")},
		"shop-b": {ReasonExposureLog, other(hashVariant("shop-b"))},
		"shop-c": {ReasonMultipleVariants, ""},
		"shop-d": {ReasonExposureLog, hashVariant("shop-d")},
		"shop-e": {ReasonNotExposed, ""},
	}
	for _, a := range res.Assignments {
		w := want[a.UnitID]
		if a.Reason != w.reason || a.Variant != w.variant || a.InExperiment != (w.variant != "") {
			t.Errorf("%s: %+v, want %+v", a.UnitID, a, w)
		}
	}
	e := res.Summary.Exposures
	if res.Summary.Source != "exposures" || e == nil {
		t.Fatalf("summary source %q exposures %v", res.Summary.Source, e)
	}
	if e.Rows != 6 || e.Units != 5 || e.HashMismatch != 1 || e.MultipleVariants != 1 || e.OutsideWindow != 1 ||
		e.NotExposed != 1 || e.WithoutConversations != 1 {
		t.Errorf("exposure summary %+v", e)
	}
	if got := e.Examples["hash_mismatch"]; len(got) != 1 || got[0] != "shop-b" {
		t.Errorf("examples %v", e.Examples)
	}
	if res.Summary.Units.InExperiment != 3 {
		t.Errorf("in experiment %d, want 3", res.Summary.Units.InExperiment)
	}
}

func TestExposureLogParquetRoundTrip(t *testing.T) {
	s := runConfig()
	p := filepath.Join(t.TempDir(), "exp.parquet")
	rows := []Exposure{{"shop-a", "control", t0.UnixMicro()}, {"shop-b", "treatment", t0.UnixMicro() + 5}}
	if err := writeParquet(p, rows); err != nil {
		t.Fatal(err)
	}
	log, err := ReadExposures(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(log.Exposures) != 2 || log.Exposures[1] != rows[1] {
		t.Errorf("read %+v", log.Exposures)
	}
	if _, err := Run(s, nil, log); err != nil {
		t.Error(err)
	}
}

func TestExposureLogErrors(t *testing.T) {
	s := runConfig()
	cases := []struct{ name, file, body, want string }{
		{"unknown variant", "e.csv", "unit_id,variant,first_exposure_time\nu1,treatmnt,2026-03-01T00:00:00Z\n",
			`row 1: variant "treatmnt" is not a variant of the experiment (want one of control, treatment)`},
		{"missing column", "e.csv", "unit,variant,first_exposure_time\nu1,control,2026-03-01T00:00:00Z\n", "header has no column unit_id"},
		{"bad time", "e.csv", "unit_id,variant,first_exposure_time\nu1,control,yesterday\n", `line 2: column first_exposure_time: "yesterday" is not an RFC 3339 time`},
		{"empty unit", "e.csv", "unit_id,variant,first_exposure_time\n,control,2026-03-01T00:00:00Z\n", "row 1: column unit_id is empty"},
		{"format", "e.json", "{}", "unknown format"},
		{"not parquet", "e.parquet", "not parquet", "not a readable Parquet file"},
		{"short row", "e.csv", "unit_id,variant,first_exposure_time\nu1,control\n", "line 2"},
		// Invalid UTF-8 would reach assign.json changed (issue 16, class 6).
		{"not utf-8", "e.csv", "unit_id,variant,first_exposure_time\nu\xff1,control,2026-03-01T00:00:00Z\n", `row 1: column unit_id: "u\xff1" is not valid UTF-8`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			log, err := ReadExposures(writeFile(t, tc.file, tc.body))
			if err == nil {
				_, err = Run(s, nil, log)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

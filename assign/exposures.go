package assign

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/signalab/signalab/event"

	"github.com/signalab/signalab/internal/safeio"
)

// Exposure is one row of a historical assignment (exposure) log.
type Exposure struct {
	UnitID            string `parquet:"unit_id" json:"unit_id"`
	Variant           string `parquet:"variant" json:"variant"`
	FirstExposureTime int64  `parquet:"first_exposure_time,timestamp(microsecond)" json:"first_exposure_time"` // µs since epoch, UTC
}

// ExposureLog is a historical assignment log: which variant production showed
// each unit, and when first.
type ExposureLog struct {
	Path      string
	Exposures []Exposure
}

// ExposureColumns are the columns an exposure log must have.
var ExposureColumns = []string{"unit_id", "variant", "first_exposure_time"}

// ReadExposures reads an exposure log from a Parquet file (.parquet) or a CSV
// file with a header (.csv). Columns: unit_id (string), variant (string),
// first_exposure_time (Parquet TIMESTAMP(MICROS) or int64 µs; CSV RFC 3339);
// other columns are ignored. Every row needs a unit_id and a variant.
func ReadExposures(path string) (*ExposureLog, error) {
	var (
		rows []Exposure
		err  error
	)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".parquet":
		rows, err = readExposuresParquet(path)
	case ".csv":
		rows, err = readExposuresCSV(path)
	default:
		return nil, fmt.Errorf("exposures %s: unknown format (want a .parquet or .csv file with columns %s)",
			path, strings.Join(ExposureColumns, ", "))
	}
	if err != nil {
		return nil, err
	}
	for i, e := range rows {
		if e.UnitID == "" {
			return nil, fmt.Errorf("exposures %s: row %d: column unit_id is empty (every exposure needs a unit id)", path, i+1)
		}
		if e.Variant == "" {
			return nil, fmt.Errorf("exposures %s: row %d: column variant is empty", path, i+1)
		}
		for _, c := range [...][2]string{{"unit_id", e.UnitID}, {"variant", e.Variant}} {
			if !utf8.ValidString(c[1]) {
				return nil, fmt.Errorf("exposures %s: row %d: column %s: \"%s\" is not valid UTF-8 (invalid bytes shown as \\xNN); re-export the file as UTF-8",
					path, i+1, c[0], event.EscapeInvalidUTF8(c[1]))
			}
		}
	}
	return &ExposureLog{Path: path, Exposures: rows}, nil
}

func readExposuresParquet(path string) ([]Exposure, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read exposures: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read exposures: %w", err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("exposures %s: not a readable Parquet file: %w", path, err)
	}
	for _, c := range ExposureColumns {
		if _, ok := pf.Schema().Lookup(c); !ok {
			return nil, fmt.Errorf("exposures %s: no column %s (want columns %s)", path, c, strings.Join(ExposureColumns, ", "))
		}
	}
	r := parquet.NewGenericReader[Exposure](pf)
	defer r.Close()
	out := make([]Exposure, 0, pf.NumRows())
	buf := make([]Exposure, 1024)
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("exposures %s: row %d: %w", path, len(out)+1, err)
		}
	}
	return out, nil
}

func readExposuresCSV(path string) ([]Exposure, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read exposures: %w", err)
	}
	defer f.Close()
	lim := &safeio.Limiter{R: f, Max: event.MaxRecordBytes, What: "CSV record"}
	cr := csv.NewReader(lim)
	cr.ReuseRecord = true
	header, err := cr.Read()
	lim.Reset()
	if err != nil {
		return nil, fmt.Errorf("exposures %s: read header: %w (want a header line %s)", path, err, strings.Join(ExposureColumns, ","))
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // a UTF-8 byte order mark
	}
	idx := make([]int, len(ExposureColumns))
	for i, c := range ExposureColumns {
		if idx[i] = slices.Index(header, c); idx[i] < 0 {
			return nil, fmt.Errorf("exposures %s: header has no column %s (want columns %s)", path, c, strings.Join(ExposureColumns, ", "))
		}
	}
	var out []Exposure
	for row := 1; ; row++ {
		rec, err := cr.Read()
		lim.Reset()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("exposures %s: line %d: %w", path, row+1, err)
		}
		ts := rec[idx[2]]
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, fmt.Errorf("exposures %s: line %d: column first_exposure_time: %q is not an RFC 3339 time (e.g. 2026-03-01T12:00:00Z)", path, row+1, ts)
		}
		out = append(out, Exposure{UnitID: rec[idx[0]], Variant: rec[idx[1]], FirstExposureTime: t.UnixMicro()})
	}
	return out, nil
}

// exposureIndex is an exposure log indexed by unit, with its checks done.
type exposureIndex struct {
	path  string
	rows  int64
	units map[string]*exposedUnit
}

type exposedUnit struct {
	arm      int   // logged arm; −1 when logged under several variants
	first    int64 // earliest first_exposure_time
	multiple bool
}

const maxExamples = 10

func addExample(sum *ExposureSummary, check, id string) {
	if sum.Examples == nil {
		sum.Examples = map[string][]string{}
	}
	sum.Examples[check] = append(sum.Examples[check], id)
}

// indexExposures indexes the log by unit. A variant that the spec does not
// declare is an error naming the row.
func indexExposures(cfg *Config, log *ExposureLog) (*exposureIndex, error) {
	arm := map[string]int{}
	for i, v := range cfg.Variants {
		arm[v.Name] = i
	}
	x := &exposureIndex{path: log.Path, rows: int64(len(log.Exposures)), units: map[string]*exposedUnit{}}
	for i, e := range log.Exposures {
		a, ok := arm[e.Variant]
		if !ok {
			return nil, fmt.Errorf("exposures %s: row %d: variant %q is not a variant of the experiment (want one of %s)",
				log.Path, i+1, e.Variant, armNames(cfg.Variants))
		}
		u := x.units[e.UnitID]
		if u == nil {
			x.units[e.UnitID] = &exposedUnit{arm: a, first: e.FirstExposureTime}
			continue
		}
		u.first = min(u.first, e.FirstExposureTime)
		if u.arm != a {
			u.multiple = true
		}
	}
	return x, nil
}

// decide returns the logged arm of an admitted unit (−1 and a reason when it
// cannot be used) and records the checks.
func (x *exposureIndex) decide(id string, d Decision, arms []Arm, sum *ExposureSummary) (int, string) {
	u := x.units[id]
	if u == nil {
		sum.NotExposed++
		addExample(sum, "not_exposed", id)
		return -1, ReasonNotExposed
	}
	if u.multiple {
		return -1, ReasonMultipleVariants
	}
	if d.Arm != u.arm {
		sum.HashMismatch++
		addExample(sum, "hash_mismatch", id)
	}
	return u.arm, ReasonExposureLog
}

// finish does the log-wide checks (multiple variants, exposure outside the
// window, units without conversations) and trims the examples.
func (x *exposureIndex) finish(units map[string]*unitState, cfg *Config, sum *ExposureSummary) {
	ids := make([]string, 0, len(x.units))
	for id := range x.units {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		u := x.units[id]
		if u.multiple {
			sum.MultipleVariants++
			addExample(sum, "multiple_variants", id)
		}
		if w := cfg.Window; w != nil && (u.first < w.Start.UnixMicro() || u.first >= w.End.UnixMicro()) {
			sum.OutsideWindow++
			addExample(sum, "outside_window", id)
		}
		if _, ok := units[id]; !ok {
			sum.WithoutConversations++
			addExample(sum, "without_conversations", id)
		}
	}
	for k, v := range sum.Examples {
		slices.Sort(v)
		if len(v) > maxExamples {
			v = v[:maxExamples]
		}
		sum.Examples[k] = v
	}
}

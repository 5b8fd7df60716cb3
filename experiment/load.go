package experiment

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/signalab/signalab/internal/keyerr"
	"github.com/signalab/signalab/replay"
	"github.com/signalab/signalab/signal"

	"github.com/signalab/signalab/internal/safeio"
)

// maxProblemsShown bounds the problems a SpecError lists.
const maxProblemsShown = 20

// Problem is one thing wrong with a spec: the key path (variants[1].weight),
// the line in the YAML file (0 when unknown, e.g. for a missing key) and what
// is wrong.
type Problem struct {
	Path string
	Line int
	Msg  string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", p.Line)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// SpecError lists every problem found in an experiment spec, by line.
type SpecError struct {
	File     string
	Problems []Problem
}

func (e *SpecError) Error() string {
	name := e.File
	if name == "" {
		name = "experiment spec"
	}
	if len(e.Problems) == 1 {
		return fmt.Sprintf("%s: %s", name, e.Problems[0])
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problems:", name, len(e.Problems))
	for i, p := range e.Problems {
		if i == maxProblemsShown {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Problems)-i)
			break
		}
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// Load reads, parses, defaults and validates an experiment.yaml (see
// Parse). A nameless experiment is named after its file.
func Load(path string) (*Spec, error) {
	b, err := safeio.ReadFile(path, safeio.MaxSpecBytes)
	if err != nil {
		return nil, fmt.Errorf("read experiment spec: %w (check the path of the experiment.yaml; docs/experiment-spec.md has an example)", err)
	}
	s, err := Parse(b)
	if err != nil {
		var se *SpecError
		if errors.As(err, &se) {
			se.File = path
		}
		return nil, err
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	return s, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// Parse decodes an experiment spec from YAML bytes over NewSpec's defaults
// and validates it. Every problem (YAML syntax, unknown or duplicate keys,
// wrong types, invalid values) is a *SpecError naming the key path and its
// line: the decoder finds the YAML problems, and each stage's Validate the
// invalid values of the keys it owns (assign.Config, signal.Params,
// metrics.Spec, analysis.Options). The returned spec is ready to use. An
// absent name stays empty (Load fills it from the file name).
func Parse(b []byte) (*Spec, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&doc); err != nil {
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, &SpecError{Problems: []Problem{{Line: line, Msg: "YAML syntax: " + m[2]}}}
		}
		if err.Error() == "EOF" {
			msg = "the file is empty (see docs/experiment-spec.md for an example)"
		}
		return nil, &SpecError{Problems: []Problem{{Msg: strings.TrimPrefix(msg, "yaml: ")}}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &SpecError{Problems: []Problem{{Line: extra.Line, Msg: "more than one YAML document (remove the extra ---)"}}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	d := &specDecoder{present: map[string]int{}}
	s := NewSpec()
	d.decode(root, reflect.ValueOf(s).Elem(), "")
	if len(d.problems) > 0 {
		return nil, &SpecError{Problems: d.problems}
	}
	if err := s.validate(d.present); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks a spec built in Go (start from NewSpec) with the stages'
// rules, as Parse does; the problems carry no lines.
func (s *Spec) Validate() error { return s.validate(nil) }

// validate runs each stage's validation of the keys it owns and turns the
// errors into problems with the key's path in the spec and, when present
// holds it, its line.
func (s *Spec) validate(present map[string]int) error {
	var ps []Problem
	add := func(err error, path func(key string) string) {
		for _, e := range keyerr.From(err) {
			p := path(e.Key)
			ps = append(ps, Problem{Path: p, Line: lineOf(present, p), Msg: e.Msg})
		}
		if err != nil && keyerr.From(err) == nil {
			ps = append(ps, Problem{Msg: err.Error()})
		}
	}
	top := func(key string) string { return key }
	under := func(prefix string) func(string) string {
		return func(key string) string { return keyerr.Join(prefix, key) }
	}
	// The assignment's srm_alpha and segments sit in the analysis: block.
	add(s.AssignConfig().Validate(), func(key string) string {
		if key == "srm_alpha" || strings.HasPrefix(key, "segments") {
			return keyerr.Join("analysis", key)
		}
		return key
	})
	add(s.Signals.Validate(), under("signals"))
	add(s.MetricsSpec().Validate(), top)
	add(s.Analysis.Options.Validate(), under("analysis"))
	if s.Plan != nil && !(s.Plan.UnitsPerArm > 0) {
		ps = append(ps, Problem{Path: "plan.units_per_arm", Line: lineOf(present, "plan.units_per_arm"),
			Msg: fmt.Sprintf("%v is not positive (want the randomization units per arm the experiment was sized for, from signalab power)", s.Plan.UnitsPerArm)})
	}
	if len(ps) == 0 {
		return nil
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
	return &SpecError{Problems: ps}
}

// lineOf returns the line of key path p, or of its nearest ancestor present
// in the YAML (window.end missing: the line of window), or 0.
func lineOf(present map[string]int, p string) int {
	for p != "" {
		if line, ok := present[p]; ok {
			return line
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return 0
}

// Replay returns what a replay of the experiment.yaml at path needs: the
// signal parameters (as Signals) and the session gap of the sessions table
// (Spec.Sessions: analysis.session_gap when the analysis unit is buyer or
// session, else 0; with sessions true, analysis.session_gap whatever the
// unit, or replay.DefaultSessionGap for path ""). Every engine's replay
// command reads them here.
func Replay(path string, sessions bool) (signal.Params, time.Duration, error) {
	if path == "" {
		gap := time.Duration(0)
		if sessions {
			gap = replay.DefaultSessionGap
		}
		return signal.DefaultParams(), gap, nil
	}
	s, err := Load(path)
	if err != nil {
		return signal.Params{}, 0, err
	}
	gap := s.Sessions()
	if sessions {
		gap = s.Analysis.SessionGap
	}
	return s.Signals, gap, nil
}

// Signals returns the signal parameters of the experiment.yaml at path:
// its signals: block over the defaults, validated with the whole spec; the
// defaults when path is "". Every engine's replay command reads them here,
// so a spec refused by one is refused by all with the same message.
func Signals(path string) (signal.Params, error) {
	if path == "" {
		return signal.DefaultParams(), nil
	}
	s, err := Load(path)
	if err != nil {
		return signal.Params{}, err
	}
	return s.Signals, nil
}

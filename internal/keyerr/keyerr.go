// Package keyerr is the error of an invalid configuration value: the key
// that holds it and what is wrong with it.
//
// Each stage validates its own configuration (signal.Params, assign.Config,
// metrics.Spec, analysis.Config) and names keys relative to it
// ("dedupe_window", "variants[1].weight"). The experiment spec loader, which
// knows where each configuration sits in experiment.yaml, prefixes the keys
// ("signals.dedupe_window") and looks up the YAML line of each; other callers
// print the error as it is.
package keyerr

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one invalid value.
type Error struct {
	// Key is the key path of the value relative to the configuration that
	// was validated, e.g. "variants[1].weight"; "" for the whole.
	Key string
	// Msg says what is wrong and, where it helps, what would be valid.
	Msg string
}

func (e *Error) Error() string {
	if e.Key == "" {
		return e.Msg
	}
	return e.Key + ": " + e.Msg
}

// List is every invalid value one validation found, in the order found.
type List []*Error

// Add appends an Error for key with a formatted message.
func (l *List) Add(key, format string, args ...any) {
	*l = append(*l, &Error{Key: key, Msg: fmt.Sprintf(format, args...)})
}

// Err returns l as an error, or nil when it is empty.
func (l List) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Error joins the errors with "; ".
func (l List) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Join returns the key path key under prefix: "signals" and "dedupe_window"
// give "signals.dedupe_window"; an empty prefix or key leaves the other.
func Join(prefix, key string) string {
	switch {
	case prefix == "":
		return key
	case key == "":
		return prefix
	case strings.HasPrefix(key, "["):
		return prefix + key
	}
	return prefix + "." + key
}

// Under returns err with every key moved under prefix (see Join), so that a
// caller that embeds a configuration can name the full key path. Errors
// that are not *Error or List are returned unchanged.
func Under(prefix string, err error) error {
	errs := From(err)
	if errs == nil {
		return err
	}
	out := make(List, len(errs))
	for i, e := range errs {
		out[i] = &Error{Key: Join(prefix, e.Key), Msg: e.Msg}
	}
	return out
}

// From returns the errors of err (a List, an *Error, or an error wrapping
// one), or nil when err carries none.
func From(err error) List {
	var l List
	if errors.As(err, &l) {
		return l
	}
	var e *Error
	if errors.As(err, &e) {
		return List{e}
	}
	return nil
}

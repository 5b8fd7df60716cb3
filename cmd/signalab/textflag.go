package main

import "encoding"

// textValue is a typed name that parses and prints itself (stats.Test,
// stats.Correction, ...).
type textValue interface {
	encoding.TextMarshaler
	encoding.TextUnmarshaler
}

// textFlag is a flag holding a typed name: it parses with the type's own
// UnmarshalText, so an unknown name is refused with the type's list of
// valid names, and the command receives the typed value.
type textFlag struct {
	v   textValue
	typ string
}

func (f *textFlag) String() string {
	b, err := f.v.MarshalText()
	if err != nil {
		return ""
	}
	return string(b)
}

func (f *textFlag) Set(s string) error { return f.v.UnmarshalText([]byte(s)) }

func (f *textFlag) Type() string { return f.typ }

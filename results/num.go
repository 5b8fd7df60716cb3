package results

import (
	"bytes"
	"math"
	"strconv"
)

// Num is a float64 that encodes to JSON null when it is NaN or ±Inf (which JSON
// cannot represent) and decodes null back to NaN.
type Num float64

// NaN is the undefined Num.
func NaN() Num { return Num(math.NaN()) }

// Valid reports whether n is finite.
func (n Num) Valid() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

// MarshalJSON writes a finite number in the shortest form that round-trips,
// else null.
func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Valid() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(n), 'g', -1, 64), nil
}

// UnmarshalJSON reads a number, or null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*n = NaN()
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

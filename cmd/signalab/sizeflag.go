package main

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeFlag is a flag holding a size in bytes: a number with an optional
// unit, B, KiB, MiB, GiB, TiB (powers of 1024, as GOMEMLIMIT takes them)
// or KB, MB, GB, TB (powers of 1000); case does not matter.
type sizeFlag int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12}, {"b", 1},
}

func (s *sizeFlag) Set(v string) error {
	t := strings.ToLower(strings.TrimSpace(v))
	mult := int64(1)
	for _, u := range sizeUnits {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n < 0 || n*float64(mult) > 1<<62 {
		return fmt.Errorf("%q is not a size; write it as bytes or with a unit, e.g. 512MiB or 2GiB", v)
	}
	*s = sizeFlag(n * float64(mult))
	return nil
}

func (s *sizeFlag) String() string {
	v := int64(*s)
	for _, u := range []struct {
		name string
		mult int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if v >= u.mult && v%u.mult == 0 {
			return strconv.FormatInt(v/u.mult, 10) + u.name
		}
	}
	return strconv.FormatInt(v, 10) + "B"
}

func (s *sizeFlag) Type() string { return "size" }

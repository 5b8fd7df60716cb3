package reports

import (
	"math"
	"testing"
	"time"
)

// Expected strings are written by hand from the documented rules of each
// helper (one decimal for percents, three significant digits for p-values,
// "< 0.001" below, U+2212 for minus signs, "n/a" for non-finite input).
func TestFormatting(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	cases := []struct {
		name string
		got  string
		want string
	}{
		{"Percent", Percent(0.0982), "9.8%"},
		{"Percent small", Percent(0.00042), "0.042%"},
		{"Percent zero", Percent(0), "0%"},
		{"Percent negative", Percent(-0.125), "\u221212.5%"},
		{"Percent NaN", Percent(nan), "n/a"},
		{"SignedPercent +", SignedPercent(0.098), "+9.8%"},
		{"SignedPercent −", SignedPercent(-0.021), "\u22122.1%"},
		{"SignedPercent Inf", SignedPercent(inf), "n/a"},
		{"PercentPoints", PercentPoints(0.01234), "+1.23 pp"},
		{"PercentPoints −", PercentPoints(-0.005), "\u22120.50 pp"},
		{"PercentCI", PercentCI(0.031, 0.164), "+3.1% to +16.4%"},
		{"PercentCI half open", PercentCI(math.Inf(-1), 0.1), "n/a"},
		{"PValue tiny", PValue(2e-7), "< 0.001"},
		{"PValue small", PValue(0.04321), "0.043"},
		{"PValue mid", PValue(0.3149), "0.31"},
		{"PValue one", PValue(1), "1.00"},
		{"PValue NaN", PValue(nan), "n/a"},
		{"Count", Count(1234567), "1,234,567"},
		{"Count small", Count(999), "999"},
		{"Count negative", Count(-1234), "-1,234"},
		{"Number big", Number(1234567.4), "1,234,567"},
		{"Number mid", Number(123.45), "123.5"},
		{"Number unit", Number(8.6), "8.60"},
		{"Number small", Number(0.012345), "0.01235"},
		{"SignedNumber", SignedNumber(-0.5), "\u22120.5"},
		{"NumberCI", NumberCI(-0.12, 1.4), "\u22120.12 to +1.40"},
		{"Money", Money(1234.5), "1,234.50"},
		{"Money negative", Money(-0.25), "\u22120.25"},
		{"Confidence", Confidence(0.05), "95%"},
		{"Confidence odd", Confidence(0.1), "90%"},
		{"Alpha", Alpha(0.05), "0.05"},
		{"Bytes", Bytes(1536), "1.5 KiB"},
		{"Bytes MiB", Bytes(3 << 20), "3.0 MiB"},
		{"Minutes s", Minutes(0.5), "30 s"},
		{"Minutes min", Minutes(4.5), "4.5 min"},
		{"Minutes h", Minutes(135), "2.2 h"},
		{"Minutes d", Minutes(4000), "2.8 d"},
		{"Duration", Duration(24 * time.Hour), "24h"},
		{"Duration mixed", Duration(90 * time.Minute), "1h30m"},
		{"Date", Date(time.Date(2026, 3, 1, 14, 5, 0, 0, time.UTC)), "2026-03-01 14:05 UTC"},
		{"DisplayName", DisplayName("reply_minutes"), "Reply minutes"},
		{"DisplayName acronym", DisplayName("aov"), "AOV"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

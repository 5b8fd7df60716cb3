package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// The number formatting helpers below are used by the HTML and Markdown
// templates. Each returns words (never "NaN" or "+Inf") for values that are
// not finite, so a degenerate result reads as "n/a" rather than as garbage.

const notAvailable = "n/a"

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// Percent formats a fraction as a percentage with one decimal: 0.0982 → "9.8%",
// −0.125 → "−12.5%" (U+2212). Magnitudes below 0.1% keep two significant
// digits ("0.042%") so a small effect never prints as "0.0%".
func Percent(x float64) string {
	if !finite(x) {
		return notAvailable
	}
	p := x * 100
	a := math.Abs(p)
	if a == 0 {
		return "0%"
	}
	sign := ""
	if p < 0 {
		sign = "\u2212"
	}
	if a < 0.1 {
		return sign + strconv.FormatFloat(a, 'g', 2, 64) + "%"
	}
	return sign + strconv.FormatFloat(a, 'f', 1, 64) + "%"
}

// SignedPercent is Percent with an explicit sign: "+9.8%", "−2.1%" (U+2212).
func SignedPercent(x float64) string {
	if !finite(x) {
		return notAvailable
	}
	if x > 0 {
		return "+" + Percent(x)
	}
	return Percent(x)
}

// PercentPoints formats a difference of two proportions in percentage
// points: 0.0123 → "+1.23 pp".
func PercentPoints(x float64) string {
	if !finite(x) {
		return notAvailable
	}
	s := strconv.FormatFloat(math.Abs(x*100), 'f', 2, 64) + " pp"
	switch {
	case x > 0:
		return "+" + s
	case x < 0:
		return "\u2212" + s
	}
	return s
}

// Number formats x with about four significant digits and thousands
// separators for large values: 1234567 → "1,234,567", 0.012345 → "0.01235".
func Number(x float64) string {
	if !finite(x) {
		return notAvailable
	}
	a := math.Abs(x)
	switch {
	case a == 0:
		return "0"
	case a >= 1000:
		return groupThousands(strconv.FormatFloat(math.Round(x), 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	default:
		return strconv.FormatFloat(x, 'g', 4, 64)
	}
}

// SignedNumber is Number with an explicit sign.
func SignedNumber(x float64) string {
	if !finite(x) {
		return notAvailable
	}
	switch {
	case x > 0:
		return "+" + Number(x)
	case x < 0:
		return "\u2212" + Number(-x)
	}
	return "0"
}

// Count formats an integer with thousands separators: 1234567 → "1,234,567".
func Count(n int64) string {
	return groupThousands(strconv.FormatInt(n, 10))
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	head := len(s) % 3
	if head == 0 {
		head = 3
	}
	b.WriteString(s[:head])
	for i := head; i < len(s); i += 3 {
		b.WriteByte(',')
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// PValue formats a p-value the way journals print it (APA style): two
// decimals from 0.1, three decimals from 0.001, "< 0.001" below:
// 0.3149 → "0.31", 0.04321 → "0.043", 2e-7 → "< 0.001".
func PValue(p float64) string {
	if !finite(p) || p < 0 {
		return notAvailable
	}
	switch {
	case p < 0.001:
		return "< 0.001"
	case p >= 0.9995:
		return "1.00"
	case p >= 0.1:
		return strconv.FormatFloat(p, 'f', 2, 64)
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// PercentCI formats a confidence interval of fractions: "3.1% to 16.4%".
func PercentCI(lo, hi float64) string {
	if !finite(lo) || !finite(hi) {
		return notAvailable
	}
	return SignedPercent(lo) + " to " + SignedPercent(hi)
}

// NumberCI formats a confidence interval of plain numbers: "−0.12 to 1.40".
func NumberCI(lo, hi float64) string {
	if !finite(lo) || !finite(hi) {
		return notAvailable
	}
	return SignedNumber(lo) + " to " + SignedNumber(hi)
}

// Confidence formats a confidence level from alpha: 0.05 → "95%".
func Confidence(alpha float64) string {
	if !finite(alpha) || alpha <= 0 || alpha >= 1 {
		return notAvailable
	}
	return strconv.FormatFloat((1-alpha)*100, 'g', 4, 64) + "%"
}

// Alpha formats a significance level: 0.05 → "0.05".
func Alpha(alpha float64) string {
	if !finite(alpha) {
		return notAvailable
	}
	return strconv.FormatFloat(alpha, 'g', 3, 64)
}

// Bytes formats a size in bytes with binary prefixes: 1536 → "1.5 KiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Minutes formats a duration given in minutes compactly: 4.5 → "4.5 min",
// 135 → "2.3 h", 4000 → "2.8 d".
func Minutes(m float64) string {
	if !finite(m) {
		return notAvailable
	}
	switch a := math.Abs(m); {
	case a < 1:
		return strconv.FormatFloat(m*60, 'f', 0, 64) + " s"
	case a < 90:
		return strconv.FormatFloat(m, 'f', 1, 64) + " min"
	case a < 36*60:
		return strconv.FormatFloat(m/60, 'f', 1, 64) + " h"
	}
	return strconv.FormatFloat(m/1440, 'f', 1, 64) + " d"
}

// Duration formats a time.Duration without trailing zero units: 24h0m0s → "24h".
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Date formats a time as "2026-03-01 14:05 UTC"; the zero time is "n/a".
func Date(t time.Time) string {
	if t.IsZero() {
		return notAvailable
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

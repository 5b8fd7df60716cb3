package analysis

import (
	"fmt"
	"github.com/signalab/signalab/results"
	"math"
	"sort"
	"strings"
)

// Money: the design keeps amounts in integer minor units (columns named
// *_cents); results.json, results.parquet, the reports and the CLI give them
// in major units of the data's currency (ISO 4217), which the events'
// optional currency column records and replay.json counts.

// CurrencyMixed is the Options.Currency (and results.json currency) of
// amounts in several currencies added without conversion.
const CurrencyMixed = "mixed"

// validCurrency returns why s is not a valid Options.Currency ("" if it is).
func validCurrency(s string) string {
	if s == "" || s == CurrencyMixed || isCurrencyCode(s) {
		return ""
	}
	return fmt.Sprintf("%q is not an ISO 4217 code such as USD (three capital letters) or %q", s, CurrencyMixed)
}

func isCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// currency is how money metrics are reported: the code for results.json,
// the factor that turns minor units into major units, and a warning.
type currency struct {
	code    string
	scale   float64
	warning string
}

// resolveCurrency decides the currency of money metrics from the data's
// counts (replay.json; nil when unknown) and the expected code want:
//
//   - one currency in the data: that one (want, if given, must equal it);
//   - none recorded: want, else "" (amounts still in major units, 2 decimals);
//   - several: an error when want names one; otherwise they are added
//     without conversion, reported as "mixed" with a warning naming the
//     shares (want "mixed" states that this is intended), and refused when
//     their minor units differ (cents and yen cannot share a scale).
//
// money lists the metrics whose values are money (for the messages).
func resolveCurrency(counts map[string]int64, want string, money []string) (currency, error) {
	var codes []string
	var total int64
	for k, n := range counts {
		if k != "" && n > 0 {
			codes = append(codes, k)
			total += n
		}
	}
	sort.Slice(codes, func(i, j int) bool {
		if counts[codes[i]] != counts[codes[j]] {
			return counts[codes[i]] > counts[codes[j]]
		}
		return codes[i] < codes[j]
	})
	c := currency{code: want, scale: math.Pow10(-results.MinorUnitExponent(want))}
	if want == CurrencyMixed {
		c.scale = 0.01
	}
	switch {
	case len(codes) == 1:
		if want != "" && want != CurrencyMixed && want != codes[0] {
			return c, fmt.Errorf("analysis.currency is %s but the events are in %s (replay.json counts.currencies); "+
				"Try: set analysis.currency to %s or leave it out", want, codes[0], codes[0])
		}
		c.code, c.scale = codes[0], math.Pow10(-results.MinorUnitExponent(codes[0]))
		return c, nil
	case len(codes) == 0:
		return c, nil
	}
	parts := make([]string, len(codes))
	exp := results.MinorUnitExponent(codes[0])
	sameExp := true
	for i, k := range codes {
		parts[i] = fmt.Sprintf("%s %.0f%%", k, 100*float64(counts[k])/float64(total))
		if results.MinorUnitExponent(k) != exp {
			sameExp = false
		}
	}
	list := strings.Join(parts, ", ")
	if len(money) == 0 {
		c.code, c.scale = CurrencyMixed, math.Pow10(-exp)
		return c, nil
	}
	if want != "" && want != CurrencyMixed {
		return c, fmt.Errorf("analysis.currency is %s but the events are in %d currencies (%s of events with a currency); "+
			"money metrics (%s) would add amounts of different currencies. Try: restrict the experiment to one currency "+
			"(for example filter its shops), convert amounts before the replay, or set analysis.currency: mixed to add them unconverted",
			want, len(codes), list, strings.Join(money, ", "))
	}
	if !sameExp {
		return c, fmt.Errorf("the events are in currencies with different minor units (%s): money metrics (%s) cannot be "+
			"expressed in one unit. Try: restrict the experiment to one currency or convert amounts before the replay",
			list, strings.Join(money, ", "))
	}
	c.code, c.scale = CurrencyMixed, math.Pow10(-exp)
	c.warning = fmt.Sprintf("money metrics (%s) add amounts in %d currencies without conversion (%s of events): "+
		"their means and absolute changes mix currencies; relative changes remain meaningful only if the effect is "+
		"proportional in every currency. Restrict the experiment to one currency or convert amounts to compare money",
		strings.Join(money, ", "), len(codes), list)
	return c, nil
}

package results

// minorUnitExponent is the number of decimals of a currency's minor unit
// (ISO 4217 "minor unit"): 2 unless listed. Source: ISO 4217 list one
// (SIX Financial Information, as published 2024-06).
var minorUnitExponent = map[string]int{
	// no minor unit
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	// thousandths
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	// four decimals
	"CLF": 4, "UYW": 4,
}

// MinorUnitExponent returns the decimals of code's minor unit (2 for codes
// not listed as different, and for "").
func MinorUnitExponent(code string) int {
	if e, ok := minorUnitExponent[code]; ok {
		return e
	}
	return 2
}

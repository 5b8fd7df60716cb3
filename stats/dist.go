package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// normalSurvival is 1 − Φ(x) computed as erfc(x/√2)/2, accurate far into
// the upper tail (gonum's Normal.Survival computes 1 − erf and loses all
// digits beyond x ≈ 8; found by the scipy comparison in reference_test.go).
func normalSurvival(x float64) float64 { return 0.5 * math.Erfc(x/math.Sqrt2) }

// normalCDF is Φ(x) = erfc(−x/√2)/2.
func normalCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// studentTQuantile is the p-quantile of Student's t with nu degrees of
// freedom, accurate to ~1e-14 relative. For nu ≥ 10 it starts from the
// Cornish–Fisher expansion (Abramowitz & Stegun 26.7.5) around z = Φ⁻¹(p),
//
//	t ≈ z + (z³ + z)/(4ν) + (5z⁵ + 16z³ + 3z)/(96ν²) + (3z⁷ + 19z⁵ + 17z³ − 15z)/(384ν³)
//	      + (79z⁹ + 776z⁷ + 1482z⁵ − 1920z³ − 945z)/(92160ν⁴),
//
// and for smaller ν from gonum's inverse incomplete beta; then Newton steps
// on the tail probability (studentTSurvival) polish it. gonum's quantile
// alone is good to ~1e-9 and costs most of an analysis's time.
func studentTQuantile(p, nu float64) float64 {
	if p == 0.5 {
		return 0
	}
	var x float64
	if nu >= 10 {
		z := distuv.UnitNormal.Quantile(p)
		z2 := z * z
		g1 := (z2*z + z) / 4
		g2 := ((5*z2+16)*z2*z + 3*z) / 96
		g3 := (((3*z2+19)*z2+17)*z2*z - 15*z) / 384
		g4 := ((((79*z2+776)*z2+1482)*z2-1920)*z2*z - 945*z) / 92160
		x = z + g1/nu + g2/(nu*nu) + g3/(nu*nu*nu) + g4/(nu*nu*nu*nu)
	} else {
		x = distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}.Quantile(p)
	}
	if math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}
	steps := 4
	if nu >= 200 {
		// The expansion's error is below ~1e-8 here; one Newton step
		// squares it.
		steps = 1
	}
	for range steps {
		d := t.Prob(x)
		if d <= 0 {
			break
		}
		var step float64
		if p > 0.5 {
			step = (studentTSurvival(x, nu) - (1 - p)) / d
		} else {
			step = (p - (1 - studentTSurvival(x, nu))) / d
		}
		x += step
		if math.Abs(step) <= 1e-15*math.Abs(x) {
			break
		}
	}
	return x
}

// studentTSurvival is P(T > y) for Student's t with nu degrees of freedom.
//
// gonum's incomplete-beta form needs x = ν/(ν + y²), which for very large ν
// (Welch df in the millions, as in the ASOS data) is so close to 1 that its
// rounding costs up to ~1e-8 relative. There the Fisher (1925) expansion
// (Abramowitz & Stegun 26.7.5) is used instead:
//
//	P(T > y) = Q(y) + φ(y)·[ (y³ + y)/(4ν) + (3y⁷ − 7y⁵ − 5y³ − 3y)/(96ν²) ] + O(ν⁻³)
//
// whose next term is about φ(y)·y¹¹/(384ν³); it is used when ν ≥ 1e5 and
// ν ≥ 2964·y⁴, where that term is below 1e-13 relative.
func studentTSurvival(y, nu float64) float64 {
	if y < 0 {
		return 1 - studentTSurvival(-y, nu)
	}
	if nu >= 1e5 && nu >= 2964*y*y*y*y {
		y2 := y * y
		g1 := (y2*y + y) / 4
		g2 := (3*y2*y2*y2*y - 7*y2*y2*y - 5*y2*y - 3*y) / 96
		phi := math.Exp(-y2/2) / math.Sqrt(2*math.Pi)
		return normalSurvival(y) + phi*(g1/nu+g2/(nu*nu))
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}.Survival(y)
}

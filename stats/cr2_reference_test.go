package stats

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// cr2Reference is stats/testdata/cr2_reference.json, written by
// gen_cr2_reference.R (R's clubSandwich and a dense-matrix implementation
// of the Imbens–Kolesár degrees of freedom).
type cr2Reference struct {
	RVersion     string `json:"r_version"`
	ClubSandwich string `json:"clubSandwich"`
	Cases        []struct {
		Name     string `json:"name"`
		Kind     string `json:"kind"`
		CUPED    bool   `json:"cuped"`
		Clusters []struct {
			Arm  int8    `json:"arm"`
			RawM float64 `json:"m"`
			RawD float64 `json:"d"`
			RawU float64 `json:"u"`
			RawV float64 `json:"v"`
		} `json:"clusters"`
		Expected struct {
			Estimate             float64         `json:"estimate"`
			VarCR2               float64         `json:"var_cr2"`
			DFBM                 float64         `json:"df_bm"`
			PBM                  float64         `json:"p_bm"`
			Rho                  json.RawMessage `json:"rho"`
			DFIK                 float64         `json:"df_ik"`
			PIK                  float64         `json:"p_ik"`
			VarControlMean       *float64        `json:"var_control_mean"`
			CovEffectControlMean *float64        `json:"cov_effect_control_mean"`
		} `json:"expected"`
	} `json:"cases"`
}

// TestCR2AgainstClubSandwich checks the CR2 variance, the Bell–McCaffrey
// degrees of freedom and p-value (clubSandwich 0.5.8, coef_test
// Satterthwaite), the Imbens–Kolesár ρ, degrees of freedom and p-value, and
// Fieller's ingredients against R on 20 small data sets: equal and unequal
// clusters (one holding 70% of its arm), proportion, mean and ratio
// metrics, with and without a covariate. Tolerance 1e-9 relative (1e-12
// absolute near zero); p-values 1e-9 absolute.
func TestCR2AgainstClubSandwich(t *testing.T) {
	b, err := os.ReadFile("testdata/cr2_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref cr2Reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) < 20 {
		t.Fatalf("only %d cases", len(ref.Cases))
	}
	t.Logf("reference: %s, clubSandwich %s, %d cases", ref.RVersion, ref.ClubSandwich, len(ref.Cases))
	near := func(got, want float64) bool {
		return math.Abs(got-want) <= 1e-9*math.Abs(want)+1e-12
	}
	for _, c := range ref.Cases {
		var ctrl, trt []Cluster
		for _, k := range c.Clusters {
			cl := Cluster{M: k.RawM, D: k.RawD, U: k.RawU, V: k.RawV}
			if k.Arm == 0 {
				ctrl = append(ctrl, cl)
			} else {
				trt = append(trt, cl)
			}
		}
		name := c.Name
		if c.CUPED {
			name += " cuped"
		}
		rows, p := crRows(ctrl, trt, c.CUPED, nil)
		f := fitCR2(rows, p)
		if f.reason != "" {
			t.Fatalf("%s: %s", name, f.reason)
		}
		e := c.Expected
		check := func(what string, got, want float64) {
			t.Helper()
			if !near(got, want) {
				t.Errorf("%s: %s = %.15g, R %.15g", name, what, got, want)
			}
		}
		check("estimate", f.abs, e.Estimate)
		check("CR2 variance", f.absVar, e.VarCR2)
		phi := make([]float64, len(rows))
		for k, r := range rows {
			phi[k] = r.d
		}
		dfBM := crDFTarget(rows, f, phi)
		check("Bell–McCaffrey df", dfBM, e.DFBM)
		tstat := f.abs / math.Sqrt(f.absVar)
		if got := 2 * studentTSurvival(math.Abs(tstat), dfBM); math.Abs(got-e.PBM) > 1e-9 {
			t.Errorf("%s: BM p = %.12g, R %.12g", name, got, e.PBM)
		}
		rho := f.randomEffectsRatio(rows)
		var wantRho float64
		if string(e.Rho) == `"Inf"` {
			wantRho = math.Inf(1)
		} else if err := json.Unmarshal(e.Rho, &wantRho); err != nil {
			t.Fatal(err)
		}
		if !(math.IsInf(wantRho, 1) && math.IsInf(rho, 1)) {
			check("ρ", rho, wantRho)
		}
		check("Imbens–Kolesár df", f.dfIK(rows), e.DFIK)
		res := CompareClustersCR2(ctrl, trt, c.CUPED, Options{})
		if math.Abs(res.PValue-e.PIK) > 1e-9 {
			t.Errorf("%s: CompareClustersCR2 p = %.12g, R %.12g", name, res.PValue, e.PIK)
		}
		check("CompareClustersCR2 SE²", res.AbsSE*res.AbsSE, e.VarCR2)
		if e.VarControlMean != nil {
			check("CR2 variance of the control mean", f.varR, *e.VarControlMean)
			check("CR2 covariance of effect and control mean", f.covAR, *e.CovEffectControlMean)
		}
	}
}

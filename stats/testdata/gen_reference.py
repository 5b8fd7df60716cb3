#!/usr/bin/python3
"""Generate stats/testdata/reference.json: independent reference values for
signalab's stats package from scipy and statsmodels (Debian packages
python3-scipy, python3-statsmodels).

Run from the repository root:

    /usr/bin/python3 stats/testdata/gen_reference.py > stats/testdata/reference.json

Every case draws its inputs from numpy's PCG64 generator with a fixed seed,
so the output is reproducible for a given scipy/statsmodels version (recorded
in the file). Raw samples are drawn for the t tests and their sufficient
statistics (n, sum, sum of squares) are stored: scipy/statsmodels compute
from the raw data (two-pass), signalab from the sums.
"""
import json
import sys

import mpmath
import numpy as np
import scipy
import scipy.stats as st
from scipy.optimize import brentq
import statsmodels
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportions_ztest, confint_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

SEED = 20261126
mpmath.mp.dps = 40
rng = np.random.Generator(np.random.PCG64(SEED))


def sums(x):
    return {"n": int(len(x)), "sum": float(np.sum(x)), "sum_sq": float(np.sum(x * x))}


def t_cases(count, equal_var):
    out = []
    for _ in range(count):
        na, nb = int(rng.integers(5, 3000)), int(rng.integers(5, 3000))
        mu = rng.uniform(-5, 5)
        a = rng.normal(mu, rng.uniform(0.5, 10), na)
        b = rng.normal(mu + rng.uniform(-1, 1), rng.uniform(0.5, 10), nb)
        if rng.uniform() < 0.3:  # skewed data
            a, b = np.exp(a / 5), np.exp(b / 5)
        usevar = "pooled" if equal_var else "unequal"
        cm = CompareMeans(DescrStatsW(b), DescrStatsW(a))
        stat, p, df = cm.ttest_ind(usevar=usevar)
        lo, hi = cm.tconfint_diff(alpha=0.05, usevar=usevar)
        r = st.ttest_ind(b, a, equal_var=equal_var)
        # scipy's t.ppf is accurate to only ~1e-9 for non-integer df, so the
        # critical value is also found by root-finding on t.sf (accurate to
        # ~1e-15), giving "ci_exact".
        q = brentq(lambda x: st.t.sf(x, df) - 0.025, 0.5, 50, xtol=1e-15, rtol=1e-15)
        diff, se = float(np.mean(b) - np.mean(a)), float(cm.std_meandiff_separatevar if not equal_var else cm.std_meandiff_pooledvar)
        out.append({"control": sums(a), "treatment": sums(b), "statistic": float(r.statistic),
                    "p_value": float(r.pvalue), "df": float(df), "ci": [float(lo), float(hi)],
                    "ci_exact": [diff - q * se, diff + q * se], "statsmodels_p": float(p)})
    return out


def proportion_cases(count):
    out = []
    for _ in range(count):
        na, nb = int(rng.integers(20, 20000)), int(rng.integers(20, 20000))
        p = rng.uniform(0.02, 0.6)
        xa = int(rng.binomial(na, p))
        xb = int(rng.binomial(nb, p * rng.uniform(0.85, 1.2)))
        z, pv = proportions_ztest([xb, xa], [nb, na])  # pooled SE
        lo, hi = confint_proportions_2indep(xb, nb, xa, na, method="wald", compare="diff", alpha=0.05)
        out.append({"xa": xa, "na": na, "xb": xb, "nb": nb, "z_pooled": float(z), "p_pooled": float(pv),
                    "wald_ci": [float(lo), float(hi)]})
    return out


def exact_cases(count):
    fisher, binom, gtest = [], [], []
    for _ in range(count):
        na, nb = int(rng.integers(5, 400)), int(rng.integers(5, 400))
        xa, xb = int(rng.integers(0, na + 1)), int(rng.integers(0, nb + 1))
        fisher.append({"xa": xa, "na": na, "xb": xb, "nb": nb,
                       "p": float(st.fisher_exact([[xa, na - xa], [xb, nb - xb]])[1])})
        n = int(rng.integers(10, 3000))
        x = int(rng.binomial(n, rng.uniform(0.4, 0.6)))
        binom.append({"x": x, "n": n, "p0": 0.5, "p": float(st.binomtest(x, n, 0.5).pvalue)})
        if 0 < xa + xb < na + nb:
            table = [[xa, na - xa], [xb, nb - xb]]
            gtest.append({"xa": xa, "na": na, "xb": xb, "nb": nb,
                          "p_yates": float(st.chi2_contingency(table, correction=True, lambda_="log-likelihood")[1]),
                          "p": float(st.chi2_contingency(table, correction=False, lambda_="log-likelihood")[1])})
    return fisher, binom, gtest


def unconditional_cases(count):
    # scipy maximises over the nuisance parameter with shgo (n=32 sampling
    # points by default); n=200 here for a tighter reference.
    out = []
    for _ in range(count):
        na, nb = int(rng.integers(3, 45)), int(rng.integers(3, 45))
        xa, xb = int(rng.integers(0, na + 1)), int(rng.integers(0, nb + 1))
        table = [[xa, xb], [na - xa, nb - xb]]
        out.append({"xa": xa, "na": na, "xb": xb, "nb": nb,
                    "barnard": float(st.barnard_exact(table, n=200).pvalue),
                    "boschloo": float(st.boschloo_exact(table, n=200).pvalue)})
    return out


def srm_cases(count):
    out = []
    for _ in range(count):
        k = int(rng.integers(2, 5))
        w = rng.uniform(0.5, 2, k)
        w = w / w.sum()
        drift = w * rng.uniform(0.97, 1.03, k)  # mild mismatch in some cases
        obs = rng.multinomial(int(rng.integers(100, 200000)), drift / drift.sum())
        exp = w * obs.sum()
        r = st.chisquare(obs, exp)
        out.append({"observed": [int(o) for o in obs], "weights": [float(x) for x in w],
                    "chi_square": float(r.statistic), "p": float(r.pvalue)})
    return out


def multiple_cases(count):
    out = []
    for _ in range(count):
        m = int(rng.integers(2, 30))
        p = rng.uniform(0, 1, m) ** 3
        case = {"p": [float(x) for x in p]}
        for method in ["holm", "fdr_bh", "fdr_by", "bonferroni", "simes-hochberg", "holm-sidak"]:
            case[method] = [float(x) for x in multipletests(p, method=method)[1]]
        out.append(case)
    return out


def power_cases(count):
    out = []
    for _ in range(count):
        d = rng.uniform(0.01, 0.5)
        n = float(rng.integers(50, 20000))
        alpha = float(rng.choice([0.01, 0.05, 0.1]))
        pw = NormalIndPower().power(d, n, alpha, ratio=1.0, alternative="two-sided")
        n80 = NormalIndPower().solve_power(effect_size=d, alpha=alpha, power=0.8, ratio=1.0)
        out.append({"effect_size": float(d), "n_per_arm": n, "alpha": alpha, "power": float(pw),
                    "n_for_80": float(n80)})
    return out


def mp_t_sf(y, nu):
    """Student's t upper tail in 40-digit arithmetic (mpmath), the check for
    regimes where double-precision libraries lose digits (huge df)."""
    y, nu = mpmath.mpf(y), mpmath.mpf(nu)
    half = mpmath.mpf(1) / 2
    tail = half * mpmath.betainc(nu / 2, half, 0, nu / (nu + y * y), regularized=True)
    return tail if y >= 0 else 1 - tail


def t_tail_cases():
    out = []
    for nu in [2.5, 10, 45.8, 300, 5e3, 9e4, 1.1e5, 1e6, 3.7e7, 1e9]:
        for y in [-3.0, 0.2, 1.46, 2.5, 4.0, 6.0, 9.0]:
            out.append({"nu": nu, "y": y, "sf": float(st.t.sf(y, nu)), "sf_mp": float(mp_t_sf(y, nu))})
    return out


def t_quantile_cases():
    out = []
    for nu in [3.0, 9.5, 10, 50.3, 199, 200, 1000, 1e5, 1e7]:
        for p in [0.9, 0.95, 0.975, 0.995, 0.9995]:
            z = st.t.isf(1 - p, nu)
            q = mpmath.findroot(lambda x: mp_t_sf(x, nu) - (1 - mpmath.mpf(p)), z)
            out.append({"nu": nu, "p": p, "q": float(q)})
    return out


welch = t_cases(100, equal_var=False)
pooled = t_cases(30, equal_var=True)
props = proportion_cases(60)
fisher, binom, gtest = exact_cases(25)
doc = {
    "generator": "stats/testdata/gen_reference.py",
    "seed": SEED,
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "statsmodels": statsmodels.__version__,
    "mpmath": mpmath.__version__,
    "welch": welch,
    "pooled_t": pooled,
    "proportions": props,
    "fisher": fisher,
    "binomial": binom,
    "gtest": gtest,
    "srm": srm_cases(25),
    "unconditional": unconditional_cases(12),
    "multiple": multiple_cases(15),
    "power": power_cases(30),
    "t_tail": t_tail_cases(),
    "t_quantile": t_quantile_cases(),
}
json.dump(doc, sys.stdout, indent=1)
sys.stdout.write("\n")

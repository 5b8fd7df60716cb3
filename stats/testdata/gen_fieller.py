"""Reference values for Fieller's relative interval (stats.FiellerCI).

Independent of the Go code's closed form: each interval is found by
root-finding on the *definition* of Fieller's set,

    { L : |D(L)| <= q * sd(D(L)) },   D(L) = (treatment estimate) - (1 + L) * (control estimate)

where sd(D(L)) is recomputed from the raw samples at every L (no covariance
algebra), and q is the Welch t critical value (scipy). For CUPED the estimate
of each arm is the mean of y - theta*x with theta the pooled regression slope
of y on x, and the relative effect is L = Delta_adj / ybar_A, so
D(L) = mean_B(y - theta x) - mean_A((1 + L) y - theta x).

Run: /usr/bin/python3 stats/testdata/gen_fieller.py > stats/testdata/fieller_reference.json
(scipy 1.10.1, numpy 1.24.2).
"""
import json

import numpy as np
from scipy import optimize, stats

rng = np.random.Generator(np.random.PCG64(20261202))


def sums(y, x=None):
    d = {"n": float(len(y)), "sum_y": float(y.sum()), "sum_y2": float((y * y).sum())}
    if x is not None:
        d.update(sum_x=float(x.sum()), sum_x2=float((x * x).sum()), sum_xy=float((x * y).sum()))
    return d


def welch_q(sa, sb, na, nb, level):
    df = (sa + sb) ** 2 / (sa * sa / (na - 1) + sb * sb / (nb - 1))
    return stats.t.ppf(level, df)


def fieller_set(g, est, lo_guess, hi_guess):
    """Roots of g(L) = |D(L)| - q sd(D(L)) on each side of est (g(est) < 0)."""
    assert g(est) < 0
    left, step = est, max(abs(est), 0.01)
    while g(left) < 0:
        left -= step
        step *= 2
    right, step = est, max(abs(est), 0.01)
    while g(right) < 0:
        right += step
        step *= 2
    lo = optimize.brentq(g, left, est, xtol=1e-15, rtol=1e-14, maxiter=500)
    hi = optimize.brentq(g, est, right, xtol=1e-15, rtol=1e-14, maxiter=500)
    return lo, hi


cases = []
# Plain Welch means (no covariate): the classical Fieller interval.
for i in range(12):
    na, nb = int(rng.integers(20, 2000)), int(rng.integers(20, 2000))
    mu = rng.uniform(1, 10)
    lift = rng.uniform(-0.3, 0.5)
    sd = rng.uniform(0.5, 3) * mu
    ya = rng.normal(mu, sd, na)
    yb = rng.normal(mu * (1 + lift), sd, nb)
    alpha = [0.05, 0.01, 0.2][i % 3]
    a, b = ya.mean(), yb.mean()
    sa, sb = ya.var(ddof=1) / na, yb.var(ddof=1) / nb
    q = welch_q(sa, sb, na, nb, 1 - alpha / 2)

    def g(L, ya=ya, yb=yb, q=q):
        d = yb.mean() - (1 + L) * ya.mean()
        v = yb.var(ddof=1) / len(yb) + (1 + L) ** 2 * ya.var(ddof=1) / len(ya)
        return abs(d) - q * np.sqrt(v)

    est = (b - a) / abs(a)
    lo, hi = fieller_set(g, est, None, None)
    cases.append({"kind": "means", "alpha": alpha, "control": sums(ya), "treatment": sums(yb),
                  "rel": est, "lo": lo, "hi": hi})

# CUPED means: y correlated with a pre-period covariate x.
for i in range(12):
    na, nb = int(rng.integers(50, 3000)), int(rng.integers(50, 3000))
    rho = rng.uniform(0.3, 0.9)
    mu = rng.uniform(2, 20)
    lift = rng.uniform(-0.2, 0.4)
    xa, xb = rng.normal(mu, mu / 2, na), rng.normal(mu, mu / 2, nb)
    ea, eb = rng.normal(0, mu / 2, na), rng.normal(0, mu / 2, nb)
    ya = mu + rho * (xa - mu) + np.sqrt(1 - rho * rho) * ea
    yb = mu * (1 + lift) + rho * (xb - mu) + np.sqrt(1 - rho * rho) * eb
    alpha = [0.05, 0.01, 0.1][i % 3]
    x, y = np.concatenate([xa, xb]), np.concatenate([ya, yb])
    theta = np.cov(x, y, ddof=1)[0, 1] / x.var(ddof=1)
    ua, ub = ya - theta * xa, yb - theta * xb
    sa, sb = ua.var(ddof=1) / na, ub.var(ddof=1) / nb
    q = welch_q(sa, sb, na, nb, 1 - alpha / 2)

    def g(L, ya=ya, xa=xa, ub=ub, q=q, theta=theta):
        ca = (1 + L) * ya - theta * xa
        d = ub.mean() - ca.mean()
        v = ub.var(ddof=1) / len(ub) + ca.var(ddof=1) / len(ca)
        return abs(d) - q * np.sqrt(v)

    est = (ub.mean() - ua.mean()) / abs(ya.mean())
    lo, hi = fieller_set(g, est, None, None)
    cases.append({"kind": "cuped", "alpha": alpha, "control": sums(ya, xa), "treatment": sums(yb, xb),
                  "rel": est, "lo": lo, "hi": hi})

print(json.dumps({"source": "stats/testdata/gen_fieller.py", "cases": cases}, indent=1))

#!/usr/bin/env python3
"""Interim fixture: a run folder whose results.json follows results/results.go.

Numbers are internally consistent (normal-approximation Welch intervals from
seeded simulated arms) but do not come from the signalab pipeline. Replaced by
real pipeline output once `signalab demo` exists (see README.md).
"""
import json, math, random, sys, os
from statistics import NormalDist

random.seed(7)
Z = NormalDist().inv_cdf(0.975)
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "run")

def p2(z):
    return 2 * (1 - NormalDist().cdf(abs(z)))

def compare(nc, mc, vc, nt, mt, vt, kind, metric, pop, seg="all", val=""):
    se = math.sqrt(vc / nc + vt / nt)
    d = mt - mc
    rel = d / mc
    rse = math.sqrt(vt / nt / mc**2 + mt**2 * vc / nc / mc**4)
    p = p2(rel / rse)
    return {
        "metric": metric, "metric_type": kind, "variant": "treatment", "segment": seg, "segment_value": val,
        "population": pop,
        "control": {"name": "control", "units": nc, "clusters": nc // 9, "mean": mc, "se": math.sqrt(vc / nc),
                    "numerator": mc * nc, "denominator": nc},
        "treatment": {"name": "treatment", "units": nt, "clusters": nt // 9, "mean": mt, "se": math.sqrt(vt / nt),
                      "numerator": mt * nt, "denominator": nt},
        "absolute": {"estimate": d, "se": se, "ci_lower": d - Z * se, "ci_upper": d + Z * se},
        "relative": {"estimate": rel, "se": rse, "ci_lower": rel - Z * rse, "ci_upper": rel + Z * rse},
        "p_value": p, "p_value_adjusted": p, "significant": p < 0.05,
        "cuped": {"theta": 0.12, "variance_reduction": 0.07} if kind in ("proportion", "mean") else None,
        "bayesian": None, "sequential": None,
    }

def prop(n, base, lift, metric, pop, seg="all", val=""):
    nc, nt = n, int(n * random.uniform(0.98, 1.02))
    pc = base * random.uniform(0.97, 1.03)
    pt = pc * (1 + lift) * random.uniform(0.98, 1.02)
    return compare(nc, pc, pc * (1 - pc), nt, pt, pt * (1 - pt), "proportion", metric, pop, seg, val)

def mean(n, base, sd, lift, metric, kind, pop, seg="all", val=""):
    nc, nt = n, int(n * random.uniform(0.98, 1.02))
    mc = base * random.uniform(0.97, 1.03)
    mt = mc * (1 + lift) * random.uniform(0.97, 1.03)
    return compare(nc, mc, sd**2, nt, mt, sd**2, kind, metric, pop, seg, val)

N_ALL, N_TRIG = 41230, 15870
rows = []
specs = [("conversion", lambda n, pop, s, v: prop(n, 0.118, 0.095 if pop == "triggered" else 0.036, "conversion", pop, s, v)),
         ("revenue", lambda n, pop, s, v: mean(n, 842.0, 3900.0, 0.08 if pop == "triggered" else 0.03, "revenue", "mean", pop, s, v)),
         ("aov", lambda n, pop, s, v: mean(n, 7130.0, 5200.0, 0.01, "aov", "ratio", pop, s, v)),
         ("reply_minutes", lambda n, pop, s, v: mean(n, 6.4, 14.0, -0.01, "reply_minutes", "quantile", pop, s, v))]
for name, f in specs:
    for seg, vals in (("all", [""]), ("channel", ["messenger", "online_store_chat"])):
        for v in vals:
            for pop in ("all", "triggered"):
                n = N_ALL if pop == "all" else N_TRIG
                if seg != "all":
                    n = int(n * (0.35 if v == "messenger" else 0.65))
                rows.append(f(n // 2, pop, seg, v))
# Holm over the all-segment, all-population rows.
fam = [r for r in rows if r["segment"] == "all" and r["population"] == "all"]
order = sorted(range(len(fam)), key=lambda i: fam[i]["p_value"])
m, run = len(fam), 0.0
for rank, i in enumerate(order):
    run = max(run, min(1.0, (m - rank) * fam[i]["p_value"]))
    fam[i]["p_value_adjusted"] = run
    fam[i]["significant"] = run < 0.05

def row(metric, pop):
    return next(r for r in rows if r["metric"] == metric and r["population"] == pop and r["segment"] == "all")

dil = []
for name, _ in specs:
    t, a = row(name, "triggered"), row(name, "all")
    share_t, share_c = 0.386, 0.381
    imp_abs = t["absolute"]["estimate"] * share_t
    dil.append({"metric": name, "variant": "treatment", "triggered_share_control": share_c,
                "triggered_share_treatment": share_t, "triggered_absolute": t["absolute"]["estimate"],
                "triggered_relative": t["relative"]["estimate"], "all_absolute": a["absolute"]["estimate"],
                "all_relative": a["relative"]["estimate"], "implied_all_absolute": imp_abs,
                "implied_all_relative": imp_abs / a["control"]["mean"]})

series = []
for pop, n_total, lift in (("triggered", N_TRIG, 0.095), ("all", N_ALL, 0.036)):
    pts = []
    for day in range(28):
        n = int(n_total / 2 * (day + 1) / 28)
        pc = 0.118
        est = lift + random.gauss(0, 0.3 / math.sqrt(day + 1)) * 0.1
        rse = math.sqrt(2 * (1 - pc) / pc / n)
        pts.append({"date": "2026-03-%02d" % (day + 1), "control_units": n, "treatment_units": n,
                    "relative": est, "ci_lower": est - Z * rse, "ci_upper": est + Z * rse,
                    "seq_ci_lower": None, "seq_ci_upper": None, "p_value": p2(est / rse)})
    series.append({"metric": "conversion", "variant": "treatment", "population": pop, "points": pts})

per_conv = [25360, 6110, 4020, 2480, 1390, 820, 450, 260, 150, 90, 100]
res = {
    "schema_version": "1.0", "tool_version": "devel",
    "experiment": {"name": "inbox-buyer-signals", "unit": "shop_id", "analysis_unit": "conversation",
                   "variants": [{"name": "control", "weight": 0.5}, {"name": "treatment", "weight": 0.5}],
                   "control": "control", "primary": "conversion", "alpha": 0.05, "test": "welch",
                   "relative_ci": "delta", "correction": "holm", "cuped": True, "sequential": False,
                   "bayesian": False, "srm_alpha": 0.001, "segments": ["channel"],
                   "window": {"start": "2026-03-01T00:00:00Z", "end": "2026-03-29T00:00:00Z"}, "pre_period": "672h0m0s"},
    "metrics": [
        {"name": "conversion", "type": "proportion", "outcome": "orders", "window": "72h0m0s", "columns": ["conversion"], "covariates": ["prior_orders"], "cap": None, "primary": True, "guardrail": None},
        {"name": "revenue", "type": "mean", "outcome": "revenue_cents", "window": "72h0m0s", "columns": ["revenue"], "covariates": ["prior_order_value_cents"], "cap": {"percentile": 0.99, "threshold": 48210, "capped": 412}, "primary": False, "guardrail": None},
        {"name": "aov", "type": "ratio", "numerator": "revenue_cents", "denominator": "orders", "window": "72h0m0s", "columns": ["aov_num", "aov_den"], "covariates": [], "cap": None, "primary": False, "guardrail": None},
        {"name": "reply_minutes", "type": "quantile", "outcome": "first_merchant_reply_minutes", "quantile": 0.5, "columns": ["reply_minutes"], "covariates": [], "cap": None, "primary": False, "guardrail": None}],
    "rows": rows, "dilution": dil,
    "health": {"srm": {"unit": "shop_id", "observed": [2498, 2522], "expected": [2510, 2510], "chi_square": 0.1147, "df": 1,
                       "p_value": 0.7348, "alpha": 0.001, "flagged": False, "variants": ["control", "treatment"], "source": "assign.json"},
               "arms": [{"name": "control", "randomization_units": 2498, "units": 20510, "triggered_units": 7814},
                        {"name": "treatment", "randomization_units": 2522, "units": 20720, "triggered_units": 7998}],
               "replay": {"events_read": 1204331, "accepted": 1180874, "duplicates": 12040, "stale": 8211, "late": 2987,
                          "quarantined": 219, "quarantined_by_reason": {"missing_buyer_id": 131, "negative_money": 88}},
               "excluded": {"filtered": 3120, "outside_window": 1844}},
    "gates": {"passed": True, "checks": [{"name": "srm", "kind": "srm", "passed": True, "value": 0.7348, "threshold": 0.001, "reason": ""}]},
    "time_series": series,
    "signals": {"conversations": 41230, "triggered": 15812, "with_signal": 15870 + 2210, "signals": 48922,
                "by_kind": [{"kind": "buyer_context", "count": 14120}, {"kind": "cart_action", "count": 22760},
                            {"kind": "checkout_started", "count": 6410}, {"kind": "order_completed", "count": 5632}],
                "per_conversation": {"n": 41230, "mean": 1.19, "quantiles": [{"q": 0.5, "value": 0}, {"q": 0.9, "value": 4}],
                                     "histogram": [{"label": str(i) if i < 10 else "10+", "count": c} for i, c in enumerate(per_conv)]},
                "time_to_first_signal_seconds": {"n": 18080, "mean": 812.0, "quantiles": [
                    {"q": 0.1, "value": 0}, {"q": 0.25, "value": 0}, {"q": 0.5, "value": 95}, {"q": 0.75, "value": 640},
                    {"q": 0.9, "value": 2410}, {"q": 0.99, "value": 11800}]}},
    "warnings": [],
}
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(res, f, indent=2)
    f.write("\n")

#!/usr/bin/python3
"""Generate stats/testdata/asos_reference.json: scipy/statsmodels results on
the ASOS Digital Experiments Dataset (Liu, Cardoso, Couturier, McCoy,
NeurIPS 2021 Datasets and Benchmarks, arXiv 2111.10198; CC BY 4.0), read from
../shared/datasets/asos_digital_experiments/ (not in this repository).

Run from the repository root:

    /usr/bin/python3 stats/testdata/gen_asos_reference.py > stats/testdata/asos_reference.json

For every series (experiment_id, variant_id, metric_id) it takes the final
checkpoint that has both variances (in this dataset that is always the
latest time_since_start; 15 of the 396 series have no variance at any
checkpoint and are excluded, counted in "excluded_series"), runs
Welch's t test (scipy.stats.ttest_ind_from_stats, equal_var=False, treatment
minus control), and records the number of discoveries at 0.05 after
Benjamini-Hochberg and Bonferroni (statsmodels multipletests), plus the
p-values of the first 12 series in key order.
"""
import csv
import json
import os
import sys

import numpy as np
import scipy
import scipy.stats as st
from statsmodels.stats.multitest import multipletests

path = os.path.join("..", "shared", "datasets", "asos_digital_experiments", "asos_digital_experiments_dataset.csv")
series = {}
fallback = set()
for r in csv.DictReader(open(path)):
    key = (r["experiment_id"], r["variant_id"], r["metric_id"])
    t = float(r["time_since_start"])
    last = series.get(key)
    if r["variance_c"] == "" or r["variance_t"] == "":
        continue
    if last is None or t > last[0]:
        series[key] = (t, r)
# Count series whose overall last checkpoint lacks a variance.
latest = {}
for r in csv.DictReader(open(path)):
    key = (r["experiment_id"], r["variant_id"], r["metric_id"])
    t = float(r["time_since_start"])
    if key not in latest or t > latest[key]:
        latest[key] = t
fallback = [k for k in series if series[k][0] < latest[k]]

keys = sorted(series)
ps = []
rows = []
for k in keys:
    _, r = series[k]
    res = st.ttest_ind_from_stats(float(r["mean_t"]), np.sqrt(float(r["variance_t"])), float(r["count_t"]),
                                  float(r["mean_c"]), np.sqrt(float(r["variance_c"])), float(r["count_c"]),
                                  equal_var=False)
    ps.append(float(res.pvalue))
    rows.append({"key": list(k), "time_since_start": series[k][0], "p": float(res.pvalue),
                 "statistic": float(res.statistic)})
bh = multipletests(ps, alpha=0.05, method="fdr_bh")[0]
bonf = multipletests(ps, alpha=0.05, method="bonferroni")[0]
doc = {
    "generator": "stats/testdata/gen_asos_reference.py",
    "scipy": scipy.__version__,
    "series": len(keys),
    "fallback_series": len(fallback),
    "excluded_series": len(latest) - len(series),
    "raw_discoveries": int(sum(p < 0.05 for p in ps)),
    "bh_discoveries": int(bh.sum()),
    "bonferroni_discoveries": int(bonf.sum()),
    "first": rows[:12],
}
json.dump(doc, sys.stdout, indent=1)
sys.stdout.write("\n")

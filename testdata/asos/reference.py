#!/usr/bin/python3
"""Reference values for TestASOSSummary (go test ./analysis).

Reads the ASOS Digital Experiments Dataset (Liu, Cardoso, Couturier, McCoy,
"Datasets for Online Controlled Experiments", NeurIPS 2021 Datasets and
Benchmarks; osf.io/64jsb, DOI 10.17605/OSF.IO/64JSB; CC BY 4.0) and, for every
(experiment_id, variant_id, metric_id) at its last checkpoint (the greatest
time_since_start) with both variances present and both counts >= 2, computes
with SciPy (independently of signalab):

  diff      mean_t - mean_c
  se        sqrt(variance_t/count_t + variance_c/count_c)
  df        Welch-Satterthwaite degrees of freedom
  ci_lower, ci_upper   diff -/+ t_{0.975, df} * se   (scipy.stats.t.ppf)
  p_value   two-sided Welch t test (scipy.stats.ttest_ind_from_stats, equal_var=False)

Run (Debian: apt-get install -y python3-scipy python3-statsmodels):

  /usr/bin/python3 testdata/asos/reference.py \
      ../shared/datasets/asos_digital_experiments/asos_digital_experiments_dataset.csv \
      > testdata/asos/reference.csv
"""
import csv
import math
import sys

from scipy import stats

rows = {}
with open(sys.argv[1], newline="") as f:
    for r in csv.DictReader(f):
        key = (r["experiment_id"], r["variant_id"], r["metric_id"])
        t = float(r["time_since_start"])
        if key not in rows or t > rows[key][0]:
            rows[key] = (t, r)

out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["experiment_id", "variant_id", "metric_id", "time_since_start", "count_c", "count_t",
              "diff", "se", "df", "ci_lower", "ci_upper", "p_value"])
for key in sorted(rows):
    t, r = rows[key]
    if r["variance_c"] == "" or r["variance_t"] == "":
        continue
    nc, nt = float(r["count_c"]), float(r["count_t"])
    mc, mt = float(r["mean_c"]), float(r["mean_t"])
    vc, vt = float(r["variance_c"]), float(r["variance_t"])
    if nc < 2 or nt < 2 or (vc == 0 and vt == 0):
        continue
    se = math.sqrt(vt / nt + vc / nc)
    df = (vt / nt + vc / nc) ** 2 / ((vt / nt) ** 2 / (nt - 1) + (vc / nc) ** 2 / (nc - 1))
    q = stats.t.ppf(0.975, df)
    res = stats.ttest_ind_from_stats(mt, math.sqrt(vt), nt, mc, math.sqrt(vc), nc, equal_var=False)
    d = mt - mc
    out.writerow([*key, r["time_since_start"], r["count_c"], r["count_t"],
                  repr(d), repr(se), repr(df), repr(d - q * se), repr(d + q * se), repr(float(res.pvalue))])

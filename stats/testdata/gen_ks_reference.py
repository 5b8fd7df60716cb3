"""Reference values for stats.KSUniform: scipy's one-sample KS statistic
against Uniform(0, 1) and the Kolmogorov survival function kstwobign.sf at
Stephens' corrected argument (sqrt(n) + 0.12 + 0.11/sqrt(n)) * D.

    /usr/bin/python3 stats/testdata/gen_ks_reference.py > stats/testdata/ks_reference.json
"""
import json

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(20261202)
cases = []
for n, a in [(12, 1.0), (50, 1.0), (200, 1.0), (200, 0.7), (1000, 0.9)]:
    x = rng.beta(a, 1, size=n)
    d = stats.kstest(x, "uniform").statistic
    sn = np.sqrt(n)
    cases.append({"x": [float(v) for v in x], "d": float(d),
                  "p": float(stats.kstwobign.sf((sn + 0.12 + 0.11 / sn) * d))})
print(json.dumps({"scipy": scipy.__version__, "cases": cases}))

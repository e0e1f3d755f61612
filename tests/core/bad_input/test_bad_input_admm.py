"""Bad input gets a clear error: CRONOS's ADMM (solvers.admm_relu) and its figure.

Rows as described in ``bad_input_data``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from bad_input_data import BETA, NAN_X, D, X, Y

from cvxnn_core import plotting, programs, solvers


def _admm(**kw):
    return solvers.admm_relu(X, Y, BETA, D, max_iters=20, **kw)


CASES = [
    ("solvers.admm_relu: rho 0", lambda: _admm(rho=0.0), ValueError, r"rho must be a positive number"),
    ("solvers.admm_relu: rank 0", lambda: _admm(rank=0), ValueError, r"rank must be a positive integer"),
    ("solvers.admm_relu: rank above the variables", lambda: _admm(rank=1000), ValueError,
     r"rank = 1000 exceeds the 2 P d = 42 variables"),
    ("solvers.admm_relu: pcg_iters 0", lambda: _admm(pcg_iters=0), ValueError, r"pcg_iters must be a positive"),
    ("solvers.admm_relu: certify_every 0", lambda: _admm(certify_every=0), ValueError,
     r"certify_every must be a positive integer"),
    ("solvers.admm_relu: max_time -1", lambda: _admm(max_time=-1.0), ValueError, r"max_time must be a positive"),
    ("solvers.admm_relu: tol 0", lambda: _admm(tol=0.0), ValueError, r"tol must be"),
    ("solvers.admm_relu: device unknown", lambda: _admm(device="tpu"), ValueError, r"device"),
    ("solvers.admm_relu: X NaN", lambda: solvers.admm_relu(NAN_X, Y, BETA, D), ValueError, r"X contains NaN"),
    ("solvers.admm_relu: vector targets",
     lambda: solvers.admm_relu(X, np.ones((12, 2)), BETA, D), ValueError, r"y must have shape \(n,\)"),
    ("solvers.admm_relu: patterns wrong rows", lambda: solvers.admm_relu(X, Y, BETA, D[:4]), ValueError,
     r"patterns must have shape \(n, P\) = \(12, P\)"),
    ("programs.solve_relu: admm with the logistic loss",
     lambda: programs.solve_relu(X, np.sign(Y), BETA, D, loss="logistic", solver="admm"), ValueError,
     r"solver='admm' supports loss in \('squared',\)"),
    ("plotting.accuracy_vs_iterations_plot: reference above 1",
     lambda: plotting.accuracy_vs_iterations_plot(pd.DataFrame({"iterations": [1, 10], "test accuracy": [0.5, 0.8]}),
                                                  80.0), ValueError, r"reference_accuracy must lie in \(0, 1\]"),
    ("plotting.accuracy_vs_iterations_plot: iterations 0",
     lambda: plotting.accuracy_vs_iterations_plot(pd.DataFrame({"iterations": [0, 10], "test accuracy": [0.5, 0.8]}),
                                                  0.8), ValueError, r"scan\['iterations'\] must be > 0"),
]


@pytest.mark.parametrize(("case", "call", "exc", "match"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_raises_a_clear_error(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()

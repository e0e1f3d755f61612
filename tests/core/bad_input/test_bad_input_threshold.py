"""Bad input gets a clear error: threshold networks (the Lasso, the shattered program, the networks, training).

Rows as described in ``bad_input_data``."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from bad_input_data import BETA, NAN_X, D, X, Y, Z

from cvxnn_core import plotting
from cvxnn_core import threshold as th

_LABELS = np.where(Y >= 0, 1.0, -1.0)
_NET = th.ThresholdNet((np.ones((2, 3)),), np.ones(2), np.ones(2))


@functools.cache
def _lasso() -> th.ThresholdLasso:
    return th.solve_threshold_lasso(X, _LABELS, BETA, D)


CASES = [
    ("threshold.solve_threshold_lasso: beta 0",
     lambda: th.solve_threshold_lasso(X, _LABELS, 0.0, D), ValueError, r"needs beta > 0"),
    ("threshold.solve_threshold_lasso: beta -1",
     lambda: th.solve_threshold_lasso(X, _LABELS, -1.0, D), ValueError, r"beta must be a finite number >= 0"),
    ("threshold.solve_threshold_lasso: patterns float",
     lambda: th.solve_threshold_lasso(X, _LABELS, BETA, D.astype(float)), TypeError, r"patterns must be a boolean"),
    ("threshold.solve_threshold_lasso: patterns wrong rows",
     lambda: th.solve_threshold_lasso(X, _LABELS, BETA, D[:5]), ValueError,
     r"patterns must have shape \(n, P\) = \(12, P\)"),
    ("threshold.solve_threshold_lasso: y NaN",
     lambda: th.solve_threshold_lasso(X, np.full(12, np.nan), BETA, D), ValueError, r"y contains NaN"),
    ("threshold.ThresholdLasso: producer X NaN",
     lambda: th.solve_threshold_lasso(NAN_X, _LABELS, BETA, D), ValueError, r"X contains NaN"),
    ("threshold.separating_gates: X NaN",
     lambda: th.separating_gates(NAN_X, D), ValueError, r"X contains NaN"),
    ("threshold.separating_gates: patterns wrong rows",
     lambda: th.separating_gates(X, D[:3]), ValueError, r"patterns must have shape \(n, P\) = \(12, P\)"),
    ("threshold.threshold_network: result not a ThresholdLasso",
     lambda: th.threshold_network("lasso", np.ones((3, D.shape[1]))), TypeError,
     r"result must be a threshold.ThresholdLasso"),
    ("threshold.threshold_network: gates (P, d) instead of (d, P)",
     lambda: th.threshold_network(_lasso(), np.ones((D.shape[1], 3))), ValueError,
     r"gates must be a finite \(d, P\) array with P = 7"),
    ("threshold.threshold_network: gates NaN",
     lambda: th.threshold_network(_lasso(), np.full((3, D.shape[1]), np.nan)), ValueError, r"gates must be a finite"),
    ("threshold.threshold_network: zero solution",
     lambda: th.threshold_network(th.solve_threshold_lasso(X, _LABELS, 1e6, D), np.ones((3, D.shape[1]))),
     ValueError, r"the Lasso solution is zero"),
    ("threshold.shattered_program: beta -1",
     lambda: th.shattered_program(_LABELS, -1.0), ValueError, r"beta must be a finite number >= 0"),
    ("threshold.shattered_program: y NaN",
     lambda: th.shattered_program(np.array([1.0, np.nan]), 0.1), ValueError, r"y contains NaN"),
    ("threshold.shattered_closed_form: labels not +-1",
     lambda: th.shattered_closed_form(Y, 0.1), ValueError, r"needs labels in \{-1, \+1\}"),
    ("threshold.shattered_closed_form: beta nan",
     lambda: th.shattered_closed_form(_LABELS, float("nan")), ValueError, r"beta must be a finite number"),
    ("threshold.shattered_network: delta wrong length",
     lambda: th.shattered_network(X, _LABELS[:5], 10), ValueError, r"delta has 5 rows but X has 12"),
    ("threshold.shattered_network: first_width 0",
     lambda: th.shattered_network(X, _LABELS, 0), ValueError, r"first_width must be a positive integer"),
    ("threshold.shattered_network: seed -1",
     lambda: th.shattered_network(X, _LABELS, 10, seed=-1), ValueError, r"seed must be a non-negative integer"),
    ("threshold.shattered_network: delta zero",
     lambda: th.shattered_network(X, np.zeros(12), 10), ValueError, r"delta is zero"),
    ("threshold.ThresholdNet: hidden empty",
     lambda: th.ThresholdNet((), np.ones(2), np.ones(2)), TypeError, r"hidden must be a non-empty tuple"),
    ("threshold.ThresholdNet: layer widths do not chain",
     lambda: th.ThresholdNet((np.ones((4, 3)), np.ones((2, 4))), np.ones(2), np.ones(2)), ValueError,
     r"hidden\[1\] must have 5 columns"),
    ("threshold.ThresholdNet: amplitude wrong length",
     lambda: th.ThresholdNet((np.ones((2, 3)),), np.ones(3), np.ones(2)), ValueError,
     r"amplitude and output must be finite arrays of shape \(2,\)"),
    ("threshold.ThresholdNet: hidden NaN",
     lambda: th.ThresholdNet((np.full((2, 3), np.nan),), np.ones(2), np.ones(2)), ValueError,
     r"hidden\[0\] must be a finite 2-D array"),
    ("threshold.ThresholdNet.predict: X wrong width",
     lambda: _NET.predict(Z), ValueError, r"X has 2 columns, the network expects 3"),
    ("threshold.ThresholdNet.objective: beta -1",
     lambda: _NET.objective(X, _LABELS, -1.0), ValueError, r"beta must be a finite number >= 0"),
    ("threshold.train_threshold_ste: widths an int",
     lambda: th.train_threshold_ste(X, _LABELS, 5, BETA, epochs=2), ValueError, r"widths must be a tuple"),
    ("threshold.train_threshold_ste: width 0",
     lambda: th.train_threshold_ste(X, _LABELS, (0,), BETA, epochs=2), ValueError, r"widths\[i\] must be a positive"),
    ("threshold.train_threshold_ste: surrogate unknown",
     lambda: th.train_threshold_ste(X, _LABELS, (3,), BETA, epochs=2, surrogate="sigmoid"), ValueError,
     r"surrogate must be one of \('identity', 'relu'\)"),
    ("threshold.train_threshold_ste: epochs 0",
     lambda: th.train_threshold_ste(X, _LABELS, (3,), BETA, epochs=0), ValueError, r"epochs must be a positive"),
    ("threshold.train_threshold_ste: lr -1",
     lambda: th.train_threshold_ste(X, _LABELS, (3,), BETA, epochs=2, lr=-1.0), ValueError,
     r"lr must be a positive number"),
    ("threshold.train_threshold_ste: y wrong length",
     lambda: th.train_threshold_ste(X, _LABELS[:4], (3,), BETA, epochs=2), ValueError, r"y has 4 rows but X has 12"),
    ("plotting.shattering_plot: width 0 on a log axis",
     lambda: plotting.shattering_plot(pd.DataFrame({"first width": [0, 10], "relative excess": [1.0, 0.0]})),
     ValueError, r"table\['first width'\] must be > 0"),
    ("plotting.shattering_plot: missing column",
     lambda: plotting.shattering_plot(pd.DataFrame({"first width": [1, 10]})), ValueError,
     r"table lacks column\(s\) \['relative excess'\]"),
]


@pytest.mark.parametrize(("case", "call", "exc", "match"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_raises_a_clear_error(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()

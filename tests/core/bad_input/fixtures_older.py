"""Tiny seeded fixtures of the bad-input rows of the two-layer modules, batchnorm, vector_output, cutting_plane,
interpretation, kernels and results.

Each is cheap to build; some are built on first use.
"""

from __future__ import annotations

import functools
import os

import numpy as np
import torch
from bad_input_data import BETA, NET, RESULT, Y_PM, D, N, P, X, Y, Z, tmpdir

from cvxnn_core import (
    batchnorm,
    certificates,
    closed_form,
    cutting_plane,
    duality,
    interpretation,
    kernels,
    losses,
    nonconvex,
    patterns,
    programs,
    recovery,
    results,
    splines,
    vector_output,
)
from cvxnn_core._cvx import SolverError

# ---- fixtures (tiny; all of them together build in well under 0.1 s) ---------------------------------------------
_OLDER_WHITE = batchnorm.whiten(Z)  # rank 2, n = 12
_OLDER_BNNET = batchnorm.BatchNormNet.from_training_data(Z, np.eye(2), np.ones(2), np.zeros(2), np.ones(2))
_OLDER_A = cutting_plane.relu_features(X, np.eye(3))  # (12, 3) ReLU features
_OLDER_LABELS = (Y_PM > 0).astype(int)
_OLDER_W2 = np.array([1.0, -1.0, 1.0])
_OLDER_SIM = interpretation.class_mean_similarity(np.ones((3, 2)), _OLDER_W2, Z, _OLDER_LABELS, Y_PM)
_OLDER_Y2 = np.c_[Y, Y]  # vector targets (12, 2)
_OLDER_VNET = vector_output.VectorNet(W1=np.ones((4, 3)), W2=np.ones((4, 2)))
_OLDER_VRES = vector_output.VectorConvexResult(
    objective=0.0, V=np.zeros((P, 3, 2)), patterns=D, method="nuclear", status="optimal", solver="CLARABEL",
    solve_time=0.0, beta=BETA, Q=np.eye(3), pieces=())
_OLDER_SPEC = {"name": "b", "kind": "check", "statement": "s", "measured": "m", "op": "<=", "threshold": 1.0}
_OLDER_NET2 = recovery.TwoLayerNet(W1=np.ones((2, 2)), w2=np.ones(2))  # a network on 1-D inputs + intercept


@functools.cache
def _older_gated() -> programs.ConvexResult:
    return programs.solve_gated_relu(X, Y, BETA, D)


@functools.cache
def _older_ramp() -> splines.RampLassoResult:
    return splines.ramp_lasso(Z[:, 0], Y, BETA)


def _older_corrupt_numbers() -> dict:
    folder = tmpdir()
    with open(os.path.join(folder, "numbers.json"), "w", encoding="utf-8") as fh:
        fh.write("{")
    return results.load_numbers(folder)


_BN, _CP, _DU, _IT, _VO = "batchnorm", "cutting_plane", "duality", "interpretation", "vector_output"
_OVER = r"would build .*max_entries = 50,000,000"  # the message of _shapes.check_size with the default limit

__all__ = [name for name in list(globals()) if not name.startswith("__")]  # private fixtures too

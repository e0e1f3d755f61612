"""The split of gated blocks along their sampling gates, and the gated operator's norm (solvers at scale)."""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core import solvers
from cvxnn_core.datasets import teacher_regression
from cvxnn_core.patterns import sample_gates
from cvxnn_core.programs import convex_predictions


def _teacher():
    X, y = teacher_regression(60, 5, width=10, noise=0.1, seed=3)
    D, G = sample_gates(X, 30, seed=1)
    return X, y, D, G, 0.1 * solvers.beta_max(X, y, D)


def test_gate_split_is_feasible_exact_and_tight():
    # v, w in the cone, v - w = u, and at the least t both cones bind (some row of each at equality)
    X, y, D, G, beta = _teacher()
    U = solvers.fista_gated(X, y, beta, D, tol=1e-8).V
    mixed = 0
    for i in np.flatnonzero(np.linalg.norm(U, axis=1) > 0):
        v, w = solvers.gate_split(X, D[:, i], G[:, i], U[i])
        s = 2.0 * D[:, i] - 1.0
        scale = np.max(np.abs(X @ U[i]))
        np.testing.assert_allclose(v - w, U[i], atol=1e-12 * np.linalg.norm(U[i]))
        cv, cw = s * (X @ v), s * (X @ w)
        assert cv.min() >= -1e-12 * scale and cw.min() >= -1e-12 * scale
        if np.any(w):
            mixed += 1
            assert abs(cv.min()) <= 1e-9 * scale and abs(cw.min()) <= 1e-9 * scale
    assert mixed > 0  # the case that needs the gate occurs


def test_gate_split_keeps_blocks_already_in_a_cone():
    X, y, D, G, beta = _teacher()
    inside = G[:, 0]  # the gate itself lies in its cone: v = u, w = 0; and -g in -K: v = 0, w = g
    v, w = solvers.gate_split(X, D[:, 0], G[:, 0], inside)
    np.testing.assert_array_equal(v, inside)
    np.testing.assert_array_equal(w, 0)
    v, w = solvers.gate_split(X, D[:, 0], G[:, 0], -inside)
    np.testing.assert_array_equal(v, 0)
    np.testing.assert_array_equal(w, inside)


def test_decompose_gated_along_gates_keeps_the_gated_predictions():
    X, y, D, G, beta = _teacher()
    gated = solvers.fista_gated(X, y, beta, D, tol=1e-10)
    split = solvers.decompose_gated(X, D, gated.V, gates=G)
    assert split.no_split == () and split.prediction_error <= 1e-10
    np.testing.assert_allclose(split.net.predict(X), convex_predictions(X, D, gated.V), atol=1e-10, rtol=0)
    assert split.penalty_ratio >= 1 - 1e-12


def test_gated_operator_norm_is_the_top_singular_value_squared():
    X, y, D, G, beta = _teacher()
    A = np.hstack([D[:, [i]] * X for i in range(D.shape[1])])
    exact = np.linalg.norm(A, 2) ** 2
    estimate = solvers.gated_operator_norm(X, D, iters=400)
    assert estimate <= exact * (1 + 1e-12) and estimate >= exact * (1 - 1e-8)


def test_fista_gated_with_a_given_lipschitz_reaches_the_same_optimum():
    X, y, D, G, beta = _teacher()
    L = solvers.gated_operator_norm(X, D)
    result = solvers.fista_gated(X, y, beta, D, tol=1e-9, lipschitz=L)
    reference = solvers.fista_gated(X, y, beta, D, tol=1e-9)
    assert result.converged and reference.converged
    assert abs(result.objective - reference.objective) <= 2e-9 * reference.objective


def test_solve_relu_warns_before_it_starts_above_the_scale_limit(monkeypatch):
    from cvxnn_core import programs

    X, y, D, G, beta = _teacher()
    monkeypatch.setattr(programs, "RELU_SCALE_LIMIT", X.shape[0] * X.shape[1] * D.shape[1] - 1)
    with pytest.warns(UserWarning, match=r"beyond what the ReLU program's solvers finish.*gates=G"):
        programs.solve_relu(X, y, beta, D)

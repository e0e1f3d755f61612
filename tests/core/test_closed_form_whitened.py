"""Whitened data (X X^T = I_n): the two-neuron soft-thresholding closed form is the global optimum.

The closed form is compared with the convex ReLU program over the complete arrangement (cvxpy +
Clarabel), with the nonconvex objective of the returned network, and with an independent dual
certificate; bad inputs (data not whitened, n > d) must raise a ValueError naming the fix.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core.certificates import certify
from cvxnn_core.closed_form import whiten_rows, whitened_relu
from cvxnn_core.patterns import enumerate_patterns
from cvxnn_core.programs import solve_relu
from cvxnn_core.recovery import nonconvex_objective

SOLVER_RTOL = 1e-6  # closed form vs interior-point optimum over the complete arrangement (relative)
EXACT_RTOL = 1e-12  # identities the closed form satisfies in exact arithmetic
BETAS = (0.01, 0.3, 1.0, 1.7, 5.0)
# Clarabel sometimes stops at 'optimal_inaccurate' at the 1e-10 tolerances; the comparison below checks the value.
pytestmark = pytest.mark.filterwarnings("ignore:Solution may be inaccurate", "ignore:solver CLARABEL reports status")


def _whitened(n: int, d: int, seed: int) -> np.ndarray:
    return whiten_rows(np.random.default_rng(seed).standard_normal((n, d)))


def _targets(kind: str, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(100 + seed)
    if kind == "labels":
        return np.where(rng.random(n) < 0.4, 1.0, -1.0)
    return rng.standard_normal(n)


@pytest.fixture(scope="module")
def problem():
    """``X`` (6, 9) with orthonormal rows, its complete arrangement (63 patterns) and real targets."""
    X = _whitened(6, 9, seed=0)
    return X, _targets("real", 6, 0), enumerate_patterns(X)


def test_whiten_rows_gives_orthonormal_rows_spanning_the_same_space():
    A = np.random.default_rng(3).standard_normal((5, 8))
    Xw = whiten_rows(A)
    assert np.allclose(Xw @ Xw.T, np.eye(5), atol=1e-12)
    # Same row space: projecting A onto span(rows of Xw) leaves A unchanged.
    assert np.allclose(A @ Xw.T @ Xw, A, atol=1e-12)


@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("kind", ["real", "labels"])
def test_closed_form_equals_convex_program_over_complete_arrangement(kind, beta):
    X = _whitened(6, 9, seed=1)
    y = _targets(kind, 6, 1)
    D = enumerate_patterns(X)
    assert D.shape[1] == 2**6 - 1  # rank n: every non-empty pattern is realisable
    p, net = whitened_relu(X, y, beta)
    solver = solve_relu(X, y, beta, D).objective
    assert abs(solver - p) <= SOLVER_RTOL * p


@pytest.mark.parametrize("beta", BETAS)
def test_returned_network_attains_the_closed_form_value(problem, beta):
    X, y, _ = problem
    p, net = whitened_relu(X, y, beta)
    assert net.width <= 2
    assert abs(nonconvex_objective(X, y, net, beta) - p) <= EXACT_RTOL * max(p, 1.0)


@pytest.mark.parametrize("beta", (0.05, 0.5))
def test_closed_form_is_certified_by_the_dual_bound(problem, beta):
    X, y, D = problem
    p, net = whitened_relu(X, y, beta)
    cert = certify(X, y, net, beta, D)
    assert cert.exact
    assert cert.gap <= 1e-9


def test_neurons_are_the_class_sums_with_soft_thresholded_scale(problem):
    X, y, _ = problem
    beta = 0.2
    _, net = whitened_relu(X, y, beta)
    pos, neg = np.maximum(y, 0.0), np.maximum(-y, 0.0)
    assert net.width == 2
    for k, part, sign in ((0, pos, 1.0), (1, neg, -1.0)):
        u = net.W1[k] / np.linalg.norm(net.W1[k])
        target = X.T @ part / np.linalg.norm(X.T @ part)
        assert np.allclose(u, target, atol=1e-12)
        assert np.sign(net.w2[k]) == sign
        # balanced neuron with ||w1|| |w2| = (||y_+-|| - beta)_+
        assert np.isclose(np.linalg.norm(net.W1[k]) * abs(net.w2[k]), np.linalg.norm(part) - beta, rtol=1e-12)


def test_large_beta_gives_the_zero_network_and_half_squared_norm(problem):
    X, y, _ = problem
    beta = 1.01 * max(np.linalg.norm(np.maximum(y, 0)), np.linalg.norm(np.maximum(-y, 0)))
    p, net = whitened_relu(X, y, beta)
    assert net.width == 0
    assert np.isclose(p, 0.5 * y @ y, rtol=1e-14)
    assert np.allclose(net.predict(X), 0.0)


def test_objective_is_sum_of_two_huber_functions(problem):
    X, y, _ = problem
    tp, tm = np.linalg.norm(np.maximum(y, 0)), np.linalg.norm(np.maximum(-y, 0))
    beta = 0.5 * (tp + tm)  # between the two norms when they differ: one neuron survives
    lo, hi = min(tp, tm), max(tp, tm)
    p, net = whitened_relu(X, y, beta)
    expected = (0.5 * lo**2 if lo <= beta else beta * lo - 0.5 * beta**2) + (beta * hi - 0.5 * beta**2)
    assert np.isclose(p, expected, rtol=1e-14)
    assert net.width == (1 if lo <= beta < hi else 2)


def test_data_not_whitened_raises_clear_error():
    A = np.random.default_rng(0).standard_normal((5, 8))
    with pytest.raises(ValueError, match="X X\\^T = I_n"):
        whitened_relu(A, np.ones(5), 0.1)


def test_more_samples_than_features_raises():
    X = np.linalg.qr(np.random.default_rng(0).standard_normal((8, 3)))[0]  # orthonormal columns, n > d
    with pytest.raises(ValueError, match="n <= d"):
        whitened_relu(X, np.ones(8), 0.1)
    with pytest.raises(ValueError, match="n <= d"):
        whiten_rows(np.ones((4, 2)))


def test_rank_deficient_rows_cannot_be_whitened():
    A = np.random.default_rng(0).standard_normal((3, 6))
    A[2] = A[0] + A[1]
    with pytest.raises(ValueError, match="rank"):
        whiten_rows(A)


def test_bad_beta_and_y_raise(problem):
    X, y, _ = problem
    with pytest.raises(ValueError, match="beta"):
        whitened_relu(X, y, -1.0)
    with pytest.raises(ValueError, match="y has"):
        whitened_relu(X, y[:-1], 0.1)

"""Small beta (the nearly interpolating end of the regularization path): the fast solvers against Clarabel.

Data: planted-teacher problems (seeded; sizes in each test) with sampled gates, at ``beta = frac * beta_max`` for
``frac`` in ``SMALL_FRACTIONS``. References are the cvxpy path (Clarabel, tolerance 1e-10). Every fast solver runs
with its *default* options, so the tests check what a user gets.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvxnn_core import solvers
from cvxnn_core.datasets import add_intercept, teacher_regression
from cvxnn_core.patterns import sample_gates
from cvxnn_core.programs import solve_gated_relu, solve_relu

SMALL_FRACTIONS = (1e-3, 1e-4)
OPT_RTOL = 1e-6  # fast objective vs the Clarabel optimum (relative), the accuracy
GAP_TOL = 1e-6  # certified relative gap reached by default
NEWTON_RTOL = 1e-10  # Newton direction vs a dense solve of the Hessian system (relative)
ANDERSON_RTOL = 1e-8  # extrapolated limit of a linear recursion from six points (relative)


def _problem(n: int, d: int, P: int, frac: float, seed: int = 1, c: int | None = None):
    X, y = teacher_regression(n, d, width=10, noise=0.1, seed=seed)
    X = add_intercept(X)
    if c is not None:
        rng = np.random.default_rng(seed)
        y = np.column_stack([y] + [y * rng.standard_normal() + 0.1 * rng.standard_normal(n) for _ in range(c - 1)])
    D, _ = sample_gates(X, P, seed=seed)
    return X, y, D, frac * solvers.beta_max(X, y, D)


@pytest.fixture(scope="module", params=SMALL_FRACTIONS, ids=lambda f: f"frac{f:g}")
def small(request):
    """``(X, y, D, beta, gated optimum, relu optimum)``: n = 60, d = 5 + intercept, 30 gates."""
    X, y, D, beta = _problem(60, 5, 30, request.param)
    return X, y, D, beta, solve_gated_relu(X, y, beta, D).objective, solve_relu(X, y, beta, D).objective


def _dense_newton(X, D, y, U, beta):
    """``-H^{-1} g`` with the Hessian of the support objective formed explicitly (reference for the n x n route)."""
    k, d, c = U.shape
    A = np.hstack([D[:, [i]] * X for i in range(k)])
    H = np.kron(A.T @ A, np.eye(c))
    f = A @ U.reshape(k * d, c)
    g = (A.T @ (f - y)).reshape(k, d, c)
    for i in range(k):
        u = U[i].reshape(-1)
        nu = np.linalg.norm(u)
        g[i] += beta * U[i] / nu
        block = slice(i * d * c, (i + 1) * d * c)
        H[block, block] += beta / nu * (np.eye(d * c) - np.outer(u, u) / nu**2)
    return np.linalg.solve(H, -g.reshape(-1)).reshape(k, d, c)


@pytest.mark.parametrize("c", [1, 3])
def test_newton_direction_solves_the_hessian_system(c):
    rng = np.random.default_rng(0)
    n, d, k = 30, 4, 12  # k d > n: the loss Hessian alone is singular
    X = rng.standard_normal((n, d))
    D = (rng.random((n, k)) < 0.5).astype(float)
    y = rng.standard_normal((n, c))
    U = rng.standard_normal((k, d, c))
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    delta, _ = solvers.newton_direction(t(X), t(D), t(y), t(U), 0.3, t(X @ X.T))
    ref = _dense_newton(X, D, y, U, 0.3)
    assert np.linalg.norm(delta.numpy() - ref) <= NEWTON_RTOL * np.linalg.norm(ref)


def test_support_newton_closes_the_gap_from_a_rough_point(small):
    X, y, D, beta, gated_opt, _ = small
    exact = solvers.fista_gated(X, y, beta, D, tol=1e-12)
    rough = exact.V * (1.0 + 0.05 * np.random.default_rng(0).standard_normal(exact.V.shape))
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    U, steps = solvers.support_newton(t(X), t(D.astype(float)), t(y[:, None]), t(rough[:, :, None]), beta)
    primal, lower, _ = solvers.gated_certificate(X, y, D, U.numpy()[:, :, 0], beta)
    assert steps >= 1
    assert (primal - lower) / primal <= 1e-9
    assert abs(primal - gated_opt) <= OPT_RTOL * gated_opt


def test_fista_with_duplicate_and_empty_patterns_still_converges():
    """Duplicate pattern columns give identical blocks (a singular Schur complement in the Newton step)."""
    X, y, D, beta = _problem(60, 5, 20, 1e-4)
    D = np.concatenate([D, D[:, :5], np.zeros((60, 1), dtype=bool)], axis=1)
    result = solvers.fista_gated(X, y, beta, D)
    reference = solve_gated_relu(X, y, beta, D).objective
    assert result.converged and abs(result.objective - reference) <= OPT_RTOL * reference


def test_support_newton_never_returns_a_worse_point(small):
    X, y, D, beta, _, _ = small
    rng = np.random.default_rng(1)
    U = rng.standard_normal((D.shape[1], X.shape[1], 1))  # every block on: most of them must leave the support
    t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    before = solvers.gated_certificate(X, y, D, U[:, :, 0], beta)[0]
    out, _ = solvers.support_newton(t(X), t(D.astype(float)), t(y[:, None]), t(U), beta)
    assert solvers.gated_certificate(X, y, D, out.numpy()[:, :, 0], beta)[0] <= before


def test_support_newton_bad_input_raises():
    t = lambda *shape: torch.ones(shape, dtype=torch.float64)  # noqa: E731
    with pytest.raises(ValueError, match="beta > 0"):
        solvers.support_newton(t(5, 2), t(5, 3), t(5, 1), t(3, 2, 1), 0.0)
    with pytest.raises(TypeError, match="float64"):
        solvers.support_newton(t(5, 2).float(), t(5, 3), t(5, 1), t(3, 2, 1), 0.1)
    with pytest.raises(ValueError, match="shapes must be"):
        solvers.support_newton(t(5, 2), t(5, 3), t(5), t(3, 2, 1), 0.1)


def test_anderson_extrapolation_finds_the_limit_of_a_linear_recursion():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    M = Q @ np.diag([0.95, 0.9, 0.8]) @ Q.T  # a slow contraction whose order (3) is below the depth (5)
    b = rng.standard_normal(3)
    limit = np.linalg.solve(np.eye(3) - M, b)
    x, points = np.zeros(3), []
    for _ in range(6):
        x = M @ x + b
        points.append(x.copy())
    extrapolated = solvers.anderson_extrapolation(points)
    assert np.linalg.norm(points[-1] - limit) > 0.1 * np.linalg.norm(limit)  # the plain iterate is far away
    assert np.linalg.norm(extrapolated - limit) <= ANDERSON_RTOL * np.linalg.norm(limit)
    assert solvers.anderson_extrapolation([points[0]] * 3) is None  # no differences: no extrapolation


def test_fista_default_reaches_clarabel_at_small_beta(small):
    X, y, D, beta, gated_opt, _ = small
    result = solvers.fista_gated(X, y, beta, D)
    assert result.converged and result.gap <= GAP_TOL
    assert abs(result.objective - gated_opt) <= OPT_RTOL * gated_opt
    assert result.newton_steps >= 1  # the second-order phase ran
    plain = solvers.fista_gated(X, y, beta, D, newton=False, max_iters=100_000)
    assert plain.newton_steps == 0 and plain.iterations > result.iterations


def test_fista_vector_targets_reach_clarabel_at_small_beta():
    X, y, D, beta = _problem(50, 4, 20, 1e-4, seed=2, c=3)
    result = solvers.fista_gated(X, y, beta, D)
    reference = solve_gated_relu(X, y, beta, D).objective
    assert result.converged and result.gap <= GAP_TOL
    assert abs(result.objective - reference) <= OPT_RTOL * reference


def test_fista_on_pyscnn_test_settings():
    """pyscnn's own test scale (d = 5, lam = 1e-5 in its 1/(2n) scaling: beta = lam n) stopped at the cap before."""
    X, y = teacher_regression(100, 5, width=10, noise=0.1, seed=4)
    D, _ = sample_gates(X, 40, seed=4)
    beta = 1e-5 * X.shape[0]
    result = solvers.fista_gated(X, y, beta, D)
    reference = solve_gated_relu(X, y, beta, D).objective
    assert result.converged and result.gap <= GAP_TOL
    assert abs(result.objective - reference) <= OPT_RTOL * reference


@pytest.mark.parametrize("method", ["active_set_relu", "al_relu"])
def test_relu_solvers_reach_clarabel_at_small_beta(small, method):
    X, y, D, beta, _, relu_opt = small
    result = getattr(solvers, method)(X, y, beta, D)
    assert result.converged and result.gap <= GAP_TOL
    assert result.violation <= 1e-9
    assert abs(result.objective - relu_opt) <= OPT_RTOL * relu_opt


def test_al_without_polish_says_it_did_not_converge(small):
    X, y, D, beta, _, relu_opt = small
    result = solvers.al_relu(X, y, beta, D, polish=False, max_iters=500)
    assert result.solver == "AL" and not result.converged and result.gap > GAP_TOL
    assert result.objective >= relu_opt * (1 - 1e-9)  # a feasible point: never below the optimum


def test_fista_path_is_warm_started_and_matches_single_solves():
    X, y, D, _ = _problem(60, 5, 30, 1.0)
    top = solvers.beta_max(X, y, D)
    betas = [1e-4 * top, 1e-1 * top, 1e-2 * top]  # any order: solved from the largest down, returned as given
    path = solvers.fista_path(X, y, betas, D)
    assert [r.converged for r in path] == [True, True, True]
    for beta, result in zip(betas, path, strict=True):
        reference = solve_gated_relu(X, y, beta, D).objective
        assert abs(result.objective - reference) <= OPT_RTOL * reference
    objectives = [r.objective for r in path]
    assert objectives[1] > objectives[2] > objectives[0]  # the optimum increases with beta
    with pytest.raises(ValueError, match="U0"):
        solvers.fista_path(X, y, betas, D, U0=np.zeros((30, 6)))
    with pytest.raises(ValueError, match="betas"):
        solvers.fista_path(X, y, [], D)

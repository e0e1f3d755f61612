"""The cutting-plane method: exact restricted solves, an exact oracle, and bounds that meet at the optimum.

Reference: the convex ReLU program over the complete arrangement (``solve_relu`` over
``enumerate_patterns``), whose optimum is the global optimum of every width.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from cvxnn_core.certificates import cone_support
from cvxnn_core.cutting_plane import (
    HISTORY_KEYS,
    cutting_plane,
    lasso_active_set,
    lasso_kkt_holds,
    lasso_objective,
    most_violated_neurons,
    network_of,
    relu_features,
    solve_restricted_lasso,
)
from cvxnn_core.datasets import add_intercept
from cvxnn_core.patterns import enumerate_patterns, sample_patterns
from cvxnn_core.programs import solve_relu
from cvxnn_core.recovery import nonconvex_objective, prune_neurons

GAP_TOL = 1e-6  # relative gap at termination (tol = 1e-6 guarantees gap < tol)
MATCH_RTOL = 1e-6  # cutting-plane objective vs the full convex program
BOUND_RTOL = 1e-9  # slack on "lower bound <= optimum <= upper bound"
LASSO_RTOL = 1e-9  # active-set Lasso objective vs Clarabel
CLARABEL = {"tol_gap_abs": 1e-12, "tol_gap_rel": 1e-12, "tol_feas": 1e-12, "max_iter": 500}
N = 16
BETA = 0.01
SEEDS = (0, 1, 2)


def _data(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform in ``[-1, 1]^2`` plus an intercept column; smooth targets plus noise."""
    rng = np.random.default_rng(100 + seed)
    Z = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = np.sin(2.0 * Z[:, 0]) + Z[:, 1] ** 2 + 0.1 * rng.standard_normal(n)
    return add_intercept(Z), y


@pytest.fixture(scope="module", params=SEEDS)
def solved(request):
    """``(X, y, result, optimum)`` for one data seed: cutting plane and the full convex program."""
    X, y = _data(request.param)
    result = cutting_plane(X, y, BETA, max_iters=200, neurons_per_iter=3, progress=False)
    optimum = solve_relu(X, y, BETA, enumerate_patterns(X)).objective
    return X, y, result, optimum


def _clarabel_lasso(A: np.ndarray, y: np.ndarray, beta: float) -> float:
    c = cp.Variable(A.shape[1])
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ c - y) + beta * cp.norm1(c)))
    problem.solve(solver="CLARABEL", **CLARABEL)
    assert problem.status == cp.OPTIMAL
    return float(problem.value)


def test_cutting_plane_terminates_with_bounds_meeting(solved):
    _, _, result, optimum = solved
    assert result.status == "converged", result.message
    assert result.exact, "the oracle ran over the complete arrangement"
    assert result.max_violation <= 1 + 1e-6
    assert 0 <= result.gap <= GAP_TOL, f"relative gap {result.gap:.2e}"
    assert result.lower_bound <= optimum * (1 + BOUND_RTOL)


def test_final_objective_equals_the_full_convex_program(solved):
    _, _, result, optimum = solved
    assert abs(result.objective - optimum) <= MATCH_RTOL * optimum, f"{result.objective!r} vs {optimum!r}"


def test_upper_bound_is_attained_by_the_returned_network(solved):
    X, y, result, _ = solved
    assert nonconvex_objective(X, y, result.net, BETA) == pytest.approx(result.objective, rel=1e-12)
    assert result.history["upper_bound"][-1] == result.objective


def test_every_iteration_brackets_the_optimum(solved):
    _, _, result, optimum = solved
    h = result.history
    assert np.all(h["lower_bound"] <= optimum * (1 + BOUND_RTOL)), "a lower bound exceeds the optimum"
    assert np.all(h["upper_bound"] >= optimum * (1 - BOUND_RTOL)), "an upper bound is below the optimum"
    assert np.all(np.diff(h["upper_bound"]) <= 1e-12 * h["upper_bound"][0]), "upper bounds must not increase"
    assert np.all(h["lower_bound"] <= h["upper_bound"])
    assert np.all(h["max_violation"][:-1] > 1 + 1e-6), "it stops at the first iteration with ratio <= 1 + tol"


def test_neurons_at_termination_at_most_n_plus_1(solved):
    X, y, result, _ = solved
    pruned = prune_neurons(X, result.net)
    assert pruned.width <= result.net.width
    assert pruned.width <= X.shape[0] + 1, f"{pruned.width} neurons after pruning (raw {result.net.width})"
    assert nonconvex_objective(X, y, pruned, BETA) == pytest.approx(result.objective, rel=1e-9)


def test_history_has_one_entry_per_iteration(solved):
    _, _, result, _ = solved
    h = result.history
    assert set(h) == set(HISTORY_KEYS)
    assert all(len(h[key]) == result.n_iters + 1 for key in HISTORY_KEYS)
    assert np.array_equal(h["iteration"], np.arange(result.n_iters + 1))
    assert np.all(np.diff(h["time"]) >= 0)
    assert np.all(np.diff(h["n_neurons"]) >= 0)
    assert h["n_neurons"][0] == 0 and h["upper_bound"][0] == pytest.approx(0.5 * np.sum(solved[1] ** 2))
    assert np.all(h["exact_solve"]), "the active-set method should verify every restricted solve here"


@pytest.mark.parametrize("seed", (0, 1))
def test_lasso_active_set_matches_clarabel_and_verifies_kkt(seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((15, 25))
    y = rng.standard_normal(15)
    for beta in (0.05, 0.5, 3.0):
        c = lasso_active_set(A, y, beta)
        assert c is not None
        assert lasso_kkt_holds(A, y, c, beta)
        ref = _clarabel_lasso(A, y, beta)
        assert lasso_objective(A, y, c, beta) <= ref * (1 + LASSO_RTOL), "active set above the solver's optimum"
        assert lasso_objective(A, y, c, beta) >= ref * (1 - 1e-7)


def test_lasso_active_set_with_dependent_features_and_warm_start():
    """ReLU features of several directions in one cone are linearly dependent; the method must still be exact."""
    X, y = _data(0)
    rng = np.random.default_rng(3)
    U = rng.standard_normal((40, 3))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    A = relu_features(X, U)
    A = np.hstack([A, A[:, :5] @ rng.uniform(0.1, 1.0, (5, 4))])  # exact linear dependencies
    c = lasso_active_set(A, y, BETA)
    assert c is not None and lasso_kkt_holds(A, y, c, BETA)
    ref = _clarabel_lasso(A, y, BETA)
    assert abs(lasso_objective(A, y, c, BETA) - ref) <= 1e-7 * ref
    warm = lasso_active_set(A, y, BETA, c0=np.where(np.arange(A.shape[1]) < 20, c, 0.0))
    assert warm is not None
    assert lasso_objective(A, y, warm, BETA) == pytest.approx(lasso_objective(A, y, c, BETA), rel=1e-10)


def test_interior_point_restricted_solve_gives_an_accurate_multiplier():
    X, y = _data(1)
    U = np.random.default_rng(0).standard_normal((30, 3))
    A = relu_features(X, U / np.linalg.norm(U, axis=1, keepdims=True))
    exact = solve_restricted_lasso(A, y, BETA)
    ipm = solve_restricted_lasso(A, y, BETA, method="interior_point")
    assert exact.exact and exact.method == "active_set" and exact.solver_dual is None
    assert ipm.method == "interior_point" and ipm.solver_dual is not None
    assert ipm.objective == pytest.approx(exact.objective, rel=1e-8)
    lam_err = np.linalg.norm(ipm.lam - exact.lam) / np.linalg.norm(exact.lam)
    assert lam_err <= 1e-6, f"solver multiplier off by {lam_err:.1e}"


def test_interior_point_restricted_solves_also_reach_the_optimum():
    X, y = _data(2, n=12)
    optimum = solve_relu(X, y, BETA, enumerate_patterns(X)).objective
    result = cutting_plane(X, y, BETA, neurons_per_iter=4, method="interior_point", progress=False)
    assert result.status == "converged", result.message
    assert result.gap <= GAP_TOL
    assert abs(result.objective - optimum) <= MATCH_RTOL * optimum
    assert result.lower_bound <= optimum * (1 + BOUND_RTOL)


def test_oracle_value_equals_the_exact_cone_support_and_is_attained():
    X, y = _data(2)
    D = enumerate_patterns(X)
    lam = np.random.default_rng(4).standard_normal(X.shape[0])
    beta = 0.3
    ratio, U, ratios = most_violated_neurons(X, D, lam, beta, 4)
    assert ratio * beta == pytest.approx(cone_support(X, D, lam).max(), rel=1e-12)
    assert U.shape == (4, 3) and np.allclose(np.linalg.norm(U, axis=1), 1.0)
    assert ratios[0] == pytest.approx(ratio) and np.all(np.diff(ratios) <= 0)
    attained = np.abs(relu_features(X, U).T @ lam) / beta
    assert np.allclose(attained, ratios, rtol=1e-9), "the returned direction must attain its ratio"
    for _ in range(200):  # no unit direction does better
        u = np.random.default_rng(_).standard_normal(3)
        assert abs(lam @ np.maximum(X @ u, 0.0)) / np.linalg.norm(u) <= ratio * beta * (1 + 1e-12)


def test_network_of_has_weight_decay_equal_to_l1_norm():
    U = np.eye(3)
    c = np.array([0.5, 0.0, -2.0])
    net = network_of(U, c)
    assert net.width == 2
    assert net.weight_decay() == pytest.approx(np.abs(c).sum())
    X, _ = _data(0)
    assert np.allclose(net.predict(X), relu_features(X, U) @ c)


def test_large_beta_stops_at_the_empty_network():
    X, y = _data(0)
    beta = 2.0 * cone_support(X, enumerate_patterns(X), y).max()
    result = cutting_plane(X, y, beta, progress=False)
    assert result.status == "converged" and result.n_iters == 0
    assert result.net.width == 0
    assert result.objective == pytest.approx(0.5 * y @ y)
    assert result.gap == pytest.approx(0.0, abs=1e-12)


def test_max_iters_reached_still_gives_valid_bounds():
    X, y = _data(0)
    optimum = solve_relu(X, y, BETA, enumerate_patterns(X)).objective
    result = cutting_plane(X, y, BETA, max_iters=3, progress=False)
    assert result.status == "max_iters" and result.n_iters == 3
    assert result.lower_bound <= optimum * (1 + BOUND_RTOL) <= result.objective * (1 + 2 * BOUND_RTOL)
    assert result.gap > GAP_TOL


def test_random_initial_neurons_are_seeded_and_reach_the_same_optimum():
    X, y = _data(1, n=12)
    a = cutting_plane(X, y, BETA, init_neurons=5, seed=7, max_iters=2, progress=False)
    b = cutting_plane(X, y, BETA, init_neurons=5, seed=7, max_iters=2, progress=False)
    assert np.array_equal(a.directions, b.directions) and np.array_equal(a.history["gap"], b.history["gap"])
    empty = cutting_plane(X, y, BETA, neurons_per_iter=4, progress=False)
    seeded = cutting_plane(X, y, BETA, init_neurons=5, seed=8, neurons_per_iter=4, progress=False)
    assert not np.array_equal(a.directions[:5], seeded.directions[:5])
    assert empty.status == seeded.status == "converged"
    assert seeded.objective == pytest.approx(empty.objective, rel=2 * MATCH_RTOL)


def test_sampled_patterns_give_a_non_exact_result():
    X, y = _data(0)
    D = sample_patterns(X, 10, seed=0)
    result = cutting_plane(X, y, BETA, patterns=D, neurons_per_iter=2, progress=False)
    assert not result.exact
    assert result.n_patterns == D.shape[1]
    assert result.status == "converged"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"beta": 0.0}, ValueError, "beta"),
        ({"beta": -1.0}, ValueError, "beta"),
        ({"max_iters": 0}, ValueError, "max_iters"),
        ({"neurons_per_iter": 0}, ValueError, "neurons_per_iter"),
        ({"init_neurons": -1}, ValueError, "init_neurons"),
        ({"tol": -1e-3}, ValueError, "tol"),
        ({"tol": 1e-12}, ValueError, "tol"),
        ({"seed": -1}, ValueError, "seed"),
        ({"method": "simplex"}, ValueError, "method"),
        ({"patterns": np.ones((N, 3))}, TypeError, "patterns"),
        ({"patterns": np.ones((N + 1, 3), dtype=bool)}, ValueError, "patterns"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, error, match):
    X, y = _data(0)
    args = {"beta": BETA, **kwargs}
    beta = args.pop("beta")
    with pytest.raises(error, match=match):
        cutting_plane(X, y, beta, progress=False, **args)


def test_bad_data_raise_clear_errors():
    X, y = _data(0)
    with pytest.raises(ValueError, match="y has"):
        cutting_plane(X, y[:-1], BETA, progress=False)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        cutting_plane(Xn, y, BETA, progress=False)
    with pytest.raises(ValueError, match="shape"):
        cutting_plane(X[:, 0], y, BETA, progress=False)

"""Vector-output ReLU networks: the copositive program, its relaxations, the soft-thresholded SVD, recovery, SGD.

Data (local, seeded): ``n = 8`` Gaussian points in 2-D plus an intercept column (rank 3, so the exact
program applies) with ``c = 2`` Gaussian targets and the complete arrangement; whitened data
``X X^T = I_4`` (``d = 6``) with one-hot labels (the closed form is exact) and with Gaussian targets
(it is only a lower bound). Tolerances: ``RTOL`` between two interior-point optima or between an optimum
and the objective of the network built from it; ``ORDER_RTOL`` on orderings between optima.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core import vector_output as vo
from cvxnn_core.closed_form import whiten_rows, whitened_relu
from cvxnn_core.datasets import add_intercept
from cvxnn_core.patterns import enumerate_patterns
from cvxnn_core.programs import solve_gated_relu, solve_relu
from cvxnn_core.vector_output.programs import _lifted_penalty as lifted_penalty

RTOL = 1e-6  # the book's tolerance for exact identities solved to 1e-8 by the interior-point method
ORDER_RTOL = 1e-7  # slack on "relaxation <= exact <= SGD"
BETA = 0.1


class Problem:
    """``X`` (8, 3) = 2-D Gaussian points plus an intercept, ``Y`` (8, 2), ``D`` the complete arrangement."""

    def __init__(self) -> None:
        rng = np.random.default_rng(7)
        self.X = add_intercept(rng.standard_normal((8, 2)))
        self.Y = rng.standard_normal((8, 2))
        self.D = enumerate_patterns(self.X)
        self.beta = BETA


@pytest.fixture(scope="module")
def problem() -> Problem:
    return Problem()


@pytest.fixture(scope="module")
def solved(problem: Problem) -> dict[str, vo.VectorConvexResult]:
    """The three programs over the complete arrangement, solved once."""
    return {m: vo.solve_vector_relu(problem.X, problem.Y, problem.beta, problem.D, method=m) for m in vo.METHODS}


def _whitened(n: int = 4, d: int = 6, seed: int = 3) -> np.ndarray:
    return whiten_rows(np.random.default_rng(seed).standard_normal((n, d)))


ONE_HOT = np.eye(3)[[0, 0, 1, 2]]


# --- the programs -------------------------------------------------------------------------------------


def test_relaxations_are_ordered_below_the_exact_program(solved):
    nuclear, dnn, exact = (solved[m].objective for m in ("nuclear", "dnn", "exact"))
    assert nuclear <= dnn * (1 + ORDER_RTOL)
    assert dnn <= exact * (1 + ORDER_RTOL)
    assert nuclear < 0.9 * exact  # dropping the cones is a much weaker model on these data


@pytest.mark.parametrize("method", vo.METHODS)
def test_objective_is_loss_plus_beta_times_penalty_of_the_returned_blocks(problem, solved, method):
    res = solved[method]
    loss = 0.5 * np.sum((res.predict(problem.X) - problem.Y) ** 2)
    if method == "nuclear":
        penalty = sum(np.linalg.svd(p.rays @ p.coef, compute_uv=False).sum() for p in res.pieces)
    else:
        penalty = sum(lifted_penalty(p.gram, p.rays) for p in res.pieces)
    assert res.objective == pytest.approx(loss + problem.beta * penalty, rel=1e-12)
    assert res.V.shape == (problem.D.shape[1], problem.X.shape[1], problem.Y.shape[1])


def test_exact_program_with_one_output_equals_the_scalar_relu_program(problem):
    y = problem.Y[:, 0]
    vector = vo.solve_vector_relu(problem.X, y[:, None], problem.beta, problem.D, method="exact")
    scalar = solve_relu(problem.X, y, problem.beta, problem.D)
    assert vector.objective == pytest.approx(scalar.objective, rel=RTOL)


def test_nuclear_relaxation_with_one_output_is_the_gated_relu_program(problem):
    y = problem.Y[:, 1]
    vector = vo.solve_vector_relu(problem.X, y, problem.beta, problem.D, method="nuclear")
    gated = solve_gated_relu(problem.X, y, problem.beta, problem.D)
    assert vector.objective == pytest.approx(gated.objective, rel=RTOL)


@pytest.mark.filterwarnings("ignore:Solution may be inaccurate", "ignore:solver CLARABEL reports status")
def test_exact_program_with_one_output_and_rank_above_four_is_the_scalar_program():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((7, 5)), rng.standard_normal(7)
    D = enumerate_patterns(X)
    vector = vo.solve_vector_relu(X, y, 0.05, D, method="exact")
    assert vector.objective == pytest.approx(solve_relu(X, y, 0.05, D).objective, rel=1e-12)
    rec = vo.recover_network(X, vector)
    assert rec.in_cones
    assert vo.vector_objective(X, y, rec.net, 0.05) == pytest.approx(vector.objective, rel=RTOL)


def test_exact_program_refuses_rank_above_four_with_vector_output():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((6, 5))
    with pytest.raises(ValueError, match="rank"):
        vo.solve_vector_relu(X, rng.standard_normal((6, 2)), 0.1, enumerate_patterns(X), method="exact")


# --- recovery ------------------------------------------------------------------------------------------


def test_network_recovered_from_the_exact_program_attains_its_optimum(problem, solved):
    rec = vo.recover_network(problem.X, solved["exact"])
    assert rec.in_cones
    assert rec.factored == len(solved["exact"].pieces)
    assert vo.vector_objective(problem.X, problem.Y, rec.net, problem.beta) == pytest.approx(
        solved["exact"].objective, rel=RTOL
    )
    pred = rec.net.predict(problem.X)
    assert np.linalg.norm(pred - solved["exact"].predict(problem.X)) <= RTOL * np.linalg.norm(pred)


def test_recovered_network_is_balanced(problem, solved):
    net = vo.recover_network(problem.X, solved["exact"]).net
    assert np.allclose(np.linalg.norm(net.W1, axis=1), np.linalg.norm(net.W2, axis=1), rtol=1e-12)


def test_nuclear_relaxation_is_not_a_relu_network_here(problem, solved):
    rec = vo.recover_network(problem.X, solved["nuclear"])
    assert not rec.in_cones
    assert vo.vector_objective(problem.X, problem.Y, rec.net, problem.beta) > solved["exact"].objective


def test_cp_factor_reproduces_completely_positive_matrices():
    rng = np.random.default_rng(0)
    for k, m in ((2, 2), (3, 1), (4, 2), (4, 6)):
        B0 = np.abs(rng.standard_normal((k, m)))
        B0[rng.random((k, m)) < 0.3] = 0.0
        M = B0 @ B0.T
        B = vo.cp_factor(M)
        if B is not None:  # rules 1-3 are sufficient, not necessary
            assert np.all(B >= 0)
            assert np.linalg.norm(B @ B.T - M) <= 1e-7 * np.linalg.norm(M)
    M2 = np.array([[1.0, 0.5], [0.5, 0.3]])  # doubly non-negative 2 x 2, not diagonally dominant
    B = vo.cp_factor(M2)
    assert B is not None and np.all(B >= 0) and np.allclose(B @ B.T, M2, atol=1e-12)
    assert vo.cp_factor(np.array([[1.0, -0.5], [-0.5, 1.0]])) is None


# --- spike-free data and the closed form ----------------------------------------------------------------


def test_spike_free_criterion():
    X = _whitened()
    assert vo.is_spike_free(X)
    assert vo.is_spike_free(np.diag([1.0, 2.0, 3.0]) @ X[:3])  # orthogonal rows
    assert not vo.is_spike_free(np.random.default_rng(0).standard_normal((4, 6)))
    with pytest.raises(ValueError, match="full row rank"):
        vo.is_spike_free(np.random.default_rng(0).standard_normal((6, 4)))


@pytest.mark.parametrize("beta", [0.05, 0.6, 1.2, 2.0])
def test_soft_thresholded_svd_equals_the_exact_program_on_whitened_one_hot_data(beta):
    X = _whitened()
    sol = vo.soft_thresholded_svd(X, ONE_HOT, beta)
    assert sol.exact
    exact = vo.solve_vector_relu(X, ONE_HOT, beta, enumerate_patterns(X), method="exact")
    assert sol.objective == pytest.approx(exact.objective, rel=RTOL)
    assert vo.vector_objective(X, ONE_HOT, sol.net, beta) == pytest.approx(sol.objective, rel=1e-10)


@pytest.mark.parametrize("beta", [0.1, 0.8])
def test_nuclear_relaxation_on_whitened_data_is_the_soft_thresholded_svd_and_recovers_it(beta):
    X = _whitened()
    relax = vo.solve_vector_relu(X, ONE_HOT, beta, enumerate_patterns(X), method="nuclear")
    assert relax.objective == pytest.approx(vo.soft_thresholded_svd(X, ONE_HOT, beta).objective, rel=RTOL)
    rec = vo.recover_network(X, relax)
    assert rec.in_cones
    assert vo.vector_objective(X, ONE_HOT, rec.net, beta) == pytest.approx(relax.objective, rel=RTOL)


def test_soft_thresholded_svd_value_is_the_huber_sum_of_singular_values():
    Y = np.random.default_rng(4).standard_normal((4, 3))
    sol = vo.soft_thresholded_svd(_whitened(), Y, 0.7)
    s = np.linalg.svd(Y, compute_uv=False)
    huber = np.where(s <= 0.7, 0.5 * s**2, 0.7 * s - 0.5 * 0.7**2).sum()
    assert sol.objective == pytest.approx(huber, rel=1e-12)
    shrunk = np.linalg.svd(sol.fit, compute_uv=False)
    assert np.allclose(shrunk, np.maximum(s - 0.7, 0.0), atol=1e-12)


def test_soft_thresholded_svd_is_a_strict_lower_bound_when_the_factor_is_not_completely_positive():
    X = _whitened()
    Y = np.random.default_rng(5).standard_normal((4, 3))
    sol = vo.soft_thresholded_svd(X, Y, 0.3)
    assert not sol.exact and sol.net is None
    exact = vo.solve_vector_relu(X, Y, 0.3, enumerate_patterns(X), method="exact")
    assert exact.objective > sol.objective * (1 + 1e-3)


def test_scalar_targets_of_both_signs_give_the_split_solution_not_the_svd():
    X = _whitened()
    y = np.array([1.0, -0.5, 0.8, -1.2])
    sol = vo.soft_thresholded_svd(X, y, 0.2)
    assert not sol.exact
    assert whitened_relu(X, y, 0.2)[0] > sol.objective * (1 + 1e-3)


def test_soft_thresholded_svd_needs_whitened_data():
    with pytest.raises(ValueError, match="X X\\^T = I"):
        vo.soft_thresholded_svd(np.random.default_rng(0).standard_normal((4, 6)), ONE_HOT, 0.1)
    with pytest.raises(ValueError, match="n <= d"):
        vo.soft_thresholded_svd(np.random.default_rng(0).standard_normal((6, 4)), np.eye(6)[:, :3], 0.1)


# --- SGD / Adam -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runs(problem):
    return vo.train_vector_sweep(
        problem.X, problem.Y, problem.beta, widths=[3, 20], seeds=[0, 1], optimizers={"adam": 1e-2}, epochs=400
    )


def test_no_training_run_ends_below_the_exact_optimum_or_the_relaxations(solved, runs):
    floor = max(solved[m].objective for m in vo.METHODS)
    assert min(r.objective for r in runs) >= floor * (1 - ORDER_RTOL)


def test_history_is_the_objective_of_the_returned_network(problem, runs):
    for r in runs:
        assert r.history[-1] == pytest.approx(vo.vector_objective(problem.X, problem.Y, r.net, problem.beta), rel=1e-12)
        assert r.history.shape == (400,)


def test_sweep_trains_seeds_together_exactly_as_single_runs(problem, runs):
    single = vo.train_vector_network(
        problem.X, problem.Y, 20, problem.beta, optimizer="adam", lr=1e-2, epochs=400, seed=1
    )
    batched = next(r for r in runs if r.net.width == 20 and r.seed == 1)
    assert np.array_equal(single.history, batched.history)
    assert np.array_equal(single.net.W1, batched.net.W1)


def test_minibatch_sgd_is_seeded_and_matches_between_single_and_sweep(problem):
    kwargs = dict(optimizer="sgd", lr=1e-3, epochs=20, batch_size=3)
    a = [vo.train_vector_network(problem.X, problem.Y, 5, 0.1, seed=s, **kwargs) for s in (0, 1)]
    b = vo.train_vector_sweep(
        problem.X, problem.Y, 0.1, widths=[5], seeds=[0, 1], optimizers={"sgd": 1e-3}, epochs=20, batch_size=3
    )
    assert all(np.array_equal(x.history, y.history) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0].history, a[1].history)


# --- bad inputs ---------------------------------------------------------------------------------------------


def test_bad_inputs_raise_clear_errors(problem, solved):
    X, Y, D = problem.X, problem.Y, problem.D
    with pytest.raises(ValueError, match="Y has 7 rows"):
        vo.solve_vector_relu(X, Y[:7], 0.1, D)
    with pytest.raises(ValueError, match="beta"):
        vo.solve_vector_relu(X, Y, -1.0, D)
    with pytest.raises(ValueError, match="method"):
        vo.solve_vector_relu(X, Y, 0.1, D, method="sdp")
    with pytest.raises(TypeError, match="boolean"):
        vo.solve_vector_relu(X, Y, 0.1, D.astype(int))
    with pytest.raises(ValueError, match="open chamber"):
        vo.solve_vector_relu(X, Y, 0.1, np.ones((8, 1), dtype=bool) & (np.arange(8) < 3)[:, None], method="dnn")
    with pytest.raises(ValueError, match="zero matrix"):
        vo.solve_vector_relu(np.zeros((8, 3)), Y, 0.1, D, method="nuclear")
    with pytest.raises(ValueError, match="rows"):
        vo.VectorNet(np.zeros((3, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="outputs"):
        vo.vector_objective(X, Y, vo.VectorNet(np.zeros((2, 3)), np.zeros((2, 3))), 0.1)
    with pytest.raises(ValueError, match="samples"):
        vo.recover_network(X[:5], solved["exact"])
    with pytest.raises(ValueError, match="width"):
        vo.train_vector_network(X, Y, 0, 0.1)
    with pytest.raises(ValueError, match="optimizer"):
        vo.train_vector_network(X, Y, 3, 0.1, optimizer="lbfgs")

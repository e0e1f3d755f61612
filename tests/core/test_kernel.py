"""The kernel under the paper modules: rank and whitening, the cvxpy path, training helpers, dual bounds."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvxnn_core import _cvx, _linalg, _training, duality, losses
from cvxnn_core.patterns import enumerate_patterns


def test_rank_rule_and_row_space_of_a_rank_two_matrix():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((9, 2)) @ rng.standard_normal((2, 5))
    Q = _linalg.row_space_basis(X)
    assert Q.shape == (5, 2) and np.allclose(Q.T @ Q, np.eye(2), atol=1e-12)
    assert np.allclose(_linalg.row_space_coordinates(X) @ Q.T, X, atol=1e-12)  # X lies in the span of Q
    assert _linalg.row_space_basis(np.zeros((3, 4))).shape == (4, 0)
    assert _linalg.relative_rank(np.array([1.0, 1e-3, 1e-12])) == 2


@pytest.mark.parametrize(("shape", "whiten", "gram"), [((3, 7), _linalg.whiten_rows, "rows"),
                                                       ((7, 3), _linalg.whiten_columns, "columns")])
def test_whitening_is_the_polar_factor_and_passes_the_check(shape, whiten, gram):
    X = np.random.default_rng(1).standard_normal(shape)
    W = whiten(X)
    G = W @ W.T if gram == "rows" else W.T @ W
    assert np.allclose(G, np.eye(G.shape[0]), atol=1e-12)
    U, _, Vt = np.linalg.svd(X, full_matrices=False)
    assert np.allclose(W, U @ Vt, atol=1e-12)
    _linalg.check_whitened(W, _linalg.WHITENED_ATOL, rows=gram == "rows", who="f", fix="fix")
    with pytest.raises(ValueError, match=r"f needs whitened X.*max \|deviation\|.*fix"):
        _linalg.check_whitened(2 * W, _linalg.WHITENED_ATOL, rows=gram == "rows", who="f", fix="fix")


def test_whitening_refuses_rank_deficient_data():
    with pytest.raises(ValueError, match="rank < n = 2"):
        _linalg.whiten_rows(np.ones((2, 4)))


def test_centred_svd_reconstructs_the_centred_data():
    X = np.random.default_rng(2).standard_normal((6, 3))
    mean, U, s, V = _linalg.centred_svd(X)
    assert np.allclose((U * s) @ V.T, X - mean, atol=1e-12)


def test_unknown_cvxpy_solver_is_a_solver_error_naming_the_installed_ones():
    with pytest.raises(_cvx.SolverError, match="solver 'NOPE' is not installed; installed cvxpy solvers"):
        _cvx.check_solver("nope")
    assert _cvx.check_solver(None) == _cvx.DEFAULT_SOLVER


def test_limit_threads_restores_the_callers_settings():
    before = torch.get_num_threads()
    with _training.limit_threads(1, blas=True):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        with _training.limit_threads(0):
            pass


def test_sweep_calls_the_trainer_once_per_optimizer_width_seed_in_order():
    calls = []

    def train(width, *, optimizer, lr, seed, progress):
        calls.append((optimizer, lr, width, seed, progress))
        return _training.TrainResult(None, np.array([float(width + seed)]), 0.0, 0.0, optimizer, lr or 0.0, seed)

    runs = _training.sweep(train, optimizers={"adam": 0.1, "sgd": None}, widths=[2, 4], seeds=[0, 1])
    assert [c[:4] for c in calls] == [(o, lr, m, s) for o, lr in (("adam", 0.1), ("sgd", None))
                                      for m in (2, 4) for s in (0, 1)]
    assert all(c[4] is False for c in calls) and runs[-1].objective == 5.0
    with pytest.raises(ValueError, match="must each name at least one value"):
        _training.sweep(train, optimizers={}, widths=[2], seeds=[0])


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_best_dual_scale_beats_a_grid_of_feasible_scales(loss):
    rng = np.random.default_rng(3)
    y = np.sign(rng.standard_normal(20)) if loss != "squared" else rng.standard_normal(20)
    lam = losses.negative_gradient(0.3 * rng.standard_normal(20), y, loss)
    t_max = 0.7
    t = losses.best_dual_scale(lam, y, loss, t_max)
    smax = float(np.max(lam * y, initial=0.0))
    hi = t_max if loss == "squared" else min(t_max, 1 / smax)
    grid = np.linspace(-hi if loss == "squared" else 0.0, hi, 2001)
    best_on_grid = max(losses.dual_value(s * lam, y, loss) for s in grid)
    assert abs(t) <= t_max + 1e-15
    assert losses.dual_value(t * lam, y, loss) >= best_on_grid - 1e-9 * abs(best_on_grid)


def test_cone_support_equals_a_dense_search_over_the_unit_circle():
    rng = np.random.default_rng(4)
    X, lam = rng.standard_normal((6, 2)), rng.standard_normal(6)
    D = enumerate_patterns(X)
    angles = np.linspace(0, 2 * np.pi, 200_001)
    U = np.stack([np.cos(angles), np.sin(angles)])
    dense = np.abs(lam @ np.maximum(X @ U, 0.0)).max()
    exact = duality.cone_support(X, D, lam).max()
    assert exact == pytest.approx(dense, rel=1e-8)
    assert np.all(duality.cone_support(X, D, lam) <= duality.gated_supports(X, D, lam) + 1e-12)
    values, exact_mask, _ = duality.cone_supports(X, D, lam, beta=0.0)
    assert values[exact_mask].max() == pytest.approx(exact, rel=1e-12)


def test_scaled_dual_bound_is_feasible_and_a_lower_bound_of_the_zero_network():
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((8, 3)), rng.standard_normal(8)
    D = enumerate_patterns(X)
    beta = 0.5
    smax = duality.cone_support(X, D, y).max()
    t, lower = duality.scaled_dual_bound(y, y, "squared", beta, smax)
    assert abs(t) * smax <= beta * (1 + 1e-12)
    assert lower <= losses.loss_value(np.zeros(8), y, "squared") + 1e-12


def test_runs_table_has_one_row_per_run_with_the_relative_excess():
    from cvxnn_core.recovery import TwoLayerNet

    net = TwoLayerNet(W1=np.ones((3, 2)), w2=np.ones(3))
    runs = [_training.TrainResult(net, np.array([4.0, 2.5]), 4.0, 0.1, "adam", 0.01, 0),
            _training.TrainResult(net, np.array([3.0, 2.0]), 3.0, 0.1, "sgd", 0.001, 1)]
    table = _training.runs_table(runs, 2.0, problem="p")
    assert table.to_dict("records") == [
        {"problem": "p", "optimizer": "adam", "width": 3, "seed": 0, "objective": 2.5, "optimum": 2.0,
         "relative excess": 0.25},
        {"problem": "p", "optimizer": "sgd", "width": 3, "seed": 1, "objective": 2.0, "optimum": 2.0,
         "relative excess": 0.0},
    ]
    assert list(_training.runs_table(runs).columns) == ["optimizer", "width", "seed", "objective"]

"""A zero optimum is exact and its certificates are finite.

* ``three_layer.solve_three_layer`` (both regularisers) and ``cnn.solve_circular_relu``: at ``beta >= beta_max`` (the
  cone-free dual test, as for the two-layer program) the zero network comes back without a solver; below it, a
  solver's point no better than zero is replaced by the exact zero network; further below, the program is solved.
* ``attention.dual_certificate`` and ``optimal_set.StationaryCheck`` at an interpolating optimum (value 0): the gap is
  measured on the data's scale (``duality.gap_on_scale``) instead of 0/0.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core import attention, cnn, duality, optimal_set, patterns, recovery
from cvxnn_core import three_layer as tl
from cvxnn_core.three_layer.program import _operators

ZERO_SOLVER = "none: beta >= beta_max, the zero network is optimal"


@pytest.fixture(scope="module")
def three_layer_data():
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(-1, 1, 6))
    X = np.column_stack([x, np.ones(6)])
    y = np.sin(3 * x) + 0.3 * x + 0.1 * rng.standard_normal(6)
    D1 = patterns.enumerate_patterns(X)
    return X, y, D1, tl.wide_groups(D1, tl.all_sign_patterns(6))


@pytest.mark.parametrize("regularizer", ["frobenius", "path"])
def test_three_layer_beta_max_is_the_dual_norm_of_the_output_map(three_layer_data, regularizer):
    X, y, D1, groups = three_layer_data
    _, _, _, OH = _operators(X, D1, groups)
    block_dual = np.linalg.norm((OH.T @ y).reshape(-1, X.shape[1]), axis=1)  # ||A_t^T y|| from the sparse operator
    expected = block_dual.max() if regularizer == "frobenius" else np.sqrt(
        np.bincount(groups.block_group, weights=block_dual**2).max())
    assert tl.beta_max(X, y, D1, groups, regularizer=regularizer) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("regularizer", ["frobenius", "path"])
def test_three_layer_zero_optimum_is_the_exact_zero_network(three_layer_data, regularizer):
    X, y, D1, groups = three_layer_data
    top = tl.beta_max(X, y, D1, groups, regularizer=regularizer)
    at = tl.solve_three_layer(X, y, top, D1, groups, regularizer=regularizer)
    assert at.solver == ZERO_SOLVER and not np.any(at.q) and at.objective == 0.5 * float(y @ y)
    assert tl.recover_network(at).n_subnets == 0 and at.active_groups() == 0
    assert tl.resolve_active(X, y, D1, at) is at  # nothing to re-solve
    # below the cone-free threshold zero may still be optimal (the cones cut the dual): the solver's noise is dropped
    near = tl.solve_three_layer(X, y, 0.98 * top, D1, groups, regularizer=regularizer)
    assert not np.any(near.q) and near.objective == 0.5 * float(y @ y) and "no point better" in near.solver
    # well below, the program is solved and beats zero
    low = tl.solve_three_layer(X, y, 0.05, D1, groups, regularizer=regularizer)
    assert low.objective < 0.5 * float(y @ y) and np.any(low.q)


def test_fit_one_vs_rest_path_above_the_threshold_has_no_subnetwork(three_layer_data):
    X, y, D1, groups = three_layer_data
    labels = (y > np.median(y)).astype(int)
    model = tl.fit_one_vs_rest(X, labels, 1e6, D1, groups, model="path")
    assert all(net.n_subnets == 0 for net in model.nets) and model.active == [0, 0]


def test_circular_cnn_beta_max_is_the_dual_norm_of_the_dft_l1_penalty():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 4)), rng.standard_normal(10)
    D = patterns.sample_patterns(X, 20, seed=0)
    top = cnn.circular_beta_max(X, y, D)
    # the dual norm of N(v) = ||F v||_1 / sqrt(d) is sqrt(d) ||F g||_inf: attained by a real v, never exceeded
    g = X.T @ (D[:, 0] * y)
    v = rng.standard_normal((2000, 4))
    assert np.max(v @ g / cnn.dft_l1(v)) <= np.sqrt(4) * np.abs(np.fft.fft(g, norm="ortho")).max() * (1 + 1e-12)
    assert top == pytest.approx(max(np.sqrt(4) * np.abs(np.fft.fft(X.T @ (D[:, i] * y), norm="ortho")).max()
                                    for i in range(D.shape[1])), rel=1e-12)
    at = cnn.solve_circular_relu(X, y, top, D)
    assert at.solver == ZERO_SOLVER and not np.any(at.V) and not np.any(at.W)
    assert cnn.circular_relu_network(at).width == 0 and at.objective == 0.5 * float(y @ y)
    near = cnn.solve_circular_relu(X, y, 0.999 * top, D)
    assert not np.any(near.V) and near.objective == 0.5 * float(y @ y)
    low = cnn.solve_circular_relu(X, y, 0.5 * top, D)
    net = cnn.circular_relu_network(low)
    assert low.objective < 0.5 * float(y @ y)
    assert cnn.circular_relu_objective(X, y, net, 0.5 * top) == pytest.approx(low.objective, rel=1e-6)


def test_gap_on_scale_is_relative_away_from_zero_and_absolute_at_zero():
    assert duality.gap_on_scale(2.0, 1.0, 10.0) == pytest.approx(0.5)
    assert duality.gap_on_scale(1e-12, 0.0, 10.0) == pytest.approx(1e-13)
    assert duality.gap_on_scale(0.0, 0.0, 0.0) == 0.0


def test_attention_certificate_at_an_interpolating_optimum_is_finite_and_small():
    rng = np.random.default_rng(1)
    Xs = rng.standard_normal((6, 3, 2))
    A = attention.linear_attention_map(Xs, 1)
    y = A @ rng.standard_normal(8)  # a target the map fits exactly: the optimum at beta = 0 is 0
    sol = attention.solve_block_nuclear([A], y, 0.0, [(4, 2)])
    ratio, gap = attention.dual_certificate([A], y, sol)
    assert np.isfinite(ratio) and ratio < 1e-6 and abs(gap) < 1e-6
    zero = attention.solve_block_nuclear([A], np.zeros(18), 0.1, [(4, 2)])
    assert attention.dual_certificate([A], np.zeros(18), zero)[1] == pytest.approx(0.0, abs=1e-9)


def test_stationary_check_of_an_interpolating_network_at_beta_zero_has_zero_gap():
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.uniform(-1, 1, (12, 2)), np.ones(12)])
    net = recovery.TwoLayerNet(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.2]]), np.array([1.0, -0.5]))
    check = optimal_set.stationary_point_check(X, net.predict(X), 0.0, net)
    assert np.isfinite(check.relative_gap) and abs(check.relative_gap) < 1e-6
    assert optimal_set.StationaryCheck(0.0, 0.0, 1).relative_gap == 0.0

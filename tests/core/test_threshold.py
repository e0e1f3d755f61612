"""Threshold networks as Lasso programs: the recovered network attains the Lasso optimum, the atomic-norm step of the
shattered program (against the Lasso over all 2^n binary columns), the three-layer construction, and straight-through
training never below the optimum."""

import itertools

import numpy as np
import pytest

from cvxnn_core import datasets, patterns
from cvxnn_core import threshold as th


@pytest.fixture(scope="module")
def plane():
    rng = np.random.default_rng(0)
    Z = rng.uniform(-1, 1, (12, 2))
    X = datasets.add_intercept(Z)
    y = np.where(np.sin(3 * Z[:, 0]) + Z[:, 1] >= 0, 1.0, -1.0)
    D = patterns.enumerate_patterns(X)
    return X, y, D, th.solve_threshold_lasso(X, y, 0.1, D)


def test_recovered_network_attains_the_lasso_optimum(plane):
    X, y, D, lasso = plane
    G, margins = th.separating_gates(X, lasso.patterns)
    assert margins.min() > 0  # every enumerated pattern is produced by a gate
    np.testing.assert_array_equal(X @ G >= 0, lasso.patterns)
    net = th.threshold_network(lasso, G)
    assert net.width == lasso.support.size
    assert net.objective(X, y, 0.1) == pytest.approx(lasso.objective, rel=1e-10)
    assert lasso.dual_ratio <= 1 + 1e-6  # the dual point certifies the optimum


def test_lasso_is_zero_above_its_largest_useful_beta(plane):
    X, y, D, _ = plane
    top = float(np.max(np.abs(D.T.astype(float) @ y)))
    zero = th.solve_threshold_lasso(X, y, top, D)
    assert not zero.z.any() and zero.objective == pytest.approx(0.5 * y @ y)
    assert th.solve_threshold_lasso(X, y, 0.99 * top, D).z.any()


def test_straight_through_runs_never_beat_the_lasso(plane):
    X, y, D, lasso = plane
    for surrogate in ("identity", "relu"):
        run = th.train_threshold_ste(X, y, (20,), 0.1, epochs=300, seed=1, surrogate=surrogate)
        assert run.objective >= lasso.objective * (1 - 1e-9)
        assert run.objective == pytest.approx(run.net.objective(X, y, 0.1), rel=1e-12)
        assert np.all(np.isfinite(run.history))


@pytest.mark.parametrize("beta", [0.3, 2.0])
def test_shattered_program_is_the_lasso_over_all_binary_columns(beta):
    y = np.array([1.0, -1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0])
    columns = np.array(list(itertools.product([False, True], repeat=y.size))[1:]).T
    full = th.solve_threshold_lasso(np.ones((y.size, 1)), y, beta, columns)
    delta, value = th.shattered_program(y, beta)
    closed_delta, closed = th.shattered_closed_form(y, beta)
    assert full.objective == pytest.approx(value, rel=1e-7)
    assert closed == pytest.approx(value, rel=1e-7)
    np.testing.assert_allclose(delta, closed_delta, atol=1e-6)


def test_shattered_program_on_real_targets_matches_the_all_columns_lasso():
    y = np.random.default_rng(2).standard_normal(7)
    columns = np.array(list(itertools.product([False, True], repeat=y.size))[1:]).T
    full = th.solve_threshold_lasso(np.ones((y.size, 1)), y, 0.4, columns)
    assert th.shattered_program(y, 0.4)[1] == pytest.approx(full.objective, rel=1e-7)


def test_three_layer_construction_attains_the_optimum_only_when_the_first_layer_shatters():
    rng = np.random.default_rng(1)
    X = datasets.add_intercept(rng.standard_normal((30, 5)))
    y = np.where(rng.standard_normal(30) >= 0, 1.0, -1.0)
    delta, optimum = th.shattered_closed_form(y, 0.5)
    wide = th.shattered_network(X, delta, 300, seed=0)
    assert wide.objective(X, y, 0.5) == pytest.approx(optimum, rel=1e-12)
    np.testing.assert_allclose(wide.predict(X), delta, atol=1e-12)
    narrow = th.shattered_network(X, delta, 1, seed=0)
    assert narrow.objective(X, y, 0.5) > 2 * optimum


def test_deep_features_append_a_bias_between_layers():
    net = th.ThresholdNet((np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])), np.ones(1), np.ones(1))
    # second layer: 1[0 * h + 1 * bias >= 0] = 1 for every sample, whatever the first layer does
    np.testing.assert_array_equal(net.predict(np.array([[-1.0, 0.0], [1.0, 0.0]])), [1.0, 1.0])

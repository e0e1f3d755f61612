"""The optimal set of the two-layer program (cvxnn_core.optimal_set), checked by direct evaluation of networks."""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core import datasets, nonconvex, patterns, recovery
from cvxnn_core import optimal_set as osm


@pytest.fixture(scope="module")
def line():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-1, 1, 6))
    X, y = datasets.add_intercept(x[:, None]), rng.standard_normal(6)
    return X, y, osm.optimal_set(X, y, 0.01, patterns.enumerate_patterns(X))


def test_every_vertex_is_an_optimal_network(line):
    X, y, S = line
    full = osm.optimal_set(X, y, 0.01, patterns.enumerate_patterns(X))
    assert S.objective == pytest.approx(full.objective, rel=1e-12)
    vertices = S.random_vertices(15, seed=0)
    assert len(vertices) >= 2 and S.dimension >= 1 and not S.unique
    for a in [*vertices, np.mean(vertices, axis=0), S.minimal_width()]:
        net = S.network(a)
        assert recovery.nonconvex_objective(X, y, net, 0.01) == pytest.approx(S.objective, rel=1e-8)
        assert np.allclose(net.predict(X), S.predictions, atol=1e-8)
    assert S.network(S.minimal_width()).width <= X.shape[0] + 1


def test_no_network_beats_the_optimal_set(line):
    """The optimum is a lower bound: random networks and trained ones stay above it."""
    X, y, S = line
    rng = np.random.default_rng(0)
    for m in (1, 3, 10):
        for _ in range(50):
            net = recovery.TwoLayerNet(rng.standard_normal((m, 2)), rng.standard_normal(m))
            assert recovery.nonconvex_objective(X, y, net, 0.01) >= S.objective * (1 - 1e-9)


def test_generic_two_dimensional_optimum_is_unique():
    rng = np.random.default_rng(4)
    Z = rng.uniform(-1, 1, (7, 2))
    X, y = datasets.add_intercept(Z), rng.standard_normal(7)
    S = osm.optimal_set(X, y, 0.05, patterns.enumerate_patterns(X))
    assert S.unique and len(S.random_vertices(5, seed=1)) == 1


def test_stationary_end_points_solve_their_subsampled_programs(line):
    X, y, _ = line
    for seed in (0, 1):
        run = nonconvex.train_two_layer(X, y, 3, 0.1, epochs=10000, seed=seed, lr=0.01, lr_end=1e-5)
        check = osm.stationary_point_check(X, y, 0.1, run.net)
        assert -1e-7 <= check.relative_gap <= 1e-4


def test_decaying_step_reaches_a_steadier_end_point(line):
    X, y, _ = line
    decayed = nonconvex.train_two_layer(X, y, 3, 0.1, epochs=3000, seed=0, lr=0.01, lr_end=1e-5)
    constant = nonconvex.train_two_layer(X, y, 3, 0.1, epochs=3000, seed=0, lr=0.01)
    # a constant Adam step keeps oscillating; the decayed one settles
    assert np.ptp(decayed.history[-100:]) < 0.1 * np.ptp(constant.history[-100:])
    with pytest.raises(ValueError, match="lr_end"):
        nonconvex.train_two_layer(X, y, 3, 0.1, epochs=10, lr_end=0.0)


def test_bad_input(line):
    X, y, _ = line
    with pytest.raises(ValueError, match="beta > 0"):
        osm.optimal_set(X, y, 0.0, patterns.enumerate_patterns(X))
    with pytest.raises(ValueError, match="inactive"):
        osm.stationary_point_check(X, y, 0.1, recovery.TwoLayerNet(np.zeros((2, 2)), np.ones(2)))

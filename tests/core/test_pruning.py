"""Optimal pruning, minimality, membership in the optimal set and the Table-1 selections, checked on instances with
exact answers: the symmetric cross (optimal set a segment, p* = 2 sqrt(2) beta - beta^2) and a 1-D instance whose
optimal polytope has dimension 2."""

import numpy as np
import pytest

from cvxnn_core import datasets, patterns, programs, pruning, recovery, selections
from cvxnn_core import optimal_set as osm

SYM_BETA = 0.5


@pytest.fixture(scope="module")
def cross():
    X = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    y = np.ones(4)
    return X, y, osm.optimal_set(X, y, SYM_BETA, patterns.enumerate_patterns(X))


@pytest.fixture(scope="module")
def line():
    rng = np.random.default_rng(3)
    x = np.sort(rng.uniform(-1, 1, 6))
    X = datasets.add_intercept(x[:, None])
    y = rng.standard_normal(6)
    return X, y, 0.01, osm.optimal_set(X, y, 0.01, patterns.enumerate_patterns(X))


def _split(net: recovery.TwoLayerNet, copies: int, seed: int = 0) -> recovery.TwoLayerNet:
    share = np.sqrt(np.random.default_rng(seed).dirichlet(np.ones(copies), size=net.width).reshape(-1))
    return recovery.TwoLayerNet(np.repeat(net.W1, copies, axis=0) * share[:, None], np.repeat(net.w2, copies) * share)


def test_min_norm_point_of_the_cross_is_the_symmetric_midpoint(cross):
    X, y, S = cross
    alpha = S.select("min_l2")
    assert S.objective == pytest.approx(2 * np.sqrt(2) * SYM_BETA - SYM_BETA**2, rel=1e-9)
    np.testing.assert_allclose(alpha, alpha.mean(), rtol=1e-7)  # the four diagonal neurons share the mass
    assert recovery.nonconvex_objective(X, y, S.network(alpha), SYM_BETA) == pytest.approx(S.objective, rel=1e-9)


def test_pruning_the_midpoint_of_the_cross_gives_a_two_neuron_vertex(cross):
    X, y, S = cross
    out = pruning.prune_network(X, S.network(S.select("min_l2")))
    assert out.width == 2 and out.fit_change < 1e-12
    assert recovery.nonconvex_objective(X, y, out.net, SYM_BETA) == pytest.approx(S.objective, rel=1e-12)
    # opposite diagonals: the two kept directions are antiparallel
    assert out.net.W1[0] @ out.net.W1[1] / np.prod(np.linalg.norm(out.net.W1, axis=1)) == pytest.approx(-1.0)


@pytest.mark.parametrize("copies", [1, 3])
def test_pruned_networks_stay_optimal_and_are_minimal(line, copies):
    X, y, beta, S = line
    start = _split(S.network(np.mean(S.random_vertices(20, seed=0), axis=0)), copies)
    out = pruning.prune_network(X, start)
    F = pruning.neuron_masses(X, start)[0]
    assert out.width <= np.linalg.matrix_rank(F) < start.width
    assert recovery.nonconvex_objective(X, y, out.net, beta) == pytest.approx(S.objective, rel=1e-10)
    assert pruning.removal_increase(X, y, beta, out.net).min() > 1e-4  # no neuron can go
    assert pruning.removal_increase(X, y, beta, start).min() < 1e-8  # the start has a redundant neuron


def test_pruning_any_network_keeps_its_fit_and_penalty():
    rng = np.random.default_rng(0)
    X = datasets.add_intercept(rng.standard_normal((5, 2)))
    net = recovery.TwoLayerNet(rng.standard_normal((9, 3)), rng.standard_normal(9))  # 9 neurons, n = 5: dependent
    F, c, _, _ = pruning.neuron_masses(X, net)
    out = pruning.prune_network(X, net)
    np.testing.assert_allclose(out.net.predict(X), net.predict(X), rtol=1e-10, atol=1e-12)
    assert out.net.weight_decay() == pytest.approx(c.sum(), rel=1e-12)  # balanced: 0.5 (||u||^2 + w2^2) = ||u|| |w2|
    assert out.width <= 5 + 1 and out.steps == 9 - out.width


def test_magnitude_pruning_keeps_the_largest_masses_and_leaves_the_optimum(line):
    X, y, beta, S = line
    start = S.network(np.mean(S.random_vertices(20, seed=0), axis=0))
    kept = pruning.magnitude_prune(X, start, 3)
    masses = pruning.neuron_masses(X, start)[1]
    np.testing.assert_allclose(np.sort(pruning.neuron_masses(X, kept)[1]), np.sort(masses)[-3:], rtol=1e-12)
    assert recovery.nonconvex_objective(X, y, kept, beta) > S.objective * 1.01


def test_membership_residual_separates_optimal_from_inaccurate_networks(line):
    X, y, beta, S = line
    for v in S.random_vertices(5, seed=1):
        assert S.membership_residual(S.network(v)) < 1e-10
    loose = programs.solve_relu(X, y, beta, patterns.enumerate_patterns(X), solver="active_set",
                                solver_options={"tol": 1e-1}, on_unconverged="warn")
    assert S.membership_residual(recovery.relu_network(loose)) > 1e-2


def test_raw_interior_point_keeps_tiny_blocks_at_the_same_objective(line):
    X, y, beta, _ = line
    D = patterns.enumerate_patterns(X)
    clean, raw = programs.solve_relu(X, y, beta, D), programs.solve_relu(X, y, beta, D, zero_blocks=False)
    assert raw.objective == pytest.approx(clean.objective, rel=1e-7)
    assert raw.n_active_blocks > clean.n_active_blocks


def test_certified_selections_are_optimal_and_scaled_support_fits_the_same_data():
    split = datasets.load_keel("pima", test_fraction=0.9, seed=650)
    Xtr, ytr = split.X_train[15:], split.y_train[15:]
    D = patterns.sample_patterns(Xtr, 60, seed=123)
    rows = selections.compare_selections(Xtr, ytr, split.X_train[:15], split.y_train[:15], split.X_test,
                                         split.y_test, 0.05 * len(ytr), D)
    certified = [r for r in rows if r.rule == "certified"]
    assert len(certified) == 3 and max(abs(r.excess) for r in certified) < 1e-7
    support = [r for r in rows if r.rule == "scaled support"]
    assert len(support) == 4 and all(r.excess > -1e-6 for r in support)  # nothing beats the optimum
    raw = programs.solve_relu(Xtr, ytr, 0.05 * len(ytr), D, zero_blocks=False)
    out = selections.scaled_support(raw, Xtr, "min_l2")
    np.testing.assert_allclose(out.net.predict(Xtr), raw.predict(Xtr), atol=1e-6)  # the fit is held fixed

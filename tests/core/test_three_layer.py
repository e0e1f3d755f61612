"""Three-layer parallel ReLU networks: the group-l1 and path programs against independent constructions.

Reference values come from a separate implementation of the weight-decay, path-norm and low-rank programs (its own
operators and recovery), run on the same data.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core import datasets, patterns, programs
from cvxnn_core import three_layer as tl

REL = 1e-6  # relative agreement required between a program's optimum and a network's objective


def one_d(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-1, 1, n))
    return np.column_stack([x, np.ones(n)]), np.sin(3 * x) + 0.3 * x + 0.1 * rng.standard_normal(n)


@pytest.fixture(scope="module")
def wide():
    """1-D inputs with a bias, n = 6, beta = 0.05, every pattern of both levels (126 groups, 2772 blocks)."""
    X, y = one_d(6, 0)
    D1 = patterns.enumerate_patterns(X)
    res = tl.solve_three_layer(X, y, 0.05, D1, tl.wide_groups(D1, tl.all_sign_patterns(6)))
    return X, y, D1, res


def test_wide_program_matches_independent_script(wide):
    X, y, D1, res = wide
    assert D1.shape[1] == 11 and tl.second_level_rank(X, D1) == 6
    assert res.groups.n_groups == 126 and res.groups.n_blocks == 2772
    # verify_three_layer_wd.py reports 0.2789760455 at Clarabel's default tolerances (1e-8) and 0.2789760390 after
    # its sparse re-solve: the two bracket the optimum to 2.3e-8 relative
    assert res.objective == pytest.approx(0.2789760455, rel=3e-8)
    assert res.violation < 1e-9


def test_recovered_network_attains_the_optimum(wide):
    X, y, _, res = wide
    net = tl.recover_network(res)
    assert np.allclose([np.linalg.norm(W) for W in net.W1], 1.0, atol=1e-12)
    assert np.allclose(net.predict(X), res.fit, atol=1e-8)
    assert tl.objective(X, y, net, 0.05, "frobenius") == pytest.approx(res.objective, rel=REL)


def test_resolve_on_active_groups_is_sparse_and_optimal(wide):
    X, y, D1, res = wide
    sparse = tl.resolve_active(X, y, D1, res)
    assert sparse.objective == pytest.approx(res.objective, rel=REL)
    net = tl.recover_network(sparse)
    assert net.n_subnets <= tl.recover_network(res).n_subnets and sparse.groups.n_blocks < res.groups.n_blocks
    assert tl.objective(X, y, net, 0.05, "frobenius") == pytest.approx(res.objective, rel=REL)


def test_random_networks_never_beat_the_program(wide):
    """Convex <= nonconvex for every width: any feasible network's objective is at least p*."""
    X, y, _, res = wide
    rng = np.random.default_rng(5)
    for K, m in [(1, 1), (2, 3), (5, 8)]:
        for _ in range(20):
            net = tl.ParallelThreeLayerNet(
                [rng.standard_normal((m, 2)) for _ in range(K)],
                [rng.standard_normal(m) for _ in range(K)],
                rng.standard_normal(K) * 0.5,
            )
            assert tl.objective(X, y, tl.rescale_frobenius(net), 0.05, "frobenius") >= res.objective * (1 - REL)


def test_adam_never_ends_below_the_optimum(wide):
    X, y, _, res = wide
    runs = tl.train_three_layer(X, y, 0.05, 3, 4, seeds=[0, 1], epochs=1500)
    for run in runs:
        assert run.objective >= res.objective * (1 - REL)
        assert run.objective == pytest.approx(tl.objective(X, y, run.net, 0.05, "frobenius"), rel=1e-9)
        assert run.history.shape == (1500,) and run.history[-1] == run.objective


def test_batched_seeds_equal_single_runs():
    X, y = one_d(5, 3)
    both = tl.train_three_layer(X, y, 0.05, 2, 3, seeds=[4, 7], epochs=200, regularizer="path")
    alone = tl.train_three_layer(X, y, 0.05, 2, 3, seeds=[7], epochs=200, regularizer="path")
    np.testing.assert_allclose(both[1].history, alone[0].history, rtol=1e-12)


def test_frobenius_objective_is_invariant_under_splitting(wide):
    X, y, _, res = wide
    net = tl.recover_network(res)
    split = tl.rescale_frobenius(tl.duplicate_neurons(net, 4))
    np.testing.assert_allclose(split.predict(X), net.predict(X), atol=1e-12)
    assert tl.objective(X, y, split, 0.05, "frobenius") == pytest.approx(tl.objective(X, y, net, 0.05, "frobenius"))


def test_unit_columns_are_width_dependent(wide):
    """Under unit-norm neurons copying every neuron M times divides the penalty by sqrt(M) at equal outputs."""
    X, y, _, res = wide
    net = tl.recover_network(res)
    cols = tl.rescale_columns(net)
    np.testing.assert_allclose(cols.predict(X), net.predict(X), atol=1e-12)
    base = tl.penalty(cols, "columns")
    for M in (2, 4):
        copied = tl.duplicate_neurons(cols, M)
        np.testing.assert_allclose(copied.predict(X), cols.predict(X), atol=1e-12)
        assert tl.penalty(copied, "columns") == pytest.approx(base / np.sqrt(M), rel=1e-12)


@pytest.fixture(scope="module")
def path_data():
    X, y = one_d(4, 1)
    D1 = patterns.enumerate_patterns(X)
    return X, y, D1, tl.all_sign_patterns(4)


def test_path_program_width_one_is_the_two_layer_program(path_data):
    X, y, D1, D2 = path_data
    res = tl.solve_three_layer(X, y, 0.05, D1, tl.width_groups(D1, D2, 1), regularizer="path")
    assert res.objective == pytest.approx(programs.solve_relu(X, y, 0.05, D1).objective, rel=REL)


def test_path_program_width_two(path_data):
    X, y, D1, D2 = path_data
    groups = tl.width_groups(D1, D2, 2)
    assert groups.n_groups == 105 * 15 * 2  # C(2 P1 + 1, 2) multisets of the 14 slots, 15 level-2 patterns, 2 signs
    res = tl.solve_three_layer(X, y, 0.05, D1, groups, regularizer="path")
    one = tl.solve_three_layer(X, y, 0.05, D1, tl.width_groups(D1, D2, 1), regularizer="path")
    assert res.objective <= one.objective * (1 + 1e-9)
    net = tl.recover_network(res)
    assert max(net.widths) <= 2
    assert np.allclose(np.concatenate([np.linalg.norm(W, axis=1) for W in net.W1]), 1.0)
    assert tl.objective(X, y, net, 0.05, "path") == pytest.approx(res.objective, rel=REL)
    # the same weights are a unit-column weight-decay network with the same objective
    assert tl.objective(X, y, net, 0.05, "columns") == pytest.approx(res.objective, rel=REL)
    copied = tl.duplicate_neurons(net, 4)
    assert tl.objective(X, y, copied, 0.05, "path") < res.objective
    for run in tl.train_three_layer(X, y, 0.05, 4, 2, regularizer="path", seeds=[0, 1], epochs=1500):
        assert run.objective >= res.objective * (1 - REL)


def test_path_program_reference_value():
    X, y = one_d(5, 1)
    D1 = patterns.enumerate_patterns(X)
    res = tl.solve_three_layer(X, y, 0.05, D1, tl.width_groups(D1, tl.all_sign_patterns(5), 1), regularizer="path")
    assert res.objective == pytest.approx(0.1683107434, rel=1e-7)  # verify_path_reg.py, m1 = 1


def test_counts_match_the_formulas():
    rng = np.random.default_rng(0)
    for n, bound in [(4, 3360), (6, 26312), (8, 119040)]:
        assert tl.group_count_bound(n, 2, 2) == bound  # the table of BEYOND_TWO_LAYERS.md section 1
        Z = rng.standard_normal((n, 2))
        assert patterns.enumerate_patterns(datasets.add_intercept(Z)).shape[1] == patterns.max_pattern_count(n, 3) - 1
    D = tl.all_sign_patterns(5)
    assert D.shape == (5, 31) and np.unique(np.packbits(D, axis=0), axis=1).shape[1] == 31 and D.any(axis=0).all()


def test_low_rank_algorithm():
    rng = np.random.default_rng(3)
    Z = rng.standard_normal((6, 2)) * np.array([1.0, 0.35])
    X = np.column_stack([Z, np.ones(6)])
    y = np.sin(2 * Z[:, 0]) + Z[:, 1] + 0.1 * rng.standard_normal(6)
    exact = tl.solve_low_rank(X, y, 0.05, 3)
    assert exact.objective == pytest.approx(0.27349842, rel=1e-7) and exact.sigma_next == 0.0
    for r, ref in [(2, 0.28263543), (1, 1.00809007)]:
        low = tl.solve_low_rank(X, y, 0.05, r)
        assert low.objective == pytest.approx(ref, rel=1e-7)
        # the recovered network has the same outputs on X and X_r: its objective on X is the low-rank optimum
        assert low.objective == pytest.approx(low.program.objective, rel=1e-7)
        assert exact.objective * (1 - REL) <= low.objective <= tl.approximation_bound(exact.objective, low.sigma_next,
                                                                                        0.05)
        assert low.n_patterns < exact.n_patterns


def test_spiral_three_layer_contains_two_layer():
    Z, labels = datasets.multiclass_spiral(10, seed=0)
    X = datasets.add_intercept(Z)
    D1 = patterns.sample_patterns(X, 30, seed=0)
    groups = tl.concat_groups(tl.sample_groups(X, D1, 4, width=4, seed=0), tl.one_neuron_groups(D1))
    two = tl.fit_one_vs_rest(X, labels, 0.1, D1, None, model="two_layer")
    three = tl.fit_one_vs_rest(X, labels, 0.1, D1, groups, model="frobenius")
    assert three.objective <= two.objective * (1 + 1e-7)
    assert three.scores(X).shape == (30, 3) and 0 <= three.accuracy(X, labels) <= 1


def test_multiclass_spiral_is_seeded():
    a, la = datasets.multiclass_spiral(7, n_classes=4, seed=3)
    b, lb = datasets.multiclass_spiral(7, n_classes=4, seed=3)
    assert a.shape == (28, 2) and np.array_equal(a, b) and np.array_equal(la, lb)
    assert np.bincount(la).tolist() == [7] * 4


def test_bad_input_is_refused():
    X, y = one_d(4, 0)
    D1 = patterns.enumerate_patterns(X)
    groups = tl.wide_groups(D1, tl.all_sign_patterns(4))
    with pytest.raises(ValueError, match="refers to level-1 pattern"):
        tl.solve_three_layer(X, y, 0.1, D1[:, :2], groups)
    with pytest.raises(ValueError, match="regularizer"):
        tl.solve_three_layer(X, y, 0.1, D1, groups, regularizer="columns")
    with pytest.raises(ValueError, match="beta"):
        tl.solve_three_layer(X, y, -1.0, D1, groups)
    with pytest.raises(ValueError, match="sample_second_level"):
        tl.all_sign_patterns(20)
    with pytest.raises(ValueError, match="width = 9"):
        tl.sample_groups(X, D1, 2, width=9)
    big = tl.ParallelThreeLayerNet([np.ones((2, 2))], [np.ones(2)], np.ones(1))
    with pytest.raises(ValueError, match=r"\|\|W1_k\|\|_F = 2 > 1"):
        tl.penalty(big, "frobenius")
    with pytest.raises(ValueError, match="expected \\(m, 3\\)"):
        big.predict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="groups"):
        tl.fit_one_vs_rest(X, np.array([0, 1, 0, 1]), 0.1, D1, None, model="path")


def test_network_groups_contain_the_trained_network():
    """The program over a trained network's own patterns has that network as a feasible point: optimum <= its
    objective, for a network on data too large to enumerate."""
    split = datasets.load_binary("breast_cancer", n_train=40, seed=0)
    X = datasets.add_intercept(split.X_train[:, :5])
    run = tl.train_three_layer(X, split.y_train, 1.0, 2, 3, seeds=[0], epochs=300)[0]
    D = patterns.sample_patterns(X, 5, seed=0)
    D_all, groups = tl.network_groups(X, D, run.net)
    assert np.array_equal(D_all[:, :D.shape[1]], D) and groups.n_groups <= 2
    res = tl.solve_three_layer(X, split.y_train, 1.0, D_all, groups)
    assert res.objective <= run.objective * (1 + 1e-9)

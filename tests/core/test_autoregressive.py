"""Convex autoregressive models: the context table reproduces the per-pixel likelihood, the exact program over the
complete arrangement attains the neural objective's lower bound, and the relaxations bound it from below."""

import numpy as np
import pytest

from cvxnn_core import autoregressive as ar
from cvxnn_core import datasets, nonconvex, patterns, recovery

NEIGHBOURS = ["left", "up", "up_right"]


@pytest.fixture(scope="module")
def digits():
    train, test = datasets.load_binary_digits(120, seed=0)
    C, t = ar.causal_contexts(train, NEIGHBOURS)
    table = ar.context_table(C, t)
    return train, test, C, t, table, patterns.enumerate_patterns(table.U)


def test_contexts_read_the_causal_neighbours():
    image = np.array([[[1, 0, 1], [0, 1, 0]]])
    C, t = ar.causal_contexts(image)
    np.testing.assert_array_equal(t, [1, 0, 1, 0, 1, 0])
    # pixel (1, 1): left (1, 0) = 0, up-left (0, 0) = 1, up (0, 1) = 0, up-right (0, 2) = 1
    np.testing.assert_array_equal(C[4], [0, 1, 0, 1])
    np.testing.assert_array_equal(C[0], [0, 0, 0, 0])  # first pixel: all outside the image


def test_table_counts_every_pixel(digits):
    train, _, C, t, table, _ = digits
    assert table.ones.sum() + table.zeros.sum() == train.size
    assert table.ones.sum() == t.sum()
    np.testing.assert_array_equal(table.U[table.index(C), :-1], C)


def test_exact_program_is_the_neural_objective_and_no_network_beats_it(digits):
    _, test, C, t, table, D = digits
    fit = ar.solve_autoregressive(table, 1.0, D)
    X, s = datasets.add_intercept(C), 2 * t - 1
    net = fit.network()
    assert recovery.nonconvex_objective(X, s, net, 1.0, "logistic") == pytest.approx(fit.objective, rel=1e-8)
    np.testing.assert_allclose(net.predict(X), fit.logits(C), atol=1e-8)
    for m in (4, 16):
        run = nonconvex.train_two_layer(X, s, m, 1.0, loss="logistic", epochs=300, lr=0.05, seed=1)
        assert run.objective >= fit.objective * (1 - 1e-7)
    assert np.isfinite(ar.image_nll(fit.logits(ar.causal_contexts(test, NEIGHBOURS)[0]), test))


def test_relaxations_are_lower_bounds_of_the_exact_program(digits):
    *_, table, D = digits
    exact = ar.solve_autoregressive(table, 1.0, D)
    gated = ar.solve_autoregressive(table, 1.0, D, relaxation="gated")
    hinge = ar.solve_autoregressive(table, 1.0, D, relaxation="hinge", rho=1.0)
    assert gated.objective <= exact.objective * (1 + 1e-8)
    assert hinge.objective <= exact.objective * (1 + 1e-8)  # the exact solution is feasible with zero penalty
    assert gated.objective <= hinge.objective * (1 + 1e-8)
    assert exact.cone_violation == 0.0


def test_image_nll_of_a_constant_model_is_64_log_2():
    images = np.zeros((2, 8, 8), dtype=int)
    assert ar.image_nll(np.zeros(128), images) == pytest.approx(64 * np.log(2))

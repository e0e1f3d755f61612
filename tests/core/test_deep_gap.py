"""Duality gaps of deep networks (cvxnn_core.deep.gap) against independent constructions and reference values that an
independent implementation (its own dual, bidual and multi-start training) computed on the same instances."""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core import datasets
from cvxnn_core.deep import gap


@pytest.fixture(scope="module")
def whitened():
    """Instance B of the notes: X^T X = I, sigma(X^T Y) = (2, 1.2, 0.4), beta = 0.5."""
    X, Y = datasets.whitened_linear_regression(8, [2.0, 1.2, 0.4], seed=0)
    return X, Y, 0.5


def test_balanced_factorisation_attains_the_schatten_quasinorm():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((4, 3))
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    for L in (2, 3, 4):
        layers = [U * s ** (1 / L)] + [np.diag(s ** (1 / L))] * (L - 2) + [s[:, None] ** (1 / L) * Vt]
        assert np.allclose(np.linalg.multi_dot(layers), W)
        assert np.prod([np.linalg.norm(A) for A in layers]) == pytest.approx(gap.schatten(W, 2 / L), rel=1e-12)
        for _ in range(200):  # Hoelder: no other factorisation of W does better
            G = rng.standard_normal((3, 3)) + 3 * np.eye(3)
            other = [layers[0] @ G, np.linalg.solve(G, layers[1])] + layers[2:]
            assert np.prod([np.linalg.norm(A) for A in other]) >= gap.schatten(W, 2 / L) * (1 - 1e-12)


def test_dual_bidual_and_closed_form_agree(whitened):
    X, Y, beta = whitened
    closed = gap.whitened_gap(X, Y, beta, 2)
    assert gap.nuclear_dual(X, Y, beta)[0] == pytest.approx(closed.dual, rel=1e-7)
    assert gap.nuclear_program(X, Y, beta)[0] == pytest.approx(closed.dual, rel=1e-7)
    np.testing.assert_allclose(closed.nuclear_singular_values, [1.5, 0.7, 0.0], atol=1e-12)


def test_gap_appears_at_depth_three(whitened):
    X, Y, beta = whitened
    assert abs(gap.whitened_gap(X, Y, beta, 2).gap) < 1e-12
    three = gap.whitened_gap(X, Y, beta, 3)
    assert three.gap == pytest.approx(0.245, abs=1e-8)  # the notes' instance B: +0.2450
    np.testing.assert_allclose(three.singular_values, [1.5, 0.0, 0.0], atol=1e-7)


def test_quasinorm_minimiser_against_a_dense_grid():
    a, beta = np.array([1.3, 0.8]), 0.4
    value, s = gap.quasinorm_penalised_min(a, beta, 2 / 3)
    g = np.linspace(0, 1.6, 801)
    S, T = np.meshgrid(g, g, indexing="ij")
    grid = 0.5 * ((S - a[0]) ** 2 + (T - a[1]) ** 2) + beta * (S ** (2 / 3) + T ** (2 / 3)) ** 1.5
    assert value <= grid.min() + 1e-12 and value >= grid.min() - 1e-5
    assert 0.5 * np.sum((s - a) ** 2) + beta * np.sum(s ** (2 / 3)) ** 1.5 == pytest.approx(value, rel=1e-12)


def test_trained_networks_reach_primal_and_dual(whitened):
    X, Y, beta = whitened
    P3 = gap.whitened_gap(X, Y, beta, 3)
    standard = [v for v, _ in gap.fit_deep_linear_product(X, Y, beta, 3, starts=4)]
    parallel = gap.fit_deep_linear_product(X, Y, beta, 3, n_branches=3, starts=3)
    assert standard[0] == pytest.approx(P3.primal, rel=1e-8) and min(standard) >= P3.primal * (1 - 1e-9)
    assert parallel[0][0] == pytest.approx(P3.dual, rel=1e-7)
    assert all(v >= P3.dual * (1 - 1e-8) for v, _ in parallel)
    assert gap.linear_product_objective(X, Y, beta, parallel[0][1]) == pytest.approx(P3.dual, rel=1e-6)


def test_relu_whitened_reference_values():
    y = np.array([1.2, -0.9, 0.5, -0.6, 0.8])
    D, P = gap.relu3_whitened_values(y, 0.4)
    assert (D, P) == (pytest.approx(0.883240, abs=1e-6), pytest.approx(1.115574, abs=1e-6))
    D, P = gap.relu3_whitened_values(y, 1.3)
    assert P == pytest.approx(D, rel=1e-9)


def test_relu_rank_one_against_grid_and_training():
    rng = np.random.default_rng(1)
    a = np.array([1.0, -0.6, 0.8, -1.1, 0.4, -0.9])
    b = rng.standard_normal(3)
    ap, am = np.maximum(a, 0), np.maximum(-a, 0)
    y = ap - 0.8 * am + 0.1 * rng.standard_normal(6)
    D, P = gap.relu3_rank_one_values(a, b, y, 0.3)
    t = 0.3 / np.linalg.norm(b)
    g = np.linspace(-2, 2, 801)
    U, V = np.meshgrid(g, g, indexing="ij")
    fit = 0.5 * ((U[..., None] * ap + V[..., None] * am - y) ** 2).sum(-1)
    l1 = np.abs(U) + np.abs(V)
    quasi = np.where(U * V >= 0, l1, (np.abs(U) ** (2 / 3) + np.abs(V) ** (2 / 3)) ** 1.5)
    assert D <= (fit + t * l1).min() + 1e-12 and D >= (fit + t * l1).min() - 1e-4
    assert P <= (fit + t * quasi).min() + 1e-12 and P >= (fit + t * quasi).min() - 1e-4
    assert P > D * 1.05
    X = np.outer(a, b)
    assert min(gap.fit_relu3_product(X, y, 0.3, widths=(4, 4), starts=3)) >= P * (1 - 1e-7)
    assert min(gap.fit_relu3_product(X, y, 0.3, n_branches=3, widths=(2, 1), starts=4)) == pytest.approx(D, rel=1e-6)


def test_bad_input():
    X = np.random.default_rng(0).standard_normal((6, 3))
    with pytest.raises(ValueError, match="whiten"):
        gap.whitened_gap(X, X[:, :2], 0.1, 3)
    with pytest.raises(ValueError, match="p must be"):
        gap.quasinorm_penalised_min(np.ones(2), 0.1, 1.5)
    with pytest.raises(ValueError, match="support enumeration"):
        gap.quasinorm_penalised_min(np.ones(12), 0.1, 0.5)
    with pytest.raises(ValueError, match="beta"):
        gap.nuclear_dual(X, X, -1.0)
    with pytest.raises(ValueError, match="penalty"):
        gap.fit_deep_linear_product(X, X, 0.1, 3, penalty="l1")

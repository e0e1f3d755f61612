"""Deep linear closed forms against cvxpy and gradient descent, layer metrics on constructed matrices, and the
neural-collapse metrics on an exact simplex ETF."""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from cvxnn_core import deep
from cvxnn_core.datasets import load_digits_balanced, whitened_linear_regression
from cvxnn_core.deep.linear import _scalar_layer_problem

CVXPY_RTOL = 1e-6  # closed form vs the nuclear-norm program solved by Clarabel (objective, relative)
CVXPY_ZTOL = 1e-6  # same, largest entry of the optimal map Z
EXACT_TOL = 1e-12  # identities that hold up to rounding (ETF metrics, objective of the returned weights)
GD_RTOL = 1e-6  # gradient descent (whitened, margins from the thresholds) vs the closed form, relative objective
GD_GENERAL_RTOL = 1e-4  # gradient descent on non-whitened data vs the cvxpy nuclear-norm optimum
SINGULAR_VALUES = [1.5, 1.0, 0.6, 0.3]


@pytest.fixture(scope="module")
def whitened():
    """``X`` ``(12, 4)``, orthonormal columns, and ``Y`` ``(12, 5)``; ``X^T Y`` has singular values 1.5, 1, .6, .3."""
    return whitened_linear_regression(12, SINGULAR_VALUES, d=4, c=5, noise=0.2, seed=0)


def _nuclear_program(X, Y, beta):
    Z = cp.Variable((X.shape[1], Y.shape[1]))
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(X @ Z - Y) + beta * cp.normNuc(Z)))
    problem.solve(solver="CLARABEL")
    assert problem.status == cp.OPTIMAL, problem.status
    return problem.value, Z.value


# ---------------------------------------------------------------------------------------------- data helpers


def test_whitened_regression_has_the_prescribed_cross_covariance(whitened):
    X, Y = whitened
    np.testing.assert_allclose(X.T @ X, np.eye(4), atol=EXACT_TOL)
    np.testing.assert_allclose(np.linalg.svd(X.T @ Y, compute_uv=False), SINGULAR_VALUES, atol=1e-12)


def test_whiten_columns_gives_orthonormal_columns_with_the_same_span():
    X = np.random.default_rng(0).standard_normal((15, 4)) @ np.diag([1.0, 5.0, 0.1, 2.0])
    Xw = deep.whiten_columns(X)
    np.testing.assert_allclose(Xw.T @ Xw, np.eye(4), atol=EXACT_TOL)
    P = Xw @ Xw.T
    np.testing.assert_allclose(P @ X, X, atol=1e-10)


def test_balanced_digits_are_balanced_and_standardised():
    X, labels = load_digits_balanced(20, n_classes=4, seed=1)
    assert X.shape == (80, 64)
    np.testing.assert_array_equal(np.bincount(labels), [20, 20, 20, 20])
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)


# ---------------------------------------------------------------------------------------------- closed forms


@pytest.mark.parametrize("beta", [0.0, 0.2, 0.8, 1.2, 2.0])
def test_two_layer_closed_form_matches_the_nuclear_norm_program(whitened, beta):
    X, Y = whitened
    value, Z = _nuclear_program(X, Y, beta)
    opt = deep.two_layer_linear_optimum(X, Y, beta)
    assert opt.objective == pytest.approx(value, rel=CVXPY_RTOL)
    np.testing.assert_allclose(opt.Z, Z, atol=CVXPY_ZTOL)
    assert deep.nuclear_norm_objective(X, Y, opt.Z, beta) == pytest.approx(opt.objective, rel=EXACT_TOL)


@pytest.mark.parametrize("n_layers", [2, 3, 4])
@pytest.mark.parametrize("beta", [0.05, 0.5, 1.2])
def test_returned_weights_attain_the_closed_form_objective_and_are_balanced(whitened, n_layers, beta):
    X, Y = whitened
    opt = deep.deep_linear_optimum(X, Y, beta, n_layers=n_layers)
    assert deep.deep_linear_objective(X, Y, opt.weights, beta) == pytest.approx(opt.objective, rel=EXACT_TOL)
    product = opt.weights[0]
    for W in opt.weights[1:]:
        product = product @ W
    np.testing.assert_allclose(product, opt.Z, atol=EXACT_TOL)
    for W in opt.weights:  # balanced: every layer carries the same singular values t^(1/L)
        s = np.linalg.svd(W, compute_uv=False)[: opt.rank]
        np.testing.assert_allclose(s, opt.layer_singular_values[: opt.rank], rtol=1e-12)


def test_rank_drops_exactly_at_the_singular_values(whitened):
    X, Y = whitened
    s = np.array(SINGULAR_VALUES)
    for k, threshold in enumerate(s):
        assert deep.two_layer_linear_optimum(X, Y, threshold * (1 - 1e-9)).rank == k + 1
        assert deep.two_layer_linear_optimum(X, Y, threshold * (1 + 1e-9)).rank == k
    betas = np.linspace(0.0, 2.0, 41) + 0.013  # no beta within rounding of a singular value
    ranks = [deep.two_layer_linear_optimum(X, Y, b).rank for b in betas]
    assert ranks == [int(np.sum(s > b)) for b in betas]
    assert all(a >= b for a, b in zip(ranks, ranks[1:], strict=False))  # a staircase


@pytest.mark.parametrize("n_layers", [3, 4])
@pytest.mark.parametrize("s", [0.05, 0.4, 1.0, 3.0])
def test_scalar_layer_problem_matches_a_dense_grid(n_layers, s):
    beta = 0.3
    t = _scalar_layer_problem(s, beta, n_layers)
    grid = np.linspace(0.0, 1.5 * s, 300001)
    g = 0.5 * (grid - s) ** 2 + 0.5 * beta * n_layers * grid ** (2.0 / n_layers)
    value = 0.5 * (t - s) ** 2 + 0.5 * beta * n_layers * t ** (2.0 / n_layers)
    assert value <= g.min() + 1e-12
    assert value == pytest.approx(g.min(), abs=1e-8)


def test_narrow_network_keeps_the_largest_modes(whitened):
    X, Y = whitened
    full = deep.two_layer_linear_optimum(X, Y, 0.1)
    narrow = deep.two_layer_linear_optimum(X, Y, 0.1, width=2)
    assert full.rank == 4 and narrow.rank == 2
    assert narrow.weights[0].shape == (4, 2)
    np.testing.assert_allclose(np.linalg.svd(narrow.Z, compute_uv=False)[:2], np.array(SINGULAR_VALUES[:2]) - 0.1)
    assert narrow.objective > full.objective


# ---------------------------------------------------------------------------------------------- gradient descent


def test_gradient_descent_reaches_the_closed_form_and_its_rank(whitened):
    """Loose: GD is stopped after finitely many steps. Betas sit at least 0.1 away from every singular value, so
    GD converges linearly; 800 steps of size 0.3 bring the objective within ``GD_RTOL``."""
    X, Y = whitened
    betas = [0.1, 0.45, 0.8, 1.25, 1.7]
    runs = deep.train_deep_linear_sweep(X, Y, betas, n_layers=2, lr=0.3, steps=800, seed=0, n_records=5)
    for beta, run in zip(betas, runs, strict=True):
        opt = deep.two_layer_linear_optimum(X, Y, beta)
        excess = (run.objective - opt.objective) / opt.objective
        assert -1e-12 <= excess <= GD_RTOL, (beta, excess)
        assert deep.numerical_rank(run.weights[0], rtol=1e-3, scale=np.sqrt(SINGULAR_VALUES[0])) == opt.rank
        assert run.objective == pytest.approx(deep.deep_linear_objective(X, Y, run.weights, beta), rel=1e-12)


def test_deep_gradient_descent_is_rank_one_and_aligned_for_one_output():
    X, Y = whitened_linear_regression(30, [2.0], d=6, c=1, noise=0.3, seed=1)
    beta = 0.1
    run = deep.train_deep_linear(X, Y, beta, n_layers=3, width=6, lr=0.05, steps=1500, seed=0, n_records=10)
    opt = deep.deep_linear_optimum(X, Y, beta, n_layers=3)
    assert run.objective == pytest.approx(opt.objective, rel=GD_RTOL)
    assert run.objective >= opt.objective * (1 - 1e-12)
    assert max(deep.stable_rank(W) for W in run.weights) <= 1 + 1e-6
    np.testing.assert_allclose(deep.layer_alignment(run.weights), 1.0, atol=1e-6)
    np.testing.assert_allclose(run.op_norms[-1], opt.layer_singular_values[0], rtol=1e-5)
    assert run.steps[0] == 0 and run.steps[-1] == 1500
    assert run.history.shape == run.steps.shape and run.op_norms.shape == (len(run.steps), 3)


def test_gradient_descent_on_general_data_reaches_the_nuclear_norm_optimum():
    """The factorisation identity holds for any X: two-layer training is the nuclear-norm program (no closed form)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((15, 4)) / np.sqrt(15)
    Y = X @ (2 * rng.standard_normal((4, 3))) + 0.1 * rng.standard_normal((15, 3))
    beta = 0.3
    value, _ = _nuclear_program(X, Y, beta)
    run = deep.train_deep_linear(X, Y, beta, n_layers=2, width=3, lr=0.05, steps=1000, seed=0, n_records=3)
    assert run.objective == pytest.approx(value, rel=GD_GENERAL_RTOL)
    assert run.objective >= value * (1 - 1e-7)


def test_training_is_seeded():
    X, Y = whitened_linear_regression(12, [1.0, 0.5], noise=0.1, seed=0)
    a = deep.train_deep_linear(X, Y, 0.1, steps=20, seed=4, n_records=3)
    b = deep.train_deep_linear(X, Y, 0.1, steps=20, seed=4, n_records=3)
    c = deep.train_deep_linear(X, Y, 0.1, steps=20, seed=5, n_records=3)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])


# ---------------------------------------------------------------------------------------------- layer metrics


def test_stable_rank_numerical_rank_and_alignment_on_constructed_matrices():
    rng = np.random.default_rng(0)
    u, v, w = rng.standard_normal(5), rng.standard_normal(4), rng.standard_normal(3)
    A, B = np.outer(u, v), np.outer(v, w)  # aligned: right vector of A = left vector of B
    assert deep.stable_rank(A) == pytest.approx(1.0, abs=EXACT_TOL)
    assert deep.stable_rank(np.eye(4)) == pytest.approx(4.0)
    assert deep.numerical_rank(A) == 1
    assert deep.numerical_rank(np.diag([1.0, 1e-2, 1e-5])) == 2
    assert deep.numerical_rank(np.zeros((3, 3))) == 0
    assert deep.numerical_rank(np.diag([1e-2, 1e-5]), scale=1.0) == 1
    np.testing.assert_allclose(deep.layer_alignment([A, B]), [1.0], atol=EXACT_TOL)
    v_perp = np.linalg.svd(v[None])[2][1]
    assert deep.layer_alignment([A, np.outer(v_perp, w)])[0] == pytest.approx(0.0, abs=EXACT_TOL)
    op, fro = deep.layer_norms([A, np.eye(4)])
    np.testing.assert_allclose(op, [np.linalg.norm(u) * np.linalg.norm(v), 1.0])
    np.testing.assert_allclose(fro, [np.linalg.norm(u) * np.linalg.norm(v), 2.0])


# ---------------------------------------------------------------------------------------------- neural collapse


@pytest.mark.parametrize(("C", "dim"), [(2, None), (3, None), (5, 4), (10, 16)])
def test_simplex_etf_gram_matrix(C, dim):
    E = deep.simplex_etf(C, dim, seed=1)
    assert E.shape == (C, C - 1 if dim is None else dim)
    G = E @ E.T
    np.testing.assert_allclose(G, C / (C - 1) * np.eye(C) - 1 / (C - 1), atol=EXACT_TOL)
    np.testing.assert_allclose(E.sum(axis=0), 0.0, atol=EXACT_TOL)


@pytest.mark.parametrize("C", [3, 10])
def test_nc_metrics_of_an_exact_simplex_etf(C):
    rng = np.random.default_rng(0)
    E = 2.5 * deep.simplex_etf(C, 12, seed=0)
    labels = np.repeat(np.arange(C), 7)
    shift = rng.standard_normal(12)
    H = E[labels] + shift  # every feature equals its class mean; means = shifted ETF
    W, b = 3.0 * E, -3.0 * E @ shift  # a classifier aligned with the centred means (bias removes the shift)
    predictions = np.argmax(H @ W.T + b, axis=1)
    m = deep.neural_collapse_metrics(H, labels, classifier=W, predictions=predictions)
    assert m.nc1 == pytest.approx(0.0, abs=EXACT_TOL)
    assert m.nc2_norm_spread == pytest.approx(0.0, abs=EXACT_TOL)
    assert m.nc2_cos_std == pytest.approx(0.0, abs=EXACT_TOL)
    assert m.nc2_cos_max_dev == pytest.approx(0.0, abs=EXACT_TOL)
    assert m.nc3 == pytest.approx(0.0, abs=EXACT_TOL)
    assert m.nc4 == 1.0
    mu_G, M = deep.class_means(H, labels)
    np.testing.assert_allclose(mu_G, shift, atol=EXACT_TOL)
    Mn = M / np.linalg.norm(M, axis=1, keepdims=True)
    np.testing.assert_allclose((Mn @ Mn.T)[~np.eye(C, dtype=bool)], -1 / (C - 1), atol=EXACT_TOL)


def test_nc1_matches_a_naive_computation_and_detects_spread():
    rng = np.random.default_rng(1)
    C, p = 4, 6
    labels = np.repeat(np.arange(C), [5, 6, 7, 8])
    H = 3 * rng.standard_normal((C, p))[labels] + rng.standard_normal((len(labels), p))
    mu_G = H.mean(0)
    Sw = sum(np.outer(h - H[labels == y].mean(0), h - H[labels == y].mean(0)) for h, y in zip(H, labels, strict=True))
    Sb = sum(np.outer(H[labels == k].mean(0) - mu_G, H[labels == k].mean(0) - mu_G) for k in range(C)) / C
    expected = np.trace(Sw / len(H) @ np.linalg.pinv(Sb)) / C
    m = deep.neural_collapse_metrics(H, labels)
    assert m.nc1 == pytest.approx(expected, rel=1e-9)
    assert m.nc1 > 0.01 and np.isnan(m.nc3) and np.isnan(m.nc4)
    rotated = deep.neural_collapse_metrics(H @ np.linalg.qr(rng.standard_normal((p, p)))[0], labels)
    assert rotated.nc1 == pytest.approx(m.nc1, rel=1e-9)  # invariant under rotations of feature space
    assert rotated.nc2_cos_std == pytest.approx(m.nc2_cos_std, rel=1e-9)


def test_bn_classifier_is_seeded_and_collapses_on_a_small_problem():
    X, labels = load_digits_balanced(8, n_classes=3, seed=0)
    a = deep.train_bn_relu_classifier(X, labels, width=16, beta=1.0, epochs=150, seed=2, n_records=4)
    b = deep.train_bn_relu_classifier(X, labels, width=16, beta=1.0, epochs=150, seed=2, n_records=4)
    np.testing.assert_array_equal(a.features, b.features)
    assert a.history[0]["epoch"] == 0 and a.history[-1]["epoch"] == 150
    assert a.features.shape == (24, 16) and a.classifier.shape == (3, 16)
    final = deep.neural_collapse_metrics(a.features, labels, classifier=a.classifier, predictions=a.predictions)
    assert final.nc1 == pytest.approx(a.history[-1]["nc1"], rel=1e-9)
    assert a.history[-1]["nc1"] < a.history[0]["nc1"] / 10
    assert a.history[-1]["train_accuracy"] == 1.0
    relu = deep.train_bn_relu_classifier(X, labels, width=16, epochs=5, seed=2, n_records=2, relu_after_bn=True)
    assert np.all(relu.features >= 0)  # features taken after BN and ReLU


@pytest.mark.parametrize("beta", [0.5, 3.0, 100.0])
def test_bn_collapse_optimum_matches_the_nuclear_norm_program(beta):
    labels = np.repeat(np.arange(4), [3, 5, 4, 6])  # unbalanced: distinct singular values
    n = labels.size
    Yc = np.eye(4)[labels] - np.eye(4)[labels].mean(0)
    G = cp.Variable(Yc.shape)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(G - Yc) + beta / np.sqrt(n) * cp.normNuc(G)))
    problem.solve(solver="CLARABEL")
    opt = deep.bn_collapse_optimum(labels, beta)
    assert opt.objective == pytest.approx(problem.value, rel=CVXPY_RTOL)
    np.testing.assert_allclose(opt.outputs - np.eye(4)[labels].mean(0), G.value, atol=CVXPY_ZTOL)


@pytest.mark.parametrize("C", [3, 10])
def test_bn_collapse_optimum_predicts_a_simplex_etf_for_balanced_classes(C):
    labels = np.repeat(np.arange(C), 6)
    opt = deep.bn_collapse_optimum(labels, 1.0)
    off = opt.class_mean_cosines[~np.eye(C, dtype=bool)]
    np.testing.assert_allclose(off, -1 / (C - 1), atol=EXACT_TOL)
    np.testing.assert_allclose(opt.singular_values[: C - 1], np.sqrt(6.0), rtol=1e-12)
    assert opt.singular_values[C - 1] == 0.0


def test_bn_collapse_bound_lies_below_every_trained_network():
    X, labels = load_digits_balanced(8, n_classes=3, seed=0)
    beta = 1.0
    bound = deep.bn_collapse_optimum(labels, beta).objective
    for seed, epochs in [(0, 1), (1, 20), (2, 200)]:
        run = deep.train_bn_relu_classifier(X, labels, width=12, beta=beta, epochs=epochs, seed=seed, n_records=3)
        assert all(h["objective"] >= bound for h in run.history)


def test_deep_relu_history_is_the_objective_of_the_returned_network():
    x = np.linspace(-1, 1, 6)[:, None]
    y = np.sin(3 * x[:, 0])
    run = deep.train_deep_relu(x, y, depth=3, width=8, beta=1e-2, epochs=30, seed=0)
    net = run.net
    value = 0.5 * np.sum((net.predict(x) - y) ** 2) + 1e-2 * net.weight_decay()
    assert run.history[-1] == pytest.approx(value, rel=1e-12)
    assert len(net.weights) == 3 and net.weights[-1].shape == (8, 1)


def test_slope_changes_finds_the_kinks_of_a_piecewise_linear_function():
    x = np.linspace(-1, 1, 2001)
    knots = np.array([-0.5003, 0.1, 0.6217])
    f = 0.3 * x + np.maximum(x - knots[0], 0) - 2 * np.maximum(x - knots[1], 0) + 0.5 * np.maximum(x - knots[2], 0)
    found = deep.slope_changes(x, f, atol=1e-6)
    assert found.shape == (3,)
    np.testing.assert_allclose(found, knots, atol=2 * (x[1] - x[0]))
    assert deep.slope_changes(x, 2 * x + 1).size == 0


# ---------------------------------------------------------------------------------------------- bad input


def test_bad_inputs_raise_named_errors(whitened):
    X, Y = whitened
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="whitened"):
        deep.two_layer_linear_optimum(rng.standard_normal((12, 4)), Y, 0.1)
    with pytest.raises(ValueError, match="n = 3 < d = 4"):
        deep.deep_linear_optimum(rng.standard_normal((3, 4)), Y[:3], 0.1)
    with pytest.raises(ValueError, match="beta"):
        deep.two_layer_linear_optimum(X, Y, -1.0)
    with pytest.raises(ValueError, match="n_layers"):
        deep.deep_linear_optimum(X, Y, 0.1, n_layers=1)
    with pytest.raises(ValueError, match="Y has 11 rows"):
        deep.deep_linear_optimum(X, Y[:11], 0.1)
    with pytest.raises(ValueError, match="chain"):
        deep.deep_linear_objective(X, Y, [np.ones((4, 3)), np.ones((2, 5))], 0.1)
    with pytest.raises(TypeError, match="weights"):
        deep.layer_alignment(np.ones((3, 3)))
    with pytest.raises(TypeError, match="betas"):
        deep.train_deep_linear_sweep(X, Y, 0.1)
    with pytest.raises(ValueError, match="lr"):
        deep.train_deep_linear(X, Y, 0.1, lr=-1.0)
    with pytest.raises(FloatingPointError, match="lower lr"):
        deep.train_deep_linear(X, 100 * Y, 0.1, lr=10.0, steps=50)
    with pytest.raises(ValueError, match="rank"):
        deep.whiten_columns(np.ones((5, 2)))
    with pytest.raises(ValueError, match="zero matrix"):
        deep.stable_rank(np.zeros((2, 2)))
    H = rng.standard_normal((6, 3))
    with pytest.raises(ValueError, match="labels"):
        deep.neural_collapse_metrics(H, np.array([0, 0, 2, 2, 0, 2]))  # class 1 missing
    with pytest.raises(TypeError, match="labels"):
        deep.neural_collapse_metrics(H, np.array([0.0, 1.0, 0.0, 1.0, 0.0, 1.0]))
    with pytest.raises(ValueError, match="classifier"):
        deep.neural_collapse_metrics(H, np.array([0, 1, 0, 1, 0, 1]), classifier=np.ones((3, 3)))
    with pytest.raises(ValueError, match="dim"):
        deep.simplex_etf(5, 3)
    with pytest.raises(ValueError, match="labels"):
        deep.bn_collapse_optimum(np.zeros((3, 2), dtype=int), 1.0)
    with pytest.raises(ValueError, match="lr_schedule"):
        deep.train_deep_relu(np.ones((3, 1)), np.ones(3), lr_schedule="step")
    with pytest.raises(ValueError, match="depth"):
        deep.train_bn_relu_classifier(H, np.array([0, 1, 0, 1, 0, 1]), depth=1)
    with pytest.raises(ValueError, match="n_per_class"):
        load_digits_balanced(500)
    with pytest.raises(ValueError, match="n >= d >= k"):
        whitened_linear_regression(3, [1.0, 0.5], d=4)

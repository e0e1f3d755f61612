"""Arc-cosine kernels and the NTK of two-layer ReLU networks: closed forms against explicit constructions.

Monte Carlo tolerances. Every closed form here is the mean of i.i.d. terms (one per Gaussian draw ``w``
or per neuron); its estimate from ``M`` terms has standard error ``sigma / sqrt(M)``, where ``sigma`` is
the standard deviation of one term, estimated from the same draws. The tests allow ``MC_SIGMAS = 5``
standard errors on every entry (a two-sided 5-sigma excursion has probability ``6e-7`` per entry; the
draws are seeded, so the outcome is fixed). The same argument gives the ``O(1/sqrt(m))`` deviation of
the finite-width NTK from its limit.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core.datasets import add_intercept
from cvxnn_core.kernels import (
    arccos_kernel,
    empirical_ntk,
    kernel_gradient_descent,
    kernel_regression,
    lazy_gradient_descent,
    ntk_jacobian,
    ntk_network,
    ntk_two_layer,
)

MC_SIGMAS = 5.0  # allowed Monte Carlo error, in standard errors sigma_hat / sqrt(M)
EXACT_RTOL = 1e-12  # identities that hold up to rounding
FD_RTOL = 1e-6  # central finite differences, step 1e-6, of a piecewise-linear function away from its kinks


@pytest.fixture(scope="module")
def inputs() -> tuple[np.ndarray, np.ndarray]:
    """Five and four points in R^3 with varied norms and angles (one pair of exactly opposite points)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3)) * np.array([[0.5], [1.0], [2.0], [1.0], [1.5]])
    Z = np.vstack([rng.standard_normal((3, 3)), -X[1]])
    return X, Z


@pytest.fixture(scope="module")
def line_data() -> tuple[np.ndarray, np.ndarray]:
    """Eight 1-D points with an intercept column, ``(x, 1)``, and smooth targets."""
    x = np.linspace(-1.0, 1.0, 8) + np.random.default_rng(1).uniform(-0.05, 0.05, 8)
    return add_intercept(x[:, None]), np.sin(3.0 * x)


def _mc_check(estimate: np.ndarray, second_moment: np.ndarray, M: int, exact: np.ndarray) -> None:
    sigma = np.sqrt(np.maximum(second_moment - estimate**2, 0.0))
    err = np.abs(estimate - exact)
    assert np.all(err <= MC_SIGMAS * sigma / np.sqrt(M) + 1e-12), (err, sigma / np.sqrt(M))


@pytest.mark.parametrize("degree", [0, 1])
def test_arccos_kernel_is_twice_the_gaussian_expectation(inputs, degree):
    X, Z = inputs
    M = 200_000
    w = np.random.default_rng(2).standard_normal((M, 3))
    px, pz = X @ w.T, Z @ w.T  # (n, M)
    tx, tz = (px > 0) * px**degree, (pz > 0) * pz**degree
    estimate = 2.0 * tx @ tz.T / M
    second = 4.0 * (tx**2) @ (tz**2).T / M
    _mc_check(estimate, second, M, arccos_kernel(X, Z, degree))


def test_arccos_kernel_special_values(inputs):
    X, _ = inputs
    norms = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(np.diag(arccos_kernel(X, X, 0)), 1.0, rtol=EXACT_RTOL)
    np.testing.assert_allclose(np.diag(arccos_kernel(X, X, 1)), norms**2, rtol=EXACT_RTOL)
    np.testing.assert_allclose(arccos_kernel(X, -X, 0).diagonal(), 0.0, atol=1e-7)  # theta = pi
    np.testing.assert_allclose(arccos_kernel(X, -X, 1).diagonal(), 0.0, atol=1e-7)
    e1, e2 = np.eye(3)[:1], np.eye(3)[1:2] * 2.0  # orthogonal: k_0 = 1/2, k_1 = ||x|| ||z|| / pi
    assert arccos_kernel(e1, e2, 0)[0, 0] == pytest.approx(0.5, rel=EXACT_RTOL)
    assert arccos_kernel(e1, e2, 1)[0, 0] == pytest.approx(2.0 / np.pi, rel=EXACT_RTOL)


def test_ntk_is_the_sum_of_its_layers_and_equals_squared_norm_on_the_diagonal(inputs):
    X, Z = inputs
    both = ntk_two_layer(X, Z)
    np.testing.assert_allclose(both, ntk_two_layer(X, Z, layers="first") + ntk_two_layer(X, Z, layers="second"))
    # K(x, x) = ||x||^2 k_0 / 2 + k_1 / 2 = ||x||^2
    np.testing.assert_allclose(np.diag(ntk_two_layer(X, X)), np.sum(X**2, axis=1), rtol=EXACT_RTOL)


@pytest.mark.parametrize("layers", ["both", "first", "second"])
def test_ntk_matrices_are_symmetric_and_positive_semidefinite(inputs, line_data, layers):
    X, Z = inputs
    np.testing.assert_allclose(ntk_two_layer(X, Z, layers=layers), ntk_two_layer(Z, X, layers=layers).T, rtol=0)
    for data in (np.vstack([X, Z]), line_data[0]):
        K = ntk_two_layer(data, data, layers=layers)
        np.testing.assert_array_equal(K, K.T)
        eig = np.linalg.eigvalsh(K)
        assert eig[0] >= -1e-12 * eig[-1]
    # distinct, pairwise non-parallel inputs (x, 1): the kernel matrix is positive definite
    eig = np.linalg.eigvalsh(ntk_two_layer(line_data[0], line_data[0]))
    assert eig[0] > 1e-6 * eig[-1]


def _per_neuron_terms(X, Z, W1, a, layers):
    """The ``m`` i.i.d. terms whose mean is the empirical NTK entry, built neuron by neuron (naive)."""
    px, pz = X @ W1.T, Z @ W1.T  # (n, m)
    terms = np.zeros((X.shape[0], Z.shape[0], W1.shape[0]))
    if layers in ("both", "first"):
        terms += (a**2)[None, None, :] * (px > 0)[:, None, :] * (pz > 0)[None, :, :] * (X @ Z.T)[:, :, None]
    if layers in ("both", "second"):
        terms += np.maximum(px, 0.0)[:, None, :] * np.maximum(pz, 0.0)[None, :, :]
    return terms


@pytest.mark.parametrize("layers", ["both", "first", "second"])
def test_empirical_ntk_converges_to_the_closed_form_at_rate_one_over_sqrt_width(inputs, layers):
    X, Z = inputs
    m = 100_000
    rng = np.random.default_rng(3)
    W1, a = rng.standard_normal((m, 3)), rng.standard_normal(m)
    K_emp = empirical_ntk(X, Z, W1, a, layers=layers)
    terms = _per_neuron_terms(X, Z, W1, a, layers)
    np.testing.assert_allclose(K_emp, terms.mean(axis=2), rtol=1e-10)  # Jacobian product == naive average
    _mc_check(K_emp, np.mean(terms**2, axis=2), m, ntk_two_layer(X, Z, layers=layers))


def test_ntk_jacobian_matches_finite_differences(inputs):
    X, _ = inputs
    rng = np.random.default_rng(4)
    W1, a = rng.standard_normal((7, 3)), rng.standard_normal(7)
    J = ntk_jacobian(X, W1, a)
    theta = np.concatenate([W1.ravel(), a])
    h = 1e-6
    fd = np.empty_like(J)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = h
        plus, minus = theta + e, theta - e
        fd[:, k] = (
            ntk_network(X, plus[:21].reshape(7, 3), plus[21:]) - ntk_network(X, minus[:21].reshape(7, 3), minus[21:])
        ) / (2 * h)
    np.testing.assert_allclose(J, fd, rtol=FD_RTOL, atol=FD_RTOL * np.abs(J).max())
    assert ntk_jacobian(X, W1, a, layers="first").shape == (5, 21)
    np.testing.assert_array_equal(ntk_jacobian(X, W1, a, layers="second"), J[:, 21:])


def test_kernel_regression_interpolates_and_matches_the_explicit_solution(line_data):
    X, y = line_data
    K = ntk_two_layer(X, X)
    np.testing.assert_allclose(kernel_regression(K, y, K), y, rtol=1e-8, atol=1e-8 * np.abs(y).max())
    grid = add_intercept(np.linspace(-1.2, 1.2, 11)[:, None])
    Kg = ntk_two_layer(grid, X)
    np.testing.assert_allclose(kernel_regression(K, y, Kg), Kg @ np.linalg.solve(K, y), rtol=1e-8, atol=1e-10)
    ridge = 0.3
    np.testing.assert_allclose(
        kernel_regression(K, y, Kg, ridge=ridge), Kg @ np.linalg.solve(K + ridge * np.eye(len(y)), y), rtol=1e-12
    )


def test_kernel_gradient_descent_tends_to_the_interpolant(line_data):
    X, y = line_data
    K = ntk_two_layer(X, X)
    grid = add_intercept(np.linspace(-1.2, 1.2, 11)[:, None])
    Kg = ntk_two_layer(grid, X)
    lr = 1.0 / np.linalg.eigvalsh(K)[-1]
    f_1 = kernel_gradient_descent(K, y, K, lr=lr, steps=1)
    np.testing.assert_allclose(f_1, lr * K @ y, rtol=1e-10)  # one step from f = 0
    np.testing.assert_allclose(
        kernel_gradient_descent(K, y, K, lr=1.5 * lr, steps=7),  # 1 - lr lambda < 0 for the top eigenvalue
        y - np.linalg.matrix_power(np.eye(len(y)) - 1.5 * lr * K, 7) @ y,
        rtol=1e-10,
        atol=1e-12,
    )
    gaps = [
        np.abs(kernel_gradient_descent(K, y, Kg, lr=lr, steps=T) - kernel_regression(K, y, Kg)).max()
        for T in (10, 1000, 10**7)
    ]
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] <= 1e-8


def test_kernel_regression_handles_a_singular_kernel_matrix(line_data):
    X, y = line_data
    Xd = np.vstack([X, X[2:3]])  # a repeated input: K is singular
    K = ntk_two_layer(Xd, Xd)
    assert np.linalg.matrix_rank(K) == len(y)
    consistent = np.append(y, y[2])
    np.testing.assert_allclose(kernel_regression(K, consistent, K), consistent, atol=1e-8)
    clash = np.append(y, y[2] + 1.0)  # two targets for one input: least squares gives their mean
    pred = kernel_regression(K, clash, K)
    np.testing.assert_allclose(pred[[2, -1]], y[2] + 0.5, atol=1e-8)
    np.testing.assert_allclose(pred, K @ np.linalg.pinv(K) @ clash, atol=1e-8)


def test_second_layer_gradient_descent_is_exactly_kernel_gradient_descent(line_data):
    """Training only ``a`` is linear regression on random features: f_T = (I - (I - lr K0)^T) y exactly."""
    X, y = line_data
    steps = 50
    res = lazy_gradient_descent(X, y, 64, steps=steps, seed=5, layers="second")
    np.testing.assert_array_equal(res.W1, res.W1_init)
    K0 = empirical_ntk(X, X, res.W1_init, res.a_init, layers="second")
    f_T = y - np.linalg.matrix_power(np.eye(len(y)) - res.lr * K0, steps) @ y
    np.testing.assert_allclose(res.predict(X), f_T, rtol=1e-10, atol=1e-12)
    grid = add_intercept(np.linspace(-1.5, 1.5, 7)[:, None])
    K0_grid = empirical_ntk(grid, X, res.W1_init, res.a_init, layers="second")
    np.testing.assert_allclose(
        res.predict(grid), kernel_gradient_descent(K0, y, K0_grid, lr=res.lr, steps=steps), rtol=1e-9, atol=1e-12
    )
    assert res.history[0] == pytest.approx(0.5 * np.sum(y**2), rel=EXACT_RTOL)  # antisymmetric init: f = 0


def test_wide_lazy_gradient_descent_follows_the_initial_kernel(line_data):
    """At width m the weights move by O(1/sqrt(m)) and the network follows kernel GD with its initial NTK."""
    X, y = line_data
    steps = 30
    moves, gaps = [], []
    for m in (1024, 16384):
        res = lazy_gradient_descent(X, y, m, steps=steps, seed=6)
        K0 = empirical_ntk(X, X, res.W1_init, res.a_init)
        f_T = y - np.linalg.matrix_power(np.eye(len(y)) - res.lr * K0, steps) @ y
        moves.append(res.relative_movement)
        gaps.append(np.abs(res.predict(X) - f_T).max())
        assert np.all(np.diff(res.history) <= 1e-12)
    # relative movement ~ 1/sqrt(m): 16x the width gives about 1/4 (Monte Carlo: allow 1/8 .. 1/2)
    assert moves[1] / moves[0] == pytest.approx(0.25, abs=0.13)
    assert gaps[1] < gaps[0]
    assert gaps[1] <= 0.02 * np.abs(y).max()
    first = lazy_gradient_descent(X, y, 16, steps=5, seed=6, layers="first")
    np.testing.assert_array_equal(first.a, first.a_init)


def test_bad_inputs_raise_clear_errors(inputs, line_data):
    X, Z = inputs
    with pytest.raises(ValueError, match="degree"):
        arccos_kernel(X, Z, 2)
    with pytest.raises(ValueError, match="layers"):
        ntk_two_layer(X, Z, layers="third")
    with pytest.raises(ValueError, match="columns"):
        ntk_two_layer(X, Z[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        ntk_two_layer(np.full((2, 3), np.nan), Z)
    K = ntk_two_layer(X, X)
    y = np.ones(5)
    with pytest.raises(ValueError, match="square"):
        kernel_regression(K[:, :4], y, K)
    with pytest.raises(ValueError, match="symmetric"):
        kernel_regression(K + np.triu(np.ones((5, 5)), 1), y, K)
    with pytest.raises(ValueError, match="K_test"):
        kernel_regression(K, y, K[:, :4])
    with pytest.raises(ValueError, match="ridge"):
        kernel_regression(K, y, K, ridge=-1.0)
    with pytest.raises(ValueError, match="lr"):
        kernel_gradient_descent(K, y, K, lr=0.0, steps=3)
    with pytest.raises(ValueError, match="steps"):
        kernel_gradient_descent(K, y, K, lr=0.1, steps=0)
    with pytest.raises(ValueError, match="rows"):
        kernel_regression(K, np.ones(4), K)
    W1, a = np.ones((4, 3)), np.ones(4)
    with pytest.raises(ValueError, match="W1"):
        empirical_ntk(X, Z, W1[:, :2], a)
    with pytest.raises(ValueError, match="a has 3 rows"):
        ntk_network(X, W1, a[:3])
    Xl, yl = line_data
    with pytest.raises(ValueError, match="even"):
        lazy_gradient_descent(Xl, yl, 5, steps=1)
    with pytest.raises(ValueError, match="lr"):
        lazy_gradient_descent(Xl, yl, 4, steps=1, lr=-0.1)
    with pytest.raises(ValueError, match="steps"):
        lazy_gradient_descent(Xl, yl, 4, steps=0)

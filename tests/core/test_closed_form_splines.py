"""One-dimensional data (ReLU networks are linear splines) and rank-one data: closed forms vs the convex solver.

Setting of the 1-D tests: ``x`` sorted in ``[-1, 1]``, ``X = [x, 1]`` and biases not penalised
(``free_bias=True``), so the convex program over the complete arrangement is exactly the ramp Lasso.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core.closed_form import rank_one_relu
from cvxnn_core.datasets import add_intercept, one_dimensional
from cvxnn_core.patterns import enumerate_patterns
from cvxnn_core.programs import solve_relu
from cvxnn_core.recovery import TwoLayerNet, nonconvex_objective, relu_network
from cvxnn_core.splines import kink_positions, min_norm_spline, ramp_lasso

RTOL_OPT = 1e-6  # optima of two exact methods (interior point at tolerance 1e-10, closed form / polished Lasso)


def _data(n: int = 12, seed: int = 3, noise: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    x, y = one_dimensional(n, kind="sine", noise=noise, seed=seed)
    return x, y


def _path_norm(net: TwoLayerNet) -> float:
    return float(np.sum(np.linalg.norm(net.penalized_W1(), axis=1) * np.abs(net.w2)))


@pytest.fixture(scope="module")
def data_1d():
    x, y = _data()
    X = add_intercept(x)
    return x, y, X, enumerate_patterns(X)


@pytest.mark.parametrize("beta", [0.3, 0.03, 0.003])
def test_ramp_lasso_equals_convex_program_with_free_bias(data_1d, beta):
    x, y, X, D = data_1d
    ramp = ramp_lasso(x, y, beta)
    convex = solve_relu(X, y, beta, D, free_bias=True)
    assert ramp.polished
    assert abs(ramp.objective - convex.objective) <= RTOL_OPT * convex.objective
    # The ramp network is a real free-bias network attaining the ramp objective ...
    assert ramp.net.free_bias
    assert nonconvex_objective(X, y, ramp.net, beta) == pytest.approx(ramp.objective, rel=1e-12)
    # ... and the optimal fit on the data is unique (strictly convex loss), whatever the kinks.
    np.testing.assert_allclose(ramp.net.predict(X), relu_network(convex).predict(X), atol=1e-4)


def test_ramp_network_kinks_are_data_points(data_1d):
    x, y, _, _ = data_1d
    ramp = ramp_lasso(x, y, 0.01)
    kinks = kink_positions(ramp.net)
    assert kinks.size == np.count_nonzero(ramp.right) + np.count_nonzero(ramp.left) > 0
    assert np.max(np.min(np.abs(kinks[:, None] - x[:, 0][None, :]), axis=1)) <= 1e-12
    assert ramp.right[-1] == 0 and ramp.left[0] == 0


def test_kink_positions_of_explicit_network():
    # 2 (x - 0.5)_+ - 3 (-(x + 0.25))_+ and a flat neuron (no kink).
    net = TwoLayerNet(W1=[[1.0, -0.5], [-1.0, -0.25], [0.0, 1.0]], w2=[2.0, -3.0, 1.0], b2=0.2, free_bias=True)
    np.testing.assert_allclose(kink_positions(net), [-0.25, 0.5], rtol=0, atol=1e-15)


def test_penalised_bias_restriction_is_an_upper_bound(data_1d):
    x, y, X, D = data_1d
    beta = 0.03
    restricted = ramp_lasso(x, y, beta, free_bias=False)
    optimum = solve_relu(X, y, beta, D).objective
    assert not restricted.net.free_bias
    assert nonconvex_objective(X, y, restricted.net, beta) == pytest.approx(restricted.objective, rel=1e-9)
    assert restricted.objective >= optimum * (1 - RTOL_OPT)


def test_min_norm_spline_interpolates_with_the_minimal_path_norm(data_1d):
    import cvxpy as cp

    x, y, X, _ = data_1d
    spline = min_norm_spline(x, y)
    np.testing.assert_allclose(spline.predict(X), y, rtol=0, atol=1e-12)
    # Closed-form value R* = max(TV, (TV + |s_1 + s_{K-1}|) / 2).
    s = np.diff(y) / np.diff(x[:, 0])
    tv = np.sum(np.abs(np.diff(s)))
    r_star = max(tv, 0.5 * (tv + abs(s[0] + s[-1])))
    assert _path_norm(spline) == pytest.approx(r_star, rel=1e-12)
    # Minimal l1 interpolation over every ramp with a kink at a data point (which spans all networks on the data).
    t = x[:, 0]
    M = np.hstack([np.maximum(t[:, None] - t[None, :-1], 0), np.maximum(t[None, 1:] - t[:, None], 0)])
    c, a = cp.Variable(M.shape[1]), cp.Variable()
    lp = cp.Problem(cp.Minimize(cp.norm1(c)), [a + M @ c == y])
    lp.solve(solver="CLARABEL")
    assert r_star == pytest.approx(lp.value, rel=RTOL_OPT)


def test_min_norm_spline_is_the_small_beta_limit_on_the_data_hull(data_1d):
    x, y, _, _ = data_1d
    spline = min_norm_spline(x, y)
    grid = add_intercept(np.linspace(x.min(), x.max(), 401)[:, None])
    gaps = []
    for beta in (1e-3, 1e-4, 1e-5):
        ramp = ramp_lasso(x, y, beta)
        gaps.append(np.max(np.abs(ramp.net.predict(grid) - spline.predict(grid))))
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] <= 1e-3
    assert _path_norm(ramp_lasso(x, y, 1e-6).net) == pytest.approx(_path_norm(spline), rel=1e-3)


def test_min_norm_spline_end_slopes():
    # Data on a line: R* = |slope| with the end slopes halved (f = 1 + 2 x on the data, kinks at both ends).
    x = np.array([-1.0, 0.0, 0.5, 2.0])
    spline = min_norm_spline(x, 1 + 2 * x)
    assert _path_norm(spline) == pytest.approx(2.0, rel=1e-12)
    far = add_intercept(np.array([[-3.0], [-2.0], [3.0], [4.0]]))
    f = spline.predict(far)
    assert f[1] - f[0] == pytest.approx(1.0) and f[3] - f[2] == pytest.approx(1.0)
    # A bump: |s_1 + s_{K-1}| <= TV, so the extrapolation is linear.
    x = np.array([-1.0, 0.0, 1.0])
    spline = min_norm_spline(x, np.array([0.0, 1.0, 0.0]))
    f = spline.predict(add_intercept(np.array([[-2.0], [2.0]])))
    np.testing.assert_allclose(f, [-1.0, -1.0], atol=1e-12)
    assert _path_norm(spline) == pytest.approx(2.0, rel=1e-12)


@pytest.mark.parametrize("beta", [0.01, 0.3, 2.0, 50.0])
def test_rank_one_closed_form_matches_solver(beta):
    rng = np.random.default_rng(7)
    n, d = 14, 3
    c, a = rng.standard_normal(n), rng.standard_normal(d)
    y = 1.5 * np.maximum(c, 0) - 0.7 * np.maximum(-c, 0) + 0.3 * rng.standard_normal(n)
    X = np.outer(c, a)
    sol = rank_one_relu(c, a, y, beta)
    convex = solve_relu(X, y, beta, enumerate_patterns(X))
    assert abs(sol.objective - convex.objective) <= RTOL_OPT * convex.objective
    assert nonconvex_objective(X, y, sol.net, beta) == pytest.approx(sol.objective, rel=1e-12)
    assert sol.net.width <= 2
    if sol.net.width:
        cosines = sol.net.W1 @ a / (np.linalg.norm(sol.net.W1, axis=1) * np.linalg.norm(a))
        np.testing.assert_allclose(np.abs(cosines), 1.0, atol=1e-12)


def test_rank_one_one_signed_c():
    c = np.array([0.5, 1.0, 2.0])
    sol = rank_one_relu(c, np.array([3.0, 4.0]), np.array([1.0, 2.0, 3.0]), 0.5)
    assert sol.gamma == 0.0 and sol.net.width == 1
    # alpha = (c^T y - beta / ||a||) / ||c||^2
    assert sol.alpha == pytest.approx((c @ [1.0, 2.0, 3.0] - 0.1) / (c @ c))


def test_bad_input_errors():
    x, y = _data()
    with pytest.raises(ValueError, match="x must hold one-dimensional inputs"):
        ramp_lasso(add_intercept(x), y, 0.1)
    with pytest.raises(ValueError, match="two distinct values"):
        ramp_lasso(np.ones(5), np.arange(5.0), 0.1)
    with pytest.raises(ValueError, match="beta"):
        ramp_lasso(x, y, -1.0)
    with pytest.raises(ValueError, match="y has 11 rows"):
        ramp_lasso(x, y[:-1], 0.1)
    with pytest.raises(ValueError, match="NaN"):
        min_norm_spline(np.array([0.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="no function interpolates"):
        min_norm_spline(np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0, 0.0]))
    with pytest.raises(ValueError, match="a must be non-zero"):
        rank_one_relu(np.ones(3), np.zeros(2), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="c must be"):
        rank_one_relu(np.ones((3, 2)), np.ones(2), np.ones(3), 0.1)
    with pytest.raises(ValueError, match="W1 of shape"):
        kink_positions(TwoLayerNet(W1=np.ones((2, 3)), w2=np.ones(2)))
    with pytest.raises(TypeError, match="TwoLayerNet"):
        kink_positions(np.ones((2, 2)))

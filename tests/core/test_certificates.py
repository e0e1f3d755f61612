"""Duality certificates: the exact cone support, weak duality, and zero gap at the convex optimum.

The lower bound of a certificate over the complete arrangement must never exceed the global optimum
(the convex optimum over ``enumerate_patterns``) whatever network it is computed from.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from cvxnn_core.certificates import (
    certify,
    certify_convex,
    cone_support,
    dual_certificate,
)
from cvxnn_core.losses import dual_value, loss_value
from cvxnn_core.nonconvex import train_two_layer
from cvxnn_core.patterns import merge_patterns
from cvxnn_core.programs import solve_relu
from cvxnn_core.recovery import TwoLayerNet, relu_network

SUPPORT_RTOL = 1e-7  # NNLS cone support vs cvxpy SOCP, relative to ||g_i|| = ||X^T D_i lambda||
GAP_TOL = 1e-6  # relative duality gap at the convex optimum
BOUND_RTOL = 1e-9  # slack on "lower bound <= convex optimum"
MAX_VIOLATION_TOL = 1e-6  # |max_violation - 1| at the optimum (KKT: active neurons attain beta)
SOCP_SOLVER_OPTIONS = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}
RANDOM_NET_SEEDS = (0, 1, 2, 3, 4)


def _socp_support(X: np.ndarray, d_col: np.ndarray, g: np.ndarray) -> float:
    """``max |g^T u|`` over ``(2 D - I) X u >= 0``, ``||u|| <= 1``, solved by cvxpy (both signs)."""
    u = cp.Variable(X.shape[1])
    cons = [cp.multiply(2.0 * d_col - 1.0, X @ u) >= 0, cp.norm(u, 2) <= 1]
    best = 0.0
    for sign in (1.0, -1.0):
        prob = cp.Problem(cp.Maximize(sign * g @ u), cons)
        prob.solve(solver="CLARABEL", **SOCP_SOLVER_OPTIONS)
        assert prob.status == cp.OPTIMAL, prob.status
        best = max(best, float(prob.value))
    return best


def _random_net(d: int, width: int, seed: int) -> TwoLayerNet:
    rng = np.random.default_rng(seed)
    scale = rng.uniform(0.1, 2.0)
    return TwoLayerNet(W1=scale * rng.standard_normal((width, d)), w2=scale * rng.standard_normal(width))


@pytest.mark.parametrize("lam_kind", ["random", "squared_residual"])
def test_cone_support_equals_cvxpy_socp_per_pattern(regression, full_patterns, relu_squared_full, lam_kind):
    X = regression.X
    if lam_kind == "random":
        lam = np.random.default_rng(0).standard_normal(X.shape[0])
    else:
        lam = regression.y - relu_squared_full.predict(X)
    cols = np.random.default_rng(1).choice(full_patterns.shape[1], size=25, replace=False)
    D = full_patterns[:, cols]
    exact = cone_support(X, D, lam)
    for i in range(D.shape[1]):
        g = X.T @ (D[:, i] * lam)
        ref = _socp_support(X, D[:, i], g)
        tol = SUPPORT_RTOL * max(np.linalg.norm(g), 1e-12)
        assert abs(exact[i] - ref) <= tol, f"pattern {cols[i]}: NNLS {exact[i]!r} vs SOCP {ref!r}"


def test_cone_free_support_is_an_upper_bound_on_the_exact_support(regression, full_patterns):
    lam = np.random.default_rng(2).standard_normal(regression.X.shape[0])
    exact = cone_support(regression.X, full_patterns, lam)
    free = cone_support(regression.X, full_patterns, lam, method="cone_free")
    assert np.all(exact >= 0)
    assert np.all(free >= exact * (1 - 1e-12)), "||g|| must bound the support over any cone"
    assert np.any(free > exact * (1 + 1e-3)), "the cone restriction should matter for some pattern"


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_dual_value_is_a_lower_bound_on_loss_plus_linear_term(loss, binary, regression):
    """Weak duality of the loss: ``l(f) + lambda^T f >= -l^*(-lambda)`` for every ``f`` and feasible ``lambda``."""
    y = regression.y if loss == "squared" else binary.y
    rng = np.random.default_rng(3)
    for _ in range(50):
        f = 3.0 * rng.standard_normal(y.shape[0])
        lam = rng.standard_normal(y.shape[0]) if loss == "squared" else y * rng.uniform(0.0, 1.0, y.shape[0])
        assert loss_value(f, y, loss) + lam @ f >= dual_value(lam, y, loss) - 1e-12
    if loss != "squared":
        assert dual_value(2.0 * y, y, loss) == -np.inf, "lambda_j y_j > 1 lies outside the dual domain"


@pytest.mark.parametrize("fixture", ["relu_squared_full", "relu_hinge_full"])
def test_certify_convex_on_the_complete_arrangement_is_exact_with_zero_gap(request, regression, binary, fixture):
    result = request.getfixturevalue(fixture)
    data = regression if result.loss == "squared" else binary
    cert = certify_convex(data.X, data.y, result)
    assert cert.exact
    assert abs(cert.gap) <= GAP_TOL, f"{result.loss}: relative gap {cert.gap:.2e} > {GAP_TOL}"
    assert cert.lower_bound <= result.objective * (1 + BOUND_RTOL)
    assert cert.violating.shape == (data.X.shape[0], 0), "no pattern may violate the dual constraint at the optimum"
    assert abs(cert.max_violation - 1.0) <= MAX_VIOLATION_TOL, f"max_violation {cert.max_violation!r}"
    assert cert.n_patterns == result.patterns.shape[1]
    assert "global" in str(cert)


@pytest.mark.parametrize("fixture", ["relu_squared_full", "relu_hinge_full"])
def test_certify_recovered_network_with_solver_dual_has_zero_gap(request, regression, binary, fixture):
    result = request.getfixturevalue(fixture)
    data = regression if result.loss == "squared" else binary
    cert = certify(data.X, data.y, relu_network(result), result.beta, loss=result.loss, dual=result.dual)
    assert cert.exact
    assert abs(cert.gap) <= GAP_TOL, f"{result.loss}: relative gap {cert.gap:.2e} > {GAP_TOL}"


def test_certify_with_explicit_complete_patterns_is_exact(regression, full_patterns, relu_squared_full):
    net = relu_network(relu_squared_full)
    given = certify(regression.X, regression.y, net, regression.beta, full_patterns, dual=relu_squared_full.dual)
    default = certify(regression.X, regression.y, net, regression.beta, dual=relu_squared_full.dual)
    assert given.exact
    assert given.lower_bound == pytest.approx(default.lower_bound, rel=1e-12)


def test_certificate_over_a_strict_subset_of_patterns_is_not_exact(regression, full_patterns, sampled_patterns):
    assert sampled_patterns.shape[1] < full_patterns.shape[1]
    net = _random_net(regression.X.shape[1], 5, seed=0)
    cert = certify(regression.X, regression.y, net, regression.beta, sampled_patterns)
    assert not cert.exact
    assert cert.n_patterns == sampled_patterns.shape[1]
    assert "over" in str(cert)


@pytest.mark.parametrize("loss", ["squared", "hinge"])
def test_trained_network_certificate_is_below_the_convex_optimum(
    regression, binary, relu_squared_full, relu_hinge_full, loss
):
    data, opt = (regression, relu_squared_full) if loss == "squared" else (binary, relu_hinge_full)
    train = train_two_layer(data.X, data.y, 10, data.beta, optimizer="adam", epochs=300, seed=0, loss=loss)
    cert = certify(data.X, data.y, train.net, data.beta, loss=loss)
    assert cert.exact
    assert cert.primal == pytest.approx(train.objective, rel=1e-10)
    assert cert.lower_bound <= opt.objective * (1 + BOUND_RTOL), f"{cert.lower_bound!r} > optimum {opt.objective!r}"
    assert cert.gap >= 0.0


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
@pytest.mark.parametrize("seed", RANDOM_NET_SEEDS)
def test_lower_bound_of_any_network_never_exceeds_the_global_optimum(
    regression, binary, relu_squared_full, relu_hinge_full, loss, seed
):
    """Weak duality over the complete arrangement: valid for every network, however bad."""
    data = regression if loss == "squared" else binary
    net = _random_net(data.X.shape[1], 3 + seed, seed)
    cert = certify(data.X, data.y, net, data.beta, loss=loss)
    assert cert.exact
    assert cert.lower_bound <= cert.primal, "lower bound above the network's own objective"
    if loss == "logistic":  # no complete-arrangement logistic optimum to compare with (see test_programs)
        return
    opt = relu_squared_full if loss == "squared" else relu_hinge_full
    assert cert.lower_bound <= opt.objective * (1 + BOUND_RTOL), f"{cert.lower_bound!r} > optimum {opt.objective!r}"


def test_cone_free_certificate_is_valid_but_no_tighter_than_the_exact_one(regression, relu_squared_full):
    net = relu_network(relu_squared_full)
    exact = certify(regression.X, regression.y, net, regression.beta, dual=relu_squared_full.dual)
    free = certify(regression.X, regression.y, net, regression.beta, method="cone_free", dual=relu_squared_full.dual)
    assert free.method == "cone_free"
    assert free.lower_bound <= exact.lower_bound * (1 + 1e-12)
    assert free.lower_bound <= relu_squared_full.objective


def test_violating_patterns_improve_a_restricted_solution(regression, sampled_patterns, relu_squared_full):
    """The patterns a certificate flags are cutting planes: adding them lowers the restricted optimum."""
    restricted = solve_relu(regression.X, regression.y, regression.beta, sampled_patterns)
    cert = certify_convex(regression.X, regression.y, restricted)
    assert cert.gap > GAP_TOL, "the sampled optimum should not be globally optimal on these data"
    assert cert.violating.shape[1] > 0
    assert cert.max_violation > 1.0
    grown = solve_relu(regression.X, regression.y, regression.beta, merge_patterns(sampled_patterns, cert.violating))
    assert grown.objective < restricted.objective * (1 - 1e-3)
    assert grown.objective >= relu_squared_full.objective * (1 - BOUND_RTOL)


def test_logistic_certificate_over_its_own_patterns_closes_the_gap(binary, sampled_patterns):
    result = solve_relu(binary.X, binary.y, binary.beta, sampled_patterns, loss="logistic")
    cert = certify(
        binary.X, binary.y, relu_network(result), binary.beta, sampled_patterns, loss="logistic", dual=result.dual
    )
    assert not cert.exact
    assert abs(cert.gap) <= GAP_TOL, f"relative gap {cert.gap:.2e} over the program's own patterns"


def test_dual_certificate_rejects_an_unknown_method(regression):
    with pytest.raises(ValueError, match="method"):
        dual_certificate(regression.X, regression.y, regression.y, 1.0, 0.1, method="approx")


def test_solver_dual_is_verified_not_trusted(regression, relu_squared_full):
    """A wildly wrong candidate ``dual`` cannot raise the bound above what the network itself certifies."""
    net = relu_network(relu_squared_full)
    plain = certify(regression.X, regression.y, net, regression.beta)
    bogus = certify(regression.X, regression.y, net, regression.beta, dual=1e6 * np.ones(regression.X.shape[0]))
    assert bogus.lower_bound == pytest.approx(plain.lower_bound, rel=1e-12)
    assert bogus.lower_bound <= relu_squared_full.objective * (1 + BOUND_RTOL)

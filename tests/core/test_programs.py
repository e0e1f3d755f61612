"""Convex ReLU and gated-ReLU programs: optimal values, orderings between them, feasibility, errors.

Data: the seeded ``regression`` / ``binary`` fixtures (n = 20, 2-D plus intercept). The complete
arrangement (``full_patterns``) makes the ReLU program exact; sampled patterns give a restriction.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from cvxnn_core.certificates import cone_violation
from cvxnn_core.losses import negative_gradient
from cvxnn_core.patterns import sample_gates, sample_patterns
from cvxnn_core.programs import (
    ConvexResult,
    SolverError,
    convex_objective,
    convex_predictions,
    solve_gated_relu,
    solve_relu,
)
from cvxnn_core.recovery import nonconvex_objective, relu_network

OBJECTIVE_RTOL = 1e-6  # recovered network objective vs convex objective
ORDER_RTOL = 1e-9  # slack on the orderings "complete <= sampled" and "gated <= ReLU"
CONE_TOL = 1e-6  # certificates.cone_violation (per-block relative violation)
CONE_SCALE_TOL = 1e-8  # cone violation of every block relative to the largest block ||X v_j||
PREDICT_RTOL = 1e-6  # ||ConvexResult.predict - network predictions|| / ||network predictions||
DUAL_RTOL = 1e-4  # solver multiplier vs -grad l(f) at the optimum (interior-point accuracy)
SUBSET_SEEDS = (0, 1, 2)


def _case(name, regression, binary, full_patterns, sampled_patterns):
    """``(X, y, beta, patterns, loss)`` for a named program instance."""
    cases = {
        "squared-full": (*regression[:2], regression.beta, full_patterns, "squared"),
        "hinge-full": (*binary[:2], binary.beta, full_patterns, "hinge"),
        "squared-sampled": (*regression[:2], regression.beta, sampled_patterns, "squared"),
        "hinge-sampled": (*binary[:2], binary.beta, sampled_patterns, "hinge"),
        "logistic-sampled": (*binary[:2], binary.beta, sampled_patterns, "logistic"),
    }
    return cases[name]


ALL_CASES = ["squared-full", "hinge-full", "squared-sampled", "hinge-sampled", "logistic-sampled"]
SAMPLED_CASES = ["squared-sampled", "hinge-sampled", "logistic-sampled"]


@pytest.fixture(scope="module")
def solved(regression, binary, full_patterns, sampled_patterns, relu_squared_full, relu_hinge_full):
    """Every case of ``ALL_CASES`` solved once: ``{name: (X, y, beta, patterns, loss, result)}``."""
    out = {}
    for name in ALL_CASES:
        X, y, beta, D, loss = _case(name, regression, binary, full_patterns, sampled_patterns)
        if name == "squared-full":
            result = relu_squared_full
        elif name == "hinge-full":
            result = relu_hinge_full
        else:
            result = solve_relu(X, y, beta, D, loss=loss)
        out[name] = (X, y, beta, D, loss, result)
    return out


def _block_scale_violation(X: np.ndarray, result: ConvexResult) -> float:
    """``max_i ||((I - 2 D_i) X b_i)_+|| / max_j ||X b_j||`` over all blocks ``b`` in ``V`` and ``W``."""
    S = 2.0 * result.patterns - 1.0
    XB = np.concatenate([X @ result.V.T, X @ result.W.T], axis=1)
    SS = np.concatenate([S, S], axis=1)
    return float(np.linalg.norm(np.maximum(-SS * XB, 0.0), axis=0).max() / np.linalg.norm(XB, axis=0).max())


@pytest.mark.parametrize("name", ALL_CASES)
def test_recovered_network_matches_convex_objective(solved, name):
    X, y, beta, _, loss, result = solved[name]
    assert result.status == cp.OPTIMAL
    net = relu_network(result)
    value = nonconvex_objective(X, y, net, beta, loss)
    rel = abs(value - result.objective) / abs(result.objective)
    assert rel <= OBJECTIVE_RTOL, f"{name}: nonconvex {value!r} vs convex {result.objective!r} (rel {rel:.2e})"


@pytest.mark.parametrize("name", ALL_CASES)
def test_result_objective_is_the_convex_objective_at_the_returned_variables(solved, name):
    X, y, beta, D, loss, result = solved[name]
    value = convex_objective(X, y, D, result.V, result.W, beta, loss)
    assert value == pytest.approx(result.objective, rel=1e-12), "objective must be evaluated at V, W as returned"


@pytest.mark.parametrize("name", SAMPLED_CASES)
def test_cone_constraints_hold_for_sampled_patterns(solved, name):
    X, *_, result = solved[name]
    viol = cone_violation(X, result)
    assert viol <= CONE_TOL, f"{name}: relative cone violation {viol:.2e} > {CONE_TOL}"


@pytest.mark.parametrize("name", ALL_CASES)
def test_cone_constraints_hold_relative_to_the_largest_block(solved, name):
    X, *_, result = solved[name]
    viol = _block_scale_violation(X, result)
    assert viol <= CONE_SCALE_TOL, f"{name}: cone violation {viol:.2e} x the largest ||X v_j|| > {CONE_SCALE_TOL}"


def test_cone_violation_is_small_on_the_complete_arrangement(solved):
    X, *_, result = solved["squared-full"]
    viol = cone_violation(X, result)
    assert viol <= CONE_TOL, f"relative cone violation {viol:.2e} > {CONE_TOL}"


@pytest.mark.parametrize("name", ALL_CASES)
def test_predict_equals_recovered_network_predictions_on_training_data(solved, name):
    X, *_, result = solved[name]
    net_pred = relu_network(result).predict(X)
    err = np.linalg.norm(result.predict(X) - net_pred) / np.linalg.norm(net_pred)
    assert err <= PREDICT_RTOL, f"{name}: relative prediction mismatch {err:.2e}"
    np.testing.assert_allclose(
        result.predict(X), convex_predictions(X, result.patterns, result.V - result.W), rtol=0, atol=0
    )


@pytest.mark.parametrize("name", ["squared-full", "logistic-sampled"])
def test_dual_point_is_the_negative_loss_gradient_at_the_optimum(solved, name):
    """``ConvexResult.dual = -grad l(f*)`` (unique for the differentiable losses)."""
    _, y, _, _, loss, result = solved[name]
    g = negative_gradient(result.predict(solved[name][0]), y, loss)
    err = np.linalg.norm(result.dual - g) / np.linalg.norm(g)
    assert err <= DUAL_RTOL, f"{name}: ||dual + grad l|| / ||grad l|| = {err:.2e}"


@pytest.mark.parametrize("loss", ["squared", "hinge"])
@pytest.mark.parametrize("seed", SUBSET_SEEDS)
def test_complete_arrangement_optimum_is_at_most_any_sampled_optimum(
    regression, binary, full_patterns, relu_squared_full, relu_hinge_full, loss, seed
):
    data, full = (regression, relu_squared_full) if loss == "squared" else (binary, relu_hinge_full)
    beta = data.beta
    D = sample_patterns(data.X, 25, seed=seed)
    sub = solve_relu(data.X, data.y, beta, D, loss=loss)
    assert full.objective <= sub.objective * (1 + ORDER_RTOL), (
        f"complete {full.objective!r} > sampled {sub.objective!r} (seed {seed})"
    )


@pytest.mark.parametrize("loss", ["squared", "hinge"])
def test_gated_relu_optimum_is_at_most_relu_optimum_over_the_same_patterns(
    regression, binary, full_patterns, sampled_patterns, relu_squared_full, relu_hinge_full, loss
):
    """Gated ReLU drops the cone constraints and merges v_i - w_i: it is a relaxation."""
    data, full = (regression, relu_squared_full) if loss == "squared" else (binary, relu_hinge_full)
    beta = data.beta
    gated_full = solve_gated_relu(data.X, data.y, beta, full_patterns, loss=loss)
    assert gated_full.objective <= full.objective * (1 + ORDER_RTOL)
    relu_sub = solve_relu(data.X, data.y, beta, sampled_patterns, loss=loss)
    gated_sub = solve_gated_relu(data.X, data.y, beta, sampled_patterns, loss=loss)
    assert gated_sub.objective <= relu_sub.objective * (1 + ORDER_RTOL)


def test_gated_result_has_zero_W_and_keeps_its_gates(regression):
    D, G = sample_gates(regression.X, 40, seed=0)
    result = solve_gated_relu(regression.X, regression.y, regression.beta, D, gates=G)
    assert result.kind == "gated_relu"
    assert result.V.shape == result.W.shape == (D.shape[1], regression.X.shape[1])
    assert not np.any(result.W)
    np.testing.assert_array_equal(result.gates, G)


def test_gated_relu_rejects_gates_of_the_wrong_shape(regression, sampled_patterns):
    bad = np.ones((regression.X.shape[1], sampled_patterns.shape[1] + 1))
    with pytest.raises(ValueError, match="gates"):
        solve_gated_relu(regression.X, regression.y, regression.beta, sampled_patterns, gates=bad)


def test_n_active_blocks_equals_recovered_width(solved):
    for name, (*_, result) in solved.items():
        assert result.n_active_blocks == relu_network(result).width, name


@pytest.mark.parametrize("solver", ["MOSEK", "GUROBI"])
def test_solver_that_is_not_installed_raises_solver_error_naming_it(regression, sampled_patterns, solver):
    if solver in cp.installed_solvers():
        pytest.skip(f"{solver} is installed here")
    with pytest.raises(SolverError, match=solver) as info:
        solve_relu(regression.X, regression.y, regression.beta, sampled_patterns, solver=solver.lower())
    assert info.value.solver == solver
    assert info.value.status is None
    with pytest.raises(SolverError, match=solver):
        solve_gated_relu(regression.X, regression.y, regression.beta, sampled_patterns, solver=solver)


def test_explicit_scs_solver_reaches_the_clarabel_optimum(regression, sampled_patterns, relu_squared_sampled):
    result = solve_relu(regression.X, regression.y, regression.beta, sampled_patterns, solver="SCS")
    assert result.solver == "SCS"
    assert result.objective == pytest.approx(relu_squared_sampled.objective, rel=1e-4)

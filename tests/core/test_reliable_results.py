"""Results that can be trusted: the gated certificate, block zeroing, vector targets, convergence flags.

Each test states a property found broken by an independent cross-check (issue "the main command and the
tests must pass on a busy machine"), on the seeded fixtures of ``conftest.py`` (n = 20, d = 3 with intercept).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from cvxnn_core._cvx import BLOCK_ZERO_TOL, clean_blocks
from cvxnn_core.certificates import certify, certify_convex
from cvxnn_core.patterns import sample_gates
from cvxnn_core.programs import convex_objective, solve_gated_relu, solve_relu
from cvxnn_core.recovery import GatedNet, gated_network

GAP_TOL = 1e-6  # certified relative gap at an interior-point optimum (Clarabel at 1e-10)
OPT_RTOL = 1e-8  # two solutions of the same program agree to this, relative
PRED_ATOL = 1e-12  # the same predictions computed twice


@pytest.fixture(scope="module")
def gates(regression):
    return sample_gates(regression.X, 30, seed=1)


def test_gated_certificate_is_a_valid_bound_and_closes_at_the_gated_optimum(regression, gates):
    D, G = gates
    result = solve_gated_relu(regression.X, regression.y, regression.beta, D, gates=G)
    cert = certify_convex(regression.X, regression.y, result)
    assert cert.program == "gated_relu" and not cert.exact and cert.method == "cone_free"
    assert 0.0 <= cert.gap <= GAP_TOL
    # Weak duality for the gated program: the bound is below every feasible gated point, e.g. the zero point and
    # the optimum of the same program solved independently with SCS.
    zero = convex_objective(regression.X, regression.y, D, np.zeros_like(result.V), np.zeros_like(result.V),
                            regression.beta)
    scs = solve_gated_relu(regression.X, regression.y, regression.beta, D, solver="SCS")
    assert cert.lower_bound <= min(zero, scs.objective, result.objective)


def test_gated_certificate_refuses_relu_options(regression, gates):
    D, _ = gates
    result = solve_gated_relu(regression.X, regression.y, regression.beta, D)
    with pytest.raises(ValueError, match="certified over its own gates"):
        certify_convex(regression.X, regression.y, result, D)
    with pytest.raises(ValueError, match="checks ReLU cones"):
        certify_convex(regression.X, regression.y, result, method="exact")


def test_certify_refuses_a_gated_model_with_a_clear_message(regression, gates):
    D, G = gates
    net = gated_network(solve_gated_relu(regression.X, regression.y, regression.beta, D, gates=G))
    assert isinstance(net, GatedNet)
    with pytest.raises(TypeError, match="certify takes a ReLU network.*certify_convex"):
        certify(regression.X, regression.y, net, regression.beta)


def test_zeroing_blocks_never_raises_the_objective_above_the_solver_point():
    # An objective that rewards a tiny block: zeroing it would be worse, so the solver's point must be kept.
    V = np.array([[1.0, 0.0], [0.5 * BLOCK_ZERO_TOL, 0.0]])
    W = np.zeros_like(V)

    def objective(A, B):
        return 10.0 - 1e3 * float(A[1, 0]) + float(np.linalg.norm(A[0]))

    Vh, Wh, value = clean_blocks(V, W, objective)
    assert value <= objective(V, W)
    np.testing.assert_array_equal(Vh, V)
    # Without that reward, the tiny block goes.
    Vh, _, value = clean_blocks(V, W, lambda A, B: float(np.linalg.norm(A[0])) + float(np.linalg.norm(A[1])))
    assert np.count_nonzero(np.linalg.norm(Vh, axis=1)) == 1 and value <= 1.0 + BLOCK_ZERO_TOL


def test_hinge_solution_is_not_worse_than_the_solver_optimum_and_is_sparse(binary, full_patterns, relu_hinge_full):
    # The same program written out directly in cvxpy: the returned (zeroed, projected) point must not be worse.
    X, y, D = binary.X, binary.y, full_patterns
    S = 2.0 * D - 1.0
    V, W = cp.Variable((X.shape[1], D.shape[1])), cp.Variable((X.shape[1], D.shape[1]))
    f = cp.sum(cp.multiply(D.astype(float), X @ (V - W)), axis=1)
    problem = cp.Problem(
        cp.Minimize(cp.sum(cp.pos(1 - cp.multiply(y, f))) + binary.beta * (cp.sum(cp.norm(V, 2, axis=0))
                                                                            + cp.sum(cp.norm(W, 2, axis=0)))),
        [cp.multiply(S, X @ V) >= 0, cp.multiply(S, X @ W) >= 0],
    )
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert relu_hinge_full.objective <= problem.value * (1 + 1e-9)
    # ... and carries no negligible blocks (the solver returns ~1e-12 in all 2P of them).
    norms = np.concatenate([np.linalg.norm(relu_hinge_full.V, axis=1), np.linalg.norm(relu_hinge_full.W, axis=1)])
    assert 0 < relu_hinge_full.n_active_blocks < D.shape[1]
    assert norms[norms > 0].min() > BLOCK_ZERO_TOL * norms.max()


# Clarabel stops at 'optimal_inaccurate' on this vector program at tolerance 1e-10; its objective still agrees.
@pytest.mark.filterwarnings("ignore:solver CLARABEL reports status:RuntimeWarning")
@pytest.mark.filterwarnings("ignore:Solution may be inaccurate:UserWarning")
def test_gated_program_takes_vector_targets(regression, gates):
    D, G = gates
    Y = np.column_stack([regression.y, np.sin(3 * regression.y), -regression.y])
    ipm = solve_gated_relu(regression.X, Y, regression.beta, D, gates=G)
    fista = solve_gated_relu(regression.X, Y, regression.beta, D, solver="fista", solver_options={"tol": 1e-9})
    assert ipm.V.shape == fista.V.shape == (D.shape[1], regression.X.shape[1], 3)
    assert ipm.objective == pytest.approx(fista.objective, rel=OPT_RTOL)
    net = gated_network(ipm)
    np.testing.assert_allclose(net.predict(regression.X), ipm.predict(regression.X), atol=PRED_ATOL)
    cert = certify_convex(regression.X, Y, ipm)
    assert 0.0 <= cert.gap <= GAP_TOL
    # Column by column, a single output equals the scalar program only when the groups decouple: c = 1.
    single = solve_gated_relu(regression.X, regression.y[:, None], regression.beta, D)
    scalar = solve_gated_relu(regression.X, regression.y, regression.beta, D)
    assert single.V.shape == scalar.V.shape and single.objective == pytest.approx(scalar.objective, rel=OPT_RTOL)


def test_relu_program_refuses_vector_targets_and_flattens_one_column(regression, full_patterns, relu_squared_full):
    Y = np.column_stack([regression.y, regression.y])
    with pytest.raises(ValueError, match=r"y must have shape \(n,\) for solve_relu.*vector_output"):
        solve_relu(regression.X, Y, regression.beta, full_patterns)
    column = solve_relu(regression.X, regression.y[:, None], regression.beta, full_patterns)
    assert column.objective == pytest.approx(relu_squared_full.objective, rel=OPT_RTOL)


def test_fast_solver_result_says_whether_it_converged(regression, gates):
    D, _ = gates
    done = solve_gated_relu(regression.X, regression.y, regression.beta, D, solver="fista",
                            solver_options={"tol": 1e-8})
    assert done.converged and done.gap is not None and done.gap <= 1e-8 and done.iterations >= 1
    with pytest.warns(RuntimeWarning, match="tol not reached"):
        short = solve_gated_relu(regression.X, regression.y, regression.beta, D, solver="fista",
                                 solver_options={"tol": 1e-14, "max_iters": 3}, on_unconverged="warn")
    assert not short.converged and short.gap > 1e-14 and short.status == "optimal_inaccurate"
    ipm = solve_gated_relu(regression.X, regression.y, regression.beta, D)
    assert ipm.converged and ipm.gap is None

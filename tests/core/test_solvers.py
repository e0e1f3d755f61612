"""First-order solvers (torch): operators vs explicit matrices, optima vs cvxpy, certificates, errors.

Data: the shared seeded fixtures (``regression``/``binary``: n = 20 in 2-D plus intercept; ``sampled_patterns``,
``full_patterns``) and a local planted-teacher problem (n = 60, d = 5, 30 sampled gates). Reference optima come
from the cvxpy path (Clarabel at tolerance 1e-10). CUDA cases run only where a device exists (marker ``cuda``).
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest
import torch

from cvxnn_core import solvers
from cvxnn_core.certificates import certify_convex, cone_violation
from cvxnn_core.datasets import teacher_regression
from cvxnn_core.patterns import sample_gates
from cvxnn_core.programs import ConvexResult, SolverError, convex_predictions, solve_gated_relu, solve_relu
from cvxnn_core.recovery import block_network, nonconvex_objective

OPT_RTOL = 1e-6  # fast solver objective vs the cvxpy optimum (relative)
GAP_TOL = 1e-8  # certified relative gap requested from the fast solvers in the accuracy tests
OP_RTOL = {np.float64: 1e-12, np.float32: 1e-5}  # operator vs explicit matrix (relative to the scale)
FLOAT32_RTOL = 1e-4  # float32 optimum vs float64 optimum (relative)
FEAS_TOL = 1e-9  # relative cone violation of returned ReLU points
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(scope="module")
def teacher():
    """``(X, y, D, beta)``: 60 Gaussian points in 5-D, a 10-unit ReLU teacher, 30 sampled gates, beta = 0.1 beta_max."""
    X, y = teacher_regression(60, 5, width=10, noise=0.1, seed=3)
    D, _ = sample_gates(X, 30, seed=1)
    return X, y, D, 0.1 * solvers.beta_max(X, y, D)


@pytest.fixture(scope="module")
def gated_reference(teacher) -> ConvexResult:
    X, y, D, beta = teacher
    return solve_gated_relu(X, y, beta, D)


@pytest.fixture(scope="module")
def relu_reference(teacher) -> ConvexResult:
    X, y, D, beta = teacher
    return solve_relu(X, y, beta, D)


def explicit_operator(X: np.ndarray, D: np.ndarray) -> np.ndarray:
    """The naive ``n x (P d)`` matrix ``[D_1 X, ..., D_P X]`` (block ``i`` acts on ``u_i``)."""
    return np.hstack([D[:, [i]] * X for i in range(D.shape[1])])


# ----------------------------------------------------------------------------------------------------------------------
# Operators
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("c", [None, 3])
@pytest.mark.parametrize("batch_size", [None, 7])
def test_operator_and_adjoint_match_explicit_matrix(teacher, backend, dtype, c, batch_size):
    X, _, D, _ = teacher
    rng = np.random.default_rng(0)
    P, d = D.shape[1], X.shape[1]
    U = rng.standard_normal((P, d) if c is None else (P, d, c))
    r = rng.standard_normal(X.shape[0] if c is None else (X.shape[0], c))
    A = explicit_operator(X, D)
    f_ref = A @ (U.reshape(P * d) if c is None else U.reshape(P * d, c))
    g_ref = (A.T @ r).reshape(U.shape)
    if backend == "torch":
        tdt = torch.float64 if dtype == np.float64 else torch.float32
        args = [torch.as_tensor(a.astype(dtype)) for a in (X, U, r)]
        f = solvers.gated_forward(args[0], torch.as_tensor(D), args[1], batch_size=batch_size)
        g = solvers.gated_adjoint(args[0], torch.as_tensor(D), args[2], batch_size=batch_size)
        assert f.dtype == tdt and g.dtype == tdt
        f, g = f.double().numpy(), g.double().numpy()
    else:
        f = solvers.gated_forward(X.astype(dtype), D, U.astype(dtype), batch_size=batch_size)
        g = solvers.gated_adjoint(X.astype(dtype), D, r.astype(dtype), batch_size=batch_size)
        assert f.dtype == dtype and g.dtype == dtype
    rtol = OP_RTOL[dtype]
    assert f.shape == f_ref.shape and g.shape == g_ref.shape
    assert np.max(np.abs(f - f_ref)) <= rtol * np.max(np.abs(f_ref)) * 10
    assert np.max(np.abs(g - g_ref)) <= rtol * np.max(np.abs(g_ref)) * 10


def test_adjoint_identity_and_programs_predictions(teacher):
    X, _, D, _ = teacher
    rng = np.random.default_rng(1)
    U = rng.standard_normal((D.shape[1], X.shape[1]))
    r = rng.standard_normal(X.shape[0])
    f = solvers.gated_forward(X, D, U)
    assert abs(f @ r - np.sum(U * solvers.gated_adjoint(X, D, r))) <= 1e-12 * np.linalg.norm(f) * np.linalg.norm(r)
    np.testing.assert_allclose(f, convex_predictions(X, D, U), rtol=1e-12, atol=1e-12)


def test_cone_constraints_match_definition(teacher):
    X, _, D, _ = teacher
    V = np.random.default_rng(2).standard_normal((D.shape[1], X.shape[1]))
    C = solvers.cone_constraints(X, D, V)
    for i in (0, 5, D.shape[1] - 1):
        np.testing.assert_allclose(C[:, i], (2.0 * D[:, i] - 1.0) * (X @ V[i]), rtol=1e-13, atol=1e-13)


def test_group_soft_threshold_is_the_prox():
    x = torch.tensor([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]], dtype=torch.float64)
    out = solvers.group_soft_threshold(x, 1.0)
    np.testing.assert_allclose(out.numpy(), [[2.4, 3.2], [0.0, 0.0], [0.0, 0.0]], atol=1e-15)


# ----------------------------------------------------------------------------------------------------------------------
# Gated ReLU: FISTA
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("working_set", [True, False])
def test_fista_reaches_cvxpy_optimum_squared(teacher, gated_reference, working_set):
    X, y, D, beta = teacher
    res = solvers.fista_gated(X, y, beta, D, tol=GAP_TOL, working_set=working_set)
    assert res.converged and res.gap <= GAP_TOL
    assert abs(res.objective - gated_reference.objective) <= OPT_RTOL * gated_reference.objective
    # the certificate is a valid lower bound on the optimum
    assert res.lower_bound <= gated_reference.objective * (1 + 1e-9)
    assert res.history["gap"].size >= 1 and np.all(np.diff(res.history["iteration"]) > 0)


def test_fista_reaches_cvxpy_optimum_logistic(binary, sampled_patterns):
    X, y, beta = binary.X, binary.y, binary.beta
    ref = solve_gated_relu(X, y, beta, sampled_patterns, loss="logistic")
    # the logistic loss is flat where samples are well classified: the residual certificate closes to ~1e-7
    res = solvers.fista_gated(X, y, beta, sampled_patterns, loss="logistic", tol=1e-6)
    assert res.converged and res.gap <= 1e-6
    assert abs(res.objective - ref.objective) <= OPT_RTOL * ref.objective
    assert res.lower_bound <= ref.objective * (1 + 1e-7)


def test_fista_vector_targets_match_cvxpy(teacher):
    X, y, D, beta = teacher
    Y = np.column_stack([y, np.sin(y), -0.5 * y])
    P, d = D.shape[1], X.shape[1]
    U = cp.Variable((P * d, 3))
    A = explicit_operator(X, D)
    objective = 0.5 * cp.sum_squares(A @ U - Y) + beta * cp.sum(
        cp.norm(cp.reshape(U, (P, d * 3), order="C"), 2, axis=1)
    )
    problem = cp.Problem(cp.Minimize(objective))
    problem.solve(solver="CLARABEL", tol_gap_abs=1e-10, tol_gap_rel=1e-10, tol_feas=1e-10)
    assert problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
    res = solvers.fista_gated(X, Y, beta, D, tol=GAP_TOL)
    assert res.V.shape == (P, d, 3)
    assert abs(res.objective - problem.value) <= OPT_RTOL * problem.value


def test_fista_float32_agrees_with_float64(teacher):
    X, y, D, beta = teacher
    r64 = solvers.fista_gated(X, y, beta, D, tol=1e-7)
    r32 = solvers.fista_gated(X, y, beta, D, tol=1e-5, dtype="float32")
    assert r32.dtype == "float32" and r64.dtype == "float64"
    assert abs(r32.objective - r64.objective) <= FLOAT32_RTOL * r64.objective
    # the final certificate is recomputed in float64 and stays valid
    assert r32.lower_bound <= r64.objective * (1 + 1e-9)


def test_fista_warm_start_from_solution_stops_at_once(teacher):
    X, y, D, beta = teacher
    res = solvers.fista_gated(X, y, beta, D, tol=1e-9)
    again = solvers.fista_gated(X, y, beta, D, tol=1e-6, U0=res.V, check_every=1)
    assert again.converged and again.iterations <= 5


@pytest.mark.cuda
@CUDA
def test_fista_on_cuda_matches_cpu(teacher):
    X, y, D, beta = teacher
    cpu = solvers.fista_gated(X, y, beta, D, tol=1e-8)
    gpu = solvers.fista_gated(X, y, beta, D, tol=1e-8, device="cuda")
    assert gpu.device.startswith("cuda")
    assert abs(gpu.objective - cpu.objective) <= OPT_RTOL * cpu.objective


@pytest.mark.cuda
@CUDA
def test_operators_on_cuda_match_numpy(teacher):
    X, _, D, _ = teacher
    U = np.random.default_rng(0).standard_normal((D.shape[1], X.shape[1]))
    Xt, Dt, Ut = (torch.as_tensor(a, device="cuda") for a in (X, D, U))
    np.testing.assert_allclose(solvers.gated_forward(Xt, Dt, Ut).cpu().numpy(), solvers.gated_forward(X, D, U))


# ----------------------------------------------------------------------------------------------------------------------
# Cone decomposition
# ----------------------------------------------------------------------------------------------------------------------


def test_least_distance_satisfies_kkt():
    rng = np.random.default_rng(4)
    G = rng.standard_normal((12, 3))
    h = G @ rng.standard_normal(3) - rng.uniform(0.0, 1.0, 12)  # feasible: the random point has slack
    x = solvers.least_distance(G, h)
    slack = G @ x - h
    assert np.all(slack >= -1e-10)
    # x = G^T mu with mu >= 0 supported on the tight rows (KKT of min ||x|| s.t. G x >= h)
    tight = slack <= 1e-8
    mu, *_ = np.linalg.lstsq(G[tight].T, x, rcond=None)
    assert np.all(mu >= -1e-8)
    np.testing.assert_allclose(G[tight].T @ mu, x, atol=1e-9)


def test_least_distance_infeasible_raises():
    with pytest.raises(ValueError, match="infeasible"):
        solvers.least_distance(np.array([[1.0], [-1.0]]), np.array([1.0, 1.0]))


def test_cone_decomposition_is_feasible_with_same_predictions(teacher):
    X, y, D, beta = teacher
    U = solvers.fista_gated(X, y, beta, D, tol=1e-8).V
    V, W = solvers.cone_decomposition(X, D, U)
    fake = ConvexResult(0.0, V, W, D, "optimal", "decomp", 0.0, beta, "squared", "relu")
    assert cone_violation(X, fake) <= FEAS_TOL
    f_gated, f_relu = convex_predictions(X, D, U), convex_predictions(X, D, V - W)
    assert np.max(np.abs(f_gated - f_relu)) <= 1e-9 * np.max(np.abs(f_gated))
    nrm = np.linalg.norm
    assert np.all(nrm(V, axis=1) + nrm(W, axis=1) >= nrm(U, axis=1) * (1 - 1e-12))


def test_decompose_gated_gives_a_relu_network_with_the_gated_predictions_and_objective_bounds(teacher):
    # the decomposed network is feasible for the ReLU program: gated optimum <= ReLU optimum <= its objective
    X, y, D, beta = teacher
    gated = solvers.fista_gated(X, y, beta, D, tol=1e-10)
    split = solvers.decompose_gated(X, D, gated.V)
    assert split.no_split == () and split.prediction_error <= 1e-10
    np.testing.assert_allclose(split.net.predict(X), convex_predictions(X, D, gated.V), atol=1e-10, rtol=0)
    nrm = np.linalg.norm(gated.V, axis=1).sum()
    assert split.penalty_ratio >= 1 - 1e-12
    np.testing.assert_allclose(split.net.weight_decay(), split.penalty_ratio * nrm, rtol=1e-10)
    relu = solve_relu(X, y, beta, D)
    network = nonconvex_objective(X, y, split.net, beta)
    assert gated.objective <= relu.objective * (1 + 1e-7) and relu.objective <= network * (1 + 1e-7)


def test_decompose_gated_at_beta_zero_equals_the_relu_least_squares_fit():
    # Mishkin et al. (2022): with beta = 0 the gated and ReLU programs over hyperplane gates have one optimum
    X, y = teacher_regression(80, 3, seed=0)
    X = np.c_[X, np.ones(80)]
    D, _ = sample_gates(X, 12, seed=0)
    gated, relu = solve_gated_relu(X, y, 0.0, D), solve_relu(X, y, 0.0, D)
    assert abs(relu.objective - gated.objective) <= 1e-7 * gated.objective
    split = solvers.decompose_gated(X, D, gated.V)
    np.testing.assert_allclose(0.5 * np.sum((split.net.predict(X) - y) ** 2), gated.objective, rtol=1e-8)


def test_decompose_gated_reports_every_gate_without_a_split():
    # a 0/1 column that no hyperplane realises: with n >> d its cone is {0} and no block can be split
    X, y = teacher_regression(40, 2, seed=1)
    D = np.random.default_rng(0).random((40, 4)) < 0.5
    D[:, 0] = X @ np.array([1.0, -0.5]) >= 0  # one hyperplane gate, which does split
    U = np.random.default_rng(1).standard_normal((4, 2))
    split = solvers.decompose_gated(X, D, U)
    assert split.net is None and split.no_split == (1, 2, 3)
    assert split.prediction_error == np.inf and split.penalty_ratio == np.inf


def test_block_network_is_the_relu_network_of_its_blocks():
    rng = np.random.default_rng(2)
    X, V, W = rng.standard_normal((9, 3)), rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    V[1] = 0.0
    net = block_network(V, W)
    expected = np.maximum(X @ V.T, 0).sum(axis=1) - np.maximum(X @ W.T, 0).sum(axis=1)
    np.testing.assert_allclose(net.predict(X), expected, atol=1e-12)
    assert net.width == 7
    np.testing.assert_allclose(net.weight_decay(), np.linalg.norm(V, axis=1).sum() + np.linalg.norm(W, axis=1).sum())


# ----------------------------------------------------------------------------------------------------------------------
# ReLU: active set and augmented Lagrangian
# ----------------------------------------------------------------------------------------------------------------------


def test_active_set_reaches_cvxpy_optimum(teacher, relu_reference):
    X, y, D, beta = teacher
    res = solvers.active_set_relu(X, y, beta, D, tol=GAP_TOL)
    assert res.converged and res.gap <= GAP_TOL
    assert abs(res.objective - relu_reference.objective) <= OPT_RTOL * relu_reference.objective
    assert res.violation <= FEAS_TOL
    assert res.lower_bound <= relu_reference.objective * (1 + 1e-9)


def test_active_set_certifies_the_global_optimum(regression, full_patterns, relu_squared_full):
    res = solvers.active_set_relu(regression.X, regression.y, regression.beta, full_patterns, tol=GAP_TOL)
    assert res.converged
    assert abs(res.objective - relu_squared_full.objective) <= OPT_RTOL * relu_squared_full.objective


def test_grow_patterns_reaches_the_global_optimum(regression, sampled_patterns, full_patterns, relu_squared_full):
    """Column generation from 12 sampled patterns in 2-D (+ intercept): pools of fresh patterns find every violated
    dual constraint, so the grown optimum is the optimum over the complete arrangement."""
    X, y, beta = regression.X, regression.y, regression.beta
    start = sampled_patterns[:, :12]
    res, D, rounds = solvers.grow_patterns(X, y, beta, start, tol=GAP_TOL, pool=200, max_rounds=20)
    assert np.array_equal(D[:, :12], start)
    assert rounds[-1].probe_gap <= GAP_TOL
    objectives = [r.objective for r in rounds]
    assert all(b <= a * (1 + 1e-9) for a, b in zip(objectives, objectives[1:], strict=False))
    assert rounds[0].objective > relu_squared_full.objective * (1 + 1e-3)  # the start is a strict restriction
    assert abs(res.objective - relu_squared_full.objective) <= OPT_RTOL * relu_squared_full.objective
    full = certify_convex(X, y, _as_result(res, D, beta), full_patterns)
    assert full.gap <= 1e-6


def test_grow_patterns_rounds_match_cvxpy(teacher):
    X, y, D, beta = teacher
    res, grown, rounds = solvers.grow_patterns(X, y, beta, D[:, :10], tol=GAP_TOL, max_rounds=3)
    assert [r.P for r in rounds][0] == 10 and grown.shape[1] == rounds[-1].P
    reference = solve_relu(X, y, beta, grown)
    assert abs(res.objective - reference.objective) <= OPT_RTOL * reference.objective


@pytest.mark.parametrize(
    ("kwargs", "match"), [({"pool": 0}, "pool"), ({"max_add": -1}, "max_add"), ({"max_rounds": 0}, "max_rounds")]
)
def test_grow_patterns_bad_input_raises(teacher, kwargs, match):
    X, y, D, beta = teacher
    with pytest.raises(ValueError, match=match):
        solvers.grow_patterns(X, y, beta, D, **kwargs)


def _as_result(res, D, beta) -> ConvexResult:
    return ConvexResult(
        objective=res.objective,
        V=res.V,
        W=res.W,
        patterns=D,
        status="optimal",
        solver=res.solver,
        solve_time=res.solve_time,
        beta=beta,
        loss="squared",
        kind="relu",
        dual=res.dual,
    )


def test_al_feasible_with_certified_gap(teacher, relu_reference):
    X, y, D, beta = teacher
    res = solvers.al_relu(X, y, beta, D, tol=1e-6, max_iters=20_000)
    assert res.violation <= FEAS_TOL
    # the certified interval contains the cvxpy optimum
    assert res.lower_bound <= relu_reference.objective * (1 + 1e-9)
    assert res.objective >= relu_reference.objective * (1 - 1e-9)
    assert res.gap <= 1e-4
    if res.converged:
        assert abs(res.objective - relu_reference.objective) <= OPT_RTOL * relu_reference.objective


def test_al_logistic_certified_interval(binary, sampled_patterns):
    X, y, beta = binary.X, binary.y, binary.beta
    ref = solve_relu(X, y, beta, sampled_patterns, loss="logistic")
    res = solvers.al_relu(X, y, beta, sampled_patterns, loss="logistic", tol=1e-5, max_iters=5000)
    assert res.violation <= FEAS_TOL
    assert res.lower_bound <= ref.objective * (1 + 1e-7) and res.objective >= ref.objective * (1 - 1e-7)
    assert res.gap <= 5e-2  # first-order AL on the logistic loss is slow: only the interval's validity is tight


# ----------------------------------------------------------------------------------------------------------------------
# programs dispatch
# ----------------------------------------------------------------------------------------------------------------------


def test_solve_gated_relu_dispatches_to_fista(teacher, gated_reference):
    X, y, D, beta = teacher
    res = solve_gated_relu(X, y, beta, D, solver="fista", solver_options={"tol": GAP_TOL})
    assert isinstance(res, ConvexResult) and res.kind == "gated_relu" and res.solver == "FISTA"
    assert res.status == "optimal"
    assert abs(res.objective - gated_reference.objective) <= OPT_RTOL * gated_reference.objective


def test_solve_relu_dispatches_to_active_set_and_certifies(teacher, relu_reference):
    X, y, D, beta = teacher
    res = solve_relu(X, y, beta, D, solver="active_set", solver_options={"tol": GAP_TOL})
    assert res.kind == "relu" and res.solver == "ACTIVE_SET" and res.status == "optimal"
    assert abs(res.objective - relu_reference.objective) <= OPT_RTOL * relu_reference.objective
    cert = certify_convex(X, y, res, D)  # independent check with the solver's dual point
    assert cert.gap <= 1e-6


def test_solve_relu_al_not_converged_warns(teacher):
    X, y, D, beta = teacher
    with pytest.warns(RuntimeWarning, match="duality gap"):
        res = solve_relu(X, y, beta, D, solver="al", solver_options={"tol": 1e-12, "max_iters": 50},
                         on_unconverged="warn")
    assert res.status == "optimal_inaccurate" and not res.converged and res.gap > 1e-12


def test_solve_relu_al_not_converged_raises_by_default(teacher):
    X, y, D, beta = teacher
    with pytest.raises(SolverError, match=r"stopped after \d+ iterations at relative duality gap .*on_unconverged"):
        solve_relu(X, y, beta, D, solver="al", solver_options={"tol": 1e-12, "max_iters": 50})


# ----------------------------------------------------------------------------------------------------------------------
# Bad input
# ----------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"dtype": "float16"}, "dtype"),
        ({"device": "tpu"}, "device"),
        ({"loss": "hinge"}, "loss"),
        ({"tol": -1.0}, "tol"),
        ({"max_iters": 0}, "max_iters"),
        ({"seed": -3}, "seed"),
    ],
)
def test_fista_bad_input_raises(teacher, kwargs, match):
    X, y, D, beta = teacher
    with pytest.raises(ValueError, match=match):
        solvers.fista_gated(X, y, beta, D, **kwargs)


def test_cuda_requested_without_device_raises(teacher):
    if torch.cuda.is_available():
        pytest.skip("a CUDA device exists")
    X, y, D, beta = teacher
    with pytest.raises(ValueError, match="CUDA"):
        solvers.fista_gated(X, y, beta, D, device="cuda")


def test_dispatch_bad_input_raises(teacher, regression):
    X, y, D, beta = teacher
    with pytest.raises(ValueError, match="does not solve"):
        solve_gated_relu(X, y, beta, D, solver="al")
    with pytest.raises(ValueError, match="loss"):
        solve_relu(X, np.sign(y) + (y == 0), beta, D, solver="active_set", loss="hinge")
    with pytest.raises(ValueError, match="solver_options"):
        solve_relu(X, y, beta, D, solver_options={"tol": 1e-6})
    with pytest.raises(ValueError, match="free_bias"):
        solve_gated_relu(regression.X, regression.y, 0.1, D[:20], solver="fista", free_bias=True)
    with pytest.raises(ValueError, match="shape"):
        solvers.cone_decomposition(X, D, np.zeros((3, 3)))


# ----------------------------------------------------------------------------------------------------------------------
# Measuring
# ----------------------------------------------------------------------------------------------------------------------


def test_time_to_accuracy_first_crossing():
    t = np.array([0.1, 0.2, 0.3, 0.4])
    obj = np.array([2.0, 1.01, 1.000001, 0.999])
    assert solvers.time_to_accuracy(t, obj, 1.0, 1e-1) == 0.2
    assert solvers.time_to_accuracy(t, obj, 1.0, 1e-5) == 0.3
    assert solvers.time_to_accuracy(t[:2], obj[:2], 1.0, 1e-3) == np.inf
    with pytest.raises(ValueError, match="equal length"):
        solvers.time_to_accuracy(t, obj[:2], 1.0, 1e-3)


def test_performance_profile_counts_solved_problems():
    T = np.array([[1.0, np.inf], [3.0, 2.0], [np.nan, 0.5]])
    prof = solvers.performance_profile(T, [0.1, 1.0, 2.5, 10.0])
    np.testing.assert_allclose(prof, [[0, 0], [1 / 3, 1 / 3], [1 / 3, 2 / 3], [2 / 3, 2 / 3]])
    with pytest.raises(ValueError, match="problems, methods"):
        solvers.performance_profile(np.ones(3), [1.0])


def test_admm_approaches_the_certified_optimum_with_valid_certificates():
    """CRONOS's ADMM: feasible points whose objective falls toward the active-set optimum; every bound is below it."""
    rng = np.random.default_rng(0)
    X = np.hstack([rng.standard_normal((80, 4)), np.ones((80, 1))])
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.standard_normal(80)
    D = sample_gates(X, 12, seed=0)[0]
    beta = 0.05 * solvers.beta_max(X, y, D)
    optimum = solvers.active_set_relu(X, y, beta, D, tol=1e-10).objective
    excess = []
    for iters in (100, 1000):
        res = solvers.admm_relu(X, y, beta, D, max_iters=iters, tol=1e-12, certify_every=50, threads=1)
        assert res.violation < 1e-12 and res.solver == "ADMM"
        assert np.all(res.history["lower_bound"] <= optimum * (1 + 1e-9))
        assert res.objective >= optimum * (1 - 1e-9)
        excess.append((res.objective - optimum) / optimum)
    assert excess[1] < 1e-3 and excess[1] < 0.5 * excess[0]

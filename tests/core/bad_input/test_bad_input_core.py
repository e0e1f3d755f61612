"""Bad input gets a clear error: the table of the two-layer modules, the estimators and the book CLI.

Each row: (target, case id, call, expected exception type, a regex the message must match); ``bad_input_data`` says
what a target is. Every case runs on tiny
seeded data. Below the table, the corrected behaviours that are not errors: the zero optimum is the zero
network, margin losses refuse 0/1 labels, and a single-column ``y`` means the same as ``(n,)`` everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
from bad_input_data import BETA, IMAGES, NET, RESULT, Y_PM, CLIError, D, N, P, X, Y, Z, cli, tmpdir
from scipy import sparse

from cvxnn_core import (
    batchnorm,
    certificates,
    closed_form,
    cnn,
    cutting_plane,
    datasets,
    deep,
    interpretation,
    kernels,
    losses,
    nonconvex,
    patterns,
    plotting,
    programs,
    recovery,
    results,
    solvers,
    vector_output,
)
from cvxnn_core.estimators import ConvexReLUClassifier, ConvexReLURegressor


def _cli(argv: list[str]) -> None:
    from paper_experiments.__main__ import main

    cli(main, argv)


def _fitted_regressor() -> ConvexReLURegressor:
    return ConvexReLURegressor(n_patterns=5).fit(Z, Y)


CASES = [
    # --- patterns
    ("patterns.sample_patterns: X 1-D",
     lambda: patterns.sample_patterns(X[:, 0], 5), ValueError, r"X must have shape \(n, d\)"),
    ("patterns.sample_patterns: X complex", lambda: patterns.sample_patterns(X + 1j, 5), TypeError, "X is complex"),
    ("patterns.sample_patterns: n_patterns 0", lambda: patterns.sample_patterns(X, 0), ValueError,
     "n_patterns must be a positive"),
    ("patterns.sample_patterns: seed -1",
     lambda: patterns.sample_patterns(X, 5, seed=-1), ValueError, "seed must be a non-neg"),
    ("patterns.merge_patterns: different n", lambda: patterns.merge_patterns(D, D[:-1]), ValueError,
     r"different numbers of rows \[12, 11\]"),
    ("patterns.merge_patterns: not boolean", lambda: patterns.merge_patterns(D, D.astype(int)), TypeError,
     "pattern set 1 must be a boolean array"),
    ("patterns.merge_patterns: nothing", lambda: patterns.merge_patterns(), ValueError, "at least one pattern array"),
    ("patterns.cone_projection: pattern length", lambda: patterns.cone_projection(X, D[:-1, 0], np.ones(3)), ValueError,
     r"pattern must have shape \(n,\) = \(12,\)"),
    ("patterns.cone_projection: v length", lambda: patterns.cone_projection(X, D[:, 0], np.ones(2)), ValueError,
     r"v must have shape \(d,\) = \(3,\)"),
    ("patterns.enumerate_patterns: too many",
     lambda: patterns.enumerate_patterns(np.random.default_rng(1).standard_normal((700, 3))), ValueError,
     "has up to 489,302 patterns .*sample_patterns.*larger max_patterns"),
    ("patterns.enumerate_patterns: max_patterns 0", lambda: patterns.enumerate_patterns(X, max_patterns=0), ValueError,
     "max_patterns must be a positive integer"),
    ("patterns.patterns_of_weights: width", lambda: patterns.patterns_of_weights(X, np.ones((2, 5))), ValueError,
     r"W1 must have shape \(m, 3\)"),
    # --- programs
    ("programs.solve_relu: y NaN", lambda: programs.solve_relu(X, np.where(Y > 0, np.nan, Y), BETA, D), ValueError,
     "y contains NaN"),
    ("programs.solve_relu: y too short", lambda: programs.solve_relu(X, Y[:-1], BETA, D), ValueError,
     "y has 11 rows but X has 12"),
    ("programs.solve_relu: vector y", lambda: programs.solve_relu(X, np.c_[Y, Y], BETA, D), ValueError,
     r"y must have shape \(n,\) for solve_relu.*solve_gated_relu"),
    ("programs.solve_relu: beta negative",
     lambda: programs.solve_relu(X, Y, -1.0, D), ValueError, "beta must be a finite"),
    ("programs.solve_relu: beta string",
     lambda: programs.solve_relu(X, Y, "big", D), TypeError, "beta must be a non-negative"),
    ("programs.solve_relu: patterns int", lambda: programs.solve_relu(X, Y, BETA, D.astype(int)), TypeError,
     "patterns must be a boolean array"),
    ("programs.solve_relu: patterns empty",
     lambda: programs.solve_relu(X, Y, BETA, D[:, :0]), ValueError, "patterns is empty"),
    ("programs.solve_relu: hinge 0/1 labels", lambda: programs.solve_relu(X, (Y_PM + 1) / 2, BETA, D, loss="hinge"),
     ValueError, r"loss='hinge' needs y in \{-1, \+1\}"),
    ("programs.solve_relu: unknown solver",
     lambda: programs.solve_relu(X, Y, BETA, D, solver="NOPE"), programs.SolverError,
     "solver 'NOPE' is not installed"),
    ("programs.solve_relu: options for cvxpy", lambda: programs.solve_relu(X, Y, BETA, D, solver_options={"tol": 1}),
     ValueError, "solver_options apply to the first-order solvers"),
    ("programs.solve_relu: solve_gated_relu fista for relu",
     lambda: programs.solve_relu(X, Y, BETA, D, solver="fista"), ValueError,
     "does not solve the relu program"),
    ("programs.solve_gated_relu: gates shape", lambda: programs.solve_gated_relu(X, Y, BETA, D, gates=np.ones((2, P))),
     ValueError, r"gates must have shape \(d, P\)"),
    ("programs.convex_objective: V shape",
     lambda: programs.convex_objective(X, Y, D, np.ones((P, 2)), np.ones((P, 2)), BETA),
     ValueError, r"V must have shape \(P, d\) = \(\d+, 3\)"),
    ("programs.convex_objective: 0/1 labels hinge", lambda: programs.convex_objective(
        X, (Y_PM + 1) / 2, D, RESULT.V, RESULT.W, BETA, "hinge"), ValueError, "needs y in"),
    ("programs.convex_objective: y too long",
     lambda: programs.convex_objective(X, np.r_[Y, 1.0], D, RESULT.V, RESULT.W, BETA),
     ValueError, "y has 13 rows but X has 12"),
    # --- losses
    ("losses.loss_value: length mismatch", lambda: losses.loss_value(Y, Y[:-1]), ValueError,
     r"f has shape \(12,\) but y has shape \(11,\)"),
    ("losses.loss_value: outputs mismatch", lambda: losses.loss_value(np.c_[Y, Y], Y), ValueError,
     r"f has shape \(12, 2\) but y has shape \(12,\)"),
    ("losses.loss_value: unknown loss", lambda: losses.loss_value(Y, Y, "l1"), ValueError, "loss must be one of"),
    ("losses.loss_value: logistic labels", lambda: losses.loss_value(Y, Y, "logistic"), ValueError, "needs y in"),
    # --- recovery
    ("recovery.relu_network: of gated",
     lambda: recovery.relu_network(programs.solve_gated_relu(X, Y, BETA, D)), ValueError,
     "use gated_network"),
    ("recovery.gated_network: without gates", lambda: recovery.gated_network(programs.solve_gated_relu(X, Y, BETA, D)),
     ValueError, "the gates are unknown"),
    ("recovery.TwoLayerNet: widths", lambda: recovery.TwoLayerNet(W1=np.ones((3, 2)), w2=np.ones(4)), ValueError,
     "W1 has 3 neurons"),
    ("recovery.TwoLayerNet.predict: TwoLayerNet predict width",
     lambda: NET.predict(Z), ValueError, "X has 2 columns but the network expects 3"),
    ("recovery.prune_neurons: X width", lambda: recovery.prune_neurons(Z, NET), ValueError,
     "X has 2 columns but the network's W1 has 3"),
    ("recovery.block_network: W shape", lambda: recovery.block_network(np.ones((3, 2)), np.ones((3, 4))), ValueError,
     r"W must have shape \(P, d\) = \(3, 2\)"),
    ("recovery.block_network: V NaN", lambda: recovery.block_network(np.full((3, 2), np.nan), np.ones((3, 2))),
     ValueError, "V contains NaN or inf"),
    ("recovery.nonconvex_objective: not a net", lambda: recovery.nonconvex_objective(X, Y, "net", BETA), TypeError,
     "net must be a recovery.TwoLayerNet"),
    ("recovery.nonconvex_objective: 0/1 labels",
     lambda: recovery.nonconvex_objective(X, (Y_PM + 1) / 2, NET, BETA, "hinge"),
     ValueError, "needs y in"),
    # --- certificates
    ("certificates.certify: gated model", lambda: certificates.certify(X, Y, recovery.GatedNet(G=np.ones((3, 2)),
                                                                                  U=np.ones((2, 3))), BETA),
     TypeError, "certify takes a ReLU network"),
    ("certificates.certify_convex: other X", lambda: certificates.certify_convex(Z, Y, RESULT), ValueError,
     "the result was solved on data with 12 rows and 3 columns"),
    ("certificates.certify_convex: not a result", lambda: certificates.certify_convex(X, Y, "result"), TypeError,
     "result must be a programs.ConvexResult"),
    ("certificates.dual_certificate: unknown method",
     lambda: certificates.dual_certificate(X, Y, Y, 1.0, BETA, D, method="fast"),
     ValueError, "method must be one of"),
    # --- nonconvex
    ("nonconvex.train_two_layer: lr string",
     lambda: nonconvex.train_two_layer(X, Y, 4, BETA, lr="fast", epochs=1), TypeError,
     "lr must be a positive number, got 'fast'"),
    ("nonconvex.train_two_layer: lr zero",
     lambda: nonconvex.train_two_layer(X, Y, 4, BETA, lr=0.0, epochs=1), ValueError,
     "lr must be a positive number"),
    ("nonconvex.train_two_layer: dtype name",
     lambda: nonconvex.train_two_layer(X, Y, 4, BETA, dtype="float16", epochs=1),
     ValueError, "dtype must be torch.float32, torch.float64, 'float32' or 'float64'"),
    ("nonconvex.train_two_layer: no cuda", lambda: nonconvex.train_two_layer(X, Y, 4, BETA, device="cuda:7", epochs=1),
     ValueError, "device='cuda:7'"),
    ("nonconvex.train_two_layer: bad device", lambda: nonconvex.train_two_layer(X, Y, 4, BETA, device="tpu", epochs=1),
     ValueError, "device must be"),
    ("nonconvex.train_two_layer: width 0", lambda: nonconvex.train_two_layer(X, Y, 0, BETA), ValueError,
     "width must be a positive integer"),
    ("nonconvex.train_two_layer: momentum adam",
     lambda: nonconvex.train_two_layer(X, Y, 4, BETA, momentum=0.9, epochs=1),
     ValueError, "momentum applies to optimizer='sgd'"),
    ("vector_output.train_vector_network: lr string",
     lambda: vector_output.train_vector_network(X, np.c_[Y, Y], 4, BETA, lr="fast",
                                                                                 epochs=1), TypeError,
     "lr must be a positive number, got 'fast'"),
    ("vector_output.train_vector_network: no cuda", lambda: vector_output.train_vector_network(X, np.c_[Y, Y], 4, BETA,
                                                                               device="cuda:7", epochs=1),
     ValueError, "device='cuda:7'"),
    ("cnn.train_cnn: init_scale", lambda: cnn.train_cnn(cnn.extract_patches(IMAGES, 3), Y[:6], 2, BETA, init_scale=0.0),
     ValueError, "init_scale must be a positive number"),
    ("deep.train_deep_linear: lr", lambda: deep.train_deep_linear(X, np.c_[Y, Y], BETA, lr=-1.0), ValueError,
     "lr must be a positive number"),
    # --- solvers
    ("solvers.fista_gated: tol 0",
     lambda: solvers.fista_gated(X, Y, BETA, D, tol=0.0), ValueError, "tol must be a positive"),
    ("solvers.fista_gated: hinge", lambda: solvers.fista_gated(X, Y_PM, BETA, D, loss="hinge"), ValueError,
     "loss must be one of"),
    ("solvers.fista_gated: no cuda", lambda: solvers.fista_gated(X, Y, BETA, D, device="cuda:7"), ValueError,
     "device='cuda:7'"),
    ("solvers.al_relu: vector y",
     lambda: solvers.al_relu(X, np.c_[Y, Y], BETA, D), ValueError, r"y must have shape \(n,\)"),
    # --- datasets
    ("datasets.one_dimensional: noise nan", lambda: datasets.one_dimensional(10, noise=float("nan")), ValueError,
     "noise must be a non-negative number"),
    ("datasets.teacher_regression: noise negative", lambda: datasets.teacher_regression(10, 2, noise=-1.0), ValueError,
     "noise must be a non-negative number"),
    ("datasets.one_dimensional: kind", lambda: datasets.one_dimensional(10, kind="cosine"), ValueError, "kind must be"),
    ("datasets.add_intercept: 1-D", lambda: datasets.add_intercept(Y), ValueError, r"X must have shape \(n, d\)"),
    # --- results
    ("results.Recorder.claim: value string", lambda: _recorder().claim("a.b", "abc"), TypeError,
     "claim 'a.b': value must be a real number, got str"),
    ("results.Recorder.claim: undeclared", lambda: _recorder().claim("a.typo", 1.0), KeyError,
     "claim 'a.typo' is not declared; declared claims: a.b, a.c"),
    ("results.Recorder.claim: second threshold",
     lambda: _recorder().claim("a.b", 1.0, threshold=2.0), TypeError,
     "declares the threshold 1.0; do not pass another"),
    ("results.Recorder.claim: parameter threshold missing",
     lambda: _recorder().claim("a.c", 1.0), TypeError,
     "its threshold is the parameter 'tol'; pass threshold=tol"),
    ("results.claim_specs: op", lambda: results.claim_specs("a", {"claims": [{**SPEC, "op": "=="}]}), ValueError,
     "claim a.b has op '=='"),
    ("results.claim_specs: missing key", lambda: results.claim_specs("a", {"claims": [{"name": "b"}]}), ValueError,
     "a \\[\\[claims\\]\\] entry lacks 'statement'"),
    ("results.Recorder: .number object", lambda: results.Recorder(_tmp()).number("thing", object()), TypeError,
     "number 'thing': object cannot be stored in numbers.json"),
    # --- closed forms, kernels, deep, vector output, cnn, batchnorm, cutting plane, interpretation
    ("closed_form.whitened_relu: not whitened", lambda: closed_form.whitened_relu(X, Y, BETA), ValueError, "whiten"),
    ("kernels.arccos_kernel: widths", lambda: kernels.arccos_kernel(X, Z), ValueError, "column"),
    ("deep.deep_linear_optimum: layers", lambda: deep.deep_linear_optimum(X, np.c_[Y, Y], BETA, n_layers=0), ValueError,
     "n_layers"),
    ("vector_output.solve_vector_relu: Y rows",
     lambda: vector_output.solve_vector_relu(X, np.c_[Y, Y][:-1], BETA, D), ValueError,
     "rows"),
    ("cnn.extract_patches: too big", lambda: cnn.extract_patches(IMAGES, 7), ValueError, "patch"),
    ("batchnorm.batchnorm_patterns: n_patterns 0",
     lambda: batchnorm.batchnorm_patterns(Z, 0), ValueError, "n_patterns"),
    ("cutting_plane.cutting_plane: beta 0", lambda: cutting_plane.cutting_plane(X, Y, 0.0), ValueError, "beta"),
    ("interpretation.decision_grid: resolution", lambda: interpretation.decision_grid(Z, resolution=0), ValueError,
     "resolution must be a positive integer"),
    ("interpretation.decision_grid: margin", lambda: interpretation.decision_grid(Z, margin=float("inf")), ValueError,
     "margin must be a non-negative number"),
    ("plotting.save_figure: bad id", lambda: plotting.save_figure(None, _tmp(), "figure 1"), ValueError,
     "figure_id must look like 'fig_<what>'"),
    # --- estimators
    ("estimators.ConvexReLURegressor: max_time -1",
     lambda: ConvexReLURegressor(n_patterns=5, max_time=-1).fit(Z, Y), ValueError, r"max_time must be a positive"),
    ("estimators.ConvexReLURegressor: solver_options list",
     lambda: ConvexReLURegressor(n_patterns=5, solver_options=[1]).fit(Z, Y), TypeError,
     r"solver_options must be a mapping"),
    ("estimators.ConvexReLURegressor: solver_options with cvxpy",
     lambda: ConvexReLURegressor(n_patterns=5, solver_options={"tol": 1e-6}).fit(Z, Y), ValueError,
     r"solver_options apply to the first-order solvers"),
    ("estimators.ConvexReLURegressor: solver_options sets max_time",
     lambda: ConvexReLURegressor(n_patterns=5, solver="gated", solver_options={"max_time": 1}).fit(Z, Y),
     ValueError, r"solver_options must not set 'max_time'"),
    ("estimators.ConvexReLURegressor: progress 'yes'",
     lambda: ConvexReLURegressor(n_patterns=5, progress="yes").fit(Z, Y), TypeError, r"progress must be True"),
    ("estimators.ConvexReLUClassifier: hinge on the gated route",
     lambda: ConvexReLUClassifier(n_patterns=5, solver="gated", loss="hinge").fit(Z, np.sign(Y) + 0), ValueError,
     r"loss='hinge' is not available on the gated route"),
    ("estimators.ConvexReLURegressor: regressor sparse X",
     lambda: ConvexReLURegressor(n_patterns=5).fit(sparse.csr_matrix(Z), Y), TypeError,
     "Sparse data was passed"),
    ("estimators.ConvexReLURegressor: regressor complex X",
     lambda: ConvexReLURegressor(n_patterns=5).fit(Z + 1j, Y), ValueError, "Complex data"),
    ("estimators.ConvexReLURegressor.predict: regressor predict width",
     lambda: _fitted_regressor().predict(X), ValueError,
     "X has 3 features, but ConvexReLURegressor is expecting 2"),
    ("estimators.ConvexReLUClassifier: classifier one class",
     lambda: ConvexReLUClassifier(n_patterns=5).fit(Z, np.ones(N)), ValueError,
     "needs at least two classes"),
    ("estimators.ConvexReLUClassifier: classifier continuous y",
     lambda: ConvexReLUClassifier(n_patterns=5).fit(Z, Y), ValueError,
     "Unknown label type"),
    ("estimators.ConvexReLURegressor: estimator random_state negative",
     lambda: ConvexReLURegressor(random_state=-1).fit(Z, Y), ValueError,
     "random_state must be a non-negative integer"),
    # --- CLI
    ("cli.run: cli unknown chapter", lambda: _cli(["run", "--chapter", "nope"]), CLIError, "unknown chapter 'nope'"),
    ("cli.run: cli unknown profile",
     lambda: _cli(["run", "--profile", "medium"]), CLIError, "invalid choice: 'medium'"),
    ("cli.run: cli jobs 3", lambda: _cli(["run", "--jobs", "3", "--chapter", "two_layer_convex"]), CLIError,
     "--jobs must be between 1 and 2"),
    ("cli.main: cli unknown command", lambda: _cli(["frobnicate"]), CLIError, "invalid choice: 'frobnicate'"),
    ("cli.falsify: unknown chapter", lambda: _cli(["falsify", "--chapter", "nope"]), CLIError,
     "unknown chapter 'nope'"),
    ("cli.falsify: unknown profile", lambda: _cli(["falsify", "--profile", "medium"]), CLIError,
     "invalid choice: 'medium'"),
]


def _tmp():
    return tmpdir()


SPEC = {"name": "b", "kind": "check", "statement": "s", "measured": "m", "op": "<=", "threshold": 1.0}


def _recorder() -> results.Recorder:
    """A recorder with the claims ``a.b`` (``<= 1.0``) and ``a.c`` (threshold: the parameter ``tol``)."""
    specs = results.claim_specs("a", {"claims": [SPEC, {**SPEC, "name": "c", "threshold": "tol"}]})
    return results.Recorder(_tmp(), claims=specs)


@pytest.mark.parametrize(("case", "call", "exc", "match"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_raises_a_clear_error(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_zero_optimum_is_the_zero_network_without_a_solver():
    beta_max = float(np.max(np.linalg.norm(X.T @ (D * Y[:, None]), axis=0)))
    for solve in (programs.solve_relu, programs.solve_gated_relu):
        result = solve(X, Y, 1.001 * beta_max, D)
        assert result.n_active_blocks == 0 and result.gap == 0.0 and "zero network" in result.solver
        assert result.objective == pytest.approx(0.5 * float(Y @ Y), rel=1e-15)
    assert recovery.relu_network(programs.solve_relu(X, Y, 1.001 * beta_max, D)).width == 0
    # All-inactive patterns carry no neuron either.
    empty = np.zeros((N, 3), dtype=bool)
    assert programs.solve_relu(X, Y, BETA, empty).n_active_blocks == 0


def test_margin_losses_need_plus_minus_one_labels_everywhere():
    labels01 = (Y_PM + 1) / 2
    for call in (lambda: programs.convex_objective(X, labels01, D, RESULT.V, RESULT.W, BETA, "hinge"),
                 lambda: recovery.nonconvex_objective(X, labels01, NET, BETA, "logistic"),
                 lambda: losses.loss_value(np.zeros(N), labels01, "hinge")):
        with pytest.raises(ValueError, match="needs y in"):
            call()
    assert losses.loss_value(np.zeros(N), Y_PM, "hinge") == pytest.approx(N)


def test_a_single_column_target_means_the_same_as_a_vector():
    column = Y[:, None]
    assert programs.convex_objective(X, column, D, RESULT.V, RESULT.W, BETA) == pytest.approx(RESULT.objective,
                                                                                               rel=1e-12)
    assert losses.loss_value(np.zeros(N), column) == pytest.approx(0.5 * float(Y @ Y), rel=1e-15)
    assert losses.loss_value(np.zeros((N, 1)), Y) == pytest.approx(0.5 * float(Y @ Y), rel=1e-15)
    assert recovery.nonconvex_objective(X, column, NET, BETA) == pytest.approx(
        recovery.nonconvex_objective(X, Y, NET, BETA), rel=1e-15)

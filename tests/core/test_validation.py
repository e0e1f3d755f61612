"""Bad input at the public boundary raises ValueError/TypeError whose message names the argument.

Every case goes through the public functions (``solve_relu``, ``solve_gated_relu``,
``sample_patterns``, ``train_two_layer``, ``certify``), never through ``_validation`` directly.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core.certificates import certify
from cvxnn_core.nonconvex import train_two_layer
from cvxnn_core.patterns import sample_patterns
from cvxnn_core.programs import solve_gated_relu, solve_relu
from cvxnn_core.recovery import TwoLayerNet

N = 12  # small problem: every call below fails during validation, before any solve or training step


def _data():
    rng = np.random.default_rng(0)
    X = np.hstack([rng.standard_normal((N, 2)), np.ones((N, 1))])
    y = rng.standard_normal(N)
    y_pm = np.where(np.arange(N) % 2 == 0, 1.0, -1.0)
    D = sample_patterns(X, 10, seed=0)
    net = TwoLayerNet(W1=rng.standard_normal((3, 3)), w2=rng.standard_normal(3))
    return X, y, y_pm, D, net


X, Y, Y_PM, D, NET = _data()
BETA = 0.1
X_NAN = X.copy()
X_NAN[3, 1] = np.nan
X_INF = X.copy()
X_INF[0, 0] = np.inf
Y_NAN = Y.copy()
Y_NAN[2] = np.nan


def _solve(**kw):
    args = {"X": X, "y": Y, "beta": BETA, "patterns": D} | kw
    return lambda: solve_relu(**args)


def _gated(**kw):
    args = {"X": X, "y": Y, "beta": BETA, "patterns": D} | kw
    return lambda: solve_gated_relu(**args)


def _sample(**kw):
    args = {"X": X, "n_patterns": 10} | kw
    return lambda: sample_patterns(**args)


def _train(**kw):
    args = {"X": X, "y": Y, "width": 4, "beta": BETA, "epochs": 2} | kw
    return lambda: train_two_layer(**args)


def _certify(**kw):
    args = {"X": X, "y": Y, "net": NET, "beta": BETA} | kw
    return lambda: certify(**args)


ENTRY_POINTS = {"solve_relu": _solve, "train_two_layer": _train, "certify": _certify}

# (case id, keyword overrides, exception, regex the message must match); applied to every entry point.
COMMON_CASES = [
    ("X_1d", {"X": X[:, 0]}, ValueError, r"X must have shape \(n, d\)"),
    ("X_3d", {"X": X[None]}, ValueError, r"X must have shape \(n, d\)"),
    ("X_empty", {"X": np.empty((0, 3))}, ValueError, "X must have at least one row"),
    ("X_nan", {"X": X_NAN}, ValueError, "X contains NaN or inf"),
    ("X_inf", {"X": X_INF}, ValueError, "X contains NaN or inf"),
    ("X_not_numeric", {"X": [["a", "b", "c"]] * N}, TypeError, "X must be a numeric array"),
    ("y_too_short", {"y": Y[:-1]}, ValueError, f"y has {N - 1} rows but X has {N}"),
    ("y_too_long", {"y": np.append(Y, 1.0)}, ValueError, f"y has {N + 1} rows but X has {N}"),
    ("y_2d", {"y": np.column_stack([Y, Y])}, ValueError, r"y must have shape \(n,\)"),
    ("y_nan", {"y": Y_NAN}, ValueError, "y contains NaN or inf"),
    ("beta_negative", {"beta": -0.1}, ValueError, "beta must be a finite number >= 0"),
    ("beta_nan", {"beta": float("nan")}, ValueError, "beta must be a finite number >= 0"),
    ("beta_inf", {"beta": float("inf")}, ValueError, "beta must be a finite number >= 0"),
    ("beta_not_a_number", {"beta": "large"}, TypeError, "beta must be a non-negative number"),
    ("loss_unknown", {"loss": "l1"}, ValueError, "loss must be one of"),
    ("labels_not_pm1_hinge", {"y": (Y_PM + 1) / 2, "loss": "hinge"}, ValueError, r"loss='hinge' needs y in"),
    ("labels_not_pm1_logistic", {"y": Y, "loss": "logistic"}, ValueError, r"loss='logistic' needs y in"),
]


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
@pytest.mark.parametrize(("case", "overrides", "exc", "match"), COMMON_CASES, ids=[c[0] for c in COMMON_CASES])
def test_bad_input_raises_an_error_naming_the_argument(entry, case, overrides, exc, match):
    call = ENTRY_POINTS[entry](**overrides)
    with pytest.raises(exc, match=match):
        call()


PATTERN_CASES = [
    ("non_boolean_int", D.astype(int), TypeError, "patterns must be a boolean array"),
    ("non_boolean_float", D.astype(float), TypeError, "patterns must be a boolean array"),
    ("wrong_rows", D[:-1], ValueError, r"patterns must have shape \(n, P\)"),
    ("one_dimensional", D[:, 0], ValueError, r"patterns must have shape \(n, P\)"),
    ("transposed", np.ones((3, N), dtype=bool), ValueError, r"patterns must have shape \(n, P\)"),
    ("empty", np.zeros((N, 0), dtype=bool), ValueError, r"patterns is empty \(P = 0\)"),
]
PATTERN_ENTRY_POINTS = {
    "solve_relu": lambda P: _solve(patterns=P),
    "solve_gated_relu": lambda P: _gated(patterns=P),
    "certify": lambda P: _certify(patterns=P),
}


@pytest.mark.parametrize("entry", sorted(PATTERN_ENTRY_POINTS))
@pytest.mark.parametrize(("case", "patterns", "exc", "match"), PATTERN_CASES, ids=[c[0] for c in PATTERN_CASES])
def test_bad_patterns_raise_an_error_naming_patterns(entry, case, patterns, exc, match):
    with pytest.raises(exc, match=match):
        PATTERN_ENTRY_POINTS[entry](patterns)()


SEED_AND_COUNT_CASES = [
    ("sample_seed_negative", _sample(seed=-1), ValueError, "seed must be a non-negative integer"),
    ("sample_seed_float", _sample(seed=1.5), ValueError, "seed must be a non-negative integer"),
    ("sample_seed_bool", _sample(seed=True), ValueError, "seed must be a non-negative integer"),
    ("sample_seed_string", _sample(seed="0"), ValueError, "seed must be a non-negative integer"),
    ("sample_n_patterns_zero", _sample(n_patterns=0), ValueError, "n_patterns must be a positive integer"),
    ("sample_n_patterns_float", _sample(n_patterns=10.0), ValueError, "n_patterns must be a positive integer"),
    ("sample_X_1d", _sample(X=X[:, 0]), ValueError, r"X must have shape \(n, d\)"),
    ("sample_X_nan", _sample(X=X_NAN), ValueError, "X contains NaN or inf"),
    ("train_seed_negative", _train(seed=-3), ValueError, "seed must be a non-negative integer"),
    ("train_seed_float", _train(seed=0.5), ValueError, "seed must be a non-negative integer"),
    ("train_width_zero", _train(width=0), ValueError, "width must be a positive integer"),
    ("train_width_negative", _train(width=-2), ValueError, "width must be a positive integer"),
    ("train_width_float", _train(width=4.0), ValueError, "width must be a positive integer"),
    ("train_epochs_zero", _train(epochs=0), ValueError, "epochs must be a positive integer"),
    ("train_batch_size_zero", _train(batch_size=0), ValueError, "batch_size must be a positive integer"),
    ("train_optimizer_unknown", _train(optimizer="lbfgs"), ValueError, "optimizer must be one of"),
    ("train_lr_zero", _train(lr=0.0), ValueError, "lr must be a positive number"),
    ("train_lr_negative", _train(lr=-1e-3), ValueError, "lr must be a positive number"),
    ("train_lr_nan", _train(lr=float("nan")), ValueError, "lr must be a positive number"),
    ("certify_method_unknown", _certify(method="approx"), ValueError, "method must be one of"),
    ("certify_dual_wrong_length", _certify(dual=np.ones(N - 2)), ValueError, f"dual has {N - 2} rows but X has {N}"),
    ("certify_net_wrong_input_dim", _certify(net=TwoLayerNet(np.ones((2, 5)), np.ones(2))), ValueError, "columns"),
    ("gated_gates_wrong_shape", _gated(gates=np.ones((3, 1))), ValueError, r"gates must have shape \(d, P\)"),
]


@pytest.mark.parametrize(
    ("case", "call", "exc", "match"), SEED_AND_COUNT_CASES, ids=[c[0] for c in SEED_AND_COUNT_CASES]
)
def test_bad_seed_count_or_option_raises_an_error_naming_it(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_y_column_vector_is_accepted_as_a_vector():
    """``y`` of shape ``(n, 1)`` is the same as ``(n,)`` (only a genuinely 2-D ``y`` is refused)."""
    a = solve_relu(X, Y[:, None], BETA, D)
    b = solve_relu(X, Y, BETA, D)
    assert a.objective == b.objective


def test_valid_call_of_each_entry_point_succeeds():
    """The fixtures above are valid, so each failure is caused by the one override alone."""
    assert solve_relu(X, Y, BETA, D).status == "optimal"
    assert solve_gated_relu(X, Y, BETA, D).status == "optimal"
    assert np.isfinite(train_two_layer(X, Y, 4, BETA, epochs=2).objective)
    assert np.isfinite(certify(X, Y, NET, BETA).lower_bound)
    assert sample_patterns(X, 10, seed=0).shape[0] == N

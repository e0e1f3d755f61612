"""Torch baselines: the trained objective is the certified one, runs are seeded, and no optimiser ever
goes below the global optimum given by the convex program over the complete arrangement."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvxnn_core.certificates import certify_convex
from cvxnn_core.nonconvex import TrainResult, train_two_layer
from cvxnn_core.recovery import nonconvex_objective

HISTORY_RTOL = 1e-10  # history[-1] vs nonconvex_objective of the returned float64 network
FLOAT32_RTOL = 1e-5  # same, when training in float32
BELOW_OPTIMUM_RTOL = 1e-7  # a trained objective may not be below the convex optimum by more than this
INITIAL_RTOL = 1e-9  # objective after one Adam step of size 1e-12 vs initial_objective
EPOCHS = 300
SEEDS = (0, 1, 2)
WIDTHS = (4, 25)  # narrower than the optimal network and wider than n + 1


@pytest.fixture(scope="module")
def global_optimum(regression, relu_squared_full):
    """Convex optimum over the complete arrangement, and its certified lower bound."""
    cert = certify_convex(regression.X, regression.y, relu_squared_full)
    assert cert.exact
    return relu_squared_full.objective, cert.lower_bound


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_last_history_entry_is_the_nonconvex_objective_of_the_returned_network(regression, binary, loss):
    data = regression if loss == "squared" else binary
    res = train_two_layer(data.X, data.y, 8, data.beta, epochs=40, seed=0, loss=loss)
    value = nonconvex_objective(data.X, data.y, res.net, data.beta, loss)
    assert res.history.shape == (40,)
    assert res.objective == res.history[-1]
    assert res.objective == pytest.approx(value, rel=HISTORY_RTOL), f"{loss}: history {res.objective!r} vs {value!r}"


def test_float32_training_reports_the_objective_of_its_network(regression):
    res = train_two_layer(regression.X, regression.y, 8, regression.beta, epochs=40, seed=0, dtype=torch.float32)
    assert res.net.W1.dtype == np.float64
    value = nonconvex_objective(regression.X, regression.y, res.net, regression.beta)
    assert res.objective == pytest.approx(value, rel=FLOAT32_RTOL)


def test_initial_objective_is_the_objective_before_the_first_step(regression):
    res = train_two_layer(regression.X, regression.y, 8, regression.beta, optimizer="adam", lr=1e-12, epochs=1, seed=3)
    assert res.history[0] == pytest.approx(res.initial_objective, rel=INITIAL_RTOL)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_is_deterministic_under_a_seed_and_differs_across_seeds(regression, optimizer):
    kwargs = {"optimizer": optimizer, "epochs": 30, "batch_size": 7}
    a = train_two_layer(regression.X, regression.y, 6, regression.beta, seed=5, **kwargs)
    b = train_two_layer(regression.X, regression.y, 6, regression.beta, seed=5, **kwargs)
    c = train_two_layer(regression.X, regression.y, 6, regression.beta, seed=6, **kwargs)
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.net.W1, b.net.W1)
    np.testing.assert_array_equal(a.net.w2, b.net.w2)
    assert a.initial_objective == b.initial_objective
    assert not np.array_equal(a.history, c.history)
    assert a.initial_objective != c.initial_objective


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_training_never_goes_below_the_certified_convex_optimum(regression, global_optimum, optimizer, seed, width):
    optimum, lower = global_optimum
    res = train_two_layer(
        regression.X, regression.y, width, regression.beta, optimizer=optimizer, epochs=EPOCHS, seed=seed
    )
    best = float(np.min(res.history))
    assert best >= optimum * (1 - BELOW_OPTIMUM_RTOL), f"{optimizer} m={width} seed={seed}: {best!r} < {optimum!r}"
    assert best >= lower, f"{optimizer} m={width} seed={seed}: {best!r} below the certified lower bound {lower!r}"
    assert res.objective < res.initial_objective, "training did not decrease the objective at all"


def test_mini_batch_training_runs_and_reports_the_full_batch_objective(regression):
    res = train_two_layer(regression.X, regression.y, 8, regression.beta, epochs=30, seed=0, batch_size=5)
    assert res.history.shape == (30,)
    assert np.all(np.isfinite(res.history))
    value = nonconvex_objective(regression.X, regression.y, res.net, regression.beta)
    assert res.objective == pytest.approx(value, rel=HISTORY_RTOL)
    assert res.objective < res.initial_objective


def test_batch_size_at_least_n_is_full_batch_training(regression):
    n = regression.X.shape[0]
    full = train_two_layer(regression.X, regression.y, 6, regression.beta, epochs=20, seed=2)
    big = train_two_layer(regression.X, regression.y, 6, regression.beta, epochs=20, seed=2, batch_size=5 * n)
    np.testing.assert_array_equal(full.history, big.history)


def test_hinge_training_runs_and_decreases_the_objective(binary):
    res = train_two_layer(binary.X, binary.y, 8, binary.beta, loss="hinge", epochs=100, seed=0)
    assert np.all(np.isfinite(res.history))
    assert res.objective < res.initial_objective


def test_too_large_step_size_raises_floating_point_error_or_ends_finite(regression):
    try:
        res = train_two_layer(
            regression.X, regression.y, 8, regression.beta, optimizer="sgd", lr=1e3, epochs=50, seed=0
        )
    except FloatingPointError as exc:
        assert "lr" in str(exc)
    else:
        assert np.all(np.isfinite(res.history))


def test_train_result_objective_is_the_last_history_entry():
    res = TrainResult(
        net=None,
        history=np.array([3.0, 2.0, 1.5]),
        initial_objective=4.0,
        train_time=0.0,
        optimizer="adam",
        lr=0.01,
        seed=0,
    )
    assert res.objective == 1.5
    assert isinstance(res.objective, float)

"""BN-ReLU networks: the convex program on the whitened basis ``U' = [U, 1/sqrt(n)]`` is exact.

The recovered BN network attains the convex optimum, no trained BN network goes below the optimum over the
complete arrangement, the closed form equals the solver when ``n <= d``, the hand-written gradient and the
numpy optimiser reproduce torch's autograd and ``torch.optim``, and bad input fails with a named error.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cvxnn_core.batchnorm import (
    BatchNormNet,
    BatchNormReLU,
    batchnorm_forward,
    batchnorm_patterns,
    bn_network_from_whitened,
    bn_objective,
    bn_objective_and_gradient,
    closed_form_batchnorm,
    singular_coordinates,
    solve_batchnorm,
    top_singular_fraction,
    train_batchnorm,
    whiten,
)
from cvxnn_core.datasets import add_intercept
from cvxnn_core.patterns import enumerate_patterns
from cvxnn_core.programs import solve_relu
from cvxnn_core.recovery import TwoLayerNet

RECOVERY_RTOL = 1e-6  # recovered BN network vs convex optimum (the chapter's tolerance; observed ~1e-14)
CLOSED_FORM_RTOL = 1e-6  # closed form vs the interior-point solver over the complete arrangement
BELOW_OPTIMUM_RTOL = 1e-7  # a trained BN network may not be below the global optimum by more than this
EXACT_ATOL = 1e-10  # identities that hold up to rounding (forward passes, gradients, orthonormality)
TRAJECTORY_RTOL = 1e-9  # numpy vs torch training histories over 60 steps
BETA = 0.01


@pytest.fixture(scope="module")
def tiny():
    """16 points in 2-D (centred rank 2, so U' has rank 3 and the arrangement can be enumerated), smooth targets."""
    rng = np.random.default_rng(7)
    X = rng.uniform(-1.0, 1.0, size=(16, 2))
    y = np.sin(2.0 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.standard_normal(16)
    return X, y


@pytest.fixture(scope="module")
def tiny_optimum(tiny):
    X, y = tiny
    return solve_batchnorm(X, y, BETA, batchnorm_patterns(X))


@pytest.fixture(scope="module")
def wide():
    """n = 6 samples in d = 10 dimensions: centred rank n - 1, the overparameterised regime."""
    rng = np.random.default_rng(3)
    return rng.standard_normal((6, 10)), rng.standard_normal(6)


def _random_weights(d, m, seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, d)), rng.standard_normal(m), rng.standard_normal(m), rng.standard_normal(m)


# ---- the network ------------------------------------------------------------------------------------------------


def test_numpy_forward_matches_the_torch_module_and_is_invariant_to_the_scale_of_W1(tiny):
    X, _ = tiny
    module = BatchNormReLU(2, 5, seed=1)
    with torch.no_grad():
        module.alpha.copy_(torch.linspace(-1, 1, 5, dtype=torch.float64))
        expected = module(torch.as_tensor(X)).numpy()
    W1, gamma, alpha, w2 = module.numpy_weights()
    np.testing.assert_allclose(batchnorm_forward(X, W1, gamma, alpha, w2), expected, atol=EXACT_ATOL)
    scaled = W1 * np.array([[3.0], [0.5], [10.0], [1.0], [2.0]])
    np.testing.assert_allclose(batchnorm_forward(X, scaled, gamma, alpha, w2), expected, atol=EXACT_ATOL)


def test_bn_output_is_whitened_relu_on_the_basis(tiny):
    """BN(X w1) = gamma U z / ||z|| + alpha / sqrt(n) with z = S V^T w1: the data enter only through U'."""
    X, _ = tiny
    W1, gamma, alpha, w2 = _random_weights(2, 4, 0)
    white = whiten(X)
    Z = singular_coordinates(white, W1)
    Q = gamma[:, None] * Z / np.linalg.norm(Z, axis=1, keepdims=True)
    plain = TwoLayerNet(W1=np.hstack([Q, alpha[:, None]]), w2=w2)
    np.testing.assert_allclose(batchnorm_forward(X, W1, gamma, alpha, w2), plain.predict(white.basis), atol=EXACT_ATOL)


def test_stored_statistics_reproduce_train_mode_on_the_training_data(tiny):
    X, y = tiny
    net = BatchNormNet.from_training_data(X, *_random_weights(2, 4, 1))
    train_mode = batchnorm_forward(X, net.W1, net.gamma, net.alpha, net.w2)
    np.testing.assert_allclose(net.predict(X), train_mode, atol=EXACT_ATOL)
    x_new = np.array([[0.3, -0.2]])
    h = x_new @ net.W1.T
    manual = np.maximum(net.gamma * (h - net.pre_mean) / net.pre_norm + net.alpha / np.sqrt(len(X)), 0.0) @ net.w2
    np.testing.assert_allclose(net.predict(x_new), manual, atol=EXACT_ATOL)
    assert bn_objective(X, y, net, BETA) == pytest.approx(
        0.5 * np.sum((train_mode - y) ** 2)
        + 0.5 * BETA * (net.gamma @ net.gamma + net.alpha @ net.alpha + net.w2 @ net.w2)
    )


def test_whitened_basis_is_orthonormal_and_has_the_arrangement_of_X_with_intercept(tiny):
    X, _ = tiny
    white = whiten(X)
    np.testing.assert_allclose(white.basis.T @ white.basis, np.eye(white.rank + 1), atol=EXACT_ATOL)
    np.testing.assert_allclose(white.U * white.s @ white.V.T, X - X.mean(axis=0), atol=EXACT_ATOL)
    ours = {col.tobytes() for col in batchnorm_patterns(X).T}
    theirs = {col.tobytes() for col in enumerate_patterns(add_intercept(X)).T}
    assert ours == theirs


# ---- gradient and trainer -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["squared", "hinge", "logistic"])
def test_hand_written_gradient_matches_autograd(tiny, loss):
    X, y = tiny
    if loss != "squared":
        y = np.where(y > np.median(y), 1.0, -1.0)
    module = BatchNormReLU(2, 6, seed=2)
    with torch.no_grad():
        module.alpha.copy_(torch.linspace(-0.3, 0.3, 6, dtype=torch.float64))
    from cvxnn_core.nonconvex import torch_loss

    obj = torch_loss(module(torch.as_tensor(X)), torch.as_tensor(y), loss) + BETA * module.weight_decay()
    obj.backward()
    value, grads = bn_objective_and_gradient(X, y, *module.numpy_weights(), BETA, loss)
    assert value == pytest.approx(float(obj.detach()), rel=1e-12)
    for g, p in zip(grads, module.parameters(), strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), atol=EXACT_ATOL)


@pytest.mark.parametrize(("optimizer", "kwargs"), [("adam", {}), ("sgd", {"momentum": 0.9}), ("sgd", {})])
def test_numpy_and_torch_backends_follow_the_same_trajectory(tiny, optimizer, kwargs):
    X, y = tiny
    runs = [
        train_batchnorm(X, y, 5, BETA, optimizer=optimizer, epochs=60, seed=4, backend=b, **kwargs)
        for b in ("numpy", "torch")
    ]
    np.testing.assert_allclose(runs[0].history, runs[1].history, rtol=TRAJECTORY_RTOL)
    assert runs[0].initial_objective == pytest.approx(runs[1].initial_objective, rel=1e-12)


def test_history_ends_at_the_objective_of_the_returned_network_and_runs_are_seeded(tiny):
    X, y = tiny
    a = train_batchnorm(X, y, 6, BETA, epochs=50, seed=5)
    b = train_batchnorm(X, y, 6, BETA, epochs=50, seed=5)
    c = train_batchnorm(X, y, 6, BETA, epochs=50, seed=6, init="isotropic")
    assert a.objective == pytest.approx(bn_objective(X, y, a.net, BETA), rel=1e-12)
    np.testing.assert_array_equal(a.history, b.history)
    assert not np.array_equal(a.history, c.history)
    assert a.history[-1] < a.initial_objective


# ---- convex program, recovery, optimality -------------------------------------------------------------------------


def test_recovered_bn_network_attains_the_convex_objective(tiny, tiny_optimum):
    X, y = tiny
    res = tiny_optimum
    value = bn_objective(X, y, res.net, BETA)
    assert abs(value - res.objective) <= RECOVERY_RTOL * res.objective
    np.testing.assert_allclose(res.net.predict(X), res.convex.predict(res.white.basis), atol=1e-9)
    assert res.net.width == res.convex.n_active_blocks


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_no_trained_bn_network_goes_below_the_convex_optimum(tiny, tiny_optimum, optimizer):
    X, y = tiny
    lr = 0.01 if optimizer == "adam" else 0.1
    for width in (3, 20):
        for seed in (0, 1):
            run = train_batchnorm(X, y, width, BETA, optimizer=optimizer, lr=lr, epochs=400, seed=seed)
            assert run.history.min() >= tiny_optimum.objective * (1 - BELOW_OPTIMUM_RTOL), (optimizer, width, seed)


@pytest.mark.filterwarnings("ignore:.*inaccurate")  # Clarabel may stop just short of 1e-10; value checked
def test_closed_form_equals_the_solver_over_the_complete_arrangement_when_n_le_d(wide):
    X, y = wide
    white = whiten(X)
    assert white.rank == X.shape[0] - 1
    D = enumerate_patterns(white.basis)
    assert D.shape[1] == 2 ** X.shape[0] - 1  # every sign pattern: U' is invertible
    for beta in (0.05, 0.5, 1.5, 10.0):
        value, net = closed_form_batchnorm(X, y, beta)
        solved = solve_relu(white.basis, y, beta, D).objective
        assert abs(value - solved) <= CLOSED_FORM_RTOL * max(solved, 1e-12), beta
        assert net.width <= 2
        assert bn_objective(X, y, net, beta) == pytest.approx(value, rel=1e-10)


def test_truncated_program_is_a_restriction_living_in_the_top_singular_directions(tiny, tiny_optimum):
    X, y = tiny
    res = solve_batchnorm(X, y, BETA, batchnorm_patterns(X, rank=1), rank=1)
    assert res.rank == 1
    assert res.objective >= tiny_optimum.objective * (1 - BELOW_OPTIMUM_RTOL)
    assert bn_objective(X, y, res.net, BETA) == pytest.approx(res.objective, rel=RECOVERY_RTOL)
    np.testing.assert_allclose(top_singular_fraction(whiten(X), res.net, [1]), [1.0], atol=EXACT_ATOL)


def test_top_singular_fraction_of_explicit_networks(tiny):
    X, _ = tiny
    white = whiten(X)
    V, s = white.V, white.s
    # One neuron on each singular direction, contributions |gamma w2| = 3 and 1.
    W1 = np.vstack([V[:, 0] / s[0], V[:, 1] / s[1]])
    net = BatchNormNet.from_training_data(X, W1, [3.0, 1.0], [0.0, 0.0], [1.0, -1.0])
    np.testing.assert_allclose(top_singular_fraction(white, net, [1, 2]), [0.75, 1.0], atol=EXACT_ATOL)
    np.testing.assert_allclose(white.energy_fraction([2]), [1.0])
    assert white.energy_rank(1.0) == 2
    assert white.energy_rank(s[0] ** 2 / np.sum(s**2)) == 1


def test_isotropic_initialisation_has_isotropic_singular_coordinates():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5)) * np.array([10.0, 3.0, 1.0, 0.3, 0.1])
    white = whiten(X)
    run = train_batchnorm(X, rng.standard_normal(40), 4000, BETA, epochs=1, lr=1e-12, seed=0, init="isotropic")
    Z = singular_coordinates(white, run.net.W1)
    share = np.mean(Z**2, axis=0) / np.mean(np.sum(Z**2, axis=1))
    np.testing.assert_allclose(share, np.full(5, 0.2), atol=0.02)


# ---- bad input ------------------------------------------------------------------------------------------------------


def test_bad_input_raises_named_errors(tiny, wide):
    X, y = tiny
    with pytest.raises(ValueError, match="all rows of X are equal"):
        whiten(np.ones((5, 3)))
    with pytest.raises(ValueError, match="at least two rows"):
        whiten(np.ones((1, 3)))
    with pytest.raises(ValueError, match="k must be at most"):
        whiten(X).truncate(3)
    with pytest.raises(ValueError, match="rank n - 1"):
        closed_form_batchnorm(X, y, 0.1)
    with pytest.raises(ValueError, match="beta"):
        closed_form_batchnorm(*wide, -1.0)
    with pytest.raises(ValueError, match="gamma must have shape"):
        batchnorm_forward(X, np.ones((3, 2)), np.ones(2), np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="constant pre-activation"):
        batchnorm_forward(np.c_[X[:, 0], np.ones(16)], np.array([[0.0, 1.0]]), [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="r \\+ 1 = 3 columns"):
        bn_network_from_whitened(X, whiten(X), TwoLayerNet(W1=np.ones((1, 2)), w2=np.ones(1)))
    with pytest.raises(ValueError, match="ks must hold integers"):
        top_singular_fraction(whiten(X), BatchNormNet.from_training_data(X, *_random_weights(2, 2, 0)), [0, 3])
    with pytest.raises(ValueError, match="energy"):
        whiten(X).energy_rank(1.5)
    with pytest.raises(ValueError, match="optimizer"):
        train_batchnorm(X, y, 4, BETA, optimizer="lbfgs")
    with pytest.raises(ValueError, match="backend"):
        train_batchnorm(X, y, 4, BETA, backend="jax")
    with pytest.raises(ValueError, match="lr"):
        train_batchnorm(X, y, 4, BETA, lr=0.0)
    with pytest.raises(ValueError, match="width"):
        train_batchnorm(X, y, 0, BETA)
    with pytest.raises(ValueError, match="X and y"):
        solve_batchnorm(X, y[:-1], BETA, batchnorm_patterns(X))
    with pytest.raises(ValueError, match="beta"):
        solve_batchnorm(X, y, -0.1, batchnorm_patterns(X))

"""Recovery of networks from convex solutions, balancing and Caratheodory pruning.

Each property is stated on the seeded fixtures of ``conftest.py`` (n = 20, d = 3 with intercept).
"""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core.losses import loss_value
from cvxnn_core.patterns import sample_gates
from cvxnn_core.programs import solve_gated_relu
from cvxnn_core.recovery import (
    GatedNet,
    TwoLayerNet,
    balance,
    gated_network,
    nonconvex_objective,
    prune_neurons,
    relu_network,
)

PRED_ATOL_REL = 1e-8  # prediction change allowed by pruning / balancing, relative to ||y||
PENALTY_RTOL = 1e-10  # sum_j ||w1_j|| |w2_j| kept by pruning; weight decay never increased beyond this
BALANCE_RTOL = 1e-12  # ||w1_j|| == |w2_j| after recovery / balancing
GATED_ATOL = 1e-12  # gated_network(X) vs ConvexResult.predict(X) (same arithmetic up to summation order)


def _path_norm(net: TwoLayerNet) -> float:
    """``sum_j ||w1_j|| |w2_j|``: the penalty of the balanced network."""
    return float(np.sum(np.linalg.norm(net.W1, axis=1) * np.abs(net.w2)))


def _random_wide_net(d: int, width: int, seed: int) -> TwoLayerNet:
    """An unbalanced random network (first layer scaled up, second down)."""
    rng = np.random.default_rng(seed)
    return TwoLayerNet(W1=3.0 * rng.standard_normal((width, d)), w2=rng.standard_normal(width) / 3.0)


def test_relu_network_is_balanced_and_its_weight_decay_is_the_group_penalty(relu_squared_full):
    net = relu_network(relu_squared_full)
    np.testing.assert_allclose(np.linalg.norm(net.W1, axis=1), np.abs(net.w2), rtol=BALANCE_RTOL)
    penalty = np.sum(np.linalg.norm(relu_squared_full.V, axis=1)) + np.sum(np.linalg.norm(relu_squared_full.W, axis=1))
    assert net.weight_decay() == pytest.approx(penalty, rel=BALANCE_RTOL)
    assert net.width == relu_squared_full.n_active_blocks


def test_nonconvex_objective_is_loss_plus_half_beta_squared_norms(regression, binary):
    net = _random_wide_net(regression.X.shape[1], 7, seed=3)
    f = np.maximum(regression.X @ net.W1.T, 0.0) @ net.w2
    decay = 0.5 * (np.sum(net.W1**2) + np.sum(net.w2**2))
    for loss, y in (("squared", regression.y), ("hinge", binary.y), ("logistic", binary.y)):
        expected = loss_value(f, y, loss) + 0.3 * decay
        assert nonconvex_objective(regression.X, y, net, 0.3, loss) == pytest.approx(expected, rel=1e-14), loss
    assert loss_value(f, regression.y, "squared") == pytest.approx(0.5 * np.sum((f - regression.y) ** 2), rel=1e-14)
    assert loss_value(f, binary.y, "hinge") == pytest.approx(np.sum(np.maximum(0, 1 - binary.y * f)), rel=1e-14)
    assert loss_value(f, binary.y, "logistic") == pytest.approx(np.sum(np.log1p(np.exp(-binary.y * f))), rel=1e-12)


def test_relu_network_refuses_a_gated_result(regression, sampled_patterns):
    gated = solve_gated_relu(regression.X, regression.y, regression.beta, sampled_patterns)
    with pytest.raises(ValueError, match="gated_network"):
        relu_network(gated)


def test_gated_network_refuses_a_relu_result(relu_squared_sampled):
    with pytest.raises(ValueError, match="gated"):
        gated_network(relu_squared_sampled)


@pytest.mark.parametrize("gates_at", ["solve", "recovery"])
def test_gated_network_predictions_equal_convex_predictions_with_sampled_gates(regression, gates_at):
    D, G = sample_gates(regression.X, 40, seed=0)
    if gates_at == "solve":
        result = solve_gated_relu(regression.X, regression.y, regression.beta, D, gates=G)
        model = gated_network(result)
    else:
        result = solve_gated_relu(regression.X, regression.y, regression.beta, D)
        model = gated_network(result, G)
    assert isinstance(model, GatedNet)
    np.testing.assert_allclose(model.predict(regression.X), result.predict(regression.X), rtol=0, atol=GATED_ATOL)


def test_gated_network_without_gates_raises(regression, sampled_patterns):
    result = solve_gated_relu(regression.X, regression.y, regression.beta, sampled_patterns)
    with pytest.raises(ValueError, match="gates"):
        gated_network(result)


@pytest.mark.parametrize("source", ["convex_full", "convex_hinge_full", "random_wide"])
def test_prune_neurons_keeps_predictions_and_penalty_and_ends_with_at_most_n_plus_1_neurons(
    regression, relu_squared_full, relu_hinge_full, source
):
    X, y = regression.X, regression.y
    n = X.shape[0]
    if source == "convex_full":
        net = relu_network(relu_squared_full)
    elif source == "convex_hinge_full":
        net = relu_network(relu_hinge_full)
    else:
        net = _random_wide_net(X.shape[1], 3 * n, seed=0)
    pruned = prune_neurons(X, net)
    err = np.max(np.abs(pruned.predict(X) - net.predict(X)))
    assert err <= PRED_ATOL_REL * np.linalg.norm(y), f"{source}: predictions moved by {err:.2e}"
    assert _path_norm(pruned) == pytest.approx(_path_norm(net), rel=PENALTY_RTOL)
    assert pruned.width <= n + 1, f"{source}: {pruned.width} neurons > n + 1 = {n + 1}"
    assert pruned.weight_decay() <= net.weight_decay() * (1 + PENALTY_RTOL)
    np.testing.assert_allclose(np.linalg.norm(pruned.W1, axis=1), np.abs(pruned.w2), rtol=BALANCE_RTOL)


def test_pruning_a_convex_solution_keeps_its_objective(regression, relu_squared_full):
    net = relu_network(relu_squared_full)
    pruned = prune_neurons(regression.X, net)
    before = nonconvex_objective(regression.X, regression.y, net, regression.beta)
    after = nonconvex_objective(regression.X, regression.y, pruned, regression.beta)
    assert after == pytest.approx(before, rel=1e-8)


def test_pruning_strictly_reduces_a_network_wider_than_n_plus_1(regression):
    n = regression.X.shape[0]
    net = _random_wide_net(regression.X.shape[1], 3 * n, seed=1)
    assert prune_neurons(regression.X, net).width < net.width


def test_balance_keeps_predictions_and_minimises_weight_decay(regression):
    net = _random_wide_net(regression.X.shape[1], 9, seed=2)
    bal = balance(net)
    np.testing.assert_allclose(bal.predict(regression.X), net.predict(regression.X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(bal.W1, axis=1), np.abs(bal.w2), rtol=BALANCE_RTOL)
    # AM-GM: 0.5 (a^2 + b^2) >= a b, with equality for the balanced network.
    assert bal.weight_decay() == pytest.approx(_path_norm(net), rel=1e-12)
    assert bal.weight_decay() <= net.weight_decay()


def test_balance_drops_dead_neurons(regression):
    W1 = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 2.0, 1.0]])
    net = TwoLayerNet(W1=W1, w2=np.array([0.0, 5.0, -1.0]))
    bal = balance(net)
    assert bal.width == 1
    np.testing.assert_allclose(bal.predict(regression.X), net.predict(regression.X), rtol=1e-12, atol=1e-15)


def test_two_layer_net_rejects_mismatched_layers():
    with pytest.raises(ValueError, match="w2"):
        TwoLayerNet(W1=np.ones((3, 2)), w2=np.ones(4))


def test_network_rejects_data_without_the_training_intercept(regression, relu_squared_sampled):
    net = relu_network(relu_squared_sampled)
    with pytest.raises(ValueError, match="intercept"):
        net.predict(regression.Z)

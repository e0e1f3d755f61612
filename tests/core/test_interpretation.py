"""Interpretation helpers: extreme-point ratios at a convex optimum, NNLS cosines, decision grids.

* At the optimum over the complete arrangement every neuron attains the dual constraint:
  ``s_j lambda^T (X u_j)_+ = max_{||u||<=1} |lambda^T (X u)_+|`` (ratio 1 to 1e-6).
* ``cone_cosine`` agrees with a cvxpy NNLS and with hand-made cases.
* ``class_mean_similarity`` is 1 for neurons that are signed class-mean combinations and small for
  random directions.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from cvxnn_core.interpretation import (
    class_mean_similarity,
    cone_cosine,
    decision_grid,
    neuron_support_ratios,
    rectified_ellipsoid,
)
from cvxnn_core.patterns import enumerate_patterns
from cvxnn_core.programs import solve_relu
from cvxnn_core.recovery import TwoLayerNet, relu_network

RATIO_TOL = 1e-6  # |ratio - 1| for neurons carrying a non-negligible share of the weight
MIN_SHARE = 1e-4  # interior-point solutions keep ~1e-6 weight on non-optimal blocks; they are not neurons


@pytest.mark.parametrize(("n", "seed"), [(2, 0), (2, 1), (3, 0), (3, 4), (4, 2)])
def test_optimal_neurons_attain_the_support_function(n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    y = rng.standard_normal(n)
    D = enumerate_patterns(X)
    res = solve_relu(X, y, 0.1, D)
    net = relu_network(res)
    ratios = neuron_support_ratios(X, net, res.dual, D)
    share = np.linalg.norm(net.W1, axis=1) * np.abs(net.w2)
    share = share / share.sum()
    big = share >= MIN_SHARE
    assert big.any()
    assert np.max(np.abs(ratios[big] - 1.0)) <= RATIO_TOL
    # no neuron, optimal or not, can exceed the support function
    assert np.all(ratios <= 1.0 + RATIO_TOL)


def test_support_ratio_of_a_non_optimal_network_is_below_one():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 3))
    y = rng.standard_normal(3)
    D = enumerate_patterns(X)
    res = solve_relu(X, y, 0.1, D)
    other = TwoLayerNet(W1=rng.standard_normal((4, 3)), w2=rng.standard_normal(4))
    ratios = neuron_support_ratios(X, other, res.dual, D)
    assert np.all(ratios < 1.0 - 1e-3)


def test_rectified_ellipsoid_points_are_rectified_images_of_unit_vectors():
    X = np.array([[1.0, 0.3], [-0.4, 1.2]])
    U, Q = rectified_ellipsoid(X, 360)
    assert U.shape == (360, 2) and Q.shape == (360, 2)
    assert np.allclose(np.linalg.norm(U, axis=1), 1.0)
    assert np.allclose(Q, np.maximum(U @ X.T, 0.0))
    U3, Q3 = rectified_ellipsoid(np.ones((2, 3)), 50, seed=1)
    assert np.allclose(np.linalg.norm(U3, axis=1), 1.0) and Q3.shape == (50, 2)


def test_sampled_boundary_support_approaches_exact_support():
    """max over sampled unit u of |lambda^T (X u)_+| tends to the exact support (cone_support)."""
    from cvxnn_core.certificates import cone_support

    rng = np.random.default_rng(5)
    X = rng.standard_normal((2, 2))
    lam = rng.standard_normal(2)
    _, Q = rectified_ellipsoid(X, 20000)
    sampled = np.max(np.abs(Q @ lam))
    exact = cone_support(X, enumerate_patterns(X), lam).max()
    assert sampled <= exact * (1 + 1e-12)
    assert sampled >= exact * (1 - 1e-6)


def _cvxpy_nnls_cosine(w, M):
    a = cp.Variable(M.shape[1], nonneg=True)
    cp.Problem(cp.Minimize(cp.sum_squares(M @ a - w))).solve(solver="CLARABEL")
    fit = M @ a.value
    return float(w @ fit / (np.linalg.norm(w) * np.linalg.norm(fit)))


@pytest.mark.parametrize("seed", range(4))
def test_cone_cosine_matches_cvxpy_nnls(seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((12, 3))
    w = M @ np.array([1.0, -0.5, 0.3]) + 0.3 * rng.standard_normal(12)
    assert np.isclose(cone_cosine(w, M), _cvxpy_nnls_cosine(w, M), atol=1e-6)


def test_cone_cosine_hand_cases():
    M = np.eye(3)[:, :2]
    assert np.isclose(cone_cosine(np.array([1.0, 2.0, 0.0]), M), 1.0)
    assert np.isclose(cone_cosine(np.array([1.0, 0.0, 1.0]), M), 1 / np.sqrt(2))
    assert cone_cosine(np.array([-1.0, -1.0, 0.0]), M) == 0.0  # opposite to the cone
    with pytest.raises(ValueError, match="zero vector"):
        cone_cosine(np.zeros(3), M)
    with pytest.raises(ValueError, match="shape"):
        cone_cosine(np.ones(4), M)


def _toy_classes(seed=0):
    rng = np.random.default_rng(seed)
    protos = rng.standard_normal((3, 20))
    labels = np.repeat([0, 1, 2], 10)
    X = protos[labels] + 0.05 * rng.standard_normal((30, 20))
    y = np.where(labels == 0, 1.0, -1.0)
    return X, labels, y


def test_class_mean_similarity_is_one_for_signed_mean_combinations():
    X, labels, y = _toy_classes()
    means = np.stack([X[labels == c].mean(0) for c in range(3)])
    # positive neuron: + mean of class 0 (y=+1) - mean of class 1 (y=-1); negative neuron: + mean of class 2
    W1 = np.stack([2.0 * means[0] - 0.5 * means[1], 0.7 * means[2]])
    w2 = np.array([1.5, -0.3])
    sim = class_mean_similarity(W1, w2, X, labels, y)
    assert np.allclose(sim.per_neuron, 1.0, atol=1e-9)
    assert np.isclose(sim.mean, 1.0, atol=1e-9)
    assert np.allclose(sim.weights, np.linalg.norm(W1, axis=1) * np.abs(w2))
    assert np.array_equal(sim.class_signs, [1.0, -1.0, -1.0])
    # flipping the output sign of the first neuron makes it a *negative* combination: no longer explained
    flipped = class_mean_similarity(W1, -w2, X, labels, y)
    assert flipped.per_neuron[0] < 0.5


def test_class_mean_similarity_is_small_for_random_directions():
    X, labels, y = _toy_classes(1)
    rng = np.random.default_rng(2)
    W1 = rng.standard_normal((400, 20))
    w2 = np.where(rng.random(400) < 0.5, 1.0, -1.0)
    assert class_mean_similarity(W1, w2, X, labels, y).mean < 0.5


def test_class_mean_similarity_bad_input():
    X, labels, y = _toy_classes()
    W1 = np.ones((2, 20))
    with pytest.raises(ValueError, match="intercept"):
        class_mean_similarity(np.ones((2, 21)), np.ones(2), X, labels, y)
    with pytest.raises(ValueError, match="constant within each class"):
        class_mean_similarity(W1, np.ones(2), X, labels, np.where(np.arange(30) % 2 == 0, 1.0, -1.0))
    with pytest.raises(ValueError, match="w2 has"):
        class_mean_similarity(W1, np.ones(3), X, labels, y)
    with pytest.raises(ValueError, match="nothing to compare"):
        class_mean_similarity(W1, np.zeros(2), X, labels, y)


def test_decision_grid_covers_the_data_in_row_major_order():
    Z = np.array([[0.0, 0.0], [1.0, 2.0], [0.5, -1.0]])
    xx, yy, pts = decision_grid(Z, resolution=7, margin=0.1)
    assert xx.shape == yy.shape == (7, 7) and pts.shape == (49, 2)
    assert np.isclose(xx.min(), -0.1) and np.isclose(xx.max(), 1.1)
    assert np.isclose(yy.min(), -1.3) and np.isclose(yy.max(), 2.3)
    assert np.allclose(pts[:, 0].reshape(xx.shape), xx) and np.allclose(pts[:, 1].reshape(yy.shape), yy)
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        decision_grid(np.ones((4, 3)))
    with pytest.raises(ValueError, match="margin"):
        decision_grid(Z, margin=-1.0)


def test_random_data_combinations_are_signed_nonnegative_combinations_of_the_inputs():
    from cvxnn_core.interpretation import random_data_combinations

    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((7, 4)), np.where(rng.standard_normal(7) > 0, 1.0, -1.0)
    W1, w2 = random_data_combinations(X, y, 50, seed=3)
    assert W1.shape == (50, 4) and set(np.unique(w2)) <= {-1.0, 1.0}
    # Each w_k / s_k lies in the cone spanned by the label-signed inputs y_i x_i (non-negative least squares).
    from scipy.optimize import nnls

    B = (X * y[:, None]).T  # columns y_i x_i
    for w, s in zip(W1, w2, strict=True):
        a, residual = nnls(B, w / s)
        assert residual <= 1e-10 * np.linalg.norm(w)
    W1b, w2b = random_data_combinations(X, y, 50, seed=3)
    np.testing.assert_array_equal(W1, W1b)
    np.testing.assert_array_equal(w2, w2b)


def test_strongest_neurons_are_ordered_by_weight_and_skip_negligible_ones():
    from cvxnn_core.interpretation import ClassMeanSimilarity, strongest_neurons

    W1 = np.eye(4)
    w2 = np.array([1.0, -3.0, 0.001, 2.0])
    sim = ClassMeanSimilarity(per_neuron=np.array([0.1, 0.2, 0.3, 0.4]), weights=np.abs(w2), mean=0.0,
                              classes=np.array([0]), class_means=np.zeros((1, 4)), class_signs=np.array([1.0]))
    picked = strongest_neurons(W1, w2, sim, k=3)
    assert [label for label, _ in picked] == ["- 0.50 | cos 0.20", "+ 0.33 | cos 0.40", "+ 0.17 | cos 0.10"]
    assert np.array_equal(picked[0][1], W1[1])
    assert len(strongest_neurons(W1, w2, sim, k=4)) == 3  # the 0.001 neuron is below min_share


def test_similarity_controls_are_the_documented_draws():
    from cvxnn_core.interpretation import class_mean_similarity, random_data_combinations, similarity_controls

    rng = np.random.default_rng(3)
    X, labels = rng.standard_normal((12, 5)), np.repeat([0, 1, 2], 4)
    y = np.where(labels == 0, 1.0, -1.0)
    controls = similarity_controls(X, labels, y, 50, seed=7)
    draws = np.random.default_rng(7)
    gaussian = class_mean_similarity(draws.standard_normal((50, 5)), draws.choice([-1.0, 1.0], 50), X, labels, y)
    span = class_mean_similarity(*random_data_combinations(X, y, 50, seed=7), X, labels, y)
    assert np.array_equal(controls.gaussian.per_neuron, gaussian.per_neuron)
    assert controls.gaussian_q99 == np.quantile(gaussian.per_neuron, 0.99)
    assert np.array_equal(controls.data_span.per_neuron, span.per_neuron)


def test_extreme_point_instances_are_exact_and_their_neurons_attain_the_support():
    from cvxnn_core.interpretation import extreme_point_instances

    found = extreme_point_instances(2, 3, 0.1, seed=5)
    assert len(found) == 3
    draws = np.random.default_rng(6)  # instance 1 is drawn from seed + 1
    assert np.array_equal(found[1].X, draws.standard_normal((2, 2)))
    for inst in found:
        assert inst.shares.sum() == pytest.approx(1.0)
        assert np.abs(inst.ratios[inst.shares >= 1e-4] - 1.0).max() <= 1e-6
        np.testing.assert_allclose(inst.dual, inst.y - inst.net.predict(inst.X))


def test_extreme_points_need_the_global_optimum_a_restricted_one_falls_short():
    # optimal over the first pattern only: its neurons attain the restricted dual bound, not the support function
    from cvxnn_core.interpretation import extreme_point_instances

    found = extreme_point_instances(3, 4, 0.1, seed=0, n_patterns=1)
    ratios = np.concatenate([inst.ratios[inst.shares >= 1e-4] for inst in found])
    assert ratios.size and np.all(ratios <= 1 + 1e-9) and ratios.min() < 0.99


def test_decision_scores_evaluate_each_model_on_the_grid_with_an_intercept():
    from cvxnn_core.interpretation import decision_grid, decision_scores
    from cvxnn_core.recovery import TwoLayerNet

    Z = np.array([[0.0, 0.0], [1.0, 2.0], [-1.0, 1.0]])
    net = TwoLayerNet(W1=np.array([[1.0, -1.0, 0.5]]), w2=np.array([2.0]))
    scores = decision_scores(Z, {"a": net, "b": net}, resolution=5)
    _, _, points = decision_grid(Z, 5)
    assert list(scores.columns) == ["model", "x1", "x2", "score"] and len(scores) == 50
    expected = 2.0 * np.maximum(points @ np.array([1.0, -1.0]) + 0.5, 0.0)
    assert np.allclose(scores[scores["model"] == "b"]["score"], expected)

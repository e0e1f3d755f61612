r"""Reading a two-layer ReLU network: neurons as extreme points, neurons as autoencoders, decision grids.

Notation as everywhere in the package: data ``X`` ``(n, d)``, a network ``f(X) = (X W1^T)_+ w2`` with
``W1`` ``(m, d)`` and ``w2`` ``(m,)``; neuron ``j`` has unit direction ``u_j = w1_j / ||w1_j||``, sign
``s_j = sign(w2_j)`` and weight ``c_j = ||w1_j|| |w2_j|`` (its share of the penalty ``beta * sum_j c_j``).

Extreme points (Ergen & Pilanci, AISTATS 2020; JMLR 2021). The rectified ellipsoid is
``Q = {(X u)_+ : ||u|| <= 1}`` in ``R^n``. Its symmetrisation ``conv(Q u -Q)`` has support function
``sigma(lambda) = max_{||u|| <= 1} |lambda^T (X u)_+|``, and the dual of training is
``max_lambda -l^*(-lambda)`` s.t. ``sigma(lambda) <= beta``. At an optimum every neuron attains the dual
constraint: ``s_j lambda^T (X u_j)_+ = sigma(lambda) = beta``, i.e. the point ``s_j (X u_j)_+`` lies on the
supporting hyperplane ``{z : lambda^T z = beta}`` of ``conv(Q u -Q)``: optimal neurons are extreme points.
:func:`neuron_support_ratios` measures ``|lambda^T (X u_j)_+| / sigma(lambda)`` with ``sigma`` computed
exactly over a pattern set (:func:`cvxnn_core.duality.cone_support`).

Autoencoders. By the same optimality condition, ``u_j`` maximises ``s_j lambda^T D_j X u`` over its cone
``K_j``, so ``u_j`` is proportional to ``s_j Pi_{K_j}(X^T D_j lambda) = s_j Pi_{K_j}(sum_{i active} lambda_i x_i)``:
a combination of the training inputs the neuron is active on, weighted by the dual variable. For the
hinge loss ``lambda_i y_i`` is in ``[0, 1]``, so before the cone projection the weight is a *non-negative*
combination of the label-signed inputs ``s_j y_i x_i``. :func:`class_mean_similarity` replaces the inputs
by the class means ``mu_c`` and measures, for each neuron, the cosine between ``w1_j`` and its best
non-negative combination of the signed means ``s_j y_c mu_c``::

    cos_j = cos(w1_j, M_j a*),   a* = argmin_{a >= 0} ||M_j a - w1_j||,   M_j = [s_j y_c mu_c]_c

(non-negative least squares; at ``a*`` the residual is orthogonal to the fit, so ``cos_j = ||M_j a*|| / ||w1_j||``),
averaged with the weights ``c_j``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cvxnn_core._shapes import MAX_ENTRIES, check_array, check_size
from cvxnn_core._validation import (
    check_nonnegative_number,
    check_patterns,
    check_positive_int,
    check_seed,
    check_X,
    check_y,
)
from cvxnn_core.duality import cone_support
from cvxnn_core.recovery import TwoLayerNet


def decision_grid(
    Z: np.ndarray, resolution: int = 100, margin: float = 0.25, *, max_entries: int = MAX_ENTRIES
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regular grid covering the 2-D inputs ``Z`` ``(n, 2)`` for decision-region plots.

    The box is the range of each coordinate widened by ``margin`` times its length on each side.
    Returns ``xx``, ``yy`` (both ``(resolution, resolution)``, as from ``np.meshgrid``) and the grid
    points ``(resolution**2, 2)`` in row-major order, so ``scores.reshape(xx.shape)`` lines up with ``xx``.
    """
    Z = check_X(Z, "Z")
    if Z.shape[1] != 2:
        raise ValueError(f"Z must have shape (n, 2) (raw 2-D inputs, no intercept column), got {Z.shape}")
    resolution = check_positive_int(resolution, "resolution")
    margin = check_nonnegative_number(margin, "margin")
    check_size(4 * resolution**2, check_positive_int(max_entries, "max_entries"), what="a grid, entries",
               keyword="max_entries", alternative="use a smaller resolution")
    lo, hi = Z.min(axis=0), Z.max(axis=0)
    pad = margin * np.maximum(hi - lo, 1e-12)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    xx, yy = np.meshgrid(xs, ys)
    return xx, yy, np.c_[xx.ravel(), yy.ravel()]


def decision_scores(Z: np.ndarray, models: Mapping[str, TwoLayerNet], resolution: int = 100) -> pd.DataFrame:
    """The score of every model on the :func:`decision_grid` of the 2-D inputs ``Z`` (an intercept column is
    appended, as in training): a tidy frame with columns ``model``, ``x1``, ``x2``, ``score``."""
    if not isinstance(models, Mapping) or not models:
        raise TypeError(f"models must map names to networks (a non-empty dict), got {type(models).__name__}")
    _, _, points = decision_grid(Z, resolution)
    G = np.hstack([points, np.ones((points.shape[0], 1))])
    return pd.concat([pd.DataFrame({"model": name, "x1": points[:, 0], "x2": points[:, 1], "score": net.predict(G)})
                      for name, net in models.items()], ignore_index=True)


def rectified_ellipsoid(X: np.ndarray, n_points: int = 720, *, seed: int = 0,
                        max_entries: int = MAX_ENTRIES) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(X u)_+`` of the rectified ellipsoid for unit vectors ``u``: returns ``(U, Q)``.

    ``U`` is ``(n_points, d)``: for ``d = 2`` the angles ``2 pi k / n_points`` on the unit circle
    (deterministic), otherwise normalised Gaussian draws (``seed``). ``Q = (U X^T)_+`` is ``(n_points, n)``:
    row ``k`` is ``(X u_k)_+``, a point on the image of the unit sphere (the boundary part of
    ``Q = {(Xu)_+ : ||u|| <= 1}`` that carries its extreme points).
    """
    X = check_X(X)
    n_points = check_positive_int(n_points, "n_points")
    seed = check_seed(seed)
    d = X.shape[1]
    check_size(n_points * (X.shape[0] + d), check_positive_int(max_entries, "max_entries"),
               what="points of the ellipsoid, entries", keyword="max_entries", alternative="use fewer points")
    if d == 2:
        t = 2.0 * np.pi * np.arange(n_points) / n_points
        U = np.c_[np.cos(t), np.sin(t)]
    else:
        U = np.random.default_rng(seed).standard_normal((n_points, d))
        U /= np.linalg.norm(U, axis=1, keepdims=True)
    return U, np.maximum(U @ X.T, 0.0)


def neuron_support_ratios(X: np.ndarray, net: TwoLayerNet, lam: np.ndarray, patterns: np.ndarray) -> np.ndarray:
    r"""``s_j lambda^T (X u_j)_+ / max_{||u|| <= 1} |lambda^T (X u)_+|`` for every neuron: shape ``(m,)``.

    ``u_j = w1_j / ||w1_j||``, ``s_j = sign(w2_j)``. The maximum (the support function of
    ``conv(Q u -Q)`` in direction ``lambda``) is computed exactly over ``patterns`` with
    :func:`~cvxnn_core.duality.cone_support`; with the complete arrangement
    (``enumerate_patterns``) it is the maximum over the whole sphere. A ratio of 1 means the neuron's
    signed point ``s_j (X u_j)_+`` lies on the supporting hyperplane ``lambda^T z = sigma(lambda)``.
    Neurons with ``w1_j = 0`` or ``w2_j = 0`` get ``nan``.
    """
    X = check_X(X)
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a recovery.TwoLayerNet, got {type(net).__name__}")
    lam = check_y(lam, X.shape[0], name="lam")
    patterns = check_patterns(patterns, X.shape[0])
    if net.W1.shape[1] != X.shape[1]:
        raise ValueError(f"net expects {net.W1.shape[1]} input columns but X has {X.shape[1]}")
    sigma = float(cone_support(X, patterns, lam).max(initial=0.0))
    if sigma <= 0:
        raise ValueError("lam is orthogonal to every (X u)_+ (support function 0); pass the dual point of a solve")
    norms = np.linalg.norm(net.W1, axis=1)
    out = np.full(net.width, np.nan)
    ok = (norms > 0) & (net.w2 != 0)
    U = net.W1[ok] / norms[ok, None]
    out[ok] = np.sign(net.w2[ok]) * (np.maximum(X @ U.T, 0.0).T @ lam) / sigma
    return out


def cone_cosine(w: np.ndarray, M: np.ndarray) -> float:
    """Cosine between ``w`` ``(d,)`` and its best non-negative combination ``M a*`` of the columns of ``M`` ``(d, k)``.

    ``a* = argmin_{a >= 0} ||M a - w||`` (NNLS); at the optimum ``w - M a*`` is orthogonal to ``M a*``, so the
    cosine is ``||M a*|| / ||w||``, in ``[0, 1]`` (0 when no non-negative combination correlates with ``w``).
    """
    from scipy.optimize import lsq_linear

    w = check_array(np.ravel(w), "w", (None,), labels=("d",))
    M = check_array(M, "M", (w.shape[0], None), labels=("d", "k"), fix="one column per combined vector")
    if M.ndim != 2 or M.shape[0] != w.shape[0]:
        raise ValueError(f"M must have shape (d, k) = ({w.shape[0]}, k) to match w, got {M.shape}")
    nw = float(np.linalg.norm(w))
    if nw == 0:
        raise ValueError("w is the zero vector; its cosine with anything is undefined")
    # Bounded-variable least squares (Stark & Parker): scipy's nnls (1.15+) can stop at non-optimal points.
    a = lsq_linear(M, w, bounds=(0.0, np.inf), method="bvls", tol=1e-12).x
    fit = M @ a
    nf = float(np.linalg.norm(fit))
    return 0.0 if nf == 0 else float(np.clip(w @ fit / (nw * nf), 0.0, 1.0))


@dataclass(frozen=True)
class ClassMeanSimilarity:
    """Output of :func:`class_mean_similarity`.

    ``per_neuron`` ``(m,)``: cosine of each neuron with its best non-negative combination of the signed
    class means; ``weights`` ``(m,)``: ``c_j = ||w1_j|| |w2_j|``; ``mean``: the ``c``-weighted average;
    ``classes`` ``(k,)`` and ``class_means`` ``(k, d)``; ``class_signs`` ``(k,)``: the label ``y`` of each class.
    """

    per_neuron: np.ndarray
    weights: np.ndarray
    mean: float
    classes: np.ndarray
    class_means: np.ndarray
    class_signs: np.ndarray


def class_mean_similarity(
    W1: np.ndarray, w2: np.ndarray, X: np.ndarray, labels: np.ndarray, y: np.ndarray
) -> ClassMeanSimilarity:
    r"""How much each neuron looks like a non-negative combination of label-signed class means.

    Args:
        W1: first-layer weights ``(m, d)`` *without* the intercept column (``net.W1[:, :-1]``).
        w2: second-layer weights ``(m,)``; only their signs and magnitudes (for the weights) are used.
        X: inputs ``(n, d)`` without the intercept column (the space the images live in).
        labels: class of each sample ``(n,)`` (any hashable numbers); class means are taken per label.
        y: the binary target ``(n,)`` in ``{-1, +1}``, constant within each class.

    For neuron ``j`` the dictionary is ``M_j = [s_j y_c mu_c]_c`` and the score is
    :func:`cone_cosine` ``(w1_j, M_j)`` (see the module docstring for why this is the autoencoder form).
    Neurons with ``c_j = 0`` get weight 0 and score ``nan``.
    """
    X = check_X(X)
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != X.shape[0]:
        raise ValueError(f"labels has {labels.shape[0]} entries but X has {X.shape[0]} rows")
    y = check_y(y, X.shape[0])
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("y must hold labels in {-1, +1}")
    W1 = check_X(W1, "W1")
    w2 = np.asarray(w2, dtype=float).reshape(-1)
    if not np.all(np.isfinite(w2)):
        raise ValueError("w2 contains NaN or inf; pass finite weights")
    if W1.shape[1] != X.shape[1]:
        raise ValueError(
            f"W1 has {W1.shape[1]} columns but X has {X.shape[1]}; drop the intercept column (net.W1[:, :-1])"
        )
    if w2.shape[0] != W1.shape[0]:
        raise ValueError(f"w2 has {w2.shape[0]} entries but W1 has {W1.shape[0]} rows")
    classes = np.unique(labels)
    means = np.stack([X[labels == c].mean(axis=0) for c in classes])
    signs = []
    for c in classes:
        yc = np.unique(y[labels == c])
        if yc.size != 1:
            raise ValueError(f"y must be constant within each class; class {c!r} has labels {yc.tolist()}")
        signs.append(yc[0])
    signs = np.asarray(signs)
    weights = np.linalg.norm(W1, axis=1) * np.abs(w2)
    if not np.any(weights > 0):
        raise ValueError("every neuron has ||w1_j|| |w2_j| = 0; there is nothing to compare")
    scores = np.full(W1.shape[0], np.nan)
    for j in np.flatnonzero(weights > 0):
        scores[j] = cone_cosine(W1[j], (np.sign(w2[j]) * signs[:, None] * means).T)
    keep = weights > 0
    mean = float(np.sum(scores[keep] * weights[keep]) / np.sum(weights[keep]))
    return ClassMeanSimilarity(scores, weights, mean, classes, means, signs)


def strongest_neurons(
    W1: np.ndarray, w2: np.ndarray, similarity: ClassMeanSimilarity, k: int = 6, min_share: float = 0.01
) -> list[tuple[str, np.ndarray]]:
    """The at most ``k`` neurons with the largest weight ``c_j = ||w1_j|| |w2_j|`` holding at least ``min_share``
    of ``sum_j c_j``, strongest first, as ``(label, w1_j)``: the label reads ``<sign of w2_j> <share> | cos <cosine
    to the class means>`` (``similarity`` from :func:`class_mean_similarity` on the same ``W1``, ``w2``)."""
    if not isinstance(similarity, ClassMeanSimilarity):
        raise TypeError(f"similarity must be an interpretation.ClassMeanSimilarity (from class_mean_similarity), got "
                        f"{type(similarity).__name__}")
    W1 = check_X(W1, "W1")
    w2 = check_array(np.ravel(w2), "w2", (W1.shape[0],), labels=("m",))
    if W1.shape[0] != similarity.weights.size:
        raise ValueError(f"W1 has {W1.shape[0]} rows but similarity has {similarity.weights.size} neurons; pass the "
                         "W1 and w2 the similarity was computed from")
    k = check_positive_int(k, "k")
    min_share = check_nonnegative_number(min_share, "min_share")
    if min_share > 1:
        raise ValueError(f"min_share must lie in [0, 1] (a share of the total weight), got {min_share!r}")
    share = similarity.weights / similarity.weights.sum()
    order = [j for j in np.argsort(-similarity.weights)[:k] if share[j] >= min_share]
    return [(f"{'+' if w2[j] > 0 else '-'} {share[j]:.2f} | cos {similarity.per_neuron[j]:.2f}", W1[j]) for j in order]


def random_data_combinations(
    X: np.ndarray, y: np.ndarray, n_directions: int, *, seed: int = 0, max_entries: int = MAX_ENTRIES
) -> tuple[np.ndarray, np.ndarray]:
    r"""Random neurons of the autoencoder form with a random dual point: a control for :func:`class_mean_similarity`.

    ``n_directions (n + d)`` entries above ``max_entries`` are refused.

    ``w_k = s_k X^T (a_k * y)`` with weights ``a_k`` uniform on ``[0, 1]^n`` and a random sign ``s_k``: a
    non-negative combination of the label-signed inputs, as every optimal neuron is (with ``a = lambda y`` on its
    active samples, before the cone projection), but with no optimisation behind it. Returns ``(W1, w2)`` with
    ``W1`` ``(n_directions, d)`` and ``w2 = s`` ``(n_directions,)``, ready for :func:`class_mean_similarity`.
    """
    X = check_X(X)
    y = check_y(y, X.shape[0])
    n_directions = check_positive_int(n_directions, "n_directions")
    check_size(n_directions * (X.shape[0] + X.shape[1]), check_positive_int(max_entries, "max_entries"),
               what="random neurons, entries", keyword="max_entries", alternative="draw fewer directions")
    rng = np.random.default_rng(check_seed(seed))
    A = rng.uniform(0.0, 1.0, size=(n_directions, X.shape[0]))
    signs = rng.choice([-1.0, 1.0], size=n_directions)
    return signs[:, None] * ((A * y[None, :]) @ X), signs


@dataclass(frozen=True)
class SimilarityControls:
    """The two controls of :func:`class_mean_similarity` (:func:`similarity_controls`): ``gaussian`` (random
    directions with random signs), its 99th percentile over directions ``gaussian_q99``, and ``data_span``
    (random non-negative combinations of the signed inputs, :func:`random_data_combinations`)."""

    gaussian: ClassMeanSimilarity
    gaussian_q99: float
    data_span: ClassMeanSimilarity


def similarity_controls(
    X: np.ndarray, labels: np.ndarray, y: np.ndarray, n_directions: int, *, seed: int = 0,
    max_entries: int = MAX_ENTRIES,
) -> SimilarityControls:
    """What :func:`class_mean_similarity` gives without optimisation, on the same data: ``n_directions`` Gaussian
    directions ``N(0, I)`` with random signs, and as many random non-negative combinations of the label-signed
    inputs. A learned neuron resembles the class means only as far as it beats these."""
    X = check_X(X)
    n_directions = check_positive_int(n_directions, "n_directions")
    check_size(n_directions * (X.shape[0] + X.shape[1]), check_positive_int(max_entries, "max_entries"),
               what="random neurons, entries", keyword="max_entries", alternative="draw fewer directions")
    rng = np.random.default_rng(check_seed(seed))
    gaussian = class_mean_similarity(rng.standard_normal((n_directions, X.shape[1])),
                                     rng.choice([-1.0, 1.0], n_directions), X, labels, y)
    W_span, s_span = random_data_combinations(X, y, n_directions, seed=seed, max_entries=max_entries)
    return SimilarityControls(gaussian, float(np.quantile(gaussian.per_neuron, 0.99)),
                              class_mean_similarity(W_span, s_span, X, labels, y))


@dataclass(frozen=True)
class ExtremePointInstance:
    """A random instance solved over its arrangement: data ``X`` ``(n, n)``, targets ``y``, the dual point
    ``dual = y - f(X)`` (the residual of the solved network, the optimal dual of the squared loss), the solved
    ``net``, and per neuron its support ratio over the *complete* arrangement (:func:`neuron_support_ratios`) and its
    share ``c_j / sum_k c_k`` of the penalty."""

    X: np.ndarray
    y: np.ndarray
    dual: np.ndarray
    net: TwoLayerNet
    ratios: np.ndarray
    shares: np.ndarray


def extreme_point_instances(n: int, n_instances: int, beta: float, *, seed: int = 0,
                            n_patterns: int | None = None) -> list[ExtremePointInstance]:
    """Instances ``k = 0 .. n_instances - 1`` with ``X`` ``(n, n)`` and ``y`` ``(n,)`` i.i.d. ``N(0, 1)`` (drawn in that
    order from a generator seeded ``seed + k``), each solved exactly (:func:`cvxnn_core.programs.solve_relu` over
    :func:`cvxnn_core.patterns.enumerate_patterns`): the optimal neurons should all have ratio 1 (extreme points).

    ``n_patterns`` solves each instance over only the first that many patterns of its arrangement (a strict
    restriction when fewer than all: its neurons need not reach the support function over the complete arrangement,
    against which the ratios are always taken); ``None`` uses every pattern."""
    from cvxnn_core.patterns import enumerate_patterns
    from cvxnn_core.programs import solve_relu
    from cvxnn_core.recovery import relu_network

    n = check_positive_int(n, "n")
    n_instances = check_positive_int(n_instances, "n_instances")
    if n_patterns is not None:
        n_patterns = check_positive_int(n_patterns, "n_patterns")
    out = []
    for k in range(n_instances):
        rng = np.random.default_rng(check_seed(seed) + k)
        X, y = rng.standard_normal((n, n)), rng.standard_normal(n)
        D = enumerate_patterns(X)
        net = relu_network(solve_relu(X, y, beta, D[:, :n_patterns]))
        residual = y - net.predict(X)
        c = np.linalg.norm(net.W1, axis=1) * np.abs(net.w2)
        out.append(ExtremePointInstance(X, y, residual, net, neuron_support_ratios(X, net, residual, D), c / c.sum()))
    return out

"""The convex program of BN networks on whitened data, recovery, the closed form and where the first layer lies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_ks,
    check_X,
    check_X_y,
)
from cvxnn_core.batchnorm.network import BatchNormNet, WhitenedData, _truncate, whiten
from cvxnn_core.losses import Loss
from cvxnn_core.recovery import TwoLayerNet

# --------------------------------------------------------------------------------------------------------------
# Convex program, recovery, closed form
# --------------------------------------------------------------------------------------------------------------


def bn_network_from_whitened(X: np.ndarray, white: WhitenedData, net: TwoLayerNet) -> BatchNormNet:
    """BN network equal, on the training data ``X``, to the ReLU network ``net`` on the basis ``U'`` of ``white``.

    Neuron ``(q, alpha) = W1[j]`` of ``net`` (``(r + 1,)``), output ``w2_j``::

        gamma_j = ||q||,   w1_j = V S^{-1} q / ||q||,   alpha_j = alpha,   w2_j unchanged

    so that ``BN(X w1_j) = U q + alpha / sqrt(n) = U' (q, alpha)`` and ``gamma_j^2 + alpha_j^2 = ||(q, alpha)||^2``:
    predictions and objective are those of ``net``. A neuron with ``q = 0`` gets ``gamma = 0`` and the top
    singular direction as ``w1`` (its BN output is the constant ``alpha / sqrt(n)``).
    """
    X = check_X(X)
    _check_white(white)
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a recovery.TwoLayerNet, got {type(net).__name__}")
    if X.shape[0] != white.n or X.shape[1] != white.V.shape[0]:
        raise ValueError(
            f"X has shape {X.shape} but white was computed from data of shape {(white.n, white.V.shape[0])}"
        )
    if net.free_bias:
        raise ValueError("net must penalise every weight (free_bias=False): BN's shift alpha is penalised")
    r = white.rank
    if net.W1.shape[1] != r + 1:
        raise ValueError(f"net.W1 must have r + 1 = {r + 1} columns (the whitened basis U'), got {net.W1.shape[1]}")
    Q, alpha = net.W1[:, :r], net.W1[:, r]
    gamma = np.linalg.norm(Q, axis=1)
    directions = np.where(gamma[:, None] > 0, Q / np.where(gamma > 0, gamma, 1.0)[:, None], np.eye(r)[0])
    W1 = (directions / white.s) @ white.V.T
    return BatchNormNet.from_training_data(X, W1, gamma, alpha, net.w2)


@dataclass(frozen=True)
class BatchNormResult:
    """Solution of :func:`solve_batchnorm`: ``objective`` (the convex optimum), ``convex`` (the
    :class:`~cvxnn_core.programs.ConvexResult` on the basis ``U'``), ``white`` (the SVD used, truncated when
    ``rank`` was given) and ``net``, the recovered :class:`BatchNormNet`."""

    objective: float
    convex: Any = field(repr=False)
    white: WhitenedData = field(repr=False)
    net: BatchNormNet = field(repr=False)
    rank: int


def solve_batchnorm(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    rank: int | None = None,
    loss: Loss = "squared",
    solver: str | None = None,
) -> BatchNormResult:
    """Convex program of BN-ReLU training: :func:`~cvxnn_core.programs.solve_relu` on ``U' = [U, 1/sqrt(n)]``.

    Args:
        X: raw data ``(n, d)`` (no intercept column: BN's shift plays the bias).
        y: targets ``(n,)``; labels ``+-1`` for hinge/logistic.
        beta: weight decay ``>= 0`` on ``gamma``, ``alpha`` and ``w2``.
        patterns: boolean ``(n, P)`` patterns of ``U'`` (:func:`batchnorm_patterns`; with every pattern of the
            arrangement the optimum is the global optimum of BN training over all widths).
        rank: keep only the top-``rank`` singular directions (the implicit-regularisation variant); ``None``
            keeps all ``r``. Patterns must then be those of the truncated basis (``batchnorm_patterns(X, ...,
            rank=rank)``).
        loss, solver: as in :func:`~cvxnn_core.programs.solve_relu`.
    """
    from cvxnn_core.programs import solve_relu
    from cvxnn_core.recovery import relu_network

    X, y = check_X_y(X, y)
    white = _truncate(whiten(X), rank)
    result = solve_relu(white.basis, y, beta, patterns, loss=loss, solver=solver)
    net = bn_network_from_whitened(X, white, relu_network(result))
    return BatchNormResult(objective=result.objective, convex=result, white=white, net=net, rank=white.rank)


def closed_form_batchnorm(X: np.ndarray, y: np.ndarray, beta: float) -> tuple[float, BatchNormNet]:
    """Global optimum of BN-ReLU training with the squared loss when ``X_c`` has rank ``n - 1`` (``n <= d + 1``).

    Then ``U'`` is an orthogonal ``n x n`` matrix (the samples are whitened) and the optimum is
    :func:`cvxnn_core.closed_form.whitened_relu` on ``U'``: with ``y_+ = max(y, 0)``, ``y_- = max(-y, 0)``,
    ``p* = h(||y_+||) + h(||y_-||)``, ``h(t) = t^2/2`` for ``t <= beta`` and ``beta t - beta^2/2`` otherwise, attained
    by at most two BN neurons, whose outputs ``(1 - beta/||y_+-||)_+ y_+-`` are the soft-thresholded halves of ``y``.

    Returns:
        ``(objective, net)``.

    Raises:
        ValueError: the centred data have rank below ``n - 1`` (e.g. ``n > d + 1``), or bad ``y``/``beta``.
    """
    from cvxnn_core.closed_form import whitened_relu

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    white = whiten(X)
    if white.rank != white.n - 1:
        raise ValueError(
            f"closed_form_batchnorm needs centred data of rank n - 1 = {white.n - 1} (overparameterised regime, "
            f"n <= d + 1 in general position); X has shape {X.shape} and centred rank {white.rank}"
        )
    objective, net = whitened_relu(white.basis, y, beta)
    return objective, bn_network_from_whitened(X, white, net)


# --------------------------------------------------------------------------------------------------------------
# Implicit regularisation: where the first layer lies in the singular basis
# --------------------------------------------------------------------------------------------------------------


def singular_coordinates(white: WhitenedData, W1: np.ndarray) -> np.ndarray:
    """``Z = W1 V S`` ``(m, r)``: row ``j`` is ``z_j = S V^T w1_j``, the centred pre-activation in the basis ``U``
    (``X_c w1_j = U z_j``). BN uses ``z_j / ||z_j||``."""
    _check_white(white)
    W1 = check_array(np.atleast_2d(W1) if np.ndim(W1) == 1 else W1, "W1", (None, white.V.shape[0]),
                     labels=("m", "d"))
    return (W1 @ white.V) * white.s


def _check_white(white: object) -> None:
    if not isinstance(white, WhitenedData):
        raise TypeError(f"white must be a batchnorm.WhitenedData (from batchnorm.whiten(X)), got "
                        f"{type(white).__name__}")


def top_singular_fraction(white: WhitenedData, net: BatchNormNet, ks: Sequence[int] | np.ndarray) -> np.ndarray:
    """Share of the first layer in the top-``k`` singular directions, for each ``k`` in ``ks``::

        F(k) = sum_j c_j ||z_j[:k]||^2 / ||z_j||^2  /  sum_j c_j,     c_j = |gamma_j w2_j|,

    with ``z_j`` from :func:`singular_coordinates`: each neuron's unit BN direction, weighted by how much it
    contributes. Baselines: ``k / r`` for directions uniform on the sphere of ``R^r``; ``sum_{i<=k} s_i^2 /
    sum_i s_i^2`` (ratio of expectations) for ``z = S V^T w1`` with isotropic ``w1`` (a random initialisation).
    """
    _check_white(white)
    if not isinstance(net, BatchNormNet):
        raise TypeError(f"net must be a batchnorm.BatchNormNet, got {type(net).__name__}")
    ks = check_ks(ks, white.rank)
    Z = singular_coordinates(white, net.W1)
    energy = Z**2
    total = energy.sum(axis=1)
    c = np.abs(net.gamma * net.w2)
    keep = (total > 0) & (c > 0)
    if not np.any(keep):
        raise ValueError("net has no neuron with a non-zero contribution |gamma_j w2_j|")
    cum = np.cumsum(energy[keep], axis=1) / total[keep, None]
    weights = c[keep] / c[keep].sum()
    return weights @ cum[:, ks - 1]



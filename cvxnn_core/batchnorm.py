r"""Two-layer ReLU networks with batch normalization (BN) and their convex equivalent on whitened data.

Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci, "Demystifying Batch Normalization in ReLU Networks:
Equivalent Convex Optimization Models and Implicit Regularization", ICLR 2022 (arXiv 2103.01499).

The network and its objective (the convention of this module)
--------------------------------------------------------------
BN acts on the pre-activation ``h = X w1`` of one neuron over the batch of all ``n`` training samples
(train-mode statistics, no epsilon)::

    BN_{gamma, alpha}(h) = gamma * (h - mean(h) 1) / ||h - mean(h) 1||_2  +  alpha / sqrt(n) * 1

(the paper's normalisation: unit *Euclidean norm*, not unit variance; it is the usual
``gamma' (h - mu) / sigma + alpha'`` with ``sigma^2 = ||h - mu||^2 / n``, ``gamma' = gamma / sqrt(n)`` and
``alpha' = alpha / sqrt(n)``). The network and its training objective are::

    f(X) = sum_j BN_{gamma_j, alpha_j}(X w1_j)_+ w2_j
    l(f(X), y) + (beta / 2) * sum_j (gamma_j^2 + alpha_j^2 + w2_j^2).

Weight decay is on the BN scale ``gamma``, the BN shift ``alpha`` and the output weights ``w2``, not on ``W1``:
BN is invariant to the scale of ``w1`` (penalising it would only shrink ``w1`` towards 0 without changing
the infimum), and a first-layer bias would be cancelled by the centring, so ``W1`` has none.

The convex program (whitening)
------------------------------
Centre the data and take a thin SVD of rank ``r``: ``X_c = X - 1 mean^T = U S V^T``, ``U`` ``(n, r)``. With
``z = S V^T w1`` (any vector of ``R^r`` as ``w1`` ranges over ``R^d``), ``X_c w1 = U z`` and ``||U z|| = ||z||``,
so ``BN(X w1) = U q + alpha 1 / sqrt(n)`` with ``q = gamma z / ||z||`` (any vector with ``||q|| = |gamma|``). With
the *whitened basis* ``U' = [U, 1 / sqrt(n)]`` (orthonormal columns, ``U'^T U' = I_{r+1}``) a BN neuron is a
plain ReLU neuron on ``U'`` with first-layer weights ``(q, alpha)`` and the same penalty
``gamma^2 + alpha^2 = ||(q, alpha)||^2``. The BN network is therefore the ordinary two-layer ReLU network on the
data ``U'`` with every weight penalised, and (Pilanci & Ergen 2020) its training problem is the convex program::

    min  l(sum_i D_i U' (v_i - w_i)) + beta * sum_i (||v_i|| + ||w_i||)
    s.t. (2 D_i - I) U' v_i >= 0,  (2 D_i - I) U' w_i >= 0,

over the patterns ``D_i`` of ``U'`` (the arrangement of ``U'`` is that of ``[X, 1]``: same column space). The
data enter only through the whitened ``U``: BN whitens. Recovery (:func:`bn_network_from_whitened`): a
neuron ``(q, alpha)``, ``w2`` of the ReLU network on ``U'`` becomes ``gamma = ||q||``,
``w1 = V S^{-1} q / ||q||`` (so ``X_c w1 = U q / ||q||`` has unit norm), ``alpha``, ``w2``.

Closed form (overparameterised regime, ``n <= d``). If ``X_c`` has rank ``n - 1``, ``U'`` is an orthogonal
``n x n`` matrix: the data are exactly whitened (``U' U'^T = I_n``) and the squared-loss optimum is the
soft-thresholded split of ``y`` into its positive and negative parts (:func:`cvxnn_core.closed_form.whitened_relu`),
two neurons at most (:func:`closed_form_batchnorm`).

Implicit regularisation of gradient descent
-------------------------------------------
The network depends on ``w1`` only through ``z = S V^T w1`` (its coordinates in the singular basis), and
``grad_{w1} = V S grad_z``; gradient flow on ``w1`` moves ``z`` as ``dz/dt = -S^2 grad_z``. Directions with large
singular values are learned fast, those with small ones barely move from their (already small,
``z_k = s_k v_k^T w1``) initial values: GD-trained BN networks concentrate on the top singular directions, while
the convex program treats all whitened directions alike. The convex variant that encodes this bias keeps
only the top-``k`` singular directions, ``U'_k = [U_k, 1 / sqrt(n)]`` (``rank=k`` in :func:`solve_batchnorm`);
:func:`top_singular_fraction` measures the concentration. (We chose the truncation; the paper's exact
surrogate is not reproduced from its text.)

Shapes: ``X`` ``(n, d)``; ``W1`` ``(m, d)``; ``gamma``, ``alpha``, ``w2`` ``(m,)``; patterns ``(n, P)`` boolean.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from cvxnn_core._linalg import RELATIVE_RANK_RTOL, centred_svd
from cvxnn_core._training import TrainResult, limit_threads, sweep
from cvxnn_core._validation import (
    check_beta,
    check_bn_weights,
    check_choice,
    check_ks,
    check_labels_pm1,
    check_loss,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
    check_X_y,
)
from cvxnn_core.losses import Loss, loss_value
from cvxnn_core.recovery import TwoLayerNet

Optimizer = Literal["adam", "sgd"]
Backend = Literal["numpy", "torch"]
Init = Literal["gaussian", "isotropic"]
DEFAULT_LR = {"adam": 1e-2, "sgd": 1e-2}


# --------------------------------------------------------------------------------------------------------------
# Whitening
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WhitenedData:
    """Thin SVD of the centred data ``X - 1 mean^T = U diag(s) V^T`` (rank ``r``) and the whitened basis.

    ``mean`` ``(d,)``, ``U`` ``(n, r)``, ``s`` ``(r,)`` (decreasing), ``V`` ``(d, r)``. ``basis`` is
    ``U' = [U, 1 / sqrt(n)]`` ``(n, r + 1)`` with orthonormal columns: the data matrix of the convex program.
    """

    mean: np.ndarray
    U: np.ndarray
    s: np.ndarray
    V: np.ndarray

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.U.shape[0])

    @property
    def rank(self) -> int:
        """Rank ``r`` of the centred data (or the number of directions kept by :meth:`truncate`)."""
        return int(self.s.shape[0])

    @property
    def basis(self) -> np.ndarray:
        """``U' = [U, 1 / sqrt(n)]``, shape ``(n, r + 1)``, ``U'^T U' = I``."""
        return np.hstack([self.U, np.full((self.n, 1), 1.0 / np.sqrt(self.n))])

    def energy_fraction(self, ks: Sequence[int] | np.ndarray) -> np.ndarray:
        """``sum_{i<=k} s_i^2 / sum_i s_i^2`` for each ``k`` in ``ks``: the data's share in the top-``k`` directions."""
        ks = check_ks(ks, self.rank)
        return np.cumsum(self.s**2)[ks - 1] / np.sum(self.s**2)

    def energy_rank(self, energy: float) -> int:
        """Smallest ``k`` whose top-``k`` directions hold at least the share ``energy`` in ``(0, 1]`` of ``sum s^2``."""
        if isinstance(energy, bool) or not isinstance(energy, int | float) or not 0 < energy <= 1:
            raise ValueError(f"energy must be a number in (0, 1], got {energy!r}")
        share = np.cumsum(self.s**2) / np.sum(self.s**2)
        return int(min(np.searchsorted(share, energy - 1e-12) + 1, self.rank))

    def truncate(self, k: int) -> WhitenedData:
        """The top-``k`` singular directions only (``1 <= k <= r``)."""
        k = check_positive_int(k, "k")
        if k > self.rank:
            raise ValueError(f"k must be at most the rank r = {self.rank} of the centred data, got {k}")
        return WhitenedData(mean=self.mean, U=self.U[:, :k], s=self.s[:k], V=self.V[:, :k])


def whiten(X: np.ndarray) -> WhitenedData:
    """Centre ``X`` and take its thin SVD, keeping the ``r`` singular values above ``1e-10`` times the largest.

    Raises:
        ValueError: ``X`` has fewer than two rows, or all rows are equal (BN is undefined: ``h - mean(h) = 0``).
    """
    X = check_X(X)
    if X.shape[0] < 2:
        raise ValueError(f"X must have at least two rows (BN normalises over the batch), got shape {X.shape}")
    mean, U, s, V = centred_svd(X, RELATIVE_RANK_RTOL)
    if s.size == 0:
        raise ValueError("all rows of X are equal: every BN pre-activation is constant and BN is undefined")
    return WhitenedData(mean=mean, U=U, s=s, V=V)


def batchnorm_patterns(
    X: np.ndarray, n_patterns: int | None = None, *, rank: int | None = None, seed: int = 0
) -> np.ndarray:
    """Activation patterns of the whitened basis ``U'`` (top-``rank`` directions if ``rank`` is given).

    ``n_patterns=None`` enumerates the complete arrangement (:func:`~cvxnn_core.patterns.enumerate_patterns`;
    small rank or small ``n`` only), otherwise ``n_patterns`` Gaussian gates are sampled with ``seed``.
    """
    from cvxnn_core.patterns import enumerate_patterns, sample_patterns

    white = whiten(X)
    if rank is not None:
        white = white.truncate(rank)
    if n_patterns is None:
        return enumerate_patterns(white.basis)
    return sample_patterns(white.basis, n_patterns, seed=seed)


# --------------------------------------------------------------------------------------------------------------
# The BN network in numpy
# --------------------------------------------------------------------------------------------------------------


def batchnorm_forward(
    X: np.ndarray, W1: np.ndarray, gamma: np.ndarray, alpha: np.ndarray, w2: np.ndarray
) -> np.ndarray:
    """Train-mode output ``sum_j BN_{gamma_j, alpha_j}(X w1_j)_+ w2_j``, statistics over the rows of ``X``.

    Raises:
        ValueError: shapes disagree, or some neuron has a constant pre-activation (``X_c w1_j = 0``).
    """
    X = check_X(X)
    W1, gamma, alpha, w2 = check_bn_weights(W1, gamma, alpha, w2)
    if W1.shape[1] != X.shape[1]:
        raise ValueError(f"W1 must have shape (m, {X.shape[1]}) to match X, got {W1.shape}")
    H = X @ W1.T
    Hc = H - H.mean(axis=0)
    norms = np.linalg.norm(Hc, axis=0)
    if np.any(norms <= 1e-12 * np.max(np.abs(H), axis=0, initial=0.0) + 1e-300):
        bad = int(np.argmin(norms))
        raise ValueError(f"neuron {bad} has a constant pre-activation X W1[{bad}] on these data: BN is undefined")
    bn = gamma * Hc / norms + alpha / np.sqrt(X.shape[0])
    return np.maximum(bn, 0.0) @ w2


@dataclass(frozen=True)
class BatchNormNet:
    """Two-layer BN-ReLU network ``f(X) = sum_j BN_{gamma_j, alpha_j}(X w1_j)_+ w2_j`` (module docstring).

    ``W1`` ``(m, d)``; ``gamma``, ``alpha``, ``w2`` ``(m,)``. ``pre_mean``, ``pre_norm`` (``(m,)``) and ``n_train``
    are the training statistics of the pre-activations (``mean(X w1_j)``, ``||X w1_j - mean||``): :meth:`predict`
    uses them (BN's inference mode), so on the training data it equals the train-mode :func:`batchnorm_forward`.
    """

    W1: np.ndarray
    gamma: np.ndarray
    alpha: np.ndarray
    w2: np.ndarray
    pre_mean: np.ndarray
    pre_norm: np.ndarray
    n_train: int

    def __post_init__(self) -> None:
        W1, gamma, alpha, w2 = check_bn_weights(self.W1, self.gamma, self.alpha, self.w2)
        _, pre_mean, pre_norm, _ = check_bn_weights(W1, self.pre_mean, self.pre_norm, w2)
        if np.any(pre_norm <= 0):
            raise ValueError("pre_norm must be positive (a constant pre-activation makes BN undefined)")
        for name, value in (("W1", W1), ("gamma", gamma), ("alpha", alpha), ("w2", w2)):
            object.__setattr__(self, name, value)
        object.__setattr__(self, "pre_mean", pre_mean)
        object.__setattr__(self, "pre_norm", pre_norm)
        object.__setattr__(self, "n_train", check_positive_int(self.n_train, "n_train"))

    @classmethod
    def from_training_data(cls, X: np.ndarray, W1, gamma, alpha, w2) -> BatchNormNet:
        """The network with BN statistics computed on the training data ``X``."""
        X = check_X(X)
        W1 = np.atleast_2d(np.asarray(W1, dtype=np.float64))
        if W1.shape[1] != X.shape[1]:
            raise ValueError(f"W1 must have shape (m, {X.shape[1]}) to match X, got {W1.shape}")
        H = X @ W1.T
        mean = H.mean(axis=0)
        return cls(W1, gamma, alpha, w2, mean, np.linalg.norm(H - mean, axis=0), X.shape[0])

    @property
    def width(self) -> int:
        """Number of neurons ``m``."""
        return int(self.w2.shape[0])

    def hidden(self, X: np.ndarray) -> np.ndarray:
        """``BN(X W1^T)_+`` with the stored training statistics, shape ``(n, m)``."""
        X = check_X(X)
        if X.shape[1] != self.W1.shape[1]:
            raise ValueError(f"X has {X.shape[1]} columns but the network expects {self.W1.shape[1]}")
        bn = self.gamma * (X @ self.W1.T - self.pre_mean) / self.pre_norm + self.alpha / np.sqrt(self.n_train)
        return np.maximum(bn, 0.0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Network output with the stored training statistics (inference mode), shape ``(n,)``."""
        return self.hidden(X) @ self.w2

    def weight_decay(self) -> float:
        """``0.5 * (||gamma||^2 + ||alpha||^2 + ||w2||^2)``."""
        return 0.5 * float(self.gamma @ self.gamma + self.alpha @ self.alpha + self.w2 @ self.w2)


def bn_objective(X: np.ndarray, y: np.ndarray, net: BatchNormNet, beta: float, loss: Loss = "squared") -> float:
    """Training objective ``l(f(X), y) + (beta/2) sum_j (gamma_j^2 + alpha_j^2 + w2_j^2)`` with train-mode BN.

    BN statistics are recomputed on ``X`` (the batch), as during training.
    """
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    f = batchnorm_forward(X, net.W1, net.gamma, net.alpha, net.w2)
    return loss_value(f, y, loss) + beta * net.weight_decay()


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
    white = whiten(X)
    if rank is not None:
        white = white.truncate(rank)
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
    W1 = np.atleast_2d(np.asarray(W1, dtype=np.float64))
    if W1.shape[1] != white.V.shape[0]:
        raise ValueError(f"W1 must have shape (m, {white.V.shape[0]}), got {W1.shape}")
    return (W1 @ white.V) * white.s


def top_singular_fraction(white: WhitenedData, net: BatchNormNet, ks: Sequence[int] | np.ndarray) -> np.ndarray:
    """Share of the first layer in the top-``k`` singular directions, for each ``k`` in ``ks``::

        F(k) = sum_j c_j ||z_j[:k]||^2 / ||z_j||^2  /  sum_j c_j,     c_j = |gamma_j w2_j|,

    with ``z_j`` from :func:`singular_coordinates`: each neuron's unit BN direction, weighted by how much it
    contributes. Baselines: ``k / r`` for directions uniform on the sphere of ``R^r``; ``sum_{i<=k} s_i^2 /
    sum_i s_i^2`` (ratio of expectations) for ``z = S V^T w1`` with isotropic ``w1`` (a random initialisation).
    """
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


# --------------------------------------------------------------------------------------------------------------
# Training the BN network: the torch module and two backends with the same arithmetic
# --------------------------------------------------------------------------------------------------------------


class BatchNormReLU(torch.nn.Module):
    """The BN network in torch, train-mode statistics over the batch (the module docstring's BN, no epsilon).

    Parameters ``W1`` ``(m, d)``, ``gamma``, ``alpha``, ``w2`` ``(m,)``. Seeded initialisation:
    ``W1 ~ N(0, 1/d)``, ``gamma = init_scale``, ``alpha = 0``, ``w2 ~ N(0, init_scale^2 / m)``.
    """

    def __init__(
        self, d: int, width: int, *, seed: int = 0, init_scale: float = 1.0, dtype: torch.dtype = torch.float64
    ) -> None:
        super().__init__()
        d, width, seed = check_positive_int(d, "d"), check_positive_int(width, "width"), check_seed(seed)
        init_scale = check_positive_number(init_scale, "init_scale")
        gen = torch.Generator().manual_seed(seed)
        self.W1 = torch.nn.Parameter(torch.randn(width, d, generator=gen, dtype=dtype) / np.sqrt(d))
        self.gamma = torch.nn.Parameter(torch.full((width,), float(init_scale), dtype=dtype))
        self.alpha = torch.nn.Parameter(torch.zeros(width, dtype=dtype))
        self.w2 = torch.nn.Parameter(torch.randn(width, generator=gen, dtype=dtype) * init_scale / np.sqrt(width))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``sum_j BN_{gamma_j, alpha_j}(X w1_j)_+ w2_j`` with the statistics of the batch ``X`` ``(n, d)``."""
        H = X @ self.W1.T
        Hc = H - H.mean(dim=0)
        bn = self.gamma * Hc / torch.linalg.vector_norm(Hc, dim=0) + self.alpha / np.sqrt(X.shape[0])
        return torch.relu(bn) @ self.w2

    def weight_decay(self) -> torch.Tensor:
        """``0.5 * (||gamma||^2 + ||alpha||^2 + ||w2||^2)`` (``W1`` is not penalised)."""
        return 0.5 * (torch.sum(self.gamma**2) + torch.sum(self.alpha**2) + torch.sum(self.w2**2))

    def numpy_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(W1, gamma, alpha, w2)`` as float64 numpy arrays."""
        return tuple(p.detach().cpu().double().numpy().copy() for p in (self.W1, self.gamma, self.alpha, self.w2))


def bn_objective_and_gradient(
    X: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    gamma: np.ndarray,
    alpha: np.ndarray,
    w2: np.ndarray,
    beta: float,
    loss: Loss = "squared",
) -> tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    r"""Objective of :func:`bn_objective` and its gradient in ``(W1, gamma, alpha, w2)``, by hand (backprop).

    With ``H = X W1^T``, ``Hc = H - 1 mean(H)``, ``N_j = ||Hc_j||``, ``Hh = Hc / N``, ``B = gamma Hh + alpha/sqrt(n)``,
    ``f = B_+ w2``, ``r = l'(f)`` and ``G = (r w2^T) * 1[B > 0]``::

        d/dw2 = B_+^T r + beta w2,   d/dalpha = 1^T G / sqrt(n) + beta alpha,   d/dgamma = sum_i G * Hh + beta gamma,
        E = G gamma,   d/dHc_j = (E_j - Hh_j (Hh_j^T E_j)) / N_j,   d/dH = d/dHc - 1 mean(d/dHc),   d/dW1 = (d/dH)^T X.

    (ReLU's derivative is taken as ``1[B > 0]`` and the hinge's as ``-y 1[y f <= 1]``.) The tests check it against
    torch's autograd of :class:`BatchNormReLU`.
    """
    from cvxnn_core.losses import negative_gradient

    n = X.shape[0]
    root = np.sqrt(n)
    H = X @ W1.T
    Hc = H - H.mean(axis=0)
    N = np.sqrt(np.einsum("ij,ij->j", Hc, Hc))
    Hh = Hc / N
    B = gamma * Hh + alpha / root
    A = np.maximum(B, 0.0)
    f = A @ w2
    r = -negative_gradient(f, y, loss)
    G = np.outer(r, w2) * (B > 0)
    g_w2 = A.T @ r + beta * w2
    g_alpha = G.sum(axis=0) / root + beta * alpha
    g_gamma = np.einsum("ij,ij->j", G, Hh) + beta * gamma
    E = G * gamma
    dHc = (E - Hh * np.einsum("ij,ij->j", Hh, E)) / N
    dHc -= dHc.mean(axis=0)
    g_W1 = dHc.T @ X
    value = loss_value(f, y, loss) + 0.5 * beta * float(gamma @ gamma + alpha @ alpha + w2 @ w2)
    return value, (g_W1, g_gamma, g_alpha, g_w2)


@dataclass(frozen=True)
class BatchNormTrainResult(TrainResult):
    """:class:`cvxnn_core.nonconvex.TrainResult` of :func:`train_batchnorm` (``net`` is a :class:`BatchNormNet`,
    ``history`` holds the objective after each step), plus the ``backend`` that trained it."""

    backend: str = "numpy"


def train_batchnorm(
    X: np.ndarray,
    y: np.ndarray,
    width: int,
    beta: float,
    *,
    optimizer: Optimizer = "adam",
    lr: float | None = None,
    epochs: int = 1000,
    seed: int = 0,
    loss: Loss = "squared",
    init_scale: float = 1.0,
    init: Init = "gaussian",
    momentum: float = 0.0,
    backend: Backend = "numpy",
    threads: int | None = 1,
    progress: bool | None = None,
) -> BatchNormTrainResult:
    """Train the BN network of the given ``width`` by full-batch SGD (i.e. gradient descent) or Adam, in float64.

    The objective is exactly :func:`bn_objective` (BN statistics over all ``n`` samples, weight decay on ``gamma``,
    ``alpha``, ``w2`` inside the loss). The initial weights are those of :class:`BatchNormReLU` with ``seed``.
    ``backend="torch"`` runs torch's autograd and ``torch.optim.Adam``/``SGD`` on the module;
    ``backend="numpy"`` (default) runs the same updates (torch's Adam/SGD formulas) on the hand-written gradient
    :func:`bn_objective_and_gradient`, about ten times faster on the small problems of the book. The two give the
    same trajectory up to rounding (tested).

    Args:
        X, y: data ``(n, d)`` (no intercept column) and targets ``(n,)``.
        width: number of neurons ``m``.
        beta: weight decay ``>= 0``.
        optimizer: ``"adam"`` or ``"sgd"`` (with optional ``momentum``); ``lr`` defaults to ``1e-2``.
        epochs: number of full-batch steps; ``history[e]`` is the objective after step ``e + 1``.
        seed: seeds the initialisation.
        init: ``"gaussian"``: ``W1 ~ N(0, 1/d)``, so that ``z_j = S V^T w1_j`` is already weighted by the singular
            values; ``"isotropic"``: ``w1_j = V S^{-1} z_j`` with ``z_j ~ N(0, c I_r)`` (isotropic in the singular
            basis, ``c = sum(s^2) / (d r)`` gives the Gaussian init's expected ``||z_j||``), which removes that
            head start and isolates what gradient descent itself does (see :func:`top_singular_fraction`).
        threads: torch and BLAS CPU threads during training (restored afterwards); ``None`` keeps the settings.
        progress: tqdm bar; default on only when stderr is a terminal.
    """
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    whiten(X)  # raises on constant data
    width = check_positive_int(width, "width")
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    optimizer = check_choice(optimizer, "optimizer", ("adam", "sgd"))  # type: ignore[assignment]
    backend = check_choice(backend, "backend", ("numpy", "torch"))  # type: ignore[assignment]
    init = check_choice(init, "init", ("gaussian", "isotropic"))  # type: ignore[assignment]
    lr = DEFAULT_LR[optimizer] if lr is None else check_positive_number(lr, "lr")
    if momentum != 0 and optimizer == "adam":
        raise ValueError("momentum applies to optimizer='sgd' only; Adam has its own moment estimates")
    if not (np.isfinite(momentum) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    if progress is None:
        progress = sys.stderr.isatty()
    with limit_threads(threads, blas=True):
        module = BatchNormReLU(X.shape[1], width, seed=seed, init_scale=init_scale)
        if init == "isotropic":
            with torch.no_grad():
                module.W1.copy_(torch.as_tensor(_isotropic_W1(X, width, seed)))
        run = _train_torch if backend == "torch" else _train_numpy
        start = time.perf_counter()
        initial, history, weights = run(X, y, module, beta, loss, optimizer, lr, momentum, epochs, progress)
        elapsed = time.perf_counter() - start
    if not np.all(np.isfinite(history)):
        raise FloatingPointError(
            f"{optimizer} diverged (objective became {history[~np.isfinite(history)][0]}); lower lr (now {lr})"
        )
    return BatchNormTrainResult(
        net=BatchNormNet.from_training_data(X, *weights),
        history=history,
        initial_objective=initial,
        train_time=elapsed,
        optimizer=optimizer,
        lr=lr,
        seed=seed,
        backend=backend,
    )


def _isotropic_W1(X: np.ndarray, width: int, seed: int) -> np.ndarray:
    """``W1`` whose rows have isotropic singular coordinates ``z = S V^T w1 ~ N(0, c I_r)``, ``c = sum(s^2)/(d r)``."""
    white = whiten(X)
    gen = torch.Generator().manual_seed(seed + 1_000_003)
    Z = torch.randn(width, white.rank, generator=gen, dtype=torch.float64).numpy()
    Z *= np.sqrt(np.sum(white.s**2) / (X.shape[1] * white.rank))
    return (Z / white.s) @ white.V.T


def _bar(epochs: int, optimizer: str, width: int, progress: bool):
    from tqdm import tqdm

    return tqdm(range(epochs), desc=f"BN {optimizer} m={width}", disable=not progress, leave=False)


def _train_torch(X, y, module, beta, loss, optimizer, lr, momentum, epochs, progress):
    from cvxnn_core.nonconvex import torch_loss

    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    params = list(module.parameters())
    opt = torch.optim.Adam(params, lr=lr) if optimizer == "adam" else torch.optim.SGD(params, lr=lr, momentum=momentum)
    history = np.empty(epochs)
    initial = 0.0
    for epoch in _bar(epochs, optimizer, module.w2.shape[0], progress):
        opt.zero_grad()
        obj = torch_loss(module(Xt), yt, loss) + beta * module.weight_decay()
        if epoch == 0:
            initial = float(obj.detach())
        else:
            history[epoch - 1] = float(obj.detach())  # the objective after the previous step
        obj.backward()
        opt.step()
    with torch.no_grad():
        history[-1] = float(torch_loss(module(Xt), yt, loss) + beta * module.weight_decay())
    return initial, history, module.numpy_weights()


def _train_numpy(X, y, module, beta, loss, optimizer, lr, momentum, epochs, progress):
    params = list(module.numpy_weights())
    first = [np.zeros_like(p) for p in params]  # Adam's first moment, or SGD's momentum buffer
    second = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # torch.optim.Adam defaults
    history = np.empty(epochs)
    initial = 0.0
    for epoch in _bar(epochs, optimizer, len(params[3]), progress):
        value, grads = bn_objective_and_gradient(X, y, *params, beta, loss)
        if epoch == 0:
            initial = value
        else:
            history[epoch - 1] = value
        t = epoch + 1
        for p, g, m1, m2 in zip(params, grads, first, second, strict=True):
            if optimizer == "adam":
                m1 += (1 - beta1) * (g - m1)
                m2 *= beta2
                m2 += (1 - beta2) * g * g
                denom = np.sqrt(m2) / np.sqrt(1 - beta2**t) + eps
                p -= (lr / (1 - beta1**t)) * m1 / denom
            elif momentum:
                if t == 1:
                    m1[...] = g
                else:
                    m1 *= momentum
                    m1 += g
                p -= lr * m1
            else:
                p -= lr * g
    history[-1] = bn_objective_and_gradient(X, y, *params, beta, loss)[0]
    return initial, history, tuple(params)


def train_batchnorm_sweep(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    *,
    widths: Sequence[int],
    seeds: Sequence[int],
    optimizers: Mapping[str, float],
    epochs: int,
    loss: Loss = "squared",
    progress: bool | None = None,
    **kwargs: Any,
) -> list[BatchNormTrainResult]:
    """One :func:`train_batchnorm` run per (optimizer, width, seed); ``optimizers`` maps a name to its step size."""
    return sweep(
        lambda m, **kw: train_batchnorm(X, y, m, beta, epochs=epochs, loss=loss, **kw, **kwargs),
        optimizers=optimizers,
        widths=widths,
        seeds=seeds,
        desc="BN training runs",
        progress=progress,
    )

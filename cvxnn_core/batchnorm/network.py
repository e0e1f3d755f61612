"""Whitening of the centred data and the batch-norm network in numpy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cvxnn_core._linalg import RELATIVE_RANK_RTOL, centred_svd
from cvxnn_core._validation import (
    check_beta,
    check_bn_weights,
    check_ks,
    check_labels_pm1,
    check_loss,
    check_positive_int,
    check_X,
    check_X_y,
)
from cvxnn_core.losses import Loss, loss_value

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
        if isinstance(energy, bool) or not isinstance(energy, int | float | np.integer | np.floating) \
                or not 0 < energy <= 1:
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


def _truncate(white: WhitenedData, rank: object) -> WhitenedData:
    """The top-``rank`` directions of ``white`` (all of them for ``None``), refused with ``rank`` named."""
    if rank is None:
        return white
    rank = check_positive_int(rank, "rank")
    if rank > white.rank:
        raise ValueError(f"rank must be at most the rank r = {white.rank} of the centred data, got {rank}")
    return white.truncate(rank)


def batchnorm_patterns(
    X: np.ndarray, n_patterns: int | None = None, *, rank: int | None = None, seed: int = 0
) -> np.ndarray:
    """Activation patterns of the whitened basis ``U'`` (top-``rank`` directions if ``rank`` is given).

    ``n_patterns=None`` enumerates the complete arrangement (:func:`~cvxnn_core.patterns.enumerate_patterns`;
    small rank or small ``n`` only), otherwise ``n_patterns`` Gaussian gates are sampled with ``seed``.
    """
    from cvxnn_core.patterns import enumerate_patterns, sample_patterns

    white = _truncate(whiten(X), rank)
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
    if not isinstance(net, BatchNormNet):
        raise TypeError(f"net must be a batchnorm.BatchNormNet, got {type(net).__name__}")
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    f = batchnorm_forward(X, net.W1, net.gamma, net.alpha, net.w2)
    return loss_value(f, y, loss) + beta * net.weight_decay()



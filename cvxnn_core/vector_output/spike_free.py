"""Spike-free data and the closed-form optimum by the soft-thresholded SVD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cvxnn_core._linalg import WHITENED_ATOL, check_whitened
from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_nonnegative_number,
    check_X,
    check_X_Y,
)

if TYPE_CHECKING:
    pass

from cvxnn_core.vector_output.geometry import CP_TOL, cp_factor
from cvxnn_core.vector_output.networks import VectorNet, balance_network

WHITEN_ROWS_FIX = "Whiten the samples first with cvxnn_core.closed_form.whiten_rows(X)"



# ----------------------------------------------------------------------------------------------------
# Spike-free data and the soft-thresholded SVD
# ----------------------------------------------------------------------------------------------------


def is_spike_free(X: np.ndarray, *, tol: float = 1e-10) -> bool:
    r"""Whether ``{(X u)_+ : ||u|| <= 1}`` is contained in ``{X u : ||u|| <= 1}``, for ``X`` of full row rank.

    Criterion (``n <= d``, ``rank X = n``): spike-free iff ``M = (X X^T)^{-1}`` has non-positive off-diagonal
    entries (``M`` is an M-matrix), checked as ``M_jl <= tol * max_j M_jj``.

    Proof. ``X`` is onto, so ``z = X u`` ranges over ``R^n`` and the shortest preimage of ``z`` has squared
    norm ``z^T M z``; spike-free means ``z_+^T M z_+ <= z^T M z`` for all ``z``. Write ``z = a - b`` with
    ``a, b >= 0`` of disjoint supports: ``z^T M z - a^T M a = b^T M b - 2 a^T M b``, which is ``>= 0`` when the
    off-diagonal entries are ``<= 0``. Conversely ``z = e_j - t e_l`` gives ``2 M_jl <= t M_ll`` for all
    ``t > 0``. Whitened data (``X X^T = I``) and, more generally, data with orthogonal rows are spike-free.

    Raises:
        ValueError: ``X`` does not have full row rank (the criterion above needs ``n <= d`` and rank ``n``).
    """
    tol = check_nonnegative_number(tol, "tol")
    X = check_X(X)
    n, d = X.shape
    s = np.linalg.svd(X, compute_uv=False)
    if n > d or s[-1] <= s[0] * max(n, d) * np.finfo(float).eps * 10:
        raise ValueError(
            f"is_spike_free decides spike-freeness for X of full row rank (n <= d, rank n); X has shape {X.shape} "
            f"and rank {int(np.sum(s > s[0] * max(n, d) * np.finfo(float).eps * 10))}"
        )
    M = np.linalg.inv(X @ X.T)
    off = M - np.diag(np.diag(M))
    return bool(np.max(off, initial=-np.inf) <= tol * float(np.max(np.diag(M))))


@dataclass(frozen=True)
class SpikeFreeSolution:
    """Result of :func:`soft_thresholded_svd`.

    ``objective``: the soft-thresholded SVD value ``sum_k h(sigma_k(Y))``, a lower bound on the optimum of every
    network. ``exact``: a completely positive factorisation of ``(F0 F0^T)^{1/2}`` was found, so the value is
    the optimum and ``net`` attains it (``net`` is ``None`` otherwise). ``fit``: ``F0 = SVT_beta(Y)``
    ``(n, c)``. ``singular_values``: ``sigma_k(Y)``.
    """

    objective: float
    exact: bool
    net: VectorNet | None
    fit: np.ndarray
    singular_values: np.ndarray


def svt_value(singular_values: np.ndarray, beta: float) -> float:
    """``sum_k h(sigma_k)`` with the Huber function ``h(t) = t^2/2`` for ``t <= beta``, ``beta t - beta^2/2`` above."""
    s = check_array(np.ravel(singular_values), "singular_values", (None,), labels=("k",))
    if np.any(s < 0):
        raise ValueError(f"singular_values must be >= 0, got min {s.min():g}")
    beta = check_beta(beta)
    return float(np.sum(np.where(s <= beta, 0.5 * s**2, beta * s - 0.5 * beta**2)))


def soft_thresholded_svd(
    X: np.ndarray, Y: np.ndarray, beta: float, *, atol: float = WHITENED_ATOL
) -> SpikeFreeSolution:
    r"""Closed-form optimum for whitened (hence spike-free) data ``X X^T = I_n`` (``n <= d``).

    Setting: ``X`` ``(n, d)`` with orthonormal rows, any ``Y`` ``(n, c)``, squared loss, weight decay ``beta``.

    1. Lower bound (needs only ``||X||_2 <= 1``): a network ``F = sum_j (X u_j)_+ g_j^T`` has
       ``||F||_* <= sum_j ||(X u_j)_+|| ||g_j|| <= sum_j ||u_j|| ||g_j||``, so its objective is at least
       ``min_F 0.5 ||F - Y||^2 + beta ||F||_*``, whose minimiser is the soft-thresholded SVD
       ``F0 = P (S - beta)_+ R^T`` of ``Y = P S R^T``, with value ``sum_k h(sigma_k)`` (:func:`svt_value`).
    2. Attainment (needs ``X X^T = I``): ``u = X^T a`` gives ``(X u)_+ = a`` for ``a >= 0`` with ``||u|| = ||a||``, so
       the network problem is ``min_F 0.5 ||F - Y||^2 + beta ||F||_{*,+}``, the nuclear norm with non-negative
       left factors. ``F0`` splits as ``sum_j b_j h_j^T`` with ``b_j >= 0`` and ``sum_j ||b_j|| ||h_j|| = ||F0||_*``
       iff ``G = (F0 F0^T)^{1/2} = P (S - beta)_+ P^T`` is completely positive: given ``G = B B^T`` with
       ``B >= 0``, take ``H^T = B^+ F0``; then ``||b_j|| = ||h_j||`` and ``sum_j ||b_j||^2 = tr G = ||F0||_*``.
       The neurons are ``w1_j = X^T b_j``, ``w2_j = h_j``. If ``G`` is not completely positive, the optimum is
       strictly above the bound (the nuclear-norm problem has the unique minimiser ``F0``).

    The condition holds, for example, for one-hot labels (the rows of ``Y`` are ``e_k^T``; ``G`` is block
    diagonal with non-negative rank-one blocks, one per class) and whenever the nonzero rows of ``F0`` are
    positive multiples of mutually orthogonal vectors. It fails for ``c = 1`` and targets of both signs,
    where the optimum splits ``y`` into ``y_+`` and ``y_-`` (:func:`cvxnn_core.closed_form.whitened_relu`).
    Complete positivity is certified constructively by :func:`cp_factor`; ``exact=False`` means no
    factorisation was found (for ``n <= 4`` this is a proof that none exists only up to :func:`cp_factor`'s rules).

    Raises:
        ValueError: ``max |X X^T - I| > atol`` (in particular ``n > d``), or bad ``Y`` / ``beta``.
    """
    X, Y = check_X_Y(X, Y)
    beta = check_beta(beta)
    n, d = X.shape
    check_whitened(X, atol, rows=True, who="soft_thresholded_svd", fix=WHITEN_ROWS_FIX)
    P, s, Rt = np.linalg.svd(Y, full_matrices=False)
    shrunk = np.maximum(s - beta, 0.0)
    fit = (P * shrunk) @ Rt
    objective = svt_value(s, beta)
    keep = shrunk > CP_TOL * max(float(s[0]), 1e-300)
    if not np.any(keep):
        return SpikeFreeSolution(objective, True, VectorNet(np.zeros((0, d)), np.zeros((0, Y.shape[1]))), fit, s)
    G = (P[:, keep] * shrunk[keep]) @ P[:, keep].T
    B = cp_factor(G)
    if B is None:
        return SpikeFreeSolution(objective, False, None, fit, s)
    H = (np.linalg.pinv(B, rcond=1e-12) @ fit).T  # (c, m)
    net = balance_network(VectorNet(W1=(X.T @ B).T, W2=H.T))
    return SpikeFreeSolution(objective, True, net, fit, s)



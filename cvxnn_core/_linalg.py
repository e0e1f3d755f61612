"""Linear algebra shared by the programs and closed forms: one rank tolerance, row spaces, whitening.

Rank. A singular value counts when ``s > s_max * max(n, d) * eps * RANK_EPS_FACTOR`` (numpy's
``matrix_rank`` rule, made ten times more conservative); :func:`relative_rank` is the looser rule
``s > rtol * s_max`` used where a program declares its own scale (``RELATIVE_RANK_RTOL``).

Whitening. The matrix with orthonormal rows (columns) closest to ``X`` is its polar factor ``U V^T`` from the
thin SVD ``X = U S V^T``: equal to ``(X X^T)^{-1/2} X`` for rows (needs ``n <= d``) and ``X (X^T X)^{-1/2}``
for columns (needs ``n >= d``). The closed forms accept data within ``WHITENED_ATOL`` (entrywise) of whitened.
"""

from __future__ import annotations

import numpy as np

from cvxnn_core._validation import check_whitened, check_X

RANK_EPS_FACTOR = 10.0
RELATIVE_RANK_RTOL = 1e-10  # singular values below this fraction of the largest one count as zero
WHITENED_ATOL = 1e-8  # max |X X^T - I| (or |X^T X - I|) accepted as whitened by the closed forms

__all__ = [
    "RANK_EPS_FACTOR",
    "RELATIVE_RANK_RTOL",
    "WHITENED_ATOL",
    "centred_svd",
    "check_whitened",
    "rank_from_singular_values",
    "relative_rank",
    "row_space_basis",
    "row_space_coordinates",
    "whiten_columns",
    "whiten_rows",
]


def rank_from_singular_values(s: np.ndarray, shape: tuple[int, int]) -> int:
    """Number of ``s`` above ``s_max * max(shape) * eps * RANK_EPS_FACTOR`` (0 for an empty or zero ``s``)."""
    if s.size == 0 or s[0] <= 0:
        return 0
    return int(np.sum(s > s[0] * max(shape) * np.finfo(float).eps * RANK_EPS_FACTOR))


def relative_rank(s: np.ndarray, rtol: float = RELATIVE_RANK_RTOL) -> int:
    """Number of ``s`` above ``rtol * s_max`` (``s`` sorted decreasingly; 0 for an empty or zero ``s``)."""
    if s.size == 0 or s[0] <= 0:
        return 0
    return int(np.sum(s > rtol * s[0]))


def row_space_basis(X: np.ndarray) -> np.ndarray:
    """Orthonormal basis ``Q`` ``(d, r)`` of the row space of ``X`` (``r`` its numerical rank)."""
    _, s, Vt = np.linalg.svd(X, full_matrices=False)
    return Vt[: rank_from_singular_values(s, X.shape)].T


def row_space_coordinates(X: np.ndarray) -> np.ndarray:
    """``X Q``, shape ``(n, r)``: the rows of ``X`` in the basis :func:`row_space_basis` (``r = 0`` for ``X = 0``)."""
    return X @ row_space_basis(X)


def _polar_factor(X: np.ndarray, what: str, fix: str) -> np.ndarray:
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    if rank_from_singular_values(s, X.shape) < min(X.shape):
        raise ValueError(f"X has rank < {what}; {fix}")
    return U @ Vt


def whiten_rows(X: np.ndarray) -> np.ndarray:
    """The matrix with orthonormal rows closest to ``X``: ``(X X^T)^{-1/2} X = U V^T``; ``X_w X_w^T = I_n``.

    Needs ``n <= d`` and ``X`` of rank ``n`` (whitening of the ``n`` samples: the input of the closed forms
    :func:`cvxnn_core.closed_form.whitened_relu` and :func:`cvxnn_core.vector_output.soft_thresholded_svd`).
    """
    X = check_X(X)
    n, d = X.shape
    if n > d:
        raise ValueError(f"X must have n <= d rows to be whitened (X X^T = I_n), got shape {X.shape}")
    return _polar_factor(X, f"n = {n}", "its rows cannot be whitened (remove duplicate or dependent samples)")


def whiten_columns(X: np.ndarray) -> np.ndarray:
    """The matrix with orthonormal columns closest to ``X``: ``X (X^T X)^{-1/2} = U V^T``; ``X_w^T X_w = I_d``.

    Needs ``n >= d`` and rank ``d`` (the features decorrelated and scaled to unit norm: the input of
    :func:`cvxnn_core.deep.deep_linear_optimum`).
    """
    X = check_X(X)
    n, d = X.shape
    if n < d:
        raise ValueError(f"X must have n >= d rows to have orthonormal columns, got shape {X.shape}")
    return _polar_factor(X, f"d = {d}", "its columns cannot be whitened (drop dependent features)")


def centred_svd(X: np.ndarray, rtol: float = RELATIVE_RANK_RTOL) -> tuple[np.ndarray, ...]:
    """``(mean, U, s, V)`` with ``X - 1 mean^T = U diag(s) V^T`` truncated to the :func:`relative_rank` ``r``."""
    mean = X.mean(axis=0)
    U, s, Vt = np.linalg.svd(X - mean, full_matrices=False)
    r = relative_rank(s, rtol)
    return mean, U[:, :r], s[:r], Vt[:r].T

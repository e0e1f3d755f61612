"""The linear operators of the two-layer programs, for numpy arrays and torch tensors (CPU or GPU)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from cvxnn_core._validation import (
    check_choice,
    check_labels_pm1,
    check_patterns,
    check_positive_int,
    check_X,
    check_y,
)
from cvxnn_core.losses import negative_gradient

FastLoss = Literal["squared", "logistic"]
FAST_LOSSES = ("squared", "logistic")

Array = np.ndarray | torch.Tensor  # the operators take numpy arrays or torch tensors (all of one kind)


# ----------------------------------------------------------------------------------------------------------------------
# Operators (numpy or torch)
# ----------------------------------------------------------------------------------------------------------------------


def _mask(D, like):
    if isinstance(like, torch.Tensor):
        D = torch.as_tensor(D, device=like.device)
        return D if D.dtype == like.dtype else D.to(like.dtype)
    return np.asarray(D).astype(like.dtype, copy=False)


def _chunks(P: int, batch_size: int | None):
    step = max(P, 1) if batch_size is None else check_positive_int(batch_size, "batch_size")
    return [slice(lo, min(lo + step, P)) for lo in range(0, P, step)]


def _check_operands(X, D, B, name: str, rows: bool = False) -> None:
    """Shape checks (only shapes: O(1), numpy or torch) of ``X`` ``(n, d)``, ``D`` ``(n, P)`` and ``B``: blocks
    ``(P, d)``/``(P, d, c)``, or with ``rows`` a residual ``(n,)``/``(n, c)``."""
    for value, label in ((X, "X"), (D, "D"), (B, name)):
        if not isinstance(value, np.ndarray | torch.Tensor):
            raise TypeError(f"{label} must be a numpy array or a torch tensor, got {type(value).__name__}")
    if X.ndim != 2:
        raise ValueError(f"X must have shape (n, d), got {tuple(X.shape)}")
    n, d = X.shape
    if D.ndim != 2 or D.shape[0] != n:
        raise ValueError(f"D must have shape (n, P) = ({n}, P), got {tuple(D.shape)}")
    if rows:
        if B.ndim not in (1, 2) or B.shape[0] != n:
            raise ValueError(f"{name} must have shape (n,) or (n, c) with n = {n}, got {tuple(B.shape)}")
    elif B.ndim not in (2, 3) or tuple(B.shape[:2]) != (D.shape[1], d):
        raise ValueError(f"{name} must have shape (P, d) or (P, d, c) with (P, d) = ({D.shape[1]}, {d}), got "
                         f"{tuple(B.shape)}")


def _blocks_to_columns(U):
    """Blocks ``(p, d, c)`` as the columns of one ``(d, p c)`` matrix (pattern-major), numpy or torch."""
    p, d, c = U.shape
    T = U.permute(1, 0, 2) if isinstance(U, torch.Tensor) else np.transpose(U, (1, 0, 2))
    return T.reshape(d, p * c)


def _columns_to_blocks(T):
    """``(d, p, c)`` to contiguous blocks ``(p, d, c)`` (the inverse layout of :func:`_blocks_to_columns`)."""
    if isinstance(T, torch.Tensor):
        return T.permute(1, 0, 2).contiguous()
    return np.ascontiguousarray(T.transpose(1, 0, 2))


def gated_forward(X: Array, D: Array, U: Array, *, batch_size: int | None = None) -> Array:
    """``A(U) = sum_i D_i X u_i`` for numpy arrays or torch tensors.

    ``X`` ``(n, d)``, ``D`` ``(n, P)`` (boolean or 0/1 floats), ``U`` ``(P, d)`` or ``(P, d, c)``; returns
    ``(n,)`` or ``(n, c)``. Computed as ``sum_i D_i * (X [u_1 ... u_P])_i`` (one matrix product), in chunks of
    ``batch_size`` patterns.
    """
    _check_operands(X, D, U, "U")
    n, d = X.shape
    P = D.shape[1]
    vector = U.ndim == 3
    c = U.shape[2] if vector else 1
    out = None
    for sl in _chunks(P, batch_size):
        p = sl.stop - sl.start
        Dm = _mask(D[:, sl], X)
        XU = (X @ _blocks_to_columns(U[sl].reshape(p, d, c))).reshape(n, p, c)  # X u_i for each block of the chunk
        part = (Dm[:, :, None] * XU).sum(1)
        out = part if out is None else out + part
    if out is None:  # no pattern: the zero map
        out = (torch.zeros((n, c), dtype=X.dtype, device=X.device) if isinstance(X, torch.Tensor)
               else np.zeros((n, c), dtype=X.dtype))
    return out if vector else out[:, 0]


def gated_adjoint(X: Array, D: Array, r: Array, *, batch_size: int | None = None) -> Array:
    """``A^T(r) = [X^T D_i r]_i``: shape ``(P, d)`` for ``r`` ``(n,)``, ``(P, d, c)`` for ``r`` ``(n, c)``."""
    _check_operands(X, D, r, "r", rows=True)
    n, d = X.shape
    P = D.shape[1]
    vector = r.ndim == 2
    R = r if vector else r[:, None]
    c = R.shape[1]
    parts = []
    for sl in _chunks(P, batch_size):
        p = sl.stop - sl.start
        Z = (_mask(D[:, sl], X)[:, :, None] * R[:, None, :]).reshape(n, p * c)  # columns D_i r, pattern-major
        parts.append(_columns_to_blocks((X.T @ Z).reshape(d, p, c)))
    out = parts[0] if len(parts) == 1 else (torch.cat(parts) if isinstance(X, torch.Tensor) else np.concatenate(parts))
    return out if vector else out[:, :, 0]


def cone_constraints(X: Array, D: Array, V: Array) -> Array:
    """``C[:, i] = (2 D_i - I) X v_i``, shape ``(n, P)``; ``v_i`` is in its cone iff column ``i`` is ``>= 0``."""
    _check_operands(X, D, V, "V")
    if V.ndim != 2:
        raise ValueError(f"V must have shape (P, d), got {tuple(V.shape)}")
    S = 2.0 * _mask(D, X) - 1.0
    return S * (X @ V.T)


def beta_max(X: np.ndarray, y: np.ndarray, patterns: np.ndarray, loss: FastLoss = "squared") -> float:
    """``max_i ||X^T D_i r_0||`` with ``r_0 = -grad l(0)``: for ``beta >=`` this value ``U = 0`` solves the gated
    program (and the ReLU program, whose blocks are restricted further). Benchmarks use ``beta = 0.1 beta_max``."""
    X = check_X(X)
    y = check_y(y, X.shape[0], allow_2d=True)
    patterns = check_patterns(patterns, X.shape[0])
    loss = check_choice(loss, "loss", FAST_LOSSES)
    check_labels_pm1(y, loss)
    r0 = y if loss == "squared" else negative_gradient(np.zeros_like(y), y, loss)
    G = gated_adjoint(X, patterns, r0)
    return float(np.max(np.linalg.norm(G.reshape(G.shape[0], -1), axis=1)))

r"""Newton's method on the support of a gated-ReLU solution (squared loss): the second-order phase of FISTA.

On a fixed support ``S`` (the blocks with ``u_i != 0``) the gated objective

    F(u) = 1/2 ||sum_{i in S} D_i X u_i - y||^2 + beta sum_{i in S} ||u_i||

is smooth, with gradient ``g_i = X^T D_i r + beta u_i / ||u_i||`` (``r = f - y``) and Hessian

    H = A_S^T A_S + blockdiag(c_i (I - u^_i u^_i^T)),   c_i = beta / ||u_i||,   u^_i = u_i / ||u_i||.

At small ``beta`` the curvature ``c_i`` is tiny next to ``||A||^2``: first-order methods need ``O(sqrt(1/beta))``
steps there, and their residual (the dual point) converges slower still. Newton's step ``H Delta = -g`` is
computed without forming ``H`` (``|S| d`` unknowns) through an ``n x n`` system: with ``w_i = 1 / c_i``, the radial
columns ``a_i = D_i X u^_i`` and unknowns ``s = A_S Delta`` (``n``) and ``rho_i = u^_i^T Delta_i``::

    K s - sum_i rho_i a_i = -sum_i w_i D_i X g_i,      a_i^T s = -u^_i^T g_i,
    K = I + (X X^T) o (D_S diag(w) D_S^T),              Delta_i = w_i (-g_i - X^T D_i s) + rho_i u^_i

(``o`` the entrywise product), solved by one Cholesky factorisation of ``K`` and a ``|S| x |S|`` Schur complement.
Vector targets ``(n, c)`` (Frobenius norms of ``(d, c)`` blocks) use the same ``K`` for every column. A backtracking
line search keeps ``F`` decreasing; blocks that the Newton model sends through zero
(``u_i^T (u_i + Delta_i) <= 0``) and blocks whose norm collapses leave the support (a wrong guess is undone by the
first-order steps that follow). At the minimiser on the correct support the residual is the exact dual point, so
the certificate closes to rounding.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from cvxnn_core._shapes import check_optional_positive
from cvxnn_core._validation import check_positive_int
from cvxnn_core.solvers.operators import gated_adjoint, gated_forward

NEWTON_ITERS = 30  # Newton steps per call
NEWTON_DROP = 1e-8  # a block whose norm falls below this fraction of the largest leaves the support


def _objective(X: torch.Tensor, D: torch.Tensor, y: torch.Tensor, U: torch.Tensor, beta: float) -> torch.Tensor:
    r = gated_forward(X, D, U) - y
    return 0.5 * torch.sum(r * r) + beta * torch.sum(torch.linalg.vector_norm(U.reshape(U.shape[0], -1), dim=1))


def _check_newton(X, D, y, U, beta, gram, who: str) -> tuple[float, torch.Tensor | None]:
    """Types, shapes and values of the Newton inputs; returns ``beta`` as a float and ``gram`` (or ``None``)."""
    if isinstance(beta, torch.Tensor) and beta.numel() == 1:
        beta = beta.item()
    if isinstance(beta, bool) or not isinstance(beta, int | float | np.integer | np.floating):
        raise TypeError(f"beta must be a positive number, got {beta!r}")
    if not (np.isfinite(beta) and beta > 0):
        raise ValueError(f"{who} needs beta > 0 (beta / ||u_i|| keeps H invertible), got {beta!r}")
    beta = float(beta)
    tensors = {"X": X, "D": D, "y": y, "U": U} | ({} if gram is None else {"gram": gram})
    for name, t in tensors.items():
        if not isinstance(t, torch.Tensor) or t.dtype != torch.float64:
            raise TypeError(f"{who} works in float64: pass X, D, y and U as torch.float64 tensors ({name} is "
                            f"{type(t).__name__}{'' if not isinstance(t, torch.Tensor) else ' of ' + str(t.dtype)})")
    if U.ndim != 3 or y.ndim != 2 or X.ndim != 2 or tuple(D.shape) != (X.shape[0], U.shape[0]) \
            or tuple(U.shape[1:]) != (X.shape[1], y.shape[1]) or y.shape[0] != X.shape[0]:
        raise ValueError(
            f"shapes must be X (n, d), D (n, P), y (n, c), U (P, d, c); got {tuple(X.shape)}, {tuple(D.shape)}, "
            f"{tuple(y.shape)}, {tuple(U.shape)}"
        )
    if gram is not None and tuple(gram.shape) != (X.shape[0], X.shape[0]):
        raise ValueError(f"gram must have shape (n, n) = ({X.shape[0]}, {X.shape[0]}) (X @ X.T), got "
                         f"{tuple(gram.shape)}")
    for name, t in tensors.items():
        if not bool(torch.all(torch.isfinite(t))):
            raise ValueError(f"{name} contains NaN or inf")
    return beta, gram


def newton_direction(
    X: torch.Tensor, D: torch.Tensor, y: torch.Tensor, U: torch.Tensor, beta: float, gram: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(Delta, g)``: the Newton direction of ``F`` and its gradient at ``U`` (``(k, d, c)``, all blocks non-zero).

    ``X`` ``(n, d)``, ``D`` ``(n, k)`` float, ``y`` ``(n, c)``, ``gram = X X^T``; float64 tensors on one device.
    """
    beta, gram = _check_newton(X, D, y, U, beta, gram, "newton_direction")
    zero = torch.linalg.vector_norm(U.reshape(U.shape[0], -1), dim=1) == 0
    if bool(torch.any(zero)):
        raise ValueError(f"every block of U must be non-zero (block {int(torch.nonzero(zero)[0])} is zero): the "
                         "Newton model lives on the support; pass U[norms > 0] and D[:, norms > 0]")
    return _newton_direction(X, D, y, U, beta, gram)


def _newton_direction(X, D, y, U, beta: float, gram) -> tuple[torch.Tensor, torch.Tensor]:
    k = U.shape[0]
    norms = torch.linalg.vector_norm(U.reshape(k, -1), dim=1)
    w = norms / beta
    Uhat = U / norms[:, None, None]
    r = gated_forward(X, D, U) - y  # (n, c)
    g = gated_adjoint(X, D, r) + beta * Uhat  # (k, d, c)
    K = gram * ((D * w) @ D.T)
    K.diagonal().add_(1.0)
    L = torch.linalg.cholesky(K)
    b1 = -gated_forward(X, D, w[:, None, None] * g)  # (n, c)
    a = D[:, :, None] * torch.einsum("nd,kdc->nkc", X, Uhat)  # (n, k, c): column a_i = D_i X u^_i
    b2 = -torch.einsum("kdc,kdc->k", Uhat, g)
    n, c = y.shape
    s0 = torch.cholesky_solve(b1, L)  # (n, c)
    Y = torch.cholesky_solve(a.reshape(n, k * c), L).reshape(n, k, c)
    M = torch.einsum("nic,njc->ij", a, Y)
    rhs = b2 - torch.einsum("nkc,nc->k", a, s0)
    rho, info = torch.linalg.solve_ex(M, rhs)
    if int(info) != 0 or not bool(torch.all(torch.isfinite(rho))):  # dependent radial columns (duplicate patterns)
        rho = torch.linalg.lstsq(M, rhs[:, None], driver="gelsd" if M.device.type == "cpu" else None).solution[:, 0]
    s = s0 + torch.einsum("nkc,k->nc", Y, rho)
    delta = w[:, None, None] * (-g - gated_adjoint(X, D, s)) + rho[:, None, None] * Uhat
    return delta, g


def support_newton(
    X: torch.Tensor,
    D: torch.Tensor,
    y: torch.Tensor,
    U: torch.Tensor,
    beta: float,
    *,
    max_iters: int = NEWTON_ITERS,
    max_time: float | None = None,
    gram: torch.Tensor | None = None,
) -> tuple[torch.Tensor, int]:
    """Minimise ``F`` over the blocks of ``U`` (``(P, d, c)``) that are non-zero, by damped Newton steps.

    Returns the new ``(P, d, c)`` blocks (zeros off the support, and on blocks that collapsed or were dropped; the
    input itself if that is not better) and
    the number of rounds (Newton steps, and direction computations that dropped blocks instead). Stops when the
    Newton decrement ``-g^T Delta`` is below ``1e-15 F``, no step decreases ``F``, or after the step that exceeds
    ``max_time`` seconds (at least one step is taken).
    Every tensor is float64 (the ``n x n`` factorisation needs it); ``beta > 0`` (a number or a 0-d tensor).
    """
    beta, gram = _check_newton(X, D, y, U, beta, gram, "support_newton")
    max_iters = check_positive_int(max_iters, "max_iters")
    max_time = check_optional_positive(max_time, "max_time")
    support = torch.nonzero(torch.linalg.vector_norm(U.reshape(U.shape[0], -1), dim=1) > 0).flatten()
    if len(support) == 0:  # nothing to optimise: the zero point is returned as it is
        return U.clone(), 0
    gram = X @ X.T if gram is None else gram
    out = torch.zeros_like(U)
    Us, Ds = U[support], D[:, support]
    value = start_value = _objective(X, Ds, y, Us, beta)
    steps = dropped = 0
    start = time.perf_counter()
    while steps + dropped < max_iters and len(support) > 0:
        if max_time is not None and steps and time.perf_counter() - start > max_time:
            break
        try:
            delta, g = _newton_direction(X, Ds, y, Us, beta, gram)
        except RuntimeError:  # a factorisation failed (torch.linalg errors are RuntimeErrors): stop here
            break
        if not bool(torch.all(torch.isfinite(delta))):
            break
        crossing = torch.einsum("kdc,kdc->k", Us, Us + delta) <= 0  # the model sends these blocks through zero
        if bool(torch.any(crossing)) and not bool(torch.all(crossing)):
            support, Us, Ds = support[~crossing], Us[~crossing], Ds[:, ~crossing]
            value = _objective(X, Ds, y, Us, beta)
            dropped += 1
            continue
        decrement = -float(torch.sum(g * delta))
        if not decrement > 1e-15 * float(value):
            break
        alpha, accepted = 1.0, False
        for _ in range(40):
            trial = Us + alpha * delta
            trial_value = _objective(X, Ds, y, trial, beta)
            if float(trial_value) <= float(value) - 1e-4 * alpha * decrement:
                accepted = True
                break
            alpha *= 0.5
        if not accepted:
            break
        Us, value = trial, trial_value
        steps += 1
        norms = torch.linalg.vector_norm(Us.reshape(Us.shape[0], -1), dim=1)
        keep = norms > NEWTON_DROP * float(torch.max(norms))
        if not bool(torch.all(keep)):
            support, Us, Ds = support[keep], Us[keep], Ds[:, keep]
            value = _objective(X, Ds, y, Us, beta)
    if float(value) > float(start_value):  # dropping blocks can raise F: never return a worse point
        return U.clone(), steps + dropped
    out[support] = Us
    return out, steps + dropped

"""Deep linear networks: metrics of layers, the objective, and closed-form optima for whitened data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cvxnn_core._linalg import WHITENED_ATOL, check_whitened
from cvxnn_core._linalg import whiten_columns as whiten_columns  # re-exported: the input the closed forms expect
from cvxnn_core._shapes import MAX_ENTRIES, check_array, check_size
from cvxnn_core._validation import (
    check_beta,
    check_layers,
    check_n_layers,
    check_nonnegative_number,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
    check_Y,
)

WHITEN_COLUMNS_FIX = (
    "Whiten the columns with cvxnn_core.deep.whiten_columns(X), or solve the nuclear-norm program with cvxpy"
)



# --------------------------------------------------------------------------------------------------------------
# Linear algebra helpers and metrics of layers
# --------------------------------------------------------------------------------------------------------------


def stable_rank(W: np.ndarray) -> float:
    """``||W||_F^2 / ||W||_2^2`` (between 1 and ``rank W``; exactly 1 for a rank-one matrix). ``W`` must be non-zero."""
    W = check_X(W, "W")
    top = float(np.linalg.norm(W, 2))
    if top == 0.0:
        raise ValueError("stable rank of the zero matrix is undefined")
    return float(np.sum(W**2)) / top**2


def numerical_rank(W: np.ndarray, *, rtol: float = 1e-3, scale: float | None = None) -> int:
    """Number of singular values of ``W`` above ``rtol * scale`` (``scale`` defaults to ``sigma_max(W)``).

    Give an external ``scale`` (e.g. the size ``W`` would have without regularisation) when ``W`` may be
    (numerically) zero; with the default a zero matrix has rank 0.
    """
    W = check_X(W, "W")
    rtol = check_positive_number(rtol, "rtol")
    s = np.linalg.svd(W, compute_uv=False)
    ref = float(s[0]) if scale is None else check_nonnegative_number(scale, "scale")
    if ref == 0.0:
        return 0
    return int(np.sum(s > rtol * ref))


def layer_norms(weights: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Operator (spectral) norms and Frobenius norms of each layer, two arrays of shape ``(L,)``."""
    weights = check_layers(weights)
    op = np.array([np.linalg.norm(W, 2) for W in weights])
    fro = np.array([np.linalg.norm(W) for W in weights])
    return op, fro


def layer_alignment(weights: Sequence[np.ndarray]) -> np.ndarray:
    """``|<v_1(W_l), u_1(W_{l+1})>|`` for ``l = 1..L-1``: top right singular vector of a layer against the top
    left singular vector of the next (``f = X W_1 ... W_L``). 1 when consecutive layers are aligned."""
    weights = check_layers(weights)
    if len(weights) < 2:
        raise ValueError(f"layer_alignment needs at least two layers, got {len(weights)}")
    out = []
    for A, B in zip(weights[:-1], weights[1:], strict=True):
        v = np.linalg.svd(A)[2][0]
        u = np.linalg.svd(B)[0][:, 0]
        out.append(abs(float(v @ u)))
    return np.array(out)


def deep_linear_objective(X: np.ndarray, Y: np.ndarray, weights: Sequence[np.ndarray], beta: float) -> float:
    """``0.5 ||X W_1 ... W_L - Y||_F^2 + (beta/2) sum_l ||W_l||_F^2``."""
    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    weights = check_layers(weights)
    beta = check_beta(beta)
    if weights[0].shape[0] != X.shape[1] or weights[-1].shape[1] != Y.shape[1]:
        raise ValueError(
            f"weights map {weights[0].shape[0]} inputs to {weights[-1].shape[1]} outputs, but X has {X.shape[1]} "
            f"columns and Y has {Y.shape[1]}"
        )
    f = X
    for W in weights:
        f = f @ W
    return float(0.5 * np.sum((f - Y) ** 2) + 0.5 * beta * sum(np.sum(W**2) for W in weights))


def nuclear_norm_objective(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, beta: float) -> float:
    """``0.5 ||X Z - Y||_F^2 + beta ||Z||_*``, the convex objective equal to two-layer linear training."""
    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    Z = check_array(np.reshape(Z, (-1, 1)) if np.ndim(Z) == 1 and Y.shape[1] == 1 else Z, "Z",
                    (X.shape[1], Y.shape[1]), labels=("d", "c"))
    beta = check_beta(beta)
    return float(0.5 * np.sum((X @ Z - Y) ** 2) + beta * np.sum(np.linalg.svd(Z, compute_uv=False)))


# --------------------------------------------------------------------------------------------------------------
# Closed forms for whitened data
# --------------------------------------------------------------------------------------------------------------


def _scalar_layer_problem(s: float, beta: float, n_layers: int) -> float:
    """``argmin_{t >= 0} 0.5 (t - s)^2 + (beta L / 2) t^(2/L)`` (ties go to 0)."""
    if beta == 0.0:
        return s
    if n_layers == 2:
        return max(s - beta, 0.0)
    from scipy.optimize import brentq

    p = 1.0 - 2.0 / n_layers  # stationarity: h(t) = t + beta t^(-p) = s; h is convex on t > 0
    t0 = (beta * p) ** (1.0 / (1.0 + p))  # minimiser of h
    if t0 + beta * t0 ** (-p) >= s:
        return 0.0
    root = brentq(lambda t: t + beta * t ** (-p) - s, t0, s, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)

    def g(t: float) -> float:
        return 0.5 * (t - s) ** 2 + 0.5 * beta * n_layers * t ** (2.0 / n_layers)

    return root if g(root) < g(0.0) else 0.0


@dataclass(frozen=True)
class LinearOptimum:
    """Global optimum of deep linear training on whitened data (see the module docstring).

    ``objective``: optimal value; ``Z`` ``(d, c)``: the optimal end-to-end map ``W_1 ... W_L``;
    ``weights``: a balanced optimal network (list of ``L`` arrays, hidden width ``width``);
    ``singular_values``: ``s`` of ``X^T Y`` (descending); ``layer_singular_values``: ``t_i^(1/L)``, the
    singular values every optimal layer shares; ``rank``: ``#{t_i > 0}``.
    """

    objective: float
    Z: np.ndarray
    weights: list[np.ndarray]
    singular_values: np.ndarray
    layer_singular_values: np.ndarray
    rank: int
    n_layers: int
    beta: float


def deep_linear_optimum(
    X: np.ndarray,
    Y: np.ndarray,
    beta: float,
    *,
    n_layers: int = 2,
    width: int | None = None,
    atol: float = WHITENED_ATOL,
    max_entries: int = MAX_ENTRIES,
) -> LinearOptimum:
    r"""Global optimum of ``min 0.5 ||X W_1 ... W_L - Y||_F^2 + (beta/2) sum_l ||W_l||_F^2`` for whitened ``X``.

    Exact when ``X^T X = I_d`` (checked to ``atol``; raises ``ValueError`` otherwise). With ``X^T Y = U diag(s) V^T``
    the optimal map is ``Z = U diag(t) V^T``, ``t_i = argmin_{t>=0} 0.5 (t - s_i)^2 + (beta L/2) t^(2/L)``
    (``L = 2``: ``t_i = (s_i - beta)_+``, singular-value soft thresholding). The optimal value is
    ``0.5 (||Y||^2 - ||s||^2) + sum_i [0.5 (t_i - s_i)^2 + (beta L/2) t_i^(2/L)]``.

    ``width`` is the hidden width ``m`` of the network (default: ``min(d, c)``, enough for any optimum). A
    narrower network keeps the ``m`` largest modes (the rank-constrained problem is separable by von Neumann's
    inequality, and each mode's gain is increasing in ``s_i``). The returned weights are balanced:
    ``W_1 = U_r diag(t^(1/L))``, ``W_l = diag(t^(1/L))`` for ``1 < l < L``, ``W_L = diag(t^(1/L)) V_r^T``, padded with
    zeros to width ``m`` (more than ``max_entries`` weights are refused).
    """
    X = check_X(X)
    n, d = X.shape
    Y = check_Y(Y, n)
    c = Y.shape[1]
    beta = check_beta(beta)
    n_layers = check_n_layers(n_layers)
    atol = check_nonnegative_number(atol, "atol")
    m = min(d, c) if width is None else check_positive_int(width, "width")
    check_size(d * m + (n_layers - 2) * m * m + m * c, check_positive_int(max_entries, "max_entries"),
               what="the balanced weights, entries", keyword="max_entries", alternative="use a smaller width")
    check_whitened(X, atol, rows=False, who="deep_linear_optimum", fix=WHITEN_COLUMNS_FIX)
    A = X.T @ Y
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    t = np.array([_scalar_layer_problem(float(si), beta, n_layers) for si in s])
    t[m:] = 0.0
    r = int(np.sum(t > 0))
    L = n_layers
    objective = 0.5 * (float(np.sum(Y**2)) - float(np.sum(s**2)))
    objective += float(np.sum(0.5 * (t - s) ** 2 + 0.5 * beta * L * t ** (2.0 / L)))
    Z = (U[:, :r] * t[:r]) @ Vt[:r]
    root = t[:r] ** (1.0 / L)
    weights = [np.zeros((d, m))] + [np.zeros((m, m)) for _ in range(L - 2)] + [np.zeros((m, c))]
    weights[0][:, :r] = U[:, :r] * root
    for W in weights[1:-1]:
        W[np.arange(r), np.arange(r)] = root
    weights[-1][:r] = root[:, None] * Vt[:r]
    return LinearOptimum(
        objective=float(objective),
        Z=Z,
        weights=weights,
        singular_values=s,
        layer_singular_values=t ** (1.0 / L),
        rank=r,
        n_layers=L,
        beta=beta,
    )


def two_layer_linear_optimum(
    X: np.ndarray, Y: np.ndarray, beta: float, *, width: int | None = None, atol: float = WHITENED_ATOL
) -> LinearOptimum:
    r"""Two-layer linear net with weight decay on whitened ``X``: singular-value soft thresholding of ``X^T Y``.

    ``min_{W1, W2} 0.5 ||X W1 W2 - Y||^2 + (beta/2)(||W1||^2 + ||W2||^2) = min_Z 0.5 ||X Z - Y||^2 + beta ||Z||_*``
    and for ``X^T X = I``: ``Z* = U diag((s - beta)_+) V^T``; ``rank Z* = #{s_i > beta}``. Same as
    :func:`deep_linear_optimum` with ``n_layers=2``.
    """
    return deep_linear_optimum(X, Y, beta, n_layers=2, width=width, atol=atol)


def simplex_etf(n_classes: int, dim: int | None = None, *, seed: int = 0, max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """``C`` unit vectors with pairwise cosines ``-1/(C-1)`` (a simplex equiangular tight frame), shape ``(C, dim)``.

    ``dim`` defaults to ``C - 1`` (the smallest possible); for larger ``dim`` the frame is placed in a random
    ``(C-1)``-dimensional subspace (seeded). The rows sum to zero.
    """
    C = check_positive_int(n_classes, "n_classes")
    if C < 2:
        raise ValueError(f"n_classes must be >= 2, got {C}")
    dim = C - 1 if dim is None else check_positive_int(dim, "dim")
    if dim < C - 1:
        raise ValueError(f"dim must be >= n_classes - 1 = {C - 1} to hold a simplex ETF, got {dim}")
    check_size(C * max(C, dim), check_positive_int(max_entries, "max_entries"), what="the frame, entries",
               keyword="max_entries", alternative="use fewer classes")
    E = np.sqrt(C / (C - 1.0)) * (np.eye(C) - np.full((C, C), 1.0 / C))
    U = np.linalg.svd(E)[0][:, : C - 1]  # coordinates of the rows in the (C-1)-dim subspace orthogonal to 1
    coords = E @ U  # (C, C-1), same Gram matrix as E
    if dim == C - 1:
        return coords
    Q = np.linalg.qr(np.random.default_rng(check_seed(seed)).standard_normal((dim, C - 1)))[0]
    return coords @ Q.T


def slope_changes(x: np.ndarray, f: np.ndarray, *, atol: float = 1e-6) -> np.ndarray:
    """Positions of the kinks of a piecewise-linear function sampled on an increasing grid ``x``.

    The slope of each grid cell is compared with the next; a change larger than ``atol`` marks a kink in
    between, and runs of adjacent marked cells (one kink seen by two cells) are merged into one position
    (their mean grid point). Returns the kink positions ``(k,)``.
    """
    if np.ndim(x) != 1 or np.ndim(f) != 1:
        raise ValueError(f"x and f must be 1-D arrays of the same length >= 3, got {np.shape(x)} and {np.shape(f)}")
    x = check_array(x, "x", (None,))
    f = check_array(f, "f", (None,))
    atol = check_nonnegative_number(atol, "atol")
    if x.shape != f.shape or x.size < 3:
        raise ValueError(f"x and f must be 1-D arrays of the same length >= 3, got {x.shape} and {f.shape}")
    if not np.all(np.diff(x) > 0):
        raise ValueError("x must be strictly increasing")
    slopes = np.diff(f) / np.diff(x)
    marked = np.flatnonzero(np.abs(np.diff(slopes)) > atol)  # a kink lies in cells marked..marked+1
    if marked.size == 0:
        return np.empty(0)
    groups = np.split(marked, np.flatnonzero(np.diff(marked) > 1) + 1)
    return np.array([x[g + 1].mean() for g in groups])

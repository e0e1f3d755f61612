"""Linear CNNs with circular convolution: an l1 program in the DFT domain, its nuclear-norm twin and closed form."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from cvxnn_core._cvx import check_solver
from cvxnn_core._shapes import MAX_ENTRIES, check_array, check_size
from cvxnn_core._validation import (
    check_beta,
    check_channels,
    check_labels_pm1,
    check_loss,
    check_positive_int,
    check_X,
    check_y,
)
from cvxnn_core.cnn.relu import _solve_program
from cvxnn_core.losses import Loss, loss_value

CIRCULANT_ATOL = 1e-9  # relative tolerance on ||X^T X - circulant|| accepted by circular_closed_form



# --------------------------------------------------------------------------------------------------
# Linear CNN with circular convolution: l1 in the DFT domain
# --------------------------------------------------------------------------------------------------


def circular_convolve(u: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Circular convolution ``(u * x)_a = sum_b u_{(a-b) mod d} x_b`` of ``u`` ``(d,)`` with each row of ``X``."""
    X = check_X(X)
    u = check_array(u, "u", (X.shape[1],), labels=("d",))
    return np.real(np.fft.ifft(np.fft.fft(u)[None, :] * np.fft.fft(X, axis=1), axis=1))


def circular_cnn_predictions(X: np.ndarray, U: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """``f(x) = sum_j w_j^T (u_j * x)`` for every row of ``X`` ``(n, d)``; ``U``, ``W2`` ``(m, d)``."""
    X = check_X(X)
    U, W2 = check_channels(X, U, W2)
    return sum(circular_convolve(u, X) @ w for u, w in zip(U, W2, strict=True))


def circular_cnn_objective(
    X: np.ndarray, y: np.ndarray, U: np.ndarray, W2: np.ndarray, beta: float, loss: Loss = "squared"
) -> float:
    """``l(f(X), y) + (beta/2)(||U||_F^2 + ||W2||_F^2)`` for the linear circular CNN."""
    X = check_X(X)
    y = check_y(y, X.shape[0])
    U, W2 = check_channels(X, U, W2)
    return loss_value(circular_cnn_predictions(X, U, W2), y, check_loss(loss)) + 0.5 * check_beta(beta) * float(
        np.sum(U**2) + np.sum(W2**2)
    )


def circular_linear_model(U: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """The vector ``g`` with ``f(x) = g^T x``: ``g_b = sum_j sum_a w_{j,a} u_{j,(a-b) mod d}``, shape ``(d,)``."""
    U = check_array(np.atleast_2d(U) if np.ndim(U) == 1 else U, "U", (None, None), labels=("m", "d"))
    W2 = check_array(np.atleast_2d(W2) if np.ndim(W2) == 1 else W2, "W2", (None, None), labels=("m", "d"))
    if W2.shape != U.shape:
        raise ValueError(f"U and W2 must have the same shape (m, d), got {U.shape} and {W2.shape}")
    # g = sum_j C(u_j)^T w_j, and C(u)^T w is the circular cross-correlation of w with u.
    return np.real(np.fft.ifft(np.sum(np.conj(np.fft.fft(U, axis=1)) * np.fft.fft(W2, axis=1), axis=0)))


def dft_l1_objective(X: np.ndarray, y: np.ndarray, g: np.ndarray, beta: float, loss: Loss = "squared") -> float:
    """``l(X g) + (beta / d) * ||F g||_1``, the DFT-domain program of the linear circular CNN."""
    X = check_X(X)
    y = check_y(y, X.shape[0])
    g = check_array(np.ravel(g), "g", (X.shape[1],), labels=("d",))
    d = X.shape[1]
    return loss_value(X @ g, y, check_loss(loss)) + check_beta(beta) / d * float(np.sum(np.abs(np.fft.fft(g))))


@dataclass(frozen=True)
class CircularResult:
    """A solution of the linear circular CNN: ``g`` (``(d,)``, ``f(x) = g^T x``), ``objective`` (of ``g`` in the
    DFT-domain program), ``method`` (``"closed_form"``, ``"dft_l1"`` or ``"nuclear"``), ``solve_time`` (s),
    ``status``, ``solver`` (``None`` for the closed form), ``M`` (``(d, d)``, nuclear-norm solve only)."""

    g: np.ndarray
    objective: float
    method: str
    solve_time: float
    status: str = "optimal"
    solver: str | None = None
    M: np.ndarray | None = field(default=None, repr=False)


def _prepare_circular(X, y, beta, loss):
    X = check_X(X)
    y = check_y(y, X.shape[0])
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    return X, y, beta, loss


def _real_dft(d: int) -> tuple[np.ndarray, np.ndarray]:
    F = np.fft.fft(np.eye(d), axis=0)  # F @ g == np.fft.fft(g)
    return F.real, F.imag


def solve_circular_dft(
    X: np.ndarray, y: np.ndarray, beta: float, *, loss: Loss = "squared", solver: str | None = None
) -> CircularResult:
    """Solve ``min_g l(X g) + (beta/d) ||F g||_1`` with cvxpy; ``|(F g)_f|`` is the 2-norm of its real and
    imaginary parts (an SOCP)."""
    import cvxpy as cp

    X, y, beta, loss = _prepare_circular(X, y, beta, loss)
    solver = check_solver(solver)
    d = X.shape[1]
    Fr, Fi = _real_dft(d)
    g = cp.Variable(d)
    penalty = cp.sum(cp.norm(cp.vstack([Fr @ g, Fi @ g]), 2, axis=0))
    status, elapsed, _ = _solve_program(beta / d * penalty, X @ g, y, loss, [], solver)
    gh = np.asarray(g.value, dtype=float)
    return CircularResult(gh, dft_l1_objective(X, y, gh, beta, loss), "dft_l1", elapsed, status, solver)


def circular_shift_operator(X: np.ndarray, *, max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """``T(x)`` for every row: ``T[j, c, a] = x_{j, (a - c) mod d}``, so that ``f(x_j) = <M, T(x_j)>`` for
    ``M = sum_i u_i w_i^T``. Shape ``(n, d, d)``; more than ``max_entries`` entries are refused."""
    X = check_X(X)
    d = X.shape[1]
    check_size(X.shape[0] * d * d, check_positive_int(max_entries, "max_entries"),
               what=f"a shift operator T ({X.shape[0]}, {d}, {d}), entries", keyword="max_entries",
               alternative="use solve_circular_dft (no T) or fewer samples")
    idx = (np.arange(d)[None, :] - np.arange(d)[:, None]) % d  # idx[c, a] = (a - c) mod d
    return X[:, idx]


def solve_circular_nuclear(
    X: np.ndarray, y: np.ndarray, beta: float, *, loss: Loss = "squared", solver: str | None = None, max_d: int = 40
) -> CircularResult:
    """Solve the CNN's own convex (SDP) program ``min_M l(<M, T(x_j)>) + beta ||M||_*`` with cvxpy.

    ``M = sum_j u_j w_j^T`` (``(d, d)``) and ``min ½ sum_j (||u_j||^2 + ||w_j||^2) = ||M||_*`` over the
    factorisations of ``M``; the result carries ``g`` with ``f(x) = g^T x`` and its DFT-domain objective. The SDP
    grows as ``d^2`` variables and ``d^4`` operator entries: ``d > max_d`` is refused (d = 48 takes 25 s, 64: 85 s).
    """
    import cvxpy as cp

    X, y, beta, loss = _prepare_circular(X, y, beta, loss)
    solver = check_solver(solver)
    n, d = X.shape
    check_size(d, check_positive_int(max_d, "max_d"), what="a nuclear-norm SDP with a (d, d) matrix variable, d",
               keyword="max_d", alternative="solve_circular_dft gives the same g as an SOCP")
    T = circular_shift_operator(X).reshape(n, d * d)
    M = cp.Variable((d, d))
    f = T @ cp.vec(M, order="C")
    status, elapsed, _ = _solve_program(beta * cp.normNuc(M), f, y, loss, [], solver)
    Mh = np.asarray(M.value, dtype=float)
    # g_b = sum_a M_{(a - b) mod d, a}
    idx = (np.arange(d)[None, :] - np.arange(d)[:, None]) % d  # idx[b, a] = (a - b) mod d
    gh = Mh[idx, np.arange(d)[None, :]].sum(axis=1)
    nuclear = loss_value(T @ Mh.reshape(-1), y, loss) + beta * float(np.sum(np.linalg.svd(Mh, compute_uv=False)))
    return CircularResult(gh, nuclear, "nuclear", elapsed, status, solver, M=Mh)


def circular_closed_form(X: np.ndarray, y: np.ndarray, beta: float) -> CircularResult:
    r"""Closed-form optimum of the DFT-domain program (squared loss) when ``X^T X`` is circulant.

    With ``X^T X = Phi^H diag(lambda) Phi`` (``Phi`` the unitary DFT, ``lambda = fft`` of the first column)
    and ``r = X^T y``, the objective separates over frequencies:
    ``½ lambda_f |g_f|^2 - Re(conj(r_f) g_f) + (beta / sqrt(d)) |g_f|`` (hats in the unitary DFT), minimised by
    complex soft-thresholding ``g_f = r_f / |r_f| * max(|r_f| - beta / sqrt(d), 0) / lambda_f``.
    Raises ``ValueError`` when ``X^T X`` is not circulant (e.g. the data are not closed under circular shifts).
    """
    X, y, beta, _ = _prepare_circular(X, y, beta, "squared")
    start = time.perf_counter()
    d = X.shape[1]
    G = X.T @ X
    c = G[:, 0]
    circ = np.stack([np.roll(c, k) for k in range(d)], axis=1)
    if np.max(np.abs(G - circ)) > CIRCULANT_ATOL * max(np.max(np.abs(G)), 1.0):
        raise ValueError(
            "circular_closed_form needs X whose Gram matrix X^T X is circulant (data closed under circular shifts, "
            "see circular_shift_augment); use solve_circular_dft for general X"
        )
    lam = np.real(np.fft.fft(c))
    r_hat = np.fft.fft(X.T @ y, norm="ortho")
    mag = np.abs(r_hat)
    shrink = np.maximum(mag - beta / np.sqrt(d), 0.0)
    tiny = lam <= 1e-12 * max(lam.max(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_hat = np.where((mag > 0) & ~tiny, r_hat / np.where(mag > 0, mag, 1.0) * shrink / np.where(tiny, 1.0, lam), 0)
    g = np.real(np.fft.ifft(g_hat, norm="ortho"))
    elapsed = time.perf_counter() - start
    return CircularResult(g, dft_l1_objective(X, y, g, beta), "closed_form", elapsed)


def circular_shift_augment(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``d`` circular shifts of every row of ``X`` (``(n d, d)``), with each row's target repeated ``d``
    times, in sample-major order. The augmented Gram matrix is circulant."""
    X = check_X(X)
    y = check_y(y, X.shape[0])
    d = X.shape[1]
    Xs = np.stack([np.roll(X, s, axis=1) for s in range(d)], axis=1).reshape(-1, d)
    return Xs, np.repeat(y, d)


def circular_cnn_from_dft(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-channel circular CNN ``(U, W2)`` (each ``(1, d)``) with ``f(x) = g^T x`` and weight decay
    ``½(||u||^2 + ||w||^2) = ||F g||_1 / d``: in the unitary DFT, ``w_f = sqrt(|z_f|)``, ``u_f = z_f / sqrt(|z_f|)``
    with ``z = conj(g_f) / sqrt(d)``."""
    try:
        g = np.asarray(g, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError("g must be a finite vector of shape (d,)") from exc
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)):
        raise ValueError(f"g must be a finite vector of shape (d,), got shape {g.shape}")
    d = g.shape[0]
    z = np.conj(np.fft.fft(g, norm="ortho")) / np.sqrt(d)
    mag = np.abs(z)
    root = np.sqrt(mag)
    u_hat = np.where(mag > 0, z / np.where(root > 0, root, 1.0), 0.0)
    u = np.real(np.fft.ifft(u_hat, norm="ortho"))
    w = np.real(np.fft.ifft(root, norm="ortho"))
    return u[None, :], w[None, :]

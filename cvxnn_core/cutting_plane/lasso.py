"""The restricted Lasso of the cutting-plane method: ReLU features of fixed directions, an exact active-set solver
with verified KKT conditions, and the network of a solution (see :mod:`cvxnn_core.cutting_plane`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cvxnn_core._cvx import SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._linalg import RELATIVE_RANK_RTOL
from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_positive_number,
    check_X,
)
from cvxnn_core.recovery import TwoLayerNet

_KKT_RTOL = 1e-9  # relative slack of the verified Lasso KKT conditions


@dataclass(frozen=True)
class RestrictedSolution:
    """Solution of one restricted Lasso ``min_c 0.5 ||A c - y||^2 + beta ||c||_1``.

    ``c`` ``(k,)``; ``f = A c``; ``objective``; ``lam``: the dual point handed to the oracle (``y - f`` for
    an exact solution, the solver's multiplier otherwise); ``solver_dual``: the interior-point multiplier of
    ``z = A c`` (``None`` when no interior-point solve ran); ``exact``: the KKT conditions were verified to
    rounding (``|a_j^T lam - beta sign(c_j)| <= 1e-9 beta`` on the support, ``|a_j^T lam| <= beta (1 + 1e-9)``
    off it); ``method``: ``"active_set"`` or ``"interior_point"``.
    """

    c: np.ndarray
    f: np.ndarray
    objective: float
    lam: np.ndarray
    solver_dual: np.ndarray | None
    exact: bool
    method: str


def relu_features(X: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``A = (X U^T)_+``: column ``k`` is the ReLU feature ``(X u_k)_+`` of the direction ``u_k`` (row of ``U``)."""
    X = check_X(X)
    U = check_array(U, "U", (None, X.shape[1]), labels=("k", "d")) if np.size(U) else np.zeros((0, X.shape[1]))
    return np.maximum(X @ U.T, 0.0)


def _check_lasso(A, y, c=None, beta=None, *, positive_beta: bool = False):
    """The restricted Lasso's features ``A`` ``(n, k)`` (``k = 0`` allowed), targets ``(n,)``, coefficients ``(k,)``."""
    if np.ndim(A) != 2:
        raise ValueError(f"A must have shape (n, k) (one column per feature), got shape {np.shape(A)}")
    A = np.asarray(A, dtype=np.float64)
    if not np.all(np.isfinite(A)):
        raise ValueError("A contains NaN or inf")
    y = check_array(y, "y", (A.shape[0],), labels=("n",))
    if c is not None:
        c = check_array(c, "c", (A.shape[1],), labels=("k",)) if A.shape[1] else np.zeros(0)
    if beta is not None:
        beta = check_positive_number(beta, "beta") if positive_beta else check_beta(beta)
    return A, y, c, beta


def lasso_objective(A: np.ndarray, y: np.ndarray, c: np.ndarray, beta: float) -> float:
    """``0.5 ||A c - y||^2 + beta ||c||_1``, the restricted primal (= the network's weight-decay objective)."""
    A, y, c, beta = _check_lasso(A, y, c, beta)
    return float(0.5 * np.sum((A @ c - y) ** 2) + beta * np.sum(np.abs(c)))


def network_of(U: np.ndarray, c: np.ndarray) -> TwoLayerNet:
    """The network ``sum_k c_k (X u_k)_+``, balanced: ``w1_k = sqrt|c_k| u_k``, ``w2_k = sign(c_k) sqrt|c_k|``.

    Rows of ``U`` must be unit vectors; zero coefficients are dropped. Weight decay ``= ||c||_1``.
    """
    if np.ndim(U) != 2:
        raise ValueError(f"U must have shape (k, d) (one unit direction per row), got shape {np.shape(U)}")
    U = np.asarray(U, dtype=np.float64)
    if not np.all(np.isfinite(U)):
        raise ValueError("U contains NaN or inf")
    c = np.asarray(c, dtype=np.float64).reshape(-1)
    if c.shape != (U.shape[0],) or not np.all(np.isfinite(c)):
        raise ValueError(f"c must have shape (k,) = ({U.shape[0]},) with finite entries (one per row of U), got "
                         f"shape {c.shape}")
    keep = c != 0
    root = np.sqrt(np.abs(c[keep]))
    W1 = U[keep] * root[:, None] if np.any(keep) else np.zeros((0, U.shape[1]))
    return TwoLayerNet(W1=W1, w2=np.sign(c[keep]) * root)


def lasso_kkt_holds(A: np.ndarray, y: np.ndarray, c: np.ndarray, beta: float, rtol: float = _KKT_RTOL) -> bool:
    """Whether ``c`` satisfies the Lasso optimality conditions with ``lambda = y - A c`` (relative ``rtol``).

    ``a_j^T lambda = beta sign(c_j)`` where ``c_j != 0`` and ``|a_j^T lambda| <= beta`` where ``c_j = 0``:
    necessary and sufficient for optimality of the convex problem.
    """
    A, y, c, beta = _check_lasso(A, y, c, beta)
    corr = A.T @ (y - A @ c)
    nz = c != 0
    on = np.all(np.abs(corr[nz] - beta * np.sign(c[nz])) <= rtol * beta)
    return bool(on and np.all(np.abs(corr[~nz]) <= beta * (1 + rtol)))


def lasso_active_set(
    A: np.ndarray, y: np.ndarray, beta: float, c0: np.ndarray | None = None, *, max_steps: int | None = None
) -> np.ndarray | None:
    """Exact Lasso ``min_c 0.5 ||A c - y||^2 + beta ||c||_1`` by a Lawson-Hanson active-set method.

    With ``c = z+ - z-``, ``z = (z+, z-) >= 0`` and ``B = [A, -A]`` the problem is the bound-constrained QP
    ``min 0.5 ||B z - y||^2 + beta 1^T z``. The passive set ``P`` holds the positive entries; the inner loop
    solves the KKT system ``B_P^T (y - B_P z_P) = beta 1`` (QR of ``B_P``) and steps back to the boundary
    when an entry would turn non-positive; the outer loop adds the entry with the largest
    ``w_j = b_j^T (y - B z) - beta > 0``. If ``B_P`` has dependent columns (several neurons in one cone), a
    null vector ``delta`` of ``B_P`` keeps the fit and moves the penalty along ``beta 1^T delta``: the
    method steps along the non-increasing direction until an entry reaches zero. ``c0`` warm-starts (e.g.
    the previous cutting-plane iterate, new features at zero). Returns ``c`` only when
    :func:`lasso_kkt_holds` verifies it, else ``None``.
    """
    A, y, c0, beta = _check_lasso(A, y, c0, beta)
    from scipy.linalg import qr, solve_triangular

    n, k = A.shape
    B = np.hstack([A, -A])
    c0 = np.zeros(k) if c0 is None else np.asarray(c0, dtype=float)
    z = np.concatenate([np.maximum(c0, 0.0), np.maximum(-c0, 0.0)])
    P = z > 0
    last = -1
    steps = 0
    limit = max_steps if max_steps is not None else 50 * (2 * k + 10)
    while steps < limit:
        # Inner loop: z optimal over its passive set (unconstrained there), z_P > 0.
        while np.any(P) and steps < limit:
            steps += 1
            idx = np.flatnonzero(P)
            BP = B[:, idx]
            Q, R = qr(BP, mode="economic")
            diag = np.abs(np.diag(R))
            if idx.size > n or diag.min() <= RELATIVE_RANK_RTOL * diag.max():
                delta = np.linalg.svd(BP, full_matrices=True)[2][-1]
                rate = float(delta.sum())
                if rate > 1e-12 * np.abs(delta).sum() or (
                    abs(rate) <= 1e-12 * np.abs(delta).sum() and last in idx and delta[idx == last][0] < 0
                ):
                    delta = -delta
                neg = delta < 0
                if not np.any(neg):
                    return None
                ratios = z[idx][neg] / -delta[neg]
                z[idx] = np.maximum(z[idx] + ratios.min() * delta, 0.0)
                drop = idx[neg][np.argmin(ratios)]
                z[drop], P[drop] = 0.0, False
                continue
            # KKT on P: B_P^T B_P s = B_P^T y - beta 1, with B_P = Q R.
            ones = solve_triangular(R, np.ones(idx.size), trans="T")
            s = solve_triangular(R, Q.T @ y - beta * ones)
            if np.all(s > 0):
                z[idx] = s
                break
            neg = s <= 0
            ratios = z[idx][neg] / (z[idx][neg] - s[neg])
            z[idx] = z[idx] + ratios.min() * (s - z[idx])
            drop = idx[neg][np.argmin(ratios)]
            z[drop] = 0.0
            z[z < 0] = 0.0
            P = z > 0
        w = B.T @ (y - B @ z) - beta
        w[P] = -np.inf
        j = int(np.argmax(w))
        if w[j] <= _KKT_RTOL * beta * 0.5:
            break
        P[j], last = True, j
        steps += 1
    c = z[:k] - z[k:]
    return c if lasso_kkt_holds(A, y, c, beta) else None


def solve_restricted_lasso(
    A: np.ndarray,
    y: np.ndarray,
    beta: float,
    *,
    method: Literal["active_set", "interior_point"] = "active_set",
    c0: np.ndarray | None = None,
    solver: str | None = None,
) -> RestrictedSolution:
    """Solve the restricted Lasso ``min_c 0.5 ||A c - y||^2 + beta ||c||_1`` over the features ``A`` ``(n, k)``.

    ``"active_set"``: :func:`lasso_active_set` (exact, warm-started at ``c0``); if it cannot verify the
    KKT conditions, the interior-point solve below is used instead. ``"interior_point"``: cvxpy with
    ``solver`` (Clarabel by default) at the tight tolerances of :data:`cvxnn_core._cvx.SOLVER_OPTIONS`;
    ``lam`` is then the solver's multiplier of ``z = A c``, whose accuracy follows the solver tolerance,
    while the residual ``y - A c`` is only accurate to about its square root. With no features the
    solution is ``c = 0``, ``lambda = y``.
    """
    method = check_choice(method, "method", ("active_set", "interior_point"))  # type: ignore[assignment]
    A, y, c0, beta = _check_lasso(A, y, c0, beta)
    n, k = A.shape
    if k == 0:
        return RestrictedSolution(np.zeros(0), np.zeros(n), float(0.5 * y @ y), y.copy(), None, True, "active_set")
    if method == "active_set":
        c = lasso_active_set(A, y, beta, c0)
        if c is not None:
            f = A @ c
            return RestrictedSolution(c, f, lasso_objective(A, y, c, beta), y - f, None, True, "active_set")
    import cvxpy as cp

    name = check_solver(solver)
    cv = cp.Variable(k)
    z = cp.Variable(n)
    link = z == A @ cv
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(z - y) + beta * cp.norm1(cv)), [link])
    run_problem(problem, name, SOLVER_OPTIONS.get(name, {}), what=" on the restricted Lasso")
    c = np.asarray(cv.value, dtype=float)
    lam = np.asarray(link.dual_value, dtype=float)
    f = A @ c
    exact = lasso_kkt_holds(A, y, c, beta)
    return RestrictedSolution(c, f, lasso_objective(A, y, c, beta), lam, lam, exact, "interior_point")

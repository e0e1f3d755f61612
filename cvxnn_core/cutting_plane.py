r"""The cutting-plane method of Ergen & Pilanci (JMLR 2021) for two-layer ReLU networks, squared loss.

The semi-infinite dual of weight-decay training (``beta > 0``)::

    max_lambda  -0.5 ||lambda - y||^2 + 0.5 ||y||^2   s.t.  |lambda^T (X u)_+| <= beta  for all ||u|| = 1

has one constraint per unit direction ``u`` (a neuron). The cutting-plane method keeps a finite set of
neurons ``u_1..u_k`` and alternates two exact steps.

1. **Restricted primal** (a Lasso over fixed ReLU features ``a_k = (X u_k)_+``)::

       min_c  0.5 ||sum_k c_k a_k - y||^2 + beta ||c||_1 ,

   whose dual is the semi-infinite dual restricted to the constraints ``|lambda^T a_k| <= beta``. Its
   optimum is the objective of a real network (``w1_k = sqrt|c_k| u_k``, ``w2_k = sign(c_k) sqrt|c_k|``
   has weight decay ``beta ||c||_1``), hence an **upper bound** on the global optimum. The restricted
   dual optimum is ``lambda = y - A c*``.
2. **Oracle** (most violated constraint, exact). For a pattern ``D_i`` of the arrangement with cone
   ``K_i = {u : (2 D_i - I) X u >= 0}``, ``lambda^T (X u)_+ = g_i^T u`` with ``g_i = X^T D_i lambda`` and
   ``max_{u in K_i, ||u|| <= 1} +-g_i^T u = ||Pi_{K_i}(+-g_i)||`` (Moreau), attained at the normalised
   projection ``u* = Pi_{K_i}(+-g_i) / ||Pi_{K_i}(+-g_i)||``
   (:func:`cvxnn_core.patterns.cone_projection`). The largest value over the complete arrangement,
   divided by ``beta``, is the *max violation ratio*; the ``neurons_per_iter`` directions with the
   largest ratios above ``1 + tol`` (distinct, not already in the set) are added.

The **lower bound** at each iteration is the dual value of ``lambda`` scaled to be feasible over every
pattern (:func:`cvxnn_core.certificates.dual_certificate`; when an interior-point multiplier is at hand
it is tried too and the better bound kept). The method stops when the max violation ratio is
``<= 1 + tol``: ``lambda / (1 + tol)`` is then feasible for the full dual and, since
``lambda^T (y - lambda) = beta ||c||_1`` at the restricted optimum, the relative gap is at most
``tol * beta ||c||_1 / primal < tol``. The upper bounds never increase (each restricted problem contains
the previous one); the lower bounds need not be monotone.

Cost. The certificate's sweep over the patterns (one non-negative least-squares projection per pattern
and sign) also yields the max violation ratio and the violating patterns, so the oracle only projects
again on those to get the maximising directions. Adding the top ``neurons_per_iter`` distinct violators
per iteration (rather than one) cuts the number of iterations; the whole neuron set is kept. No
relaxation-based oracle (cone-free bound, sampled patterns) is used: every ratio is exact.

Accuracy of the restricted solve. An interior-point solution (Clarabel) of the Lasso is accurate to
about the solver tolerance *in objective*, but its residual ``y - A c`` only to about the square root of
it, which would stall the oracle near a violation ratio of ``1 + 1e-5``. The restricted Lasso is
therefore solved **exactly** by an active-set method (:func:`lasso_active_set`, Lawson-Hanson on
``c = z+ - z-``, warm-started at the previous iterate), whose output is accepted only after its KKT
conditions are verified to rounding; ``lambda = y - A c`` is then the exact restricted dual optimum. If
the verification fails (degenerate feature sets), the interior-point solve is used and the oracle gets
the solver's multiplier of ``z = A c``, which is accurate to the solver tolerance; the certificate then
tries both that multiplier and the residual. ``history["exact_solve"]`` records which happened.

Starting point: the empty set (``lambda = y``), plus ``init_neurons`` random unit directions drawn with
``seed`` (the method is otherwise deterministic).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from tqdm import tqdm

from cvxnn_core._cvx import SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._linalg import RELATIVE_RANK_RTOL
from cvxnn_core._shapes import MAX_ENTRIES, check_array, check_size
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_patterns,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
    check_X_y,
)
from cvxnn_core.certificates import Certificate, dual_certificate
from cvxnn_core.patterns import cone_projection, enumerate_patterns
from cvxnn_core.recovery import TwoLayerNet

HISTORY_KEYS = (
    "iteration",
    "upper_bound",
    "lower_bound",
    "gap",
    "max_violation",
    "n_neurons",
    "n_active",
    "exact_solve",
    "time",
)
_KKT_RTOL = 1e-9  # relative slack of the verified Lasso KKT conditions
_SAME_DIRECTION_TOL = 1e-9  # two unit directions closer than this are the same neuron


@dataclass(frozen=True)
class CuttingPlaneResult:
    """Outcome of :func:`cutting_plane`.

    ``net``: the network of the last restricted solve (one neuron per non-zero ``c_k``); its weight-decay
    objective is ``objective`` (the final upper bound). ``lower_bound``, ``gap`` (relative,
    ``(objective - lower_bound) / objective``) and ``certificate`` come from the last
    :func:`~cvxnn_core.certificates.dual_certificate`; ``exact`` is True when the oracle ran over the
    complete arrangement (then ``lower_bound`` bounds every network of any width). ``max_violation`` is
    ``max_u |lambda^T (X u)_+| / beta`` at the final ``lambda`` (``dual``). ``status`` is ``"converged"``,
    ``"max_iters"`` or ``"stalled"`` (the oracle's best neurons were already in the set: the restricted
    solve is not accurate enough); ``message`` says why it stopped. ``directions`` ``(k, d)`` and
    ``coefficients`` ``(k,)`` are the whole neuron set (unit rows) and the Lasso solution over it.
    ``history`` maps each of :data:`HISTORY_KEYS` to an array with one entry per iteration (iteration 0 is
    the initial set, empty unless ``init_neurons > 0``): ``upper_bound``, ``lower_bound``, ``gap``,
    ``max_violation`` (ratio, before adding neurons), ``n_neurons`` (size of the set solved over),
    ``n_active`` (non-zero coefficients), ``exact_solve`` (KKT verified) and ``time``, the wall time in
    seconds since the start when that iteration's bounds were known.
    """

    net: TwoLayerNet
    objective: float
    lower_bound: float
    gap: float
    max_violation: float
    status: str
    message: str
    n_iters: int
    exact: bool
    directions: np.ndarray
    coefficients: np.ndarray
    dual: np.ndarray
    history: dict[str, np.ndarray] = field(repr=False)
    certificate: Certificate = field(repr=False)
    n_patterns: int = 0

    @property
    def n_neurons(self) -> int:
        """Width of the returned network (non-zero Lasso coefficients)."""
        return self.net.width


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


def most_violated_neurons(
    X: np.ndarray, patterns: np.ndarray, lam: np.ndarray, beta: float, k: int
) -> tuple[float, np.ndarray, np.ndarray]:
    """Exact oracle over the given patterns: the largest ``|lambda^T (X u)_+| / beta`` and its maximisers.

    For pattern ``i`` and sign ``+-``, ``max_{u in K_i, ||u|| <= 1} +-g_i^T u = ||Pi_{K_i}(+-g_i)||`` with
    ``g_i = X^T D_i lambda``, attained at ``u = Pi_{K_i}(+-g_i) / ||Pi_{K_i}(+-g_i)||``, where
    ``lambda^T (X u)_+ = +-||Pi_{K_i}(+-g_i)||``. Returns ``(ratio, U, ratios)``: the largest value over all
    patterns and signs divided by ``beta``, and the ``k`` (at most) best distinct unit directions ``U``
    ``(m, d)`` with their ratios, largest first.
    """
    X = check_X(X)
    if np.ndim(patterns) == 2 and np.shape(patterns)[1] == 0 and np.asarray(patterns).dtype == np.bool_:
        patterns = np.asarray(patterns).reshape(X.shape[0], 0)  # no pattern to search: no violated neuron
    else:
        patterns = check_patterns(patterns, X.shape[0])
    lam = check_array(lam, "lam", (X.shape[0],), labels=("n",))
    beta = check_positive_number(beta, "beta")
    k = check_positive_int(k, "k")
    G = X.T @ (patterns * lam[:, None])  # (d, P)
    values, directions = [], []
    for i in range(patterns.shape[1]):
        for sign in (1.0, -1.0):
            p = cone_projection(X, patterns[:, i], sign * G[:, i])
            val = float(np.linalg.norm(p))
            if val > 0:
                values.append(val)
                directions.append(p / val)
    d = X.shape[1]
    if not values:
        return 0.0, np.zeros((0, d)), np.zeros(0)
    order = np.argsort(-np.asarray(values), kind="stable")
    chosen: list[int] = []
    for j in order:
        if len(chosen) == k:
            break
        if all(np.linalg.norm(directions[j] - directions[m]) > _SAME_DIRECTION_TOL for m in chosen):
            chosen.append(int(j))
    U = np.array([directions[j] for j in chosen]).reshape(-1, d)
    return values[order[0]] / beta, U, np.array([values[j] for j in chosen]) / beta


def cutting_plane(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    *,
    patterns: np.ndarray | None = None,
    max_iters: int = 100,
    tol: float = 1e-6,
    neurons_per_iter: int = 1,
    init_neurons: int = 0,
    seed: int = 0,
    method: Literal["active_set", "interior_point"] = "active_set",
    solver: str | None = None,
    progress: bool = True,
    max_entries: int = MAX_ENTRIES,
) -> CuttingPlaneResult:
    """Cutting-plane training of a two-layer ReLU network with weight decay (squared loss).

    Args:
        X: data ``(n, d)`` (append a ones column for a bias).
        y: targets ``(n,)``.
        beta: weight decay ``> 0``.
        patterns: boolean ``(n, P)`` patterns over which the oracle searches; ``None`` enumerates the
            complete arrangement (then the lower bounds are global).
        max_iters: maximum number of oracle calls after the initial one.
        tol: stop when ``max_u |lambda^T (X u)_+| <= beta (1 + tol)``; at least ``1e-9`` (rounding).
        neurons_per_iter: how many of the most violated (distinct) neurons to add per iteration.
        init_neurons: random unit directions (seeded) in the initial set; ``0`` starts from the empty network.
        seed: seeds the initial directions (the method is otherwise deterministic).
        method: how the restricted Lasso is solved (:func:`solve_restricted_lasso`): the exact active-set
            method (default) or the interior-point solver with its multiplier as the dual point.
        solver: cvxpy solver for the interior-point solves; ``None`` means Clarabel.
        progress: tqdm bar over the iterations.

    Returns:
        :class:`CuttingPlaneResult`; see the module docstring for the math.
    """
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    if beta == 0:
        raise ValueError("beta must be > 0 for the cutting-plane method (the dual constraint is <= beta)")
    max_iters = check_positive_int(max_iters, "max_iters")
    neurons_per_iter = check_positive_int(neurons_per_iter, "neurons_per_iter")
    if isinstance(init_neurons, bool) or not isinstance(init_neurons, int | np.integer) or init_neurons < 0:
        raise ValueError(f"init_neurons must be a non-negative integer, got {init_neurons!r}")
    seed = check_seed(seed)
    method = check_choice(method, "method", ("active_set", "interior_point"))  # type: ignore[assignment]
    if isinstance(tol, bool) or not isinstance(tol, int | float | np.floating) or not (1e-9 <= tol < 1):
        raise ValueError(f"tol must be a number in [1e-9, 1) (relative slack on the dual constraint), got {tol!r}")
    D = enumerate_patterns(X) if patterns is None else check_patterns(patterns, X.shape[0])

    d = X.shape[1]
    check_size(int(init_neurons) * (X.shape[0] + d), check_positive_int(max_entries, "max_entries"),
               what="initial neurons and their features, entries", keyword="max_entries",
               alternative="start from fewer neurons (init_neurons)")
    U = np.random.default_rng(seed).standard_normal((int(init_neurons), d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    c_prev = np.zeros(U.shape[0])
    keys = list(HISTORY_KEYS)
    hist: dict[str, list] = {key: [] for key in keys}
    start = time.perf_counter()
    status, message = "max_iters", f"stopped after max_iters = {max_iters} iterations"
    bar = tqdm(total=max_iters, desc="cutting plane", disable=not progress, leave=False, file=sys.stderr)
    try:
        for it in range(max_iters + 1):
            A = relu_features(X, U)
            warm = np.concatenate([c_prev, np.zeros(U.shape[0] - c_prev.shape[0])])
            sol = solve_restricted_lasso(A, y, beta, method=method, c0=warm, solver=solver)
            c_prev = sol.c
            cert = dual_certificate(X, y, sol.f, sol.objective, beta, D, dual=sol.solver_dual)
            if sol.solver_dual is None:
                # One candidate, lambda = y - f: the certificate's sweep already found the max ratio and the
                # violating patterns (ratio > 1 + 1e-9); only those need the maximising directions.
                ratio = cert.max_violation
                _, U_new, ratios = most_violated_neurons(X, cert.violating, sol.lam, beta, neurons_per_iter)
            else:
                ratio, U_new, ratios = most_violated_neurons(X, D, sol.lam, beta, neurons_per_iter)
            U_new = U_new[ratios > 1.0 + tol]
            elapsed = time.perf_counter() - start
            row = {
                "iteration": it,
                "upper_bound": sol.objective,
                "lower_bound": cert.lower_bound,
                "gap": cert.gap,
                "max_violation": ratio,
                "n_neurons": U.shape[0],
                "n_active": int(np.count_nonzero(sol.c)),
                "exact_solve": sol.exact,
                "time": elapsed,
            }
            for key in keys:
                hist[key].append(row[key])
            bar.set_postfix(gap=f"{cert.gap:.2e}", violation=f"{ratio:.6f}", neurons=U.shape[0], refresh=False)
            if ratio <= 1.0 + tol:
                status, message = "converged", f"max violation ratio {ratio:.12g} <= 1 + tol after {it} iterations"
                break
            if it == max_iters:
                break
            new = [j for j in range(U_new.shape[0]) if not _already_in(U, U_new[j])]
            if not new:
                status = "stalled"
                message = (
                    f"the most violated neurons (ratio {ratio:.12g}) are already in the set; the restricted "
                    "solve is not accurate enough to go on"
                )
                break
            U = np.vstack([U, U_new[new]])
            bar.update(1)
    finally:
        bar.close()
    history = {
        key: np.asarray(hist[key], dtype=bool if key == "exact_solve" else float if key != "iteration" else int)
        for key in keys
    }
    history["n_neurons"] = history["n_neurons"].astype(int)
    history["n_active"] = history["n_active"].astype(int)
    return CuttingPlaneResult(
        net=network_of(U, sol.c),
        objective=sol.objective,
        lower_bound=cert.lower_bound,
        gap=cert.gap,
        max_violation=ratio,
        status=status,
        message=message,
        n_iters=it,
        exact=cert.exact,
        directions=U,
        coefficients=sol.c,
        dual=sol.lam,
        history=history,
        certificate=cert,
        n_patterns=int(D.shape[1]),
    )


def _already_in(U: np.ndarray, u: np.ndarray) -> bool:
    """Whether the unit direction ``u`` is (numerically) a row of ``U``."""
    return bool(U.shape[0]) and bool(np.min(np.linalg.norm(U - u, axis=1)) <= _SAME_DIRECTION_TOL)

"""The ReLU program by column and constraint generation with exact reduced solves, and pattern growth."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from cvxnn_core._cvx import block_norms
from cvxnn_core._shapes import check_array, check_optional_positive
from cvxnn_core._training import progress_bar
from cvxnn_core._validation import (
    check_beta,
    check_patterns,
    check_positive_int,
    check_X,
    check_y,
)
from cvxnn_core.duality import NO_CONSTRAINT_SCALE, cone_supports, relative_gap
from cvxnn_core.losses import best_dual_scale, dual_value, loss_value
from cvxnn_core.solvers.fista import FirstOrderResult, _prepare
from cvxnn_core.solvers.operators import gated_forward
from cvxnn_core.solvers.relu_al import _append, _relative_violation, feasible_point

REDUCED_SOLVE_TOL = 1e-10

REDUCED_SOLVE_METHOD = "faer"  # Clarabel's supernodal LDL: the reduced KKT systems are dense


# ----------------------------------------------------------------------------------------------------------------------
# ReLU: active set (column and constraint generation) with exact reduced solves
# ----------------------------------------------------------------------------------------------------------------------


def _reduced_relu_socp(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    blocks: np.ndarray,
    rows: list[np.ndarray],
) -> tuple[np.ndarray, str]:
    """Exact solve (Clarabel's conic interior point, called directly) of the ReLU program restricted to ``blocks``.

    ``blocks`` are signed block indices in ``[0, 2P)``; ``rows[b]`` the constraint rows ``j`` of
    ``((2 D_i - I) X)_j v_b >= 0`` kept for block ``b``. Squared loss: ``min 1/2 theta^T M^T M theta - (M^T y)^T theta
    + beta sum_b t_b`` s.t. ``(t_b, theta_b)`` in the second-order cone. Returns ``(Theta (k, d), status)``.
    """
    import clarabel
    import scipy.sparse as sp

    n, d = X.shape
    P = patterns.shape[1]
    k = len(blocks)
    signs = np.where(blocks < P, 1.0, -1.0)
    pats = blocks % P
    M = ((patterns[:, pats] * signs)[:, :, None] * X[:, None, :]).reshape(n, k * d)
    H = M.T @ M
    Pm = sp.block_diag([sp.csc_matrix(np.triu(H)), sp.csc_matrix((k, k))], format="csc")
    q = np.concatenate([-M.T @ y, np.full(k, beta)])
    soc_rows = np.arange(k * (d + 1))
    soc_cols = np.concatenate([np.concatenate([[k * d + b], b * d + np.arange(d)]) for b in range(k)])
    A_soc = sp.csc_matrix((-np.ones(k * (d + 1)), (soc_rows, soc_cols)), shape=(k * (d + 1), k * d + k))
    lin = [sp.csc_matrix(-((2.0 * patterns[r, i] - 1.0)[:, None] * X[r])) for i, r in zip(pats, rows, strict=True)]
    n_lin = sum(m.shape[0] for m in lin)
    A_lin = sp.hstack([sp.block_diag(lin, format="csc"), sp.csc_matrix((n_lin, k))])
    A = sp.vstack([A_soc, A_lin], format="csc")
    cones = [clarabel.SecondOrderConeT(d + 1)] * k + ([clarabel.NonnegativeConeT(n_lin)] if n_lin else [])
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    settings.tol_gap_abs = settings.tol_gap_rel = settings.tol_feas = REDUCED_SOLVE_TOL
    settings.max_iter = 200
    settings.direct_solve_method = REDUCED_SOLVE_METHOD
    solution = clarabel.DefaultSolver(Pm, q, A, np.zeros(A.shape[0]), cones, settings).solve()
    status = str(solution.status)
    if status not in ("Solved", "AlmostSolved"):
        raise RuntimeError(f"the reduced conic solve (Clarabel) ended with status {status}")
    return np.asarray(solution.x)[: k * d].reshape(k, d), status


def active_set_relu(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    tol: float = 1e-6,
    max_rounds: int = 50,
    max_time: float | None = None,
    max_add: int | None = None,
    rows_per_block: int | None = None,
    warm_start: np.ndarray | None = None,
    seed: int = 0,
    progress: bool | None = None,
) -> FirstOrderResult:
    """ReLU program (squared loss) by column and constraint generation with exact reduced solves.

    A working set of signed blocks and, per block, of cone-constraint rows is grown until the certificate
    closes: (1) solve the program restricted to the working set exactly (conic interior point on a problem
    with ``k d`` variables instead of ``2 P d``, keeping only ``rows_per_block`` constraint rows per block);
    (2) add every violated constraint row of the working blocks and re-solve until the point is feasible;
    (3) project each block onto its cone (removing ~1e-12 rounding) and certify it: with the residual
    ``lambda``, the exact cone supports over all ``2 P`` blocks (:func:`cone_supports`) give a dual-feasible
    scaling and a lower bound; (4) stop when the relative gap is ``<= tol``, else add the ``max_add`` blocks
    whose dual constraint is most violated. The first dual point is ``lambda = y``, or the residual of
    ``warm_start`` (a ``(2 P, d)`` array ``[V; W]``, e.g. from :func:`al_relu` or a neighbouring ``beta``).

    ``max_time`` (seconds) stops the rounds early; the best certified point so far is returned.

    The exact inner solves make this a second-order method on the support; the returned point is feasible
    (violation ~1e-12 after the projections) and its gap is certified independently of the inner solver.
    """
    X, y, beta, patterns, loss, tol, _, seed = _prepare(X, y, beta, patterns, "squared", tol, 1, seed, False)
    max_rounds = check_positive_int(max_rounds, "max_rounds")
    n, d = X.shape
    P = patterns.shape[1]
    max_add = max(5, P // 20) if max_add is None else check_positive_int(max_add, "max_add")
    rows_per_block = (min(n, 2 * d) if rows_per_block is None
                      else min(n, check_positive_int(rows_per_block, "rows_per_block")))
    max_time = check_optional_positive(max_time, "max_time")
    start = time.perf_counter()
    history: dict[str, list[float]] = {
        k: [] for k in ("time", "iteration", "objective", "lower_bound", "gap", "violation")
    }
    S2 = np.tile(2.0 * patterns - 1.0, 2)
    Z = np.zeros((2 * P, d)) if warm_start is None else check_array(
        warm_start, "warm_start", (2 * P, d), labels=("2P", "d"), fix="stack [V; W] with np.vstack").copy()
    if warm_start is not None:
        Z = feasible_point(X, patterns, Z)
    working = np.flatnonzero(np.any(Z != 0, axis=1))
    directions = np.zeros((2 * P, d))
    rows: dict[int, np.ndarray] = {}
    best = (math.inf, Z, y.copy())
    best_lower = -math.inf
    converged = False
    solves = 0
    bar = progress_bar(progress, total=max_rounds, desc="active set (ReLU)")
    for rnd in range(1, max_rounds + 1):
        # certify the current feasible point Z
        f = gated_forward(X, patterns, Z[:P] - Z[P:])
        lam = y - f
        values, exact, dirs = cone_supports(X, patterns, lam, beta, top=max_add)
        smax = float(np.max(values, initial=0.0))
        t = best_dual_scale(lam, y, "squared", beta / smax if smax > 0 else NO_CONSTRAINT_SCALE)
        lower = float(dual_value(t * lam, y, "squared"))
        primal = loss_value(f, y, "squared") + beta * float(np.sum(block_norms(Z)))
        best_lower = max(best_lower, lower)
        if primal < best[0]:
            best = (primal, Z.copy(), t * lam)
        _append(history, time.perf_counter() - start, solves, primal, best_lower, _relative_violation(X, patterns, Z))
        gap = relative_gap(best[0], best_lower)
        bar.update(1)
        bar.set_postfix(gap=f"{gap:.2e}", blocks=len(working))
        if gap <= tol:
            converged = True
            break
        if max_time is not None and time.perf_counter() - start > max_time:
            break
        # grow the working set with the most violated dual constraints
        violators = np.flatnonzero(exact & (values > beta * (1.0 + 1e-9)))
        violators = violators[~np.isin(violators, working)]
        new = violators[np.argsort(-values[violators])][:max_add]
        directions[new] = dirs[new]
        keep = working[np.any(Z[working] != 0, axis=1)] if rnd > 1 else working
        working = np.union1d(keep, new)
        if len(working) == 0:
            break
        for j in working:
            ref = Z[j] if np.any(Z[j] != 0) else directions[j]
            slack = S2[:, j] * (X @ ref)
            base = np.argsort(slack)[:rows_per_block]
            rows[j] = np.union1d(rows.get(j, np.array([], dtype=int)), base)
        # reduced solves with constraint generation
        for _ in range(20):
            Theta, _status = _reduced_relu_socp(X, y, beta, patterns, working, [rows[j] for j in working])
            solves += 1
            slack = S2[:, working] * (X @ Theta.T)  # (n, k)
            scale = np.maximum(np.linalg.norm(X @ Theta.T, axis=0), 1e-300)
            bad = slack < -1e-9 * scale
            for col, j in enumerate(working):  # rows already kept are satisfied to the solver's tolerance
                bad[rows[j], col] = False
            if not np.any(bad):
                break
            for col, j in enumerate(working):
                if np.any(bad[:, col]):
                    extra = np.argsort(slack[:, col] / scale[col])[: np.sum(bad[:, col]) + rows_per_block]
                    rows[j] = np.union1d(rows[j], extra)
        Znew = np.zeros((2 * P, d))
        Znew[working] = Theta
        Z = feasible_point(X, patterns, Znew)
    bar.close()
    primal, Z, lam = best
    elapsed = time.perf_counter() - start
    return FirstOrderResult(
        kind="relu",
        V=Z[:P],
        W=Z[P:],
        objective=primal,
        lower_bound=best_lower,
        gap=relative_gap(primal, best_lower),
        violation=_relative_violation(X, patterns, Z),
        iterations=solves,
        outer_iterations=len(history["time"]),
        solve_time=elapsed,
        converged=converged,
        solver="ACTIVE_SET",
        device="cpu",
        dtype="float64",
        dual=lam,
        history={k: np.asarray(v) for k, v in history.items()},
    )


@dataclass(frozen=True)
class PatternGrowth:
    """One round of :func:`grow_patterns`: ``P`` patterns, the certified optimum over them, the relative gap of
    that solution certified over ``P_probe`` patterns (the set plus a fresh pool), patterns added, and the time."""

    P: int
    objective: float
    P_probe: int
    probe_gap: float
    added: int
    solve_time: float


def grow_patterns(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    tol: float = 1e-6,
    pool: int | None = None,
    max_add: int | None = None,
    max_rounds: int = 10,
    seed: int = 0,
    progress: bool | None = None,
) -> tuple[FirstOrderResult, np.ndarray, list[PatternGrowth]]:
    r"""Grow a pattern set by column generation over fresh random pools until no pool pattern can improve it.

    Round ``k``: solve the ReLU program (squared loss) over ``D_k`` (:func:`active_set_relu`, certified gap
    ``<= tol``, warm-started from the previous round); draw ``pool`` fresh Gaussian-gate patterns (seed
    ``seed + k + 1``) and, at the residual ``lambda = y - f``, compute the exact dual constraint values (cone
    supports, :func:`cone_supports`) over ``D_k`` and the pool. Scaling ``lambda`` to satisfy them all gives a
    lower bound for the program over ``D_k \cup`` pool, hence the *probe gap* of the current solution there. Stop
    when it is ``<= tol`` (the pool cannot lower the objective); otherwise add the ``max_add`` pool patterns with
    the most violated constraints. The optima decrease monotonically and each is attained by a network, so each
    is an upper bound on the non-convex optimum; only the complete arrangement certifies the *global* optimum,
    and in moderate dimension random pools stop helping long before it is reached. Merging the patterns of a
    trained network into ``patterns`` (:func:`cvxnn_core.patterns.patterns_of_weights`) makes the set rich where
    a good network lives. Defaults: ``pool = 4 P_0``, ``max_add = P_0``.

    Returns the final solution, the patterns it was solved over and one :class:`PatternGrowth` per round.
    """
    from cvxnn_core.patterns import merge_patterns, sample_patterns

    X = check_X(X)
    y = check_y(y, X.shape[0])
    beta = check_beta(beta)
    D = check_patterns(patterns, X.shape[0])
    pool = 4 * D.shape[1] if pool is None else check_positive_int(pool, "pool")
    max_add = D.shape[1] if max_add is None else check_positive_int(max_add, "max_add")
    max_rounds = check_positive_int(max_rounds, "max_rounds")
    rounds: list[PatternGrowth] = []
    warm = None
    bar = progress_bar(progress, total=max_rounds, desc="pattern growth")
    for k in range(max_rounds):
        result = active_set_relu(X, y, beta, D, tol=tol, seed=seed, warm_start=warm)
        P = D.shape[1]
        lam = y - gated_forward(X, D, result.V - result.W)
        probe = merge_patterns(D, sample_patterns(X, pool, seed=seed + k + 1))
        Q = probe.shape[1]
        values, exact, _ = cone_supports(X, probe, lam, beta, top=max_add)
        smax = float(np.max(values, initial=0.0))
        t = best_dual_scale(lam, y, "squared", beta / smax if smax > 0 else NO_CONSTRAINT_SCALE)
        gap = relative_gap(result.objective, dual_value(t * lam, y, "squared"))
        block = np.arange(2 * Q) % Q
        new = exact & (values > beta * (1 + tol)) & (block >= P)
        order = np.argsort(-np.where(new, values, -np.inf))[: int(new.sum())]
        chosen = list(dict.fromkeys(block[order].tolist()))[:max_add]
        stop = gap <= tol or not chosen or k == max_rounds - 1
        rounds.append(PatternGrowth(P, result.objective, Q, gap, 0 if stop else len(chosen), result.solve_time))
        bar.update(1)
        if stop:
            break
        D = np.concatenate([D, probe[:, chosen]], axis=1)
        warm = np.zeros((2 * D.shape[1], X.shape[1]))
        warm[:P], warm[D.shape[1] : D.shape[1] + P] = result.V, result.W
    bar.close()
    return result, D, rounds

"""The cutting-plane loop: the exact most-violated-neuron oracle over patterns and the method itself (see
:mod:`cvxnn_core.cutting_plane`)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from tqdm import tqdm

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
from cvxnn_core.cutting_plane.lasso import network_of, relu_features, solve_restricted_lasso
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

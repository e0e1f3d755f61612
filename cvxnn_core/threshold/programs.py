"""The Lasso over threshold patterns, the recovered network, and the program of shattered data (package docstring)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cvxnn_core._validation import (
    check_beta,
    check_patterns,
    check_positive_int,
    check_seed,
    check_X,
    check_X_y,
    check_y,
)
from cvxnn_core.threshold.networks import ThresholdNet

ZERO_RTOL = 1e-9  # Lasso weights below this fraction of the largest are zero


@dataclass(frozen=True)
class ThresholdLasso:
    """Solution of :func:`solve_threshold_lasso`: weights ``z`` ``(P,)``, the ``patterns`` ``(n, P)``, ``beta``,
    ``objective`` (``0.5 ||D z - y||^2 + beta ||z||_1`` at ``z``) and ``dual`` (``y - D z``, feasible when
    ``max_j |d_j^T dual| <= beta``)."""

    z: np.ndarray = field(repr=False)
    patterns: np.ndarray = field(repr=False)
    beta: float
    objective: float
    dual: np.ndarray = field(repr=False)

    @property
    def support(self) -> np.ndarray:
        """Indices of the non-zero weights (the neurons of the recovered network)."""
        return np.flatnonzero(np.abs(self.z) > ZERO_RTOL * max(float(np.abs(self.z).max(initial=0.0)), 1e-300))

    @property
    def dual_ratio(self) -> float:
        """``max_j |d_j^T (y - D z)| / beta``: ``<= 1`` (up to solver accuracy) certifies optimality."""
        return float(np.max(np.abs(self.patterns.T.astype(np.float64) @ self.dual)) / self.beta)


def solve_threshold_lasso(X: np.ndarray, y: np.ndarray, beta: float, patterns: np.ndarray) -> ThresholdLasso:
    """``min_z 0.5 ||D z - y||^2 + beta ||z||_1`` over the threshold patterns ``D`` (boolean ``(n, P)``: the complete
    arrangement of ``X`` (:func:`cvxnn_core.patterns.enumerate_patterns`) or sampled gates), Clarabel."""
    import cvxpy as cp

    from cvxnn_core._cvx import SOLVER_OPTIONS, run_problem

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    if beta == 0:
        raise ValueError("solve_threshold_lasso needs beta > 0 (at beta = 0 the weights are not unique and need not "
                         "be bounded); use a small positive beta")
    D = check_patterns(patterns, X.shape[0]).astype(np.float64)
    if beta >= float(np.max(np.abs(D.T @ y))):  # the zero network is optimal: 0 is in the subdifferential at z = 0
        return ThresholdLasso(np.zeros(D.shape[1]), D > 0, beta, 0.5 * float(y @ y), y.copy())
    z = cp.Variable(D.shape[1])
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(D @ z - y) + beta * cp.norm1(z)))
    run_problem(problem, "CLARABEL", SOLVER_OPTIONS["CLARABEL"], what=" on the threshold Lasso")
    zv = np.asarray(z.value, dtype=np.float64)
    zv[np.abs(zv) <= ZERO_RTOL * max(float(np.abs(zv).max(initial=0.0)), 1e-300)] = 0.0
    r = y - D @ zv
    return ThresholdLasso(zv, D > 0, beta, float(0.5 * r @ r + beta * np.abs(zv).sum()), r)


def separating_gates(X: np.ndarray, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each column ``p`` of ``patterns`` the gate ``w`` (``||w||_inf <= 1``) of largest margin
    ``t = min_i (2 p_i - 1) x_i^T w`` (a linear program, HiGHS): ``(G (d, P), margins (P,))``. ``1[X w >= 0] = p``
    holds when the margin is positive; a margin ``<= 0`` means no hyperplane through the origin of ``X``'s space
    produces ``p`` (add a bias column, or a wider layer below)."""
    from scipy.optimize import linprog

    X = check_X(X)
    D = check_patterns(patterns, X.shape[0])
    n, d = X.shape
    G, margins = np.zeros((d, D.shape[1])), np.zeros(D.shape[1])
    cost = np.r_[np.zeros(d), -1.0]
    for j in range(D.shape[1]):
        S = (2.0 * D[:, j] - 1.0)[:, None] * X
        A = np.hstack([-S, np.ones((n, 1))])  # t - s_i x_i^T w <= 0
        res = linprog(cost, A_ub=A, b_ub=np.zeros(n), bounds=[(-1, 1)] * d + [(None, 1)], method="highs")
        if res.status != 0:
            raise RuntimeError(f"the separating linear program of pattern {j} failed: {res.message}")
        G[:, j], margins[j] = res.x[:d], res.x[d]
    return G, margins


def threshold_network(result: ThresholdLasso, gates: np.ndarray) -> ThresholdNet:
    """The two-layer threshold network of a Lasso solution: neuron ``j`` of the support has the gate ``g_j`` (column
    of ``gates`` ``(d, P)``, e.g. from :func:`separating_gates` or :func:`cvxnn_core.patterns.sample_gates`), the
    amplitude ``sqrt|z_j|`` and the output weight ``sign(z_j) sqrt|z_j|`` (balanced: its weight decay is
    ``beta ||z||_1``)."""
    if not isinstance(result, ThresholdLasso):
        raise TypeError(f"result must be a threshold.ThresholdLasso, got {type(result).__name__}")
    G = np.asarray(gates, dtype=np.float64)
    P = result.patterns.shape[1]
    if G.ndim != 2 or G.shape[1] != P or not np.all(np.isfinite(G)):
        raise ValueError(f"gates must be a finite (d, P) array with P = {P} (one gate per pattern), got {G.shape}")
    keep = result.support
    if keep.size == 0:
        raise ValueError("the Lasso solution is zero (beta >= max_j |d_j^T y|): the optimal network has no neuron")
    root = np.sqrt(np.abs(result.z[keep]))
    return ThresholdNet((G[:, keep].T,), root, np.sign(result.z[keep]) * root)


def shattered_program(y: np.ndarray, beta: float) -> tuple[np.ndarray, float]:
    """The Lasso over **all** binary columns, ``min_delta 0.5 ||delta - y||^2 + beta (max(delta_+) + max(delta_-))``
    (its atomic norm is ``max(delta_+) + max(delta_-)``: decompose each sign part into nested level sets), solved
    with Clarabel: ``(delta, value)``."""
    import cvxpy as cp

    from cvxnn_core._cvx import SOLVER_OPTIONS, run_problem

    y = check_y(y, np.size(y))
    beta = check_beta(beta)
    p, q = cp.Variable(y.size, nonneg=True), cp.Variable(y.size, nonneg=True)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(p - q - y) + beta * (cp.max(p) + cp.max(q))))
    run_problem(problem, "CLARABEL", SOLVER_OPTIONS["CLARABEL"], what=" on the shattered program")
    delta = np.asarray(p.value - q.value, dtype=np.float64)
    r = delta - y
    return delta, float(0.5 * r @ r + beta * (max(delta.max(), 0.0) + max(-delta.min(), 0.0)))


def shattered_closed_form(y: np.ndarray, beta: float) -> tuple[np.ndarray, float]:
    """Closed form of :func:`shattered_program` for labels ``+-1``: ``delta_i = y_i (1 - beta / n_{y_i})_+`` with
    ``n_+-`` the number of labels of each sign (the objective separates into one scalar per class)."""
    y = check_y(y, np.size(y))
    beta = check_beta(beta)
    if not np.all(np.isin(y, (-1.0, 1.0))):
        raise ValueError("shattered_closed_form needs labels in {-1, +1}; use shattered_program for other targets")
    delta = np.zeros_like(y)
    value = 0.0
    for sign in (1.0, -1.0):
        mask = y == sign
        count = int(mask.sum())
        if count:
            level = max(1.0 - beta / count, 0.0)
            delta[mask] = sign * level
            value += 0.5 * count * (level - 1.0) ** 2 + beta * level
    return delta, float(value)


def shattered_network(X: np.ndarray, delta: np.ndarray, first_width: int, *, seed: int = 0) -> ThresholdNet:
    """A three-layer threshold network whose output on ``X`` is ``delta`` with weight decay ``beta (max(delta_+) +
    max(delta_-))`` when the first layer shatters the data: ``m_1 = first_width`` Gaussian gates, ``h = [1[X U >= 0],
    1]``; for each sign, the nested level sets ``1[+-delta >= v_k]`` of its distinct levels ``v_1 < v_2 < ...`` become
    second-layer neurons (:func:`separating_gates` on ``h``) with ``s_k alpha_k = +-(v_k - v_{k-1})``. A level set that
    ``h`` cannot separate (margin ``<= 0``) gets its best gate, and the output then differs from ``delta``."""
    X = check_X(X)
    delta = check_y(delta, X.shape[0], "delta")
    first_width = check_positive_int(first_width, "first_width")
    rng = np.random.default_rng(check_seed(seed))
    U = rng.standard_normal((first_width, X.shape[1]))
    H = np.hstack([(X @ U.T >= 0).astype(np.float64), np.ones((X.shape[0], 1))])
    columns, weights = [], []
    for sign in (1.0, -1.0):
        part = np.maximum(sign * delta, 0.0)
        levels = np.unique(part[part > 0])
        previous = 0.0
        for v in levels:
            columns.append(part >= v)
            weights.append(sign * (v - previous))
            previous = v
    if not columns:
        raise ValueError("delta is zero: the optimal network has no neuron")
    G, _ = separating_gates(H, np.column_stack(columns))
    w = np.array(weights)
    root = np.sqrt(np.abs(w))
    return ThresholdNet((U, G.T), root, np.sign(w) * root)

r"""Closed-form optima of the convex programs in special cases, checked against the solvers in the tests.

Each function states the setting it is exact for and the formula it evaluates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._linalg import WHITENED_ATOL, check_whitened
from cvxnn_core._linalg import whiten_rows as whiten_rows  # re-exported: the input whitened_relu expects
from cvxnn_core._validation import check_beta, check_y
from cvxnn_core.recovery import TwoLayerNet

# --- Whitened data (Ergen & Pilanci, AISTATS 2020 / JMLR 2021): two neurons, soft-thresholded scales. ---

WHITEN_ROWS_FIX = "Whiten the samples first with cvxnn_core.closed_form.whiten_rows(X)"


def whitened_relu(
    X: np.ndarray, y: np.ndarray, beta: float, *, atol: float = WHITENED_ATOL
) -> tuple[float, TwoLayerNet]:
    r"""Global optimum of two-layer ReLU training with squared loss on whitened data ``X X^T = I_n``.

    Setting: ``X`` is ``(n, d)`` with orthonormal rows (``n <= d``; e.g. :func:`whiten_rows`), ``y`` any
    real ``(n,)`` vector, squared loss, weight decay ``beta >= 0``, any width ``m >= 2``::

        min  0.5 * ||(X W1^T)_+ w2 - y||^2 + (beta / 2) * (||W1||_F^2 + ||w2||^2).

    Why: ``X`` maps the unit ball of ``R^d`` onto the unit ball of ``R^n`` (``u = X^T z`` gives ``X u = z``
    with ``||u|| = ||z||``), so the rectified ellipsoid is ``{(Xu)_+ : ||u|| <= 1} = B_n \cap R^n_+``
    ("spike-free"). The problem becomes ``min_{a, b >= 0} 0.5 ||a - b - y||^2 + beta (||a|| + ||b||)``,
    solved by soft thresholding the two halves ``y_+ = max(y, 0)``, ``y_- = max(-y, 0)``::

        a* = (1 - beta / ||y_+||)_+ y_+,      b* = (1 - beta / ||y_-||)_+ y_-.

    Optimal network (at most two neurons, the "autoencoder" directions ``X^T y_+`` and ``X^T y_-``)::

        w1 = sqrt(c_+) X^T y_+ / ||y_+||,  w2 = +sqrt(c_+),     c_+ = (||y_+|| - beta)_+
        w1 = sqrt(c_-) X^T y_- / ||y_-||,  w2 = -sqrt(c_-),     c_- = (||y_-|| - beta)_+

    (neurons with ``c = 0`` are dropped). Optimal value, a sum of two Huber functions of ``||y_+-||``::

        p* = h(||y_+||) + h(||y_-||),   h(t) = t^2 / 2 if t <= beta else beta * t - beta^2 / 2.

    Optimality is certified by the dual point ``lambda = y - f`` (``lambda_+-`` have norm ``min(||y_+-||, beta)``,
    feasible for ``max_{||u||<=1} |lambda^T (Xu)_+| = max(||lambda_+||, ||lambda_-||) <= beta``) whose dual
    value equals ``p*``.

    Returns:
        ``(objective, net)``: ``p*`` and the optimal :class:`~cvxnn_core.recovery.TwoLayerNet`
        (width 0, 1 or 2).

    Raises:
        ValueError: ``X X^T`` differs from ``I_n`` by more than ``atol`` (entrywise), in particular when
            ``n > d``; or ``y``/``beta`` are invalid.
    """
    import numpy as np

    from cvxnn_core._validation import check_beta, check_X_y
    from cvxnn_core.recovery import TwoLayerNet

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    n, d = X.shape
    check_whitened(X, atol, rows=True, who="whitened_relu", fix=WHITEN_ROWS_FIX)
    rows, signs, objective = [], [], 0.0
    for sign in (1.0, -1.0):
        part = np.maximum(sign * y, 0.0)
        t = float(np.linalg.norm(part))
        objective += 0.5 * t**2 if t <= beta else beta * t - 0.5 * beta**2
        c = max(t - beta, 0.0)
        if c > 0:
            rows.append(np.sqrt(c) * (X.T @ part) / t)
            signs.append(sign * np.sqrt(c))
    W1 = np.array(rows).reshape(len(rows), d)
    return float(objective), TwoLayerNet(W1=W1, w2=np.array(signs, dtype=float))


@dataclass(frozen=True)
class RankOneSolution:
    """Closed-form optimum of :func:`rank_one_relu`: ``net`` (two neurons at most), ``objective`` (weight-decay
    objective of ``net``), ``alpha`` / ``gamma`` (the fitted function is ``alpha (c)_+ + gamma (-c)_+``)."""

    net: TwoLayerNet
    objective: float
    alpha: float
    gamma: float


def rank_one_relu(c: np.ndarray, a: np.ndarray, y: np.ndarray, beta: float) -> RankOneSolution:
    r"""Optimal two-layer ReLU network (squared loss, all weights penalised, no bias) for rank-one data ``X = c a^T``.

    For any neuron, ``(X w1)_+ = (a^T w1)_+ (c)_+ + (a^T w1)_- (-c)_+`` and ``|a^T w1| <= ||a|| ||w1||``. So every
    network fits ``f = alpha (c)_+ + gamma (-c)_+`` at weight-decay cost at least ``beta (|alpha| + |gamma|) / ||a||``,
    with equality for the neurons ``w1 = +-sqrt(|.| / ||a||) a / ||a||``. The problem reduces to two decoupled
    scalar Lassos (``(c)_+`` and ``(-c)_+`` have disjoint supports), solved by soft-thresholding::

        alpha = S(<(c)_+, y>,  beta / ||a||) / ||(c)_+||^2,    gamma = S(<(-c)_+, y>, beta / ||a||) / ||(-c)_+||^2,

    ``S(z, k) = sign(z) max(|z| - k, 0)`` (a zero vector gives a zero coefficient). The optimal network has at most
    two neurons, ``u = a / ||a||`` with output weight of the sign of ``alpha`` and ``u = -a / ||a||`` with that of
    ``gamma``; the optimum is ``0.5 ||f - y||^2 + beta (|alpha| + |gamma|) / ||a||``.

    Args:
        c: ``(n,)`` sample coefficients; a: ``(d,)`` the common direction (non-zero); y: ``(n,)``; beta: ``>= 0``.
    """
    c = np.asarray(c, dtype=np.float64)
    if c.ndim != 1 or c.shape[0] == 0 or not np.all(np.isfinite(c)):
        raise ValueError(f"c must be a finite array of shape (n,), got shape {c.shape}")
    a = np.asarray(a, dtype=np.float64)
    if a.ndim != 1 or a.shape[0] == 0 or not np.all(np.isfinite(a)):
        raise ValueError(f"a must be a finite array of shape (d,), got shape {a.shape}")
    norm_a = float(np.linalg.norm(a))
    if norm_a == 0:
        raise ValueError("a must be non-zero: X = c a^T would be the zero matrix")
    y = check_y(y, c.shape[0])
    beta = check_beta(beta)
    k = beta / norm_a
    coefs = []
    for part in (np.maximum(c, 0.0), np.maximum(-c, 0.0)):
        sq = float(part @ part)
        z = float(part @ y)
        coefs.append(0.0 if sq == 0 else np.sign(z) * max(abs(z) - k, 0.0) / sq)
    alpha, gamma = coefs
    u = a / norm_a
    rows, outs = [], []
    for coef, direction in ((alpha, u), (gamma, -u)):
        if coef != 0.0:
            root = np.sqrt(abs(coef) / norm_a)
            rows.append(root * direction)
            outs.append(np.sign(coef) * root)
    net = TwoLayerNet(W1=np.reshape(rows, (-1, a.shape[0])), w2=np.asarray(outs, dtype=float))
    f = alpha * np.maximum(c, 0.0) + gamma * np.maximum(-c, 0.0)
    objective = 0.5 * float(np.sum((f - y) ** 2)) + beta * (abs(alpha) + abs(gamma)) / norm_a
    return RankOneSolution(net=net, objective=objective, alpha=float(alpha), gamma=float(gamma))

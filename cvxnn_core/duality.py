r"""The dual side shared by the certificates and the fast solvers: supports of the dual constraint and bounds.

Both two-layer programs have the dual ``max_lambda -l^*(-lambda)`` subject to one constraint per block:

    gated ReLU   ||X^T D_i lambda|| <= beta                                  (Frobenius norm for vector targets)
    ReLU         ||Pi_{K_i}(+-X^T D_i lambda)|| <= beta,   K_i = {u : (2 D_i - I) X u >= 0}

(the support of ``lambda^T D_i X u`` over the unit ball of the cone ``K_i``, by Moreau's decomposition; the
projection is one non-negative least-squares problem, :func:`cvxnn_core.patterns.cone_projection`). Given a
candidate direction ``lambda_0`` (the residual ``-grad l(f)`` of a point, or a solver's multiplier), the scaled
point ``t lambda_0`` with ``t max_i support_i <= beta`` is dual feasible and :func:`scaled_dual_bound` returns the
best such ``t`` and its dual value, a lower bound on the program's optimum (weak duality). This module imports
no program: :mod:`cvxnn_core.programs`, :mod:`cvxnn_core.solvers` and :mod:`cvxnn_core.certificates` all use it.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_nonnegative_number,
    check_patterns,
    check_positive_int,
    check_X,
    check_y,
)
from cvxnn_core.losses import Loss, best_dual_scale, dual_value
from cvxnn_core.patterns import cone_projection

Method = Literal["exact", "cone_free"]
NO_CONSTRAINT_SCALE = 1e12  # t_max when every support is zero (lambda is feasible at any scale)


def adjoint(X: np.ndarray, patterns: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``g_i = X^T D_i lambda`` for every pattern: ``(P, d)`` for ``lambda`` ``(n,)``, ``(P, d, c)`` for ``(n, c)``."""
    X, patterns, lam = _check_dual_point(X, patterns, lam)
    if lam.ndim == 1:
        return (patterns * lam[:, None]).T @ X
    return np.einsum("np,nd,nc->pdc", patterns.astype(float), X, lam)


def gated_supports(X: np.ndarray, patterns: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """``||X^T D_i lambda||`` for every gate ``i`` (Frobenius norm for vector targets): shape ``(P,)``."""
    G = adjoint(X, patterns, lam)
    return np.linalg.norm(G.reshape(G.shape[0], -1), axis=1)


def cone_support(X: np.ndarray, patterns: np.ndarray, lam: np.ndarray, method: Method = "exact") -> np.ndarray:
    """``max_{u in K_i, ||u||<=1} |lambda^T D_i X u|`` for every pattern ``i``: shape ``(P,)``.

    ``= max(||Pi_{K_i}(g_i)||, ||Pi_{K_i}(-g_i)||)`` with ``g_i = X^T D_i lambda`` (two NNLS per pattern);
    ``"cone_free"`` returns the upper bound ``||g_i||`` (the gated support).
    """
    method = check_choice(method, "method", ("exact", "cone_free"))
    if method == "cone_free":
        return gated_supports(X, patterns, lam)
    G = adjoint(X, patterns, lam)
    return np.array(
        [
            max(
                np.linalg.norm(cone_projection(X, patterns[:, i], G[i])),
                np.linalg.norm(cone_projection(X, patterns[:, i], -G[i])),
            )
            for i in range(patterns.shape[1])
        ]
    )


def cone_supports(
    X: np.ndarray,
    patterns: np.ndarray,
    lam: np.ndarray,
    beta: float,
    *,
    upper: np.ndarray | None = None,
    top: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dual-constraint values of the ReLU program for the ``2P`` signed blocks at ``lambda``, computed lazily.

    Block ``j`` (pattern ``i = j mod P``, sign ``s = +1`` for ``j < P``) has ``g_j = s X^T D_i lambda`` and value
    ``c_j = ||Pi_{K_i}(g_j)||``, its exact cone support (one NNLS). Any ``u_j >= c_j`` is an upper bound: the
    cone-free norm ``||g_j||``, or ``upper`` if given (e.g. from cone multipliers). Blocks are visited in
    decreasing order of their upper bound and the NNLS is run until the rest cannot matter: until the next
    upper bound is ``<= beta`` (no violation possible) and ``<=`` the largest exact value found (so
    ``max_j values`` is a valid bound on ``max_j c_j``), or, with ``top=k``, ``<=`` the ``k``-th largest exact value
    (so the ``k`` most violated blocks are known exactly). Returns ``(values, exact, directions)``: ``(2P,)``
    values (exact where ``exact`` is True, upper bounds elsewhere) and the projections ``Pi_{K_i}(g_j)`` ``(2P, d)``
    (zero where not computed).
    """
    X, patterns, lam = _check_dual_point(X, patterns, lam)
    if lam.ndim != 1:
        raise ValueError(f"lam must have shape (n,) for the ReLU program's cone supports, got {lam.shape}")
    beta = check_beta(beta)
    P = patterns.shape[1]
    if upper is not None:
        upper = check_array(upper, "upper", (2 * P,), labels=("2P",))
    if top is not None:
        top = check_positive_int(top, "top")
    G = adjoint(X, patterns, lam)
    G2 = np.vstack([G, -G])
    values = np.linalg.norm(G2, axis=1)
    if upper is not None:
        values = np.minimum(values, upper)
    exact = np.zeros(2 * P, dtype=bool)
    directions = np.zeros_like(G2)
    found: list[float] = []
    for j in np.argsort(-values):
        bound = values[j]
        if bound <= beta and bound <= max(found, default=0.0):
            break
        if top is not None and len(found) >= top and bound <= max(beta, sorted(found)[-top]):
            break
        directions[j] = cone_projection(X, patterns[:, j % P], G2[j])
        values[j] = min(bound, float(np.linalg.norm(directions[j])))
        exact[j] = True
        found.append(values[j])
    return values, exact, directions


def _check_dual_point(X, patterns, lam):
    X = check_X(X)
    patterns = check_patterns(patterns, X.shape[0])
    lam = check_y(lam, X.shape[0], "lam", allow_2d=True)
    return X, patterns, lam


def scaled_dual_bound(
    lam: np.ndarray, y: np.ndarray, loss: Loss, beta: float, max_support: float
) -> tuple[float, float]:
    """``(t, lower)``: the best feasible scale ``t`` of ``lambda`` (``t * max_support <= beta``) and the dual value
    ``-l^*(-t lambda)``.

    ``max_support`` is ``max_i support_i(lambda)`` over the program's blocks (:func:`gated_supports`,
    :func:`cone_support` or :func:`cone_supports`); ``lower`` is a lower bound on the program's optimum.
    """
    beta = check_beta(beta)
    max_support = check_nonnegative_number(max_support, "max_support")
    t = best_dual_scale(lam, y, loss, beta / max_support if max_support > 0 else NO_CONSTRAINT_SCALE)
    return t, float(dual_value(t * lam, y, loss))


def relative_gap(primal: float, lower: float) -> float:
    """``(primal - lower) / max(|primal|, 1e-300)``; ``lower`` may be ``-inf`` (no bound yet)."""
    primal, lower = _check_values(primal, lower)
    return float((primal - lower) / max(abs(primal), 1e-300))


ZERO_OPTIMUM_RTOL = 1e-8  # an optimum below this fraction of the zero model's value counts as zero


def gap_on_scale(primal: float, lower: float, zero_value: float) -> float:
    """Duality gap ``(primal - lower) / scale`` that stays meaningful at a zero optimum.

    ``zero_value`` is the objective of the zero model (``0.5 ||y||^2`` for the squared loss), an upper bound on the
    optimum. ``scale = |primal|`` when ``|primal| > ZERO_OPTIMUM_RTOL * zero_value`` (the relative gap, as
    :func:`relative_gap`); otherwise ``scale = zero_value`` (or 1 when that is 0), the absolute gap on the data's scale.
    A floor such as ``max(|primal|, eps)`` is not enough: at an interpolating optimum the gap is of first order in the
    residual and the ratio would not vanish.
    """
    primal, lower = _check_values(primal, lower)
    zero_value = check_nonnegative_number(zero_value, "zero_value")
    scale = abs(primal) if abs(primal) > ZERO_OPTIMUM_RTOL * zero_value else (zero_value if zero_value > 0 else 1.0)
    return float((primal - lower) / scale)


def _check_values(primal: object, lower: object) -> tuple[float, float]:
    for value, name in ((primal, "primal"), (lower, "lower")):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise TypeError(f"{name} must be a number, got {value!r}")
    if not np.isfinite(primal):
        raise ValueError(f"primal must be a finite number (an objective value), got {primal!r}")
    if np.isnan(lower) or lower == np.inf:
        raise ValueError(f"lower must be a number or -inf (no bound yet), got {lower!r}")
    return float(primal), float(lower)

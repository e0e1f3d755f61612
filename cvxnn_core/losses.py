r"""The three losses of the package, their gradients and the concave dual functions.

For predictions ``f`` and targets ``y`` (labels ``+-1`` for hinge and logistic)::

    squared   l(f) = 0.5 * ||f - y||^2
    hinge     l(f) = sum_j (1 - y_j f_j)_+
    logistic  l(f) = sum_j log(1 + exp(-y_j f_j))

Weak duality used by :mod:`cvxnn_core.certificates`: for every ``lambda`` and every ``f``,
``l(f) + lambda^T f >= -l^*(-lambda)``, where ``-l^*(-lambda)`` is::

    squared   lambda^T y - 0.5 ||lambda||^2
    hinge     sum_j lambda_j y_j                         if 0 <= lambda_j y_j <= 1, else -inf
    logistic  sum_j H(lambda_j y_j)                      if 0 <= lambda_j y_j <= 1, else -inf

with the binary entropy ``H(s) = -s log s - (1-s) log(1-s)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from cvxnn_core._validation import check_labels_pm1, check_loss, check_nonnegative_number, check_same_targets

Loss = Literal["squared", "hinge", "logistic"]


def loss_value(f: np.ndarray, y: np.ndarray, loss: Loss = "squared") -> float:
    """Value of the loss at predictions ``f`` and targets ``y`` of the same shape (a single column of either is
    flattened; anything else that differs is an error, never a broadcast). Margin losses need ``y`` in ``+-1``."""
    check_loss(loss)
    f, y = check_same_targets(f, y)
    check_labels_pm1(y, loss)
    if loss == "squared":
        return float(0.5 * np.sum((f - y) ** 2))
    if loss == "hinge":
        return float(np.sum(np.maximum(0.0, 1.0 - y * f)))
    if loss == "logistic":
        return float(np.sum(np.logaddexp(0.0, -y * f)))
    raise ValueError(f"loss must be 'squared', 'hinge' or 'logistic', got {loss!r}")


def negative_gradient(f: np.ndarray, y: np.ndarray, loss: Loss = "squared") -> np.ndarray:
    r"""``-\nabla l(f)``: the residual ``y - f`` for the squared loss, a (sub)gradient otherwise.

    Hinge: ``y_j * 1[y_j f_j <= 1]``; logistic: ``y_j * sigmoid(-y_j f_j)``.
    """
    loss = check_loss(loss)
    f, y = _same(f, y, "f", loss)
    if loss == "squared":
        return y - f
    if loss == "hinge":
        return y * (y * f <= 1.0)
    if loss == "logistic":
        return y * 0.5 * (1.0 + np.tanh(-0.5 * y * f))
    raise ValueError(f"loss must be 'squared', 'hinge' or 'logistic', got {loss!r}")


def dual_value(lam: np.ndarray, y: np.ndarray, loss: Loss = "squared") -> float:
    """``-l^*(-lambda)``, a lower bound on ``l(f) + lambda^T f`` for every ``f`` (``-inf`` outside the domain).

    The squared loss also takes vector targets (``lambda`` and ``y`` of shape ``(n, c)``, inner products summed).
    """
    loss = check_loss(loss)
    lam, y = _same(lam, y, "lam", loss, finite=True)
    if loss == "squared":
        return float(np.sum(lam * y) - 0.5 * np.sum(lam * lam))
    s = lam * y
    if np.any(s < -1e-12) or np.any(s > 1 + 1e-12):
        return -np.inf
    s = np.clip(s, 0.0, 1.0)
    if loss == "hinge":
        return float(np.sum(s))
    if loss == "logistic":
        with np.errstate(divide="ignore", invalid="ignore"):
            ent = -np.where(s > 0, s * np.log(s), 0.0) - np.where(s < 1, (1 - s) * np.log1p(-s), 0.0)
        return float(np.sum(ent))
    raise ValueError(f"loss must be 'squared', 'hinge' or 'logistic', got {loss!r}")


def best_dual_scale(lam: np.ndarray, y: np.ndarray, loss: Loss, t_max: float) -> float:
    """The ``t`` in the feasible interval that maximises ``dual_value(t * lam)`` (the scaled dual point is a bound).

    ``t_max`` keeps ``t * lam`` inside the dual constraint (``t * max_i support_i <= beta``). Squared loss: the
    concave quadratic ``t lam^T y - t^2 ||lam||^2 / 2`` is maximised in closed form over ``[-t_max, t_max]`` (every
    support of this package is symmetric in ``lambda``). Hinge and logistic: the domain ``0 <= t lam_j y_j <= 1``
    caps ``t`` at ``hi = min(t_max, 1 / max_j lam_j y_j)``; the hinge dual is linear and increasing (``t = hi``), the
    logistic one concave, maximised by a bounded scalar search and compared with the ends ``hi`` and ``min(1, hi)``.
    """
    loss = check_loss(loss)
    lam, y = _same(lam, y, "lam", loss, finite=True)
    t_max = check_nonnegative_number(t_max, "t_max")
    if loss == "squared":
        nrm = float(np.sum(lam * lam))
        t = float(np.sum(lam * y)) / nrm if nrm > 0 else 0.0
        return float(np.clip(t, -t_max, t_max))
    smax = float(np.max(lam * y, initial=0.0))
    hi = min(t_max, 1.0 / smax if smax > 0 else t_max)
    if not np.isfinite(hi) or hi <= 0:
        return 0.0
    if loss == "hinge":
        return float(hi)
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(
        lambda t: -dual_value(t * lam, y, loss), bounds=(0.0, hi), method="bounded", options={"xatol": 1e-12 * hi}
    )
    return float(max([res.x, hi, min(1.0, hi)], key=lambda t: dual_value(t * lam, y, loss)))


def _same(f, y, name: str, loss: str, finite: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``f`` (or a dual point) and ``y`` of one shape (vector targets only for the squared loss), +-1 labels for the
    margin losses."""
    two_d = np.ndim(y) == 2 and np.shape(y)[1] > 1
    f, y = check_same_targets(f, y, name, finite=finite)
    if two_d and loss != "squared":
        raise ValueError(f"vector targets y of shape (n, c) are supported with loss='squared' only, got loss={loss!r}")
    check_labels_pm1(y, loss)
    return f, y

r"""Optimality certificates for ANY two-layer ReLU network, from convex duality.

Weak duality (Pilanci & Ergen 2020; Ergen & Pilanci 2021). For every network ``f`` with weight
decay ``beta`` and every ``lambda`` with ``|lambda^T (X u)_+| <= beta`` for all ``||u|| <= 1``::

    l(f) + (beta/2)(||W1||^2 + ||w2||^2)  >=  l(f) + lambda^T f  >=  -l^*(-lambda)

(the first inequality by ``lambda^T f = sum_j w2_j lambda^T (X w1_j)_+ <= beta sum_j ||w1_j|| |w2_j|``
and AM-GM). So ``-l^*(-lambda)`` (:func:`cvxnn_core.losses.dual_value`) is a lower bound on the
optimum of *every* width, certified without trusting any solver.

The constraint is checked exactly over a pattern set: for ``u`` in the cone
``K_i = {u : (2 D_i - I) X u >= 0}``, ``lambda^T (X u)_+ = (X^T D_i lambda)^T u`` and, by Moreau's
decomposition, ``max_{u in K_i, ||u|| <= 1} g^T u = ||Pi_{K_i}(g)||``. The projection onto the
polyhedral cone is ``g + A_i^T mu*`` with ``A_i = (2 D_i - I) X`` and
``mu* = argmin_{mu >= 0} ||A_i^T mu + g||`` (non-negative least squares, solved exactly). With the
complete arrangement (:func:`cvxnn_core.patterns.enumerate_patterns`) the bound is global.

The dual point is built from the network's own residual: ``lambda = t * (-grad l(f))``, with the
scalar ``t`` chosen within the feasible interval to maximise the dual value. At an optimal network
this ``lambda`` is dual optimal and the gap is zero; since an interior-point solution's residual is
only accurate to about the square root of the solver tolerance, a solver's multiplier can be passed
as a second candidate (``dual=``), verified in the same way.

``method="cone_free"`` replaces ``||Pi_{K_i}(g)||`` by the cheaper ``||g||`` (still a valid bound,
usually looser).

Gated ReLU (:func:`certify_convex` on a ``kind="gated_relu"`` result): the gated program
``min l(sum_i D_i X u_i) + beta sum_i ||u_i||`` has no cones, and its dual constraint is exactly
``||X^T D_i lambda|| <= beta`` for every gate ``i`` (Frobenius norm for vector targets). The certificate
then bounds the gated optimum over the result's own gates (``exact=False``: it says nothing about ReLU
networks of other patterns).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_labels_pm1,
    check_loss,
    check_patterns,
    check_same_targets,
    check_X,
    check_X_y,
    check_y,
)
from cvxnn_core.duality import Method, cone_support, gated_supports, relative_gap, scaled_dual_bound
from cvxnn_core.losses import Loss, loss_value, negative_gradient
from cvxnn_core.patterns import enumerate_patterns, merge_patterns
from cvxnn_core.programs import ConvexResult, convex_predictions
from cvxnn_core.recovery import TwoLayerNet

__all__ = ["Certificate", "certify", "certify_convex", "cone_support", "cone_violation", "dual_certificate"]


@dataclass(frozen=True)
class Certificate:
    """A primal value, a certified lower bound and the relative gap between them.

    ``primal``: objective of the certified point. ``lower_bound``: ``-l^*(-lambda)`` at a dual point
    feasible over ``n_patterns`` patterns; a lower bound on every network's objective when
    ``exact`` (complete arrangement). ``gap = (primal - lower_bound) / max(|primal|, 1e-300)``.
    ``dual_scale`` is ``t``; ``max_violation`` is ``max_i ||Pi_{K_i}(g_i)|| / beta`` at ``t = 1``
    (``<= 1`` means the residual itself is dual feasible). ``violating`` holds the patterns with
    ratio ``> 1`` (boolean ``(n, k)``), the ones to add to a restricted program.
    """

    primal: float
    lower_bound: float
    gap: float
    exact: bool
    dual_scale: float
    max_violation: float
    n_patterns: int
    method: str
    violating: np.ndarray
    program: str = "relu"

    def __str__(self) -> str:
        kind = "global (complete arrangement)" if self.exact else f"over {self.n_patterns} patterns"
        if self.program == "gated_relu":
            kind = f"gated-ReLU program over its {self.n_patterns} gates"
        return (
            f"primal {self.primal:.10g}, lower bound {self.lower_bound:.10g}, relative gap {self.gap:.3g} "
            f"[{kind}, {self.method}]"
        )


def dual_certificate(
    X: np.ndarray,
    y: np.ndarray,
    predictions: np.ndarray,
    primal: float,
    beta: float,
    patterns: np.ndarray | None = None,
    *,
    loss: Loss = "squared",
    method: Method = "exact",
    dual: np.ndarray | None = None,
) -> Certificate:
    """Certificate for a point with training ``predictions`` and objective ``primal`` (see module docstring).

    Candidate dual directions: the residual ``-grad l(predictions)`` and, if given, ``dual`` (for
    example a solver's multiplier, ``ConvexResult.dual``). Each is scaled to be feasible over the
    patterns, checked exactly, and the best bound is kept: no candidate is trusted.
    ``patterns=None`` enumerates the complete arrangement (``exact=True``); given patterns are
    checked for completeness when the arrangement is small enough to enumerate.
    """
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    method = check_choice(method, "method", ("exact", "cone_free"))  # type: ignore[assignment]
    if patterns is None:
        patterns, exact = enumerate_patterns(X), True
    else:
        patterns = check_patterns(patterns, X.shape[0])
        exact = _is_complete(X, patterns)
    if isinstance(primal, bool) or not isinstance(primal, int | float | np.integer | np.floating) \
            or not np.isfinite(primal):
        raise TypeError(f"primal must be a finite number (the point's objective), got {primal!r}")
    predictions, _ = check_same_targets(predictions, y, "predictions", finite=True)
    candidates = [negative_gradient(predictions, y, loss)]
    if dual is not None:
        lam = check_y(dual, X.shape[0], name="dual")
        if loss != "squared":  # move a slightly infeasible multiplier into the domain 0 <= lambda_j y_j <= 1
            lam = y * np.clip(lam * y, 0.0, 1.0)
        candidates.append(lam)
    best = None
    for lam0 in candidates:
        support = cone_support(X, patterns, lam0, method)
        smax = float(support.max(initial=0.0))
        t, lower = scaled_dual_bound(lam0, y, loss, beta, smax)
        if best is None or lower > best[0]:
            best = (lower, t, smax, support)
    lower, t, smax, support = best
    viol = smax / beta if beta > 0 else (np.inf if smax > 0 else 0.0)
    violating = patterns[:, support > beta * (1 + 1e-9)]
    return Certificate(
        primal=float(primal),
        lower_bound=float(lower),
        gap=relative_gap(primal, lower),
        exact=exact,
        dual_scale=float(t),
        max_violation=float(viol),
        n_patterns=int(patterns.shape[1]),
        method=method,
        violating=violating,
    )


def _is_complete(X: np.ndarray, patterns: np.ndarray) -> bool:
    """True when ``patterns`` contains every pattern of the arrangement (False if too large to check)."""
    try:
        full = enumerate_patterns(X)
    except ValueError:
        return False
    return merge_patterns(patterns, full).shape[1] == merge_patterns(patterns).shape[1]


def certify(
    X: np.ndarray,
    y: np.ndarray,
    net: TwoLayerNet,
    beta: float,
    patterns: np.ndarray | None = None,
    *,
    loss: Loss = "squared",
    method: Method = "exact",
    dual: np.ndarray | None = None,
) -> Certificate:
    """Certify any two-layer ReLU network: its weight-decay objective vs a dual lower bound.

    ``primal = l(f(X)) + (beta/2)(||W1||^2 + ||w2||^2)``; the lower bound is valid for every
    network of any width when ``patterns`` is ``None`` (complete arrangement, ``exact=True``).
    ``dual`` is an optional extra candidate dual point (e.g. ``ConvexResult.dual``); it is verified,
    not trusted.
    """
    if not isinstance(net, TwoLayerNet):
        raise TypeError(
            f"certify takes a ReLU network (recovery.TwoLayerNet), got {type(net).__name__}; a gated-ReLU model "
            "is certified through its convex solution: certificates.certify_convex(X, y, result)"
        )
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    if net.free_bias:
        raise ValueError("certify covers networks whose every weight is penalised (free_bias=False)")
    f = net.predict(X)
    primal = loss_value(f, y, check_loss(loss)) + beta * net.weight_decay()
    return dual_certificate(X, y, f, primal, beta, patterns, loss=loss, method=method, dual=dual)


def certify_convex(
    X: np.ndarray,
    y: np.ndarray,
    result: ConvexResult,
    patterns: np.ndarray | None = None,
    *,
    method: Method | None = None,
) -> Certificate:
    """Certify a convex solution: ``primal = result.objective``, predictions ``sum_i D_i X (v_i - w_i)``.

    ReLU results: the dual constraint is checked over ``patterns`` (``None``: the complete arrangement) with
    ``method`` (default ``"exact"``). Gated-ReLU results: the gated dual ``||X^T D_i lambda|| <= beta`` over the
    result's own gates (``patterns`` must be ``None``, ``method`` ``None`` or ``"cone_free"``); see the module
    docstring.
    """
    if not isinstance(result, ConvexResult):
        raise TypeError(f"result must be a programs.ConvexResult, got {type(result).__name__}")
    if result.kind == "gated_relu":
        return _certify_gated(X, y, result, patterns, method)
    X, y = check_X_y(X, y)
    ConvexResult.check_solved_on(result, X)
    if result.free_bias:
        raise ValueError("certify_convex covers programs whose every weight is penalised (free_bias=False)")
    f = convex_predictions(X, result.patterns, result.V - result.W)
    return dual_certificate(
        X, y, f, result.objective, result.beta, patterns, loss=result.loss, method=method or "exact", dual=result.dual
    )


def _certify_gated(
    X: np.ndarray, y: np.ndarray, result: ConvexResult, patterns: np.ndarray | None, method: Method | None
) -> Certificate:
    """The gated-ReLU certificate: ``lambda = t * (-grad l(f))`` with ``t * max_i ||X^T D_i r|| <= beta``."""
    if patterns is not None:
        raise ValueError(
            "a gated-ReLU result is certified over its own gates (result.patterns); pass patterns=None. "
            "Its bound says nothing about other patterns: the gated program is not the ReLU program"
        )
    if method not in (None, "cone_free"):
        raise ValueError(
            f"method={method!r} checks ReLU cones, which the gated-ReLU program does not have; "
            "its dual constraint is the cone-free norm (method=None or 'cone_free')"
        )
    X, y = check_X_y(X, y, allow_2d=True)
    ConvexResult.check_solved_on(result, X)
    if result.free_bias:
        raise ValueError("certify_convex covers programs whose every weight is penalised (free_bias=False)")
    if y.ndim != result.V.ndim - 1:
        raise ValueError(
            f"y has shape {y.shape} but the result was solved for targets with blocks V of shape {result.V.shape}"
        )
    D = result.patterns
    f = convex_predictions(X, D, result.V)
    candidates = [negative_gradient(f, y, result.loss)]
    if result.dual is not None and np.shape(result.dual) == y.shape:
        lam = np.asarray(result.dual, dtype=float)
        if result.loss != "squared":
            lam = y * np.clip(lam * y, 0.0, 1.0)
        candidates.append(lam)
    best = None
    for lam0 in candidates:
        support = gated_supports(X, D, lam0)
        smax = float(support.max(initial=0.0))
        t, lower = scaled_dual_bound(lam0, y, result.loss, result.beta, smax)
        if best is None or lower > best[0]:
            best = (lower, t, smax, support)
    lower, t, smax, support = best
    beta = result.beta
    viol = smax / beta if beta > 0 else (np.inf if smax > 0 else 0.0)
    return Certificate(
        primal=float(result.objective),
        lower_bound=float(lower),
        gap=relative_gap(result.objective, lower),
        exact=False,
        dual_scale=float(t),
        max_violation=float(viol),
        n_patterns=int(D.shape[1]),
        method="cone_free",
        violating=D[:, support > beta * (1 + 1e-9)],
        program="gated_relu",
    )


def cone_violation(X: np.ndarray, result: ConvexResult) -> float:
    """Relative cone-constraint violation ``max_i ||((I - 2D_i) X v_i)_+|| / ||X v_i||`` over all blocks."""
    X = check_X(X)
    ConvexResult.check_solved_on(result, X)
    S = 2.0 * result.patterns - 1.0
    worst = 0.0
    for B in (result.V, result.W):
        XB = X @ B.T  # (n, P)
        scale = np.linalg.norm(XB, axis=0)
        bad = np.linalg.norm(np.maximum(-S * XB, 0.0), axis=0)
        nz = scale > 0
        if np.any(nz):
            worst = max(worst, float(np.max(bad[nz] / scale[nz])))
    return worst

"""Smooth parts, the FISTA state and step, first-order results and the checks at the solvers' boundary."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from cvxnn_core._cvx import block_norms
from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_labels_pm1,
    check_nonnegative_number,
    check_patterns,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
    check_y,
)
from cvxnn_core.duality import NO_CONSTRAINT_SCALE
from cvxnn_core.losses import best_dual_scale, dual_value, loss_value, negative_gradient
from cvxnn_core.solvers.operators import FAST_LOSSES, FastLoss, gated_adjoint, gated_forward

BLOCK_ZERO_TOL = 1e-9  # blocks with ||z_i|| <= tol * max_j ||z_j|| are returned as exact zeros


# ----------------------------------------------------------------------------------------------------------------------
# Smooth parts, FISTA state and step
# ----------------------------------------------------------------------------------------------------------------------


def _loss_value(f: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "squared":
        return 0.5 * torch.sum((f - y) ** 2)
    return torch.sum(torch.nn.functional.softplus(-y * f))


def _loss_grad(f: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "squared":
        return f - y
    return -y * torch.sigmoid(-y * f)


def _loss_bregman(f_new: torch.Tensor, f_old: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """``l(f_new) - l(f_old) - <grad l(f_old), f_new - f_old>``, computed without cancellation where possible."""
    if loss == "squared":
        return 0.5 * torch.sum((f_new - f_old) ** 2)
    # logistic: per-sample Bregman divergence of softplus(-y f), each term >= 0 up to rounding
    a, b = -y * f_old, -y * f_new
    terms = torch.nn.functional.softplus(b) - torch.nn.functional.softplus(a) - torch.sigmoid(a) * (b - a)
    return torch.sum(torch.clamp(terms, min=0.0))


class _GatedSmooth:
    """``h(U) = l(A U)``; the lifted quantity is the prediction ``q = A U`` (``(n, c)``)."""

    def __init__(self, X, D, y, loss, batch_size):
        self.X, self.D, self.y, self.loss, self.batch_size = X, D, y, loss, batch_size

    def lift(self, x):
        return gated_forward(self.X, self.D, x, batch_size=self.batch_size)

    def value(self, q):
        return _loss_value(q, self.y, self.loss)

    def grad_q(self, q):
        return _loss_grad(q, self.y, self.loss)

    def adjoint(self, gq):
        return gated_adjoint(self.X, self.D, gq, batch_size=self.batch_size)

    def bregman(self, q_new, q_old):
        return _loss_bregman(q_new, q_old, self.y, self.loss)

    def predictions(self, q):
        return q


class _ALSmooth:
    """``h(z) = l(sum_i s_i D_i X z_i) + (1/(2 delta)) sum (mu - delta C(z))_+^2`` (constant ``-||mu||^2`` dropped).

    The lifted quantity is the constraint matrix ``q = C(z) = S2 * (X z^T)`` (``(n, 2P)``, ``S2 = [2D - 1, 2D - 1]``);
    predictions are read from it as ``rowsum(Dsig * q)`` with ``Dsig = [D, -D]`` (``D * (2D - 1) = D``). The line
    search uses the upper bound ``l``-Bregman ``+ (delta/2) ||q_new - q_old||^2`` of the Bregman divergence (the
    penalty's curvature is at most ``delta``), which avoids most temporaries on the ``(n, 2P)`` arrays.
    """

    def __init__(self, X, Dsig, S2, y, loss, mu, delta):
        self.X, self.Dsig, self.S2, self.y, self.loss = X, Dsig, S2, y, loss
        self.mu, self.delta = mu, float(delta)

    def lift(self, x):
        return self.S2 * (self.X @ x.T)

    def predictions(self, q):
        return (self.Dsig * q).sum(1)

    def multiplier(self, q):
        return torch.clamp(self.mu - self.delta * q, min=0.0)

    def value(self, q):
        return _loss_value(self.predictions(q), self.y, self.loss) + torch.sum(self.multiplier(q) ** 2) / (
            2.0 * self.delta
        )

    def grad_q(self, q):
        g = _loss_grad(self.predictions(q), self.y, self.loss)
        return self.Dsig * g[:, None] - self.multiplier(q)

    def adjoint(self, gq):
        return (self.S2 * gq).T @ self.X

    def bregman(self, q_new, q_old):
        diff = q_new - q_old
        loss_part = _loss_bregman(self.predictions(q_new), self.predictions(q_old), self.y, self.loss)
        return loss_part + 0.5 * self.delta * torch.sum(diff * diff)


def group_soft_threshold(x: torch.Tensor, threshold: float) -> torch.Tensor:
    """Prox of ``threshold * sum_i ||x_i||``: ``x_i <- (1 - threshold / ||x_i||)_+ x_i`` (blocks = first axis)."""
    if not isinstance(x, torch.Tensor) or x.ndim < 1 or not x.is_floating_point():
        raise TypeError(f"x must be a floating torch tensor of blocks (first axis), got {type(x).__name__}; use "
                        "torch.as_tensor(x, dtype=torch.float64)")
    threshold = check_nonnegative_number(threshold, "threshold")
    norms = torch.linalg.vector_norm(x.reshape(x.shape[0], -1), dim=1)
    scale = torch.clamp(1.0 - threshold / torch.clamp(norms, min=torch.finfo(x.dtype).tiny), min=0.0)
    return x * scale.reshape((-1,) + (1,) * (x.ndim - 1))


@dataclass
class FistaState:
    """Iterate ``x`` with its lifted value ``q = lift(x)``, the previous pair, the momentum counter ``t``,
    the current step size, and counters. Updated by :func:`fista_step`."""

    x: torch.Tensor
    q: torch.Tensor
    x_prev: torch.Tensor
    q_prev: torch.Tensor
    t: float = 1.0
    step: float = 1.0
    iteration: int = 0
    restarts: int = 0
    backtracks: int = 0
    grad_map_norm: float = math.inf

    def __post_init__(self) -> None:
        for name in ("x", "q", "x_prev", "q_prev"):
            if not isinstance(getattr(self, name), torch.Tensor):
                raise TypeError(f"FistaState.{name} must be a torch tensor, got {type(getattr(self, name)).__name__}")
        if self.x.shape != self.x_prev.shape or self.q.shape != self.q_prev.shape:
            raise ValueError("FistaState: x and x_prev (and q and q_prev) must have one shape")
        check_positive_number(self.step, "step")


def fista_step(
    state: FistaState, smooth: _GatedSmooth | _ALSmooth, beta: float, *, backtrack: float = 0.5, growth: float = 1.0
) -> FistaState:
    """One FISTA step with backtracking and adaptive restart (pure: returns a new state).

    Extrapolation ``z = x + theta (x - x_prev)`` (and ``q_z`` by linearity, no operator call), gradient
    ``grad h(z) = lift^T(grad_q h(q_z))``, prox step ``x+ = prox_{s beta ||.||}(z - s grad)``; the step ``s``
    is halved until ``h(x+) <= h(z) + <grad, x+ - z> + ||x+ - z||^2 / (2 s)`` (checked through the exact
    Bregman divergence, free of cancellation). Momentum restarts when ``<z - x+, x+ - x> > 0``.
    ``backtrack`` in ``(0, 1)`` shrinks the step; ``growth > 0`` scales it before the search.
    """
    if not isinstance(state, FistaState):
        raise TypeError(f"state must be a FistaState, got {type(state).__name__}")
    if not (hasattr(smooth, "lift") and hasattr(smooth, "adjoint") and hasattr(smooth, "bregman")):
        raise TypeError(f"smooth must provide lift, adjoint, grad_q and bregman, got {type(smooth).__name__}")
    beta = check_beta(beta)
    growth = check_positive_number(growth, "growth")
    if not 0 < check_positive_number(backtrack, "backtrack") < 1:
        raise ValueError(f"backtrack must lie in (0, 1) (the factor that shrinks the step), got {backtrack!r}")
    t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * state.t**2))
    theta = (state.t - 1.0) / t_next
    z = state.x + theta * (state.x - state.x_prev)
    qz = state.q + theta * (state.q - state.q_prev)
    grad = smooth.adjoint(smooth.grad_q(qz))
    s = state.step * growth
    backtracks = 0
    while True:
        x_new = group_soft_threshold(z - s * grad, s * beta)
        delta = x_new - z
        q_new = smooth.lift(x_new)
        bound = float(torch.sum(delta * delta)) / (2.0 * s)
        if float(smooth.bregman(q_new, qz)) <= bound * (1.0 + 1e-12) or bound == 0.0 or backtracks >= 60:
            break
        s *= backtrack
        backtracks += 1
    restart = float(torch.sum((z - x_new) * (x_new - state.x))) > 0.0
    return FistaState(
        x=x_new,
        q=q_new,
        x_prev=state.x if not restart else x_new,
        q_prev=state.q if not restart else q_new,
        t=1.0 if restart else t_next,
        step=s,
        iteration=state.iteration + 1,
        restarts=state.restarts + int(restart),
        backtracks=state.backtracks + backtracks,
        grad_map_norm=math.sqrt(float(torch.sum(delta * delta))) / s,
    )


def _start_state(smooth, x0: torch.Tensor, step: float) -> FistaState:
    q0 = smooth.lift(x0)
    return FistaState(x=x0, q=q0, x_prev=x0, q_prev=q0, step=step)


def _power_iteration(apply: Callable[[torch.Tensor], torch.Tensor], shape, *, iters: int, seed: int, like) -> float:
    """Largest eigenvalue of the PSD map ``apply`` (a lower estimate; backtracking guards it)."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    v = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype=like.dtype, device=like.device)
    v /= torch.linalg.vector_norm(v)
    lam = 0.0
    for _ in range(iters):
        w = apply(v)
        lam = float(torch.linalg.vector_norm(w))
        if lam == 0.0:
            return 0.0
        v = w / lam
    return lam


# ----------------------------------------------------------------------------------------------------------------------
# Results and boundary checks
# ----------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FirstOrderResult:
    """Outcome of :func:`fista_gated` or :func:`al_relu` (float64 numpy arrays).

    ``V``, ``W``: blocks ``(P, d)`` (``(P, d, c)`` for vector targets); gated: ``V`` holds the ``u_i`` and
    ``W = 0``. ``objective``: primal value at the returned (feasible) point; ``lower_bound``: certified
    lower bound on the optimum over the given patterns; ``gap = (objective - lower_bound) / |objective|``;
    ``violation``: relative cone violation ``max_i ||((I - 2 D_i) X z_i)_+|| / ||X z_i||`` (0 for gated);
    ``dual``: the certifying ``lambda``; ``history``: per check ``time``, ``iteration``, ``objective``,
    ``lower_bound``, ``gap``, ``violation`` (arrays); ``converged``: the gap reached ``tol``; ``newton_steps``: the
    Newton steps on the support taken by :func:`fista_gated` (:mod:`cvxnn_core.solvers.newton`).
    """

    kind: str
    V: np.ndarray
    W: np.ndarray
    objective: float
    lower_bound: float
    gap: float
    violation: float
    iterations: int
    outer_iterations: int
    solve_time: float
    converged: bool
    solver: str
    device: str
    dtype: str
    dual: np.ndarray = field(repr=False)
    history: dict[str, np.ndarray] = field(repr=False, default_factory=dict)
    newton_steps: int = 0

    @property
    def n_active_blocks(self) -> int:
        """Non-zero blocks (= neurons of the recovered network)."""
        V = self.V.reshape(self.V.shape[0], -1)
        W = self.W.reshape(self.W.shape[0], -1)
        return int(np.sum(np.any(V != 0, axis=1)) + np.sum(np.any(W != 0, axis=1)))


def _prepare(X, y, beta, patterns, loss, tol, max_iters, seed, allow_2d):
    X = check_X(X)
    y = check_y(y, X.shape[0], allow_2d=allow_2d)
    beta = check_beta(beta)
    loss = check_choice(loss, "loss", FAST_LOSSES)
    if loss != "squared" and y.ndim == 2:
        raise ValueError("vector targets y of shape (n, c) are supported with loss='squared' only")
    check_labels_pm1(y, loss)
    patterns = check_patterns(patterns, X.shape[0])
    tol = check_positive_number(tol, "tol")
    max_iters = check_positive_int(max_iters, "max_iters")
    seed = check_seed(seed)
    return X, y, beta, patterns, loss, float(tol), max_iters, seed


def _zero_small(B: np.ndarray, scale: float) -> np.ndarray:
    B = B.copy()
    B[block_norms(B) <= BLOCK_ZERO_TOL * scale] = 0.0
    return B


def gated_certificate(
    X: np.ndarray, y: np.ndarray, patterns: np.ndarray, U: np.ndarray, beta: float, loss: FastLoss = "squared"
) -> tuple[float, float, np.ndarray]:
    """``(primal, lower_bound, lambda)`` of a gated point ``U``, in float64 numpy.

    ``lambda = t r`` with ``r = -grad l(A U)`` and ``t`` the best scale subject to ``t max_i ||X^T D_i r|| <= beta``
    (the exact dual constraint of the gated program).
    """
    X, y, patterns, beta, loss = _check_gated_point(X, y, patterns, beta, loss)
    block = (patterns.shape[1], X.shape[1]) + ((y.shape[1],) if y.ndim == 2 else ())
    U = check_array(U, "U", block, labels=("P", "d", "c")[: len(block)])
    f = gated_forward(X, patterns, U)
    primal = loss_value(f, y, loss) + beta * float(np.sum(block_norms(U)))
    lower, lam = gated_dual_bound(X, y, patterns, negative_gradient(f, y, loss), beta, loss)
    return primal, lower, lam


def gated_dual_bound(
    X: np.ndarray, y: np.ndarray, patterns: np.ndarray, r: np.ndarray, beta: float, loss: FastLoss = "squared"
) -> tuple[float, np.ndarray]:
    """``(lower_bound, lambda)`` from any candidate dual direction ``r`` (``(n,)`` or ``(n, c)``), in float64 numpy.

    ``lambda = t r`` with the best ``t`` subject to ``t max_i ||X^T D_i r|| <= beta``; ``-l^*(-lambda)`` is then a
    lower bound on the gated optimum whatever ``r`` is (a residual, or an extrapolation of residuals).
    """
    X, y, patterns, beta, loss = _check_gated_point(X, y, patterns, beta, loss)
    r = check_array(r, "r", y.shape, labels=("n", "c")[: y.ndim])
    smax = float(np.max(block_norms(gated_adjoint(X, patterns, r)), initial=0.0))
    t = best_dual_scale(r, y, loss, beta / smax if smax > 0 else NO_CONSTRAINT_SCALE)
    lam = t * r
    return float(dual_value(lam, y, loss)), lam


def _check_gated_point(X, y, patterns, beta, loss):
    X = check_X(X)
    y = check_y(y, X.shape[0], allow_2d=True)
    patterns = check_patterns(patterns, X.shape[0])
    beta = check_beta(beta)
    loss = check_choice(loss, "loss", FAST_LOSSES)
    check_labels_pm1(y, loss)
    return X, y, patterns, beta, loss


def anderson_extrapolation(points: Sequence[np.ndarray]) -> np.ndarray | None:
    """Anderson extrapolation of the last points of a sequence (Bertrand & Massias 2021; dual extrapolation of celer).

    With the differences ``U = [r_1 - r_0, ..., r_K - r_{K-1}]`` find ``c = argmin ||U c|| s.t. sum(c) = 1`` (the
    KKT system ``[[U^T U, 1], [1^T, 0]]``, solved by least squares so that a rank-deficient ``U`` is fine) and return
    ``sum_k c_k r_k`` (over ``r_1 .. r_K``). For ``r_{k+1} - r* = M (r_k - r*)`` with ``I - M`` invertible and
    ``U c = 0`` this is ``r*`` exactly: the limit of a sequence that is asymptotically a linear recursion, as the
    iterates of proximal gradient methods on their support are. ``None`` when all differences vanish. Used only as
    a *candidate* dual direction: the bound is certified whatever it returns.
    """
    if len(points) == 0:
        raise ValueError("points is empty; pass the last K + 1 >= 2 iterates")
    shapes = {np.shape(p) for p in points}
    if len(shapes) > 1:
        raise ValueError(f"points must all have one shape, got {sorted(shapes)}")
    R = np.stack([np.asarray(p, dtype=float).reshape(-1) for p in points], axis=1)
    U = np.diff(R, axis=1)
    G = U.T @ U
    scale = float(np.max(np.abs(G), initial=0.0))
    if not np.isfinite(scale) or scale == 0.0:
        return None
    K = G.shape[0]
    kkt = np.block([[G / scale, np.ones((K, 1))], [np.ones((1, K)), np.zeros((1, 1))]])
    rhs = np.zeros(K + 1)
    rhs[-1] = 1.0
    c = np.linalg.lstsq(kkt, rhs, rcond=None)[0][:K]
    if not np.isfinite(c).all():
        return None
    return (R[:, 1:] @ c).reshape(np.shape(points[-1]))

r"""Fast first-order solvers in torch for the gated-ReLU and ReLU convex programs (CPU or GPU).

Notation as everywhere in the package (``book/conventions.md``): data ``X`` ``(n, d)``, patterns ``D``
boolean ``(n, P)`` (column ``i`` is the diagonal of ``D_i``), blocks stored as rows, ``U`` ``(P, d)`` (or
``(P, d, c)`` for vector targets ``y`` ``(n, c)``).

Operator and adjoint (never materialising the ``n x (P d)`` matrix ``[D_1 X ... D_P X]``)::

    A(U)   = sum_i D_i X u_i  = rowsum(X * (D @ U))          (n,)    one (n, P) x (P, d) product
    A^T(r) = [X^T D_i r]_i    = D^T (r[:, None] * X)          (P, d)  one (P, n) x (n, d) product

Gated ReLU (Mishkin, Sahiner & Pilanci, ICML 2022), the group lasso over patterns::

    min_U  l(A(U)) + beta * sum_i ||u_i||_2

solved by FISTA (:func:`fista_gated`): backtracking on the quadratic upper bound (started from the safe
step ``1 / ||A||^2`` estimated by power iteration, tentatively enlarged by ``step_growth`` before each line
search), block soft-thresholding as the prox ``u_i <- (1 - s beta / ||u_i||)_+ u_i``, adaptive restarts of the
momentum (gradient-mapping test), and a working set of patterns (the largest ``||X^T D_i r||`` first, grown
with the most violated patterns whenever the restricted problem is solved). It stops on a *certificate*:
with the residual ``r = -grad l(A U)`` the point ``lambda = t r`` is dual feasible as soon as
``t max_i ||X^T D_i r|| <= beta`` over *all* ``P`` patterns (for the gated program this check is exact and needs
no cone projection), and ``-l^*(-lambda)`` (:func:`cvxnn_core.losses.dual_value`) is a lower bound on the
optimum. The relative gap ``(primal - lower) / primal`` is the stopping rule.

ReLU (cone-constrained), blocks ``z = [v_1..v_P, w_1..w_P]`` with signs ``s = (+1, -1)``::

    min_z  l(sum_i s_i D_i X z_i) + beta * sum_i ||z_i||   s.t.  C_i(z) = (2 D_i - I) X z_i >= 0

Certificate (both ReLU solvers): for every ``lambda`` and ``mu >= 0`` with
``||X^T (s_i D_i lambda + (2 D_i - I) mu_i)|| <= beta`` for all blocks, ``-l^*(-lambda)`` is a lower bound
(Lagrangian duality); minimising that norm over ``mu_i >= 0`` gives the exact cone support
``||Pi_{K_i}(s_i X^T D_i lambda)||`` of :func:`cvxnn_core.certificates.cone_support` (one NNLS, computed lazily by
:func:`cone_supports`). The primal value is taken at a *feasible* point: every block that violates its cone is
projected onto it exactly (:func:`cvxnn_core.patterns.cone_projection`), so the returned solution has zero
constraint violation up to the projection's accuracy and the reported gap bounds its suboptimality.

* :func:`active_set_relu` (squared loss; the high-accuracy method): column generation over the ``2P`` blocks
  (add the blocks whose dual constraint is most violated) and constraint generation over their cone rows,
  with each restricted program solved exactly by Clarabel's conic interior point (called directly, on ``k d``
  variables instead of ``2 P d``), stopping when the certified gap is ``<= tol``.
* :func:`al_relu` (squared or logistic loss; first order): augmented Lagrangian with multipliers
  ``mu >= 0`` of shape ``(n, 2P)``, subproblems ``min l(.) + (1 / (2 delta)) ||(mu - delta C(z))_+||^2 +
  beta sum ||z_i||`` solved by the same FISTA (warm-started), updates ``mu <- (mu - delta C(z))_+``. Fast to
  ``1e-3``, slow to ``1e-6`` (the multiplier updates converge linearly at a rate set by ``delta``).

Cone decomposition (Mishkin et al. 2022): a gated block ``u`` is written ``u = v - w`` with ``v, w`` in
the cone ``K = {x : (2D - I) X x >= 0}``; the minimum-norm choice ``v = u/2 + e``, ``w = e - u/2`` with
``e = argmin ||e|| s.t. (2D - I) X e >= |X u| / 2`` is a least-distance program solved exactly by one
non-negative least-squares problem (Lawson & Hanson 1974, ch. 23). Predictions are unchanged.

Measuring: :func:`time_to_accuracy` and :func:`performance_profile` turn solver traces into the numbers of
the benchmark (``paper_experiments/benchmarks/solvers.py``) and of the chapter ``solver_speed``.

Losses: ``"squared"`` (scalar or vector targets) and ``"logistic"`` (labels ``+-1``, gated FISTA and AL); the
hinge loss is not smooth and is left to the cvxpy path. The first-layer bias is penalised like every weight (a ones
column of ``X``); ``free_bias`` is not supported here.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from tqdm import tqdm

from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_labels_pm1,
    check_patterns,
    check_positive_int,
    check_seed,
    check_torch_device,
    check_torch_dtype,
    check_X,
    check_y,
)
from cvxnn_core.losses import dual_value, loss_value, negative_gradient
from cvxnn_core.patterns import cone_projection

FastLoss = Literal["squared", "logistic"]
Array = np.ndarray | torch.Tensor  # the operators take numpy arrays or torch tensors (all of one kind)
FAST_LOSSES = ("squared", "logistic")
REDUCED_SOLVE_TOL = 1e-10
WORKING_SET_MIN = 50  # initial working-set size of fista_gated (blocks)
REDUCED_SOLVE_METHOD = "faer"  # Clarabel's supernodal LDL: the reduced KKT systems are dense
BLOCK_ZERO_TOL = 1e-9  # blocks with ||z_i|| <= tol * max_j ||z_j|| are returned as exact zeros


# ----------------------------------------------------------------------------------------------------------------------
# Operators (numpy or torch)
# ----------------------------------------------------------------------------------------------------------------------


def _mask(D, like):
    if isinstance(like, torch.Tensor):
        D = torch.as_tensor(D, device=like.device)
        return D if D.dtype == like.dtype else D.to(like.dtype)
    return np.asarray(D).astype(like.dtype, copy=False)


def _chunks(P: int, batch_size: int | None):
    step = P if batch_size is None else max(1, int(batch_size))
    return [slice(lo, min(lo + step, P)) for lo in range(0, P, step)]


def gated_forward(X: Array, D: Array, U: Array, *, batch_size: int | None = None) -> Array:
    """``A(U) = sum_i D_i X u_i`` for numpy arrays or torch tensors.

    ``X`` ``(n, d)``, ``D`` ``(n, P)`` (boolean or 0/1 floats), ``U`` ``(P, d)`` or ``(P, d, c)``; returns
    ``(n,)`` or ``(n, c)``. Computed as ``rowsum(X * (D @ U))``, in chunks of ``batch_size`` patterns.
    """
    n, d = X.shape
    P = D.shape[1]
    vector = U.ndim == 3
    c = U.shape[2] if vector else 1
    out = None
    for sl in _chunks(P, batch_size):
        Dm = _mask(D[:, sl], X)
        H = (Dm @ U[sl].reshape(sl.stop - sl.start, d * c)).reshape(n, d, c)
        part = (X[:, :, None] * H).sum(1)
        out = part if out is None else out + part
    return out if vector else out[:, 0]


def gated_adjoint(X: Array, D: Array, r: Array, *, batch_size: int | None = None) -> Array:
    """``A^T(r) = [X^T D_i r]_i``: shape ``(P, d)`` for ``r`` ``(n,)``, ``(P, d, c)`` for ``r`` ``(n, c)``."""
    n, d = X.shape
    P = D.shape[1]
    vector = r.ndim == 2
    R = r if vector else r[:, None]
    c = R.shape[1]
    Z = (X[:, :, None] * R[:, None, :]).reshape(n, d * c)
    parts = [(_mask(D[:, sl], X).T @ Z).reshape(sl.stop - sl.start, d, c) for sl in _chunks(P, batch_size)]
    out = parts[0] if len(parts) == 1 else (torch.cat(parts) if isinstance(X, torch.Tensor) else np.concatenate(parts))
    return out if vector else out[:, :, 0]


def cone_constraints(X: Array, D: Array, V: Array) -> Array:
    """``C[:, i] = (2 D_i - I) X v_i``, shape ``(n, P)``; ``v_i`` is in its cone iff column ``i`` is ``>= 0``."""
    S = 2.0 * _mask(D, X) - 1.0
    return S * (X @ V.T)


def beta_max(X: np.ndarray, y: np.ndarray, patterns: np.ndarray, loss: FastLoss = "squared") -> float:
    """``max_i ||X^T D_i r_0||`` with ``r_0 = -grad l(0)``: for ``beta >=`` this value ``U = 0`` solves the gated
    program (and the ReLU program, whose blocks are restricted further). Benchmarks use ``beta = 0.1 beta_max``."""
    X = check_X(X)
    y = check_y(y, X.shape[0], allow_2d=True)
    patterns = check_patterns(patterns, X.shape[0])
    r0 = y if loss == "squared" else negative_gradient(np.zeros_like(y), y, loss)
    G = gated_adjoint(X, patterns, r0)
    return float(np.max(np.linalg.norm(G.reshape(G.shape[0], -1), axis=1)))


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


def fista_step(
    state: FistaState, smooth: _GatedSmooth | _ALSmooth, beta: float, *, backtrack: float = 0.5, growth: float = 1.0
) -> FistaState:
    """One FISTA step with backtracking and adaptive restart (pure: returns a new state).

    Extrapolation ``z = x + theta (x - x_prev)`` (and ``q_z`` by linearity, no operator call), gradient
    ``grad h(z) = lift^T(grad_q h(q_z))``, prox step ``x+ = prox_{s beta ||.||}(z - s grad)``; the step ``s``
    is halved until ``h(x+) <= h(z) + <grad, x+ - z> + ||x+ - z||^2 / (2 s)`` (checked through the exact
    Bregman divergence, free of cancellation). Momentum restarts when ``<z - x+, x+ - x> > 0``.
    """
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
    ``lower_bound``, ``gap``, ``violation`` (arrays); ``converged``: the gap reached ``tol``.
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
    if not (isinstance(tol, int | float) and np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number (the target relative duality gap), got {tol!r}")
    max_iters = check_positive_int(max_iters, "max_iters")
    seed = check_seed(seed)
    return X, y, beta, patterns, loss, float(tol), max_iters, seed


class _Threads:
    def __init__(self, threads):
        self.threads = None if threads is None else check_positive_int(threads, "threads")

    def __enter__(self):
        self.previous = torch.get_num_threads()
        if self.threads is not None:
            torch.set_num_threads(self.threads)

    def __exit__(self, *exc):
        torch.set_num_threads(self.previous)


def _scale_for_dual(lam: np.ndarray, y: np.ndarray, loss: str, t_max: float) -> float:
    """Best ``t`` in ``[0, t_max]`` for ``dual_value(t * lam)`` (closed form for the squared loss)."""
    if loss == "squared":
        nrm = float(np.sum(lam * lam))
        return float(np.clip(float(np.sum(lam * y)) / nrm, 0.0, t_max)) if nrm > 0 else 0.0
    from scipy.optimize import minimize_scalar

    smax = float(np.max(lam * y, initial=0.0))
    hi = min(t_max, 1.0 / smax if smax > 0 else t_max)
    if not np.isfinite(hi) or hi <= 0:
        return 0.0
    res = minimize_scalar(
        lambda t: -dual_value(t * lam, y, loss), bounds=(0.0, hi), method="bounded", options={"xatol": 1e-12 * hi}
    )
    cand = [res.x, hi, min(1.0, hi)]
    return float(max(cand, key=lambda t: dual_value(t * lam, y, loss)))


def _block_norms(B: np.ndarray) -> np.ndarray:
    return np.linalg.norm(B.reshape(B.shape[0], -1), axis=1)


def _zero_small(B: np.ndarray, scale: float) -> np.ndarray:
    B = B.copy()
    B[_block_norms(B) <= BLOCK_ZERO_TOL * scale] = 0.0
    return B


def gated_certificate(
    X: np.ndarray, y: np.ndarray, patterns: np.ndarray, U: np.ndarray, beta: float, loss: FastLoss = "squared"
) -> tuple[float, float, np.ndarray]:
    """``(primal, lower_bound, lambda)`` of a gated point ``U``, in float64 numpy.

    ``lambda = t r`` with ``r = -grad l(A U)`` and ``t`` the best scale subject to ``t max_i ||X^T D_i r|| <= beta``
    (the exact dual constraint of the gated program).
    """
    f = gated_forward(X, patterns, U)
    primal = loss_value(f, y, loss) + beta * float(np.sum(_block_norms(U)))
    r = negative_gradient(f, y, loss)
    smax = float(np.max(_block_norms(gated_adjoint(X, patterns, r)), initial=0.0))
    t = _scale_for_dual(r, y, loss, beta / smax if smax > 0 else 1e12)
    lam = t * r
    return primal, float(dual_value(lam, y, loss)), lam


def _relative_gap(primal: float, lower: float) -> float:
    return float((primal - lower) / max(abs(primal), 1e-300))


def _progress_bar(progress: bool | None, total: int, desc: str):
    if progress is None:
        progress = sys.stderr.isatty()
    return tqdm(total=total, desc=desc, disable=not progress, leave=False)


# ----------------------------------------------------------------------------------------------------------------------
# Gated ReLU: FISTA
# ----------------------------------------------------------------------------------------------------------------------


def fista_gated(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    loss: FastLoss = "squared",
    tol: float = 1e-6,
    max_iters: int = 10_000,
    max_time: float | None = None,
    check_every: int = 10,
    U0: np.ndarray | None = None,
    device: str = "cpu",
    dtype: torch.dtype | str = torch.float64,
    seed: int = 0,
    batch_size: int | None = None,
    step_growth: float = 1.1,
    working_set: bool = True,
    threads: int | None = None,
    progress: bool | None = None,
) -> FirstOrderResult:
    """Solve ``min_U l(sum_i D_i X u_i) + beta sum_i ||u_i||`` by restarted FISTA, stopping on the relative gap.

    Args:
        X, y: data ``(n, d)`` and targets ``(n,)`` (or ``(n, c)`` with ``loss="squared"``).
        beta: weight decay ``>= 0``; patterns: boolean ``(n, P)``.
        loss: ``"squared"`` or ``"logistic"`` (labels ``+-1``).
        tol: stop when the certified relative duality gap is ``<= tol`` (checked every ``check_every``
            iterations in the working precision, and once more in float64 at the end).
        max_iters: iteration cap (``converged=False`` if reached); max_time: wall-clock cap in seconds,
            checked at every certificate (``None``: no cap).
        U0: optional warm start ``(P, d)``; device/dtype: torch device (``"cpu"``, ``"cuda"``) and
            precision (float32 reaches relative gaps of about 1e-5, not 1e-6).
        seed: seeds the power iteration that sets the first step ``1 / ||A||^2``.
        batch_size: apply the operator over chunks of this many patterns (memory).
        step_growth: factor applied to the step before each line search (1 = monotone steps).
        working_set: iterate on a working set of blocks (the largest ``||X^T D_i r||`` first), certify on all
            ``P`` blocks at every check, and add the most violated blocks once the restricted problem is solved;
            the certificate, and so the stopping rule, is always that of the full program.
        threads: torch CPU threads during the solve (``None`` keeps torch's setting).
    """
    X, y, beta, patterns, loss, tol, max_iters, seed = _prepare(
        X, y, beta, patterns, loss, tol, max_iters, seed, allow_2d=True
    )
    check_every = check_positive_int(check_every, "check_every")
    dev, dt = check_torch_device(device), check_torch_dtype(dtype)
    n, d = X.shape
    P = patterns.shape[1]
    vector = y.ndim == 2
    c = y.shape[1] if vector else 1
    with _Threads(threads):
        start = time.perf_counter()
        Xt = torch.as_tensor(X, dtype=dt, device=dev)
        Dt = torch.as_tensor(patterns, device=dev).to(dt)
        yt = torch.as_tensor(y.reshape(n, c), dtype=dt, device=dev)
        smooth = _GatedSmooth(Xt, Dt, yt, loss, batch_size)
        curvature = 1.0 if loss == "squared" else 0.25
        L = curvature * _power_iteration(
            lambda v: smooth.adjoint(smooth.lift(v)), (P, d, c), iters=30, seed=seed, like=Xt
        )
        x = torch.zeros((P, d, c), dtype=dt, device=dev)
        if U0 is not None:
            x = torch.as_tensor(np.asarray(U0, dtype=float).reshape(P, d, c), dtype=dt, device=dev)
        step = 1.0 / max(L, 1e-300)
        # working set: the blocks of U0 plus those with the largest ||X^T D_i r||; grown while blocks outside violate
        if working_set and P > 2 * WORKING_SET_MIN:
            r0 = -smooth.grad_q(smooth.lift(x))
            score = torch.linalg.vector_norm(smooth.adjoint(r0).reshape(P, -1), dim=1)
            score[torch.linalg.vector_norm(x.reshape(P, -1), dim=1) > 0] = math.inf
            work = torch.sort(torch.argsort(score, descending=True)[:WORKING_SET_MIN]).values
        else:
            work = torch.arange(P, device=dev)
        history: dict[str, list[float]] = {k: [] for k in ("time", "iteration", "objective", "lower_bound", "gap")}
        yn = y.reshape(n, c) if vector else y
        converged = False
        iterations = 0
        outer = 0
        bar = _progress_bar(progress, max_iters, "FISTA (gated)")
        timed_out = False
        while iterations < max_iters and not converged and not timed_out:
            outer += 1
            sub = _GatedSmooth(Xt, Dt[:, work], yt, loss, batch_size) if len(work) < P else smooth
            state = _start_state(sub, x[work], step)
            while iterations < max_iters:
                state = fista_step(state, sub, beta, growth=step_growth)
                iterations += 1
                bar.update(1)
                if state.iteration % check_every and iterations < max_iters:
                    continue
                x = torch.zeros_like(x)
                x[work] = state.x
                primal, lower, lower_work, norms = _gated_check(smooth, x, state.q, beta, yn, loss, vector, work)
                gap = _relative_gap(primal, lower)
                for key, val in zip(
                    history, (time.perf_counter() - start, iterations, primal, lower, gap), strict=True
                ):
                    history[key].append(val)
                bar.set_postfix(gap=f"{gap:.2e}", blocks=len(work))
                if gap <= tol:
                    converged = True
                    break
                if max_time is not None and time.perf_counter() - start > max_time:
                    timed_out = True
                    break
                outside = torch.ones(P, dtype=torch.bool, device=dev)
                outside[work] = False
                if bool(torch.any(outside)) and _relative_gap(primal, lower_work) <= max(0.5 * tol, 0.2 * gap):
                    # the restricted problem is solved: add the most violated blocks outside the working set
                    cand = torch.nonzero(outside & (norms > beta)).flatten()
                    cand = cand[torch.argsort(norms[cand], descending=True)][: max(len(work), WORKING_SET_MIN)]
                    work = torch.sort(torch.cat([work, cand])).values
                    step = state.step
                    break
        bar.close()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        U = x.detach().cpu().double().numpy()
        U = U if vector else U[:, :, 0]
        U = _zero_small(U, float(np.max(_block_norms(U), initial=0.0)))
        primal, lower, lam = gated_certificate(X, y, patterns, U, beta, loss)
        elapsed = time.perf_counter() - start
    gap = _relative_gap(primal, lower)
    return FirstOrderResult(
        kind="gated_relu",
        V=U,
        W=np.zeros_like(U),
        objective=primal,
        lower_bound=lower,
        gap=gap,
        violation=0.0,
        iterations=iterations,
        outer_iterations=outer,
        solve_time=elapsed,
        converged=converged and gap <= max(tol, 10 * np.finfo(np.float64).eps),
        solver="FISTA",
        device=str(dev),
        dtype=str(dt).replace("torch.", ""),
        dual=lam,
        history={k: np.asarray(v) for k, v in history.items()},
    )


def _gated_check(
    smooth: _GatedSmooth,
    x: torch.Tensor,
    q: torch.Tensor,
    beta: float,
    y: np.ndarray,
    loss: str,
    vector: bool,
    work: torch.Tensor,
):
    """Primal value, certified lower bound, the lower bound of the program restricted to the blocks ``work``, and
    the dual-constraint norms ``||X^T D_i r||`` (all ``P`` blocks) at the full iterate ``x`` with predictions ``q``
    (working precision; scalar reductions in float64)."""
    g = smooth.grad_q(q)
    norms = torch.linalg.vector_norm(smooth.adjoint(g).reshape(x.shape[0], -1), dim=1)
    primal = float(smooth.value(q)) + beta * float(
        torch.sum(torch.linalg.vector_norm(x.reshape(x.shape[0], -1), dim=1))
    )
    r = (-g).detach().cpu().double().numpy()
    r = r if vector else r[:, 0]
    bounds = []
    for smax in (float(torch.max(norms)), float(torch.max(norms[work]))):
        t = _scale_for_dual(r, y, loss, beta / smax if smax > 0 else 1e12)
        bounds.append(float(dual_value(t * r, y, loss)))
    return primal, bounds[0], bounds[1], norms


# ----------------------------------------------------------------------------------------------------------------------
# Cone decomposition of a gated solution
# ----------------------------------------------------------------------------------------------------------------------


def least_distance(G: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``argmin ||x||_2 s.t. G x >= h`` (least-distance programming) through one NNLS (Lawson & Hanson, ch. 23).

    With ``E = [G^T; h^T]`` and ``f = (0, ..., 0, 1)``, solve ``u = argmin_{u >= 0} ||E u - f||`` and set
    ``r = E u - f``; then ``x = -r[:-1] / r[-1]``. Raises ``ValueError`` when the constraints are infeasible.
    """
    from scipy.optimize import nnls

    G = np.asarray(G, dtype=float)
    h = np.asarray(h, dtype=float)
    if not np.any(h > 0):
        return np.zeros(G.shape[1])
    E = np.vstack([G.T, h[None, :]])
    f = np.zeros(E.shape[0])
    f[-1] = 1.0
    u, _ = nnls(E, f, maxiter=50 * E.shape[1])
    r = E @ u - f
    if abs(r[-1]) < 1e-14:
        raise ValueError("the constraints G x >= h are infeasible (least-distance program)")
    return -r[:-1] / r[-1]


def cone_decomposition(X: np.ndarray, patterns: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split gated blocks ``u_i = v_i - w_i`` with ``v_i, w_i`` in the cone ``K_i = {(2 D_i - I) X x >= 0}``.

    Minimum-norm split: ``v = u/2 + e``, ``w = e - u/2`` with ``e = argmin ||e|| s.t. (2 D_i - I) X e >= |X u|/2``
    (:func:`least_distance`), which minimises ``||v||^2 + ||w||^2``. Predictions are unchanged:
    ``D_i X (v_i - w_i) = D_i X u_i``. Returns ``(V, W)``, each ``(P, d)``; every block is then projected
    exactly onto its cone (removing NNLS rounding), and ``v_i = u_i, w_i = 0`` (or the reverse) when ``u_i``
    already lies in ``K_i`` (or ``-K_i``).
    """
    X = check_X(X)
    patterns = check_patterns(patterns, X.shape[0])
    U = np.asarray(U, dtype=float)
    if U.shape != (patterns.shape[1], X.shape[1]):
        raise ValueError(f"U must have shape (P, d) = {(patterns.shape[1], X.shape[1])}, got {U.shape}")
    V = np.zeros_like(U)
    W = np.zeros_like(U)
    scale = float(np.max(_block_norms(U), initial=0.0))
    for i in np.flatnonzero(_block_norms(U) > BLOCK_ZERO_TOL * scale):
        s = 2.0 * patterns[:, i] - 1.0
        xu = X @ U[i]
        tol = 1e-12 * max(np.max(np.abs(xu)), 1e-300)
        if np.all(s * xu >= -tol):
            V[i] = U[i]
            continue
        if np.all(s * xu <= tol):
            W[i] = -U[i]
            continue
        e = least_distance(s[:, None] * X, 0.5 * np.abs(xu))
        V[i] = cone_projection(X, patterns[:, i], 0.5 * U[i] + e)
        W[i] = V[i] - U[i]
    return V, W


# ----------------------------------------------------------------------------------------------------------------------
# ReLU: augmented Lagrangian with FISTA subproblems
# ----------------------------------------------------------------------------------------------------------------------


def _relative_violation(X: np.ndarray, patterns: np.ndarray, Z: np.ndarray) -> float:
    """``max_i ||((I - 2 D_i) X z_i)_+|| / ||X z_i||`` over the non-zero blocks of ``Z`` ``(2P, d)``."""
    S = np.tile(2.0 * patterns - 1.0, 2)
    XZ = X @ Z.T
    scale = np.linalg.norm(XZ, axis=0)
    bad = np.linalg.norm(np.maximum(-S * XZ, 0.0), axis=0)
    nz = scale > 0
    return float(np.max(bad[nz] / scale[nz])) if np.any(nz) else 0.0


def relative_violation(X: np.ndarray, patterns: np.ndarray, V: np.ndarray, W: np.ndarray) -> float:
    """Relative cone violation ``max_i ||((I - 2 D_i) X z_i)_+|| / ||X z_i||`` over the non-zero blocks ``V``, ``W``."""
    return _relative_violation(X, patterns, np.vstack([V, W]))


def feasible_point(X: np.ndarray, patterns: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Zero negligible blocks and project every block that violates its cone onto it (exactly)."""
    P = patterns.shape[1]
    Z = _zero_small(Z, float(np.max(_block_norms(Z), initial=0.0)))
    S = np.tile(2.0 * patterns - 1.0, 2)
    XZ = X @ Z.T
    viol = np.any(S * XZ < -1e-13 * np.maximum(np.linalg.norm(XZ, axis=0), 1e-300), axis=0)
    out = Z.copy()
    for j in np.flatnonzero(viol & np.any(Z != 0, axis=1)):
        out[j] = cone_projection(X, patterns[:, j % P], Z[j])
    # a block pointing away from its cone projects to (nearly) zero: drop the rounding noise left there
    return _zero_small(out, float(np.max(_block_norms(Z), initial=0.0)))


def relu_certificate(
    X: np.ndarray,
    y: np.ndarray,
    patterns: np.ndarray,
    V: np.ndarray,
    W: np.ndarray,
    beta: float,
    loss: FastLoss = "squared",
    *,
    multipliers: np.ndarray | None = None,
    lam: np.ndarray | None = None,
) -> tuple[float, float, np.ndarray]:
    """``(primal, lower_bound, lambda)`` for a *feasible* ReLU point ``(V, W)``, in float64 numpy.

    The dual point is ``(t lambda, t mu)`` with ``lambda`` the residual ``-grad l`` (or the given ``lam``) and
    ``mu`` the given cone multipliers ``(n, 2P)`` (zero if ``None``); for each block the norm
    ``||X^T (s_i D_i lambda + (2 D_i - I) mu_i)||`` is computed, and where it exceeds ``beta`` it is replaced by
    the exact cone support ``min_{mu_i >= 0}`` of the same norm (one NNLS). ``t`` makes every block feasible.
    """
    f = gated_forward(X, patterns, V - W)
    primal = loss_value(f, y, loss) + beta * float(np.sum(_block_norms(V)) + np.sum(_block_norms(W)))
    lam0 = negative_gradient(f, y, loss) if lam is None else np.asarray(lam, dtype=float)
    upper = None
    if multipliers is not None:
        Dm = patterns.astype(float)
        M = np.hstack([Dm, -Dm]) * lam0[:, None] + np.tile(2.0 * Dm - 1.0, 2) * multipliers
        upper = np.linalg.norm(M.T @ X, axis=1)
    values, _, _ = cone_supports(X, patterns, lam0, beta, upper=upper)
    smax = float(np.max(values, initial=0.0))
    t = _scale_for_dual(lam0, y, loss, beta / smax if smax > 0 else 1e12)
    lam_out = t * lam0
    return primal, float(dual_value(lam_out, y, loss)), lam_out


def al_relu(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    loss: FastLoss = "squared",
    tol: float = 1e-6,
    max_iters: int = 20_000,
    max_time: float | None = None,
    max_outer: int = 500,
    inner_iters: int = 500,
    delta: float | None = None,
    delta_growth: float = 2.0,
    delta_max: float | None = None,
    warm_start: Literal["gated", "zero"] = "zero",
    step_growth: float = 1.1,
    certify_every: int = 5,
    device: str = "cpu",
    dtype: torch.dtype | str = torch.float64,
    seed: int = 0,
    threads: int | None = None,
    progress: bool | None = None,
) -> FirstOrderResult:
    """Solve the cone-constrained ReLU program by an augmented Lagrangian with FISTA subproblems.

    Each outer iteration runs FISTA on the AL subproblem (warm-started; at most ``inner_iters`` steps, fewer
    once the gradient-mapping norm falls below a tenth of the constraint violation), updates the multipliers
    ``mu <- (mu - delta C)_+`` and multiplies ``delta`` by ``delta_growth`` (up to ``delta_max``) when the
    violation did not shrink fourfold. Every ``certify_every`` outer iterations the iterate is made feasible
    (violating blocks projected onto their cones), its objective is compared with the Lagrangian dual bound
    built from the residual and ``mu``, and the solve stops when the relative gap is ``<= tol``.

    Args:
        X, y, beta, patterns, loss: the program (scalar targets; ``"squared"`` or ``"logistic"``).
        tol: target relative duality gap of the returned *feasible* point.
        max_iters: cap on the total FISTA steps; max_outer: cap on multiplier updates; max_time: wall-clock
            cap in seconds, checked after every outer iteration.
        delta: initial penalty; default ``10 ||A||^2 / ||X||^2`` (the subproblem's Lipschitz constant is then
            about five times that of the loss); ``delta_max`` defaults to ten times the initial value.
        warm_start: ``"gated"`` solves the gated program first (:func:`fista_gated`) and starts from its
            :func:`cone_decomposition`; ``"zero"`` starts from zero.
        device, dtype, seed, threads, progress, step_growth: as in :func:`fista_gated`.

    First-order AL reaches gaps of 1e-3 to 1e-4 quickly and improves slowly after that (the multiplier updates
    converge linearly with a rate set by ``delta``); :func:`active_set_relu` is the high-accuracy method. The
    returned ``violation`` is that of the returned point (~1e-15 after the exact projections); ``history``
    records the certified objective, the best lower bound and the violation of the raw AL iterate.
    """
    X, y, beta, patterns, loss, tol, max_iters, seed = _prepare(
        X, y, beta, patterns, loss, tol, max_iters, seed, allow_2d=False
    )
    max_outer = check_positive_int(max_outer, "max_outer")
    inner_iters = check_positive_int(inner_iters, "inner_iters")
    certify_every = check_positive_int(certify_every, "certify_every")
    warm_start = check_choice(warm_start, "warm_start", ("gated", "zero"))  # type: ignore[assignment]
    dev, dt = check_torch_device(device), check_torch_dtype(dtype)
    n, d = X.shape
    P = patterns.shape[1]
    start = time.perf_counter()
    history: dict[str, list[float]] = {
        k: [] for k in ("time", "iteration", "objective", "lower_bound", "gap", "violation")
    }
    best = (math.inf, np.zeros((2 * P, d)))
    best_dual = (-math.inf, np.zeros(n))
    with _Threads(threads):
        Z0 = np.zeros((2 * P, d))
        used = 0
        if warm_start == "gated":
            gated = fista_gated(
                X, y, beta, patterns, loss=loss, tol=tol, max_iters=max_iters, device=device, dtype=dtype, seed=seed
            )
            used = gated.iterations
            Z0 = np.vstack(cone_decomposition(X, patterns, gated.V))
            primal, lower, lam = relu_certificate(X, y, patterns, Z0[:P], Z0[P:], beta, loss)
            best, best_dual = (primal, Z0), (lower, lam)
            _append(history, time.perf_counter() - start, used, primal, lower, 0.0)
        Xt = torch.as_tensor(X, dtype=dt, device=dev)
        Dm = torch.as_tensor(patterns, device=dev).to(dt)
        Dsig = torch.cat([Dm, -Dm], dim=1)
        S2 = torch.cat([2.0 * Dm - 1.0, 2.0 * Dm - 1.0], dim=1)
        yt = torch.as_tensor(y, dtype=dt, device=dev)
        curvature = 1.0 if loss == "squared" else 0.25
        LA = curvature * _power_iteration(
            lambda v: gated_adjoint(Xt, Dm, gated_forward(Xt, Dm, v)), (P, d), iters=30, seed=seed, like=Xt
        )
        LX = float(torch.linalg.matrix_norm(Xt, ord=2)) ** 2
        delta = 10.0 * LA / LX if delta is None else float(delta)
        if not (np.isfinite(delta) and delta > 0):
            raise ValueError(f"delta must be a positive number, got {delta!r}")
        delta_max = 10.0 * delta if delta_max is None else max(float(delta_max), delta)
        mu = torch.zeros((n, 2 * P), dtype=dt, device=dev)
        smooth = _ALSmooth(Xt, Dsig, S2, yt, loss, mu, delta)
        state = _start_state(smooth, torch.as_tensor(Z0, dtype=dt, device=dev), 1.0 / (2 * LA + delta * LX))
        prev_viol = math.inf
        converged = False
        outer = 0
        bar = _progress_bar(progress, max_iters, "AL (ReLU)")
        while outer < max_outer and used < max_iters and not converged:
            if max_time is not None and time.perf_counter() - start > max_time and np.isfinite(best[0]):
                break
            outer += 1
            smooth.mu, smooth.delta = mu, delta
            state = _start_state(smooth, state.x, state.step)
            for _ in range(min(inner_iters, max_iters - used)):
                state = fista_step(state, smooth, beta, growth=step_growth)
                if state.iteration % 10 == 0 and state.grad_map_norm <= 0.1 * _abs_violation(smooth, state.q):
                    break
            used += state.iteration
            bar.update(state.iteration)
            mu = smooth.multiplier(state.q)
            viol = _abs_violation(smooth, state.q)
            last = used >= max_iters or outer == max_outer
            last = last or (max_time is not None and time.perf_counter() - start > max_time)
            if outer % certify_every == 0 or last:
                Z = state.x.detach().cpu().double().numpy()
                Zf = feasible_point(X, patterns, Z)
                primal, lower, lam = relu_certificate(
                    X,
                    y,
                    patterns,
                    Zf[:P],
                    Zf[P:],
                    beta,
                    loss,
                    multipliers=mu.detach().cpu().double().numpy(),
                    lam=negative_gradient(gated_forward(X, patterns, Z[:P] - Z[P:]), y, loss),
                )
                if primal < best[0]:
                    best = (primal, Zf)
                if lower > best_dual[0]:
                    best_dual = (lower, lam)
                _append(
                    history,
                    time.perf_counter() - start,
                    used,
                    best[0],
                    best_dual[0],
                    _relative_violation(X, patterns, Z),
                )
                gap = _relative_gap(best[0], best_dual[0])
                bar.set_postfix(gap=f"{gap:.2e}", delta=f"{delta:.3g}")
                converged = gap <= tol
            if viol > 0.25 * prev_viol:
                delta = min(delta * delta_growth, delta_max)
            prev_viol = viol
        bar.close()
        elapsed = time.perf_counter() - start
    (primal, Zf), (lower, lam) = best, best_dual
    return FirstOrderResult(
        kind="relu",
        V=Zf[:P],
        W=Zf[P:],
        objective=primal,
        lower_bound=lower,
        gap=_relative_gap(primal, lower),
        violation=_relative_violation(X, patterns, Zf),
        iterations=used,
        outer_iterations=outer,
        solve_time=elapsed,
        converged=converged,
        solver="AL",
        device=str(dev),
        dtype=str(dt).replace("torch.", ""),
        dual=lam,
        history={k: np.asarray(v) for k, v in history.items()},
    )


def _abs_violation(smooth: _ALSmooth, q: torch.Tensor) -> float:
    return float(torch.linalg.vector_norm(torch.clamp(q, max=0.0)))


def _append(
    history: dict[str, list[float]], elapsed: float, iteration: int, primal: float, lower: float, violation: float
) -> None:
    values = (elapsed, iteration, primal, lower, _relative_gap(primal, lower), violation)
    for key, val in zip(history, values, strict=True):
        history[key].append(float(val))


# ----------------------------------------------------------------------------------------------------------------------
# ReLU: active set (column and constraint generation) with exact reduced solves
# ----------------------------------------------------------------------------------------------------------------------


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
    P = patterns.shape[1]
    G = gated_adjoint(X, patterns, lam)
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
    rows_per_block = min(n, 2 * d) if rows_per_block is None else min(n, check_positive_int(rows_per_block, "rows"))
    start = time.perf_counter()
    history: dict[str, list[float]] = {
        k: [] for k in ("time", "iteration", "objective", "lower_bound", "gap", "violation")
    }
    S2 = np.tile(2.0 * patterns - 1.0, 2)
    Z = np.zeros((2 * P, d)) if warm_start is None else np.asarray(warm_start, dtype=float).reshape(2 * P, d).copy()
    if warm_start is not None:
        Z = feasible_point(X, patterns, Z)
    working = np.flatnonzero(np.any(Z != 0, axis=1))
    directions = np.zeros((2 * P, d))
    rows: dict[int, np.ndarray] = {}
    best = (math.inf, Z, y.copy())
    best_lower = -math.inf
    converged = False
    solves = 0
    bar = _progress_bar(progress, max_rounds, "active set (ReLU)")
    for rnd in range(1, max_rounds + 1):
        # certify the current feasible point Z
        f = gated_forward(X, patterns, Z[:P] - Z[P:])
        lam = y - f
        values, exact, dirs = cone_supports(X, patterns, lam, beta, top=max_add)
        smax = float(np.max(values, initial=0.0))
        t = _scale_for_dual(lam, y, "squared", beta / smax if smax > 0 else 1e12)
        lower = float(dual_value(t * lam, y, "squared"))
        primal = loss_value(f, y, "squared") + beta * float(np.sum(_block_norms(Z)))
        best_lower = max(best_lower, lower)
        if primal < best[0]:
            best = (primal, Z.copy(), t * lam)
        _append(history, time.perf_counter() - start, solves, primal, best_lower, _relative_violation(X, patterns, Z))
        gap = _relative_gap(best[0], best_lower)
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
        gap=_relative_gap(primal, best_lower),
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
    bar = _progress_bar(progress, max_rounds, "pattern growth")
    for k in range(max_rounds):
        result = active_set_relu(X, y, beta, D, tol=tol, seed=seed, warm_start=warm)
        P = D.shape[1]
        lam = y - gated_forward(X, D, result.V - result.W)
        probe = merge_patterns(D, sample_patterns(X, pool, seed=seed + k + 1))
        Q = probe.shape[1]
        values, exact, _ = cone_supports(X, probe, lam, beta, top=max_add)
        smax = float(np.max(values, initial=0.0))
        t = _scale_for_dual(lam, y, "squared", beta / smax if smax > 0 else 1e12)
        gap = _relative_gap(result.objective, dual_value(t * lam, y, "squared"))
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


# ----------------------------------------------------------------------------------------------------------------------
# Measuring solvers: time to accuracy and performance profiles
# ----------------------------------------------------------------------------------------------------------------------


def time_to_accuracy(times: np.ndarray, objectives: np.ndarray, reference: float, tol: float) -> float:
    """First time at which ``(objective - reference) / |reference| <= tol``; ``inf`` if never.

    ``times`` and ``objectives`` (same length) trace one run; ``objectives`` must be values of points that are
    feasible for the program (every solver here reports those), ``reference`` the best value any method
    reached. A run that ends *below* the reference (a non-convex network on a restricted pattern set) counts
    as having reached it.
    """
    times = np.asarray(times, dtype=float)
    objectives = np.asarray(objectives, dtype=float)
    if times.shape != objectives.shape or times.ndim != 1:
        raise ValueError(f"times and objectives must be 1-D of equal length, got {times.shape} and {objectives.shape}")
    if not (np.isfinite(reference) and np.isfinite(tol) and tol >= 0):
        raise ValueError(f"reference must be finite and tol >= 0, got {reference!r} and {tol!r}")
    ok = (objectives - reference) <= tol * max(abs(reference), 1e-300)
    return float(times[np.argmax(ok)]) if np.any(ok) else math.inf


def performance_profile(solve_times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Fraction of problems solved by time ``t`` for each method: ``out[k, m] = mean_p(solve_times[p, m] <= grid[k])``.

    ``solve_times`` is ``(problems, methods)`` with ``inf`` (or NaN) for "never reached the tolerance" or "did not
    finish"; the profile is on an absolute time axis, as in Mishkin, Sahiner & Pilanci (2022, Fig. 4).
    """
    T = np.asarray(solve_times, dtype=float)
    if T.ndim != 2 or T.shape[0] == 0:
        raise ValueError(f"solve_times must have shape (problems, methods) with at least one problem, got {T.shape}")
    T = np.where(np.isnan(T), np.inf, T)
    grid = np.asarray(grid, dtype=float).reshape(-1)
    return np.mean(T[None, :, :] <= grid[:, None, None], axis=1)

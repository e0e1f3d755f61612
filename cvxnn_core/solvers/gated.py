"""The gated-ReLU program by restarted FISTA with working sets (the cone decomposition of its solution is in
:mod:`cvxnn_core.solvers.decompose`)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from cvxnn_core._cvx import block_norms
from cvxnn_core._shapes import check_array, check_growth, check_optional_positive
from cvxnn_core._training import limit_threads, progress_bar
from cvxnn_core._validation import (
    check_beta,
    check_patterns,
    check_positive_int,
    check_seed,
    check_torch_device,
    check_torch_dtype,
    check_X,
)
from cvxnn_core.duality import NO_CONSTRAINT_SCALE, relative_gap
from cvxnn_core.losses import best_dual_scale, dual_value
from cvxnn_core.solvers.fista import (
    FirstOrderResult,
    _GatedSmooth,
    _power_iteration,
    _prepare,
    _start_state,
    _zero_small,
    anderson_extrapolation,
    fista_step,
    gated_certificate,
    gated_dual_bound,
)
from cvxnn_core.solvers.newton import support_newton
from cvxnn_core.solvers.operators import FastLoss, gated_adjoint, gated_forward

WORKING_SET_MIN = 50  # initial working-set size of fista_gated (blocks)

NEWTON_STABLE = 3  # Newton on the support is tried once the support was unchanged over this many checks
NEWTON_SLOW = 0.5  # and the certified gap shrank by less than this factor over twice as many (FISTA is slow),
NEWTON_RETRY = 20  # and again after 3, 6, 12, then at most this many checks
NEWTON_MAX_N = 4000  # Newton factorises an n x n matrix: above this many samples FISTA runs alone
NEWTON_SHARE = 0.25  # Newton may take at most this fraction of FISTA's time (its cost where FISTA is fast)

ANDERSON_DEPTH = 5  # residuals extrapolated for a better dual point (celer's default K)


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
    newton: bool = True,
    threads: int | None = None,
    progress: bool | None = None,
    lipschitz: float | None = None,
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
        newton: squared loss, ``beta > 0``, ``n <= NEWTON_MAX_N``: once the support is stable and the gap shrinks
            slowly, take Newton steps on it (:func:`cvxnn_core.solvers.support_newton`; the small-beta regime, where
            FISTA alone crawls), spending at most ``NEWTON_SHARE`` of FISTA's time on them.
        working_set: iterate on a working set of blocks (the largest ``||X^T D_i r||`` first), certify on all
            ``P`` blocks at every check, and add the most violated blocks once the restricted problem is solved;
            the certificate, and so the stopping rule, is always that of the full program.
        threads: torch CPU threads during the solve (``None`` keeps torch's setting).
        lipschitz: ``||A||^2`` of the operator ``A U = sum_i D_i X u_i`` when known (it depends on ``X`` and the
            patterns only, so the estimators compute it once for all classes); ``None`` estimates it by 30 power
            iterations. It only sets the first step, which backtracking corrects.
    """
    X, y, beta, patterns, loss, tol, max_iters, seed = _prepare(
        X, y, beta, patterns, loss, tol, max_iters, seed, allow_2d=True
    )
    check_every = check_positive_int(check_every, "check_every")
    dev, dt = check_torch_device(device), check_torch_dtype(dtype)
    max_time = check_optional_positive(max_time, "max_time")
    step_growth = check_growth(step_growth, "step_growth")
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
    lipschitz = check_optional_positive(lipschitz, "lipschitz")
    n, d = X.shape
    P = patterns.shape[1]
    vector = y.ndim == 2
    c = y.shape[1] if vector else 1
    if U0 is not None:
        block = (P, d, c) if vector else (P, d)
        U0 = check_array(U0, "U0", block, labels=("P", "d", "c")[: len(block)],
                         fix="one warm-start block per pattern (e.g. a previous result's V)")
    with limit_threads(threads):
        start = time.perf_counter()
        Xt = torch.as_tensor(X, dtype=dt, device=dev)
        Dt = torch.as_tensor(patterns, device=dev).to(dt)
        yt = torch.as_tensor(y.reshape(n, c), dtype=dt, device=dev)
        smooth = _GatedSmooth(Xt, Dt, yt, loss, batch_size)
        curvature = 1.0 if loss == "squared" else 0.25
        if lipschitz is None:
            lipschitz = _power_iteration(lambda v: smooth.adjoint(smooth.lift(v)), (P, d, c), iters=30, seed=seed,
                                         like=Xt)
        L = curvature * lipschitz
        x = torch.zeros((P, d, c), dtype=dt, device=dev)
        if U0 is not None:
            x = torch.as_tensor(U0.reshape(P, d, c), dtype=dt, device=dev)
        step = 1.0 / max(L, 1e-300)
        # working set: the blocks of U0 plus those with the largest ||X^T D_i r||; grown while blocks outside violate
        if working_set and P > 2 * WORKING_SET_MIN:
            r0 = -smooth.grad_q(smooth.lift(x))
            score = torch.linalg.vector_norm(smooth.adjoint(r0).reshape(P, -1), dim=1)
            warm = torch.linalg.vector_norm(x.reshape(P, -1), dim=1) > 0
            score[warm] = math.inf
            work = torch.sort(torch.argsort(score, descending=True)[: WORKING_SET_MIN + int(warm.sum())]).values
        else:
            work = torch.arange(P, device=dev)
        history: dict[str, list[float]] = {k: [] for k in ("time", "iteration", "objective", "lower_bound", "gap")}
        yn = y.reshape(n, c) if vector else y
        converged = False
        iterations = 0
        outer = 0
        residuals: deque[np.ndarray] = deque(maxlen=ANDERSON_DEPTH + 1)
        best_lower, best_r = -math.inf, None
        newton = newton and loss == "squared" and beta > 0 and n <= NEWTON_MAX_N
        last_support = exact = None
        stable, wait, newton_steps, restart = 0, NEWTON_STABLE, 0, False
        checks_since_try = wait
        gaps: list[float] = []  # certified gap at every check
        newton_time = 0.0
        bar = progress_bar(progress, total=max_iters, desc="FISTA (gated)")
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
                primal, lower, lower_work, norms, r = _gated_check(smooth, x, state.q, beta, yn, loss, vector, work)
                residuals.append(r)
                if lower > best_lower:
                    best_lower, best_r = lower, r
                if len(residuals) == ANDERSON_DEPTH + 1:
                    r_acc = anderson_extrapolation(residuals)
                    lower_acc = -math.inf if r_acc is None else _dual_bound(smooth, r_acc, beta, yn, loss)
                    if lower_acc > best_lower:
                        best_lower, best_r = lower_acc, r_acc
                gaps.append(relative_gap(primal, best_lower))
                if newton and gaps[-1] > tol:
                    support = torch.linalg.vector_norm(x.reshape(P, -1), dim=1) > 0
                    stable = stable + 1 if last_support is not None and torch.equal(support, last_support) else 0
                    last_support = support
                    window = 2 * NEWTON_STABLE
                    slow = len(gaps) > window and gaps[-1] > NEWTON_SLOW * gaps[-1 - window]
                    budget = NEWTON_SHARE * (time.perf_counter() - start - newton_time) - newton_time
                    if stable >= NEWTON_STABLE and slow and checks_since_try >= wait and budget > 0:
                        checks_since_try, wait = 0, min(2 * wait, NEWTON_RETRY)
                        if exact is None:
                            exact = (Xt.double(), Dt.double(), yt.double())
                            exact = (*exact, exact[0] @ exact[0].T)
                        tick = time.perf_counter()
                        x_newton, steps = support_newton(*exact[:3], x.double(), beta, gram=exact[3], max_time=budget)
                        newton_time += time.perf_counter() - tick
                        newton_steps += steps
                        x_newton = x_newton.to(dt)
                        q_newton = smooth.lift(x_newton)
                        p_n, lower_n, _, _, r_n = _gated_check(smooth, x_newton, q_newton, beta, yn, loss, vector, work)
                        if lower_n > best_lower:
                            best_lower, best_r = lower_n, r_n
                        if p_n < primal:
                            primal, x = p_n, x_newton
                            restart = True
                    checks_since_try += 1
                lower = best_lower
                gap = relative_gap(primal, lower)
                for key, val in zip(
                    history, (time.perf_counter() - start, iterations, primal, lower, gap), strict=True
                ):
                    history[key].append(val)
                bar.set_postfix(gap=f"{gap:.2e}", blocks=len(work))
                if gap <= tol:
                    converged = True
                    break
                if restart:  # continue FISTA from the Newton point (momentum reset)
                    restart = False
                    step = state.step
                    break
                if max_time is not None and time.perf_counter() - start > max_time:
                    timed_out = True
                    break
                outside = torch.ones(P, dtype=torch.bool, device=dev)
                outside[work] = False
                if bool(torch.any(outside)) and relative_gap(primal, lower_work) <= max(0.5 * tol, 0.2 * gap):
                    # the restricted problem is solved: add the most violated blocks outside the working set
                    cand = torch.nonzero(outside & (norms > beta)).flatten()
                    cand = cand[torch.argsort(norms[cand], descending=True)][: max(len(work), WORKING_SET_MIN)]
                    work = torch.sort(torch.cat([work, cand])).values
                    step = state.step
                    residuals.clear()
                    break
        bar.close()
        if dev.type == "cuda":
            torch.cuda.synchronize()
        U = x.detach().cpu().double().numpy()
        U = U if vector else U[:, :, 0]
        U = _zero_small(U, float(np.max(block_norms(U), initial=0.0)))
        primal, lower, lam = gated_certificate(X, y, patterns, U, beta, loss)
        if best_r is not None:  # the best dual direction seen (a residual or an extrapolation), re-certified in float64
            lower_r, lam_r = gated_dual_bound(X, y, patterns, best_r, beta, loss)
            if lower_r > lower:
                lower, lam = lower_r, lam_r
        elapsed = time.perf_counter() - start
    gap = relative_gap(primal, lower)
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
        newton_steps=newton_steps,
    )


def gated_operator_norm(
    X: np.ndarray,
    patterns: np.ndarray,
    *,
    iters: int = 30,
    seed: int = 0,
    device: str = "cpu",
    dtype: torch.dtype | str = torch.float64,
    threads: int | None = None,
) -> float:
    """``||A||^2`` of ``A U = sum_i D_i X u_i`` by ``iters`` power iterations on ``A^T A`` (a lower estimate).

    The gated program's smooth part has curvature ``||A||^2`` (squared loss; a quarter of it for the logistic loss),
    which sets FISTA's first step; it depends on ``X`` and the patterns only, so one estimate serves every target
    (``fista_gated(..., lipschitz=)``).
    """
    X = check_X(X)
    patterns = check_patterns(patterns, X.shape[0])
    iters, seed = check_positive_int(iters, "iters"), check_seed(seed)
    dev, dt = check_torch_device(device), check_torch_dtype(dtype)
    with limit_threads(threads):
        Xt = torch.as_tensor(X, dtype=dt, device=dev)
        Dt = torch.as_tensor(patterns, device=dev).to(dt)
        shape = (patterns.shape[1], X.shape[1])
        return _power_iteration(lambda v: gated_adjoint(Xt, Dt, gated_forward(Xt, Dt, v)), shape, iters=iters,
                                seed=seed, like=Xt)


def fista_path(
    X: np.ndarray,
    y: np.ndarray,
    betas: Sequence[float] | np.ndarray,
    patterns: np.ndarray,
    *,
    progress: bool | None = None,
    **options: Any,
) -> list[FirstOrderResult]:
    """The gated program along a regularization path: :func:`fista_gated` at every ``beta``, warm-started.

    The path is solved from the largest ``beta`` down (where the solution is sparse and cheap), each solve starting
    from the previous solution ``U0`` (its blocks seed the working set). ``options`` go to :func:`fista_gated` (``tol``,
    ``loss``, ``device``, ...; not ``U0``). Returns one result per entry of ``betas``, in the order given; each is
    certified on its own (``gap``, ``converged``).
    """
    if "U0" in options:
        raise ValueError("fista_path warm-starts every solve itself; drop U0 from the options")
    if isinstance(betas, str | bytes) or not isinstance(betas, Sequence | np.ndarray):
        raise TypeError(f"betas must be a 1-D list of numbers >= 0, got {betas!r}")
    if np.ndim(betas) != 1:
        raise ValueError(f"betas must be a 1-D list of numbers >= 0, got {betas!r}")
    if any(isinstance(b, bool | str) for b in betas):
        raise TypeError(f"betas must be a 1-D list of numbers >= 0, got {betas!r}")
    values = [check_beta(b, f"betas[{i}]") for i, b in enumerate(np.asarray(betas).tolist())]
    if not values:
        raise ValueError("betas must hold at least one value")
    order = np.argsort(values)[::-1]
    results: dict[int, FirstOrderResult] = {}
    U0 = None
    for i in progress_bar(progress, iterable=order, desc="regularization path"):
        result = fista_gated(X, y, values[i], patterns, U0=U0, progress=False, **options)
        results[int(i)] = result
        U0 = result.V
    return [results[i] for i in range(len(values))]


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
    """Primal value, certified lower bound, the lower bound of the program restricted to the blocks ``work``, the
    dual-constraint norms ``||X^T D_i r||`` (all ``P`` blocks) at the full iterate ``x`` with predictions ``q``
    (working precision; scalar reductions in float64), and the residual ``r = -grad l`` (float64 numpy)."""
    g = smooth.grad_q(q)
    norms = torch.linalg.vector_norm(smooth.adjoint(g).reshape(x.shape[0], -1), dim=1)
    primal = float(smooth.value(q)) + beta * float(
        torch.sum(torch.linalg.vector_norm(x.reshape(x.shape[0], -1), dim=1))
    )
    r = (-g).detach().cpu().double().numpy()
    r = r if vector else r[:, 0]
    bounds = []
    for smax in (float(torch.max(norms)), float(torch.max(norms[work]))):
        t = best_dual_scale(r, y, loss, beta / smax if smax > 0 else NO_CONSTRAINT_SCALE)
        bounds.append(float(dual_value(t * r, y, loss)))
    return primal, bounds[0], bounds[1], norms, r


def _dual_bound(smooth: _GatedSmooth, r: np.ndarray, beta: float, y: np.ndarray, loss: str) -> float:
    """Certified lower bound from a candidate dual direction ``r`` (numpy): one adjoint over all ``P`` blocks."""
    rt = torch.as_tensor(r.reshape(r.shape[0], -1), dtype=smooth.X.dtype, device=smooth.X.device)
    smax = float(torch.max(torch.linalg.vector_norm(smooth.adjoint(rt).reshape(smooth.D.shape[1], -1), dim=1)))
    t = best_dual_scale(r, y, loss, beta / smax if smax > 0 else NO_CONSTRAINT_SCALE)
    return float(dual_value(t * r, y, loss))

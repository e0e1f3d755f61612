"""The ReLU program by an augmented Lagrangian with FISTA subproblems, on feasible points with certificates."""

from __future__ import annotations

import math
import time
from typing import Literal

import numpy as np
import torch

from cvxnn_core._cvx import block_norms
from cvxnn_core._shapes import check_array, check_growth, check_optional_positive
from cvxnn_core._training import limit_threads, progress_bar
from cvxnn_core._validation import (
    check_choice,
    check_patterns,
    check_positive_int,
    check_positive_number,
    check_torch_device,
    check_torch_dtype,
    check_X,
)
from cvxnn_core.duality import NO_CONSTRAINT_SCALE, cone_supports, relative_gap
from cvxnn_core.losses import best_dual_scale, dual_value, loss_value, negative_gradient
from cvxnn_core.patterns import cone_projection
from cvxnn_core.solvers.decompose import cone_decomposition
from cvxnn_core.solvers.fista import (
    FirstOrderResult,
    _ALSmooth,
    _check_gated_point,
    _power_iteration,
    _prepare,
    _start_state,
    _zero_small,
    fista_step,
)
from cvxnn_core.solvers.gated import fista_gated
from cvxnn_core.solvers.operators import FastLoss, gated_adjoint, gated_forward

POLISH_GAP = 1e-3  # al_relu hands over to the active-set method below this certified gap (squared loss),
POLISH_STALL = 3  # or when the gap did not halve over this many certifications

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


def _check_blocks(X, patterns, **blocks):
    X = check_X(X)
    patterns = check_patterns(patterns, X.shape[0])
    P, d = patterns.shape[1], X.shape[1]
    out = [check_array(B, name, ((2 if name == "Z" else 1) * P, d), labels=("2P" if name == "Z" else "P", "d"))
           for name, B in blocks.items()]
    return X, patterns, out


def relative_violation(X: np.ndarray, patterns: np.ndarray, V: np.ndarray, W: np.ndarray) -> float:
    """Relative cone violation ``max_i ||((I - 2 D_i) X z_i)_+|| / ||X z_i||`` over the non-zero blocks ``V``, ``W``
    (each ``(P, d)``)."""
    X, patterns, (V, W) = _check_blocks(X, patterns, V=V, W=W)
    return _relative_violation(X, patterns, np.vstack([V, W]))


def feasible_point(X: np.ndarray, patterns: np.ndarray, Z: np.ndarray) -> np.ndarray:
    """Zero negligible blocks of ``Z`` ``(2P, d)`` (``[V; W]``) and project every block that violates its cone onto
    it (exactly)."""
    X, patterns, (Z,) = _check_blocks(X, patterns, Z=Z)
    P = patterns.shape[1]
    Z = _zero_small(Z, float(np.max(block_norms(Z), initial=0.0)))
    S = np.tile(2.0 * patterns - 1.0, 2)
    XZ = X @ Z.T
    viol = np.any(S * XZ < -1e-13 * np.maximum(np.linalg.norm(XZ, axis=0), 1e-300), axis=0)
    out = Z.copy()
    for j in np.flatnonzero(viol & np.any(Z != 0, axis=1)):
        out[j] = cone_projection(X, patterns[:, j % P], Z[j])
    # a block pointing away from its cone projects to (nearly) zero: drop the rounding noise left there
    return _zero_small(out, float(np.max(block_norms(Z), initial=0.0)))


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
    A point that violates its cones (relative violation above 1e-6) is refused: its value bounds nothing.
    """
    X, y, patterns, beta, loss = _check_gated_point(X, y, patterns, beta, loss)
    if y.ndim != 1:
        raise ValueError(f"y must have shape (n,) for the ReLU program, got {y.shape}")
    X, patterns, (V, W) = _check_blocks(X, patterns, V=V, W=W)
    n, P = patterns.shape
    if multipliers is not None:
        multipliers = check_array(multipliers, "multipliers", (n, 2 * P), labels=("n", "2P"))
    if lam is not None:
        lam = check_array(lam, "lam", (n,), labels=("n",))
    violation = _relative_violation(X, patterns, np.vstack([V, W]))
    if violation > 1e-6:
        raise ValueError(f"(V, W) violate their cones (relative violation {violation:.2g}); make them feasible first "
                         "with feasible_point(X, patterns, np.vstack([V, W]))")
    f = gated_forward(X, patterns, V - W)
    primal = loss_value(f, y, loss) + beta * float(np.sum(block_norms(V)) + np.sum(block_norms(W)))
    lam0 = negative_gradient(f, y, loss) if lam is None else np.asarray(lam, dtype=float)
    upper = None
    if multipliers is not None:
        Dm = patterns.astype(float)
        M = np.hstack([Dm, -Dm]) * lam0[:, None] + np.tile(2.0 * Dm - 1.0, 2) * multipliers
        upper = np.linalg.norm(M.T @ X, axis=1)
    values, _, _ = cone_supports(X, patterns, lam0, beta, upper=upper)
    smax = float(np.max(values, initial=0.0))
    t = best_dual_scale(lam0, y, loss, beta / smax if smax > 0 else NO_CONSTRAINT_SCALE)
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
    polish: bool = True,
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
        polish: squared loss: once the certified gap is ``<= POLISH_GAP``, or did not halve over ``POLISH_STALL``
            certifications, or the caps stop the AL, finish with
            :func:`active_set_relu` warm-started from the best AL point (exact reduced solves on its blocks); the
            result's ``solver`` is then ``"AL+ACTIVE_SET"`` and its gap that of the polished point.
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
    if not isinstance(polish, bool | np.bool_):
        raise TypeError(f"polish must be True or False, got {polish!r}")
    polish = bool(polish) and loss == "squared"
    max_time = check_optional_positive(max_time, "max_time")
    step_growth = check_growth(step_growth, "step_growth")
    delta_growth = check_growth(delta_growth, "delta_growth")
    if delta is not None:
        delta = check_positive_number(delta, "delta")
    if delta_max is not None:
        delta_max = check_positive_number(delta_max, "delta_max")
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
    with limit_threads(threads):
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
        gaps: list[float] = []
        converged = False
        outer = 0
        bar = progress_bar(progress, total=max_iters, desc="AL (ReLU)")
        while outer < max_outer and used < max_iters and not converged:
            if max_time is not None and time.perf_counter() - start > max_time and np.isfinite(best[0]):
                break
            outer += 1
            smooth.mu, smooth.delta = mu, delta
            state = _start_state(smooth, state.x, state.step)
            for _ in range(min(inner_iters, max_iters - used)):
                state = fista_step(state, smooth, beta, growth=step_growth)
                if state.iteration % 10 == 0 and (
                    state.grad_map_norm <= 0.1 * _abs_violation(smooth, state.q)
                    or (max_time is not None and time.perf_counter() - start > max_time)  # certified next
                ):
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
                gap = relative_gap(best[0], best_dual[0])
                bar.set_postfix(gap=f"{gap:.2e}", delta=f"{delta:.3g}")
                converged = gap <= tol
                gaps.append(gap)
                stalled = len(gaps) > POLISH_STALL and gap > 0.5 * gaps[-1 - POLISH_STALL]
                if polish and (gap <= POLISH_GAP or stalled):
                    break
            if viol > 0.25 * prev_viol:
                delta = min(delta * delta_growth, delta_max)
            prev_viol = viol
        bar.close()
        elapsed = time.perf_counter() - start
    (primal, Zf), (lower, lam) = best, best_dual
    if polish and not converged:
        return _polish(X, y, beta, patterns, tol, max_time, seed, Zf, lower, lam, history, used, outer, start, dev, dt)
    return FirstOrderResult(
        kind="relu",
        V=Zf[:P],
        W=Zf[P:],
        objective=primal,
        lower_bound=lower,
        gap=relative_gap(primal, lower),
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


def _polish(X, y, beta, patterns, tol, max_time, seed, Zf, lower, lam, history, used, outer, start, dev, dt):
    """:func:`active_set_relu` from the AL point ``Zf`` (``max_time`` counts the AL's time); the better certified
    point of the two, with the AL history followed by the active set's."""
    from cvxnn_core.solvers.active_set import active_set_relu

    P = patterns.shape[1]
    left = None if max_time is None else max(max_time - (time.perf_counter() - start), 1.0)
    polished = active_set_relu(X, y, beta, patterns, tol=tol, max_time=left, warm_start=Zf, seed=seed, progress=False)
    offset = time.perf_counter() - start - polished.solve_time
    extra = dict(polished.history)
    extra["time"] = extra["time"] + offset
    extra["iteration"] = extra["iteration"] + used  # FISTA steps, then reduced conic solves
    extra["lower_bound"] = np.maximum(extra["lower_bound"], lower)  # the best bound so far, as in the AL rows
    extra["gap"] = (extra["objective"] - extra["lower_bound"]) / np.maximum(np.abs(extra["objective"]), 1e-300)
    for key, values in extra.items():
        history[key].extend(float(v) for v in values)
    if polished.lower_bound >= lower:
        lower, lam = polished.lower_bound, polished.dual
    primal, Zf = (polished.objective, np.vstack([polished.V, polished.W]))
    gap = relative_gap(primal, lower)
    return FirstOrderResult(
        kind="relu",
        V=Zf[:P],
        W=Zf[P:],
        objective=primal,
        lower_bound=lower,
        gap=gap,
        violation=polished.violation,
        iterations=used + polished.iterations,
        outer_iterations=outer + polished.outer_iterations,
        solve_time=time.perf_counter() - start,
        converged=gap <= tol,
        solver="AL+ACTIVE_SET",
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
    values = (elapsed, iteration, primal, lower, relative_gap(primal, lower), violation)
    for key, val in zip(history, values, strict=True):
        history[key].append(float(val))

"""Running one method on one problem: our solvers, cvxpy, pyscnn, the group-lasso peers, Adam and SGD."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from paper_experiments.benchmarks.solvers.problems import GATED_METHODS, LR_GRID, RELU_METHODS, Problem


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return float(line.split()[1]) / 1024.0
    except OSError:
        pass
    return math.nan


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def pyscnn_available() -> bool:
    """True when the reference implementation (PyPI ``pyscnn``, module ``scnn``) can be imported."""
    import importlib.util

    return importlib.util.find_spec("scnn") is not None


GROUP_LASSO_PEERS = {"skglm": "skglm", "celer": "celer"}  # method -> module of the maintained group-lasso solvers


def peer_available(method: str) -> bool:
    """True when the group-lasso peer ``method`` (``"skglm"`` or ``"celer"``) can be imported."""
    import importlib.util

    return importlib.util.find_spec(GROUP_LASSO_PEERS[method]) is not None


def run_method(
    problem: Problem,
    method: str,
    *,
    tol: float = 1e-6,
    time_cap: float = 300.0,
    epochs: int = 2000,
    n_seeds: int = 5,
    threads: int = 1,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run ``method`` on ``problem`` in this process; return its result row and its trace rows."""
    import torch

    torch.set_num_threads(threads)
    X, y, D, beta = problem.build()
    row: dict[str, Any] = {
        **asdict(problem),
        "problem": problem.id,
        "P_distinct": int(D.shape[1]),
        "beta": beta,
        "method": method,
        "status": "ok",
        "wall_time": math.nan,
        "objective": math.nan,
        "certified_gap": math.nan,
        "violation": math.nan,
        "iterations": math.nan,
        "rss_before_mb": _rss_mb(),
        "peak_rss_mb": math.nan,
        "note": "",
    }
    trace: list[dict[str, Any]] = []
    start = time.perf_counter()
    try:
        _dispatch(problem, method, X, y, D, beta, row, trace, tol, time_cap, epochs, n_seeds)
    except MemoryError:
        row["status"] = "oom"
        row["note"] = "out of memory (the worker's address-space limit)"
    except Exception as exc:  # a failing solver is a result, not a crash of the benchmark
        row["status"] = "error"
        row["note"] = f"{type(exc).__name__}: {exc}"[:300]
    if math.isnan(row["wall_time"]):
        row["wall_time"] = time.perf_counter() - start
    row["peak_rss_mb"] = _peak_rss_mb()
    for point in trace:
        point.update(problem=problem.id, method=method)
    return row, trace


def _dispatch(problem, method, X, y, D, beta, row, trace, tol, time_cap, epochs, n_seeds) -> None:
    from cvxnn_core import programs, solvers

    kind = problem.kind
    allowed = GATED_METHODS if kind == "gated" else RELU_METHODS
    if method not in allowed:
        raise ValueError(f"method {method!r} does not apply to {kind} problems; choose from {allowed}")
    if method in ("fista", "fista_float32", "al", "active_set"):
        if method.startswith("fista"):
            dtype = "float32" if method == "fista_float32" else "float64"
            res = solvers.fista_gated(
                X,
                y,
                beta,
                D,
                tol=1e-5 if dtype == "float32" else tol,
                dtype=dtype,
                max_iters=100_000,
                max_time=time_cap,
            )
        elif method == "al":
            res = solvers.al_relu(X, y, beta, D, tol=tol, max_iters=1_000_000, max_time=min(time_cap, 120.0))
        else:
            res = solvers.active_set_relu(X, y, beta, D, tol=tol, max_time=time_cap)
        row.update(
            wall_time=res.solve_time,
            objective=res.objective,
            certified_gap=res.gap,
            violation=res.violation,
            iterations=res.iterations,
            status="ok" if res.converged else "cap",
        )
        hist = zip(res.history["time"], res.history["objective"], strict=True)
        trace.extend({"time": t, "objective": o} for t, o in hist)
        trace.append({"time": res.solve_time, "objective": res.objective})
    elif method == "gated_decomp":
        t0 = time.perf_counter()
        gated = solvers.fista_gated(X, y, beta, D, tol=tol, max_time=time_cap)
        V, W = solvers.cone_decomposition(X, D, gated.V)
        primal, lower, _ = solvers.relu_certificate(X, y, D, V, W, beta)
        elapsed = time.perf_counter() - t0
        row.update(
            wall_time=elapsed,
            objective=primal,
            certified_gap=(primal - lower) / primal,
            violation=solvers.relative_violation(X, D, V, W),
            note="feasible, not optimal",
        )
        trace.append({"time": elapsed, "objective": primal})
    elif method in ("clarabel", "scs"):
        solve = programs.solve_gated_relu if kind == "gated" else programs.solve_relu
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # an 'optimal_inaccurate' status is kept in the note
            warnings.simplefilter("ignore")
            res = solve(X, y, beta, D, solver=method.upper())
        elapsed = time.perf_counter() - t0
        row.update(
            wall_time=elapsed,
            objective=res.objective,
            note=f"status {res.status}, solver time {res.solve_time:.3g} s",
        )
        if kind == "relu":
            from cvxnn_core.certificates import cone_violation

            row["violation"] = cone_violation(X, res)
        trace.append({"time": elapsed, "objective": res.objective})
    elif method == "pyscnn":
        if not pyscnn_available():
            row.update(status="not installed", note="pyscnn (module scnn) is not importable; optional extra")
        else:
            _run_pyscnn(problem, X, y, D, beta, row, trace, time_cap)
    elif method in GROUP_LASSO_PEERS:
        if not peer_available(method):
            row.update(status="not installed", note=f"{method} is not importable; install the bench extra")
        else:
            _run_group_lasso_peer(method, X, y, D, beta, row, trace, time_cap)
    elif method in ("adam", "sgd"):
        _run_nonconvex(method, X, y, D, beta, row, trace, epochs, n_seeds, tol, time_cap)


def _run_pyscnn(problem, X, y, D, beta, row, trace, time_cap) -> None:
    """The reference implementation (Mishkin, Sahiner & Pilanci 2022) on the same problem.

    Its objective is ``(1/(2n)) ||yhat - y||^2 + lam sum_i ||u_i||``, so ``lam = beta / n`` and its values times
    ``n`` are ours. It gets the gates ``G`` that produced our patterns (``D = 1[X G > 0]``, checked equal), the
    data as is (``unitize_data=False``: column scaling would change the program) and float64. Gated: R-FISTA with
    ``tol=1e-10`` (its default ``1e-6`` on the squared subgradient norm stops near a ``1e-5`` relative gap); its
    trace (every 25 iterations) is the time-to-accuracy curve. ReLU: its augmented Lagrangian with ``tol`` and
    ``constraint_tol`` ``1e-10`` (its defaults ``1e-6`` stop it with a ``1e-3`` gap; with these it ends on its
    iteration limit); the returned point is made feasible exactly as ours (negligible blocks zeroed, violating
    blocks projected onto their cones); the violation reported is that of the returned point (negligible blocks
    zeroed).
    """
    from scnn.metrics import Metrics
    from scnn.models import ConvexGatedReLU, ConvexReLU
    from scnn.optimize import optimize_model
    from scnn.regularizers import NeuronGL1
    from scnn.solvers import AL, RFISTA

    from cvxnn_core import patterns, solvers

    n = X.shape[0]
    _, G = patterns.sample_gates(X, problem.P, seed=problem.seed)
    if not np.array_equal(X @ G > 0, D):
        raise ValueError("the gates do not reproduce the benchmark's patterns (a sample with X g = 0)")
    if problem.kind == "gated":
        model = ConvexGatedReLU(G)
        solver = RFISTA(model, max_iters=100_000, tol=1e-10)
    else:
        model = ConvexReLU(G)
        solver = AL(model, tol=1e-10, constraint_tol=1e-10)  # asked for more than 1e-6, like R-FISTA
    metrics = Metrics(metric_freq=25, objective=True, grad_norm=False, time=True)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted, metrics = optimize_model(
            model,
            solver,
            metrics,
            X,
            y,
            regularizer=NeuronGL1(beta / n),
            return_convex=True,
            unitize_data=False,
            dtype="float64",
        )
    elapsed = time.perf_counter() - t0
    Dm = X @ fitted.G > 0  # pyscnn may reorder the gates: evaluate with its own order
    if problem.kind == "gated":
        U = np.asarray(fitted.parameters[0][0], dtype=float)
        f = solvers.gated_forward(X, Dm, U)
        objective = 0.5 * float(np.sum((f - y) ** 2)) + beta * float(np.sum(np.linalg.norm(U, axis=1)))
        setup = elapsed - float(metrics.time[-1])
        hist = zip(np.asarray(metrics.time) + setup, n * np.asarray(metrics.objective), strict=True)
        trace.extend({"time": float(t), "objective": float(o)} for t, o in hist)
        row.update(objective=objective, violation=math.nan, note="R-FISTA, tol 1e-10, float64, no unitize")
    else:
        Z = np.vstack([fitted.parameters[0][0], fitted.parameters[1][0]]).astype(float)
        norms = np.linalg.norm(Z, axis=1)
        Z[norms <= solvers.BLOCK_ZERO_TOL * norms.max(initial=0.0)] = 0.0  # as for ours: negligible blocks are zero
        violation = solvers.relative_violation(X, Dm, Z[: Z.shape[0] // 2], Z[Z.shape[0] // 2 :])
        Zf = solvers.feasible_point(X, Dm, Z)
        V, W = Zf[: Zf.shape[0] // 2], Zf[Zf.shape[0] // 2 :]
        primal, lower, _ = solvers.relu_certificate(X, y, Dm, V, W, beta)
        row.update(
            objective=primal,
            certified_gap=(primal - lower) / primal,
            violation=violation,
            note="AL, tol 1e-10, float64, no unitize; objective at the projected feasible point",
        )
    trace.append({"time": elapsed, "objective": row["objective"]})
    row["wall_time"] = elapsed
    if elapsed > time_cap:
        row["status"] = "cap"


def _run_group_lasso_peer(method, X, y, D, beta, row, trace, time_cap) -> None:
    """A maintained group-lasso solver on the gated program, written as a group lasso.

    The design is ``A = [D_1 X, ..., D_P X]`` (``n x P d``, dense: the peers take a matrix) with contiguous groups of
    size ``d``; both peers minimise ``(1/(2n)) ||y - A w||^2 + alpha sum_g ||w_g||``, so ``alpha = beta / n`` and
    our objective is ``n`` times theirs. ``skglm.GroupLasso`` (working sets, Anderson acceleration; numba) is
    compiled on a tiny problem first, so that its one-time JIT compilation is not timed; ``celer.GroupLasso`` (dual
    extrapolation, Cython). Both with ``tol=1e-10``, ``max_iter=10000``, no intercept; building ``A`` is timed.
    The answer is one point: its time counts for ``1e-6`` when its objective is within ``1e-6`` of the best.
    """
    n, d = X.shape
    P = D.shape[1]
    if method == "skglm":
        from skglm import GroupLasso
    else:
        from celer import GroupLasso
    kwargs = {"groups": d, "alpha": beta / n, "tol": 1e-10, "max_iter": 10_000, "fit_intercept": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "skglm":  # JIT compilation on a tiny problem, untimed
            rng = np.random.default_rng(0)
            GroupLasso(**{**kwargs, "groups": 2}).fit(rng.standard_normal((8, 4)), rng.standard_normal(8))
        t0 = time.perf_counter()
        A = (D[:, :, None] * X[:, None, :]).reshape(n, P * d)
        w = np.asarray(GroupLasso(**kwargs).fit(A, y).coef_, dtype=float).reshape(-1)
        elapsed = time.perf_counter() - t0
    U = w.reshape(P, d)
    objective = 0.5 * float(np.sum((A @ w - y) ** 2)) + beta * float(np.sum(np.linalg.norm(U, axis=1)))
    row.update(wall_time=elapsed, objective=objective,
               note=f"{method} GroupLasso, alpha = beta / n, tol 1e-10, dense design ({n} x {P * d})")
    trace.append({"time": elapsed, "objective": objective})
    if elapsed > time_cap:
        row["status"] = "cap"


def _run_nonconvex(method, X, y, D, beta, row, trace, epochs, n_seeds, tol, time_cap) -> None:
    """Best step size of ``LR_GRID[method]`` by median final objective over ``n_seeds`` seeds (width ``2 P``)."""
    from cvxnn_core.nonconvex import train_two_layer

    width = 2 * D.shape[1]
    by_lr: dict[float, list] = {}
    t0 = time.perf_counter()
    for lr in LR_GRID[method]:
        runs = []
        for seed in range(n_seeds):
            try:
                runs.append(train_two_layer(X, y, width, beta, optimizer=method, lr=lr, epochs=epochs, seed=seed))
            except FloatingPointError:
                runs.append(None)
            if time.perf_counter() - t0 > time_cap:
                break
        by_lr[lr] = runs
        if time.perf_counter() - t0 > time_cap:
            break
    finals = {lr: np.median([r.objective if r else np.inf for r in runs]) for lr, runs in by_lr.items()}
    lr = min(finals, key=finals.get)
    runs = [r for r in by_lr[lr] if r is not None]
    if not runs:
        raise FloatingPointError(f"{method} diverged for every step size of {LR_GRID[method]}")
    objs = np.array([r.objective for r in runs])
    row.update(
        wall_time=float(np.mean([r.train_time for r in runs])),
        objective=float(np.median(objs)),
        iterations=epochs,
        note=f"lr {lr:g}, width {width}, {len(runs)} seeds, min {objs.min():.6g}, max {objs.max():.6g}",
    )
    for r in runs:
        times = r.train_time * np.arange(1, len(r.history) + 1) / len(r.history)
        stride = max(1, len(times) // 200)
        hist = zip(times[::stride], r.history[::stride], strict=True)
        trace.extend({"time": t, "objective": o, "run": r.seed} for t, o in hist)

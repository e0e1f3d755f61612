r"""Benchmark: convex solvers for two-layer ReLU networks side by side, on the same data and patterns.

Methods (``--methods``), by program:

* gated ReLU (group lasso over patterns): ``fista`` (:func:`cvxnn_core.solvers.fista_gated`, float64,
  certified relative gap ``tol``), ``fista_float32`` (same in float32, gap ``1e-5``), ``clarabel`` and ``scs``
  (cvxpy through :func:`cvxnn_core.programs.solve_gated_relu`, tolerance 1e-10 resp. 1e-9), ``pyscnn``
  (R-FISTA of Mishkin, Sahiner & Pilanci, only when the package is importable: the optional extra ``bench``),
  ``skglm`` and ``celer`` (the maintained group-lasso solvers, ``GroupLasso`` on the dense design
  ``[D_1 X, ..., D_P X]`` with ``alpha = beta / n``);
* ReLU (cone constraints): ``active_set`` (:func:`cvxnn_core.solvers.active_set_relu`), ``al``
  (:func:`cvxnn_core.solvers.al_relu`), ``gated_decomp`` (gated FISTA followed by the cone decomposition: a
  feasible point, not the ReLU optimum), ``clarabel``, ``scs``, ``pyscnn`` (its AL), and the non-convex
  network trained on the same objective by ``adam`` and ``sgd`` (:func:`cvxnn_core.nonconvex.train_two_layer`,
  full batch, best step size of a small grid by median final objective, 5 seeds).

Every row records the wall time (cvxpy's compilation included), the final objective, the certified gap where
the method has one, the relative cone violation, and, when each run is isolated in its own process (the CLI
default), the peak resident memory; a method that exceeds the time cap is recorded as ``dnf`` and skipped on
the larger problems of the same ladder. Traces (time, objective of a feasible point) give the time to reach
``1e-3`` and ``1e-6`` relative objective gap against the best objective reached by a convex method
(:func:`cvxnn_core.solvers.time_to_accuracy`); non-convex runs count as having reached it once they are within
the tolerance or below (sampled patterns make the convex program a restriction).

Outputs (``--out``, default ``_build/benchmarks/solver_speed/<profile>``; the chapter ``solver_speed`` reads every
folder there): ``results.csv``, ``traces.csv``,
``machine.json`` (CPU, cores, memory, load before and after, threads, versions) and ``config.json`` (the
options, the problems and ``code_hash``, :func:`code_hash` of the code that produced the results: the chapter
reads only results whose hash equals the current code's and re-runs the others).

Usage::

    python -m paper_experiments.benchmarks.solvers --profile mid
    python -m paper_experiments.benchmarks.solvers --profile full --time-cap 300
    python -m paper_experiments.benchmarks.solvers --profile scaling --time-cap 120 \
        --methods fista,fista_float32,clarabel,scs
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paper_experiments._cli import positive

GATED_METHODS = ("fista", "fista_float32", "clarabel", "scs", "pyscnn", "skglm", "celer")
RELU_METHODS = ("active_set", "al", "gated_decomp", "clarabel", "scs", "pyscnn", "adam", "sgd")
DATASETS = ("teacher", "breast_cancer", "digits")
PROFILES = ("tiny", "mid", "full", "scaling", "path", "path_tiny")
PATH_FRACTIONS = (1e-1, 1e-2, 1e-3, 1e-4)  # beta / beta_max of the small-beta profiles
PATH_METHODS = ("fista", "clarabel", "active_set", "al")  # the methods of the small-beta profiles
ACCURACIES = (1e-3, 1e-6)
LR_GRID = {"adam": (1e-3, 1e-2, 1e-1), "sgd": (1e-4, 3e-4, 1e-3)}  # full batch, summed loss: SGD diverges above ~1e-3
DEFAULT_OUT = "_build/benchmarks/solver_speed"
GRACE_S = 30.0  # extra seconds a worker process gets beyond the cap (imports, data, cvxpy compilation)


@dataclass(frozen=True)
class Problem:
    """One benchmark problem: program ``kind`` (``gated``/``relu``), data set, sizes, ``beta = beta_frac * beta_max``.

    For ``teacher`` (planted two-layer ReLU teacher with 100 units, Gaussian inputs, noise 0.1) ``n`` and ``d``
    are free; for ``breast_cancer`` (398 x 30 training part + intercept) and ``digits`` (8x8 digits, even vs odd,
    1257 x 64 + intercept, labels +-1, squared loss) they are the data's and only ``P`` is chosen.
    """

    kind: str
    dataset: str
    n: int
    d: int
    P: int
    beta_frac: float = 0.1
    seed: int = 0

    @property
    def id(self) -> str:
        tail = "" if self.beta_frac == 0.1 else f"-b{self.beta_frac:.0e}"
        return f"{self.kind}-{self.dataset}-n{self.n}-d{self.d}-P{self.P}{tail}"

    @property
    def family(self) -> str:
        """The problem without its ``beta``: the panel of the regularization-path figure."""
        return f"{self.kind}-{self.dataset}-n{self.n}-d{self.d}-P{self.P}"

    def build(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """``(X, y, D, beta)``: deterministic given the fields (same data and patterns for every method)."""
        from cvxnn_core import datasets, patterns, solvers

        if self.dataset == "teacher":
            X, y = datasets.teacher_regression(self.n, self.d, width=100, noise=0.1, seed=self.seed)
        elif self.dataset in ("breast_cancer", "digits"):
            name = "breast_cancer" if self.dataset == "breast_cancer" else "digits_even_vs_odd"
            split = datasets.load_binary(name, seed=self.seed)
            X, y = datasets.add_intercept(split.X_train), split.y_train
        else:
            raise ValueError(f"dataset must be one of {DATASETS}, got {self.dataset!r}")
        if X.shape != (self.n, self.d):
            raise ValueError(f"{self.dataset} has shape {X.shape}; build the problem with real_problem()")
        D, _ = patterns.sample_gates(X, self.P, seed=self.seed)
        return X, y, D, self.beta_frac * solvers.beta_max(X, y, D)


def real_problem(kind: str, dataset: str, P: int, **kwargs: Any) -> Problem:
    """A :class:`Problem` on a bundled data set, with ``n`` and ``d`` read from the data."""
    shapes = {"breast_cancer": (398, 31), "digits": (1257, 65)}
    if dataset not in shapes:
        raise ValueError(f"dataset must be one of {sorted(shapes)}, got {dataset!r}")
    return Problem(kind, dataset, *shapes[dataset], P, **kwargs)


def profile_problems(profile: str) -> list[Problem]:
    """The problem sets of the CLI profiles.

    ``tiny`` (the chapter's smoke run), ``mid`` (the chapter's fallback when no saved results exist: ladders in
    ``n`` and in ``P``, the speed targets gated ``(2000, 50, 500)`` and ReLU ``(500, 20, 200)``), ``full`` (the
    joint size ladder from (100, 10, 50) to (10000, 100, 2000), two real data sets, four ReLU problems) and
    ``scaling`` (ladders in ``n`` at ``(d, P) = (20, 200)`` and in ``P`` at ``(n, d) = (1000, 20)``), and the small-beta
    profiles ``path`` and ``path_tiny``: the same problems at ``beta / beta_max`` in :data:`PATH_FRACTIONS` (from the
    largest down; a method that did not finish is skipped at the smaller ``beta``), run with :data:`PATH_METHODS`.
    ``path``: gated on teacher ``(1000, 20, 200)`` and breast cancer (``P = 200``), ReLU on teacher ``(100, 10, 50)``;
    ``path_tiny`` (the chapter's smoke run): gated ``(200, 10, 50)``, ReLU ``(40, 5, 20)``.
    """
    teacher = lambda kind, n, d, P: Problem(kind, "teacher", n, d, P)  # noqa: E731
    if profile == "tiny":  # seconds in one process: the chapter's smoke run
        gated = [(100, 10, 50), (200, 10, 50), (400, 10, 50), (400, 10, 100), (400, 10, 200)]
        return [teacher("gated", *s) for s in gated] + [teacher("relu", 60, 8, 30)]
    if profile == "mid":
        gated = [
            (250, 20, 200),
            (500, 20, 200),
            (1000, 20, 200),
            (500, 20, 50),
            (500, 20, 100),
            (500, 20, 400),
            (2000, 50, 500),
        ]
        relu = [(100, 10, 50), (200, 10, 100), (500, 20, 200)]
        return [teacher("gated", *s) for s in gated] + [teacher("relu", *s) for s in relu]
    if profile == "full":
        ladder = [
            (100, 10, 50),
            (500, 20, 200),
            (1000, 20, 500),
            (2000, 50, 500),
            (5000, 100, 1000),
            (10000, 100, 2000),
        ]
        return (
            [teacher("gated", *s) for s in ladder]
            + [real_problem("gated", "breast_cancer", 200), real_problem("gated", "digits", 200)]
            + [teacher("relu", 100, 10, 50), teacher("relu", 200, 10, 100), teacher("relu", 500, 20, 200)]
            + [real_problem("relu", "breast_cancer", 100)]
        )
    if profile in ("path", "path_tiny"):
        if profile == "path":
            families = [teacher("gated", 1000, 20, 200), real_problem("gated", "breast_cancer", 200)]
            families.append(teacher("relu", 100, 10, 50))
        else:
            families = [teacher("gated", 200, 10, 50), teacher("relu", 40, 5, 20)]
        return [replace(p, beta_frac=frac) for p in families for frac in PATH_FRACTIONS]
    if profile == "scaling":
        n_ladder = [(n, 20, 200) for n in (500, 1000, 2000, 4000, 8000)]
        P_ladder = [(1000, 20, P) for P in (100, 200, 500, 1000, 2000)]
        return [teacher("gated", *s) for s in n_ladder + P_ladder if s != (1000, 20, 200)] + [
            teacher("gated", 1000, 20, 200)
        ]
    raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")


# ----------------------------------------------------------------------------------------------------------------------
# Running one method on one problem
# ----------------------------------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------------------------------
# Orchestration
# ----------------------------------------------------------------------------------------------------------------------


def _run_isolated(
    problem: Problem, method: str, options: dict[str, Any], mem_cap_gb: float = 10.0
) -> tuple[dict[str, Any], list[dict]]:
    """Run one method in a fresh process with a wall-clock limit; ``dnf`` when it is exceeded."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "spec.json"
        out = Path(tmp) / "out.json"
        spec.write_text(
            json.dumps({"problem": asdict(problem), "method": method, "options": options, "mem_cap_gb": mem_cap_gb})
        )
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(options.get("threads", 1)),
            "OPENBLAS_NUM_THREADS": str(options.get("threads", 1)),
            "MKL_NUM_THREADS": str(options.get("threads", 1)),
        }
        cmd = [sys.executable, "-m", "paper_experiments.benchmarks.solvers", "--worker", str(spec), str(out)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(
                cmd, env=env, capture_output=True, text=True, timeout=options.get("time_cap", 300.0) + GRACE_S
            )
        except subprocess.TimeoutExpired:
            row = {
                **asdict(problem),
                "problem": problem.id,
                "method": method,
                "status": "dnf",
                "wall_time": time.perf_counter() - t0,
                "note": f"killed after the time cap + {GRACE_S:.0f} s",
            }
            return row, []
        if proc.returncode != 0 or not out.exists():
            tail = (proc.stderr or "")[-300:]
            row = {
                **asdict(problem),
                "problem": problem.id,
                "method": method,
                "status": "error",
                "wall_time": time.perf_counter() - t0,
                "note": f"worker exit {proc.returncode}: {tail}",
            }
            return row, []
        payload = json.loads(out.read_text())
        return payload["row"], payload["trace"]


def code_hash(root: str | os.PathLike[str] | None = None) -> str:
    """sha256 (first 16 hex digits) over the sources of ``cvxnn_core`` and of this benchmark module.

    Saved results carry it (``config.json``); results of other code are stale and are not read as current.
    """
    import hashlib

    root = Path(root) if root is not None else Path(__file__).resolve().parents[2]
    files = sorted((root / "cvxnn_core").rglob("*.py")) + [root / "paper_experiments" / "benchmarks" / "solvers.py"]
    digest = hashlib.sha256()
    for path in files:
        if "__pycache__" not in path.parts:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cap_budget_s(problems: Sequence[Problem], time_cap: float, methods: Iterable[str] | None = None) -> float:
    """The longest an isolated :func:`run_benchmark` can take: ``time_cap + GRACE_S`` for every (problem, method).

    Every method runs in its own process, killed at ``time_cap + GRACE_S``, so this sum bounds the whole run (the
    chapter ``solver_speed`` derives its wall-clock budget from it instead of guessing one).
    """
    chosen = None if methods is None else set(methods)
    runs = sum(
        1
        for problem in problems
        for method in (GATED_METHODS if problem.kind == "gated" else RELU_METHODS)
        if chosen is None or method in chosen
    )
    return runs * (float(time_cap) + GRACE_S)


def run_benchmark(
    problems: Sequence[Problem],
    methods: Iterable[str] | None = None,
    *,
    tol: float = 1e-6,
    time_cap: float = 300.0,
    epochs: int = 2000,
    n_seeds: int = 5,
    threads: int = 1,
    isolate: bool = True,
    mem_cap_gb: float = 10.0,
    out_dir: str | os.PathLike[str] | None = None,
    log=print,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every applicable method on every problem; return ``(results, traces)`` (and write them to ``out_dir``).

    The machine description (:func:`machine_description`, with the load average after the runs) is attached as
    ``results.attrs["machine"]``.

    Problems of one ladder (same kind and data set) run in the given order; a method that did not finish within
    ``time_cap`` on one of them is skipped on the later (larger) ones. ``isolate`` runs each method in its own
    process (time cap enforced by killing it, peak memory measured per method); otherwise everything runs here
    (no kill, and the memory column is the process's running peak). ``mem_cap_gb`` limits each worker's address
    space; a method that exceeds it is recorded as ``oom``.
    """
    options = {"tol": tol, "time_cap": time_cap, "epochs": epochs, "n_seeds": n_seeds, "threads": threads}
    machine = machine_description(threads=threads)
    rows, traces = [], []
    failed: set[tuple[str, str, str]] = set()
    for problem in problems:
        applicable = GATED_METHODS if problem.kind == "gated" else RELU_METHODS
        for method in [m for m in (methods or applicable) if m in applicable]:
            ladder = (problem.kind, problem.dataset, method)
            if ladder in failed:
                rows.append(
                    {
                        **asdict(problem),
                        "problem": problem.id,
                        "method": method,
                        "status": "skipped",
                        "note": "did not finish on a smaller problem (or a larger beta)",
                    }
                )
                continue
            if isolate:
                row, trace = _run_isolated(problem, method, options, mem_cap_gb)
            else:
                row, trace = run_method(problem, method, **options)
            if row["status"] in ("dnf", "cap", "oom", "error") and method not in ("al",):
                failed.add(ladder)
            rows.append(row)
            traces.extend(trace)
            log(
                f"{problem.id:<40} {method:<14} {row['status']:<14} {row.get('wall_time', math.nan):9.3f} s  "
                f"objective {row.get('objective', math.nan):.10g}"
            )
    machine["load_after"] = os.getloadavg()
    results = add_accuracy_columns(pd.DataFrame(rows), pd.DataFrame(traces))
    traces_df = pd.DataFrame(traces, columns=["problem", "method", "run", "time", "objective"])
    if out_dir is not None:
        config = {"problems": [asdict(p) for p in problems], **options, "code_hash": code_hash()}
        save_results(out_dir, results, traces_df, machine, config)
    results.attrs["machine"] = machine
    return results, traces_df


def add_accuracy_columns(results: pd.DataFrame, traces: pd.DataFrame) -> pd.DataFrame:
    """Add ``reference`` (best final objective of a convex method per problem), ``rel_gap`` and ``time_to_<tol>``."""
    from cvxnn_core.solvers import time_to_accuracy

    results = results.copy()
    if "run" not in traces:
        traces = traces.assign(run=np.nan)
    for col in ("objective", "problem", "method"):
        if col not in results:
            results[col] = np.nan
    convex = results[~results["method"].isin(["adam", "sgd", "gated_decomp", "pyscnn"])]
    reference = convex.groupby("problem")["objective"].min()
    results["reference"] = results["problem"].map(reference)
    results["rel_gap"] = (results["objective"] - results["reference"]) / results["reference"].abs()
    for tol in ACCURACIES:
        col = f"time_to_{tol:.0e}"
        values = []
        for _, row in results.iterrows():
            sub = (
                traces[(traces["problem"] == row["problem"]) & (traces["method"] == row["method"])]
                if len(traces)
                else []
            )
            if len(sub) == 0 or not np.isfinite(row.get("reference", np.nan)):
                values.append(math.inf)
                continue
            runs = sub.groupby(sub["run"].fillna(0) if "run" in sub else np.zeros(len(sub)))
            times = [
                time_to_accuracy(r["time"].to_numpy(), r["objective"].to_numpy(), row["reference"], tol)
                for _, r in runs
            ]
            values.append(float(np.median(times)))  # non-convex: median over seeds
        results[col] = values
    return results


def save_results(out_dir, results: pd.DataFrame, traces: pd.DataFrame, machine: dict, config: dict) -> Path:
    """Write ``results.csv``, ``traces.csv``, ``machine.json`` and ``config.json`` (each atomically)."""
    from cvxnn_core.results import atomic_write_text

    out = Path(out_dir)
    atomic_write_text(out / "results.csv", results.to_csv(index=False))
    atomic_write_text(out / "traces.csv", traces.to_csv(index=False))
    atomic_write_text(out / "machine.json", json.dumps(machine, indent=1, default=str))
    atomic_write_text(out / "config.json", json.dumps(config, indent=1, default=str))
    return out


def load_results(out_dir) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    """``(results, traces, machine)`` saved by :func:`run_benchmark`, or ``None`` if the folder has none."""
    out = Path(out_dir)
    if not (out / "results.csv").exists():
        return None
    return (
        pd.read_csv(out / "results.csv"),
        pd.read_csv(out / "traces.csv"),
        json.loads((out / "machine.json").read_text()),
    )


def saved_code_hash(out_dir) -> str | None:
    """The ``code_hash`` stored in a results folder's ``config.json`` (``None`` when absent)."""
    try:
        return json.loads((Path(out_dir) / "config.json").read_text()).get("code_hash")
    except (OSError, ValueError):
        return None


def stale_folders(parent, current: str | None = None) -> list[str]:
    """Result folders under ``parent`` produced by other code than ``current`` (default: :func:`code_hash`)."""
    parent = Path(parent)
    current = current or code_hash()
    if not parent.exists():
        return []
    return [
        p.name
        for p in sorted(parent.glob("*"))
        if p.is_dir() and (p / "results.csv").exists() and saved_code_hash(p) != current
    ]


def load_all(parent, current: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict] | None:
    """Concatenate the current benchmark folders under ``parent`` (``full``, ``scaling``, ...); ``None`` if none.

    Only folders whose ``code_hash`` equals ``current`` (default: :func:`code_hash` of this code) are read; the
    others are stale (:func:`stale_folders`). Returns ``(results, traces, machines)`` with a ``run_set`` column
    naming the folder, and the machine descriptions by folder.
    """
    parent = Path(parent)
    current = current or code_hash()
    folders = [p for p in sorted(parent.glob("*")) if p.is_dir()] if parent.exists() else []
    found = [(p.name, load_results(p)) for p in folders if saved_code_hash(p) == current]
    found = [(name, got) for name, got in found if got is not None]
    if not found:
        return None
    res = pd.concat([r.assign(run_set=name) for name, (r, _, _) in found], ignore_index=True)
    tr = pd.concat([t.assign(run_set=name) for name, (_, t, _) in found], ignore_index=True)
    return res, tr, {name: m for name, (_, _, m) in found}


def trace_gaps(traces: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Traces with ``rel_gap = (objective - reference) / |reference|`` (reference from ``results``) and labels."""
    ref = results.drop_duplicates("problem").set_index("problem")["reference"]
    out = traces.copy()
    out["reference"] = out["problem"].map(ref)
    out["rel_gap"] = (out["objective"] - out["reference"]) / out["reference"].abs()
    return out[np.isfinite(out["rel_gap"])]


def profile_table(results: pd.DataFrame, accuracies: Sequence[float] = ACCURACIES, points: int = 200) -> pd.DataFrame:
    """Performance profiles per program kind and accuracy: columns ``panel``, ``method``, ``time``, ``fraction``.

    ``fraction`` is the proportion of the kind's problems on which the method reached the accuracy (relative
    objective gap to the best convex objective) by ``time`` (:func:`cvxnn_core.solvers.performance_profile`);
    methods that never ran on a kind (not installed) are left out.
    """
    from cvxnn_core.solvers import performance_profile

    rows = []
    ran = results[~results["status"].isin(["not installed", "not run"])]
    finite = ran[[f"time_to_{a:.0e}" for a in accuracies]].to_numpy(dtype=float)
    finite = finite[np.isfinite(finite)]
    lo = max(float(finite.min()) / 2 if finite.size else 1e-2, 1e-3)
    hi = float(max(ran["wall_time"].max(), finite.max() if finite.size else 1.0)) * 1.5
    grid = np.geomspace(lo, hi, points)
    for kind, sub in ran.groupby("kind", sort=False):
        label = "gated ReLU" if kind == "gated" else "ReLU"
        for acc in accuracies:
            T = sub.pivot_table(index="problem", columns="method", values=f"time_to_{acc:.0e}", aggfunc="min")
            prof = performance_profile(T.to_numpy(dtype=float), grid)
            for m, method in enumerate(T.columns):
                rows.extend(
                    {"panel": f"{label}, gap {acc:.0e}", "method": method, "time": t, "fraction": f}
                    for t, f in zip(grid, prof[:, m], strict=True)
                )
    return pd.DataFrame(rows)


def scaling_table(results: pd.DataFrame, kind: str = "gated") -> pd.DataFrame:
    """Wall times along the ladders of the ``kind`` problems on the teacher data in which only ``n`` or only ``P``
    varies: columns ``axis`` (``"n"`` or ``"P"``), ``x``, ``fixed`` (the other sizes), ``method``, ``wall_time``,
    ``failed`` (did not finish: the time is a lower bound)."""
    sub = results[(results["kind"] == kind) & (results["dataset"] == "teacher") & (results["beta_frac"] == 0.1)]
    sub = sub[~sub["status"].isin(["not installed", "not run", "skipped", "error"])]
    rows = []
    for axis, fixed in (("n", ["d", "P"]), ("P", ["n", "d"])):
        for key, grp in sub.groupby(fixed):
            if grp[axis].nunique() < 3:
                continue
            label = ", ".join(f"{f}={v}" for f, v in zip(fixed, key, strict=True))
            for _, r in grp.iterrows():
                rows.append(
                    {
                        "axis": f"time vs {axis} ({label})",
                        "x": r[axis],
                        "method": r["method"],
                        "wall_time": r["wall_time"],
                        "failed": r["status"] not in ("ok",),
                    }
                )
    return pd.DataFrame(rows, columns=["axis", "x", "method", "wall_time", "failed"])


def path_table(results: pd.DataFrame) -> pd.DataFrame:
    """Time to ``1e-6`` against ``beta / beta_max`` (the regularization-path figure): one row per problem and method.

    Columns ``panel`` (the problem without its ``beta``), ``beta_frac``, ``method``, ``time_to_1e-06`` (where not
    reached: the wall time, a lower bound) and ``failed``. Only problem families run at two or more ``beta``.
    """
    sub = results[~results["status"].isin(["not installed", "not run", "skipped", "error"])].copy()
    sub["panel"] = sub["problem"].str.replace(r"-b\d\.?\d*e[-+]\d+$", "", regex=True)
    sub = sub[sub.groupby("panel")["beta_frac"].transform("nunique") >= 2]
    reached = np.isfinite(sub["time_to_1e-06"].astype(float))
    sub["failed"] = ~reached
    sub["time_to_1e-06"] = np.where(reached, sub["time_to_1e-06"], sub["wall_time"])
    columns = ["panel", "beta_frac", "method", "time_to_1e-06", "failed"]
    return sub[columns].sort_values(["panel", "method", "beta_frac"]).reset_index(drop=True)


def machine_description(threads: int | None = None) -> dict[str, Any]:
    """CPU model, logical cores, memory, load averages, thread settings and package versions."""
    from cvxnn_core.results import run_metadata

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(ln for ln in Path("/proc/meminfo").read_text().splitlines() if ln.startswith("MemTotal"))
        mem_gb = float(mem.split()[1]) / 1024**2
    except (OSError, StopIteration):
        mem_gb = math.nan
    meta = run_metadata()
    return {
        "cpu": cpu,
        "logical_cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "load_before": os.getloadavg(),
        "threads_per_method": threads,
        "platform": platform.platform(),
        "python": meta["python"],
        "git": meta["git"],
        "versions": meta["versions"],
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "note": "shared machine: other processes ran concurrently (see the load averages)",
    }


def target_ratios(results: pd.DataFrame) -> pd.DataFrame:
    """The issue's speed targets, as measured: time of a peer / time of ours to reach ``1e-6``.

    A peer that did not finish contributes its cap as a lower bound (``bound = ">="``). Ours is the certified
    time (the solver stopped because its duality gap reached the tolerance).
    """
    rows = []
    pairs = [
        ("gated", "fista", "clarabel"),
        ("gated", "fista", "scs"),
        ("gated", "fista", "pyscnn"),
        ("gated", "fista", "skglm"),
        ("gated", "fista", "celer"),
        ("relu", "active_set", "clarabel"),
        ("relu", "active_set", "scs"),
        ("relu", "active_set", "pyscnn"),
        ("relu", "active_set", "al"),
    ]
    for problem, sub in results.groupby("problem"):
        kind = sub["kind"].iloc[0]
        by = sub.set_index("method")
        for k, ours, peer in pairs:
            if k != kind or ours not in by.index or peer not in by.index or by.loc[ours, "status"] != "ok":
                continue
            t_ours = float(by.loc[ours, "wall_time"])
            status = by.loc[peer, "status"]
            if status == "ok" and np.isfinite(by.loc[peer, "time_to_1e-06"]):
                rows.append(
                    {
                        "problem": problem,
                        "ours": ours,
                        "peer": peer,
                        "ratio": by.loc[peer, "time_to_1e-06"] / t_ours,
                        "bound": "=",
                        "t_ours": t_ours,
                        "t_peer": by.loc[peer, "time_to_1e-06"],
                    }
                )
            elif status in ("dnf", "cap", "ok"):
                rows.append(
                    {
                        "problem": problem,
                        "ours": ours,
                        "peer": peer,
                        "ratio": by.loc[peer, "wall_time"] / t_ours,
                        "bound": ">=",
                        "t_ours": t_ours,
                        "t_peer": by.loc[peer, "wall_time"],
                    }
                )
    return pd.DataFrame(rows, columns=["problem", "ours", "peer", "ratio", "bound", "t_ours", "t_peer"])


def headline_ratio(results: pd.DataFrame, kind: str, ours: str, peer: str) -> dict[str, Any]:
    """``peer`` time over ``ours`` on the largest ``kind`` problem (by ``n P d``) where ``ours`` finished and ``peer``
    has a result (finished: its time to ``1e-6``; did not finish: its time at the cap, a lower bound).

    Returns ``problem``, ``ratio``, ``bound`` (``"="`` or ``">="``), ``t_ours``, ``t_peer``; ``ratio`` is NaN when no
    problem qualifies.
    """
    ratios = target_ratios(results[results["kind"] == kind])
    ratios = ratios[(ratios["ours"] == ours) & (ratios["peer"] == peer)]
    if ratios.empty:
        return {"problem": None, "ratio": math.nan, "bound": "", "t_ours": math.nan, "t_peer": math.nan}
    size = results.drop_duplicates("problem").set_index("problem")
    size = size["n"] * size["P"] * size["d"]
    best = ratios.assign(size=ratios["problem"].map(size)).sort_values("size").iloc[-1]
    return {k: best[k] for k in ("problem", "ratio", "bound", "t_ours", "t_peer")}


# ----------------------------------------------------------------------------------------------------------------------
# CLI
# ----------------------------------------------------------------------------------------------------------------------


def _worker(spec_path: str, out_path: str) -> int:
    import resource

    spec = json.loads(Path(spec_path).read_text())
    cap = int(spec.get("mem_cap_gb", 10) * 1024**3)
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        row, trace = run_method(Problem(**spec["problem"]), spec["method"], **spec["options"])
    except Exception:  # pragma: no cover - reported to the parent
        traceback.print_exc()
        return 1
    Path(out_path).write_text(json.dumps({"row": row, "trace": trace}, default=float))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paper_experiments.benchmarks.solvers",
        description="Benchmark the convex solvers of cvxnn_core against cvxpy (Clarabel, SCS), pyscnn (if "
        "installed) and Adam/SGD on the same data and patterns; writes CSV/JSON with the machine description.",
    )
    parser.add_argument(
        "--profile",
        default="mid",
        choices=list(PROFILES),
        help="problem set (default: mid); 'full': the size ladder up to (10000, 100, 2000); 'scaling': ladders "
        f"in n and in P; 'path': the small-beta column, beta / beta_max in {PATH_FRACTIONS} (methods {PATH_METHODS} "
        "unless --methods says otherwise)",
    )
    parser.add_argument(
        "--methods",
        default=None,
        help=f"comma-separated subset of {sorted(set(GATED_METHODS + RELU_METHODS))} (default: all)",
    )
    parser.add_argument("--time-cap", type=positive(float, "--time-cap"), default=300.0,
                        help="seconds per method and problem (default 300)")
    parser.add_argument("--tol", type=positive(float, "--tol"), default=1e-6,
                        help="certified relative gap of our solvers (default 1e-6)")
    parser.add_argument("--epochs", type=positive(int, "--epochs"), default=2000,
                        help="Adam/SGD epochs (full batch, default 2000)")
    parser.add_argument("--seeds", type=positive(int, "--seeds"), default=5,
                        help="Adam/SGD seeds per step size (default 5)")
    parser.add_argument("--threads", type=positive(int, "--threads"), default=1,
                        help="torch/BLAS threads per method (default 1)")
    parser.add_argument("--mem-cap-gb", type=positive(float, "--mem-cap-gb"), default=10.0,
                        help="address-space limit per worker (default 10)")
    parser.add_argument("--in-process", action="store_true", help="no worker processes (no kill, no memory)")
    parser.add_argument("--out", default=None, help=f"output folder (default {DEFAULT_OUT}/<profile>)")
    parser.add_argument("--worker", nargs=2, metavar=("SPEC", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return _worker(*args.worker)
    methods = None if args.methods is None else [m.strip() for m in args.methods.split(",") if m.strip()]
    known = sorted(set(GATED_METHODS + RELU_METHODS))
    if methods is not None and (not methods or set(methods) - set(known)):
        parser.error(f"--methods must be a comma-separated subset of {', '.join(known)}, got {args.methods!r}")
    if methods is None and args.profile.startswith("path"):
        methods = list(PATH_METHODS)
    out = args.out or f"{DEFAULT_OUT}/{args.profile}"
    results, _ = run_benchmark(
        profile_problems(args.profile),
        methods,
        tol=args.tol,
        time_cap=args.time_cap,
        epochs=args.epochs,
        n_seeds=args.seeds,
        threads=args.threads,
        isolate=not args.in_process,
        mem_cap_gb=args.mem_cap_gb,
        out_dir=out,
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(target_ratios(results).to_string(index=False))
    print(f"results written to {out}")
    failed = results[results["status"].isin(["error", "oom"])]
    for _, row in failed.iterrows():
        note = str(row.get("note", "")).strip().splitlines() or [""]
        print(f"FAILED {row['problem']} / {row['method']}: {note[0]}", file=sys.stderr)
    if len(results) and not results["status"].isin(["ok", "cap"]).any():
        print("every method failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

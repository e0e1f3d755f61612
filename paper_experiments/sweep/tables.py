"""What the many-data-sets chapter shows of a sweep: solve times, performance profiles, the test-score table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from paper_experiments.sweep.tasks import CONVEX, METHODS


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


def validation_choice(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (data set, method): the finished point of the method's path with the best validation score
    (ties: the larger ``beta``). Only ``valid`` decides; ``test`` is carried along, never looked at."""
    ok = rows[rows["status"].isin(["ok", "unconverged"]) & rows["valid"].notna()]
    ok = ok.sort_values("beta_frac", ascending=False, kind="stable")
    return ok.loc[ok.groupby(["dataset", "method"])["valid"].idxmax()]


def accuracy_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (R^2 for regression) of each method on each data set at the ``beta`` its validation score
    chose (ties: the larger ``beta``); a method with no finished point is NaN."""
    table = validation_choice(rows).pivot(index="dataset", columns="method", values="test")
    return table.reindex(columns=[m for m in METHODS if m in table.columns])


def convex_choice(rows: pd.DataFrame, methods: tuple[str, ...] = CONVEX) -> pd.DataFrame:
    """The convex model of each data set chosen on validation alone: among the ``methods`` (gated and ReLU
    programs), each at its own validation-chosen ``beta``, the one with the best validation score (ties: the first
    of ``methods``). Columns ``method``, ``beta_frac``, ``valid``, ``test``; index: the data set. Choosing between
    the programs by their test score would select on the test data."""
    chosen = validation_choice(rows)
    chosen = chosen[chosen["method"].isin(methods)]
    chosen = chosen.assign(_order=chosen["method"].map({m: i for i, m in enumerate(methods)}))
    chosen = chosen.sort_values("_order", kind="stable")
    pick = chosen.loc[chosen.groupby("dataset")["valid"].idxmax()]
    return pick.set_index("dataset")[["method", "beta_frac", "valid", "test"]]

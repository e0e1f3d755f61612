"""Tables and headline numbers read from the benchmark's results and traces."""

from __future__ import annotations

import math
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from paper_experiments.benchmarks.solvers.problems import ACCURACIES


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

"""Figures of solve times: how programs scale with n, rank and filter size, and bounds against wall time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from cvxnn_core._validation import check_positive_int, check_positive_number
from cvxnn_core.plotting._checks import check_frame, check_keys


def relaxation_time_plot(timing: pd.DataFrame, methods: Mapping[str, str], slopes: Mapping[str, float],
                         n_rank: int) -> Figure:
    """Solve times of the vector-output programs (``timing``: ``sweep`` in ``{"n", "rank"}``, ``method``, ``n``,
    ``rank``, ``patterns``, ``solve time (s)``): against ``n`` at fixed rank (labels with the fitted log-log
    ``slopes``) and against the rank at ``n = n_rank``; ``methods`` maps a method to its label."""
    check_frame(timing, "timing", ["sweep", "method", "n", "rank", "patterns", "solve time (s)"],
                log=["n", "solve time (s)"], finite=["rank", "patterns"], choices={"sweep": ("n", "rank")})
    if set(timing["sweep"]) != {"n", "rank"}:
        raise ValueError("timing needs rows of both sweeps 'n' and 'rank' (one panel each)")
    if not isinstance(methods, Mapping) or not methods:
        raise ValueError("methods is empty (or not a dict); map at least one method of timing['method'] to its label")
    absent = [m for m in methods if m not in set(timing["method"])]
    if absent:
        raise ValueError(f"timing has no rows for method(s) {absent}; methods must name values of timing['method']")
    check_keys(slopes, "slopes", methods, "methods")
    check_positive_int(n_rank, "n_rank")
    fig, (ax_n, ax_r) = plt.subplots(1, 2, figsize=(11, 3.9))
    by_n = timing[timing["sweep"] == "n"]
    for (m, label), marker in zip(methods.items(), "osD", strict=False):
        sub = by_n[by_n["method"] == m]
        ax_n.plot(sub["n"], sub["solve time (s)"], marker=marker, label=f"{label}: slope {slopes[m]:.2f}")
        sub = timing[(timing["sweep"] == "rank") & (timing["method"] == m)]
        ax_r.plot(sub["rank"], sub["solve time (s)"], marker=marker, label=label)
    ns = sorted(by_n["n"].unique())
    ax_n.set(xscale="log", yscale="log", xlabel="samples n (rank 2; patterns P = 2n)", ylabel="solve time (s)",
             title="fixed rank: polynomial in n", xticks=ns, xticklabels=[str(int(k)) for k in ns])
    ax_n.xaxis.set_minor_formatter(NullFormatter())
    for ax in (ax_n, ax_r):
        ax.yaxis.set_minor_formatter(NullFormatter())
    ranks = timing[(timing["sweep"] == "rank") & (timing["method"] == next(iter(methods)))]
    ax_r.set(yscale="log", xlabel=f"rank of X (n = {n_rank})", ylabel="solve time (s)", title="growing rank",
             xticks=ranks["rank"].tolist(),
             xticklabels=[f"{r}\n(P = {p})" for r, p in zip(ranks["rank"], ranks["patterns"], strict=True)])
    ax_n.legend(fontsize="small", loc="lower right")
    fig.tight_layout()
    return fig


def complexity_plot(cost: pd.DataFrame, length: int, n_fixed: int) -> Figure:
    """CNN solve times over the complete patch arrangement (``cost``: ``sweep`` in ``{"n", "h"}``, ``n``, ``h``,
    ``patterns``, ``solve_time``), annotated with the pattern counts: against ``n`` per filter size (signal
    length ``length``) and against ``h`` at ``n = n_fixed``."""
    check_frame(cost, "cost", ["sweep", "n", "h", "patterns", "solve_time"], log=["n", "solve_time"],
                finite=["h", "patterns"], choices={"sweep": ("n", "h")})
    if set(cost["sweep"]) != {"n", "h"}:
        raise ValueError("cost needs rows of both sweeps 'n' and 'h' (one panel each)")
    check_positive_int(length, "length")
    check_positive_int(n_fixed, "n_fixed")
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    by_n = cost[cost["sweep"] == "n"]
    for h, sub in by_n.groupby("h"):
        axes[0].plot(sub["n"], sub["solve_time"], marker="o", label=f"filter size h = {h}")
        for _, r in sub.iterrows():
            axes[0].annotate(f"P={r['patterns']}", (r["n"], r["solve_time"]), fontsize="x-small",
                             textcoords="offset points", xytext=(3, 4 if h > 2 else -11))
    ns = sorted(by_n["n"].unique())
    axes[0].set(xscale="log", yscale="log", xlabel="number of signals n", ylabel="solve time (s)",
                title=f"complete arrangement, L = {length}")
    axes[0].set_xticks(ns, [str(int(k)) for k in ns])
    axes[0].minorticks_off()
    axes[0].legend(fontsize="small")
    sub = cost[cost["sweep"] == "h"]
    axes[1].plot(sub["h"], sub["solve_time"], marker="o", color="C2")
    for _, r in sub.iterrows():
        axes[1].annotate(f"P={r['patterns']}", (r["h"], r["solve_time"]), fontsize="x-small",
                         textcoords="offset points", xytext=(3, 4))
    axes[1].set(yscale="log", xlabel="filter size h", ylabel="solve time (s)", xticks=list(sub["h"]),
                title=f"complete arrangement, n = {n_fixed}, L = {length + 1}")
    fig.tight_layout()
    return fig


def bounds_vs_time_plot(curves: pd.DataFrame, optimum: float, full_time: float,
                        gradient_colours: Sequence[str] = ("C0", "C9", "C2", "C4", "C5", "C7")) -> Figure:
    """Objective and relative distance to the optimum against wall time (``curves``: ``method``, ``seed``,
    ``time``, ``objective``, ``distance to optimum``): the cutting plane's two bounds in bold, gradient methods
    thin, with the full program's optimum and its solve time ``full_time``."""
    check_frame(curves, "curves", ["method", "seed", "time", "objective", "distance to optimum"],
                log=["time", "objective"], finite=["distance to optimum"])
    check_positive_number(optimum, "optimum")
    check_positive_number(full_time, "full_time")
    if len(gradient_colours) == 0:
        raise ValueError("gradient_colours must hold at least one colour")
    cutting = ("cutting plane: upper bound", "cutting plane: lower bound")
    odd = [m for m in curves["method"].unique()
           if not isinstance(m, str) or (m.startswith("cutting") and m not in cutting)]
    if odd:
        raise ValueError(f"curves['method'] must be names (str); those starting with 'cutting' must be one of "
                         f"{cutting}, got {odd[:5]}")
    gradient = [m for m in curves["method"].unique() if not m.startswith("cutting")]
    styles = {m: {"color": c, "lw": 0.9} for m, c in zip(gradient, list(gradient_colours) * 4, strict=False)}
    styles["cutting plane: upper bound"] = {"color": "C3", "lw": 2.4}
    styles["cutting plane: lower bound"] = {"color": "C3", "lw": 2.4, "ls": "--"}
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.0), sharex=True)
    for method, sub in curves.groupby("method", sort=False):
        for j, (_, run) in enumerate(sub.groupby("seed")):
            for ax, col in zip(axes, ("objective", "distance to optimum"), strict=True):
                ax.plot(run["time"], run[col], alpha=0.85, label=method if j == 0 else None, **styles[method])
    axes[0].axhline(optimum, color="black", ls=":", lw=1.2, label="full convex program (optimum)")
    for ax in axes:
        ax.axvline(full_time, color="grey", ls="-.", lw=1.0,
                   label="full program solved (enumeration + interior point)" if ax is axes[0] else None)
    axes[0].set(xscale="log", yscale="log", xlabel="wall time (s)", ylabel="training objective")
    axes[1].set(xscale="log", yscale="log", xlabel="wall time (s)", ylabel="|objective - optimum| / optimum")
    fig.tight_layout()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3,
               fontsize="small")
    return fig


def nll_time_plot(summary: pd.DataFrame) -> Figure:
    """Test negative log-likelihood against fitting time, one labelled point per ``model`` (``summary``: ``model``,
    ``time (s)`` ``> 0``, ``test NLL``)."""
    check_frame(summary, "summary", ["model", "time (s)", "test NLL"], log=["time (s)"], finite=["test NLL"])
    fig, ax = plt.subplots(figsize=(6.8, 4.0))
    for _, row in summary.iterrows():
        convex = str(row["model"]).startswith("convex")
        ax.scatter(row["time (s)"], row["test NLL"], marker="s" if convex else "o", s=50,
                   color="tab:blue" if convex else "tab:orange")
        ax.annotate(str(row["model"]), (row["time (s)"], row["test NLL"]), textcoords="offset points", xytext=(5, 4),
                    fontsize="small")
    ax.set(xscale="log", xlabel="fitting time (s)", ylabel="test NLL (nats per image)",
           title="convex programs (squares) and neural models (circles)")
    fig.tight_layout()
    return fig


def accuracy_vs_iterations_plot(scan: pd.DataFrame, reference_accuracy: float) -> Figure:
    """Test accuracy of a solver stopped after ``iterations`` steps (``scan``: ``iterations`` ``> 0``, ``test
    accuracy`` in ``[0, 1]``) against the accuracy of the certified optimum (dashed)."""
    check_frame(scan, "scan", ["iterations", "test accuracy"], log=["iterations"], unit=["test accuracy"])
    reference_accuracy = check_positive_number(reference_accuracy, "reference_accuracy")
    if reference_accuracy > 1:
        raise ValueError(f"reference_accuracy must lie in (0, 1], got {reference_accuracy!r}")
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    ax.plot(scan["iterations"], scan["test accuracy"], marker="o", label="ADMM stopped after k iterations")
    ax.axhline(reference_accuracy, color="black", ls="--", lw=1.2, label="certified optimum")
    ax.set(xscale="log", xlabel="ADMM iterations k", ylabel="test accuracy")
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig

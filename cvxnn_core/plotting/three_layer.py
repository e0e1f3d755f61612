"""Figures of the chapters beyond two layers: arrangement counts, multi-class regions, the low-rank algorithm."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from cvxnn_core._validation import check_positive_number
from cvxnn_core.plotting._checks import check_frame, check_mesh


def arrangement_counts_plot(counts: pd.DataFrame) -> Figure:
    """Counts against ``n`` on a log scale, one line per ``quantity`` (``counts``: ``n``, ``quantity``, ``count``),
    markers at the measured points."""
    check_frame(counts, "counts", ["n", "quantity", "count"], finite=["n"], log=["count"])
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    sns.lineplot(data=counts, x="n", y="count", hue="quantity", style="quantity", markers=True, dashes=False, ax=ax)
    ax.set(yscale="log", xlabel="number of samples n", ylabel="count", xticks=sorted(counts["n"].unique()))
    ax.legend(fontsize="small", loc="upper left")
    fig.tight_layout()
    return fig


def multiclass_regions_plot(grid: pd.DataFrame, points: pd.DataFrame, *, panel_size: float = 3.4) -> Figure:
    """Predicted classes on a grid, one panel per ``model`` (``grid``: ``model``, ``x1``, ``x2``, ``label``), with
    the training points (``points``: ``x1``, ``x2``, ``label``) on every panel; models keep their order."""
    check_frame(grid, "grid", ["model", "x1", "x2", "label"], finite=["x1", "x2", "label"])
    check_frame(points, "points", ["x1", "x2", "label"], finite=["x1", "x2", "label"])
    for name, frame in (("grid", grid), ("points", points)):
        labels = frame["label"].to_numpy(dtype=float)
        if labels.min() < 0 or np.any(labels != np.round(labels)):
            got = sorted(set(labels.tolist()))[:5]
            raise ValueError(f"{name}['label'] must hold class indices 0, 1, ..., got {got}")
    check_positive_number(panel_size, "panel_size")
    models = list(dict.fromkeys(grid["model"]))
    n_classes = int(max(grid["label"].max(), points["label"].max())) + 1
    colours = sns.color_palette("colorblind", n_classes)
    cmap = ListedColormap(colours)
    fig, axes = plt.subplots(1, len(models), figsize=(panel_size * len(models), panel_size + 0.3), squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        S = check_mesh(grid[grid["model"] == model], "label", "grid")
        xx, yy = np.meshgrid(S.columns.to_numpy(), S.index.to_numpy())
        ax.contourf(xx, yy, S.to_numpy(), levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.35)
        for c in range(n_classes):
            sel = points[points["label"] == c]
            ax.scatter(sel["x1"], sel["x2"], s=12, color=colours[c], edgecolors="black", linewidths=0.3)
        ax.set(xticks=[], yticks=[], title=str(model))
        ax.title.set_fontsize("small")
        ax.grid(False)
    fig.tight_layout()
    return fig


def low_rank_plot(table: pd.DataFrame) -> Figure:
    """The low-rank algorithm against ``n`` per rank (``table``: ``n``, ``rank``, ``ratio`` = ``p_r / p*``,
    ``patterns``, ``time``): the objective ratio and the total time (enumeration and solve)."""
    check_frame(table, "table", ["n", "rank", "ratio", "patterns", "time"], finite=["n"], log=["ratio", "time"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8))
    table = table.assign(rank=table["rank"].astype(str))
    sns.lineplot(data=table, x="n", y="ratio", hue="rank", style="rank", markers=True, dashes=False, ax=axes[0])
    axes[0].axhline(1.0, color="black", ls="--", lw=1)
    axes[0].set(yscale="log", xlabel="number of samples n", ylabel="$p_r / p^*$ (on the true X)",
                title="objective of the low-rank network")
    sns.lineplot(data=table, x="n", y="time", hue="rank", style="rank", markers=True, dashes=False, ax=axes[1])
    axes[1].set(yscale="log", xlabel="number of samples n", ylabel="time (s)", title="enumeration + solve")
    for ax in axes:
        ax.set_xticks(sorted(table["n"].unique()))
        ax.legend(title="rank r", fontsize="small")
    fig.tight_layout()
    return fig


def block_spectra_plot(spectra: pd.DataFrame) -> Figure:
    """``|F b|`` of the active blocks of a circular program, one line per block (``spectra``: ``block``,
    ``frequency``, ``magnitude``, ``program``), one panel per program."""
    check_frame(spectra, "spectra", ["block", "frequency", "magnitude", "program"], finite=["frequency", "magnitude"])
    programs = list(dict.fromkeys(spectra["program"]))
    fig, axes = plt.subplots(1, len(programs), figsize=(5.2 * len(programs), 3.6), sharey=True, squeeze=False)
    for ax, prog in zip(axes[0], programs, strict=True):
        sub = spectra[spectra["program"] == prog]
        for _, s in sub.groupby("block"):
            ax.plot(s["frequency"], s["magnitude"], marker="o", lw=0.8, alpha=0.7)
        ax.set(title=prog, xlabel="DFT frequency", ylabel="|F b| / max", xticks=sorted(sub["frequency"].unique()))
    fig.tight_layout()
    return fig

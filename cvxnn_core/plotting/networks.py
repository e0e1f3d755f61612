"""Figures of the chapters on deeper, wider and convolutional networks: ranks, collapse, lazy training, spectra."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from cvxnn_core._validation import (
    check_int_pair,
    check_positive_int,
    check_positive_number,
)
from cvxnn_core.plotting._checks import check_frame, check_keys


def rank_vs_beta_plot(closed: pd.DataFrame, trained: pd.DataFrame, singular_values: np.ndarray) -> Figure:
    r"""Left: the closed-form rank of ``W1`` against ``beta`` (``closed``: ``beta``, ``rank``) and the trained rank
    (``trained``: ``beta``, ``trained rank``), grey lines at the singular values of ``X^T Y``; right: the trained
    singular values (``trained sv <i>``, dots) against the closed form ``sqrt((s_i - beta)_+)`` (``sv <i>``)."""
    sv = [c for c in getattr(closed, "columns", []) if isinstance(c, str) and c.startswith("sv ")]
    check_frame(closed, "closed", ["beta", "rank", *sv], finite=["beta", "rank", *sv])
    check_frame(trained, "trained", ["beta", "trained rank", *(f"trained {c}" for c in sv)], finite=["beta"])
    singular_values = np.asarray(singular_values, dtype=float)
    if singular_values.ndim != 1 or not np.all(np.isfinite(singular_values)):
        raise ValueError(
            f"singular_values must be a finite 1-D array (those of X^T Y), got shape {singular_values.shape}"
        )
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    ax.step(closed["beta"], closed["rank"], where="post", color="black", lw=1.4, label="closed form")
    ax.plot(trained["beta"], trained["trained rank"], "o", ms=6, mfc="none", mew=1.6, label="gradient descent")
    for s in singular_values:
        ax.axvline(s, color="0.8", lw=0.8, zorder=0)
    ax.set(xlabel=r"weight decay $\beta$", ylabel=r"rank of $W_1$", title=r"rank drops at each $\sigma_i(X^\top Y)$")
    ax.legend()
    columns = [c for c in closed.columns if c.startswith("sv ")]
    for column, colour in zip(columns, sns.color_palette("viridis", len(columns)), strict=True):
        bx.plot(closed["beta"], closed[column], color=colour, lw=1)
        bx.plot(trained["beta"], trained[f"trained {column}"], "o", ms=4, color=colour)
    bx.set(xlabel=r"weight decay $\beta$", ylabel=r"singular values of $W_1$",
           title=r"trained (dots) vs $\sqrt{(s_i-\beta)_+}$ (lines)")
    fig.tight_layout()
    return fig


def neural_collapse_plot(history: pd.DataFrame, cosines: pd.DataFrame, n_classes: int, tolerance: float) -> Figure:
    """The collapse metrics along training (``history``: ``epoch``, ``nc1``, ``nc3``, ``nc2_*``, ``nc4``,
    ``train_accuracy``) and the pairwise cosines of the centred class means per stage (``cosines``: ``stage``,
    ``cosine``) against the simplex ETF value ``-1/(C-1)``; ``tolerance`` is the NC2 claim's."""
    nc = ["nc1", "nc3", "nc2_norm_spread", "nc2_cos_std", "nc2_cos_max_dev"]
    check_frame(history, "history", ["epoch", *nc, "nc4", "train_accuracy"], finite=["epoch", *nc],
                unit=["nc4", "train_accuracy"])
    check_frame(cosines, "cosines", ["stage", "cosine"], finite=["cosine"])
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    check_positive_number(tolerance, "tolerance")
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5))
    x, epochs = history["epoch"], history["epoch"].max()
    ax = axes[0, 0]
    ax.plot(x, history["nc1"], lw=1.8, label="NC1: tr$(\\Sigma_W\\Sigma_B^+)/C$")
    ax.plot(x, history["nc3"], lw=1.8, label="NC3: $\\|W/\\|W\\| - M/\\|M\\|\\|$")
    ax.set(xscale="symlog", yscale="log", xlim=(0, epochs), xlabel="epoch", title="NC1 and NC3 (0 at collapse)")
    ax.legend(fontsize="small")
    bx = axes[0, 1]
    bx.plot(x, history["nc2_norm_spread"], lw=1.8, label="std/mean of class-mean norms")
    bx.plot(x, history["nc2_cos_std"], lw=1.8, label="std of pairwise cosines")
    bx.plot(x, history["nc2_cos_max_dev"], lw=1.8, label=f"max |cos + 1/{n_classes - 1}|")
    bx.axhline(tolerance, color="black", ls=":", lw=1, label="claim tolerance")
    bx.set(xscale="symlog", yscale="log", xlim=(0, epochs), xlabel="epoch", title="NC2: distance to a simplex ETF")
    bx.legend(fontsize="small")
    cx = axes[1, 0]
    cx.plot(x, history["nc4"], lw=1.8, label="NC4: agreement with nearest class mean")
    cx.plot(x, history["train_accuracy"], lw=1.8, ls="--", label="training accuracy")
    cx.set(xscale="symlog", xlim=(0, epochs), ylim=(0, 1.05), xlabel="epoch", title="NC4 (1 at collapse)")
    cx.legend(fontsize="small", loc="lower right")
    dx = axes[1, 1]
    sns.stripplot(data=cosines, x="stage", y="cosine", hue="stage", legend=False, jitter=0.25, size=4, ax=dx)
    dx.axhline(-1 / (n_classes - 1), color="black", ls="--", lw=1, label="simplex ETF: $-1/(C-1)$")
    dx.set(xlabel="", ylabel="cosine", title="pairwise cosines of the centred class means")
    dx.legend(fontsize="small", loc="upper right")
    fig.tight_layout()
    return fig


def distance_vs_width_plot(lazy: pd.DataFrame, rich: pd.DataFrame, rich_width: int, ntk_to_convex: float) -> Figure:
    r"""Left: sup distances of lazy networks (``lazy``: ``width``, ``seed``, ``to NTK predictor``, ``to convex
    network``; dots per seed, medians as lines) and of rich networks (``rich``: ``to convex network``) with the
    NTK-to-convex distance and a slope ``-1/2`` reference; right: relative weight movement ``relative movement``."""
    dist = ["to NTK predictor", "to convex network", "relative movement"]
    check_frame(lazy, "lazy", ["width", "seed", *dist], log=["width"], finite=dist)
    check_frame(rich, "rich", ["to convex network"], finite=["to convex network"])
    check_positive_int(rich_width, "rich_width")
    check_positive_number(ntk_to_convex, "ntk_to_convex")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    med = lazy.groupby("width")[["to NTK predictor", "to convex network"]].median()
    m_max = med.index.max()
    for name, marker in zip(("to NTK predictor", "to convex network"), "os", strict=True):
        line = ax.plot(med.index, med[name], marker=marker, label=f"lazy net {name}")[0]
        ax.scatter(lazy["width"], lazy[name], color=line.get_color(), alpha=0.4, s=14)
    ax.axhline(ntk_to_convex, color="black", ls="--", lw=1, label="NTK predictor to convex network")
    ax.scatter(np.full(len(rich), rich_width), rich["to convex network"], marker="*", s=90, color="tab:green",
               zorder=5, label=f"rich Adam (width {rich_width}) to convex network")
    ax.plot(med.index, med["to NTK predictor"].iloc[-1] * (med.index / m_max) ** -0.5, color="0.5", lw=1, ls=":",
            label=r"slope $-1/2$")
    ax.set(xscale="log", yscale="log", xlabel="width m", ylabel="sup distance on the grid")
    ax.legend(fontsize="x-small")
    ax2.scatter(lazy["width"], lazy["relative movement"], color="tab:purple", s=16)
    mv = lazy.groupby("width")["relative movement"].median()
    ax2.plot(mv.index, mv.iloc[-1] * (mv.index / m_max) ** -0.5, color="0.5", ls=":", label=r"slope $-1/2$")
    ax2.set(xscale="log", yscale="log", xlabel="width m", ylabel=r"$\|\theta - \theta_0\| / \|\theta_0\|$",
            title="weights move less as width grows (lazy)")
    ax2.legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def predictor_surfaces_plot(grid: pd.DataFrame, points: pd.DataFrame, shape: tuple[int, int],
                            limit: float = 1.6) -> Figure:
    """One filled contour panel per predictor column of ``grid`` (``x1``, ``x2`` on a ``shape`` mesh, then one
    column per predictor), clipped to ``[-limit, limit]``, with the labelled ``points`` (``x1``, ``x2``, ``y``)."""
    check_frame(grid, "grid", ["x1", "x2"])
    names = [c for c in grid.columns if c not in ("x1", "x2")]
    if not names:
        raise ValueError("grid has no predictor column besides x1, x2; add one column of predictions per predictor")
    check_frame(grid, "grid", [], finite=["x1", "x2", *names])
    check_frame(points, "points", ["x1", "x2", "y"], finite=["x1", "x2"])
    shape = check_int_pair(shape, "shape")
    if len(grid) != shape[0] * shape[1]:
        raise ValueError(
            f"grid has {len(grid)} rows but shape {shape} needs {shape[0] * shape[1]} (one per mesh point)"
        )
    check_positive_number(limit, "limit")
    U1, U2 = grid["x1"].to_numpy().reshape(shape), grid["x2"].to_numpy().reshape(shape)
    levels = np.linspace(-limit, limit, 17)
    fig, axes = plt.subplots(1, len(names), figsize=(13, 4.0), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        f = grid[name].to_numpy()
        cs = ax.contourf(U1, U2, np.clip(f, -limit, limit).reshape(shape), levels=levels, cmap="RdBu_r")
        ax.contour(U1, U2, f.reshape(shape), levels=levels, colors="k", linewidths=0.3)
        for label, face in ((1.0, "black"), (-1.0, "white")):
            pts = points[points["y"] == label]
            ax.scatter(pts["x1"], pts["x2"], c=face, edgecolors="black", s=30, label=f"y = {label:+.0f}")
        ax.set(title=name, xlabel="$x_1$")
        ax.grid(False)
    axes[0, 0].set_ylabel("$x_2$")
    axes[0, 0].legend(loc="lower left", fontsize="x-small", frameon=True)
    fig.colorbar(cs, ax=axes[0].tolist(), shrink=0.9, label="prediction")
    return fig


def accuracy_bars(accuracy: pd.DataFrame, ylim: tuple[float, float] = (0.8, 1.0)) -> Figure:
    """Train and test accuracy per model (bars: the range over seeds), one panel per data set (``accuracy``:
    ``data set``, ``model``, ``split``, ``accuracy``)."""
    check_frame(accuracy, "accuracy", ["data set", "model", "split", "accuracy"], unit=["accuracy"])
    if not (isinstance(ylim, tuple | list) and len(ylim) == 2 and float(ylim[0]) < float(ylim[1])):
        raise ValueError(f"ylim must be a pair (low, high) with low < high, got {ylim!r}")
    g = sns.catplot(data=accuracy, x="model", y="accuracy", hue="split", col="data set", kind="bar",
                    errorbar=("pi", 100), height=3.8, aspect=1.25)
    for ax in g.axes.flat:
        ax.set_ylim(*ylim)
        ax.set_xlabel("")
        ax.tick_params(axis="x", rotation=15)
    return g.figure


def spectrum_plot(spectra: pd.DataFrame, titles: Mapping[str, str], styles: Mapping[str, dict], d: int) -> Figure:
    """``|F g|`` against the DFT frequency, one panel per data set (``spectra``: ``data``, ``method``,
    ``frequency``, ``|Fg|``); ``styles`` maps a method to its line style (others: small squares)."""
    check_frame(spectra, "spectra", ["data", "method", "frequency", "|Fg|"], finite=["frequency", "|Fg|"])
    check_keys(titles, "titles", spectra["data"], "spectra['data']")
    check_keys(styles, "styles", [], "spectra['method']")
    check_positive_int(d, "d")
    datasets = list(dict.fromkeys(spectra["data"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(11, 3.8), sharey=True, squeeze=False)
    for ax, data in zip(axes[0], datasets, strict=True):
        for method, s in spectra[spectra["data"] == data].groupby("method", sort=False):
            ax.plot(s["frequency"], s["|Fg|"], label=method,
                    **styles.get(method, dict(marker="s", ls="none", ms=4, color="C0")))
        ax.set(title=titles[data], xlabel="DFT frequency", ylabel="|F g|", xticks=range(0, d, 2))
    axes[0, -1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def objectives_by_width_plot(objectives: pd.DataFrame, *, xlabel: str = "filters (width)") -> Figure:
    """Final training objectives of every run per width (dots by optimizer) against the convex optimum (dashed),
    one log-scale panel per problem (``objectives``: ``problem``, ``width``, ``optimizer``, ``objective``,
    ``optimum``, as from :func:`cvxnn_core.nonconvex.runs_table`); ``xlabel`` names the width axis."""
    check_frame(objectives, "objectives", ["problem", "width", "optimizer", "objective", "optimum"],
                log=["objective", "optimum"])
    problems = list(dict.fromkeys(objectives["problem"]))
    fig, axes = plt.subplots(1, len(problems), figsize=(11, 4), squeeze=False)
    for ax, problem in zip(axes[0], problems, strict=True):
        sub = objectives[objectives["problem"] == problem]
        sns.stripplot(data=sub, x="width", y="objective", hue="optimizer", dodge=True, jitter=0.15, ax=ax)
        ax.axhline(sub["optimum"].iloc[0], color="black", ls="--", lw=1.2, label="convex optimum")
        ax.set(yscale="log", title=problem, xlabel=str(xlabel), ylabel="final training objective")
        ax.get_legend().remove()
    axes[0, -1].legend(*axes[0, 0].get_legend_handles_labels(), loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def train_test_bars(accuracy: pd.DataFrame) -> Figure:
    """Train and test accuracy per model, bars over seeds (``accuracy``: ``model``, ``seed``, ``train``,
    ``test``), the y axis starting 0.1 below the lowest accuracy."""
    check_frame(accuracy, "accuracy", ["model", "seed", "train", "test"], unit=["train", "test"])
    long = accuracy.melt(id_vars=["model", "seed"], value_vars=["train", "test"], var_name="split",
                         value_name="accuracy")
    fig, ax = plt.subplots(figsize=(9, 3.8))
    sns.barplot(data=long, x="model", y="accuracy", hue="split", errorbar=("pi", 100), ax=ax)
    ax.set(xlabel="", ylim=(max(0.0, long["accuracy"].min() - 0.1), 1.0))
    ax.tick_params(axis="x", rotation=20)
    return fig


def confusion_plot(confusion: pd.DataFrame, title: str) -> Figure:
    """A confusion matrix (rows: true class, columns: predicted) as an annotated heatmap."""
    counts = np.asarray(confusion)
    if counts.ndim != 2 or counts.size == 0 or not np.issubdtype(counts.dtype, np.integer) or counts.min() < 0:
        raise ValueError("confusion must be a non-empty 2-D table of non-negative integer counts (rows: true class, "
                         f"columns: predicted), got dtype {counts.dtype}, shape {counts.shape}")
    fig, ax = plt.subplots(figsize=(5.2, 4.4))
    sns.heatmap(confusion, annot=True, fmt="d", cbar=False, cmap="Blues", ax=ax)
    ax.set_title(title, fontsize="small")
    return fig


def filters_plot(table: pd.DataFrame, planted: np.ndarray, shape: tuple[int, int]) -> Figure:
    """The planted filters, then each model's strongest filters (``table``: ``model``, ``objective``, ``strength``,
    ``sign``, ``best cosine to planted``, ``u0 ...``, from :func:`cvxnn_core.cnn.filter_alignment`), one row per
    model, titled with sign, strength and best cosine to a planted filter."""
    from cvxnn_core.plotting.base import image_rows

    check_frame(table, "table", ["model", "objective", "strength", "sign", "best cosine to planted"])
    units = [c for c in table.columns if c.startswith("u") and c[1:].isdigit()]
    h, w = check_int_pair(shape, "shape")
    if len(units) != h * w:
        raise ValueError(f"table has {len(units)} filter columns (u0, u1, ...) but shape {(h, w)} needs {h * w}")
    planted = np.asarray(planted, dtype=float)
    if planted.ndim == 3 and planted.shape[1:] == (h, w):  # (k, h, w) filters, as planted_filters returns them
        planted = planted.reshape(len(planted), h * w)
    if planted.ndim != 2 or planted.shape[1] != h * w:
        raise ValueError(f"planted must have shape (k, {h * w}) or (k, {h}, {w}) (one filter per row), got "
                         f"{planted.shape}")
    signs = [1, -1] * len(planted)
    rows = {"planted": [(f"{'+' if a > 0 else '-'} teacher", f) for a, f in zip(signs, planted, strict=False)]}
    for model, sub in table.groupby("model", sort=False):
        rows[f"{model}\n{sub['objective'].iloc[0]:.4f}"] = [
            (f"{'+' if r['sign'] > 0 else '-'} {r['strength']:.2f} | cos {r['best cosine to planted']:.2f}",
             r[units].to_numpy(dtype=float))
            for _, r in sub.iterrows()
        ]
    return image_rows(rows, shape=shape, panel_size=1.5)


def gap_vs_depth_plot(curve: pd.DataFrame) -> Figure:
    """Relative duality gap ``(P - D) / D`` against depth, one line per ``network`` (``curve``: ``L``, ``network``,
    ``gap``); closed-form curves as lines, trained networks as markers."""
    check_frame(curve, "curve", ["L", "network", "gap"], finite=["L", "gap"])
    fig, ax = plt.subplots(figsize=(6.8, 4.0))
    for k, (name, sub) in enumerate(curve.groupby("network", sort=False)):
        style = dict(marker="o", lw=1.6) if "closed form" in str(name) else dict(marker="sx^v"[k % 4], ls="none", ms=8)
        ax.plot(sub["L"], sub["gap"], label=name, **style)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set(xlabel="depth L", ylabel="relative duality gap (P - D) / D", xticks=sorted(curve["L"].unique()))
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def singular_values_vs_beta_plot(svs: pd.DataFrame) -> Figure:
    """Singular values of the optimal end-to-end map against ``beta``, one panel per depth (``svs``: ``L``, ``beta``,
    ``index``, ``singular value``, ``source`` in ``{"closed form", "trained"}``): lines for the closed form, dots for
    trained networks."""
    check_frame(svs, "svs", ["L", "beta", "index", "singular value", "source"], log=["beta"],
                finite=["index", "singular value"], choices={"source": ("closed form", "trained")})
    if not (np.issubdtype(svs["index"].dtype, np.integer) and svs["index"].min() >= 1):
        raise ValueError(f"svs['index'] must hold integers >= 1 (the 1-based index of a singular value), got "
                         f"{sorted(svs['index'].unique().tolist())[:5]}")
    depths = sorted(svs["L"].unique())
    fig, axes = plt.subplots(1, len(depths), figsize=(4.0 * len(depths), 3.6), sharey=True, squeeze=False)
    colours = sns.color_palette("viridis", int(svs["index"].max()))
    for ax, L in zip(axes[0], depths, strict=True):
        sub = svs[svs["L"] == L]
        for i, s in sub[sub["source"] == "closed form"].groupby("index"):
            ax.plot(s["beta"], s["singular value"], color=colours[i - 1], lw=1.4)
        dots = sub[sub["source"] == "trained"]
        ax.scatter(dots["beta"], dots["singular value"], c=[colours[i - 1] for i in dots["index"]], s=18, zorder=3)
        ax.set(xscale="log", xlabel=r"weight decay $\beta$", title=f"L = {L}")
    axes[0, 0].set_ylabel("singular values of $W_1\\cdots W_L$")
    fig.tight_layout()
    return fig


def optimal_set_plot(curves: pd.DataFrame, points: pd.DataFrame, weights: pd.DataFrame) -> Figure:
    """Left: the functions of several optimal networks on a 1-D grid (``curves``: ``network``, ``x``, ``f``) over the
    data (``points``: ``x``, ``y``); right: their output-weight masses ``alpha`` per neuron (``weights``: ``network``,
    ``neuron``, ``alpha``), one row per network."""
    check_frame(curves, "curves", ["network", "x", "f"], finite=["x", "f"])
    check_frame(points, "points", ["x", "y"], finite=["x", "y"])
    check_frame(weights, "weights", ["network", "neuron", "alpha"], finite=["alpha"])
    unknown = sorted(set(weights["network"]) - set(curves["network"]), key=str)
    if unknown:
        raise ValueError(f"weights['network'] names networks not in curves: {unknown[:5]}")
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.5, 4.0), gridspec_kw={"width_ratios": [1, 1.2]})
    names = list(dict.fromkeys(curves["network"]))
    styles = ["-", "--", ":", "-."]
    for k, name in enumerate(names):
        sub = curves[curves["network"] == name]
        ax.plot(sub["x"], sub["f"], ls=styles[k % len(styles)], lw=2.2 - 0.3 * (k % 4), label=name)
    ax.scatter(points["x"], points["y"], color="black", zorder=3, s=22, label="data")
    ax.set(xlabel="x", ylabel="f(x)", title="optimal networks: their functions")
    ax.legend(fontsize="x-small")
    M = weights.pivot_table(index="network", columns="neuron", values="alpha", sort=False).reindex(names)
    sns.heatmap(M, ax=bx, cmap="rocket_r", cbar_kws={"label": r"$\alpha_j$ (neuron norm$^2$)"}, linewidths=0.5)
    bx.set(title="optimal networks: their neurons", xlabel="neuron (kink, direction, output sign)", ylabel="")
    bx.tick_params(axis="x", labelsize="x-small", rotation=60)
    bx.tick_params(axis="y", labelsize="x-small")
    fig.tight_layout()
    return fig


def stationary_points_plot(table: pd.DataFrame) -> Figure:
    """End points of training against the certified optimum, one column of dots per width (``table``: ``width``,
    ``relative excess``, ``at subsampled optimum``): the relative excess ``(objective - p*) / p*`` (symlog axis)."""
    check_frame(table, "table", ["width", "relative excess", "at subsampled optimum"], finite=["relative excess"])
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    sns.stripplot(data=table, x="width", y="relative excess", hue="at subsampled optimum", jitter=0.2, size=6, ax=ax)
    ax.set_yscale("symlog", linthresh=1e-6)
    ax.set_ylim(bottom=-1e-6)
    ax.axhline(0.0, color="black", ls="--", lw=1.2, label="certified optimum")
    ax.set(xlabel="width m", ylabel="(objective - p*) / p*", title="end points of training")
    ax.legend(fontsize="small", title="optimal for its own\nsubsampled program", title_fontsize="small")
    fig.tight_layout()
    return fig


def rank_vs_fraction_plot(ranks: pd.DataFrame) -> Figure:
    """Rank of the optimal lifted matrix against ``beta / beta_max``, one line per ``block`` (``ranks``: ``block``,
    ``beta / beta_max``, ``rank``)."""
    check_frame(ranks, "ranks", ["block", "beta / beta_max", "rank"], log=["beta / beta_max"], finite=["rank"])
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for name, sub in ranks.groupby("block", sort=False):
        ax.step(sub["beta / beta_max"], sub["rank"], where="post", marker="o", label=name)
    ax.set(xscale="log", xlabel=r"$\beta/\beta_{\max}$", ylabel="rank of the optimal Z (heads)")
    ax.legend()
    fig.tight_layout()
    return fig


def clustering_plot(summary: pd.DataFrame) -> Figure:
    """Balanced accuracy of attention masks as detectors of same-cluster token pairs, by ``source`` (``summary``:
    ``source``, ``balanced accuracy``); chance at 0.5."""
    check_frame(summary, "summary", ["source", "balanced accuracy"], unit=["balanced accuracy"])
    fig, ax = plt.subplots(figsize=(7.0, 3.6))
    sns.stripplot(data=summary, y="source", x="balanced accuracy", hue="source", size=7, jitter=0.15, legend=False,
                  ax=ax)
    ax.axvline(0.5, color="grey", ls=":", lw=1.2)
    ax.set(ylabel="", xlim=(0, 1.02), title="masks as same-cluster detectors (0.5 = chance)")
    fig.tight_layout()
    return fig


def head_accuracy_plot(transfer: pd.DataFrame) -> Figure:
    """Test accuracy of each head over the splits (``transfer``: ``split``, ``head``, ``test accuracy``)."""
    check_frame(transfer, "transfer", ["split", "head", "test accuracy"], unit=["test accuracy"])
    order = transfer.groupby("head")["test accuracy"].mean().sort_values().index.tolist()
    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    sns.barplot(data=transfer, y="head", x="test accuracy", order=order, errorbar=("pi", 100), ax=ax, color="C0")
    sns.stripplot(data=transfer, y="head", x="test accuracy", order=order, color="black", size=4, ax=ax)
    ax.set(ylabel="", xlim=(0.5, 1.0), title="heads on frozen digit tokens (bars: mean; dots: splits)")
    fig.tight_layout()
    return fig


def eigen_spectrum_plot(spectrum: pd.DataFrame) -> Figure:
    """Eigenvalues of second moments against their index, one line per ``beta`` label (``spectrum``: ``beta``,
    ``index``, ``eigenvalue``); zeros are drawn at the bottom of the log axis."""
    check_frame(spectrum, "spectrum", ["beta", "index", "eigenvalue"], finite=["index", "eigenvalue"])
    if not (spectrum["eigenvalue"] > 0).any():
        raise ValueError("spectrum['eigenvalue'] has no positive value; nothing to draw on the log axis")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    floor = spectrum.loc[spectrum["eigenvalue"] > 0, "eigenvalue"].min() / 3
    for name, sub in spectrum.groupby("beta", sort=False):
        ax.plot(sub["index"], np.maximum(sub["eigenvalue"], floor), marker="o", ms=3, lw=1.2, label=name,
                color="black" if name == "data" else None)
    ax.set(yscale="log", xlabel="eigenvalue index", ylabel="eigenvalue of the second moment", ylim=(floor * 0.8, None))
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig


def gda_plot(curves: pd.DataFrame, references: Mapping[str, tuple[float, float]]) -> Figure:
    """Gradient descent-ascent runs (``curves``: ``run``, ``step``, ``generator value``, ``advantage``): the generator's
    weight decay (left) and the discriminator's advantage (right); ``references`` maps a game (a substring of the run
    names, ``"ReLU"`` for ReLU runs, anything else for the rest) to ``(optimal value, beta)``, drawn dashed."""
    check_frame(curves, "curves", ["run", "step", "generator value", "advantage"], log=["step"],
                finite=["generator value", "advantage"])
    if not isinstance(references, Mapping):
        raise TypeError(
            f"references must be a dict mapping a game to (optimal value, beta), got {type(references).__name__}"
        )
    for game, ref in references.items():
        if not isinstance(ref, tuple | list) or len(ref) != 2:
            raise TypeError(f"references[{game!r}] must be a pair (optimal value, beta), got {ref!r}")
        check_positive_number(ref[1], f"references[{game!r}] beta")
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 3.9))
    for k, (name, sub) in enumerate(curves.groupby("run", sort=False)):
        axes[0].plot(sub["step"], sub["generator value"], lw=1.2, label=name, color=f"C{k}")
        axes[1].plot(sub["step"], sub["advantage"], lw=1.2, color=f"C{k}")
    for k, (game, (value, beta)) in enumerate(references.items()):
        axes[0].axhline(value, color="black", ls=["--", ":"][k % 2], lw=1.1, label=f"convex optimum ({game})")
        axes[1].axhline(beta, color="black", ls=["--", ":"][k % 2], lw=1.1, label=f"beta ({game})")
    axes[0].set(xscale="log", xlabel="step", ylabel=r"generator $\|W\|^2/2$")
    axes[1].set(xscale="log", yscale="log", xlabel="step", ylabel="discriminator advantage")
    axes[0].legend(fontsize="x-small")
    axes[1].legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def shattering_plot(table: pd.DataFrame) -> Figure:
    """Relative excess of the constructed three-layer network's objective over the shattered optimum against the
    first layer's width (``table``: ``first width``, ``relative excess``; ``0`` where the layer shatters the data)."""
    check_frame(table, "table", ["first width", "relative excess"], log=["first width"], finite=["relative excess"])
    fig, ax = plt.subplots(figsize=(6.0, 3.6))
    ax.plot(table["first width"], table["relative excess"], marker="o")
    ax.set(xscale="log", yscale="symlog", xlabel="first-layer width m1", ylabel="(objective - optimum) / optimum",
           title="three-layer network built from the shattered program")
    ax.axhline(0.0, color="black", ls="--", lw=1.0)
    fig.tight_layout()
    return fig

"""Figures of the one-dimensional chapter: fits, the minimum-norm limit, kink positions."""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from cvxnn_core._validation import check_beta
from cvxnn_core.plotting._checks import check_frame, check_keys

OPTIMIZER_TITLES = {"sgd": "SGD with momentum", "adam": "Adam"}


def _data_range(ax: Axes, grid: pd.Series, data: pd.DataFrame) -> None:
    """Grey bands outside the data range ``[min x, max x]`` (where the networks extrapolate linearly)."""
    ax.axvspan(grid.min(), data["x"].min(), color="0.93", lw=0)
    ax.axvspan(data["x"].max(), grid.max(), color="0.93", lw=0)


def spline_fit_plot(curves: pd.DataFrame, kinks: pd.DataFrame, beta: float) -> Figure:
    """One panel per optimizer: its trained networks (colour by width) over the two convex optima and the data.

    ``curves`` is tidy: ``x``, ``f``, ``model`` (``"data"``, ``"convex (interior point)"``, ``"ramp Lasso"`` or
    ``"trained"``), ``optimizer``, ``width``, ``seed``; ``kinks``: ``x``, ``f`` of the ramp network's kinks.
    """
    check_frame(curves, "curves", ["x", "f", "model", "optimizer", "width", "seed"], finite=["x"])
    check_frame(kinks, "kinks", ["x", "f"])
    check_beta(beta)
    trained, data = curves[curves["model"] == "trained"], curves[curves["model"] == "data"]
    for what, sub in (("trained", trained), ("data", data)):
        if sub.empty:
            raise ValueError(f"curves has no rows with model == {what!r}; the figure draws the trained networks over "
                             "the data")
    check_frame(trained, "curves", ["width"], finite=["width", "f"])
    widths = sorted(int(m) for m in trained["width"].unique())
    optimizers = list(dict.fromkeys(trained["optimizer"]))
    colours = dict(zip(widths, itertools.cycle(plt.rcParams["axes.prop_cycle"].by_key()["color"][2:])))
    fig, axes = plt.subplots(1, len(optimizers), figsize=(11, 4.2), sharey=True, squeeze=False)
    for ax, opt in zip(axes[0], optimizers, strict=True):
        for (m, _), run in trained[trained["optimizer"] == opt].groupby(["width", "seed"], sort=False):
            ax.plot(run["x"], run["f"], color=colours[int(m)], lw=0.9, alpha=0.7)
        for m in widths:
            ax.plot([], [], color=colours[m], label=f"{opt}, width {m}")
        for model, kw in (("convex (interior point)", dict(color="black", lw=2.2, label="convex optimum (interior "
                                                                "point)")),
                          ("ramp Lasso", dict(color="C1", lw=1.4, ls="--", label="convex optimum (ramp Lasso)"))):
            sub = curves[curves["model"] == model]
            ax.plot(sub["x"], sub["f"], **kw)
        ax.plot(kinks["x"], kinks["f"], "v", color="C1", ms=6, label="kinks of the ramp network")
        ax.scatter(data["x"], data["f"], color="C0", zorder=5, s=22, label="data")
        _data_range(ax, curves["x"], data)
        ax.set(xlabel="x", title=f"{OPTIMIZER_TITLES.get(opt, opt)}, beta = {beta:g}")
        ax.legend(fontsize="x-small", loc="upper left")
    axes[0, 0].set_ylabel("f(x)")
    fig.tight_layout()
    return fig


def min_norm_limit_plot(limit: pd.DataFrame, curves: pd.DataFrame) -> Figure:
    """Left: the sup distance to the minimum-norm spline against ``beta`` (``limit``: ``beta``, ``ramp network``,
    ``interior-point network``) with a slope-1 reference; right: ``curves`` (``x``, ``f``, ``model``: ``"data"``,
    ``"min-norm interpolating spline"`` and one model per ``beta``) approaching the spline."""
    check_frame(limit, "limit", ["beta", "ramp network", "interior-point network"],
                log=["beta", "ramp network", "interior-point network"])
    check_frame(curves, "curves", ["x", "f", "model"], finite=["x"])
    if not (curves["model"] == "data").any():
        raise ValueError("curves has no rows with model == 'data'")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.0))
    ax.loglog(limit["beta"], limit["ramp network"], "o-", label="ramp-Lasso network (kinks at data)")
    ax.loglog(limit["beta"], limit["interior-point network"], "s--", ms=4, label="interior-point network")
    ref = limit.tail(5)
    ax.loglog(ref["beta"], 0.5 * ref["ramp network"].iloc[-1] * ref["beta"] / ref["beta"].iloc[-1], ":",
              color="0.3", lw=1.5, label="slope 1 (reference)")
    ax.set(xlabel="beta", ylabel="sup distance to the spline on [x_1, x_n]", title="distance to the min-norm spline")
    ax.legend(fontsize="small")
    data = curves[curves["model"] == "data"]
    for model, sub in curves[curves["model"] != "data"].groupby("model", sort=False):
        spline = model.startswith("min-norm")
        ax2.plot(sub["x"], sub["f"], color="black" if spline else None, lw=2 if spline else 1.1, label=model)
    ax2.scatter(data["x"], data["f"], color="C0", zorder=5, s=18, label="data")
    _data_range(ax2, curves["x"], data)
    ax2.set(xlabel="x", ylabel="f(x)", title="networks approaching the spline")
    ax2.legend(fontsize="x-small")
    fig.tight_layout()
    return fig


def kink_positions_plot(curves: pd.DataFrame, kinks: pd.DataFrame, beta: float, styles: Mapping[str, dict]) -> Figure:
    """Top: the optimal networks of ``curves`` (``x``, ``f``, ``model``; ``"data"`` drawn as points) at ``beta``;
    bottom: the kinks (``kinks``: ``beta``, ``bias``, ``kink``) of each bias treatment, one row per ``beta``, over
    grey lines at the data points. ``styles`` maps a bias treatment to its colour and label."""
    check_frame(curves, "curves", ["x", "f", "model"], finite=["x"])
    check_frame(kinks, "kinks", ["beta", "bias", "kink"], finite=["kink"])
    check_beta(beta)
    check_keys(styles, "styles", [*curves.loc[curves["model"] != "data", "model"], *kinks["bias"]],
               "curves['model'] and kinks['bias']")
    if len(styles) != 2:
        raise ValueError(
            f"styles must map exactly two bias treatments (drawn above and below each row), got {len(styles)}"
        )
    for key, st in styles.items():
        lacking = [k for k in ("color", "label", "marker") if k not in st]
        if lacking:
            raise ValueError(f"styles[{key!r}] lacks key(s) {lacking}; each style needs color, label and marker")
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(9, 7), height_ratios=[1.1, 1], sharex=True)
    data = curves[curves["model"] == "data"]
    for model, sub in curves[curves["model"] != "data"].groupby("model", sort=False):
        ax.plot(sub["x"], sub["f"], color=styles[model]["color"], lw=1.6, label=styles[model]["label"])
    ax.scatter(data["x"], data["f"], color="C0", zorder=5, s=18, label="data")
    ax.set(ylabel="f(x)", title=f"optimal networks, beta = {beta:g}")
    ax.legend(fontsize="small")
    for xi in data["x"]:
        ax2.axvline(xi, color="0.85", lw=0.8, zorder=0)
    betas = sorted(kinks["beta"].unique())
    levels = {b: i for i, b in enumerate(betas)}
    for (bias, st), shift in zip(styles.items(), (0.2, -0.2), strict=True):
        sub = kinks[kinks["bias"] == bias]
        ring = st["marker"] == "o"
        ax2.scatter(sub["kink"], sub["beta"].map(levels) + shift, marker=st["marker"], color=st["color"],
                    s=60 if ring else 90, lw=0.6 if ring else 2.2, alpha=0.85, label=st["label"])
    for i in range(len(levels) - 1):
        ax2.axhline(i + 0.5, color="0.6", lw=0.8)
    ax2.set_yticks(range(len(levels)), [f"beta = {b:g}" for b in betas])
    ax2.tick_params(axis="y", which="both", length=0)
    ax2.grid(False)
    ax2.set(xlabel="x (grey lines: data points)", title="kink positions", xlim=(curves["x"].min(), curves["x"].max()),
            ylim=(-0.5, len(levels) - 0.5))
    ax2.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    fig.tight_layout()
    return fig

"""One shared figure style and one way to save figures.

Every figure of the book is drawn inside :func:`style` and saved with :func:`save_figure`,
which writes ``<figure_id>.png``, ``<figure_id>.svg`` and, when the plotted data are given,
``<figure_id>.csv`` into the chapter's output folder, each atomically. Readers can re-plot
from the CSV without rerunning the chapter. This module draws; it computes nothing.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"), force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from cvxnn_core._validation import (  # noqa: E402
    check_positive_int,
    check_positive_number,
)
from cvxnn_core.plotting._checks import check_frame, check_keys, check_mesh

FIGURE_FORMATS = ("png", "svg")
RC = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 110,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "svg.hashsalt": "cvxnn",  # deterministic SVG ids
}


JITTER_SEED = 0  # seaborn's strip-plot jitter draws from numpy's global generator


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager with the book's seaborn style (whitegrid, notebook context, colorblind palette).

    Inside it numpy's global generator is seeded with :data:`JITTER_SEED` (and restored afterwards), so that
    the jitter of seaborn's strip plots, which draws from it, gives the same figure bytes on every run.
    """
    # seaborn draws jitter from the legacy global generator, so seeding it is the only way (NPY002 is deliberate)
    state = np.random.get_state()  # noqa: NPY002
    np.random.seed(JITTER_SEED)  # noqa: NPY002
    try:
        with sns.axes_style("whitegrid"), sns.plotting_context("notebook"), sns.color_palette("colorblind"):
            with plt.rc_context(RC):
                yield
    finally:
        np.random.set_state(state)  # noqa: NPY002


def _atomic_save(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_figure(
    fig: matplotlib.figure.Figure,
    output_dir: str | os.PathLike[str],
    figure_id: str,
    data: pd.DataFrame | None = None,
) -> list[Path]:
    """Save ``fig`` as ``<output_dir>/<figure_id>.{png,svg}`` and ``data`` as ``<figure_id>.csv``.

    ``figure_id`` must match the registry (``fig_<what>``). Returns the written paths.
    """
    if not isinstance(figure_id, str) or not re.fullmatch(r"fig_[A-Za-z0-9_]+", figure_id):
        raise ValueError(f"figure_id must look like 'fig_<what>' (letters, digits, _), got {figure_id!r}")
    if not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if data is not None and not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame or None, got {type(data).__name__}")
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output_dir {str(out)!r} exists and is not a folder; pass a folder path")
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for fmt in FIGURE_FORMATS:
        path = out / f"{figure_id}.{fmt}"
        _atomic_save(path, lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, metadata=_metadata(fmt)))
        paths.append(path)
    if data is not None:
        path = out / f"{figure_id}.csv"
        _atomic_save(path, lambda tmp: data.to_csv(tmp, index=False))
        paths.append(path)
    return paths


def _metadata(fmt: str) -> dict[str, str | None]:
    """Strip timestamps so that the same figure gives the same bytes."""
    if fmt == "svg":
        return {"Date": None}
    if fmt == "png":
        return {"Software": None}
    return {}


def objective_vs_epoch(
    curves: pd.DataFrame,
    optimum: float,
    *,
    optimum_label: str = "convex optimum",
    col: str = "optimizer",
    hue: str = "width",
) -> matplotlib.figure.Figure:
    """Training curves (one thin line per run, log-log axes) with the optimum as a dashed horizontal line.

    ``curves`` has columns ``epoch``, ``objective``, ``seed``, ``col`` and ``hue``; one panel per value
    of ``col``, one colour per value of ``hue``.
    """
    check_frame(curves, "curves", ["epoch", "objective", "seed", col, hue], log=["epoch", "objective"])
    check_positive_number(optimum, "optimum")
    panels = list(dict.fromkeys(curves[col]))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), sharey=True, squeeze=False)
    palette = dict(zip(sorted(set(curves[hue])), sns.color_palette("colorblind"), strict=False))
    for ax, panel in zip(axes[0], panels, strict=True):
        sub = curves[curves[col] == panel]
        for (h, _seed), run in sub.groupby([hue, "seed"], sort=True):
            ax.plot(run["epoch"], run["objective"], color=palette[h], lw=0.9, alpha=0.75)
        for h, colour in palette.items():
            ax.plot([], [], color=colour, label=f"{hue} {h}")
        ax.axhline(optimum, color="black", ls="--", lw=1.2, label=optimum_label)
        ax.set(xscale="log", yscale="log", xlabel="epoch", ylabel="training objective", title=str(panel))
    axes[0][-1].legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    return fig


def decision_region_grid(
    grid: pd.DataFrame,
    points: pd.DataFrame,
    *,
    row: str = "dataset",
    col: str = "model",
    clip: float = 1.5,
    panel_size: float = 1.9,
) -> matplotlib.figure.Figure:
    """Decision regions of several models on several 2-D data sets, one panel per (``row``, ``col``) pair.

    ``grid`` has columns ``row``, ``col``, ``x1``, ``x2`` and ``score``: each panel's model evaluated on a
    regular grid (:func:`cvxnn_core.interpretation.decision_grid`). ``points`` has columns ``row``, ``x1``,
    ``x2`` and ``label`` (``+-1``): the training data, drawn on every panel of their row. The shading is the
    score clipped to ``[-clip, clip]`` (red positive, blue negative), the black line the decision boundary
    ``score = 0``. Rows and columns keep their order of first appearance.
    """
    check_frame(grid, "grid", [row, col, "x1", "x2", "score"], finite=["x1", "x2", "score"])
    check_frame(points, "points", [row, "x1", "x2", "label"], finite=["x1", "x2"], choices={"label": (-1.0, 1.0)})
    check_positive_number(clip, "clip")
    check_positive_number(panel_size, "panel_size")
    rows = list(dict.fromkeys(grid[row]))
    cols = list(dict.fromkeys(grid[col]))
    fig, axes = plt.subplots(
        len(rows), len(cols), figsize=(panel_size * len(cols), panel_size * len(rows)), squeeze=False
    )
    for i, r in enumerate(rows):
        pts = points[points[row] == r]
        for j, c in enumerate(cols):
            ax = axes[i][j]
            sub = grid[(grid[row] == r) & (grid[col] == c)]
            S = check_mesh(sub, "score", "grid")
            xx, yy = np.meshgrid(S.columns.to_numpy(), S.index.to_numpy())
            vals = np.clip(S.to_numpy(), -clip, clip)
            ax.contourf(xx, yy, vals, levels=np.linspace(-clip, clip, 13), cmap="RdBu_r", alpha=0.55)
            if vals.min() < 0 < vals.max():
                ax.contour(xx, yy, S.to_numpy(), levels=[0.0], colors="black", linewidths=1.0)
            for label, marker, colour in ((1.0, "o", "#b2182b"), (-1.0, "s", "#2166ac")):
                sel = pts[pts["label"] == label]
                ax.scatter(sel["x1"], sel["x2"], s=9, marker=marker, c=colour, edgecolors="white", linewidths=0.4)
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
            if i == 0:
                ax.set_title(str(c), fontsize="x-small")
            if j == 0:
                ax.set_ylabel(str(r), fontsize="small")
    fig.tight_layout()
    return fig


def image_rows(
    rows: dict[str, list[tuple[str, object]]], *, shape: tuple[int, int] = (8, 8), panel_size: float = 1.15
) -> matplotlib.figure.Figure:
    """Rows of small images (e.g. 8x8 digits): ``rows`` maps a row label to ``(title, flat image)`` pairs.

    Images with negative entries (weights) use a diverging map symmetric about 0 (red positive, blue
    negative); non-negative images (class means) use grey levels.
    """
    if not isinstance(rows, dict):
        raise TypeError(f"rows must be a dict mapping a row label to (title, flat image) pairs, got "
                        f"{type(rows).__name__}")
    ncols = max((len(v) for v in rows.values()), default=0)
    if ncols == 0:
        raise ValueError("rows is empty; give at least one row with one (title, flat image) pair")
    h, w = check_positive_int(shape[0], "shape"), check_positive_int(shape[1], "shape")
    for label, items in rows.items():
        for j, item in enumerate(items):
            if not isinstance(item, tuple | list) or len(item) != 2:
                raise TypeError(f"rows[{label!r}][{j}] must be a (title, flat image) pair, got {type(item).__name__}")
            size = np.size(item[1])
            if size != h * w:
                raise ValueError(f"rows[{label!r}][{j}] has {size} values but shape {(h, w)} needs {h * w}")
            if not np.all(np.isfinite(np.asarray(item[1], dtype=float))):
                raise ValueError(f"rows[{label!r}][{j}] contains NaN or inf")
    fig, axes = plt.subplots(
        len(rows), ncols, figsize=(panel_size * ncols + 1.2, panel_size * len(rows) + 0.2), squeeze=False
    )
    for i, (label, items) in enumerate(rows.items()):
        for j in range(ncols):
            ax = axes[i][j]
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j >= len(items):
                ax.axis("off")
                continue
            title, image = items[j]
            img = np.asarray(image, dtype=float).reshape(shape)
            if img.min() < 0:
                vmax = float(np.abs(img).max()) or 1.0
                ax.imshow(img, cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            else:
                ax.imshow(img, cmap="gray_r")
            ax.set_title(title, fontsize="x-small")
            if j == 0:
                ax.set_ylabel(label, fontsize="small")
    fig.tight_layout()
    return fig


def add_reference_lines(
    fig: matplotlib.figure.Figure,
    values: dict[str, float],
    *,
    styles: tuple = (":", "-.", (0, (5, 1, 1, 1))),
    legend_loc: str | None = None,
) -> matplotlib.figure.Figure:
    """Add labelled horizontal lines (e.g. relaxation values next to an optimum) to every panel of ``fig``.

    ``values`` maps a label to a level; line ``k`` uses ``styles[k % len(styles)]`` in grey shades. The
    legend of the last panel is redrawn so that it lists the new lines too: outside the panel on the right by
    default, or inside at ``legend_loc`` (a matplotlib location such as ``"upper right"``). Returns ``fig``.
    """
    if not isinstance(fig, matplotlib.figure.Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not isinstance(values, dict):
        raise TypeError(f"values must be a dict mapping a label to a level, got {type(values).__name__}")
    for label, value in values.items():
        number = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
        if not number or not np.isfinite(value):
            raise ValueError(f"values[{label!r}] must be a finite number, got {value!r}")
    if len(styles) == 0:
        raise ValueError("styles must hold at least one line style, e.g. (':', '-.')")
    greys = ("0.25", "0.45", "0.6")
    for ax in fig.axes:
        for k, (label, value) in enumerate(values.items()):
            ax.axhline(value, color=greys[k % len(greys)], ls=styles[k % len(styles)], lw=1.3, label=label)
    if fig.axes:
        if legend_loc is None:
            fig.axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
        else:
            fig.axes[-1].legend(loc=legend_loc, fontsize="small")
    return fig


def method_palette(methods: list[str]) -> dict[str, object]:
    """One colour per method name (colorblind palette, then tab20), in the given order: pass the same mapping to
    every figure of a page so that a method keeps its colour."""
    if isinstance(methods, str) or not isinstance(methods, list | tuple):
        raise TypeError(f"methods must be a list of method names, got {type(methods).__name__}")
    methods = list(dict.fromkeys(methods))
    if len(methods) > 30:
        raise ValueError(f"method_palette has 30 distinct colours, so at most 30 methods; got {len(methods)}")
    colours = sns.color_palette("colorblind", 10) + sns.color_palette("tab20", 20)
    return dict(zip(methods, colours, strict=False))


def gap_vs_time(
    traces: pd.DataFrame,
    *,
    col: str = "problem",
    hue: str = "method",
    levels: tuple[float, ...] = (1e-3, 1e-6),
    floor: float = 1e-12,
    panel_size: tuple[float, float] = (4.2, 3.4),
    palette: dict[str, object] | None = None,
) -> matplotlib.figure.Figure:
    """Time-to-accuracy curves: relative objective gap against wall time, log-log, one panel per ``col``.

    ``traces`` has columns ``time``, ``rel_gap`` (``(objective - best) / |best|``), ``col``, ``hue`` and optionally
    ``run`` (one thin line per run, e.g. per seed). Gaps below ``floor`` (and negative ones: a non-convex run below
    the restricted convex optimum) are drawn at ``floor``; a method with a single point (an interior-point
    solver) is drawn as a marker. Dotted lines mark ``levels``. ``palette`` maps methods to colours (use one
    palette for all figures of a page; default: the colorblind palette in order of appearance).
    """
    from matplotlib.ticker import NullFormatter

    check_frame(traces, "traces", ["time", "rel_gap", col, hue], log=["time"], finite=["rel_gap"])
    check_positive_number(floor, "floor")
    for level in levels:
        check_positive_number(level, "levels")
    panels = list(dict.fromkeys(traces[col]))
    methods = list(dict.fromkeys(traces[hue]))
    palette = check_keys(palette, "palette", methods, f"traces[{hue!r}]") if palette else method_palette(methods)
    markers = dict(zip(sorted(palette), itertools.cycle("osD^vP*Xph<>")))
    ncol = min(3, len(panels))
    nrow = -(-len(panels) // ncol)
    check_positive_number(panel_size[0], "panel_size"), check_positive_number(panel_size[1], "panel_size")
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(panel_size[0] * ncol, panel_size[1] * nrow), squeeze=False, sharey=True
    )
    for ax, panel in zip(axes.flat, panels, strict=False):
        sub = traces[traces[col] == panel]
        for method, part in sub.groupby(hue, sort=False):
            runs = part.groupby(part["run"].fillna(0)) if "run" in part else [(0, part)]
            for k, (_, run) in enumerate(runs):
                gap = np.maximum(run["rel_gap"].to_numpy(dtype=float), floor)
                t = run["time"].to_numpy(dtype=float)
                label = method if k == 0 else None
                if len(run) == 1:
                    ax.plot(t, gap, ls="none", marker=markers[method], ms=7, color=palette[method], label=label)
                else:
                    ax.plot(
                        t,
                        gap,
                        lw=1.3,
                        alpha=0.85,
                        color=palette[method],
                        label=label,
                        marker=markers[method],
                        markevery=[len(t) - 1],
                        ms=5,
                    )
        for level in levels:
            ax.axhline(level, color="0.5", ls=":", lw=1)
        ax.set(xscale="log", yscale="log", xlabel="wall time (s)", title=str(panel))
        ax.title.set_fontsize("small")
        ax.xaxis.set_minor_formatter(NullFormatter())
    for ax in axes[:, 0]:
        ax.set_ylabel("relative objective gap")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    seen: dict[str, object] = {}  # label -> handle, over all panels
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.1 / nrow))
    fig.legend(
        list(seen.values()),
        list(seen.keys()),
        loc="upper center",
        ncol=min(len(seen), 6),
        bbox_to_anchor=(0.5, 1.0),
        fontsize="small",
    )
    return fig


def performance_profile_plot(
    profile: pd.DataFrame,
    *,
    col: str = "accuracy",
    hue: str = "method",
    ncols: int = 2,
    palette: dict[str, object] | None = None,
) -> matplotlib.figure.Figure:
    """Performance profiles (as in Mishkin et al. 2022, Fig. 4): proportion of problems solved against time.

    ``profile`` has columns ``time``, ``fraction`` (in ``[0, 1]``), ``col`` (one panel each, e.g. the accuracy)
    and ``hue``; drawn as step functions on a log time axis, ``ncols`` panels per row, one legend per row.
    """
    from matplotlib.ticker import NullFormatter

    check_frame(profile, "profile", ["time", "fraction", col, hue], log=["time"], unit=["fraction"])
    panels = list(dict.fromkeys(profile[col]))
    methods = list(dict.fromkeys(profile[hue]))
    palette = check_keys(palette, "palette", methods, f"profile[{hue!r}]") if palette else method_palette(methods)
    ncols = min(check_positive_int(ncols, "ncols"), len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.6 * ncols + 1.6, 3.4 * nrows), squeeze=False, sharey=True)
    for ax, panel in zip(axes.flat, panels, strict=False):
        sub = profile[profile[col] == panel]
        for method, part in sub.groupby(hue, sort=False):
            ax.step(part["time"], part["fraction"], where="post", color=palette[method], lw=1.6, label=method)
        ax.set(xscale="log", ylim=(-0.03, 1.03), xlabel="wall time (s)", title=str(panel))
        ax.xaxis.set_minor_formatter(NullFormatter())  # decades only: minor labels collide on short ranges
        ax.title.set_fontsize("small")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("proportion solved")
        row[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    fig.tight_layout()
    return fig


def scaling_plot(
    data: pd.DataFrame,
    *,
    x: str,
    y: str = "wall_time",
    hue: str = "method",
    col: str | None = None,
    failed: str = "failed",
    palette: dict[str, object] | None = None,
) -> matplotlib.figure.Figure:
    """Log-log lines of ``y`` against ``x`` per ``hue`` (one panel per ``col``, ticks at the measured ``x``); rows
    with ``failed`` True (did not finish within the cap) are drawn as open markers at their recorded time, a lower
    bound."""
    from matplotlib.ticker import NullFormatter

    check_frame(data, "data", [x, y, hue] + ([col] if col else []), log=[x, y])
    panels = list(dict.fromkeys(data[col])) if col else [None]
    methods = list(dict.fromkeys(data[hue]))
    palette = check_keys(palette, "palette", methods, f"data[{hue!r}]") if palette else method_palette(methods)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 3.6), squeeze=False, sharey=True)
    for ax, panel in zip(axes[0], panels, strict=True):
        sub = data if panel is None else data[data[col] == panel]
        for method, part in sub.groupby(hue, sort=False):
            part = part.sort_values(x)
            done = part[~part[failed].astype(bool)] if failed in part else part
            ax.plot(done[x], done[y], marker="o", color=palette[method], label=method)
            if failed in part:
                dnf = part[part[failed].astype(bool)]
                ax.plot(dnf[x], dnf[y], ls="none", marker="o", mfc="white", color=palette[method])
        ax.set(xscale="log", yscale="log", xlabel=x, ylabel=y.replace("_", " ") + (" (s)" if "time" in y else ""))
        ticks = sorted(sub[x].unique())  # label the measured sizes, not only the decades
        ax.set_xticks(ticks, [f"{v:g}" for v in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
        if panel is not None:
            ax.set_title(str(panel), fontsize="small")
    labels = {}  # every method of every panel, once
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            labels.setdefault(label, handle)
    axes[0][-1].legend(labels.values(), labels.keys(), loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    fig.tight_layout()
    return fig


def regularization_path_plot(
    data: pd.DataFrame,
    *,
    x: str = "beta_frac",
    y: str = "test",
    hue: str = "method",
    col: str = "dataset",
    ncols: int = 4,
    palette: dict[str, object] | None = None,
) -> matplotlib.figure.Figure:
    """``y`` (a score: accuracy or R^2) against the regularization ``x`` on a log axis running from large to small
    ``beta``, one line per ``hue``, one panel per ``col`` (``ncols`` per row, one legend)."""
    check_frame(data, "data", [x, y, hue, col], log=[x], finite=[y])
    panels = list(dict.fromkeys(data[col]))
    methods = list(dict.fromkeys(data[hue]))
    palette = check_keys(palette, "palette", methods, f"data[{hue!r}]") if palette else method_palette(methods)
    ncols = min(check_positive_int(ncols, "ncols"), len(panels))
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.6 * ncols + 1.4, 3.0 * nrows), squeeze=False)
    for ax, panel in zip(axes.flat, panels, strict=False):
        sub = data[data[col] == panel]
        for method, part in sub.groupby(hue, sort=False):
            part = part.sort_values(x)
            ax.plot(part[x], part[y], marker="o", ms=4, color=palette[method], label=method)
        ax.set(xscale="log", title=str(panel), xlabel=x.replace("_", " "))
        ax.invert_xaxis()
        ax.title.set_fontsize("small")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel(y.replace("_", " "))
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small")
    fig.tight_layout()
    return fig

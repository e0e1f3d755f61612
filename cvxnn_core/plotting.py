"""One shared figure style and one way to save figures.

Every figure of the book is drawn inside :func:`style` and saved with :func:`save_figure`,
which writes ``<figure_id>.png``, ``<figure_id>.svg`` and, when the plotted data are given,
``<figure_id>.csv`` into the chapter's output folder, each atomically. Readers can re-plot
from the CSV without rerunning the chapter. This module draws; it computes nothing.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import matplotlib

matplotlib.use(os.environ.get("MPLBACKEND", "Agg"), force=False)

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

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


@contextlib.contextmanager
def style() -> Iterator[None]:
    """Context manager with the book's seaborn style (whitegrid, notebook context, colorblind palette)."""
    with sns.axes_style("whitegrid"), sns.plotting_context("notebook"), sns.color_palette("colorblind"):
        with plt.rc_context(RC):
            yield


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
    if not figure_id.startswith("fig_") or not figure_id.replace("_", "").isalnum():
        raise ValueError(f"figure_id must look like 'fig_<what>' (letters, digits, _), got {figure_id!r}")
    out = Path(output_dir)
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

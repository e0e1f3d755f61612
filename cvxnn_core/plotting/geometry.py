"""Figures of the geometry chapters: the rectified ellipsoid and its optimal neurons, whitened closed forms."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from scipy.spatial import ConvexHull

from cvxnn_core._validation import check_beta, check_positive_number
from cvxnn_core.plotting._checks import check_frame, check_keys
from cvxnn_core.recovery import TwoLayerNet

CLAIM_TOLERANCE = 1e-6  # the relative tolerance at which two optima count as equal (drawn as a reference line)


def rectified_ellipsoid_panels(
    cases: Mapping[int, tuple[np.ndarray, np.ndarray, np.ndarray, TwoLayerNet]],
    targets: Mapping[int, np.ndarray],
    beta: float,
) -> tuple[Figure, pd.DataFrame]:
    r"""One panel per instance ``seed -> (X, Q, lambda, net)`` of two samples: the curve ``Q`` of ``(Xu)_+`` over
    ``||u|| = 1`` and its mirror, the hull of both, the dual lines ``lambda^T z = +-beta`` and the optimal neurons
    ``sign(w2_j) (X u_j)_+`` (``u_j`` the unit first-layer weights). Returns the figure and the drawn points
    (hull and neurons) as a tidy frame."""
    if not isinstance(cases, Mapping) or not cases:
        raise ValueError("cases is empty (or not a dict); pass {seed: (X, Q, lambda, net)} with at least one instance")
    check_keys(targets, "targets", cases, "cases (one target vector per seed)")
    check_beta(beta)
    for s, case in cases.items():
        if not isinstance(case, tuple | list) or len(case) != 4:
            raise TypeError(f"cases[{s!r}] must be a tuple (X, Q, lambda, net), got {type(case).__name__} of "
                            f"length {len(case) if hasattr(case, '__len__') else 1}")
        X, Q, lam, net = (np.asarray(case[0], dtype=float), np.asarray(case[1], dtype=float),
                          np.asarray(case[2], dtype=float), case[3])
        if X.ndim != 2 or X.shape[0] != 2:
            raise ValueError(f"cases[{s!r}]: X must have shape (2, d) (two samples), got {X.shape}")
        if Q.ndim != 2 or Q.shape[1] != 2 or Q.shape[0] < 3 or not np.all(np.isfinite(Q)):
            raise ValueError(f"cases[{s!r}]: Q must be a finite (k, 2) curve with k >= 3 points, got shape {Q.shape}")
        if lam.shape != (2,) or not np.all(np.isfinite(lam)) or not np.any(lam):
            raise ValueError(f"cases[{s!r}]: lambda must be a nonzero finite 2-vector, got {lam.tolist()}")
        if not isinstance(net, TwoLayerNet) or net.W1.shape[1] != X.shape[1]:
            shape = getattr(getattr(net, "W1", None), "shape", None)
            raise ValueError(f"cases[{s!r}]: net.W1 has shape {shape} but X has {X.shape[1]} columns; pass the "
                             "TwoLayerNet trained on this X")
    panels = []
    fig, axes = plt.subplots(1, len(cases), figsize=(4.2 * len(cases), 4.2), squeeze=False)
    for ax, (s, (X, Q, lam, net)) in zip(axes[0], cases.items(), strict=True):
        both = np.vstack([Q, -Q])
        hull = both[ConvexHull(both).vertices]
        U = net.W1 / np.linalg.norm(net.W1, axis=1, keepdims=True)
        stars = np.sign(net.w2)[:, None] * np.maximum(X @ U.T, 0.0).T
        stars = np.unique(np.round(stars, 6), axis=0)  # one neuron split over two adjacent cones is one point
        ax.fill(hull[:, 0], hull[:, 1], color="0.85", label=r"conv($\mathcal{Q}\cup-\mathcal{Q}$)")
        ax.plot(*np.vstack([Q, Q[:1]]).T, lw=1.6, label=r"$(Xu)_+$ for $\|u\|=1$")
        ax.plot(*-np.vstack([Q, Q[:1]]).T, lw=1.6, label=r"$-(Xu)_+$ for $\|u\|=1$")
        lim = 1.25 * np.abs(both).max()
        t = np.linspace(-lim, lim, 2)
        for sign in (1, -1):  # the lines lambda^T z = +-beta
            if abs(lam[1]) > abs(lam[0]):
                ax.plot(t, (sign * beta - lam[0] * t) / lam[1], "k--", lw=0.9)
            else:
                ax.plot((sign * beta - lam[1] * t) / lam[0], t, "k--", lw=0.9)
        ax.plot([], [], "k--", lw=0.9, label=r"$\lambda^\top z = \pm\beta$")
        ax.plot(stars[:, 0], stars[:, 1], "*", color="crimson", ms=14, mec="black",
                label=r"optimal neurons $s_j(Xu_j)_+$")
        y_text = ", ".join(f"{v:.2f}" for v in targets[s])
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", xlabel="$z_1$", ylabel="$z_2$",
               title=f"y = ({y_text}): {len(stars)} neuron point(s)")
        panels.append(pd.DataFrame({"seed": s, "part": "hull", "z1": hull[:, 0], "z2": hull[:, 1]}))
        panels.append(pd.DataFrame({"seed": s, "part": "neuron", "z1": stars[:, 0], "z2": stars[:, 1]}))
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=5, fontsize="small")
    return fig, pd.concat(panels)


def whitened_closed_form_plot(
    table: pd.DataFrame, line: pd.DataFrame, y: np.ndarray, widths: Sequence[int], floor: float = 1e-16
) -> Figure:
    r"""Left: the closed form (``line``: columns ``beta``, ``closed form``) against the solver and the best Adam run
    (``table``: ``beta``, ``solver``, ``Adam (best)``); right: their relative differences (``solver vs closed
    form``, ``Adam excess``) on a log axis, exact zeros drawn at ``floor``. Dotted lines mark ``||y_+||`` and
    ``||y_-||``, where the closed form's regimes change."""
    check_frame(table, "table", ["beta", "solver", "Adam (best)", "solver vs closed form", "Adam excess"],
                finite=["beta", "solver", "Adam (best)", "solver vs closed form", "Adam excess"])
    check_frame(line, "line", ["beta", "closed form"], finite=["beta", "closed form"])
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or y.size == 0 or not np.all(np.isfinite(y)):
        raise ValueError(f"y contains NaN or inf, or is not a non-empty 1-D target vector (shape {y.shape})")
    if isinstance(widths, str) or not isinstance(widths, Sequence):
        raise TypeError(f"widths must be a list of widths, got {type(widths).__name__}")
    check_positive_number(floor, "floor")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    ax.plot(line["beta"], line["closed form"], color="black", lw=1.3, label="closed form (soft thresholding)")
    ax.plot(table["beta"], table["solver"], "o", mfc="none", ms=8, label="convex program, all patterns")
    ax.plot(table["beta"], table["Adam (best)"], "x", ms=7, label=f"Adam, best of widths {list(widths)}")
    for a in (ax, ax2):
        for t, name in ((np.linalg.norm(np.maximum(y, 0)), r"$\|y_+\|$"), (np.linalg.norm(np.maximum(-y, 0)),
                                                                          r"$\|y_-\|$")):
            a.axvline(t, color="0.5", ls=":", lw=1)
            a.text(t, 0.03, name, ha="right", va="bottom", fontsize="small", transform=a.get_xaxis_transform())
    ax.set(xlabel=r"weight decay $\beta$", ylabel="training objective")
    ax.legend(loc="center right", fontsize="small")
    ax2.plot(table["beta"], table["solver vs closed form"].clip(lower=floor), "o", mfc="none", ms=8,
             label="|solver - closed form| / closed form")
    ax2.plot(table["beta"], table["Adam excess"].clip(lower=floor), "x", ms=7,
             label="(Adam - closed form) / closed form")
    ax2.axhline(CLAIM_TOLERANCE, color="crimson", ls="--", lw=1, label="claim tolerance")
    ax2.set(yscale="log", xlabel=r"weight decay $\beta$", ylabel="relative difference")
    ax2.legend(loc="center left", fontsize="small")
    fig.tight_layout()
    return fig


def closed_form_vs_solver_plot(table: pd.DataFrame, trained: list[str], title: str, floor: float = 1e-17) -> Figure:
    """Left: the closed form (``closed form``), the solver (``solver``) and trained networks (the columns
    ``trained``) against ``beta`` on log axes; right: the ``relative difference`` between closed form and solver
    with the claim tolerance (exact zeros drawn at ``floor``)."""
    if isinstance(trained, str) or not isinstance(trained, Sequence):
        raise TypeError(f"trained must be a list of column names, got {type(trained).__name__}")
    check_frame(table, "table", ["beta", "closed form", "solver", "relative difference", *trained],
                log=["beta", "closed form"], finite=["solver", "relative difference", *trained])
    check_positive_number(floor, "floor")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 3.9))
    ax.plot(table["beta"], table["closed form"], color="black", lw=2, label="closed form")
    ax.plot(table["beta"], table["solver"], "o", color="C1", ms=7, mfc="none", label="convex solver")
    for i, column in enumerate(trained):
        ax.plot(table["beta"], table[column], "x", color=f"C{i + 2}", ms=7, label=column)
    ax.set(xscale="log", yscale="log", xlabel="beta", ylabel="training objective", title=title)
    ax.legend(fontsize="small")
    ax2.semilogx(table["beta"], np.maximum(table["relative difference"], floor), "o-")
    ax2.axhline(CLAIM_TOLERANCE, color="black", ls="--", lw=1, label="claim threshold")
    ax2.set(yscale="log", xlabel="beta", ylabel="relative difference", title="closed form vs solver")
    ax2.legend(fontsize="small")
    fig.tight_layout()
    return fig

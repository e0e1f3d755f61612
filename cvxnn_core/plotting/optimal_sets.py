"""Figures of the chapter on optimal sets and pruning: widths before and after pruning, accuracies of selections."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from cvxnn_core.plotting._checks import check_frame


def pruning_plot(table: pd.DataFrame) -> Figure:
    """Width of each starting network before and after pruning, one group of bars per ``network`` (``table``:
    ``network``, ``stage``, ``width``; ``stage`` is ``"before"``, ``"optimal pruning"`` or another pruning rule),
    with the rank of the tight features as a marker when a ``rank`` column is present."""
    check_frame(table, "table", ["network", "stage", "width"], finite=["width"])
    fig, ax = plt.subplots(figsize=(7.2, 3.8))
    sns.barplot(data=table, x="network", y="width", hue="stage", ax=ax)
    if "rank" in table.columns:
        ranks = table.drop_duplicates("network")
        check_frame(ranks, "table", ["rank"], finite=["rank"])
        ax.scatter(range(len(ranks)), ranks["rank"], marker="_", s=900, color="black", zorder=3,
                   label="rank of its features")
        ax.legend(fontsize="small")
    ax.set(xlabel="", ylabel="neurons", yscale="log", title="networks before and after pruning")
    ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    return fig


def selection_accuracy_plot(table: pd.DataFrame) -> Figure:
    """Median test accuracy of the networks selected by each ``criterion``, one panel per ``data set``, one marker
    series per ``rule`` (``table``: ``data set``, ``rule``, ``criterion``, ``test accuracy`` in ``[0, 1]``)."""
    check_frame(table, "table", ["data set", "rule", "criterion", "test accuracy"], unit=["test accuracy"])
    sets = list(dict.fromkeys(table["data set"]))
    fig, axes = plt.subplots(1, len(sets), figsize=(4.6 * len(sets), 3.8), squeeze=False, sharey=True)
    for ax, name in zip(axes[0], sets, strict=True):
        sub = table[table["data set"] == name]
        sns.pointplot(data=sub, x="criterion", y="test accuracy", hue="rule", linestyles="none", dodge=0.3,
                      markers=["o", "s", "D", "^"][: sub["rule"].nunique()], ax=ax)
        ax.set(title=name, xlabel="", ylim=(0.4, 1.0))
        ax.tick_params(axis="x", labelrotation=20)
        ax.legend(fontsize="small")
    fig.tight_layout()
    return fig

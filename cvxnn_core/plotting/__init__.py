"""One shared figure style, one way to save figures, and the figures of the chapters over tidy data.

Every figure of the book is drawn inside :func:`style` and saved with :func:`save_figure`, which writes
``<figure_id>.png``, ``<figure_id>.svg`` and, when the plotted data are given, ``<figure_id>.csv`` into the
chapter's output folder, each atomically (:mod:`~cvxnn_core.plotting.base`). The figure helpers take the tidy
data frames a chapter records and return a matplotlib figure; they draw and compute nothing of the math.
Modules: :mod:`~cvxnn_core.plotting.base` (style, saving, helpers shared by several chapters),
:mod:`~cvxnn_core.plotting.geometry`, :mod:`~cvxnn_core.plotting.splines`, :mod:`~cvxnn_core.plotting.networks`,
:mod:`~cvxnn_core.plotting.optimal_sets`, :mod:`~cvxnn_core.plotting.three_layer`
and :mod:`~cvxnn_core.plotting.timing`.
"""

from cvxnn_core.plotting.base import (
    FIGURE_FORMATS,
    JITTER_SEED,
    RC,
    add_reference_lines,
    decision_region_grid,
    gap_vs_time,
    image_rows,
    method_palette,
    objective_vs_epoch,
    performance_profile_plot,
    regularization_path_plot,
    save_figure,
    scaling_plot,
    style,
)
from cvxnn_core.plotting.geometry import (
    closed_form_vs_solver_plot,
    rectified_ellipsoid_panels,
    whitened_closed_form_plot,
)
from cvxnn_core.plotting.networks import (
    accuracy_bars,
    clustering_plot,
    confusion_plot,
    distance_vs_width_plot,
    eigen_spectrum_plot,
    filters_plot,
    gap_vs_depth_plot,
    gda_plot,
    head_accuracy_plot,
    neural_collapse_plot,
    objectives_by_width_plot,
    optimal_set_plot,
    predictor_surfaces_plot,
    rank_vs_beta_plot,
    rank_vs_fraction_plot,
    shattering_plot,
    singular_values_vs_beta_plot,
    spectrum_plot,
    stationary_points_plot,
    train_test_bars,
)
from cvxnn_core.plotting.optimal_sets import pruning_plot, selection_accuracy_plot
from cvxnn_core.plotting.splines import kink_positions_plot, min_norm_limit_plot, spline_fit_plot
from cvxnn_core.plotting.three_layer import (
    arrangement_counts_plot,
    block_spectra_plot,
    low_rank_plot,
    multiclass_regions_plot,
)
from cvxnn_core.plotting.timing import (
    accuracy_vs_iterations_plot,
    bounds_vs_time_plot,
    complexity_plot,
    nll_time_plot,
    relaxation_time_plot,
)

__all__ = [
    "accuracy_vs_iterations_plot",
    "nll_time_plot",
    "shattering_plot",
    "pruning_plot",
    "selection_accuracy_plot",
    "eigen_spectrum_plot",
    "gda_plot",
    "clustering_plot",
    "head_accuracy_plot",
    "rank_vs_fraction_plot",
    "optimal_set_plot",
    "stationary_points_plot",
    "gap_vs_depth_plot",
    "singular_values_vs_beta_plot",
    "arrangement_counts_plot",
    "block_spectra_plot",
    "low_rank_plot",
    "multiclass_regions_plot",
    "FIGURE_FORMATS",
    "JITTER_SEED",
    "RC",
    "accuracy_bars",
    "add_reference_lines",
    "bounds_vs_time_plot",
    "closed_form_vs_solver_plot",
    "complexity_plot",
    "confusion_plot",
    "decision_region_grid",
    "distance_vs_width_plot",
    "filters_plot",
    "gap_vs_time",
    "image_rows",
    "kink_positions_plot",
    "method_palette",
    "min_norm_limit_plot",
    "neural_collapse_plot",
    "objectives_by_width_plot",
    "objective_vs_epoch",
    "performance_profile_plot",
    "predictor_surfaces_plot",
    "rank_vs_beta_plot",
    "rectified_ellipsoid_panels",
    "relaxation_time_plot",
    "save_figure",
    "regularization_path_plot",
    "scaling_plot",
    "spectrum_plot",
    "spline_fit_plot",
    "style",
    "train_test_bars",
    "whitened_closed_form_plot",
]

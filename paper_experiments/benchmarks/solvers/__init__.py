r"""Benchmark: convex solvers for two-layer ReLU networks side by side, on the same data and patterns.

Methods (``--methods``), by program:

* gated ReLU (group lasso over patterns): ``fista`` (:func:`cvxnn_core.solvers.fista_gated`, float64,
  certified relative gap ``tol``), ``fista_float32`` (same in float32, gap ``1e-5``), ``clarabel`` and ``scs``
  (cvxpy through :func:`cvxnn_core.programs.solve_gated_relu`, tolerance 1e-10 resp. 1e-9), ``pyscnn``
  (R-FISTA of Mishkin, Sahiner & Pilanci, only when the package is importable: the optional extra ``bench``),
  ``skglm`` and ``celer`` (the maintained group-lasso solvers, ``GroupLasso`` on the dense design
  ``[D_1 X, ..., D_P X]`` with ``alpha = beta / n``);
* ReLU (cone constraints): ``active_set`` (:func:`cvxnn_core.solvers.active_set_relu`), ``al``
  (:func:`cvxnn_core.solvers.al_relu`), ``gated_decomp`` (gated FISTA followed by the cone decomposition: a
  feasible point, not the ReLU optimum), ``clarabel``, ``scs``, ``pyscnn`` (its AL), and the non-convex
  network trained on the same objective by ``adam`` and ``sgd`` (:func:`cvxnn_core.nonconvex.train_two_layer`,
  full batch, best step size of a small grid by median final objective, 5 seeds).

Every row records the wall time (cvxpy's compilation included), the final objective, the certified gap where
the method has one, the relative cone violation, and, when each run is isolated in its own process (the CLI
default), the peak resident memory; a method that exceeds the time cap is recorded as ``dnf`` and skipped on
the larger problems of the same ladder. Traces (time, objective of a feasible point) give the time to reach
``1e-3`` and ``1e-6`` relative objective gap against the best objective reached by a convex method
(:func:`cvxnn_core.solvers.time_to_accuracy`); non-convex runs count as having reached it once they are within
the tolerance or below (sampled patterns make the convex program a restriction).

Outputs (``--out``, default ``_build/benchmarks/solver_speed/<profile>``; the chapter ``solver_speed`` reads every
folder there): ``results.csv``, ``traces.csv``,
``machine.json`` (CPU, cores, memory, load before and after, threads, versions) and ``config.json`` (the
options, the problems and ``code_hash``, :func:`code_hash` of the code that produced the results: the chapter
reads only results whose hash equals the current code's and re-runs the others).

The package: :mod:`.problems` (methods, profiles, :class:`Problem`), :mod:`.methods` (one method on one
problem), :mod:`.runs` (worker processes, the whole run, saved results, the CLI) and :mod:`.tables` (tables and
headline numbers from the results).

Usage::

    python -m paper_experiments.benchmarks.solvers --profile mid
    python -m paper_experiments.benchmarks.solvers --profile full --time-cap 300
    python -m paper_experiments.benchmarks.solvers --profile scaling --time-cap 120 \
        --methods fista,fista_float32,clarabel,scs
"""

from __future__ import annotations

from paper_experiments.benchmarks.solvers.methods import GROUP_LASSO_PEERS, peer_available, pyscnn_available, run_method
from paper_experiments.benchmarks.solvers.problems import (
    ACCURACIES,
    DATASETS,
    DEFAULT_OUT,
    GATED_METHODS,
    GRACE_S,
    LR_GRID,
    PATH_FRACTIONS,
    PATH_METHODS,
    PROFILES,
    RELU_METHODS,
    Problem,
    profile_problems,
    real_problem,
)
from paper_experiments.benchmarks.solvers.runs import (
    cap_budget_s,
    code_hash,
    load_all,
    load_results,
    main,
    run_benchmark,
    save_results,
    saved_code_hash,
    stale_folders,
)
from paper_experiments.benchmarks.solvers.tables import (
    add_accuracy_columns,
    headline_ratio,
    machine_description,
    path_table,
    profile_table,
    scaling_table,
    target_ratios,
    trace_gaps,
)

__all__ = [
    "ACCURACIES",
    "DATASETS",
    "DEFAULT_OUT",
    "GATED_METHODS",
    "GRACE_S",
    "GROUP_LASSO_PEERS",
    "LR_GRID",
    "PATH_FRACTIONS",
    "PATH_METHODS",
    "PROFILES",
    "RELU_METHODS",
    "Problem",
    "add_accuracy_columns",
    "cap_budget_s",
    "code_hash",
    "headline_ratio",
    "load_all",
    "load_results",
    "machine_description",
    "main",
    "path_table",
    "peer_available",
    "profile_problems",
    "profile_table",
    "pyscnn_available",
    "real_problem",
    "run_benchmark",
    "run_method",
    "save_results",
    "saved_code_hash",
    "scaling_table",
    "stale_folders",
    "target_ratios",
    "trace_gaps",
]

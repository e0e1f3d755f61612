r"""The many-data-sets experiment (Mishkin, Sahiner & Pilanci, ICML 2022, Sec. 6) on ``dask.distributed``.

Every data set x every method trains along one regularization path ``beta = frac * beta_max`` (``beta_max`` of the
gated program on the data set's training part and sampled gates, shared by the methods):

* ``gated``: the gated-ReLU program by FISTA (:func:`cvxnn_core.programs.solve_gated_relu`, ``solver="fista"``),
  warm-started from the previous ``beta`` of the path, certified relative gap ``tol``;
* ``relu``: the ReLU program by the active-set method (``solver="active_set"``), warm-started along the path;
* ``adam`` and ``sgd``: the non-convex two-layer ReLU network of width ``P`` on the same weight-decay objective
  (:func:`cvxnn_core.nonconvex.train_two_layer`, full batch, fixed step sizes :data:`STEP_SIZES`).

A *task* is one (data set, method) pair with its whole path; it returns one row per ``beta`` (objective, train /
validation / test accuracy or R^2, time, convergence) and the method's trace (time, objective). Tasks run on a
``dask.distributed`` cluster: by default a ``LocalCluster`` with one single-threaded worker process per core (one
machine needs nothing more); ``scheduler="tcp://HOST:PORT"`` sends the same tasks to an existing cluster. Each
finished task is written to ``<cache>/<dataset>/<method>-<key>.json`` (atomically; ``key`` hashes the task and the
code of ``cvxnn_core``), so an interrupted sweep resumes where it stopped and a finished one is read back.

Timing: every worker runs one task at a time on one thread (torch and BLAS), and there are no more workers than
cores, so no two timed solves share a core. The solver benchmark (``paper_experiments.benchmarks.solvers``) is not
run here.

Layout: :mod:`.tasks` (data, one task along its path), :mod:`.engine` (the cluster and the cache), :mod:`.tables`
(what the chapter shows) and ``__main__`` (the CLI: ``python -m paper_experiments.sweep --help``).
"""

from paper_experiments.sweep.engine import cache_file, run_sweep, sweep_code_hash
from paper_experiments.sweep.tables import accuracy_table, convex_choice, profile_frame, solve_times, validation_choice
from paper_experiments.sweep.tasks import (
    CONVEX,
    DEFAULT_CACHE,
    METHODS,
    SKLEARN_SETS,
    STEP_SIZES,
    Data,
    Task,
    keel_available,
    load_data,
    run_task,
    score,
    suite,
)

__all__ = [
    "CONVEX", "DEFAULT_CACHE", "METHODS", "SKLEARN_SETS", "STEP_SIZES", "Data", "Task", "accuracy_table", "cache_file",
    "convex_choice", "keel_available", "load_data", "profile_frame", "run_sweep", "run_task", "score", "solve_times",
    "suite", "sweep_code_hash", "validation_choice",
]

"""What every trainer of the package shares: thread limits, progress bars, one result type, one sweep.

Trainers minimise the weight-decay objective of their architecture with Adam or SGD in torch (or numpy) and
return a :class:`TrainResult`; a sweep trains one network per (optimizer, width, seed) and returns the runs in
that order. Small problems are fastest on one thread, so trainers take ``threads`` (default 1) and run inside
:func:`limit_threads`, which restores the caller's settings afterwards.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from cvxnn_core._shapes import check_seeds
from cvxnn_core._validation import check_positive_int, check_positive_number

__all__ = [
    "TrainResult",
    "descend_batched",
    "limit_threads",
    "progress_bar",
    "runs_table",
    "seeded_draws",
    "show_progress",
    "sweep",
]


@dataclass(frozen=True)
class TrainResult:
    """Outcome of a training run: ``net`` (numpy weights in the architecture's own class: a
    :class:`~cvxnn_core.recovery.TwoLayerNet`, a :class:`~cvxnn_core.vector_output.VectorNet`, a
    :class:`~cvxnn_core.cnn.TwoLayerCNN`, a :class:`~cvxnn_core.batchnorm.BatchNormNet`, a
    :class:`~cvxnn_core.deep.DeepReLUNet`), ``history`` (full-batch
    objective after each epoch, ``(epochs,)``), ``initial_objective``, ``train_time`` (s), ``optimizer``, ``lr``,
    ``seed``."""

    net: Any
    history: np.ndarray
    initial_objective: float
    train_time: float
    optimizer: str
    lr: float
    seed: int

    @property
    def objective(self) -> float:
        """Final full-batch objective."""
        return float(self.history[-1])


@contextlib.contextmanager
def limit_threads(threads: int | None, *, blas: bool = False) -> Iterator[None]:
    """Run the block with ``threads`` torch CPU threads (and, with ``blas``, numpy's BLAS threads through
    threadpoolctl); ``None`` keeps the current settings. The previous settings are restored on exit."""
    import torch

    previous = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(check_positive_int(threads, "threads"))
    try:
        with _blas_limit(threads if blas else None):
            yield
    finally:
        torch.set_num_threads(previous)


def _blas_limit(threads: int | None):
    if threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency

    return threadpool_limits(limits=threads, user_api="blas")


def show_progress(progress: bool | None) -> bool:
    """``progress`` or, when ``None``, whether stderr is a terminal (bars in a shell, none in logs and notebooks)."""
    return sys.stderr.isatty() if progress is None else bool(progress)


def progress_bar(
    progress: bool | None, *, iterable: Iterable[Any] | None = None, total: int | None = None, desc: str = ""
) -> tqdm:
    """A tqdm bar on stderr, shown as :func:`show_progress` says; transient (``leave=False``) unless over runs."""
    return tqdm(iterable, total=total, desc=desc, disable=not show_progress(progress), leave=False, file=sys.stderr)


def sweep(
    train: Callable[..., TrainResult],
    *,
    optimizers: Mapping[str, float | None],
    widths: Sequence[int],
    seeds: Sequence[int],
    desc: str = "training runs",
    progress: bool | None = None,
    **kwargs: Any,
) -> list[TrainResult]:
    """``train(width, optimizer=..., lr=..., seed=..., progress=False, **kwargs)`` for every (optimizer, width, seed),
    in that order; ``optimizers`` maps ``"adam"``/``"sgd"`` to a step size (``None``: the trainer's default). A tqdm
    bar counts the runs."""
    if isinstance(widths, str) or not isinstance(widths, Sequence | range | np.ndarray):
        raise TypeError(f"widths must be a list of positive integers (one run each), got {widths!r}")
    if not isinstance(optimizers, Mapping):
        raise TypeError(f"optimizers must map 'adam'/'sgd' to a step size (None: the default), got "
                        f"{type(optimizers).__name__}")
    widths = [check_positive_int(m, f"widths[{i}]") for i, m in enumerate(widths)]
    seeds = check_seeds(seeds)
    if not widths or not optimizers:
        raise ValueError("widths, seeds and optimizers must each name at least one value")
    runs = [(opt, m, s) for opt in optimizers for m in widths for s in seeds]
    return [
        train(m, optimizer=opt, lr=optimizers[opt], seed=s, progress=False, **kwargs)
        for opt, m, s in progress_bar(progress, iterable=runs, desc=desc)
    ]


def runs_table(runs: Sequence[TrainResult], optimum: float | None = None, **labels: Any) -> pd.DataFrame:
    """One row per run: the ``labels`` (constant columns), ``optimizer``, ``width`` (``run.net.width``), ``seed``
    and the final ``objective``; given the certified ``optimum``, also ``optimum`` and ``relative excess``
    ``(objective - optimum) / optimum`` (never below ``-tol`` if the optimum is right)."""
    runs = list(runs)
    if not runs:
        raise ValueError("runs is empty; pass the TrainResult list returned by a training sweep")
    if not all(isinstance(r, TrainResult) for r in runs):
        raise TypeError("runs must be TrainResult objects (as returned by the trainers)")
    if optimum is not None:
        optimum = check_positive_number(optimum, "optimum")
    table = pd.DataFrame([{**labels, "optimizer": r.optimizer, "width": r.net.width, "seed": r.seed,
                           "objective": r.objective} for r in runs])
    if optimum is not None:
        table["optimum"] = optimum
        table["relative excess"] = (table["objective"] - optimum) / optimum
    return table


def seeded_draws(seeds: Sequence[int], shapes: Sequence[tuple[int, ...]], scales: Sequence[float]) -> list:
    """One batched tensor per shape: row ``r`` holds ``scale * N(0, 1)`` drawn from ``manual_seed(seeds[r])``, the
    shapes drawn in order from one generator per seed (so a run gives the same numbers alone or in a batch)."""
    import torch

    draws = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(seed)
        draws.append([torch.randn(*shape, generator=gen, dtype=torch.float64) for shape in shapes])
    return [torch.stack([d[i] for d in draws]).mul_(scale).requires_grad_() for i, scale in enumerate(scales)]


def descend_batched(params: list, objectives: Callable[..., Any], *, optimizer: str, lr: float, lr_end: float,
                    epochs: int, train_kwargs: Mapping[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Full-batch Adam or SGD on the summed per-run ``objectives()`` (a ``(runs,)`` tensor), the step decaying
    geometrically from ``lr`` to ``lr_end``; ``objectives(**train_kwargs)`` is what is differentiated. Returns the
    initial objectives, the history ``(runs, epochs)`` (exact objective after every epoch) and the seconds taken."""
    import time

    import torch

    opt = (torch.optim.Adam if optimizer == "adam" else torch.optim.SGD)(params, lr=lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=(lr_end / lr) ** (1.0 / epochs))
    start = time.perf_counter()
    with torch.no_grad():
        initial = objectives().numpy().copy()
    history = np.empty((initial.shape[0], epochs))
    for epoch in range(epochs):
        opt.zero_grad()
        J = objectives(**(train_kwargs or {}))
        if epoch > 0:
            history[:, epoch - 1] = J.detach().numpy()
        J.sum().backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        history[:, -1] = objectives().numpy()
    return initial, history, time.perf_counter() - start

"""Torch training of parallel three-layer ReLU networks under the three regularisers of :mod:`.networks`.

The normalisations are parametrisations: ``"frobenius"`` trains ``V_k`` and uses ``W1_k = V_k / ||V_k||_F``;
``"columns"`` uses ``u_kl = v_kl / ||v_kl||``; ``"path"`` trains ``W1_k`` freely with the square-root path norm.
Several seeds are trained at once in one batched loop: the runs are independent (Adam and SGD act coordinate-wise
and the summed objective separates over runs), and a run gives the same numbers alone or in a batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from cvxnn_core._shapes import check_seeds, check_size
from cvxnn_core._training import TrainResult, descend_batched, limit_threads, progress_bar, seeded_draws
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_positive_int,
    check_positive_number,
    check_X_y,
)
from cvxnn_core.three_layer.networks import REGULARIZERS, ParallelThreeLayerNet

OPTIMIZERS = ("adam", "sgd")
MAX_TRAIN_BYTES = 4 * 2**30  # default cap on the batched training tensors (4 GiB)
_PATH_EPS = 1e-24  # inside the square root of the path norm: a defined gradient at 0, a value change below 1e-12


def train_three_layer(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    n_subnets: int,
    width: int,
    *,
    regularizer: str = "frobenius",
    seeds: Sequence[int] = (0,),
    optimizer: str = "adam",
    lr: float = 1e-2,
    lr_end: float = 1e-4,
    epochs: int = 5000,
    init_scale: float = 0.5,
    threads: int | None = 1,
    max_bytes: int = MAX_TRAIN_BYTES,
) -> list[TrainResult]:
    """Train ``K = n_subnets`` sub-networks of first-layer width ``m1 = width`` from each seed, full batch.

    Minimises ``0.5 ||f(X) - y||^2 + beta R`` (``R`` as in :func:`~.networks.penalty`) with Adam or SGD, the step
    decaying geometrically from ``lr`` to ``lr_end`` over ``epochs``; the initial weights are
    ``init_scale * N(0, 1)`` from ``torch.Generator().manual_seed(seed)``. Returns one :class:`TrainResult` per seed
    (``history``: the exact objective after every epoch; ``net``: a :class:`~.networks.ParallelThreeLayerNet` with
    the normalised first layer). The batched tensors take about ``8 S K m1 (12 d + 4 n + 64)`` bytes for ``S``
    seeds; more than ``max_bytes`` is refused before anything is allocated."""
    import torch

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    K = check_positive_int(n_subnets, "n_subnets")
    m1 = check_positive_int(width, "width")
    regularizer = check_choice(regularizer, "regularizer", REGULARIZERS)
    optimizer = check_choice(optimizer, "optimizer", OPTIMIZERS)
    lr = check_positive_number(lr, "lr")
    lr_end = check_positive_number(lr_end, "lr_end")
    if lr_end > lr:
        raise ValueError(f"lr_end = {lr_end} must be <= lr = {lr} (the step decays from lr to lr_end); pass lr_end=lr "
                         "for a constant step")
    epochs = check_positive_int(epochs, "epochs")
    init_scale = check_positive_number(init_scale, "init_scale")
    seeds = check_seeds(seeds)
    d = X.shape[1]
    n_bytes = 8 * len(seeds) * K * m1 * (12 * d + 4 * X.shape[0] + 64)  # measured peak of the batched loop, +-25%
    check_size(n_bytes, check_positive_int(max_bytes, "max_bytes"), what="batched training tensors, bytes",
               keyword="max_bytes", alternative="train fewer seeds, sub-networks or neurons at once")
    with limit_threads(threads):
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        V, w2, w3 = seeded_draws(seeds, [(K, m1, d), (K, m1), (K,)], [init_scale] * 3)

        def first_layer() -> torch.Tensor:
            if regularizer == "frobenius":
                return V / V.pow(2).sum(dim=(2, 3), keepdim=True).sqrt()
            if regularizer == "columns":
                return V / V.pow(2).sum(dim=3, keepdim=True).sqrt()
            return V

        def objectives(eps: float = 0.0) -> torch.Tensor:
            W1 = first_layer()
            hidden = torch.relu(torch.einsum("nd,skmd->sknm", Xt, W1))
            out = torch.einsum("skn,sk->sn", torch.relu(torch.einsum("sknm,skm->skn", hidden, w2)), w3)
            fit = 0.5 * ((out - yt) ** 2).sum(dim=1)
            if regularizer == "path":
                paths = W1.pow(2).sum(dim=3) * w2.pow(2) * w3.pow(2)[..., None]
                return fit + beta * (paths.sum(dim=2) + eps).sqrt().sum(dim=1)
            return fit + 0.5 * beta * (w2.pow(2).sum(dim=(1, 2)) + w3.pow(2).sum(dim=1))

        initial, history, elapsed = descend_batched([V, w2, w3], objectives, optimizer=optimizer, lr=lr,
                                                    lr_end=lr_end, epochs=epochs, train_kwargs={"eps": _PATH_EPS})
        with torch.no_grad():
            W1 = first_layer().numpy().copy()
    if not np.all(np.isfinite(history[:, -1])):
        raise FloatingPointError(f"training diverged (final objectives {history[:, -1].tolist()}); lower lr (now {lr})")
    w2n, w3n = w2.detach().numpy(), w3.detach().numpy()
    return [
        TrainResult(
            ParallelThreeLayerNet(list(W1[r]), list(w2n[r]), w3n[r].copy()),
            history[r].copy(),
            float(initial[r]),
            elapsed / len(seeds),
            optimizer,
            lr,
            s,
        )
        for r, s in enumerate(seeds)
    ]


def train_three_layer_sweep(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    *,
    shapes: Sequence[tuple[int, int]],
    seeds: Sequence[int],
    optimizers: Mapping[str, float],
    regularizer: str = "frobenius",
    progress: bool | None = None,
    **kwargs,
) -> list[tuple[int, int, TrainResult]]:
    """:func:`train_three_layer` for every optimizer (name -> ``lr``) and shape ``(K, m1)``, all seeds batched;
    returns ``(K, m1, run)`` triples in that order. A tqdm bar counts the batches."""
    if not isinstance(optimizers, Mapping):
        raise TypeError(f"optimizers must map an optimizer name to its lr, e.g. {{'adam': 1e-2}}, got "
                        f"{type(optimizers).__name__}")
    if not shapes or not optimizers:
        raise ValueError("shapes and optimizers must each name at least one value")
    for i, s in enumerate(shapes):
        if not (isinstance(s, tuple | list) and len(s) == 2):
            raise ValueError(f"shapes[{i}] must be a pair (K, m1) of positive integers, got {s!r}")
        check_positive_int(s[0], f"shapes[{i}][0]")
        check_positive_int(s[1], f"shapes[{i}][1]")
    jobs = [(opt, K, m1) for opt in optimizers for K, m1 in shapes]
    out = []
    for opt, K, m1 in progress_bar(progress, iterable=jobs, desc="three-layer training"):
        runs = train_three_layer(
            X, y, beta, K, m1, regularizer=regularizer, seeds=seeds, optimizer=opt, lr=optimizers[opt], **kwargs
        )
        out.extend((K, m1, r) for r in runs)
    return out


def three_layer_runs_table(
    runs: Sequence[tuple[int, int, TrainResult]], optimum: float | None = None, **labels
) -> pd.DataFrame:
    """One row per run: ``labels``, ``optimizer``, ``K``, ``m1``, ``seed``, final ``objective`` and, given the
    certified ``optimum`` (``> 0``), the ``relative excess`` ``(objective - optimum) / optimum``."""
    runs = list(runs)
    if not runs:
        raise ValueError("runs is empty; pass the (K, m1, run) triples returned by train_three_layer_sweep")
    for i, item in enumerate(runs):
        if not (isinstance(item, tuple | list) and len(item) == 3 and isinstance(item[2], TrainResult)):
            raise TypeError(f"runs[{i}] must be a (K, m1, TrainResult) triple as returned by train_three_layer_sweep, "
                            f"got {type(item).__name__}")
    if optimum is not None:
        optimum = check_positive_number(optimum, "optimum")
    table = pd.DataFrame(
        [
            {**labels, "optimizer": r.optimizer, "K": K, "m1": m1, "seed": r.seed, "objective": r.objective}
            for K, m1, r in runs
        ]
    )
    if optimum is not None:
        table["optimum"] = optimum
        table["relative excess"] = (table["objective"] - optimum) / optimum
    return table

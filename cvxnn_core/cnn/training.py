"""The non-convex baseline: the CNN trained by SGD / Adam in torch, runs of one optimizer stacked."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Literal

import numpy as np

from cvxnn_core._shapes import MAX_ENTRIES, check_seeds, check_size
from cvxnn_core._training import TrainResult, limit_threads, show_progress
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_labels_pm1,
    check_loss,
    check_optimizer,
    check_positive_int,
    check_positive_number,
    check_y,
)
from cvxnn_core.cnn.patches import POOLINGS, _scale, check_patches
from cvxnn_core.cnn.relu import Pooling, TwoLayerCNN
from cvxnn_core.losses import Loss

# --------------------------------------------------------------------------------------------------
# Non-convex baseline: the CNN trained by SGD / Adam in torch
# --------------------------------------------------------------------------------------------------


def _train_runs(P, y, runs, beta, *, optimizer, lr, epochs, batch, loss, pooling, init_scale, momentum, progress):
    """Train independent CNNs ``runs = [(width, seed), ...]`` side by side (one stacked tensor per parameter).

    Each run's objective depends only on its own slice and Adam/SGD act elementwise, so the stacked updates are
    exactly the separate runs. Narrower runs are padded with zero filters, which stay zero (their gradients
    vanish: ``relu(Z 0) = 0`` and ``w2 = 0``). Run ``r`` is initialised and shuffled by its own generator.
    """
    import torch
    from tqdm import tqdm

    n, K, h = P.shape
    R, m = len(runs), max(w for w, _ in runs)
    scale = _scale(pooling, K)
    gens = [torch.Generator().manual_seed(s) for _, s in runs]
    U0 = torch.zeros(R, m, h, dtype=torch.float64)
    w0 = torch.zeros(R, m, dtype=torch.float64)
    for r, ((width, _), gen) in enumerate(zip(runs, gens, strict=True)):
        U0[r, :width] = torch.randn(width, h, generator=gen, dtype=torch.float64) * init_scale / np.sqrt(h)
        w0[r, :width] = torch.randn(width, generator=gen, dtype=torch.float64) * init_scale / np.sqrt(width)
    U, w2 = U0.requires_grad_(), w0.requires_grad_()
    if optimizer == "adam":
        opt = torch.optim.Adam([U, w2], lr=lr)
    else:
        opt = torch.optim.SGD([U, w2], lr=lr, momentum=momentum)
    Pt = torch.as_tensor(P, dtype=torch.float64)
    yt = torch.as_tensor(y, dtype=torch.float64)

    def objectives(Pb, yb, factor=1.0):
        """Per-run objectives, shape ``(R,)``; ``Pb`` is ``(n, K, h)`` (shared) or ``(R, b, K, h)``."""
        b = Pb.shape[-3]
        Zb = Pb.reshape(-1, b * K, h)  # (1 or R, b K, h)
        hidden = torch.relu(Zb @ U.transpose(1, 2)).reshape(R, b, K, m).sum(dim=2)  # (R, b, m)
        f = scale * torch.einsum("rbm,rm->rb", hidden, w2)
        if loss == "squared":
            data = 0.5 * torch.sum((f - yb) ** 2, dim=1)
        elif loss == "hinge":
            data = torch.sum(torch.clamp(1.0 - yb * f, min=0.0), dim=1)
        else:
            data = torch.sum(torch.nn.functional.softplus(-yb * f), dim=1)
        return factor * data + 0.5 * beta * (torch.sum(U**2, dim=(1, 2)) + torch.sum(w2**2, dim=1))

    with torch.no_grad():
        initial = objectives(Pt, yt).numpy().copy()
    history = np.empty((epochs, R))
    start = time.perf_counter()
    for epoch in tqdm(range(epochs), desc=f"CNN {optimizer}", disable=not progress, leave=False):
        if batch == n:
            # Full batch: the objectives before step e are those after epoch e - 1.
            opt.zero_grad()
            obj = objectives(Pt, yt)
            obj.sum().backward()
            if epoch > 0:
                history[epoch - 1] = obj.detach().numpy()
            opt.step()
            continue
        orders = torch.stack([torch.randperm(n, generator=g) for g in gens])  # (R, n)
        for lo in range(0, n, batch):
            idx = orders[:, lo : lo + batch]
            opt.zero_grad()
            obj = objectives(Pt[idx], yt[idx], n / idx.shape[1])
            obj.sum().backward()
            opt.step()
        with torch.no_grad():
            history[epoch] = objectives(Pt, yt).numpy()
    if batch == n:
        with torch.no_grad():
            history[-1] = objectives(Pt, yt).numpy()
    elapsed = (time.perf_counter() - start) / R
    if not np.all(np.isfinite(history)):
        raise FloatingPointError(f"{optimizer} diverged (objective became non-finite); lower lr (now {lr})")
    Uf, wf = U.detach().numpy(), w2.detach().numpy()
    return [
        TrainResult(
            TwoLayerCNN(Uf[r, :width].copy(), wf[r, :width].copy(), pooling),
            history[:, r].copy(),
            float(initial[r]),
            elapsed,
            optimizer,
            lr,
            seed,
        )
        for r, (width, seed) in enumerate(runs)
    ]


def train_cnn(
    patches: np.ndarray,
    y: np.ndarray,
    width: int,
    beta: float,
    *,
    optimizer: Literal["adam", "sgd"] = "adam",
    lr: float | None = None,
    epochs: int = 1000,
    seed: int = 0,
    batch_size: int | None = None,
    loss: Loss = "squared",
    pooling: Pooling = "average",
    init_scale: float = 1.0,
    momentum: float = 0.0,
    threads: int | None = 1,
    max_entries: int = MAX_ENTRIES,
    progress: bool | None = None,
) -> TrainResult:
    """Train the two-layer CNN of ``width`` filters on its weight-decay objective (float64, CPU).

    Same conventions as :func:`cvxnn_core.nonconvex.train_two_layer`: weight decay is part of the loss,
    mini-batch losses are scaled by ``n / b``, the history is the full-batch objective after each epoch.
    Initialisation (seeded): ``filters ~ N(0, init_scale^2 / h)``, ``w2 ~ N(0, init_scale^2 / m)``.
    Default ``lr``: 1e-2 for Adam, 1e-3 for SGD. ``train_time`` is the wall time of the run.
    """
    return train_cnn_sweep(
        patches,
        y,
        beta,
        widths=[width],
        seeds=[seed],
        optimizers={optimizer: lr},
        epochs=epochs,
        batch_size=batch_size,
        loss=loss,
        pooling=pooling,
        init_scale=init_scale,
        momentum=momentum,
        threads=threads,
        max_entries=max_entries,
        progress=progress,
    )[0]


def train_cnn_sweep(
    patches: np.ndarray,
    y: np.ndarray,
    beta: float,
    *,
    widths: list[int] | tuple[int, ...],
    seeds: list[int] | tuple[int, ...],
    optimizers: dict[str, float | None],
    epochs: int,
    batch_size: int | None = None,
    loss: Loss = "squared",
    pooling: Pooling = "average",
    init_scale: float = 1.0,
    momentum: float = 0.0,
    threads: int | None = 1,
    progress: bool | None = None,
    max_entries: int = MAX_ENTRIES,
) -> list[TrainResult]:
    """One CNN per (optimizer, width, seed), in that order; ``optimizers`` maps ``"adam"``/``"sgd"`` to a step size
    (``None``: the default). All runs of one optimizer are trained side by side in one stacked tensor (exactly the
    same as separate :func:`train_cnn` calls, much faster for small networks); ``train_time`` is the wall time per
    run (the stacked time divided by the number of runs)."""
    from cvxnn_core.nonconvex import DEFAULT_LR

    P = check_patches(patches)
    n = P.shape[0]
    y = check_y(y, n)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    check_choice(pooling, "pooling", POOLINGS)
    if not isinstance(optimizers, Mapping):
        raise TypeError(f"optimizers must be a dict mapping 'adam'/'sgd' to a step size (or None), got "
                        f"{type(optimizers).__name__}")
    if isinstance(widths, str) or not isinstance(widths, list | tuple | range | np.ndarray):
        raise TypeError(f"widths must be a list of positive integers, got {widths!r}")
    widths = [check_positive_int(m, "width") for m in widths]
    seeds = check_seeds(seeds)
    if not widths or not optimizers:
        raise ValueError("widths, seeds and optimizers must each name at least one value")
    K = P.shape[1]
    check_size(len(seeds) * n * K * max(widths), check_positive_int(max_entries, "max_entries"),
               what="hidden activations (seeds x patches x width), entries", keyword="max_entries",
               alternative="use fewer seeds or a smaller width")
    epochs = check_positive_int(epochs, "epochs")
    batch = n if batch_size is None else min(check_positive_int(batch_size, "batch_size"), n)
    progress = show_progress(progress)
    out = []
    for name, lr in optimizers.items():
        name, step, _ = check_optimizer(name, lr, DEFAULT_LR, momentum)
        check_positive_number(init_scale, "init_scale")
        runs = [(m, s) for m in widths for s in seeds]
        with limit_threads(threads):
            out += _train_runs(
                P,
                y,
                runs,
                beta,
                optimizer=name,
                lr=step,
                epochs=epochs,
                batch=batch,
                loss=loss,
                pooling=pooling,
                init_scale=init_scale,
                momentum=momentum,
                progress=progress,
            )
    return out



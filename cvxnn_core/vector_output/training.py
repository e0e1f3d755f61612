"""The non-convex baseline: SGD / Adam on the vector-output weight-decay objective (torch), seeds trained together."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from cvxnn_core._shapes import check_seeds
from cvxnn_core._training import TrainResult, limit_threads
from cvxnn_core._validation import (
    check_seed,
    check_torch_device,
    check_torch_dtype,
    check_vector_training,
)

if TYPE_CHECKING:
    import torch

from cvxnn_core.vector_output.networks import VectorNet

Optimizer = Literal["adam", "sgd"]

DEFAULT_LR = {"adam": 1e-2, "sgd": 1e-3}



# ----------------------------------------------------------------------------------------------------
# Non-convex baseline: SGD / Adam on the weight-decay objective (torch)
# ----------------------------------------------------------------------------------------------------


def _torch_objectives(X, Y, W1, W2, beta, scale=1.0):
    """Per-network objectives ``(S,)`` for stacked weights ``W1`` ``(S, m, d)``, ``W2`` ``(S, m, c)`` and data
    ``X`` ``(S, b, d)`` or ``(b, d)``."""
    import torch

    f = torch.relu(X @ W1.transpose(1, 2)) @ W2
    return scale * 0.5 * torch.sum((f - Y) ** 2, dim=(1, 2)) + 0.5 * beta * (
        torch.sum(W1**2, dim=(1, 2)) + torch.sum(W2**2, dim=(1, 2))
    )


def _train(X, Y, width, beta, optimizer, lr, epochs, seeds, batch, init_scale, threads, dtype, device):
    """Train one network per seed, all at once: the objectives are independent, so the gradient of their sum
    is each network's own gradient and Adam / SGD (elementwise) update each exactly as if alone."""
    import torch

    n, d = X.shape
    c = Y.shape[1]
    dtype = torch.float64 if dtype is None else check_torch_dtype(dtype)
    device = check_torch_device(device)
    with limit_threads(threads):
        gens = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
        init1, init2 = [], []
        for gen in gens:  # same draws, in the same order, as a single run with that seed
            init1.append(torch.randn(width, d, generator=gen, dtype=dtype) * init_scale / np.sqrt(d))
            init2.append(torch.randn(width, c, generator=gen, dtype=dtype) * init_scale / np.sqrt(width))
        W1 = torch.stack(init1).to(device).requires_grad_()
        W2 = torch.stack(init2).to(device).requires_grad_()
        Xt = torch.as_tensor(X, dtype=dtype, device=device)
        Yt = torch.as_tensor(Y, dtype=dtype, device=device)
        opt = torch.optim.Adam([W1, W2], lr=lr) if optimizer == "adam" else torch.optim.SGD([W1, W2], lr=lr)
        with torch.no_grad():
            initial = _torch_objectives(Xt, Yt, W1, W2, beta).cpu().numpy()
        history = np.empty((len(seeds), epochs))
        full = batch == n
        start = time.perf_counter()
        for epoch in range(epochs):
            if full:  # the objective of this step is the full objective after the previous epoch
                opt.zero_grad()
                obj = _torch_objectives(Xt, Yt, W1, W2, beta)
                if epoch > 0:
                    history[:, epoch - 1] = obj.detach().cpu().numpy()
                obj.sum().backward()
                opt.step()
                continue
            orders = torch.stack([torch.randperm(n, generator=gen) for gen in gens]).to(device)
            for lo in range(0, n, batch):
                idx = orders[:, lo : lo + batch]
                opt.zero_grad()
                scale = n / idx.shape[1]
                _torch_objectives(Xt[idx], Yt[idx], W1, W2, beta, scale).sum().backward()
                opt.step()
            with torch.no_grad():
                history[:, epoch] = _torch_objectives(Xt, Yt, W1, W2, beta).cpu().numpy()
        if full:
            with torch.no_grad():
                history[:, -1] = _torch_objectives(Xt, Yt, W1, W2, beta).cpu().numpy()
        elapsed = time.perf_counter() - start
    if not np.all(np.isfinite(history)):
        raise FloatingPointError(f"{optimizer} diverged (objective became non-finite); lower lr (now {lr})")
    W1n, W2n = W1.detach().cpu().double().numpy(), W2.detach().cpu().double().numpy()
    return [
        TrainResult(VectorNet(W1n[k], W2n[k]), history[k], float(initial[k]), elapsed, optimizer, lr, int(s))
        for k, s in enumerate(seeds)
    ]


def train_vector_network(
    X: np.ndarray,
    Y: np.ndarray,
    width: int,
    beta: float,
    *,
    optimizer: Optimizer = "adam",
    lr: float | None = None,
    epochs: int = 1000,
    seed: int = 0,
    batch_size: int | None = None,
    init_scale: float = 1.0,
    threads: int | None = 1,
    dtype: torch.dtype | None = None,
    device: str = "cpu",
    max_entries: int = 50_000_000,
) -> TrainResult:
    r"""Train ``f(X) = (X W1^T)_+ W2`` (``W1`` ``(m, d)``, ``W2`` ``(m, c)``) on the weight-decay objective.

    Minimises ``0.5 ||f(X) - Y||_F^2 + (beta/2)(||W1||_F^2 + ||W2||_F^2)`` (weight decay inside the loss, as in
    :mod:`cvxnn_core.nonconvex`); with mini-batches of size ``b`` the loss term is scaled by ``n / b``. The
    recorded history is the full-batch objective after every epoch. Initialisation (seeded):
    ``W1 ~ N(0, init_scale^2 / d)``, ``W2 ~ N(0, init_scale^2 / m)``.

    Args:
        X, Y: data ``(n, d)`` and targets ``(n, c)``.
        width: number of neurons ``m``.
        beta: weight decay ``>= 0``.
        optimizer: ``"adam"`` or ``"sgd"``; ``lr`` defaults to 1e-2 (Adam) or 1e-3 (SGD).
        epochs: passes over the data (full batch unless ``batch_size``).
        seed: seeds the initialisation and the mini-batch order.
        threads: torch CPU threads while training (restored afterwards); ``None`` keeps torch's setting.
        dtype: torch dtype, default ``torch.float64``.
    """
    X, Y, width, beta, optimizer, lr, epochs, batch = check_vector_training(
        X, Y, width, beta, optimizer, lr, DEFAULT_LR, epochs, init_scale, batch_size, max_entries
    )
    seed = check_seed(seed)
    (run,) = _train(X, Y, width, beta, optimizer, lr, epochs, [seed], batch, init_scale, threads, dtype, device)
    return run


def train_vector_sweep(
    X: np.ndarray,
    Y: np.ndarray,
    beta: float,
    *,
    widths: Sequence[int],
    seeds: Sequence[int],
    optimizers: Mapping[str, float],
    epochs: int,
    batch_size: int | None = None,
    init_scale: float = 1.0,
    threads: int | None = 1,
    dtype: torch.dtype | None = None,
    device: str = "cpu",
    max_entries: int = 50_000_000,
) -> list[TrainResult]:
    """One run per (optimizer, width, seed), equal to :func:`train_vector_network` with those arguments.

    ``optimizers`` maps ``"adam"``/``"sgd"`` to a step size. The seeds of one (optimizer, width) are trained
    together as a batch of independent networks (same initialisations, same updates, several times
    faster on small problems). Results are ordered by optimizer, width, seed.
    """
    seeds = check_seeds(seeds)
    if not isinstance(optimizers, Mapping):
        raise TypeError(f"optimizers must map 'adam'/'sgd' to a step size, got {type(optimizers).__name__}")
    if isinstance(widths, str) or not isinstance(widths, Sequence | range | np.ndarray):
        raise TypeError(f"widths must be a list of positive integers, got {widths!r}")
    if not widths or not optimizers:
        raise ValueError("widths and optimizers must each name at least one value")
    out = []
    for opt, lr in optimizers.items():
        for m in widths:
            args = check_vector_training(X, Y, m, beta, opt, lr, DEFAULT_LR, epochs, init_scale, batch_size,
                                         max_entries)
            Xc, Yc, width, b, opt_c, lr_c, ep, batch = args
            out.extend(_train(Xc, Yc, width, b, opt_c, lr_c, ep, seeds, batch, init_scale, threads, dtype, device))
    return out

r"""Non-convex baselines in torch: two-layer ReLU networks trained by SGD or Adam with weight decay.

The training objective is exactly the one of :func:`cvxnn_core.recovery.nonconvex_objective`::

    l((X W1^T)_+ w2, y) + (beta/2) (||W1||_F^2 + ||w2||^2)

(sums over samples, no 1/n). Weight decay is part of the loss, not an optimizer option, so SGD
and Adam minimise the same function the convex program certifies. With mini-batches of size
``b`` the loss term is scaled by ``n / b`` so that its expectation is the full objective; the
recorded history is always the full-batch objective, evaluated after each epoch.

Initialisation (seeded): ``W1 ~ N(0, init_scale^2 / d)``, ``w2 ~ N(0, init_scale^2 / m)``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from tqdm import tqdm

from cvxnn_core._shapes import MAX_ENTRIES, check_size
from cvxnn_core._training import TrainResult, limit_threads, show_progress, sweep
from cvxnn_core._training import runs_table as runs_table  # re-exported: the table every chapter makes of its runs
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_labels_pm1,
    check_loss,
    check_nonnegative_number,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_torch_device,
    check_torch_dtype,
    check_X_y,
)
from cvxnn_core.losses import Loss
from cvxnn_core.recovery import TwoLayerNet

Optimizer = Literal["adam", "sgd"]
DEFAULT_LR = {"adam": 1e-2, "sgd": 1e-3}


def torch_loss(f: torch.Tensor, y: torch.Tensor, loss: Loss) -> torch.Tensor:
    """The loss of :mod:`cvxnn_core.losses` on torch tensors of one shape (sums over samples)."""
    if not isinstance(f, torch.Tensor) or not isinstance(y, torch.Tensor):
        raise TypeError(f"f and y must be torch tensors, got {type(f).__name__} and {type(y).__name__}")
    if f.shape != y.shape:
        raise ValueError(f"f has shape {tuple(f.shape)} but y has shape {tuple(y.shape)}; nothing is broadcast")
    loss = check_loss(loss)
    if loss == "squared":
        return 0.5 * torch.sum((f - y) ** 2)
    if loss == "hinge":
        return torch.sum(torch.clamp(1.0 - y * f, min=0.0))
    return torch.sum(torch.nn.functional.softplus(-y * f))


def _objective(X, y, W1, w2, b2, beta, loss, scale=1.0):
    """Weight-decay objective; ``b2`` is ``None`` unless the bias is free (then ``W1[:, -1]`` is unpenalised)."""
    f = torch.relu(X @ W1.T) @ w2
    if b2 is None:
        return scale * torch_loss(f, y, loss) + 0.5 * beta * (torch.sum(W1**2) + torch.sum(w2**2))
    return scale * torch_loss(f + b2, y, loss) + 0.5 * beta * (torch.sum(W1[:, :-1] ** 2) + torch.sum(w2**2))


def train_two_layer(
    X: np.ndarray,
    y: np.ndarray,
    width: int,
    beta: float,
    *,
    optimizer: Optimizer = "adam",
    lr: float | None = None,
    epochs: int = 1000,
    seed: int = 0,
    batch_size: int | None = None,
    loss: Loss = "squared",
    init_scale: float = 1.0,
    momentum: float = 0.0,
    dtype: torch.dtype = torch.float64,
    device: str = "cpu",
    threads: int | None = 1,
    free_bias: bool = False,
    progress: bool | None = None,
    lr_end: float | None = None,
    max_entries: int = MAX_ENTRIES,
) -> TrainResult:
    """Train ``f(X) = (X W1^T)_+ w2`` of the given ``width`` on the weight-decay objective.

    Args:
        X, y: data ``(n, d)`` and targets ``(n,)`` (labels ``+-1`` for hinge/logistic).
        width: number of hidden neurons ``m``.
        beta: weight decay ``>= 0`` (same scaling as the convex program).
        optimizer: ``"adam"`` or ``"sgd"`` (with optional ``momentum``).
        lr: step size; default 1e-2 for Adam, 1e-3 for SGD.
        epochs: passes over the data; full batch unless ``batch_size`` is given.
        seed: seeds the initialisation and the mini-batch order.
        threads: torch CPU threads during training (restored afterwards); the small networks of the
            book train about 3x faster on one thread than on two. ``None`` keeps torch's setting.
        free_bias: the last column of ``X`` is the ones column; its weights (first-layer biases) and an
            output bias ``b2`` are trained without weight decay (the setting of the 1-D spline results).
        progress: tqdm bar; default on only when stderr is a terminal.
        lr_end: if given, the step decays geometrically from ``lr`` to ``lr_end`` over the epochs (an accurate end
            point: a constant Adam step keeps oscillating around it); ``None`` keeps the step constant.
    """
    X, y = check_X_y(X, y)
    if free_bias and not np.all(X[:, -1] == 1.0):
        raise ValueError("free_bias=True needs X whose last column is all ones; use datasets.add_intercept")
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    width = check_positive_int(width, "width")
    epochs = check_positive_int(epochs, "epochs")
    check_size(width * (X.shape[0] + X.shape[1]) + epochs, check_positive_int(max_entries, "max_entries"),
               what="weights, activations and history, entries", keyword="max_entries",
               alternative="use a smaller width or fewer epochs")
    seed = check_seed(seed)
    optimizer = check_choice(optimizer, "optimizer", ("adam", "sgd"))  # type: ignore[assignment]
    lr = DEFAULT_LR[optimizer] if lr is None else check_positive_number(lr, "lr")
    init_scale = check_positive_number(init_scale, "init_scale")
    momentum = check_nonnegative_number(momentum, "momentum")
    dtype = check_torch_dtype(dtype)
    device = check_torch_device(device)
    if momentum != 0 and optimizer == "adam":
        raise ValueError("momentum applies to optimizer='sgd' only; Adam has its own moment estimates")
    n, d = X.shape
    batch = n if batch_size is None else min(check_positive_int(batch_size, "batch_size"), n)
    progress = show_progress(progress)
    gamma = 1.0 if lr_end is None else (check_positive_number(lr_end, "lr_end") / lr) ** (1.0 / epochs)

    with limit_threads(threads):
        return _train(
            X,
            y,
            width,
            beta,
            optimizer,
            lr,
            epochs,
            seed,
            batch,
            loss,
            init_scale,
            momentum,
            dtype,
            device,
            progress,
            free_bias,
            gamma,
        )


def _train(
    X,
    y,
    width,
    beta,
    optimizer,
    lr,
    epochs,
    seed,
    batch,
    loss,
    init_scale,
    momentum,
    dtype,
    device,
    progress,
    free_bias,
    gamma=1.0,
):
    n, d = X.shape
    gen = torch.Generator(device="cpu").manual_seed(seed)
    Xt = torch.as_tensor(X, dtype=dtype, device=device)
    yt = torch.as_tensor(y, dtype=dtype, device=device)
    W1 = (torch.randn(width, d, generator=gen, dtype=dtype) * init_scale / np.sqrt(d)).to(device).requires_grad_()
    w2 = (torch.randn(width, generator=gen, dtype=dtype) * init_scale / np.sqrt(width)).to(device).requires_grad_()
    b2 = torch.zeros((), dtype=dtype, device=device, requires_grad=True) if free_bias else None
    params = [W1, w2] if b2 is None else [W1, w2, b2]
    opt = torch.optim.Adam(params, lr=lr) if optimizer == "adam" else torch.optim.SGD(params, lr=lr, momentum=momentum)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma)

    with torch.no_grad():
        initial = float(_objective(Xt, yt, W1, w2, b2, beta, loss))
    history = np.empty(epochs)
    start = time.perf_counter()
    for epoch in tqdm(range(epochs), desc=f"{optimizer} m={width}", disable=not progress, leave=False):
        order = torch.randperm(n, generator=gen) if batch < n else None
        for lo in range(0, n, batch):
            idx = order[lo : lo + batch].to(device) if order is not None else slice(None)
            opt.zero_grad()
            rows = Xt[idx]
            obj = _objective(rows, yt[idx], W1, w2, b2, beta, loss, scale=n / rows.shape[0])
            obj.backward()
            opt.step()
        sched.step()
        with torch.no_grad():
            history[epoch] = float(_objective(Xt, yt, W1, w2, b2, beta, loss))
    elapsed = time.perf_counter() - start
    if not np.all(np.isfinite(history)):
        raise FloatingPointError(
            f"{optimizer} diverged (objective became {history[~np.isfinite(history)][0]}); lower lr (now {lr})"
        )
    net = TwoLayerNet(
        W1=W1.detach().cpu().double().numpy(),
        w2=w2.detach().cpu().double().numpy(),
        b2=0.0 if b2 is None else float(b2.detach()),
        free_bias=free_bias,
    )
    return TrainResult(
        net=net,
        history=history,
        initial_objective=initial,
        train_time=elapsed,
        optimizer=optimizer,
        lr=lr,
        seed=seed,
    )


def train_sweep(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    *,
    widths: Sequence[int],
    seeds: Sequence[int],
    optimizers: Mapping[str, float],
    epochs: int,
    loss: Loss = "squared",
    progress: bool | None = None,
    **kwargs: Any,
) -> list[TrainResult]:
    """Train one network per (optimizer, width, seed); ``optimizers`` maps ``"adam"``/``"sgd"`` to a step size.

    Extra keyword arguments go to :func:`train_two_layer`. A tqdm bar counts the runs.
    """
    return sweep(
        lambda m, **kw: train_two_layer(X, y, m, beta, epochs=epochs, loss=loss, **kw, **kwargs),
        optimizers=optimizers,
        widths=widths,
        seeds=seeds,
        progress=progress,
    )

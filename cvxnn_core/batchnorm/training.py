"""Training the BN network: the torch module and two backends (torch, numpy) with the same arithmetic."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from cvxnn_core._shapes import MAX_ENTRIES, check_size
from cvxnn_core._training import TrainResult, limit_threads, show_progress, sweep
from cvxnn_core._validation import (
    check_beta,
    check_bn_weights,
    check_choice,
    check_labels_pm1,
    check_loss,
    check_nonnegative_number,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_torch_dtype,
    check_X_y,
)
from cvxnn_core.batchnorm.network import BatchNormNet, whiten
from cvxnn_core.losses import Loss, loss_value

Optimizer = Literal["adam", "sgd"]

Backend = Literal["numpy", "torch"]

Init = Literal["gaussian", "isotropic"]

DEFAULT_LR = {"adam": 1e-2, "sgd": 1e-2}



# --------------------------------------------------------------------------------------------------------------
# Training the BN network: the torch module and two backends with the same arithmetic
# --------------------------------------------------------------------------------------------------------------


class BatchNormReLU(torch.nn.Module):
    """The BN network in torch, train-mode statistics over the batch (the module docstring's BN, no epsilon).

    Parameters ``W1`` ``(m, d)``, ``gamma``, ``alpha``, ``w2`` ``(m,)``. Seeded initialisation:
    ``W1 ~ N(0, 1/d)``, ``gamma = init_scale``, ``alpha = 0``, ``w2 ~ N(0, init_scale^2 / m)``.
    """

    def __init__(
        self, d: int, width: int, *, seed: int = 0, init_scale: float = 1.0, dtype: torch.dtype = torch.float64
    ) -> None:
        super().__init__()
        d, width, seed = check_positive_int(d, "d"), check_positive_int(width, "width"), check_seed(seed)
        init_scale = check_positive_number(init_scale, "init_scale")
        dtype = check_torch_dtype(dtype)
        gen = torch.Generator().manual_seed(seed)
        self.W1 = torch.nn.Parameter(torch.randn(width, d, generator=gen, dtype=dtype) / np.sqrt(d))
        self.gamma = torch.nn.Parameter(torch.full((width,), float(init_scale), dtype=dtype))
        self.alpha = torch.nn.Parameter(torch.zeros(width, dtype=dtype))
        self.w2 = torch.nn.Parameter(torch.randn(width, generator=gen, dtype=dtype) * init_scale / np.sqrt(width))

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``sum_j BN_{gamma_j, alpha_j}(X w1_j)_+ w2_j`` with the statistics of the batch ``X`` ``(n, d)``."""
        if X.ndim != 2 or X.shape[1] != self.W1.shape[1]:
            raise ValueError(f"X must have shape (n, d) = (n, {self.W1.shape[1]}), got {tuple(X.shape)}")
        H = X @ self.W1.T
        Hc = H - H.mean(dim=0)
        bn = self.gamma * Hc / torch.linalg.vector_norm(Hc, dim=0) + self.alpha / np.sqrt(X.shape[0])
        return torch.relu(bn) @ self.w2

    def weight_decay(self) -> torch.Tensor:
        """``0.5 * (||gamma||^2 + ||alpha||^2 + ||w2||^2)`` (``W1`` is not penalised)."""
        return 0.5 * (torch.sum(self.gamma**2) + torch.sum(self.alpha**2) + torch.sum(self.w2**2))

    def numpy_weights(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(W1, gamma, alpha, w2)`` as float64 numpy arrays."""
        return tuple(p.detach().cpu().double().numpy().copy() for p in (self.W1, self.gamma, self.alpha, self.w2))


def bn_objective_and_gradient(
    X: np.ndarray,
    y: np.ndarray,
    W1: np.ndarray,
    gamma: np.ndarray,
    alpha: np.ndarray,
    w2: np.ndarray,
    beta: float,
    loss: Loss = "squared",
) -> tuple[float, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    r"""Objective of :func:`bn_objective` and its gradient in ``(W1, gamma, alpha, w2)``, by hand (backprop).

    With ``H = X W1^T``, ``Hc = H - 1 mean(H)``, ``N_j = ||Hc_j||``, ``Hh = Hc / N``, ``B = gamma Hh + alpha/sqrt(n)``,
    ``f = B_+ w2``, ``r = l'(f)`` and ``G = (r w2^T) * 1[B > 0]``::

        d/dw2 = B_+^T r + beta w2,   d/dalpha = 1^T G / sqrt(n) + beta alpha,   d/dgamma = sum_i G * Hh + beta gamma,
        E = G gamma,   d/dHc_j = (E_j - Hh_j (Hh_j^T E_j)) / N_j,   d/dH = d/dHc - 1 mean(d/dHc),   d/dW1 = (d/dH)^T X.

    (ReLU's derivative is taken as ``1[B > 0]`` and the hinge's as ``-y 1[y f <= 1]``.) The tests check it against
    torch's autograd of :class:`BatchNormReLU`.
    """
    from cvxnn_core.batchnorm.network import batchnorm_forward

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    batchnorm_forward(X, W1, gamma, alpha, w2)  # the checks of the weights and of constant pre-activations
    return _bn_objective_and_gradient(X, y, *check_bn_weights(W1, gamma, alpha, w2), beta, loss)


def _bn_objective_and_gradient(X, y, W1, gamma, alpha, w2, beta, loss):
    """:func:`bn_objective_and_gradient` without the checks (the training loop's inner call)."""
    from cvxnn_core.losses import negative_gradient

    n = X.shape[0]
    root = np.sqrt(n)
    H = X @ W1.T
    Hc = H - H.mean(axis=0)
    N = np.sqrt(np.einsum("ij,ij->j", Hc, Hc))
    Hh = Hc / N
    B = gamma * Hh + alpha / root
    A = np.maximum(B, 0.0)
    f = A @ w2
    r = -negative_gradient(f, y, loss)
    G = np.outer(r, w2) * (B > 0)
    g_w2 = A.T @ r + beta * w2
    g_alpha = G.sum(axis=0) / root + beta * alpha
    g_gamma = np.einsum("ij,ij->j", G, Hh) + beta * gamma
    E = G * gamma
    dHc = (E - Hh * np.einsum("ij,ij->j", Hh, E)) / N
    dHc -= dHc.mean(axis=0)
    g_W1 = dHc.T @ X
    value = loss_value(f, y, loss) + 0.5 * beta * float(gamma @ gamma + alpha @ alpha + w2 @ w2)
    return value, (g_W1, g_gamma, g_alpha, g_w2)


@dataclass(frozen=True)
class BatchNormTrainResult(TrainResult):
    """:class:`cvxnn_core.nonconvex.TrainResult` of :func:`train_batchnorm` (``net`` is a :class:`BatchNormNet`,
    ``history`` holds the objective after each step), plus the ``backend`` that trained it."""

    backend: str = "numpy"


def train_batchnorm(
    X: np.ndarray,
    y: np.ndarray,
    width: int,
    beta: float,
    *,
    optimizer: Optimizer = "adam",
    lr: float | None = None,
    epochs: int = 1000,
    seed: int = 0,
    loss: Loss = "squared",
    init_scale: float = 1.0,
    init: Init = "gaussian",
    momentum: float = 0.0,
    backend: Backend = "numpy",
    threads: int | None = 1,
    progress: bool | None = None,
    max_entries: int = MAX_ENTRIES,
) -> BatchNormTrainResult:
    """Train the BN network of the given ``width`` by full-batch SGD (i.e. gradient descent) or Adam, in float64.

    The objective is exactly :func:`bn_objective` (BN statistics over all ``n`` samples, weight decay on ``gamma``,
    ``alpha``, ``w2`` inside the loss). The initial weights are those of :class:`BatchNormReLU` with ``seed``.
    ``backend="torch"`` runs torch's autograd and ``torch.optim.Adam``/``SGD`` on the module;
    ``backend="numpy"`` (default) runs the same updates (torch's Adam/SGD formulas) on the hand-written gradient
    :func:`bn_objective_and_gradient`, about ten times faster on the small problems of the book. The two give the
    same trajectory up to rounding (tested).

    Args:
        X, y: data ``(n, d)`` (no intercept column) and targets ``(n,)``.
        width: number of neurons ``m``.
        beta: weight decay ``>= 0``.
        optimizer: ``"adam"`` or ``"sgd"`` (with optional ``momentum``); ``lr`` defaults to ``1e-2``.
        epochs: number of full-batch steps; ``history[e]`` is the objective after step ``e + 1``.
        seed: seeds the initialisation.
        init: ``"gaussian"``: ``W1 ~ N(0, 1/d)``, so that ``z_j = S V^T w1_j`` is already weighted by the singular
            values; ``"isotropic"``: ``w1_j = V S^{-1} z_j`` with ``z_j ~ N(0, c I_r)`` (isotropic in the singular
            basis, ``c = sum(s^2) / (d r)`` gives the Gaussian init's expected ``||z_j||``), which removes that
            head start and isolates what gradient descent itself does (see :func:`top_singular_fraction`).
        threads: torch and BLAS CPU threads during training (restored afterwards); ``None`` keeps the settings.
        progress: tqdm bar; default on only when stderr is a terminal.
    """
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    whiten(X)  # raises on constant data
    width = check_positive_int(width, "width")
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    optimizer = check_choice(optimizer, "optimizer", ("adam", "sgd"))  # type: ignore[assignment]
    backend = check_choice(backend, "backend", ("numpy", "torch"))  # type: ignore[assignment]
    init = check_choice(init, "init", ("gaussian", "isotropic"))  # type: ignore[assignment]
    lr = DEFAULT_LR[optimizer] if lr is None else check_positive_number(lr, "lr")
    if momentum != 0 and optimizer == "adam":
        raise ValueError("momentum applies to optimizer='sgd' only; Adam has its own moment estimates")
    momentum = check_nonnegative_number(momentum, "momentum")
    check_size(width * (X.shape[0] + X.shape[1]), check_positive_int(max_entries, "max_entries"),
               what="BN activations and weights, entries", keyword="max_entries", alternative="use a smaller width")
    if not (np.isfinite(momentum) and 0 <= momentum < 1):
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    progress = show_progress(progress)
    with limit_threads(threads, blas=True):
        module = BatchNormReLU(X.shape[1], width, seed=seed, init_scale=init_scale)
        if init == "isotropic":
            with torch.no_grad():
                module.W1.copy_(torch.as_tensor(_isotropic_W1(X, width, seed)))
        run = _train_torch if backend == "torch" else _train_numpy
        start = time.perf_counter()
        initial, history, weights = run(X, y, module, beta, loss, optimizer, lr, momentum, epochs, progress)
        elapsed = time.perf_counter() - start
    if not np.all(np.isfinite(history)):
        raise FloatingPointError(
            f"{optimizer} diverged (objective became {history[~np.isfinite(history)][0]}); lower lr (now {lr})"
        )
    return BatchNormTrainResult(
        net=BatchNormNet.from_training_data(X, *weights),
        history=history,
        initial_objective=initial,
        train_time=elapsed,
        optimizer=optimizer,
        lr=lr,
        seed=seed,
        backend=backend,
    )


def _isotropic_W1(X: np.ndarray, width: int, seed: int) -> np.ndarray:
    """``W1`` whose rows have isotropic singular coordinates ``z = S V^T w1 ~ N(0, c I_r)``, ``c = sum(s^2)/(d r)``."""
    white = whiten(X)
    gen = torch.Generator().manual_seed(seed + 1_000_003)
    Z = torch.randn(width, white.rank, generator=gen, dtype=torch.float64).numpy()
    Z *= np.sqrt(np.sum(white.s**2) / (X.shape[1] * white.rank))
    return (Z / white.s) @ white.V.T


def _bar(epochs: int, optimizer: str, width: int, progress: bool):
    from tqdm import tqdm

    return tqdm(range(epochs), desc=f"BN {optimizer} m={width}", disable=not progress, leave=False)


def _train_torch(X, y, module, beta, loss, optimizer, lr, momentum, epochs, progress):
    from cvxnn_core.nonconvex import torch_loss

    Xt, yt = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64)
    params = list(module.parameters())
    opt = torch.optim.Adam(params, lr=lr) if optimizer == "adam" else torch.optim.SGD(params, lr=lr, momentum=momentum)
    history = np.empty(epochs)
    initial = 0.0
    for epoch in _bar(epochs, optimizer, module.w2.shape[0], progress):
        opt.zero_grad()
        obj = torch_loss(module(Xt), yt, loss) + beta * module.weight_decay()
        if epoch == 0:
            initial = float(obj.detach())
        else:
            history[epoch - 1] = float(obj.detach())  # the objective after the previous step
        obj.backward()
        opt.step()
    with torch.no_grad():
        history[-1] = float(torch_loss(module(Xt), yt, loss) + beta * module.weight_decay())
    return initial, history, module.numpy_weights()


def _train_numpy(X, y, module, beta, loss, optimizer, lr, momentum, epochs, progress):
    params = list(module.numpy_weights())
    first = [np.zeros_like(p) for p in params]  # Adam's first moment, or SGD's momentum buffer
    second = [np.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8  # torch.optim.Adam defaults
    history = np.empty(epochs)
    initial = 0.0
    for epoch in _bar(epochs, optimizer, len(params[3]), progress):
        value, grads = _bn_objective_and_gradient(X, y, *params, beta, loss)
        if epoch == 0:
            initial = value
        else:
            history[epoch - 1] = value
        t = epoch + 1
        for p, g, m1, m2 in zip(params, grads, first, second, strict=True):
            if optimizer == "adam":
                m1 += (1 - beta1) * (g - m1)
                m2 *= beta2
                m2 += (1 - beta2) * g * g
                denom = np.sqrt(m2) / np.sqrt(1 - beta2**t) + eps
                p -= (lr / (1 - beta1**t)) * m1 / denom
            elif momentum:
                if t == 1:
                    m1[...] = g
                else:
                    m1 *= momentum
                    m1 += g
                p -= lr * m1
            else:
                p -= lr * g
    history[-1] = _bn_objective_and_gradient(X, y, *params, beta, loss)[0]
    return initial, history, tuple(params)


def train_batchnorm_sweep(
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
) -> list[BatchNormTrainResult]:
    """One :func:`train_batchnorm` run per (optimizer, width, seed); ``optimizers`` maps a name to its step size."""
    return sweep(
        lambda m, **kw: train_batchnorm(X, y, m, beta, epochs=epochs, loss=loss, **kw, **kwargs),
        optimizers=optimizers,
        widths=widths,
        seeds=seeds,
        desc="BN training runs",
        progress=progress,
    )

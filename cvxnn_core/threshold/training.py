"""Straight-through training of threshold networks (the non-convex baseline of the paper's public code)."""

from __future__ import annotations

import time

import numpy as np

from cvxnn_core._training import TrainResult, limit_threads, progress_bar
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X_y,
)
from cvxnn_core.threshold.networks import ThresholdNet

SURROGATES = ("identity", "relu")


def train_threshold_ste(
    X: np.ndarray, y: np.ndarray, widths: tuple[int, ...] | list[int], beta: float, *, epochs: int = 2000,
    lr: float = 1e-2, seed: int = 0, surrogate: str = "identity", threads: int | None = 1,
    progress: bool | None = None,
) -> TrainResult:
    """Train a threshold network with hidden ``widths`` (``(m,)``: two layers; ``(m_1, m_2)``: three) by full-batch
    Adam on ``0.5 ||f(X) - y||^2 + (beta/2) (||s||^2 + ||alpha||^2)`` (:class:`ThresholdNet`), with the
    straight-through estimator: the forward pass is ``1[u >= 0]``, the backward pass the derivative of ``u``
    (``surrogate="identity"``) or of ``max(u, 0)`` (``"relu"``). Hidden weights start ``N(0, 1/fan_in)``, amplitudes
    and output weights ``N(0, 1/m_L)``. ``history`` holds the exact objective of the threshold network per epoch."""
    import torch

    X, y = check_X_y(X, y)
    if isinstance(widths, str | bytes) or not isinstance(widths, tuple | list) or not 1 <= len(widths) <= 4:
        raise ValueError(f"widths must be a tuple of 1 to 4 hidden widths, e.g. (50,) or (100, 20), got {widths!r}")
    widths = tuple(check_positive_int(m, "widths[i]") for m in widths)
    beta = check_beta(beta)
    epochs = check_positive_int(epochs, "epochs")
    lr = check_positive_number(lr, "lr")
    seed = check_seed(seed)
    surrogate = check_choice(surrogate, "surrogate", SURROGATES)

    class _Step(torch.autograd.Function):
        @staticmethod
        def forward(ctx, u):
            ctx.save_for_backward(u)
            return (u >= 0).to(u.dtype)

        @staticmethod
        def backward(ctx, grad):
            (u,) = ctx.saved_tensors
            return grad if surrogate == "identity" else grad * (u >= 0).to(u.dtype)

    with limit_threads(threads):
        gen = torch.Generator().manual_seed(seed)
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        fans = [X.shape[1]] + [m + 1 for m in widths[:-1]]
        hidden = [(torch.randn(m, f, generator=gen, dtype=torch.float64) / np.sqrt(f)).requires_grad_()
                  for m, f in zip(widths, fans, strict=True)]
        s = (torch.randn(widths[-1], generator=gen, dtype=torch.float64) / np.sqrt(widths[-1])).requires_grad_()
        a = (torch.randn(widths[-1], generator=gen, dtype=torch.float64) / np.sqrt(widths[-1])).requires_grad_()
        opt = torch.optim.Adam([*hidden, s, a], lr=lr)
        ones = torch.ones(X.shape[0], 1, dtype=torch.float64)

        def forward(step):
            h = Xt
            for i, W in enumerate(hidden):
                h = step(h @ W.T)
                if i < len(hidden) - 1:
                    h = torch.cat([h, ones], dim=1)
            f = h @ (s * a)
            return 0.5 * torch.sum((f - yt) ** 2) + 0.5 * beta * (s @ s + a @ a)

        history = np.empty(epochs)
        start = time.perf_counter()
        with torch.no_grad():
            initial = float(forward(lambda u: (u >= 0).to(u.dtype)))
        for epoch in progress_bar(progress, iterable=range(epochs), desc=f"STE {widths}"):
            opt.zero_grad()
            obj = forward(_Step.apply)
            obj.backward()
            opt.step()
            history[epoch] = float(obj.detach())  # the forward pass is exact: this is the network's objective
        with torch.no_grad():
            net = ThresholdNet(tuple(W.detach().numpy().copy() for W in hidden), s.detach().numpy().copy(),
                               a.detach().numpy().copy())
        history[-1] = net.objective(X, y, beta)  # after the last step
        return TrainResult(net, history, initial, time.perf_counter() - start, "adam (STE)", lr, seed)

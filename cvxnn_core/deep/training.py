"""Torch training: deep linear nets (GD), a ReLU net with BN before the last layer, deep ReLU nets for 1-D data."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cvxnn_core._linalg import whiten_columns as whiten_columns  # re-exported: the input the closed forms expect
from cvxnn_core._shapes import MAX_ENTRIES, check_array, check_size
from cvxnn_core._training import TrainResult, limit_threads
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_class_labels,
    check_layers,
    check_n_layers,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
    check_X_y,
    check_Y,
)
from cvxnn_core.deep.collapse import neural_collapse_metrics

LRSchedule = Literal["constant", "cosine"]

LR_SCHEDULES = ("constant", "cosine")



# --------------------------------------------------------------------------------------------------------------
# Torch training: deep linear nets (GD), a ReLU net with BN before the last layer, deep ReLU nets for 1-D data
# --------------------------------------------------------------------------------------------------------------


def _record_points(total: int, n_records: int) -> np.ndarray:
    """Log-spaced iteration counts in ``[0, total]``, always including 0 and ``total``."""
    pts = np.unique(np.r_[0, np.geomspace(1, total, max(n_records - 1, 1)).round().astype(int), total])
    return pts[(pts >= 0) & (pts <= total)]


def _scheduler(opt, lr_schedule: str, epochs: int):
    import torch

    if lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)


@dataclass(frozen=True)
class DeepLinearResult:
    """Outcome of :func:`train_deep_linear`.

    ``weights``: the trained layers (numpy, float64); ``steps`` ``(R,)``: the GD iterations at which the
    history was recorded (0 = initialisation); ``history`` ``(R,)``: the objective there (``objective``: its last
    value, that of the returned weights); ``op_norms`` / ``fro_norms`` ``(R, L)``:
    each layer's operator and Frobenius norm at those iterations; ``beta``, ``lr``, ``seed``, ``train_time`` (s).
    """

    weights: list[np.ndarray]
    steps: np.ndarray
    history: np.ndarray
    op_norms: np.ndarray
    fro_norms: np.ndarray
    beta: float
    lr: float
    seed: int
    train_time: float

    @property
    def objective(self) -> float:
        """Objective of the returned weights."""
        return float(self.history[-1])


def train_deep_linear_sweep(
    X: np.ndarray,
    Y: np.ndarray,
    betas: Sequence[float],
    *,
    n_layers: int = 2,
    width: int | None = None,
    lr: float = 0.05,
    steps: int = 2000,
    seed: int = 0,
    init_scale: float = 1.0,
    n_records: int = 50,
    threads: int | None = 1,
    max_entries: int = MAX_ENTRIES,
) -> list[DeepLinearResult]:
    """Train one deep linear net per ``beta`` by full-batch gradient descent (no momentum), all in one batched loop.

    Every network starts from the same seeded initialisation ``W_l ~ N(0, init_scale^2 / fan_in)`` (``fan_in`` =
    rows of ``W_l``) and minimises ``0.5 ||X W_1 ... W_L - Y||_F^2 + (beta/2) sum_l ||W_l||_F^2`` with step ``lr``
    for ``steps`` iterations. ``width`` is the hidden width ``m`` (default ``d``). The history is recorded at
    ``n_records`` log-spaced iterations (plus 0 and ``steps``).
    """
    import torch

    X = check_X(X)
    n, d = X.shape
    Y = check_Y(Y, n)
    c = Y.shape[1]
    if isinstance(betas, str) or not isinstance(betas, Sequence | np.ndarray) or len(betas) == 0:
        raise TypeError(f"betas must be a non-empty sequence of numbers >= 0, got {betas!r}")
    beta_list = [check_beta(b, "betas[i]") for b in betas]
    L = check_n_layers(n_layers)
    m = d if width is None else check_positive_int(width, "width")
    lr = check_positive_number(lr, "lr")
    steps = check_positive_int(steps, "steps")
    seed = check_seed(seed)
    init_scale = check_positive_number(init_scale, "init_scale")
    n_records = check_positive_int(n_records, "n_records")
    dims = [d] + [m] * (L - 1) + [c]
    B = len(beta_list)
    check_size(B * sum(dims[i] * dims[i + 1] for i in range(L)), check_positive_int(max_entries, "max_entries"),
               what="batched weights (betas x layers), entries", keyword="max_entries",
               alternative="use a smaller width or fewer betas")
    record = set(_record_points(steps, n_records).tolist())

    with limit_threads(threads):
        gen = torch.Generator().manual_seed(seed)
        init = [torch.randn(dims[i], dims[i + 1], generator=gen, dtype=torch.float64) for i in range(L)]
        Ws = [
            (W * init_scale / np.sqrt(dims[i])).expand(B, -1, -1).clone().requires_grad_() for i, W in enumerate(init)
        ]
        Xt = torch.as_tensor(X)
        Yt = torch.as_tensor(Y)
        bt = torch.tensor(beta_list, dtype=torch.float64)
        opt = torch.optim.SGD(Ws, lr=lr)

        def objectives() -> torch.Tensor:
            f = Xt.expand(B, -1, -1)
            for W in Ws:
                f = f @ W
            fit = 0.5 * torch.sum((f - Yt) ** 2, dim=(1, 2))
            return fit + 0.5 * bt * sum(torch.sum(W**2, dim=(1, 2)) for W in Ws)

        rec_steps, rec_obj, rec_op, rec_fro = [], [], [], []
        start = time.perf_counter()
        for it in range(steps + 1):
            opt.zero_grad()
            obj = objectives()
            if it in record:
                if not bool(torch.isfinite(obj).all()):
                    raise FloatingPointError(
                        f"gradient descent diverged (objective {obj.tolist()}); lower lr (now {lr})"
                    )
                with torch.no_grad():
                    rec_steps.append(it)
                    rec_obj.append(obj.detach().numpy().copy())
                    rec_op.append(np.stack([torch.linalg.matrix_norm(W, 2).numpy() for W in Ws], axis=1))
                    rec_fro.append(np.stack([torch.linalg.matrix_norm(W).numpy() for W in Ws], axis=1))
            if it == steps:
                break
            obj.sum().backward()
            opt.step()
        elapsed = time.perf_counter() - start
        final = [W.detach().numpy().copy() for W in Ws]

    obj_arr, op_arr, fro_arr = np.array(rec_obj), np.array(rec_op), np.array(rec_fro)
    return [
        DeepLinearResult(
            weights=[W[b] for W in final],
            steps=np.array(rec_steps),
            history=obj_arr[:, b],
            op_norms=op_arr[:, b],
            fro_norms=fro_arr[:, b],
            beta=beta_list[b],
            lr=lr,
            seed=seed,
            train_time=elapsed,
        )
        for b in range(B)
    ]


def train_deep_linear(
    X: np.ndarray,
    Y: np.ndarray,
    beta: float,
    *,
    n_layers: int = 3,
    width: int | None = None,
    lr: float = 0.05,
    steps: int = 2000,
    seed: int = 0,
    init_scale: float = 1.0,
    n_records: int = 50,
    threads: int | None = 1,
    max_entries: int = MAX_ENTRIES,
) -> DeepLinearResult:
    """Train ``f(X) = X W_1 ... W_L`` by full-batch GD on ``0.5 ||f(X) - Y||_F^2 + (beta/2) sum_l ||W_l||_F^2``.

    See :func:`train_deep_linear_sweep` (this is the sweep with a single ``beta``).
    """
    return train_deep_linear_sweep(
        X,
        Y,
        [check_beta(beta)],
        n_layers=n_layers,
        width=width,
        lr=lr,
        steps=steps,
        seed=seed,
        init_scale=init_scale,
        n_records=n_records,
        threads=threads,
        max_entries=max_entries,
    )[0]


@dataclass(frozen=True)
class BNClassifierResult:
    """Outcome of :func:`train_bn_relu_classifier`.

    ``history``: one dict per recorded epoch (``epoch``, ``objective``, ``train_accuracy`` and the six
    :class:`NCMetrics`); ``features`` ``(n, m)``: last-hidden-layer features (the BN output, after a ReLU if
    ``relu_after_bn``) of the trained net and ``initial_features`` at initialisation; ``classifier`` ``(C, m)``:
    last-layer weights; ``bias`` ``(C,)``; ``predictions`` ``(n,)``.
    """

    history: list[dict[str, float]] = field(repr=False)
    initial_features: np.ndarray = field(repr=False)
    features: np.ndarray = field(repr=False)
    classifier: np.ndarray = field(repr=False)
    bias: np.ndarray = field(repr=False)
    predictions: np.ndarray = field(repr=False)
    train_time: float = 0.0


def train_bn_relu_classifier(
    X: np.ndarray,
    labels: np.ndarray,
    *,
    depth: int = 3,
    width: int = 64,
    beta: float = 1.0,
    lr: float = 1e-2,
    epochs: int = 1000,
    seed: int = 0,
    n_records: int = 30,
    lr_schedule: LRSchedule = "constant",
    relu_after_bn: bool = False,
    bn_eps: float = 1e-5,
    threads: int | None = 1,
) -> BNClassifierResult:
    r"""Train a ReLU classifier with batch normalisation before the last layer; record NC1-NC4 during training.

    Architecture (``depth`` linear layers, ``depth >= 2``; weights act on the right)::

        h_1 = relu(X A_1 + a_1),  h_l = relu(h_{l-1} A_l + a_l)   for l = 2..depth-2,
        z = h_{depth-2} A_{depth-1}  (h_0 = X),   H = BN(z)  (or relu(BN(z)) with relu_after_bn=True),
        BN(z) = gamma * (z - mean) / sqrt(var + eps) + alpha,
        f = H W^T + b        (W: (C, width), one row per class)

    with batch statistics over the full training set (full-batch training: train and evaluation coincide).
    Objective: ``0.5 ||f - Y||_F^2 + (beta/2) (sum_l ||A_l||_F^2 + ||gamma||^2 + ||alpha||^2 + ||W||_F^2)`` for one-hot
    ``Y``; the biases ``a_l``, ``b`` are not penalised. Optimiser: full-batch Adam with step ``lr``, constant or
    (``lr_schedule="cosine"``) decayed from ``lr`` to 0 along a cosine. Initialisation (seeded):
    ``A_l, W ~ N(0, 1/fan_in)``, ``gamma = 1``, zero biases and ``alpha``.

    The NC metrics of the features ``H`` (the input of the last layer) are recorded at ``n_records`` log-spaced
    epochs including 0 (the initialisation) and ``epochs``. With ``relu_after_bn=False`` (default) the objective is
    bounded below by :func:`bn_collapse_optimum`, whose minimisers are neurally collapsed.
    """
    import torch

    X = check_X(X)
    n, d = X.shape
    labels, C = check_class_labels(labels, n)
    depth = check_positive_int(depth, "depth")
    if depth < 2:
        raise ValueError(f"depth must be >= 2 (at least the BN layer and the classifier), got {depth}")
    m = check_positive_int(width, "width")
    beta = check_beta(beta)
    lr = check_positive_number(lr, "lr")
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    n_records = check_positive_int(n_records, "n_records")
    lr_schedule = check_choice(lr_schedule, "lr_schedule", LR_SCHEDULES)
    bn_eps = check_positive_number(bn_eps, "bn_eps")
    if not isinstance(relu_after_bn, bool | np.bool_):
        raise TypeError(f"relu_after_bn must be True or False, got {relu_after_bn!r}")
    record = set(_record_points(epochs, n_records).tolist())

    with limit_threads(threads):
        gen = torch.Generator().manual_seed(seed)
        dt = torch.float64

        def randn(rows: int, cols: int) -> torch.Tensor:
            return (torch.randn(rows, cols, generator=gen, dtype=dt) / np.sqrt(rows)).requires_grad_()

        dims = [d] + [m] * (depth - 1)
        A = [randn(dims[i], dims[i + 1]) for i in range(depth - 1)]
        a = [torch.zeros(m, dtype=dt, requires_grad=True) for _ in range(depth - 2)]
        gamma = torch.ones(m, dtype=dt, requires_grad=True)
        alpha = torch.zeros(m, dtype=dt, requires_grad=True)
        W = randn(m, C)  # stored (m, C); reported transposed as (C, m)
        b = torch.zeros(C, dtype=dt, requires_grad=True)
        Xt = torch.as_tensor(X)
        Yt = torch.as_tensor(np.eye(C)[labels])
        opt = torch.optim.Adam([*A, *a, gamma, alpha, W, b], lr=lr)
        sched = _scheduler(opt, lr_schedule, epochs)

        def forward() -> tuple[torch.Tensor, torch.Tensor]:
            h = Xt
            for Al, al in zip(A[:-1], a, strict=True):
                h = torch.relu(h @ Al + al)
            z = h @ A[-1]
            z = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + bn_eps)
            H = gamma * z + alpha
            if relu_after_bn:
                H = torch.relu(H)
            return H, H @ W + b

        def objective(out: torch.Tensor) -> torch.Tensor:
            penalty = sum(torch.sum(Al**2) for Al in A) + torch.sum(gamma**2) + torch.sum(alpha**2) + torch.sum(W**2)
            return 0.5 * torch.sum((out - Yt) ** 2) + 0.5 * beta * penalty

        history = []
        start = time.perf_counter()
        for epoch in range(epochs + 1):
            opt.zero_grad()
            H, out = forward()
            obj = objective(out)
            if epoch == 0:
                initial_features = H.detach().numpy().copy()
            if epoch in record:
                with torch.no_grad():
                    pred = out.argmax(1).numpy()
                    metrics = neural_collapse_metrics(
                        H.numpy(), labels, classifier=W.T.numpy(), predictions=pred
                    ).as_dict()
                accuracy = float(np.mean(pred == labels))
                history.append(
                    {"epoch": epoch, "objective": float(obj.detach()), "train_accuracy": accuracy, **metrics}
                )
            if epoch == epochs:
                break
            obj.backward()
            opt.step()
            sched.step()
        elapsed = time.perf_counter() - start
        if not np.isfinite(history[-1]["objective"]):
            raise FloatingPointError(f"training diverged; lower lr (now {lr})")
        with torch.no_grad():
            H, out = forward()
        return BNClassifierResult(
            history=history,
            initial_features=initial_features,
            features=H.numpy().copy(),
            classifier=W.detach().numpy().T.copy(),
            bias=b.detach().numpy().copy(),
            predictions=out.argmax(1).numpy(),
            train_time=elapsed,
        )


@dataclass(frozen=True)
class DeepReLUNet:
    """Fully connected ReLU network ``f(X) = relu(... relu(X W_1 + b_1) ...) W_L + b_L`` (weights on the right).

    ``weights[l]`` ``(d_{l-1}, d_l)``, ``biases[l]`` ``(d_l,)``; a scalar output has ``d_L = 1``.
    """

    weights: list[np.ndarray]
    biases: list[np.ndarray]

    def __post_init__(self) -> None:
        weights = check_layers(self.weights)
        if not isinstance(self.biases, list | tuple) or len(self.biases) != len(weights):
            count = len(self.biases) if isinstance(self.biases, list | tuple) else type(self.biases).__name__
            raise ValueError(f"biases must hold one vector per layer: got {count} for {len(weights)} layers")
        biases = [check_array(np.ravel(b), f"biases[{i}]", (W.shape[1],), labels=("d_l",))
                  for i, (W, b) in enumerate(zip(weights, self.biases, strict=True))]
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "biases", biases)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Outputs ``(n,)`` for a scalar-output net, ``(n, c)`` otherwise."""
        h = check_X(X)
        if h.shape[1] != self.weights[0].shape[0]:
            raise ValueError(f"X must have {self.weights[0].shape[0]} columns, got {h.shape[1]}")
        for W, bias in zip(self.weights[:-1], self.biases[:-1], strict=True):
            h = np.maximum(h @ W + bias, 0.0)
        out = h @ self.weights[-1] + self.biases[-1]
        return out[:, 0] if out.shape[1] == 1 else out

    def weight_decay(self) -> float:
        """``0.5 * sum_l ||W_l||_F^2`` (biases are not penalised)."""
        return 0.5 * float(sum(np.sum(W**2) for W in self.weights))


def train_deep_relu(
    X: np.ndarray,
    y: np.ndarray,
    *,
    depth: int = 3,
    width: int = 50,
    beta: float = 1e-3,
    lr: float = 1e-2,
    epochs: int = 3000,
    seed: int = 0,
    lr_schedule: LRSchedule = "cosine",
    threads: int | None = 1,
) -> TrainResult:
    """Train a deep scalar-output ReLU net (``depth`` linear layers, hidden width ``width``) on the squared loss.

    Objective: ``0.5 ||f(X) - y||^2 + (beta/2) sum_l ||W_l||_F^2``; the biases are free (not penalised), the setting
    of the 1-D spline-interpolation results. Full-batch Adam with step ``lr``, by default decayed to 0 along a cosine
    (``lr_schedule="constant"`` keeps it).
    Initialisation (seeded): ``W_l ~ N(0, 2/fan_in)`` (He), biases ``~ U(-1, 1)`` in the hidden layers (kinks
    spread over the data range), 0 at the output.
    """
    import torch

    X, y = check_X_y(X, y)
    n, d = X.shape
    depth = check_positive_int(depth, "depth")
    if depth < 2:
        raise ValueError(f"depth must be >= 2, got {depth}")
    width = check_positive_int(width, "width")
    beta = check_beta(beta)
    lr = check_positive_number(lr, "lr")
    epochs = check_positive_int(epochs, "epochs")
    seed = check_seed(seed)
    lr_schedule = check_choice(lr_schedule, "lr_schedule", LR_SCHEDULES)
    dims = [d] + [width] * (depth - 1) + [1]

    with limit_threads(threads):
        gen = torch.Generator().manual_seed(seed)
        dt = torch.float64
        Ws = [
            (torch.randn(dims[i], dims[i + 1], generator=gen, dtype=dt) * np.sqrt(2.0 / dims[i])).requires_grad_()
            for i in range(depth)
        ]
        bs = [
            (
                (torch.rand(dims[i + 1], generator=gen, dtype=dt) * 2 - 1)
                if i < depth - 1
                else torch.zeros(1, dtype=dt)
            ).requires_grad_()
            for i in range(depth)
        ]
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)[:, None]
        opt = torch.optim.Adam([*Ws, *bs], lr=lr)
        sched = _scheduler(opt, lr_schedule, epochs)

        def objective() -> torch.Tensor:
            h = Xt
            for W, bias in zip(Ws[:-1], bs[:-1], strict=True):
                h = torch.relu(h @ W + bias)
            f = h @ Ws[-1] + bs[-1]
            return 0.5 * torch.sum((f - yt) ** 2) + 0.5 * beta * sum(torch.sum(W**2) for W in Ws)

        with torch.no_grad():
            initial = float(objective())
        history = np.empty(epochs)
        start = time.perf_counter()
        for epoch in range(epochs):
            opt.zero_grad()
            obj = objective()
            obj.backward()
            opt.step()
            sched.step()
            with torch.no_grad():
                history[epoch] = float(objective())
        elapsed = time.perf_counter() - start
    if not np.all(np.isfinite(history)):
        raise FloatingPointError(f"training diverged; lower lr (now {lr})")
    net = DeepReLUNet(
        weights=[W.detach().numpy().copy() for W in Ws], biases=[bias.detach().numpy().copy() for bias in bs]
    )
    return TrainResult(net=net, history=history, initial_objective=initial, train_time=elapsed, optimizer="adam",
                       lr=lr, seed=seed)

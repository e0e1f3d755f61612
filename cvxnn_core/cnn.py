r"""Convolutional networks as convex programs (Ergen & Pilanci, ICLR 2021; Pilanci & Ergen, ICML 2020).

Patches
-------
:func:`extract_patches` turns ``n`` images ``(n, H, W)`` (or 1-D signals ``(n, L)``) into an array
``patches`` of shape ``(n, K, h)``: ``K`` patches of ``h`` pixels each (row-major order of the patch
positions, each patch flattened row-major). Stacking the patches of all samples gives the patch
matrix ``Z = patches.reshape(n * K, h)``; row ``(j, k)`` is patch ``k`` of sample ``j``. A filter bias
is a ones entry appended to every patch (:func:`add_patch_intercept`).

Two-layer ReLU CNN with global average pooling
----------------------------------------------
``m`` filters ``u_j`` (rows of ``filters``, shape ``(m, h)``) and output weights ``w2`` ``(m,)``::

    f(x) = sum_j w2_j * s * sum_k (x_k^T u_j)_+ ,     s = 1/K ("average" pooling) or 1 ("sum" pooling),

trained on ``l(f(X), y) + (beta/2) (||filters||_F^2 + ||w2||^2)`` (sums over samples, as everywhere in
the book). Average pooling is the default.

Convex program (Ergen & Pilanci 2021, the two-layer CNN theorem). A pattern is a boolean column
``D_i`` over the ``n K`` rows of ``Z`` (the activation of one filter on every patch of every sample);
``D_i^k`` denotes its block for patch ``k``::

    min_{v_i, w_i}  l( s * sum_i sum_k D_i^k X_k (v_i - w_i) ) + beta * sum_i (||v_i||_2 + ||w_i||_2)
    s.t.            (2 D_i - I) Z v_i >= 0,  (2 D_i - I) Z w_i >= 0          (one cone row per patch).

The cone constraint gives ``D_i^k X_k v_i = (X_k v_i)_+`` on every patch, so every non-zero block is
one filter: ``u = v_i / sqrt(||v_i||)``, ``w2 = +-sqrt(||v_i||)`` (:func:`cnn_network`), and the
recovered CNN's weight-decay objective equals the convex objective. Conversely every filter ``u`` lies
in the closed cone of its own pattern ``1[Z u >= 0]``, so with the complete arrangement of the rows of
``Z`` (:func:`enumerate_patch_patterns`; at most ``2 sum_{k<h} C(nK - 1, k)`` patterns, polynomial in
``n K`` and exponential only in the filter size ``h``) the convex optimum is a lower bound on the
objective of every CNN of any width, attained by the recovered one. With sampled patterns
(:func:`sample_patch_patterns`) the program is a restriction: an upper bound attained by a CNN.

Linear CNN with circular convolution (Pilanci & Ergen 2020)
-----------------------------------------------------------
Signals ``x`` in ``R^d``, ``m`` channels with full-length circular filters ``u_j`` and fully connected
output weights ``w_j`` (rows of ``U``, ``W2``, shape ``(m, d)``)::

    f(x) = sum_j w_j^T (u_j * x),      (u * x)_a = sum_b u_{(a - b) mod d} x_b,

with weight decay ``(beta/2)(||U||_F^2 + ||W2||_F^2)``. The network is linear, ``f(x) = g^T x``, and
the least weight decay that realises a given ``g`` is ``||F g||_1 / d`` (``F`` the DFT matrix,
``F g = numpy.fft.fft(g)``). Hence training is the convex, spectrally sparse program::

    min_g  l(X g) + (beta / d) * ||F g||_1                                       (DFT domain)

equal to the nuclear-norm program ``min_M l(<M, T(x_j)>) + beta ||M||_*`` over ``M = sum_j u_j w_j^T``
(:func:`solve_circular_nuclear`). One channel suffices: :func:`circular_cnn_from_dft`. When the data
are closed under circular shifts, ``X^T X`` is circulant and the DFT program separates over
frequencies: complex soft-thresholding (:func:`circular_closed_form`, squared loss).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cvxnn_core._cvx import CNN_SOLVER_OPTIONS, check_solver, clean_blocks, project_blocks, solve_linked
from cvxnn_core._training import TrainResult, limit_threads
from cvxnn_core._validation import (
    check_beta,
    check_channels,
    check_choice,
    check_int_pair,
    check_labels_pm1,
    check_loss,
    check_nonnegative_int,
    check_optimizer,
    check_patterns,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
    check_y,
)
from cvxnn_core.losses import Loss, loss_value
from cvxnn_core.patterns import enumerate_patterns, sample_patterns

Pooling = Literal["average", "sum"]
POOLINGS = ("average", "sum")
CIRCULANT_ATOL = 1e-9  # relative tolerance on ||X^T X - circulant|| accepted by circular_closed_form


# --------------------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------------------


def extract_patches(
    images: np.ndarray,
    patch_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int = 0,
) -> np.ndarray:
    """All ``patch_size`` patches of each image, shape ``(n, K, h)``.

    ``images`` is ``(n, H, W)`` (2-D; ``patch_size`` and ``stride`` an int or a pair, ``h = ph * pw``)
    or ``(n, L)`` (1-D signals; ints, ``h = patch_size``). ``padding`` zeros are added on every side.
    Patch positions are in row-major order; each patch is flattened row-major, so
    ``patches[j, k].reshape(ph, pw)`` is the image window.
    """
    try:
        arr = np.asarray(images, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"images must be a numeric array (n, H, W) or (n, L); got {type(images).__name__}") from exc
    if arr.ndim not in (2, 3) or min(arr.shape) == 0:
        raise ValueError(f"images must have shape (n, H, W) (images) or (n, L) (signals), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("images contains NaN or inf; remove or impute those pixels first")
    padding = check_nonnegative_int(padding, "padding")
    if arr.ndim == 2:
        if isinstance(patch_size, tuple | list) or isinstance(stride, tuple | list):
            raise ValueError("for 1-D signals (n, L) patch_size and stride must be ints")
        arr = arr[:, None, :]
        ph, pw = 1, check_positive_int(patch_size, "patch_size")
        sh, sw = 1, check_positive_int(stride, "stride")
        pad = ((0, 0), (padding, padding))
    else:
        (ph, pw), (sh, sw) = check_int_pair(patch_size, "patch_size"), check_int_pair(stride, "stride")
        pad = ((padding,) * 2,) * 2
    arr = np.pad(arr, ((0, 0), *pad))
    n, H, W = arr.shape
    if ph > H or pw > W:
        raise ValueError(f"patch_size ({ph}, {pw}) is larger than the padded input ({H}, {W})")
    windows = np.lib.stride_tricks.sliding_window_view(arr, (ph, pw), axis=(1, 2))[:, ::sh, ::sw]
    return np.ascontiguousarray(windows.reshape(n, -1, ph * pw))


def check_patches(patches: object, name: str = "patches") -> np.ndarray:
    """Return ``patches`` as a finite float64 array of shape ``(n, K, h)``."""
    try:
        arr = np.asarray(patches, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n, K, h); got {type(patches).__name__}") from exc
    if arr.ndim != 3 or min(arr.shape) == 0:
        raise ValueError(f"{name} must have shape (n, K, h) (see extract_patches), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def add_patch_intercept(patches: np.ndarray) -> np.ndarray:
    """Append a ones entry to every patch: ``(n, K, h + 1)``; the last filter weight is then its bias."""
    P = check_patches(patches)
    return np.concatenate([P, np.ones((*P.shape[:2], 1))], axis=2)


def stack_patches(patches: np.ndarray) -> np.ndarray:
    """The patch matrix ``Z`` of shape ``(n K, h)``: row ``j K + k`` is patch ``k`` of sample ``j``."""
    P = check_patches(patches)
    return P.reshape(-1, P.shape[2])


def sample_patch_patterns(patches: np.ndarray, n_patterns: int, *, seed: int = 0) -> np.ndarray:
    """Patterns ``1[Z g_i >= 0]`` of Gaussian gates over the stacked patches: boolean ``(n K, P)``."""
    return sample_patterns(stack_patches(patches), n_patterns, seed=seed)


def enumerate_patch_patterns(patches: np.ndarray) -> np.ndarray:
    """The complete arrangement of the ``n K`` patch rows: every pattern a filter can produce, ``(n K, P)``.

    Practical for small filters (``h <= 3``) or few patches; refused with a ``ValueError`` when too large.
    """
    return enumerate_patterns(stack_patches(patches))


def _scale(pooling: str, K: int) -> float:
    return 1.0 / K if check_choice(pooling, "pooling", POOLINGS) == "average" else 1.0


# --------------------------------------------------------------------------------------------------
# Two-layer ReLU CNN: convex program, recovery, objective
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvexCNNResult:
    """Solution of :func:`solve_cnn_relu`.

    ``objective`` (at the returned variables), ``V``, ``W`` (``(P, h)``), ``patterns`` (``(n K, P)``),
    ``n_patches`` (``K``), ``pooling``, ``status``, ``solver``, ``solve_time`` (s), ``beta``, ``loss``,
    ``dual`` (``(n,)``, the multiplier of the predictions, ``= -grad l(f)`` at the optimum).
    """

    objective: float
    V: np.ndarray
    W: np.ndarray
    patterns: np.ndarray
    n_patches: int
    pooling: str
    status: str
    solver: str
    solve_time: float
    beta: float
    loss: str
    dual: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_active_blocks(self) -> int:
        """Number of non-zero blocks (= filters of the recovered CNN)."""
        return int(np.sum(np.any(self.V != 0, axis=1)) + np.sum(np.any(self.W != 0, axis=1)))

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """``s * sum_i sum_k D_i^k X_k (v_i - w_i)`` on the training patches the patterns were built from."""
        return convex_cnn_predictions(patches, self.patterns, self.V - self.W, self.pooling)


def convex_cnn_predictions(patches: np.ndarray, patterns: np.ndarray, U: np.ndarray, pooling: Pooling) -> np.ndarray:
    """``s * sum_k sum_i D_i^k X_k u_i`` for ``U`` of shape ``(P, h)``; shape ``(n,)``."""
    P = check_patches(patches)
    n, K, h = P.shape
    Z = P.reshape(n * K, h)
    rows = np.sum(patterns * (Z @ U.T), axis=1)
    return _scale(pooling, K) * rows.reshape(n, K).sum(axis=1)


def convex_cnn_objective(
    patches: np.ndarray,
    y: np.ndarray,
    patterns: np.ndarray,
    V: np.ndarray,
    W: np.ndarray,
    beta: float,
    loss: Loss = "squared",
    pooling: Pooling = "average",
) -> float:
    """``l(s sum_i sum_k D_i^k X_k (v_i - w_i)) + beta sum_i (||v_i|| + ||w_i||)`` (cones not checked)."""
    f = convex_cnn_predictions(patches, patterns, V - W, pooling)
    return loss_value(f, y, loss) + beta * float(np.sum(np.linalg.norm(V, axis=1)) + np.sum(np.linalg.norm(W, axis=1)))


def _prepare_cnn(patches, y, beta, patterns, loss, pooling):
    P = check_patches(patches)
    n, K, _ = P.shape
    y = check_y(y, n)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    check_choice(pooling, "pooling", POOLINGS)
    patterns = check_patterns(patterns, n * K)
    return P, y, beta, patterns, loss


def _solve_program(penalty, f, y: np.ndarray, loss: str, constraints: list, solver: str):
    """:func:`cvxnn_core._cvx.solve_linked` with :data:`~cvxnn_core._cvx.CNN_SOLVER_OPTIONS` (package defaults for
    logistic)."""
    options = dict(CNN_SOLVER_OPTIONS[solver]) if solver in CNN_SOLVER_OPTIONS and loss != "logistic" else None
    return solve_linked(penalty, f, y, loss, constraints, solver, options, stacklevel=5)


def _distinct_cone_rows(Z: np.ndarray, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct non-zero rows of ``Z`` with their sign rows ``2 D - 1`` (duplicates and zero rows removed)."""
    keep = np.any(Z != 0, axis=1)
    joint = np.concatenate([Z[keep], patterns[keep].astype(float)], axis=1)
    if joint.shape[0] == 0:
        return Z[:0], np.zeros((0, patterns.shape[1]))
    uniq = np.unique(joint, axis=0)
    h = Z.shape[1]
    return uniq[:, :h], 2.0 * uniq[:, h:] - 1.0


def solve_cnn_relu(
    patches: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    loss: Loss = "squared",
    pooling: Pooling = "average",
    solver: str | None = None,
) -> ConvexCNNResult:
    r"""Solve the convex program of the two-layer ReLU CNN over the given patch patterns.

    ``min l(s sum_i sum_k D_i^k X_k (v_i - w_i)) + beta sum_i (||v_i|| + ||w_i||)`` s.t.
    ``(2 D_i - I) Z v_i >= 0``, ``(2 D_i - I) Z w_i >= 0`` (module docstring).

    Args:
        patches: ``(n, K, h)`` from :func:`extract_patches` (optionally :func:`add_patch_intercept`).
        y: targets ``(n,)``; labels ``+-1`` for the hinge and logistic losses.
        beta: weight decay ``>= 0``.
        patterns: boolean ``(n K, P)`` (:func:`sample_patch_patterns` or :func:`enumerate_patch_patterns`).
        loss: ``"squared"``, ``"hinge"`` or ``"logistic"``.
        pooling: ``"average"`` (``s = 1/K``) or ``"sum"`` (``s = 1``).
        solver: a cvxpy solver name; ``None`` means Clarabel.

    Raises:
        SolverError: the solver is not installed or did not reach an optimal status.
    """
    import cvxpy as cp
    import scipy.sparse as sp

    P, y, beta, patterns, loss = _prepare_cnn(patches, y, beta, patterns, loss, pooling)
    solver = check_solver(solver)
    n, K, h = P.shape
    Z = P.reshape(n * K, h)
    n_pat = patterns.shape[1]
    Dm = patterns.astype(float)
    pool = sp.kron(sp.eye(n, format="csr"), np.full((1, K), _scale(pooling, K)), format="csr")
    V = cp.Variable((h, n_pat))
    W = cp.Variable((h, n_pat))
    f = pool @ cp.sum(cp.multiply(Dm, Z @ (V - W)), axis=1)
    penalty = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
    # One cone row per distinct (patch, pattern row): duplicate patches (blank image regions) repeat the same
    # constraint, and all-zero patches give 0 >= 0; both only degrade the interior-point method.
    Zc, Sc = _distinct_cone_rows(Z, patterns)
    cones = [cp.multiply(Sc, Zc @ V) >= 0, cp.multiply(Sc, Zc @ W) >= 0]
    status, elapsed, dual = _solve_program(beta * penalty, f, y, loss, cones, solver)
    Dc = Sc > 0
    Vh, Wh, objective = clean_blocks(
        np.asarray(V.value).T,
        np.asarray(W.value).T,
        lambda A, B: convex_cnn_objective(P, y, patterns, A, B, beta, loss, pooling),
        lambda B: project_blocks(Zc, Dc, B),
    )
    return ConvexCNNResult(
        objective=objective,
        V=Vh,
        W=Wh,
        patterns=patterns,
        n_patches=K,
        pooling=pooling,
        status=status,
        solver=solver,
        solve_time=elapsed,
        beta=beta,
        loss=loss,
        dual=dual,
    )


@dataclass(frozen=True)
class TwoLayerCNN:
    """``f(x) = sum_j w2_j * s * sum_k (x_k^T u_j)_+`` with ``filters`` ``(m, h)`` (rows ``u_j``), ``w2`` ``(m,)``."""

    filters: np.ndarray
    w2: np.ndarray
    pooling: str = "average"

    def __post_init__(self) -> None:
        U = np.atleast_2d(np.asarray(self.filters, dtype=np.float64))
        w2 = np.asarray(self.w2, dtype=np.float64).reshape(-1)
        if U.shape[0] != w2.shape[0]:
            raise ValueError(f"filters has {U.shape[0]} rows (filters) but w2 has {w2.shape[0]} entries")
        check_choice(self.pooling, "pooling", POOLINGS)
        object.__setattr__(self, "filters", U)
        object.__setattr__(self, "w2", w2)

    @property
    def width(self) -> int:
        """Number of filters ``m``."""
        return int(self.w2.shape[0])

    def hidden(self, patches: np.ndarray) -> np.ndarray:
        """Pooled activations ``s * sum_k (X_k U^T)_+``, shape ``(n, m)``."""
        P = check_patches(patches)
        if P.shape[2] != self.filters.shape[1]:
            raise ValueError(
                f"patches have h = {P.shape[2]} entries but the filters have {self.filters.shape[1]}; "
                "extract the patches (and the intercept) as in training"
            )
        return _scale(self.pooling, P.shape[1]) * np.maximum(P @ self.filters.T, 0.0).sum(axis=1)

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """Network output, shape ``(n,)``."""
        return self.hidden(patches) @ self.w2

    def weight_decay(self) -> float:
        """``0.5 * (||filters||_F^2 + ||w2||^2)``."""
        return 0.5 * float(np.sum(self.filters**2) + np.sum(self.w2**2))

    def filter_strengths(self) -> np.ndarray:
        """``||u_j|| |w2_j|``: each filter's share of the (balanced) penalty, shape ``(m,)``."""
        return np.linalg.norm(self.filters, axis=1) * np.abs(self.w2)


def strongest_filters(net: TwoLayerCNN, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` filters with the largest strength ``||u_j|| |w2_j|``: unit-norm filters ``(k', h)``, their strengths
    and the signs of their output weights (``k' = min(k, m)``), strongest first."""
    k = check_positive_int(k, "k")
    strength = net.filter_strengths()
    order = np.argsort(-strength, kind="stable")[:k]
    norms = np.linalg.norm(net.filters[order], axis=1)
    unit = net.filters[order] / np.where(norms > 0, norms, 1.0)[:, None]
    return unit, strength[order], np.sign(net.w2[order])


def complete_program_cost(signals: np.ndarray, y: np.ndarray, beta: float, filter_size: int) -> dict[str, float]:
    """Enumerate the complete patch arrangement of 1-D ``signals`` ``(n, L)`` and solve the CNN program over it.

    Returns ``n``, ``K``, ``h``, ``rows`` (``n K``), ``patterns`` (``P``), ``bound`` (the chamber bound
    ``2 sum_{k<h} C(nK - 1, k)``), ``enumerate_time`` and ``solve_time`` (s, cvxpy compilation + Clarabel) and
    ``objective``: the cost of exact training as a function of ``n`` and the filter size ``h``.
    """
    from cvxnn_core.patterns import max_pattern_count

    patches = extract_patches(signals, filter_size)
    n, K, h = patches.shape
    start = time.perf_counter()
    D = enumerate_patch_patterns(patches)
    enumerate_time = time.perf_counter() - start
    result = solve_cnn_relu(patches, y, beta, D)
    return {
        "n": n,
        "K": K,
        "h": h,
        "rows": n * K,
        "patterns": D.shape[1],
        "bound": max_pattern_count(n * K, h),
        "enumerate_time": enumerate_time,
        "solve_time": result.solve_time,
        "objective": result.objective,
    }


def cnn_network(result: ConvexCNNResult) -> TwoLayerCNN:
    """The CNN of a convex solution: one filter per non-zero block, ``u = v/sqrt(||v||)``, ``w2 = +-sqrt(||v||)``."""
    blocks = np.concatenate([result.V, result.W])
    signs = np.concatenate([np.ones(len(result.V)), -np.ones(len(result.W))])
    norms = np.linalg.norm(blocks, axis=1)
    keep = norms > 0
    scale = np.sqrt(norms[keep])
    return TwoLayerCNN(filters=blocks[keep] / scale[:, None], w2=signs[keep] * scale, pooling=result.pooling)


def cnn_objective(patches: np.ndarray, y: np.ndarray, net: TwoLayerCNN, beta: float, loss: Loss = "squared") -> float:
    """``l(f(X), y) + (beta/2)(||filters||_F^2 + ||w2||^2)``: the CNN's weight-decay training objective."""
    P = check_patches(patches)
    y = check_y(y, P.shape[0])
    return loss_value(net.predict(P), y, check_loss(loss)) + check_beta(beta) * net.weight_decay()


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
    widths = [check_positive_int(m, "width") for m in widths]
    seeds = [check_seed(s) for s in seeds]
    if not widths or not seeds or not optimizers:
        raise ValueError("widths, seeds and optimizers must each name at least one value")
    epochs = check_positive_int(epochs, "epochs")
    batch = n if batch_size is None else min(check_positive_int(batch_size, "batch_size"), n)
    if progress is None:
        progress = sys.stderr.isatty()
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


# --------------------------------------------------------------------------------------------------
# Linear CNN with circular convolution: l1 in the DFT domain
# --------------------------------------------------------------------------------------------------


def circular_convolve(u: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Circular convolution ``(u * x)_a = sum_b u_{(a-b) mod d} x_b`` of ``u`` ``(d,)`` with each row of ``X``."""
    return np.real(np.fft.ifft(np.fft.fft(u)[None, :] * np.fft.fft(X, axis=1), axis=1))


def circular_cnn_predictions(X: np.ndarray, U: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """``f(x) = sum_j w_j^T (u_j * x)`` for every row of ``X`` ``(n, d)``; ``U``, ``W2`` ``(m, d)``."""
    X = check_X(X)
    U, W2 = check_channels(X, U, W2)
    return sum(circular_convolve(u, X) @ w for u, w in zip(U, W2, strict=True))


def circular_cnn_objective(
    X: np.ndarray, y: np.ndarray, U: np.ndarray, W2: np.ndarray, beta: float, loss: Loss = "squared"
) -> float:
    """``l(f(X), y) + (beta/2)(||U||_F^2 + ||W2||_F^2)`` for the linear circular CNN."""
    X = check_X(X)
    y = check_y(y, X.shape[0])
    U, W2 = check_channels(X, U, W2)
    return loss_value(circular_cnn_predictions(X, U, W2), y, check_loss(loss)) + 0.5 * check_beta(beta) * float(
        np.sum(U**2) + np.sum(W2**2)
    )


def circular_linear_model(U: np.ndarray, W2: np.ndarray) -> np.ndarray:
    """The vector ``g`` with ``f(x) = g^T x``: ``g_b = sum_j sum_a w_{j,a} u_{j,(a-b) mod d}``, shape ``(d,)``."""
    U = np.atleast_2d(np.asarray(U, dtype=np.float64))
    W2 = np.atleast_2d(np.asarray(W2, dtype=np.float64))
    if W2.shape != U.shape:
        raise ValueError(f"U and W2 must have the same shape (m, d), got {U.shape} and {W2.shape}")
    # g = sum_j C(u_j)^T w_j, and C(u)^T w is the circular cross-correlation of w with u.
    return np.real(np.fft.ifft(np.sum(np.conj(np.fft.fft(U, axis=1)) * np.fft.fft(W2, axis=1), axis=0)))


def dft_l1_objective(X: np.ndarray, y: np.ndarray, g: np.ndarray, beta: float, loss: Loss = "squared") -> float:
    """``l(X g) + (beta / d) * ||F g||_1``, the DFT-domain program of the linear circular CNN."""
    X = check_X(X)
    y = check_y(y, X.shape[0])
    g = np.asarray(g, dtype=np.float64).reshape(-1)
    if g.shape[0] != X.shape[1]:
        raise ValueError(f"g must have d = {X.shape[1]} entries, got {g.shape[0]}")
    d = X.shape[1]
    return loss_value(X @ g, y, check_loss(loss)) + check_beta(beta) / d * float(np.sum(np.abs(np.fft.fft(g))))


@dataclass(frozen=True)
class CircularResult:
    """A solution of the linear circular CNN: ``g`` (``(d,)``, ``f(x) = g^T x``), ``objective`` (of ``g`` in the
    DFT-domain program), ``method`` (``"closed_form"``, ``"dft_l1"`` or ``"nuclear"``), ``solve_time`` (s),
    ``status``, ``solver`` (``None`` for the closed form), ``M`` (``(d, d)``, nuclear-norm solve only)."""

    g: np.ndarray
    objective: float
    method: str
    solve_time: float
    status: str = "optimal"
    solver: str | None = None
    M: np.ndarray | None = field(default=None, repr=False)


def _prepare_circular(X, y, beta, loss):
    X = check_X(X)
    y = check_y(y, X.shape[0])
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    return X, y, beta, loss


def _real_dft(d: int) -> tuple[np.ndarray, np.ndarray]:
    F = np.fft.fft(np.eye(d), axis=0)  # F @ g == np.fft.fft(g)
    return F.real, F.imag


def solve_circular_dft(
    X: np.ndarray, y: np.ndarray, beta: float, *, loss: Loss = "squared", solver: str | None = None
) -> CircularResult:
    """Solve ``min_g l(X g) + (beta/d) ||F g||_1`` with cvxpy; ``|(F g)_f|`` is the 2-norm of its real and
    imaginary parts (an SOCP)."""
    import cvxpy as cp

    X, y, beta, loss = _prepare_circular(X, y, beta, loss)
    solver = check_solver(solver)
    d = X.shape[1]
    Fr, Fi = _real_dft(d)
    g = cp.Variable(d)
    penalty = cp.sum(cp.norm(cp.vstack([Fr @ g, Fi @ g]), 2, axis=0))
    status, elapsed, _ = _solve_program(beta / d * penalty, X @ g, y, loss, [], solver)
    gh = np.asarray(g.value, dtype=float)
    return CircularResult(gh, dft_l1_objective(X, y, gh, beta, loss), "dft_l1", elapsed, status, solver)


def circular_shift_operator(X: np.ndarray) -> np.ndarray:
    """``T(x)`` for every row: ``T[j, c, a] = x_{j, (a - c) mod d}``, so that ``f(x_j) = <M, T(x_j)>`` for
    ``M = sum_i u_i w_i^T``. Shape ``(n, d, d)``."""
    X = check_X(X)
    d = X.shape[1]
    idx = (np.arange(d)[None, :] - np.arange(d)[:, None]) % d  # idx[c, a] = (a - c) mod d
    return X[:, idx]


def solve_circular_nuclear(
    X: np.ndarray, y: np.ndarray, beta: float, *, loss: Loss = "squared", solver: str | None = None
) -> CircularResult:
    """Solve the CNN's own convex (SDP) program ``min_M l(<M, T(x_j)>) + beta ||M||_*`` with cvxpy.

    ``M = sum_j u_j w_j^T`` (``(d, d)``) and ``min ½ sum_j (||u_j||^2 + ||w_j||^2) = ||M||_*`` over the
    factorisations of ``M``; the result carries ``g`` with ``f(x) = g^T x`` and its DFT-domain objective.
    """
    import cvxpy as cp

    X, y, beta, loss = _prepare_circular(X, y, beta, loss)
    solver = check_solver(solver)
    n, d = X.shape
    T = circular_shift_operator(X).reshape(n, d * d)
    M = cp.Variable((d, d))
    f = T @ cp.vec(M, order="C")
    status, elapsed, _ = _solve_program(beta * cp.normNuc(M), f, y, loss, [], solver)
    Mh = np.asarray(M.value, dtype=float)
    # g_b = sum_a M_{(a - b) mod d, a}
    idx = (np.arange(d)[None, :] - np.arange(d)[:, None]) % d  # idx[b, a] = (a - b) mod d
    gh = Mh[idx, np.arange(d)[None, :]].sum(axis=1)
    nuclear = loss_value(T @ Mh.reshape(-1), y, loss) + beta * float(np.sum(np.linalg.svd(Mh, compute_uv=False)))
    return CircularResult(gh, nuclear, "nuclear", elapsed, status, solver, M=Mh)


def circular_closed_form(X: np.ndarray, y: np.ndarray, beta: float) -> CircularResult:
    r"""Closed-form optimum of the DFT-domain program (squared loss) when ``X^T X`` is circulant.

    With ``X^T X = Phi^H diag(lambda) Phi`` (``Phi`` the unitary DFT, ``lambda = fft`` of the first column)
    and ``r = X^T y``, the objective separates over frequencies:
    ``½ lambda_f |g_f|^2 - Re(conj(r_f) g_f) + (beta / sqrt(d)) |g_f|`` (hats in the unitary DFT), minimised by
    complex soft-thresholding ``g_f = r_f / |r_f| * max(|r_f| - beta / sqrt(d), 0) / lambda_f``.
    Raises ``ValueError`` when ``X^T X`` is not circulant (e.g. the data are not closed under circular shifts).
    """
    X, y, beta, _ = _prepare_circular(X, y, beta, "squared")
    start = time.perf_counter()
    d = X.shape[1]
    G = X.T @ X
    c = G[:, 0]
    circ = np.stack([np.roll(c, k) for k in range(d)], axis=1)
    if np.max(np.abs(G - circ)) > CIRCULANT_ATOL * max(np.max(np.abs(G)), 1.0):
        raise ValueError(
            "circular_closed_form needs X whose Gram matrix X^T X is circulant (data closed under circular shifts, "
            "see circular_shift_augment); use solve_circular_dft for general X"
        )
    lam = np.real(np.fft.fft(c))
    r_hat = np.fft.fft(X.T @ y, norm="ortho")
    mag = np.abs(r_hat)
    shrink = np.maximum(mag - beta / np.sqrt(d), 0.0)
    tiny = lam <= 1e-12 * max(lam.max(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        g_hat = np.where((mag > 0) & ~tiny, r_hat / np.where(mag > 0, mag, 1.0) * shrink / np.where(tiny, 1.0, lam), 0)
    g = np.real(np.fft.ifft(g_hat, norm="ortho"))
    elapsed = time.perf_counter() - start
    return CircularResult(g, dft_l1_objective(X, y, g, beta), "closed_form", elapsed)


def circular_shift_augment(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``d`` circular shifts of every row of ``X`` (``(n d, d)``), with each row's target repeated ``d``
    times, in sample-major order. The augmented Gram matrix is circulant."""
    X = check_X(X)
    y = check_y(y, X.shape[0])
    d = X.shape[1]
    Xs = np.stack([np.roll(X, s, axis=1) for s in range(d)], axis=1).reshape(-1, d)
    return Xs, np.repeat(y, d)


def circular_cnn_from_dft(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A one-channel circular CNN ``(U, W2)`` (each ``(1, d)``) with ``f(x) = g^T x`` and weight decay
    ``½(||u||^2 + ||w||^2) = ||F g||_1 / d``: in the unitary DFT, ``w_f = sqrt(|z_f|)``, ``u_f = z_f / sqrt(|z_f|)``
    with ``z = conj(g_f) / sqrt(d)``."""
    g = np.asarray(g, dtype=np.float64).reshape(-1)
    if g.ndim != 1 or g.size == 0 or not np.all(np.isfinite(g)):
        raise ValueError("g must be a finite vector of shape (d,)")
    d = g.shape[0]
    z = np.conj(np.fft.fft(g, norm="ortho")) / np.sqrt(d)
    mag = np.abs(z)
    root = np.sqrt(mag)
    u_hat = np.where(mag > 0, z / np.where(root > 0, root, 1.0), 0.0)
    u = np.real(np.fft.ifft(u_hat, norm="ortho"))
    w = np.real(np.fft.ifft(root, norm="ortho"))
    return u[None, :], w[None, :]

r"""Deep networks through convex duality (Ergen & Pilanci, ICML 2021): linear closed forms, layer structure,
neural-collapse metrics, and the small torch networks of the ``neural_collapse`` chapter.

Conventions of this module
--------------------------
Deep networks here multiply weights **on the right** (one row per sample, as everywhere in the book, but
``X W`` rather than ``X W1^T``)::

    deep linear, L layers:  f(X) = X W_1 W_2 ... W_L,    W_1 (d, m), W_l (m, m), W_L (m, c)
    objective:              0.5 * ||f(X) - Y||_F^2 + (beta / 2) * sum_l ||W_l||_F^2      (sums, no 1/n)

``Y`` is ``(n, c)``; a vector ``y`` ``(n,)`` is the case ``c = 1``.

The closed form (whitened data)
-------------------------------
For a product ``Z = W_1 ... W_L`` (``d x c``) of width ``m >= rank Z``,
``min sum_l ||W_l||_F^2 = L * sum_i sigma_i(Z)^(2/L)`` (AM-GM over the layers plus von Neumann's trace
inequality; the minimiser is the *balanced* factorisation ``W_l`` sharing the singular values
``sigma_i(Z)^(1/L)``, with consecutive layers aligned: the right singular vectors of ``W_l`` are the left
singular vectors of ``W_{l+1}``). Training is therefore::

    min_Z  0.5 ||X Z - Y||_F^2 + (beta L / 2) * sum_i sigma_i(Z)^(2/L).

For ``L = 2`` the regulariser is ``beta ||Z||_*`` (nuclear norm): a convex program. If the columns of ``X``
are orthonormal (``X^T X = I_d``, "whitened"; needs ``n >= d``), then
``||X Z - Y||^2 = ||Z - X^T Y||^2 + ||Y||^2 - ||X^T Y||^2`` and, by von Neumann, the optimal ``Z`` shares the
singular vectors ``U, V`` of ``X^T Y = U diag(s) V^T``; each singular value solves a scalar problem::

    t_i = argmin_{t >= 0} 0.5 (t - s_i)^2 + (beta L / 2) t^(2/L).

* ``L = 2``: ``t_i = (s_i - beta)_+``, singular-value soft thresholding (SVT). The rank of every layer is
  ``#{i : s_i > beta}``: it drops by one each time ``beta`` crosses a singular value of ``X^T Y``.
* ``L >= 3``: the scalar problem is not convex; its minimiser is either ``0`` or the larger root of
  ``t + beta t^(2/L - 1) = s_i``, whichever has the smaller objective. The rank still drops as ``beta``
  grows, but ``t_i`` jumps from a positive value to ``0`` instead of shrinking continuously.

For general ``X`` (not whitened) there is no closed form: the ``L = 2`` problem is the nuclear-norm program
(solve it with cvxpy), and :func:`deep_linear_optimum` raises ``ValueError``. Scaled orthonormal columns
(``X^T X = c I``) can be reduced to the whitened case by ``X -> X / sqrt(c)``, ``beta -> beta / c^(1/L)``
(not done here). With ``c = 1`` output every optimal layer has rank one.

Neural collapse (Papyan, Han & Donoho 2020)
-------------------------------------------
For last-hidden-layer features ``H`` ``(n, p)``, labels in ``{0..C-1}``, class means ``mu_k``, global mean
``mu_G`` and centred means ``M = [mu_k - mu_G]`` ``(C, p)``:

* NC1 = ``tr(Sigma_W Sigma_B^+) / C`` with ``Sigma_W = (1/n) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T`` and
  ``Sigma_B = (1/C) M^T M``; 0 when every feature equals its class mean.
* NC2 (simplex ETF): norm spread ``std_k ||M_k|| / mean_k ||M_k||`` and, over pairs ``k != l``, the standard
  deviation and the largest deviation from ``-1/(C-1)`` of ``cos(M_k, M_l)``; all 0 for a simplex ETF.
* NC3 (self-duality): ``|| W / ||W||_F - M / ||M||_F ||_F`` for the last-layer weights ``W`` ``(C, p)``
  (one row per class).
* NC4: the fraction of samples where the nearest class mean (in feature space) equals the network's
  prediction; 1 at collapse.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from cvxnn_core._linalg import WHITENED_ATOL, check_whitened
from cvxnn_core._linalg import whiten_columns as whiten_columns  # re-exported: the input the closed forms expect
from cvxnn_core._training import limit_threads
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

LRSchedule = Literal["constant", "cosine"]
LR_SCHEDULES = ("constant", "cosine")
WHITEN_COLUMNS_FIX = (
    "Whiten the columns with cvxnn_core.deep.whiten_columns(X), or solve the nuclear-norm program with cvxpy"
)


# --------------------------------------------------------------------------------------------------------------
# Linear algebra helpers and metrics of layers
# --------------------------------------------------------------------------------------------------------------


def stable_rank(W: np.ndarray) -> float:
    """``||W||_F^2 / ||W||_2^2`` (between 1 and ``rank W``; exactly 1 for a rank-one matrix). ``W`` must be non-zero."""
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D array, got shape {W.shape}")
    top = float(np.linalg.norm(W, 2))
    if top == 0.0:
        raise ValueError("stable rank of the zero matrix is undefined")
    return float(np.sum(W**2)) / top**2


def numerical_rank(W: np.ndarray, *, rtol: float = 1e-3, scale: float | None = None) -> int:
    """Number of singular values of ``W`` above ``rtol * scale`` (``scale`` defaults to ``sigma_max(W)``).

    Give an external ``scale`` (e.g. the size ``W`` would have without regularisation) when ``W`` may be
    (numerically) zero; with the default a zero matrix has rank 0.
    """
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"W must be a 2-D array, got shape {W.shape}")
    if not (np.isfinite(rtol) and rtol > 0):
        raise ValueError(f"rtol must be a positive number, got {rtol!r}")
    s = np.linalg.svd(W, compute_uv=False)
    ref = float(s[0]) if scale is None else float(scale)
    if not (np.isfinite(ref) and ref >= 0):
        raise ValueError(f"scale must be a non-negative number, got {scale!r}")
    if ref == 0.0:
        return 0
    return int(np.sum(s > rtol * ref))


def layer_norms(weights: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Operator (spectral) norms and Frobenius norms of each layer, two arrays of shape ``(L,)``."""
    weights = check_layers(weights)
    op = np.array([np.linalg.norm(W, 2) for W in weights])
    fro = np.array([np.linalg.norm(W) for W in weights])
    return op, fro


def layer_alignment(weights: Sequence[np.ndarray]) -> np.ndarray:
    """``|<v_1(W_l), u_1(W_{l+1})>|`` for ``l = 1..L-1``: top right singular vector of a layer against the top
    left singular vector of the next (``f = X W_1 ... W_L``). 1 when consecutive layers are aligned."""
    weights = check_layers(weights)
    out = []
    for A, B in zip(weights[:-1], weights[1:], strict=True):
        v = np.linalg.svd(A)[2][0]
        u = np.linalg.svd(B)[0][:, 0]
        out.append(abs(float(v @ u)))
    return np.array(out)


def deep_linear_objective(X: np.ndarray, Y: np.ndarray, weights: Sequence[np.ndarray], beta: float) -> float:
    """``0.5 ||X W_1 ... W_L - Y||_F^2 + (beta/2) sum_l ||W_l||_F^2``."""
    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    weights = check_layers(weights)
    beta = check_beta(beta)
    if weights[0].shape[0] != X.shape[1] or weights[-1].shape[1] != Y.shape[1]:
        raise ValueError(
            f"weights map {weights[0].shape[0]} inputs to {weights[-1].shape[1]} outputs, but X has {X.shape[1]} "
            f"columns and Y has {Y.shape[1]}"
        )
    f = X
    for W in weights:
        f = f @ W
    return float(0.5 * np.sum((f - Y) ** 2) + 0.5 * beta * sum(np.sum(W**2) for W in weights))


def nuclear_norm_objective(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, beta: float) -> float:
    """``0.5 ||X Z - Y||_F^2 + beta ||Z||_*``, the convex objective equal to two-layer linear training."""
    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    Z = np.asarray(Z, dtype=np.float64).reshape(X.shape[1], Y.shape[1])
    beta = check_beta(beta)
    return float(0.5 * np.sum((X @ Z - Y) ** 2) + beta * np.sum(np.linalg.svd(Z, compute_uv=False)))


# --------------------------------------------------------------------------------------------------------------
# Closed forms for whitened data
# --------------------------------------------------------------------------------------------------------------


def _scalar_layer_problem(s: float, beta: float, n_layers: int) -> float:
    """``argmin_{t >= 0} 0.5 (t - s)^2 + (beta L / 2) t^(2/L)`` (ties go to 0)."""
    if beta == 0.0:
        return s
    if n_layers == 2:
        return max(s - beta, 0.0)
    from scipy.optimize import brentq

    p = 1.0 - 2.0 / n_layers  # stationarity: h(t) = t + beta t^(-p) = s; h is convex on t > 0
    t0 = (beta * p) ** (1.0 / (1.0 + p))  # minimiser of h
    if t0 + beta * t0 ** (-p) >= s:
        return 0.0
    root = brentq(lambda t: t + beta * t ** (-p) - s, t0, s, xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)

    def g(t: float) -> float:
        return 0.5 * (t - s) ** 2 + 0.5 * beta * n_layers * t ** (2.0 / n_layers)

    return root if g(root) < g(0.0) else 0.0


@dataclass(frozen=True)
class LinearOptimum:
    """Global optimum of deep linear training on whitened data (see the module docstring).

    ``objective``: optimal value; ``Z`` ``(d, c)``: the optimal end-to-end map ``W_1 ... W_L``;
    ``weights``: a balanced optimal network (list of ``L`` arrays, hidden width ``width``);
    ``singular_values``: ``s`` of ``X^T Y`` (descending); ``layer_singular_values``: ``t_i^(1/L)``, the
    singular values every optimal layer shares; ``rank``: ``#{t_i > 0}``.
    """

    objective: float
    Z: np.ndarray
    weights: list[np.ndarray]
    singular_values: np.ndarray
    layer_singular_values: np.ndarray
    rank: int
    n_layers: int
    beta: float


def deep_linear_optimum(
    X: np.ndarray,
    Y: np.ndarray,
    beta: float,
    *,
    n_layers: int = 2,
    width: int | None = None,
    atol: float = WHITENED_ATOL,
) -> LinearOptimum:
    r"""Global optimum of ``min 0.5 ||X W_1 ... W_L - Y||_F^2 + (beta/2) sum_l ||W_l||_F^2`` for whitened ``X``.

    Exact when ``X^T X = I_d`` (checked to ``atol``; raises ``ValueError`` otherwise). With ``X^T Y = U diag(s) V^T``
    the optimal map is ``Z = U diag(t) V^T``, ``t_i = argmin_{t>=0} 0.5 (t - s_i)^2 + (beta L/2) t^(2/L)``
    (``L = 2``: ``t_i = (s_i - beta)_+``, singular-value soft thresholding). The optimal value is
    ``0.5 (||Y||^2 - ||s||^2) + sum_i [0.5 (t_i - s_i)^2 + (beta L/2) t_i^(2/L)]``.

    ``width`` is the hidden width ``m`` of the network (default: ``min(d, c)``, enough for any optimum). A
    narrower network keeps the ``m`` largest modes (the rank-constrained problem is separable by von Neumann's
    inequality, and each mode's gain is increasing in ``s_i``). The returned weights are balanced:
    ``W_1 = U_r diag(t^(1/L))``, ``W_l = diag(t^(1/L))`` for ``1 < l < L``, ``W_L = diag(t^(1/L)) V_r^T``, padded with
    zeros to width ``m``.
    """
    X = check_X(X)
    n, d = X.shape
    Y = check_Y(Y, n)
    c = Y.shape[1]
    beta = check_beta(beta)
    n_layers = check_n_layers(n_layers)
    m = min(d, c) if width is None else check_positive_int(width, "width")
    check_whitened(X, atol, rows=False, who="deep_linear_optimum", fix=WHITEN_COLUMNS_FIX)
    A = X.T @ Y
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    t = np.array([_scalar_layer_problem(float(si), beta, n_layers) for si in s])
    t[m:] = 0.0
    r = int(np.sum(t > 0))
    L = n_layers
    objective = 0.5 * (float(np.sum(Y**2)) - float(np.sum(s**2)))
    objective += float(np.sum(0.5 * (t - s) ** 2 + 0.5 * beta * L * t ** (2.0 / L)))
    Z = (U[:, :r] * t[:r]) @ Vt[:r]
    root = t[:r] ** (1.0 / L)
    weights = [np.zeros((d, m))] + [np.zeros((m, m)) for _ in range(L - 2)] + [np.zeros((m, c))]
    weights[0][:, :r] = U[:, :r] * root
    for W in weights[1:-1]:
        W[np.arange(r), np.arange(r)] = root
    weights[-1][:r] = root[:, None] * Vt[:r]
    return LinearOptimum(
        objective=float(objective),
        Z=Z,
        weights=weights,
        singular_values=s,
        layer_singular_values=t ** (1.0 / L),
        rank=r,
        n_layers=L,
        beta=beta,
    )


def two_layer_linear_optimum(
    X: np.ndarray, Y: np.ndarray, beta: float, *, width: int | None = None, atol: float = WHITENED_ATOL
) -> LinearOptimum:
    r"""Two-layer linear net with weight decay on whitened ``X``: singular-value soft thresholding of ``X^T Y``.

    ``min_{W1, W2} 0.5 ||X W1 W2 - Y||^2 + (beta/2)(||W1||^2 + ||W2||^2) = min_Z 0.5 ||X Z - Y||^2 + beta ||Z||_*``
    and for ``X^T X = I``: ``Z* = U diag((s - beta)_+) V^T``; ``rank Z* = #{s_i > beta}``. Same as
    :func:`deep_linear_optimum` with ``n_layers=2``.
    """
    return deep_linear_optimum(X, Y, beta, n_layers=2, width=width, atol=atol)


def simplex_etf(n_classes: int, dim: int | None = None, *, seed: int = 0) -> np.ndarray:
    """``C`` unit vectors with pairwise cosines ``-1/(C-1)`` (a simplex equiangular tight frame), shape ``(C, dim)``.

    ``dim`` defaults to ``C - 1`` (the smallest possible); for larger ``dim`` the frame is placed in a random
    ``(C-1)``-dimensional subspace (seeded). The rows sum to zero.
    """
    C = check_positive_int(n_classes, "n_classes")
    if C < 2:
        raise ValueError(f"n_classes must be >= 2, got {C}")
    dim = C - 1 if dim is None else check_positive_int(dim, "dim")
    if dim < C - 1:
        raise ValueError(f"dim must be >= n_classes - 1 = {C - 1} to hold a simplex ETF, got {dim}")
    E = np.sqrt(C / (C - 1.0)) * (np.eye(C) - np.full((C, C), 1.0 / C))
    U = np.linalg.svd(E)[0][:, : C - 1]  # coordinates of the rows in the (C-1)-dim subspace orthogonal to 1
    coords = E @ U  # (C, C-1), same Gram matrix as E
    if dim == C - 1:
        return coords
    Q = np.linalg.qr(np.random.default_rng(check_seed(seed)).standard_normal((dim, C - 1)))[0]
    return coords @ Q.T


# --------------------------------------------------------------------------------------------------------------
# Neural-collapse metrics
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NCMetrics:
    """Neural-collapse metrics (module docstring). ``nc3`` / ``nc4`` are NaN when no classifier / predictions
    were given. All are 0 at exact collapse except ``nc4`` (1)."""

    nc1: float
    nc2_norm_spread: float
    nc2_cos_std: float
    nc2_cos_max_dev: float
    nc3: float
    nc4: float

    def as_dict(self) -> dict[str, float]:
        """The six metrics by name."""
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def class_means(H: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global mean ``mu_G`` ``(p,)`` and centred class means ``M`` ``(C, p)``, row ``k`` = ``mu_k - mu_G``."""
    H = check_X(H, "H")
    labels, C = check_class_labels(labels, H.shape[0])
    mu_G = H.mean(axis=0)
    means = np.stack([H[labels == k].mean(axis=0) for k in range(C)])
    return mu_G, means - mu_G


def neural_collapse_metrics(
    H: np.ndarray,
    labels: np.ndarray,
    *,
    classifier: np.ndarray | None = None,
    predictions: np.ndarray | None = None,
) -> NCMetrics:
    """NC1-NC4 of features ``H`` ``(n, p)`` with integer ``labels`` ``(n,)`` in ``0..C-1``.

    ``classifier``: last-layer weights ``(C, p)`` (one row per class) for NC3; ``predictions``: the network's
    predicted classes ``(n,)`` for NC4. Formulas in the module docstring.
    """
    H = check_X(H, "H")
    n, p = H.shape
    labels, C = check_class_labels(labels, n)
    mu_G, M = class_means(H, labels)
    within = H - (M + mu_G)[labels]
    Sigma_W = within.T @ within / n
    Sigma_B = M.T @ M / C
    nc1 = float(np.trace(Sigma_W @ np.linalg.pinv(Sigma_B, rcond=1e-10, hermitian=True))) / C
    norms = np.linalg.norm(M, axis=1)
    if np.any(norms == 0):
        raise ValueError("a class mean equals the global mean; NC2 is undefined")
    Mn = M / norms[:, None]
    cos = (Mn @ Mn.T)[~np.eye(C, dtype=bool)]
    nc3 = np.nan
    if classifier is not None:
        W = np.asarray(classifier, dtype=np.float64)
        if W.shape != (C, p):
            raise ValueError(f"classifier must have shape (C, p) = ({C}, {p}) (one row per class), got {W.shape}")
        nc3 = float(np.linalg.norm(W / np.linalg.norm(W) - M / np.linalg.norm(M)))
    nc4 = np.nan
    if predictions is not None:
        pred = np.asarray(predictions)
        if pred.shape != (n,):
            raise ValueError(f"predictions must have shape (n,) = ({n},), got {pred.shape}")
        dist = np.sum(H**2, 1)[:, None] - 2 * H @ (M + mu_G).T + np.sum((M + mu_G) ** 2, 1)[None]
        nc4 = float(np.mean(np.argmin(dist, axis=1) == pred))
    return NCMetrics(
        nc1=nc1,
        nc2_norm_spread=float(norms.std() / norms.mean()),
        nc2_cos_std=float(cos.std()),
        nc2_cos_max_dev=float(np.max(np.abs(cos + 1.0 / (C - 1)))),
        nc3=nc3,
        nc4=nc4,
    )


@dataclass(frozen=True)
class BNCollapseOptimum:
    """Closed form of :func:`bn_collapse_optimum`.

    ``objective``: ``p*``, a lower bound on the training objective of every network of the architecture of
    :func:`train_bn_relu_classifier` (``relu_after_bn=False``, any depth and width); ``outputs`` ``(n, C)``: the
    optimal outputs ``1 ybar^T + SVT_{beta/sqrt(n)}(Y_c)``; ``singular_values``: of the centred labels ``Y_c``;
    ``class_mean_cosines`` ``(C, C)``: cosines between the centred class means of the optimal features (``-1/(C-1)``
    off the diagonal for balanced classes: a simplex ETF); ``effective_beta``: ``beta / sqrt(n)``.
    """

    objective: float
    outputs: np.ndarray
    singular_values: np.ndarray
    class_mean_cosines: np.ndarray
    effective_beta: float


def bn_collapse_optimum(labels: np.ndarray, beta: float) -> BNCollapseOptimum:
    r"""The last two layers of a network with batch normalisation before its last (linear) layer, in closed form.

    Setting: ``f = H W^T + 1 b^T`` with ``H = BN(z) = Z_n diag(gamma) + 1 alpha^T``, where the columns of ``Z_n``
    are the centred, variance-normalised pre-activations ``(z_j - mean) / sqrt(var + eps)`` produced by *any*
    earlier layers; squared loss against one-hot ``Y``; weight decay ``(beta/2)(||gamma||^2 + ||alpha||^2 + ||W||_F^2)``
    plus any non-negative penalty on the earlier layers. Let ``P = I - 11^T/n`` and ``Y_c = P Y``.

    Bound: ``P f = sum_j z_j gamma_j w_j^T`` with centred ``||z_j|| <= sqrt(n)``, so
    ``||P f||_* <= sqrt(n) sum_j |gamma_j| ||w_j|| <= (sqrt(n)/2)(||gamma||^2 + ||W||^2)`` and
    ``||f - Y||^2 >= ||P f - Y_c||^2``. Hence every such network has objective at least::

        p* = min_G 0.5 ||G - Y_c||_F^2 + (beta / sqrt(n)) ||G||_*  =  sum_i h(sigma_i(Y_c)),
        h(s) = s^2 / 2 if s <= beta' else beta' s - beta'^2 / 2,     beta' = beta / sqrt(n),

    attained by ``G = SVT_{beta'}(Y_c)``. The bound is tight in the limit where the earlier layers' weight decay
    vanishes (BN makes the network invariant to their scale, so it can be driven to 0; ``eps > 0`` keeps this a
    limit). At equality every inequality is tight: the features ``H`` lie in the column space of ``Y_c`` (all
    samples of a class share one feature vector: NC1 = 0), the factorisation is balanced, so that
    ``H H^T = sqrt(n) U diag(t) U^T`` with ``Y_c = U diag(s) V^T``, ``t = (s - beta')_+``, and the classifier rows
    are proportional to the centred class means (NC3 = 0). For balanced classes all ``C - 1`` non-zero ``s_i``
    equal ``sqrt(n/C)``, so the class means form a **simplex ETF** (NC2 = 0).
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (n,), got shape {labels.shape}")
    labels, C = check_class_labels(labels, labels.shape[0])
    beta = check_beta(beta)
    n = labels.shape[0]
    Y = np.eye(C)[labels]
    ybar = Y.mean(axis=0)
    U, s, Vt = np.linalg.svd(Y - ybar, full_matrices=False)
    s[s < s[0] * n * np.finfo(float).eps] = 0.0  # the centred labels have rank C - 1
    bp = beta / np.sqrt(n)
    t = np.maximum(s - bp, 0.0)
    objective = float(np.sum(np.where(s <= bp, 0.5 * s**2, bp * s - 0.5 * bp**2)))
    F = U * np.sqrt(t)  # optimal features up to a rotation and a scale
    r = int(np.sum(t > 0))
    cos = np.full((C, C), np.nan)
    if r > 0:
        M = np.stack([F[labels == k].mean(axis=0) for k in range(C)])
        Mn = M / np.linalg.norm(M, axis=1, keepdims=True)
        cos = Mn @ Mn.T
    return BNCollapseOptimum(
        objective=objective,
        outputs=ybar + (U * t) @ Vt,
        singular_values=s,
        class_mean_cosines=cos,
        effective_beta=float(bp),
    )


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
class DeepLinearRun:
    """Outcome of :func:`train_deep_linear`.

    ``weights``: the trained layers (numpy, float64); ``steps`` ``(R,)``: the GD iterations at which the
    history was recorded (0 = initialisation); ``objective`` ``(R,)``; ``op_norms`` / ``fro_norms`` ``(R, L)``:
    each layer's operator and Frobenius norm at those iterations; ``beta``, ``lr``, ``seed``, ``train_time`` (s).
    """

    weights: list[np.ndarray]
    steps: np.ndarray
    objective: np.ndarray
    op_norms: np.ndarray
    fro_norms: np.ndarray
    beta: float
    lr: float
    seed: int
    train_time: float

    @property
    def final_objective(self) -> float:
        """Objective of the returned weights."""
        return float(self.objective[-1])


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
) -> list[DeepLinearRun]:
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
        DeepLinearRun(
            weights=[W[b] for W in final],
            steps=np.array(rec_steps),
            objective=obj_arr[:, b],
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
) -> DeepLinearRun:
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
    )[0]


@dataclass(frozen=True)
class BNClassifierRun:
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
) -> BNClassifierRun:
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
        return BNClassifierRun(
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


@dataclass(frozen=True)
class DeepReLURun:
    """Outcome of :func:`train_deep_relu`: ``net``, ``history`` ``(epochs,)`` (objective after each epoch),
    ``initial_objective``, ``train_time`` (s)."""

    net: DeepReLUNet
    history: np.ndarray
    initial_objective: float
    train_time: float


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
) -> DeepReLURun:
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
    return DeepReLURun(net=net, history=history, initial_objective=initial, train_time=elapsed)


def slope_changes(x: np.ndarray, f: np.ndarray, *, atol: float = 1e-6) -> np.ndarray:
    """Positions of the kinks of a piecewise-linear function sampled on an increasing grid ``x``.

    The slope of each grid cell is compared with the next; a change larger than ``atol`` marks a kink in
    between, and runs of adjacent marked cells (one kink seen by two cells) are merged into one position
    (their mean grid point). Returns the kink positions ``(k,)``.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    f = np.asarray(f, dtype=np.float64).reshape(-1)
    if x.shape != f.shape or x.size < 3:
        raise ValueError(f"x and f must be 1-D arrays of the same length >= 3, got {x.shape} and {f.shape}")
    if not np.all(np.diff(x) > 0):
        raise ValueError("x must be strictly increasing")
    slopes = np.diff(f) / np.diff(x)
    marked = np.flatnonzero(np.abs(np.diff(slopes)) > atol)  # a kink lies in cells marked..marked+1
    if marked.size == 0:
        return np.empty(0)
    groups = np.split(marked, np.flatnonzero(np.diff(marked) > 1) + 1)
    return np.array([x[g + 1].mean() for g in groups])

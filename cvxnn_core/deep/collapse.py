"""Neural collapse: its metrics, the simplex ETF, and the closed-form optimum with batch norm before the last layer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._linalg import whiten_columns as whiten_columns  # re-exported: the input the closed forms expect
from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_class_labels,
    check_X,
)

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
        W = check_array(classifier, "classifier", (C, p), labels=("C", "p"), fix="one row per class")
        if not np.any(W):
            raise ValueError("classifier is zero; NC3 (self-duality) is undefined")
        nc3 = float(np.linalg.norm(W / np.linalg.norm(W) - M / np.linalg.norm(M)))
    nc4 = np.nan
    if predictions is not None:
        pred = np.asarray(predictions)
        if pred.shape != (n,):
            raise ValueError(f"predictions must have shape (n,) = ({n},), got {pred.shape}")
        if not np.issubdtype(pred.dtype, np.integer):
            raise TypeError(f"predictions must be integer class indices 0..C-1 = 0..{C - 1}, got dtype {pred.dtype}")
        if pred.min() < 0 or pred.max() >= C:
            raise ValueError(f"predictions must be integer class indices 0..C-1 = 0..{C - 1}, got values "
                             f"{np.unique(pred)[:5].tolist()}")
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



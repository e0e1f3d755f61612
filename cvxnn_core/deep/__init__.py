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

from cvxnn_core._linalg import whiten_columns
from cvxnn_core.deep import gap
from cvxnn_core.deep.collapse import (
    BNCollapseOptimum,
    NCMetrics,
    bn_collapse_optimum,
    class_means,
    neural_collapse_metrics,
)
from cvxnn_core.deep.linear import (
    WHITEN_COLUMNS_FIX,
    LinearOptimum,
    deep_linear_objective,
    deep_linear_optimum,
    layer_alignment,
    layer_norms,
    nuclear_norm_objective,
    numerical_rank,
    simplex_etf,
    slope_changes,
    stable_rank,
    two_layer_linear_optimum,
)
from cvxnn_core.deep.training import (
    LR_SCHEDULES,
    BNClassifierResult,
    DeepLinearResult,
    DeepReLUNet,
    LRSchedule,
    train_bn_relu_classifier,
    train_deep_linear,
    train_deep_linear_sweep,
    train_deep_relu,
)

__all__ = [
    "BNClassifierResult",
    "BNCollapseOptimum",
    "DeepLinearResult",
    "DeepReLUNet",
    "LRSchedule",
    "LR_SCHEDULES",
    "LinearOptimum",
    "NCMetrics",
    "WHITEN_COLUMNS_FIX",
    "bn_collapse_optimum",
    "class_means",
    "deep_linear_objective",
    "gap",
    "deep_linear_optimum",
    "layer_alignment",
    "layer_norms",
    "neural_collapse_metrics",
    "nuclear_norm_objective",
    "numerical_rank",
    "simplex_etf",
    "slope_changes",
    "stable_rank",
    "train_bn_relu_classifier",
    "train_deep_linear",
    "train_deep_linear_sweep",
    "train_deep_relu",
    "whiten_columns",
    "two_layer_linear_optimum",
]

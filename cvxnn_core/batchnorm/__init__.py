r"""Two-layer ReLU networks with batch normalization (BN) and their convex equivalent on whitened data.

Ergen, Sahiner, Ozturkler, Pauly, Mardani & Pilanci, "Demystifying Batch Normalization in ReLU Networks:
Equivalent Convex Optimization Models and Implicit Regularization", ICLR 2022 (arXiv 2103.01499).

The network and its objective (the convention of this module)
--------------------------------------------------------------
BN acts on the pre-activation ``h = X w1`` of one neuron over the batch of all ``n`` training samples
(train-mode statistics, no epsilon)::

    BN_{gamma, alpha}(h) = gamma * (h - mean(h) 1) / ||h - mean(h) 1||_2  +  alpha / sqrt(n) * 1

(the paper's normalisation: unit *Euclidean norm*, not unit variance; it is the usual
``gamma' (h - mu) / sigma + alpha'`` with ``sigma^2 = ||h - mu||^2 / n``, ``gamma' = gamma / sqrt(n)`` and
``alpha' = alpha / sqrt(n)``). The network and its training objective are::

    f(X) = sum_j BN_{gamma_j, alpha_j}(X w1_j)_+ w2_j
    l(f(X), y) + (beta / 2) * sum_j (gamma_j^2 + alpha_j^2 + w2_j^2).

Weight decay is on the BN scale ``gamma``, the BN shift ``alpha`` and the output weights ``w2``, not on ``W1``:
BN is invariant to the scale of ``w1`` (penalising it would only shrink ``w1`` towards 0 without changing
the infimum), and a first-layer bias would be cancelled by the centring, so ``W1`` has none.

The convex program (whitening)
------------------------------
Centre the data and take a thin SVD of rank ``r``: ``X_c = X - 1 mean^T = U S V^T``, ``U`` ``(n, r)``. With
``z = S V^T w1`` (any vector of ``R^r`` as ``w1`` ranges over ``R^d``), ``X_c w1 = U z`` and ``||U z|| = ||z||``,
so ``BN(X w1) = U q + alpha 1 / sqrt(n)`` with ``q = gamma z / ||z||`` (any vector with ``||q|| = |gamma|``). With
the *whitened basis* ``U' = [U, 1 / sqrt(n)]`` (orthonormal columns, ``U'^T U' = I_{r+1}``) a BN neuron is a
plain ReLU neuron on ``U'`` with first-layer weights ``(q, alpha)`` and the same penalty
``gamma^2 + alpha^2 = ||(q, alpha)||^2``. The BN network is therefore the ordinary two-layer ReLU network on the
data ``U'`` with every weight penalised, and (Pilanci & Ergen 2020) its training problem is the convex program::

    min  l(sum_i D_i U' (v_i - w_i)) + beta * sum_i (||v_i|| + ||w_i||)
    s.t. (2 D_i - I) U' v_i >= 0,  (2 D_i - I) U' w_i >= 0,

over the patterns ``D_i`` of ``U'`` (the arrangement of ``U'`` is that of ``[X, 1]``: same column space). The
data enter only through the whitened ``U``: BN whitens. Recovery (:func:`bn_network_from_whitened`): a
neuron ``(q, alpha)``, ``w2`` of the ReLU network on ``U'`` becomes ``gamma = ||q||``,
``w1 = V S^{-1} q / ||q||`` (so ``X_c w1 = U q / ||q||`` has unit norm), ``alpha``, ``w2``.

Closed form (overparameterised regime, ``n <= d``). If ``X_c`` has rank ``n - 1``, ``U'`` is an orthogonal
``n x n`` matrix: the data are exactly whitened (``U' U'^T = I_n``) and the squared-loss optimum is the
soft-thresholded split of ``y`` into its positive and negative parts (:func:`cvxnn_core.closed_form.whitened_relu`),
two neurons at most (:func:`closed_form_batchnorm`).

Implicit regularisation of gradient descent
-------------------------------------------
The network depends on ``w1`` only through ``z = S V^T w1`` (its coordinates in the singular basis), and
``grad_{w1} = V S grad_z``; gradient flow on ``w1`` moves ``z`` as ``dz/dt = -S^2 grad_z``. Directions with large
singular values are learned fast, those with small ones barely move from their (already small,
``z_k = s_k v_k^T w1``) initial values: GD-trained BN networks concentrate on the top singular directions, while
the convex program treats all whitened directions alike. The convex variant that encodes this bias keeps
only the top-``k`` singular directions, ``U'_k = [U_k, 1 / sqrt(n)]`` (``rank=k`` in :func:`solve_batchnorm`);
:func:`top_singular_fraction` measures the concentration. (We chose the truncation; the paper's exact
surrogate is not reproduced from its text.)

Shapes: ``X`` ``(n, d)``; ``W1`` ``(m, d)``; ``gamma``, ``alpha``, ``w2`` ``(m,)``; patterns ``(n, P)`` boolean.
"""

from __future__ import annotations

from cvxnn_core.batchnorm.network import (
    BatchNormNet,
    WhitenedData,
    batchnorm_forward,
    batchnorm_patterns,
    bn_objective,
    whiten,
)
from cvxnn_core.batchnorm.program import (
    BatchNormResult,
    bn_network_from_whitened,
    closed_form_batchnorm,
    singular_coordinates,
    solve_batchnorm,
    top_singular_fraction,
)
from cvxnn_core.batchnorm.training import (
    DEFAULT_LR,
    Backend,
    BatchNormReLU,
    BatchNormTrainResult,
    Init,
    Optimizer,
    bn_objective_and_gradient,
    train_batchnorm,
    train_batchnorm_sweep,
)

__all__ = [
    "Backend",
    "BatchNormNet",
    "BatchNormReLU",
    "BatchNormResult",
    "BatchNormTrainResult",
    "DEFAULT_LR",
    "Init",
    "Optimizer",
    "WhitenedData",
    "batchnorm_forward",
    "batchnorm_patterns",
    "bn_network_from_whitened",
    "bn_objective",
    "bn_objective_and_gradient",
    "closed_form_batchnorm",
    "singular_coordinates",
    "solve_batchnorm",
    "top_singular_fraction",
    "train_batchnorm",
    "train_batchnorm_sweep",
    "whiten",
]

r"""Threshold-activation networks trained with weight decay as Lasso programs (Ergen, Gulluk, Lacotte & Pilanci,
ICLR 2023).

A threshold neuron ``s 1[x^T w >= 0]`` does not change when ``w`` is scaled by a positive number, so the weight decay
of every weight that feeds a threshold can be made as small as wished: only the amplitudes ``s_j`` and the output
weights ``alpha_j`` of the last hidden layer are penalised, ``(beta/2) sum_j (s_j^2 + alpha_j^2) >= beta sum_j
|s_j alpha_j|`` with equality when balanced. With ``z_j = s_j alpha_j`` and the columns ``d_j = 1[H w_j >= 0]`` that
the last hidden layer can produce on the data (``H`` its input), training is the Lasso

    min_z  0.5 ||sum_j d_j z_j - y||^2 + beta ||z||_1,

exact once the layer is at least as wide as the support of a Lasso solution (at most ``n``). For two layers the
columns are the hyperplane arrangement of ``X`` (:mod:`.programs`). When a deeper network can produce **every**
binary column (the data are shattered at the last hidden layer), the Lasso over all ``2^n`` columns simplifies to
``min_delta 0.5 ||delta - y||^2 + beta (max(delta_+) + max(delta_-))`` (layer-cake decomposition), with a closed form
for ``+-1`` labels, and a three-layer network that attains it is built by :func:`shattered_network`.

The atomic-norm step, the closed form and the construction are our derivations (the paper's theorems were not at
hand; its public code solves the same two programs); the chapter says which is which. Straight-through training of the
non-convex networks is :func:`train_threshold_ste`.
"""

from cvxnn_core.threshold.networks import ThresholdNet
from cvxnn_core.threshold.programs import (
    ThresholdLasso,
    separating_gates,
    shattered_closed_form,
    shattered_network,
    shattered_program,
    solve_threshold_lasso,
    threshold_network,
)
from cvxnn_core.threshold.training import train_threshold_ste

__all__ = [
    "ThresholdLasso",
    "ThresholdNet",
    "separating_gates",
    "shattered_closed_form",
    "shattered_network",
    "shattered_program",
    "solve_threshold_lasso",
    "threshold_network",
    "train_threshold_ste",
]

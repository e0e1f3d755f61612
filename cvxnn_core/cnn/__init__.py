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

Three-layer circular CNN with one ReLU layer
--------------------------------------------
``f(X) = sum_j (X C(u_j)^T w2_j)_+ w3_j`` with unit filters: the two-layer program with the norm
``||F v||_1 / sqrt(d)`` in place of ``||v||_2`` (:mod:`cvxnn_core.cnn.circular_relu`, our derivation).
"""

from __future__ import annotations

from cvxnn_core.cnn.circular import (
    CIRCULANT_ATOL,
    CircularResult,
    circular_closed_form,
    circular_cnn_from_dft,
    circular_cnn_objective,
    circular_cnn_predictions,
    circular_convolve,
    circular_linear_model,
    circular_shift_augment,
    circular_shift_operator,
    dft_l1_objective,
    solve_circular_dft,
    solve_circular_nuclear,
)
from cvxnn_core.cnn.circular_relu import (
    CircularReLUNet,
    CircularReLUResult,
    circular_beta_max,
    circular_relu_network,
    circular_relu_objective,
    dft_l1,
    solve_circular_relu,
    train_circular_relu,
)
from cvxnn_core.cnn.patches import (
    POOLINGS,
    add_patch_intercept,
    check_patches,
    enumerate_patch_patterns,
    extract_patches,
    sample_patch_patterns,
    stack_patches,
)
from cvxnn_core.cnn.relu import (
    ConvexCNNResult,
    Pooling,
    TwoLayerCNN,
    cnn_network,
    cnn_objective,
    complete_program_cost,
    convex_cnn_objective,
    convex_cnn_predictions,
    filter_alignment,
    solve_cnn_relu,
    strongest_filters,
)
from cvxnn_core.cnn.training import train_cnn, train_cnn_sweep

__all__ = [
    "CircularReLUNet",
    "CircularReLUResult",
    "circular_beta_max",
    "circular_relu_network",
    "circular_relu_objective",
    "dft_l1",
    "solve_circular_relu",
    "train_circular_relu",
    "CIRCULANT_ATOL",
    "CircularResult",
    "ConvexCNNResult",
    "POOLINGS",
    "Pooling",
    "TwoLayerCNN",
    "add_patch_intercept",
    "check_patches",
    "circular_closed_form",
    "circular_cnn_from_dft",
    "circular_cnn_objective",
    "circular_cnn_predictions",
    "circular_convolve",
    "circular_linear_model",
    "circular_shift_augment",
    "circular_shift_operator",
    "cnn_network",
    "cnn_objective",
    "complete_program_cost",
    "convex_cnn_objective",
    "convex_cnn_predictions",
    "dft_l1_objective",
    "enumerate_patch_patterns",
    "extract_patches",
    "filter_alignment",
    "sample_patch_patterns",
    "solve_circular_dft",
    "solve_circular_nuclear",
    "solve_cnn_relu",
    "stack_patches",
    "strongest_filters",
    "train_cnn",
    "train_cnn_sweep",
]

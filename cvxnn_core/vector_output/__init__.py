r"""Vector-output two-layer ReLU networks: the copositive program, its relaxations and a closed form.

Sahiner, Ergen, Pauly & Pilanci, "Vector-output ReLU neural network problems are copositive programs",
ICLR 2021 (arXiv:2012.13329). Everything vector-output lives here: convex programs (cvxpy), the
soft-thresholded SVD closed form, recovery of the network, and a small torch trainer.

Shapes (extend the scalar conventions of :mod:`cvxnn_core`)
-----------------------------------------------------------
``X`` is ``(n, d)``, the targets ``Y`` are ``(n, c)`` (a 1-D ``y`` of shape ``(n,)`` is read as ``c = 1``).
A network of width ``m`` has ``W1`` of shape ``(m, d)`` (one row per neuron, as in the scalar case) and
``W2`` of shape ``(m, c)`` (row ``j`` is the output vector of neuron ``j``; for ``c = 1`` it is
``w2[:, None]``)::

    f(X) = (X W1^T)_+ W2                                             shape (n, c)
    0.5 * ||f(X) - Y||_F^2 + (beta / 2) * (||W1||_F^2 + ||W2||_F^2)   (the non-convex objective)

The convex program over patterns (Sahiner et al., Thm. 1)
----------------------------------------------------------
With patterns ``D_i`` and cones ``K_i = {u : (2 D_i - I) X u >= 0}`` (on ``K_i``, ``(X u)_+ = D_i X u``)::

    min_{V_i in R^{d x c}}  0.5 * ||sum_i D_i X V_i - Y||_F^2 + beta * sum_i ||V_i||_{*,K_i}

    ||V||_{*,K} = min { sum_j ||u_j|| ||g_j|| : V = sum_j u_j g_j^T, u_j in K }

the cone-constrained nuclear norm (the gauge of ``conv{u g^T : u in K, ||u|| = ||g|| = 1}``). Every
network splits as ``sum_i D_i X V_i`` by grouping its neurons by pattern, with penalty ``>=`` that of the
program, and every term ``u_j g_j^T`` of a feasible ``V_i`` is a neuron: with the complete arrangement
(:func:`cvxnn_core.patterns.enumerate_patterns`) the optimum equals the network optimum (any width
``m >= m*``); with a subset of patterns it is an upper bound attained by a network.

Copositive form. ``||V||_{*,K} = min 0.5 (tr U + tr W)`` over ``Z = [[U, V], [V^T, W]]`` in
``conv{z z^T : z in K x R^c}``, and this cone equals ``{Z psd : U in CP_K}`` with
``CP_K = cone{u u^T : u in K}`` (given ``U = B B^T`` with the columns of ``B`` in ``K``, write
``V = B C`` with ``C = B^+ V`` and put ``W - C^T C >= 0`` on terms ``(0, h)``). Deciding ``CP_K`` is hard in
general (its dual is the copositive cone), which is why the paper calls the program copositive.

What is solved here, and what is exact (``method`` of :func:`solve_vector_relu`)
--------------------------------------------------------------------------------
All programs are written in the coordinates of the row space of ``X`` (``u = Q z``, ``Q`` ``(d, r)``
orthonormal, ``r = rank X``): components of ``u`` orthogonal to the rows only add weight decay.

* ``"exact"``: EXACT whenever ``r <= 4`` (any ``c``). Each cone ``K_i`` is pointed in these coordinates;
  its extreme rays are enumerated and it is triangulated into simplicial cones ``cone(R_t)`` (``R_t``
  ``(r, r)``, unit rays). The gauge of a union of atom sets is the infimal convolution of the gauges, and
  on a simplicial cone ``CP_{cone(R)} = R CP_r R^T`` with ``CP_r = DNN_r`` (completely positive = doubly
  non-negative: psd and entrywise ``>= 0``) for ``r <= 4`` (Maxfield & Minc 1962). So, with ``u = Q R_t lam``::

      ||V||_{*,K_i} = min sum_t 0.5 (<R_t^T R_t, M_t> + tr W_t)
                      s.t. [[M_t, Phi_t], [Phi_t^T, W_t]] psd,  M_t >= 0 entrywise,  V = sum_t Q R_t Phi_t

  an SDP, and the prediction is ``sum_t (X Q R_t)_+ Phi_t``. For ``c = 1`` and ``r > 4`` the program is the
  scalar one, solved exactly by :func:`cvxnn_core.programs.solve_relu` (``||v||_{*,K} = min ||a|| + ||b||``
  with ``v = a - b``, ``a, b in K``). ``r > 4`` with ``c > 1`` is refused (``CP_r != DNN_r``).
* ``"dnn"``: the doubly non-negative relaxation ``CP_{K_i} -> {U psd : A_i U A_i^T >= 0 entrywise}``
  (``A_i`` the facet normals of ``K_i``; it suffices to use facets, every other row of ``(2 D_i - I) X`` is a
  non-negative combination of them): a LOWER bound on the program over the same patterns, one psd block
  per pattern. On a simplicial cone it equals ``R DNN_r R^T`` and is written in ray coordinates (the block
  of ``"exact"``), so it is exact on every simplicial cone when ``r <= 4`` (always when ``r <= 2``).
* ``"nuclear"``: drop the cones, ``||V_i||_{*,K_i} -> ||V_i||_*`` (the copositive relaxation that removes
  the cone constraint; for ``c = 1`` the gated-ReLU program). A LOWER bound on the program over the same
  patterns, hence, with the complete arrangement, on the objective of every network of every width.

Ordering over one pattern set: ``nuclear <= dnn <= exact``; over the complete arrangement
``exact = network optimum <= any SGD run``.

Spike-free data and the soft-thresholded SVD
--------------------------------------------
``X`` is *spike-free* when ``{(X u)_+ : ||u|| <= 1}`` is contained in ``{X u : ||u|| <= 1}``. For ``X`` of full
row rank (``n <= d``) this holds iff ``M = (X X^T)^{-1}`` has non-positive off-diagonal entries
(:func:`is_spike_free`; proof in its docstring). For whitened data ``X X^T = I_n`` the network problem is
``min_F 0.5 ||F - Y||^2 + beta ||F||_{*,+}`` with non-negative left factors, and its value is at least that
of the nuclear-norm problem, solved by singular-value soft thresholding ``F0 = SVT_beta(Y)``. The bound
is attained iff ``(F0 F0^T)^{1/2}`` is completely positive (:func:`soft_thresholded_svd`).
"""

from __future__ import annotations

from cvxnn_core.vector_output.geometry import CP_TOL, RAY_TOL, cp_factor
from cvxnn_core.vector_output.networks import VectorNet, balance_network, vector_objective
from cvxnn_core.vector_output.programs import (
    MAX_EXACT_RANK,
    METHODS,
    PIECE_ZERO_TOL,
    Method,
    Piece,
    VectorConvexResult,
    solve_vector_relu,
)
from cvxnn_core.vector_output.recovery import CONE_TOL, VectorRecovery, recover_network
from cvxnn_core.vector_output.spike_free import (
    WHITEN_ROWS_FIX,
    SpikeFreeSolution,
    is_spike_free,
    soft_thresholded_svd,
    svt_value,
)
from cvxnn_core.vector_output.training import DEFAULT_LR, Optimizer, train_vector_network, train_vector_sweep

__all__ = [
    "CONE_TOL",
    "CP_TOL",
    "DEFAULT_LR",
    "MAX_EXACT_RANK",
    "METHODS",
    "Method",
    "Optimizer",
    "PIECE_ZERO_TOL",
    "Piece",
    "RAY_TOL",
    "SpikeFreeSolution",
    "VectorConvexResult",
    "VectorNet",
    "VectorRecovery",
    "WHITEN_ROWS_FIX",
    "balance_network",
    "cp_factor",
    "is_spike_free",
    "recover_network",
    "soft_thresholded_svd",
    "solve_vector_relu",
    "svt_value",
    "train_vector_network",
    "train_vector_sweep",
    "vector_objective",
]

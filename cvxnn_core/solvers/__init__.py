r"""Fast first-order solvers in torch for the gated-ReLU and ReLU convex programs (CPU or GPU).

Notation as everywhere in the package (``book/conventions.md``): data ``X`` ``(n, d)``, patterns ``D``
boolean ``(n, P)`` (column ``i`` is the diagonal of ``D_i``), blocks stored as rows, ``U`` ``(P, d)`` (or
``(P, d, c)`` for vector targets ``y`` ``(n, c)``).

Operator and adjoint (never materialising the ``n x (P d)`` matrix ``[D_1 X ... D_P X]``)::

    A(U)   = sum_i D_i X u_i  = rowsum(D * (X @ U^T))         (n,)    one (n, d) x (d, P) product
    A^T(r) = [X^T D_i r]_i    = (X^T @ (D * r[:, None]))^T    (P, d)  one (d, n) x (n, P) product

Gated ReLU (Mishkin, Sahiner & Pilanci, ICML 2022), the group lasso over patterns::

    min_U  l(A(U)) + beta * sum_i ||u_i||_2

solved by FISTA (:func:`fista_gated`): backtracking on the quadratic upper bound (started from the safe
step ``1 / ||A||^2`` estimated by power iteration, tentatively enlarged by ``step_growth`` before each line
search), block soft-thresholding as the prox ``u_i <- (1 - s beta / ||u_i||)_+ u_i``, adaptive restarts of the
momentum (gradient-mapping test), and a working set of patterns (the largest ``||X^T D_i r||`` first, grown
with the most violated patterns whenever the restricted problem is solved). It stops on a *certificate*:
with the residual ``r = -grad l(A U)`` the point ``lambda = t r`` is dual feasible as soon as
``t max_i ||X^T D_i r|| <= beta`` over *all* ``P`` patterns (for the gated program this check is exact and needs
no cone projection), and ``-l^*(-lambda)`` (:func:`cvxnn_core.losses.dual_value`) is a lower bound on the
optimum. The relative gap ``(primal - lower) / primal`` is the stopping rule.

ReLU (cone-constrained), blocks ``z = [v_1..v_P, w_1..w_P]`` with signs ``s = (+1, -1)``::

    min_z  l(sum_i s_i D_i X z_i) + beta * sum_i ||z_i||   s.t.  C_i(z) = (2 D_i - I) X z_i >= 0

Certificate (both ReLU solvers): for every ``lambda`` and ``mu >= 0`` with
``||X^T (s_i D_i lambda + (2 D_i - I) mu_i)|| <= beta`` for all blocks, ``-l^*(-lambda)`` is a lower bound
(Lagrangian duality); minimising that norm over ``mu_i >= 0`` gives the exact cone support
``||Pi_{K_i}(s_i X^T D_i lambda)||`` of :func:`cvxnn_core.certificates.cone_support` (one NNLS, computed lazily by
:func:`cone_supports`). The primal value is taken at a *feasible* point: every block that violates its cone is
projected onto it exactly (:func:`cvxnn_core.patterns.cone_projection`), so the returned solution has zero
constraint violation up to the projection's accuracy and the reported gap bounds its suboptimality.

* :func:`active_set_relu` (squared loss; the high-accuracy method): column generation over the ``2P`` blocks
  (add the blocks whose dual constraint is most violated) and constraint generation over their cone rows,
  with each restricted program solved exactly by Clarabel's conic interior point (called directly, on ``k d``
  variables instead of ``2 P d``), stopping when the certified gap is ``<= tol``.
* :func:`al_relu` (squared or logistic loss; first order): augmented Lagrangian with multipliers
  ``mu >= 0`` of shape ``(n, 2P)``, subproblems ``min l(.) + (1 / (2 delta)) ||(mu - delta C(z))_+||^2 +
  beta sum ||z_i||`` solved by the same FISTA (warm-started), updates ``mu <- (mu - delta C(z))_+``. Fast to
  ``1e-3``, slow to ``1e-6`` (the multiplier updates converge linearly at a rate set by ``delta``).

* :func:`admm_relu` (squared loss; CRONOS, Feng, Frangella & Pilanci 2024): ADMM splitting the group norm and the
  cone constraints, each linear system solved inexactly by Nystrom-preconditioned conjugate gradients; cheap
  iterations that reach a good predictor early and a high-accuracy certificate slowly.

Cone decomposition (Mishkin et al. 2022): a gated block ``u`` is written ``u = v - w`` with ``v, w`` in
the cone ``K = {x : (2D - I) X x >= 0}``; the minimum-norm choice ``v = u/2 + e``, ``w = e - u/2`` with
``e = argmin ||e|| s.t. (2D - I) X e >= |X u| / 2`` is a least-distance program solved exactly by one
non-negative least-squares problem (Lawson & Hanson 1974, ch. 23). Predictions are unchanged. For large ``n`` the
split along the gate ``g`` that sampled ``D`` (an interior point of ``K``) is closed-form (:func:`gate_split`);
both are in :mod:`cvxnn_core.solvers.decompose`.

Measuring: :func:`time_to_accuracy` and :func:`performance_profile` turn solver traces into the numbers of
the benchmark (``paper_experiments/benchmarks/solvers``) and of the chapter ``solver_speed``.

Losses: ``"squared"`` (scalar or vector targets) and ``"logistic"`` (labels ``+-1``, gated FISTA and AL); the
hinge loss is not smooth and is left to the cvxpy path. The first-layer bias is penalised like every weight (a ones
column of ``X``); ``free_bias`` is not supported here.
"""

from __future__ import annotations

from cvxnn_core.duality import cone_supports
from cvxnn_core.solvers.active_set import (
    REDUCED_SOLVE_METHOD,
    REDUCED_SOLVE_TOL,
    PatternGrowth,
    active_set_relu,
    grow_patterns,
)
from cvxnn_core.solvers.admm import admm_relu
from cvxnn_core.solvers.decompose import (
    GatedDecomposition,
    cone_decomposition,
    decompose_gated,
    gate_split,
    least_distance,
)
from cvxnn_core.solvers.fista import (
    BLOCK_ZERO_TOL,
    FAST_LOSSES,
    FirstOrderResult,
    FistaState,
    anderson_extrapolation,
    fista_step,
    gated_certificate,
    gated_dual_bound,
    group_soft_threshold,
)
from cvxnn_core.solvers.gated import WORKING_SET_MIN, fista_gated, fista_path, gated_operator_norm
from cvxnn_core.solvers.metrics import performance_profile, time_to_accuracy
from cvxnn_core.solvers.newton import newton_direction, support_newton
from cvxnn_core.solvers.operators import Array, FastLoss, beta_max, cone_constraints, gated_adjoint, gated_forward
from cvxnn_core.solvers.relu_al import al_relu, feasible_point, relative_violation, relu_certificate

__all__ = [
    "Array",
    "BLOCK_ZERO_TOL",
    "FAST_LOSSES",
    "FastLoss",
    "FirstOrderResult",
    "FistaState",
    "GatedDecomposition",
    "PatternGrowth",
    "REDUCED_SOLVE_METHOD",
    "REDUCED_SOLVE_TOL",
    "WORKING_SET_MIN",
    "active_set_relu",
    "admm_relu",
    "al_relu",
    "beta_max",
    "cone_constraints",
    "cone_decomposition",
    "cone_supports",
    "decompose_gated",
    "feasible_point",
    "fista_gated",
    "fista_path",
    "fista_step",
    "gated_adjoint",
    "anderson_extrapolation",
    "gated_certificate",
    "gated_dual_bound",
    "gated_forward",
    "gated_operator_norm",
    "gate_split",
    "group_soft_threshold",
    "grow_patterns",
    "least_distance",
    "newton_direction",
    "performance_profile",
    "relative_violation",
    "relu_certificate",
    "support_newton",
    "time_to_accuracy",
]

r"""The cutting-plane method of Ergen & Pilanci (JMLR 2021) for two-layer ReLU networks, squared loss.

The semi-infinite dual of weight-decay training (``beta > 0``)::

    max_lambda  -0.5 ||lambda - y||^2 + 0.5 ||y||^2   s.t.  |lambda^T (X u)_+| <= beta  for all ||u|| = 1

has one constraint per unit direction ``u`` (a neuron). The cutting-plane method keeps a finite set of
neurons ``u_1..u_k`` and alternates two exact steps.

1. **Restricted primal** (a Lasso over fixed ReLU features ``a_k = (X u_k)_+``)::

       min_c  0.5 ||sum_k c_k a_k - y||^2 + beta ||c||_1 ,

   whose dual is the semi-infinite dual restricted to the constraints ``|lambda^T a_k| <= beta``. Its
   optimum is the objective of a real network (``w1_k = sqrt|c_k| u_k``, ``w2_k = sign(c_k) sqrt|c_k|``
   has weight decay ``beta ||c||_1``), hence an **upper bound** on the global optimum. The restricted
   dual optimum is ``lambda = y - A c*``.
2. **Oracle** (most violated constraint, exact). For a pattern ``D_i`` of the arrangement with cone
   ``K_i = {u : (2 D_i - I) X u >= 0}``, ``lambda^T (X u)_+ = g_i^T u`` with ``g_i = X^T D_i lambda`` and
   ``max_{u in K_i, ||u|| <= 1} +-g_i^T u = ||Pi_{K_i}(+-g_i)||`` (Moreau), attained at the normalised
   projection ``u* = Pi_{K_i}(+-g_i) / ||Pi_{K_i}(+-g_i)||``
   (:func:`cvxnn_core.patterns.cone_projection`). The largest value over the complete arrangement,
   divided by ``beta``, is the *max violation ratio*; the ``neurons_per_iter`` directions with the
   largest ratios above ``1 + tol`` (distinct, not already in the set) are added.

The **lower bound** at each iteration is the dual value of ``lambda`` scaled to be feasible over every
pattern (:func:`cvxnn_core.certificates.dual_certificate`; when an interior-point multiplier is at hand
it is tried too and the better bound kept). The method stops when the max violation ratio is
``<= 1 + tol``: ``lambda / (1 + tol)`` is then feasible for the full dual and, since
``lambda^T (y - lambda) = beta ||c||_1`` at the restricted optimum, the relative gap is at most
``tol * beta ||c||_1 / primal < tol``. The upper bounds never increase (each restricted problem contains
the previous one); the lower bounds need not be monotone.

Cost. The certificate's sweep over the patterns (one non-negative least-squares projection per pattern
and sign) also yields the max violation ratio and the violating patterns, so the oracle only projects
again on those to get the maximising directions. Adding the top ``neurons_per_iter`` distinct violators
per iteration (rather than one) cuts the number of iterations; the whole neuron set is kept. No
relaxation-based oracle (cone-free bound, sampled patterns) is used: every ratio is exact.

Accuracy of the restricted solve. An interior-point solution (Clarabel) of the Lasso is accurate to
about the solver tolerance *in objective*, but its residual ``y - A c`` only to about the square root of
it, which would stall the oracle near a violation ratio of ``1 + 1e-5``. The restricted Lasso is
therefore solved **exactly** by an active-set method (:func:`lasso_active_set`, Lawson-Hanson on
``c = z+ - z-``, warm-started at the previous iterate), whose output is accepted only after its KKT
conditions are verified to rounding; ``lambda = y - A c`` is then the exact restricted dual optimum. If
the verification fails (degenerate feature sets), the interior-point solve is used and the oracle gets
the solver's multiplier of ``z = A c``, which is accurate to the solver tolerance; the certificate then
tries both that multiplier and the residual. ``history["exact_solve"]`` records which happened.

Starting point: the empty set (``lambda = y``), plus ``init_neurons`` random unit directions drawn with
``seed`` (the method is otherwise deterministic).
"""

from cvxnn_core.cutting_plane.lasso import (
    RestrictedSolution,
    lasso_active_set,
    lasso_kkt_holds,
    lasso_objective,
    network_of,
    relu_features,
    solve_restricted_lasso,
)
from cvxnn_core.cutting_plane.method import HISTORY_KEYS, CuttingPlaneResult, cutting_plane, most_violated_neurons

__all__ = [
    "HISTORY_KEYS", "CuttingPlaneResult", "RestrictedSolution", "cutting_plane", "lasso_active_set", "lasso_kkt_holds",
    "lasso_objective", "most_violated_neurons", "network_of", "relu_features", "solve_restricted_lasso",
]

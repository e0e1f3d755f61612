"""cvxnn_core: two-layer ReLU networks trained with weight decay are convex programs.

Conventions (used by every module and every chapter of the book; also in ``book/conventions.md``)
-------------------------------------------------------------------------------------------------
* Data ``X`` has shape ``(n, d)``: one row per sample. Targets ``y`` have shape ``(n,)``
  (scalar output) or ``(n, c)`` (vector output). A bias is not a separate parameter: append
  a ones column to ``X`` (:func:`cvxnn_core.datasets.add_intercept`); the estimators do this
  when ``fit_intercept=True``.
* A two-layer ReLU network of width ``m`` has first-layer weights ``W1`` of shape ``(m, d)``
  and second-layer weights ``w2`` of shape ``(m,)``:  ``f(X) = (X W1^T)_+ w2``.
* Non-convex (weight-decay) objective, squared loss::

      0.5 * ||f(X) - y||^2 + (beta / 2) * (||W1||_F^2 + ||w2||^2)

  For labels ``y in {-1, +1}`` the hinge loss is ``sum_j (1 - y_j f_j)_+`` and the logistic
  loss ``sum_j log(1 + exp(-y_j f_j))`` (sums, not means).
* Activation patterns: ``D`` is a boolean array of shape ``(n, P)``; column ``i`` is the
  diagonal of ``D_i = diag(1[X g_i >= 0])`` for some gate vector ``g_i``.
* Convex program (Pilanci & Ergen, 2020)::

      min_{v_i, w_i}  0.5 * ||sum_i D_i X (v_i - w_i) - y||^2 + beta * sum_i (||v_i||_2 + ||w_i||_2)
      s.t.            (2 D_i - I) X v_i >= 0,  (2 D_i - I) X w_i >= 0,   i = 1..P.

  ``V`` and ``W`` are stored as ``(P, d)`` arrays (row ``i`` is ``v_i``). With every pattern of
  the hyperplane arrangement the two optima coincide; with sampled patterns the convex optimum
  is an upper bound on the non-convex one, attained by the recovered network.

Submodules are imported on demand: ``import cvxnn_core`` loads neither cvxpy nor torch.
"""

__version__ = "0.1.0"

__all__ = [
    "batchnorm",
    "certificates",
    "cnn",
    "closed_form",
    "cutting_plane",
    "datasets",
    "deep",
    "duality",
    "estimators",
    "interpretation",
    "kernels",
    "nonconvex",
    "patterns",
    "plotting",
    "programs",
    "recovery",
    "results",
    "solvers",
    "splines",
    "vector_output",
]

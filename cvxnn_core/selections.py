r"""Networks selected from one optimal set, as in Table 1 of Mishkin & Pilanci (ICML 2023).

The paper picks several networks from the optimal set of one convex program (minimum-norm, maximum-norm, best on
validation data, best on test data as an oracle) and compares their test accuracies. Two rules are offered here:

* **certified** (:meth:`cvxnn_core.optimal_set.OptimalSet.select`): the optimal set is the polytope of masses on the
  dual-tight neurons, found and checked through the dual; every selected network is optimal;
* **scaled support** (:func:`scaled_support`): the public code's rule, which keeps every block with a non-zero norm and
  rescales the kept blocks with the training fit fixed. On an interior-point solution every block is non-zero
  (inactive ones at ``1e-11``), and nothing fixes the penalty, so its networks may leave the optimal set.

:func:`compare_selections` runs both on one split and reports the test accuracy and the relative objective excess of
every selected network.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from cvxnn_core._validation import check_beta, check_patterns, check_positive_number, check_X_y
from cvxnn_core.recovery import TwoLayerNet, nonconvex_objective

__all__ = ["ScaledSupport", "SelectionRow", "compare_selections", "scaled_support"]

CERTIFIED_CRITERIA = ("min_l2", "min_error_validation", "min_error_test")
SUPPORT_CRITERIA = ("min_l2", "max_sum", "min_error_validation", "min_error_test")
# Median test accuracies of Table 1 (public code's tables/table_1.csv), in the order of SUPPORT_CRITERIA
# (min-l2 norm, max-l1 norm, validation MSE, test MSE).
TABLE_1 = {"pima": (0.68, 0.68, 0.68, 0.87), "mammographic": (0.77, 0.77, 0.57, 0.78)}


@dataclass(frozen=True)
class ScaledSupport:
    """Result of :func:`scaled_support`: the rescaled network ``net``, the scale factors ``scales`` of the kept
    blocks, ``n_kept`` and ``solved`` (``False`` when the selection program failed or was unbounded and the solver's
    own network was kept, as the public code falls back)."""

    net: TwoLayerNet
    scales: np.ndarray = field(repr=False)
    n_kept: int
    solved: bool


def scaled_support(
    result: object, X: np.ndarray, criterion: str, X_eval: np.ndarray | None = None,
    y_eval: np.ndarray | None = None, *, rtol: float = 1e-12,
) -> ScaledSupport:
    """The selection rule of the public Table-1 code of Mishkin & Pilanci (2023), for comparison with
    :meth:`OptimalSet.select`: keep every block of a ReLU ``result`` whose norm exceeds ``rtol`` times the largest
    (a literal "non-zero" test), and rescale the kept blocks ``b_j -> s_j b_j`` with ``s >= 0`` and the training fit
    unchanged, ``sum_j s_j c_j = f`` (``c_j = s_j D_j X b_j``), choosing ``s`` by ``criterion``: ``"min_l2"``
    (``min ||s||``), ``"max_sum"`` (``max sum s``) or ``"min_error"`` (least squares of the rescaled ReLU network on
    ``X_eval, y_eval``). Nothing keeps the penalty fixed, so unless every kept block is tight the selected network
    leaves the optimal set: compare its objective with the optimum."""
    import cvxpy as cp

    from cvxnn_core._cvx import block_norms
    from cvxnn_core._validation import check_choice, check_X, check_y
    from cvxnn_core.programs import ConvexResult

    X = check_X(X)
    ConvexResult.check_solved_on(result, X)
    if result.kind != "relu" or np.ndim(result.V) != 2 or result.free_bias:
        raise ValueError("scaled_support needs a scalar-output ReLU result with a penalised bias (solve_relu)")
    criterion = check_choice(criterion, "criterion", ("min_l2", "max_sum", "min_error"))
    rtol = check_positive_number(rtol, "rtol")
    if rtol >= 1:
        raise ValueError(f"rtol must be in (0, 1) (a fraction of the largest block norm), got {rtol!r}")
    blocks = [(1.0, i, result.V[i]) for i in range(result.V.shape[0])] + \
             [(-1.0, i, result.W[i]) for i in range(result.W.shape[0])]
    norms = np.r_[block_norms(result.V), block_norms(result.W)]
    keep = [b for b, nb in zip(blocks, norms, strict=True) if nb > rtol * norms.max()]
    if not keep:
        raise ValueError("the result has no non-zero block (the zero network); there is nothing to rescale")
    D = result.patterns
    Z = np.column_stack([s * D[:, i] * (X @ v) for s, i, v in keep])
    W1 = np.array([v for _, _, v in keep])
    sg = np.array([s for s, _, _ in keep])
    cn = np.maximum(np.linalg.norm(Z, axis=0), 1e-300)
    t = cp.Variable(Z.shape[1], nonneg=True)  # t = s * ||Z_j||: the same program, scaled for tiny blocks
    if criterion == "min_error":
        if X_eval is None or y_eval is None:
            raise ValueError("criterion 'min_error' needs X_eval and y_eval (held-out data to fit)")
        X_eval = check_X(X_eval, "X_eval")
        if X_eval.shape[1] != X.shape[1]:
            raise ValueError(f"X_eval has {X_eval.shape[1]} columns, X {X.shape[1]}; prepare it the same way")
        Phi = np.maximum(X_eval @ W1.T, 0.0) * sg[None, :]
        y_eval = check_y(y_eval, Phi.shape[0], "y_eval")
        objective = cp.Minimize(cp.sum_squares((Phi / cn) @ t - y_eval))
    elif X_eval is not None or y_eval is not None:
        raise ValueError(f"criterion {criterion!r} takes no X_eval / y_eval (they are for 'min_error')")
    else:
        objective = cp.Minimize(cp.sum_squares(t / cn)) if criterion == "min_l2" else cp.Maximize(cp.sum(t / cn))
    problem = cp.Problem(objective, [(Z / cn) @ t == Z.sum(axis=1)])
    try:
        with warnings.catch_warnings():  # an inaccurate solve is accepted, as the public code accepts it
            warnings.simplefilter("ignore", UserWarning)
            problem.solve(solver="CLARABEL")
        solved = problem.status in ("optimal", "optimal_inaccurate") and t.value is not None
    except cp.error.SolverError:
        solved = False
    scales = np.maximum(t.value / cn, 0.0) if solved else np.ones(Z.shape[1])
    mass = scales * np.linalg.norm(W1, axis=1)
    units = W1 / np.maximum(np.linalg.norm(W1, axis=1), 1e-300)[:, None]
    root = np.sqrt(mass)
    return ScaledSupport(TwoLayerNet(units * root[:, None], sg * root), scales, len(keep), bool(solved))


@dataclass(frozen=True)
class SelectionRow:
    """One selected network of :func:`compare_selections`: ``rule`` (``"certified"`` or ``"scaled support"``),
    ``criterion``, ``width``, ``test_accuracy`` (sign agreement on the test set), ``excess`` (relative excess of its
    training objective over the certified optimum) and ``solved`` (the selection program succeeded)."""

    rule: str
    criterion: str
    width: int
    test_accuracy: float
    excess: float
    solved: bool


def compare_selections(
    X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, X_test: np.ndarray, y_test: np.ndarray,
    beta: float, patterns: np.ndarray, *, support_rtol: float = 1e-12,
) -> list[SelectionRow]:
    """Solve the ReLU program on ``(X, y)`` over ``patterns``, then select networks by both rules (module docstring)
    and evaluate each one: labels ``+-1``, prediction ``sign f(X_test)``; ``support_rtol`` is the "non-zero" test
    of :func:`scaled_support`."""
    from cvxnn_core import optimal_set as osm
    from cvxnn_core.programs import solve_relu

    X, y = check_X_y(X, y)
    X_val, y_val = check_X_y(X_val, y_val)
    X_test, y_test = check_X_y(X_test, y_test)
    for name, Z in (("X_val", X_val), ("X_test", X_test)):
        if Z.shape[1] != X.shape[1]:
            raise ValueError(f"{name} has {Z.shape[1]} columns, X {X.shape[1]}; prepare every split the same way")
    beta = check_beta(beta)
    D = check_patterns(patterns, X.shape[0])
    S = osm.optimal_set(X, y, beta, D)
    result = solve_relu(X, y, beta, D, zero_blocks=False)  # the raw interior-point point, as the public code has
    rows = []

    def row(rule: str, criterion: str, net: TwoLayerNet, solved: bool) -> SelectionRow:
        excess = (nonconvex_objective(X, y, net, beta) - S.objective) / S.objective
        accuracy = float(np.mean(np.where(net.predict(X_test) >= 0, 1.0, -1.0) == y_test))
        return SelectionRow(rule, criterion, net.width, accuracy, float(excess), solved)

    held_out = {"min_error_validation": (X_val, y_val), "min_error_test": (X_test, y_test)}
    for criterion in CERTIFIED_CRITERIA:
        args = held_out.get(criterion, (None, None))
        alpha = S.select("min_error" if args[0] is not None else criterion, *args)
        rows.append(row("certified", criterion, S.network(alpha), True))
    for criterion in SUPPORT_CRITERIA:
        args = held_out.get(criterion, (None, None))
        out = scaled_support(result, X, "min_error" if args[0] is not None else criterion, *args, rtol=support_rtol)
        rows.append(row("scaled support", criterion, out.net, out.solved))
    return rows

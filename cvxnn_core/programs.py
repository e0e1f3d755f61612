r"""Convex programs equivalent to two-layer ReLU and gated-ReLU training (solved with cvxpy).

ReLU (Pilanci & Ergen, ICML 2020, Thm. 1), for patterns ``D_i`` (columns of ``patterns``)::

    min_{v_i, w_i}  l( sum_i D_i X (v_i - w_i) ) + beta * sum_i (||v_i||_2 + ||w_i||_2)
    s.t.            (2 D_i - I) X v_i >= 0,   (2 D_i - I) X w_i >= 0.

The cone constraint makes ``D_i X v_i = (X v_i)_+``, so each non-zero block is a ReLU neuron.

Gated ReLU (Mishkin, Sahiner & Pilanci, ICML 2022): the same objective with a single block per
pattern and no cone constraint, ``min l(sum_i D_i X u_i) + beta * sum_i ||u_i||_2``; the gates are
fixed, so the model is ``f(x) = sum_i 1[x^T g_i >= 0] x^T u_i``.

Every solve names its solver (Clarabel by default), checks the solver's status and raises
:class:`SolverError` instead of returning garbage. Results are :class:`ConvexResult` with
``V`` and ``W`` stored as ``(P, d)`` arrays (row ``i`` is ``v_i``); for gated ReLU, ``V`` holds the
``u_i`` and ``W`` is zero. Blocks with negligible norm are set to zero and every other ReLU block is
projected exactly onto its cone; ``objective`` is then evaluated in numpy at the returned variables,
so it is exactly the objective of what is returned. Zeroing is kept only when it does not raise the
objective above the solver's own point (otherwise the projected, unzeroed point is returned).

Vector targets ``y`` ``(n, c)`` (squared loss) are accepted by the gated program: each block ``U_i`` is then
``(d, c)``, penalised by its Frobenius norm, and ``V`` is stored as ``(P, d, c)``. The ReLU program takes
scalar targets (vector-output ReLU networks are :mod:`cvxnn_core.vector_output`).

Fast first-order solvers (:mod:`cvxnn_core.solvers`, torch, CPU or GPU) are selected through the same functions:
``solve_gated_relu(..., solver="fista")`` (restarted FISTA), ``solve_relu(..., solver="al")`` (augmented Lagrangian),
``"active_set"`` (exact reduced solves) or ``"admm"`` (CRONOS); the last two take the squared loss only. They stop
on a certified relative duality gap (``solver_options={"tol": 1e-6, ...}``) and return a :class:`ConvexResult`
with ``status="optimal"`` when the gap reached ``tol``.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from cvxnn_core._cvx import SolverError, block_norms, check_solver, clean_blocks, project_blocks, solve_linked
from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_labels_pm1,
    check_loss,
    check_patterns,
    check_X,
    check_X_y,
)
from cvxnn_core.losses import Loss, loss_value

Kind = Literal["relu", "gated_relu"]
OnUnconverged = Literal["raise", "warn"]
# First-order solvers by program: name -> the function, given cvxnn_core.solvers (imported only then: it needs torch).
FAST_SOLVERS: dict[str, dict[str, Callable[[Any], Callable[..., Any]]]] = {
    "gated_relu": {"FISTA": lambda m: m.fista_gated},
    "relu": {"AL": lambda m: m.al_relu, "ACTIVE_SET": lambda m: m.active_set_relu, "ADMM": lambda m: m.admm_relu},
}
SQUARED_ONLY = ("ACTIVE_SET", "ADMM")

# n d P above which solve_relu warns before it starts (and the estimators take the gated route with solver=None):
# measured on 2 cores, 2,000 MNIST images x 785 x 50 patterns (7.9e7) gave no answer in 5 minutes by "al" or
# "active_set", and 5,000 x 785 x 50 none in 15 minutes by Clarabel
RELU_SCALE_LIMIT = 20_000_000


@dataclass(frozen=True)
class ConvexResult:
    """Solution of a convex program.

    Attributes: ``objective`` (float, at the returned variables), ``V``, ``W`` (``(P, d)``),
    ``patterns`` (``(n, P)`` bool), ``status`` and ``solver`` (as reported by cvxpy), ``solve_time``
    (s), ``beta``, ``loss``, ``kind`` (``"relu"`` or ``"gated_relu"``), ``gates`` (``(d, P)`` or None),
    ``dual``: the solver's dual point ``lambda`` (``(n,)``, ``= -grad l(f)`` at the optimum), which
    :func:`cvxnn_core.certificates.certify_convex` verifies independently. ``free_bias``: the last
    column of ``X`` is a ones column whose weights are not penalised. ``converged``: the solver reached the
    requested accuracy (cvxpy: status ``optimal``; first-order solvers: certified gap ``<= tol``); ``gap``: the
    final certified relative duality gap of a first-order solver (``None`` for cvxpy solvers, whose point is
    certified by :func:`cvxnn_core.certificates.certify_convex`); ``iterations``: the solver's iteration count.
    For vector targets ``V`` and ``W`` are ``(P, d, c)`` and ``dual`` is ``(n, c)``.
    """

    objective: float
    V: np.ndarray
    W: np.ndarray
    patterns: np.ndarray
    status: str
    solver: str
    solve_time: float
    beta: float
    loss: str
    kind: Kind
    gates: np.ndarray | None = field(default=None, repr=False)
    dual: np.ndarray | None = field(default=None, repr=False)
    free_bias: bool = False
    converged: bool = True
    gap: float | None = None
    iterations: int | None = None

    @property
    def n_active_blocks(self) -> int:
        """Number of non-zero blocks ``v_i``, ``w_i`` (= neurons of the recovered network)."""
        return int(np.sum(block_norms(self.V) > 0) + np.sum(block_norms(self.W) > 0))

    @classmethod
    def check_solved_on(cls, result: object, X: np.ndarray) -> None:
        """Refuse a ``result`` that is not a :class:`ConvexResult` or was solved on data other than ``X``."""
        if not isinstance(result, cls):
            raise TypeError(f"result must be a programs.ConvexResult, got {type(result).__name__}")
        if result.patterns.shape[0] != X.shape[0] or result.V.shape[1] != X.shape[1]:
            raise ValueError(
                f"X has shape {X.shape} but the result was solved on data with {result.patterns.shape[0]} rows and "
                f"{result.V.shape[1]} columns; pass the same X (with the same intercept column) used in the solve"
            )

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``sum_i D_i X (v_i - w_i)`` on the training data ``X`` the patterns were built from."""
        X = check_X(X)
        self.check_solved_on(self, X)
        return convex_predictions(X, self.patterns, self.V - self.W)


def convex_predictions(X: np.ndarray, patterns: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``sum_i D_i X u_i`` for ``U`` of shape ``(P, d)`` (row sums of ``D * (X U^T)``), or ``(P, d, c)``: ``(n, c)``."""
    X = check_X(X)
    patterns = check_patterns(patterns, X.shape[0])
    if np.ndim(U) not in (2, 3) or np.shape(U)[:2] != (patterns.shape[1], X.shape[1]):
        raise ValueError(f"U must have shape (P, d) = ({patterns.shape[1]}, {X.shape[1]}) or (P, d, c), got "
                         f"{np.shape(U)}")
    U = np.asarray(U, dtype=np.float64)
    if U.ndim == 3:
        return np.einsum("np,npc->nc", patterns.astype(float), np.einsum("nd,pdc->npc", X, U))
    return np.sum(patterns * (X @ U.T), axis=1)


def convex_objective(
    X: np.ndarray,
    y: np.ndarray,
    patterns: np.ndarray,
    V: np.ndarray,
    W: np.ndarray,
    beta: float,
    loss: Loss = "squared",
    free_bias: bool = False,
) -> float:
    """``l(sum_i D_i X (v_i - w_i)) + beta * sum_i (||v_i|| + ||w_i||)`` (cone constraints not checked).

    With ``free_bias`` the norms leave out the last (bias) coordinate: ``||v_i[:-1]||``. ``y`` is ``(n,)`` (a
    single column is flattened) with blocks ``(P, d)``, or ``(n, c)`` with blocks ``(P, d, c)``.
    """
    X, y = check_X_y(X, y, allow_2d=np.ndim(V) == 3)
    patterns = check_patterns(patterns, X.shape[0])
    beta = check_beta(beta)
    V, W = np.asarray(V, dtype=np.float64), np.asarray(W, dtype=np.float64)
    shape = (patterns.shape[1], X.shape[1], *y.shape[1:])
    for name, B in (("V", V), ("W", W)):
        if B.shape != shape:
            raise ValueError(f"{name} must have shape (P, d{', c' if y.ndim == 2 else ''}) = {shape} (one block per "
                             f"pattern, as rows), got {B.shape}")
    f = convex_predictions(X, patterns, V - W)
    cols = slice(0, -1) if free_bias else slice(None)
    return loss_value(f, y, loss) + beta * float(np.sum(block_norms(V[:, cols])) + np.sum(block_norms(W[:, cols])))


def zero_is_optimal(X: np.ndarray, y: np.ndarray, beta: float, patterns: np.ndarray, loss: Loss) -> bool:
    """Whether the zero network is optimal, by the cone-free dual test at ``f = 0``.

    At ``f = 0`` the dual point is ``lambda = -grad l(0)`` (``y`` for squared and hinge, ``y / 2`` for logistic);
    when ``max_i ||X^T D_i lambda|| <= beta`` (``beta >= beta_max``) it is dual feasible for the gated program
    and, since the cone support is at most that norm, for the ReLU program too, and its dual value equals
    ``l(0)``: zero is optimal.
    """
    from cvxnn_core.losses import negative_gradient

    X, y, beta, patterns, loss = _prepare(X, y, beta, patterns, loss, vector_ok=True)
    lam = negative_gradient(np.zeros_like(y), y, loss)
    G = np.einsum("np,nd,n...->pd...", patterns.astype(float), X, lam)
    return bool(np.max(block_norms(G), initial=0.0) <= beta)


def _zero_result(X, y, beta, patterns, loss, kind, gates, free_bias) -> ConvexResult:
    shape = (patterns.shape[1], X.shape[1], *y.shape[1:])
    from cvxnn_core.losses import negative_gradient

    return ConvexResult(
        objective=loss_value(np.zeros_like(y), y, loss),
        V=np.zeros(shape),
        W=np.zeros(shape),
        patterns=patterns,
        status="optimal",
        solver="none: beta >= beta_max, the zero network is optimal",
        solve_time=0.0,
        beta=beta,
        loss=loss,
        kind=kind,
        gates=gates,
        dual=negative_gradient(np.zeros_like(y), y, loss),
        free_bias=free_bias,
        converged=True,
        gap=0.0,
        iterations=0,
    )


def _prepare(
    X, y, beta, patterns, loss, free_bias=False, vector_ok=False
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, Loss]:
    X, y = check_X_y(X, y, allow_2d=vector_ok and loss == "squared")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if free_bias and (X.shape[1] < 2 or not np.all(X[:, -1] == 1.0)):
        raise ValueError(
            "free_bias=True needs X whose last column is all ones (the bias) and at least one other column; "
            "build X with cvxnn_core.datasets.add_intercept"
        )
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    patterns = check_patterns(patterns, X.shape[0])
    return X, y, beta, patterns, loss


def solve_relu(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    loss: Loss = "squared",
    solver: str | None = None,
    free_bias: bool = False,
    solver_options: Mapping[str, Any] | None = None,
    on_unconverged: OnUnconverged = "raise",
    zero_blocks: bool = True,
) -> ConvexResult:
    r"""Solve the convex ReLU program over the given patterns.

    ``min l(sum_i D_i X (v_i - w_i)) + beta * sum_i (||v_i|| + ||w_i||)`` s.t.
    ``(2D_i - I) X v_i >= 0`` and ``(2D_i - I) X w_i >= 0``.

    Args:
        X: data ``(n, d)`` (append a ones column for a bias).
        y: targets ``(n,)`` (a single column ``(n, 1)`` is flattened); labels in ``{-1, +1}`` for ``loss="hinge"``
            or ``"logistic"``. Vector targets ``(n, c)`` belong to :func:`solve_gated_relu` or
            :mod:`cvxnn_core.vector_output`.
        beta: weight-decay strength ``>= 0``.
        patterns: boolean ``(n, P)`` activation patterns (``sample_patterns`` or ``enumerate_patterns``).
        loss: ``"squared"``, ``"hinge"`` or ``"logistic"``.
        solver: a cvxpy solver name; ``None`` means Clarabel. ``"al"`` and ``"active_set"`` select the
            first-order solvers :func:`cvxnn_core.solvers.al_relu` and :func:`cvxnn_core.solvers.active_set_relu`.
        free_bias: the last column of ``X`` is the ones column and its weights (the first-layer biases)
            are not penalised: the norms become ``||v_i[:-1]||``; the all-ones pattern then also
            gives a free output bias (see :class:`cvxnn_core.recovery.TwoLayerNet`).
        solver_options: keyword arguments of the first-order solver (``tol``, ``max_iters``, ``device``,
            ``dtype``, ...); only with ``solver="al"`` or ``"active_set"``.
        on_unconverged: what a first-order solver that stops before its certified gap reaches ``tol`` (iteration
            or time cap) does: ``"raise"`` (default; :class:`SolverError` with the gap reached) or ``"warn"``
            (return the point with ``converged=False``, ``status="optimal_inaccurate"`` and its certified ``gap``).
        zero_blocks: zero a cvxpy solver's negligible blocks (default); ``False`` keeps the tiny blocks an
            interior-point method leaves, only projected onto the cones (:mod:`cvxnn_core.selections`).

    When the zero network is optimal (``beta >= beta_max``, :func:`zero_is_optimal`) it is returned without
    calling a solver, with no neuron, ``gap=0`` and ``solver`` saying so. Above ``n d P = RELU_SCALE_LIMIT`` a
    ``UserWarning`` says, before any solver starts, that the size is beyond them and names the gated route.

    Raises:
        SolverError: the solver is not installed or did not reach an optimal status.
    """
    if np.ndim(y) == 2 and np.shape(y)[1] > 1:
        raise ValueError(
            f"y must have shape (n,) for solve_relu, got shape {np.shape(y)}; for vector targets (n, c) "
            "use solve_gated_relu (squared loss) or cvxnn_core.vector_output.solve_vector_relu"
        )
    X, y, beta, patterns, loss = _prepare(X, y, beta, patterns, loss, free_bias)
    check_choice(on_unconverged, "on_unconverged", ("raise", "warn"))
    fast = _fast_solver(solver, "relu", loss, free_bias, solver_options)
    if not isinstance(zero_blocks, bool | np.bool_) or (not zero_blocks and fast is not None):
        raise ValueError(f"zero_blocks must be True or False (False only with a cvxpy solver), got {zero_blocks!r}")
    if not free_bias and zero_is_optimal(X, y, beta, patterns, loss):
        return _zero_result(X, y, beta, patterns, loss, "relu", None, free_bias)
    size = X.shape[0] * X.shape[1] * patterns.shape[1]
    if size > RELU_SCALE_LIMIT:
        warnings.warn(
            f"solve_relu: n d P = {size:.1e} is beyond what the ReLU program's solvers finish in minutes (above "
            f"{RELU_SCALE_LIMIT:.0e}: cvxpy compiles 2 P n cone constraints; 'active_set' and the certificates of "
            "'al' run one NNLS of n x d per checked block). For this size solve the gated program "
            "(solve_gated_relu(..., solver='fista')) and split it into a ReLU network with the same predictions "
            "(solvers.decompose_gated(X, D, U, gates=G)), as ConvexReLUClassifier(solver='gated') does",
            UserWarning, stacklevel=2)
    if fast is not None:
        return _solve_fast(X, y, beta, patterns, loss, "relu", str(solver), None, solver_options, on_unconverged)
    solver = check_solver(solver)
    status, elapsed, dual, V0, W0 = _relu_cvxpy(X, y, beta, patterns, loss, solver, free_bias)

    def polish(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        _, _, _, Vk, Wk = _relu_cvxpy(X, y, beta, patterns[:, keep], loss, solver, free_bias)
        return _embed(Vk, keep), _embed(Wk, keep)

    if zero_blocks:
        Vh, Wh, objective = clean_blocks(
            V0,
            W0,
            lambda A, B: convex_objective(X, y, patterns, A, B, beta, loss, free_bias),
            lambda B: project_blocks(X, patterns, B),
            polish,
        )
    else:
        Vh, Wh = project_blocks(X, patterns, V0), project_blocks(X, patterns, W0)
        objective = convex_objective(X, y, patterns, Vh, Wh, beta, loss, free_bias)
    return ConvexResult(
        objective=objective,
        V=Vh,
        W=Wh,
        patterns=patterns,
        status=status,
        solver=solver,
        solve_time=elapsed,
        beta=beta,
        loss=loss,
        kind="relu",
        dual=dual,
        free_bias=free_bias,
        converged=status == "optimal",
    )


def _relu_cvxpy(
    X: np.ndarray, y: np.ndarray, beta: float, patterns: np.ndarray, loss: Loss, solver: str, free_bias: bool
) -> tuple[str, float, np.ndarray, np.ndarray, np.ndarray]:
    """The cvxpy ReLU program over ``patterns``: ``(status, seconds, dual, V, W)`` with the solver's raw blocks."""
    import cvxpy as cp

    d, P = X.shape[1], patterns.shape[1]
    pen = slice(0, d - 1) if free_bias else slice(None)
    S = 2.0 * patterns - 1.0
    V = cp.Variable((d, P))
    W = cp.Variable((d, P))
    f = cp.sum(cp.multiply(patterns.astype(float), X @ (V - W)), axis=1)
    penalty = cp.sum(cp.norm(V[pen, :], 2, axis=0)) + cp.sum(cp.norm(W[pen, :], 2, axis=0))
    cones = [cp.multiply(S, X @ V) >= 0, cp.multiply(S, X @ W) >= 0]
    status, elapsed, dual = solve_linked(beta * penalty, f, y, loss, cones, solver, stacklevel=5)
    return status, elapsed, dual, np.asarray(V.value).T, np.asarray(W.value).T


def _embed(B: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Blocks ``B`` of the patterns ``keep`` (boolean ``(P,)``) placed into a zero array of all ``P`` blocks."""
    out = np.zeros((keep.size, *B.shape[1:]))
    out[keep] = B
    return out


def solve_gated_relu(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    loss: Loss = "squared",
    solver: str | None = None,
    gates: np.ndarray | None = None,
    free_bias: bool = False,
    solver_options: Mapping[str, Any] | None = None,
    on_unconverged: OnUnconverged = "raise",
) -> ConvexResult:
    r"""Solve the gated-ReLU group lasso ``min l(sum_i D_i X u_i) + beta * sum_i ||u_i||_2``.

    Arguments as in :func:`solve_relu`; ``gates`` (``(d, P)``, from ``sample_gates``) are stored in the
    result so that :func:`cvxnn_core.recovery.gated_network` can predict on new data. ``solver="fista"``
    selects :func:`cvxnn_core.solvers.fista_gated` (options in ``solver_options``). With vector targets
    ``y`` ``(n, c)`` (squared loss) the blocks are ``U_i`` ``(d, c)``, penalised by ``||U_i||_F``, and
    ``V`` is ``(P, d, c)``. As in :func:`solve_relu`, ``beta >= beta_max`` returns the zero network at once.
    """
    X, y, beta, patterns, loss = _prepare(X, y, beta, patterns, loss, free_bias, vector_ok=True)
    check_choice(on_unconverged, "on_unconverged", ("raise", "warn"))
    if gates is not None:
        gates = check_array(gates, "gates", (X.shape[1], patterns.shape[1]), labels=("d", "P"))
    fast = _fast_solver(solver, "gated_relu", loss, free_bias, solver_options)
    if not free_bias and zero_is_optimal(X, y, beta, patterns, loss):
        return _zero_result(X, y, beta, patterns, loss, "gated_relu", gates, free_bias)
    if fast is not None:
        return _solve_fast(X, y, beta, patterns, loss, "gated_relu", str(solver), gates, solver_options, on_unconverged)
    solver = check_solver(solver)
    status, elapsed, dual, U0 = _gated_cvxpy(X, y, beta, patterns, loss, solver, free_bias)

    def polish(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Uk = _gated_cvxpy(X, y, beta, patterns[:, keep], loss, solver, free_bias)[3]
        return _embed(Uk, keep), np.zeros_like(U0)

    Uh, Wz, objective = clean_blocks(
        U0,
        np.zeros_like(U0),
        lambda A, B: convex_objective(X, y, patterns, A, B, beta, loss, free_bias),
        polish=polish,
    )
    return ConvexResult(
        objective=objective,
        V=Uh,
        W=Wz,
        patterns=patterns,
        status=status,
        solver=solver,
        solve_time=elapsed,
        beta=beta,
        loss=loss,
        kind="gated_relu",
        gates=gates,
        dual=dual,
        free_bias=free_bias,
        converged=status == "optimal",
    )


def _gated_cvxpy(
    X: np.ndarray, y: np.ndarray, beta: float, patterns: np.ndarray, loss: Loss, solver: str, free_bias: bool
) -> tuple[str, float, np.ndarray, np.ndarray]:
    """The cvxpy gated program over ``patterns``: ``(status, seconds, dual, U)`` with the raw blocks ``(P, d[, c])``."""
    import cvxpy as cp

    d, P = X.shape[1], patterns.shape[1]
    pen = slice(0, d - 1) if free_bias else slice(None)
    if y.ndim == 2:  # blocks U_i (d, c) stacked as rows i*d..(i+1)*d of a (P d, c) variable
        c = y.shape[1]
        U = cp.Variable((P * d, c))
        DX = (patterns[:, :, None] * X[:, None, :]).reshape(X.shape[0], P * d)  # [D_1 X ... D_P X]
        rows = np.arange(P * d).reshape(P, d)[:, pen].ravel()  # the penalised rows of every block
        penalty = cp.sum(cp.norm(cp.reshape(U[rows, :], (P, rows.size // P * c), order="C"), 2, axis=1))
        status, elapsed, dual = solve_linked(beta * penalty, DX @ U, y, loss, [], solver, stacklevel=5)
        return status, elapsed, dual, np.asarray(U.value).reshape(P, d, c)
    U = cp.Variable((d, P))
    f = cp.sum(cp.multiply(patterns.astype(float), X @ U), axis=1)
    penalty = cp.sum(cp.norm(U[pen, :], 2, axis=0))
    status, elapsed, dual = solve_linked(beta * penalty, f, y, loss, [], solver, stacklevel=5)
    return status, elapsed, dual, np.asarray(U.value).T


def _fast_solver(
    solver: str | None, kind: Kind, loss: Loss, free_bias: bool, solver_options: Mapping[str, Any] | None
) -> str | None:
    """The first-order solver named by ``solver`` (``None`` for a cvxpy solver), after checking its options."""
    name = None if solver is None else str(solver).upper()
    every = {s for table in FAST_SOLVERS.values() for s in table}
    if name not in every:
        if solver_options:
            raise ValueError(
                f"solver_options apply to the first-order solvers {sorted(s.lower() for s in every)}, not to {solver!r}"
            )
        return None
    if name not in FAST_SOLVERS[kind]:
        raise ValueError(
            f"solver={solver!r} does not solve the {kind} program; use one of "
            f"{sorted(s.lower() for s in FAST_SOLVERS[kind])} or a cvxpy solver"
        )
    if free_bias:
        raise ValueError(f"free_bias=True is not supported by solver={solver!r}; use a cvxpy solver (solver=None)")
    allowed = ("squared",) if name in SQUARED_ONLY else ("squared", "logistic")
    if loss not in allowed:
        raise ValueError(f"solver={solver!r} supports loss in {allowed}, got {loss!r}; use a cvxpy solver for it")
    return name


def _solve_fast(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    loss: Loss,
    kind: Kind,
    solver: str,
    gates: np.ndarray | None,
    solver_options: Mapping[str, Any] | None,
    on_unconverged: OnUnconverged = "raise",
) -> ConvexResult:
    """Run a first-order solver of :mod:`cvxnn_core.solvers` and wrap its answer as a :class:`ConvexResult`."""
    from cvxnn_core import solvers as fast

    on_unconverged = check_choice(on_unconverged, "on_unconverged", ("raise", "warn"))  # type: ignore[assignment]
    name = solver.upper()
    options = dict(solver_options or {})
    if name not in SQUARED_ONLY:
        options["loss"] = loss
    result = FAST_SOLVERS[kind][name](fast)(X, y, beta, patterns, **options)
    status = "optimal" if result.converged else "optimal_inaccurate"
    if not result.converged:
        message = (
            f"solver {name} stopped after {result.iterations} iterations at relative duality gap {result.gap:.3g} "
            "(tol not reached); raise max_iters or max_time, or loosen tol in solver_options"
        )
        if on_unconverged == "raise":
            raise SolverError(message + "; on_unconverged='warn' returns the point anyway", solver=name, status=status)
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    return ConvexResult(
        objective=convex_objective(X, y, patterns, result.V, result.W, beta, loss),
        V=result.V,
        W=result.W,
        patterns=patterns,
        status=status,
        solver=result.solver,
        solve_time=result.solve_time,
        beta=beta,
        loss=loss,
        kind=kind,
        gates=gates,
        dual=result.dual,
        converged=bool(result.converged),
        gap=float(result.gap),
        iterations=int(result.iterations),
    )

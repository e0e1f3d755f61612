"""The one cvxpy path of the package: solver tables, checked solves and the clean-up of block solutions.

Every convex program of :mod:`cvxnn_core` is solved through :func:`run_problem` (or :func:`solve_linked`, which
also returns the dual point ``lambda = -grad l(f*)``): the named solver (Clarabel by default) with the tight
tolerances of :data:`SOLVER_OPTIONS`, its status checked (``optimal`` passes, ``optimal_inaccurate`` warns,
anything else raises :class:`SolverError` naming solver, status and what to try). Block solutions are cleaned by
:func:`clean_blocks`: negligible blocks zeroed, the rest projected exactly onto their cones, and never a point
worse than the solver's own.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from cvxnn_core.patterns import cone_projection

if TYPE_CHECKING:
    import cvxpy as cp

    from cvxnn_core.losses import Loss

DEFAULT_SOLVER = "CLARABEL"
# Tight interior-point tolerances: the book certifies optimality to a relative gap of 1e-6.
SOLVER_OPTIONS: dict[str, dict[str, float | int]] = {
    "CLARABEL": {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10, "max_iter": 500},
    "SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000},
}
# Interior-point tolerances of the vector-output SDPs (Clarabel reaches 1e-8 reliably on their many small PSD blocks).
SDP_SOLVER_OPTIONS: dict[str, dict[str, float | int]] = {
    "CLARABEL": {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8, "max_iter": 500},
    "SCS": {"eps_abs": 1e-9, "eps_rel": 1e-9, "max_iters": 200_000},
}
# The CNN programs: the duality-gap tolerances above (1e-10) with Clarabel's default feasibility tolerance (1e-8
# instead of 1e-10). A CNN program has n K P cone rows and Clarabel often stalls at a primal residual of a few 1e-10
# ("almost solved"). Feasibility slack does not affect the reported objective: every block is projected exactly
# onto its cone and the objective is evaluated at the projected variables.
CNN_SOLVER_OPTIONS: dict[str, dict[str, float | int]] = {
    "CLARABEL": {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-8, "max_iter": 500},
}
# The exponential cone (logistic loss) does not reach 1e-10; Clarabel's defaults are used there.
LOGISTIC_SOLVER_OPTIONS: dict[str, dict[str, float | int]] = {"CLARABEL": {"max_iter": 500}}
BLOCK_ZERO_TOL = 1e-8  # blocks with ||v_i|| <= tol * max_j ||v_j|| are set to zero ...
ZERO_ACCEPT_RTOL = 1e-10  # ... when that moves the objective by at most this (Clarabel's tol_gap_rel), relative



class SolverError(RuntimeError):
    """The solver failed or is unavailable; the message names the solver and its status."""

    def __init__(self, message: str, *, solver: str, status: str | None) -> None:
        super().__init__(message)
        self.solver = solver
        self.status = status


def block_norms(B: np.ndarray) -> np.ndarray:
    """``||B_i||`` of every block (row ``i`` of a ``(P, d)`` array, Frobenius norm of a ``(P, d, c)`` slice)."""
    return np.linalg.norm(B.reshape(B.shape[0], -1), axis=1)


def check_solver(solver: str | None) -> str:
    """The upper-case name of an installed cvxpy solver; ``None`` means :data:`DEFAULT_SOLVER`.

    Raises :class:`SolverError` naming the installed solvers otherwise.
    """
    import cvxpy as cp

    name = (solver or DEFAULT_SOLVER).upper()
    installed = cp.installed_solvers()
    if name not in installed:
        raise SolverError(
            f"solver {name!r} is not installed; installed cvxpy solvers: {installed}. "
            f"Pass solver=None for {DEFAULT_SOLVER}",
            solver=name,
            status=None,
        )
    return name


def loss_expr(f, y: np.ndarray, loss: Loss):
    import cvxpy as cp

    if loss == "squared":
        return 0.5 * cp.sum_squares(f - y)
    if loss == "hinge":
        return cp.sum(cp.pos(1 - cp.multiply(y, f)))
    return cp.sum(cp.logistic(-cp.multiply(y, f)))


def run_problem(
    problem: cp.Problem,
    solver: str,
    options: Mapping[str, Any] | None = None,
    *,
    what: str = "",
    stacklevel: int = 3,
) -> tuple[str, float]:
    """Solve the cvxpy ``problem`` with the named ``solver`` and check the outcome; return ``(status, seconds)``.

    ``optimal`` passes, ``optimal_inaccurate`` gives a ``RuntimeWarning``; a solver exception or any other status
    raises :class:`SolverError` naming the solver, the status and what to try. ``what`` (e.g. ``" on the ramp
    Lasso"``) is inserted in the messages; ``stacklevel`` points the warning at the user's call.
    """
    import cvxpy as cp

    start = time.perf_counter()
    try:
        problem.solve(solver=solver, **dict(options or {}))
    except cp.error.SolverError as exc:
        raise SolverError(
            f"solver {solver} failed{what} ({exc}); try solver='SCS', fewer patterns or a larger beta",
            solver=solver,
            status=problem.status,
        ) from exc
    elapsed = time.perf_counter() - start
    status = problem.status
    if status == cp.OPTIMAL_INACCURATE:
        warnings.warn(
            f"solver {solver} reports status {status!r}{what}: the solution is less accurate than requested",
            RuntimeWarning,
            stacklevel=stacklevel,
        )
    elif status != cp.OPTIMAL:
        raise SolverError(
            f"solver {solver} ended with status {status!r}{what}, not 'optimal'; "
            "try solver='SCS', fewer patterns or rescaled X and y",
            solver=solver,
            status=status,
        )
    return status, elapsed


def solve_linked(
    penalty: cp.Expression,
    f: cp.Expression,
    y: np.ndarray,
    loss: Loss,
    constraints: list,
    solver: str,
    options: Mapping[str, Any] | None = None,
    *,
    stacklevel: int = 4,
) -> tuple[str, float, np.ndarray]:
    """Solve ``min l(z) + penalty`` s.t. ``z == f`` and ``constraints`` (cvxpy expressions); return the status,
    the time and ``lambda``, the multiplier of ``z == f``, which is the dual point ``lambda = -grad l(z*)``.

    ``options`` default to the package's tolerances for ``solver`` and ``loss``; see :func:`run_problem`.
    """
    import cvxpy as cp

    z = cp.Variable(y.shape)
    link = z == f
    problem = cp.Problem(cp.Minimize(loss_expr(z, y, loss) + penalty), [link, *constraints])
    options = cvxpy_options(solver, loss) if options is None else options
    status, elapsed = run_problem(problem, solver, options, stacklevel=stacklevel)
    return status, elapsed, np.asarray(link.dual_value, dtype=float)


def cvxpy_options(solver: str, loss: Loss) -> dict[str, float | int]:
    table = LOGISTIC_SOLVER_OPTIONS if loss == "logistic" else SOLVER_OPTIONS
    return dict(table.get(solver, SOLVER_OPTIONS.get(solver, {})))


def project_blocks(X: np.ndarray, patterns: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Project every non-zero block onto its cone: removes the solver's ~1e-12 constraint violations."""
    out = B.copy()
    for i in np.flatnonzero(np.any(B != 0, axis=1)):
        out[i] = cone_projection(X, patterns[:, i], B[i])
    return out


def _zero_small_blocks(*blocks: np.ndarray) -> list[np.ndarray]:
    norms = [block_norms(B) for B in blocks]
    scale = max(float(nrm.max(initial=0.0)) for nrm in norms)
    out = []
    for B, nrm in zip(blocks, norms, strict=True):
        B = B.copy()
        B[nrm <= BLOCK_ZERO_TOL * scale] = 0.0
        out.append(B)
    return out


def clean_blocks(
    V: np.ndarray,
    W: np.ndarray,
    objective: Callable[[np.ndarray, np.ndarray], float],
    project: Callable[[np.ndarray], np.ndarray] | None = None,
    polish: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Zero negligible blocks and project the rest onto their cones; never worse than the solver's point.

    ``V``, ``W``: the solver's blocks; ``objective(V, W)``: the program's objective; ``project``: the exact
    projection of a block array onto its cones (``None`` for a program without cone constraints); ``polish(keep)``:
    re-solve the program on the patterns ``keep`` (boolean ``(P,)``) alone and return full-size blocks.
    Returns ``(V, W, objective)``.

    Candidates, each projected: the zeroed point (blocks with ``||b_i|| <= BLOCK_ZERO_TOL * max_j ||b_j||`` set to
    zero), the solver's point itself, and, when zeroing raised the objective (a sample on a hinge margin, say),
    the program re-solved on the surviving patterns. The zeroed point is accepted when its objective is within the
    interior-point accuracy ``ZERO_ACCEPT_RTOL`` of the solver's point; otherwise the polished point when it is at
    most the (projected) solver's point, else the solver's point itself: zeroing never makes the objective worse.
    """
    def finish(A: np.ndarray, B: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        if project is not None:
            A, B = project(A), project(B)
        return A, B, objective(A, B)

    Vz, Wz = _zero_small_blocks(V, W)
    zeroed = finish(Vz, Wz)
    raw = objective(V, W)
    if zeroed[2] <= raw + ZERO_ACCEPT_RTOL * abs(raw):
        return zeroed
    solver_point = finish(V, W)
    if zeroed[2] <= solver_point[2]:
        return zeroed
    if polish is not None:
        keep = (block_norms(Vz) > 0) | (block_norms(Wz) > 0)
        if np.any(keep) and not np.all(keep):
            Vp, Wp = polish(keep)
            for candidate in (finish(*_zero_small_blocks(Vp, Wp)), finish(Vp, Wp)):
                if candidate[2] <= solver_point[2]:
                    return candidate
    return solver_point

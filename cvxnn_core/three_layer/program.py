r"""The convex programs of parallel three-layer ReLU networks, and the networks recovered from their solutions.

Derivation (our own, from first principles; checked numerically against an independent implementation). Fix one
sub-network ``((X W1^T)_+ w2)_+ w3`` and, for its neuron ``l``, the level-1 pattern ``D1_{i_l}`` of ``X u_l``,
``s_l = sign(w2_l)``, ``sigma = sign(w3)`` and the effective weight ``q_l = |w2_l| |w3| u_l``. Then, with
``h = sum_l s_l D1_{i_l} X q_l`` and ``D2 = diag(1[h >= 0])``,

    ((X W1^T)_+ w2)_+ w3 = sigma D2 h,    (2 D1_{i_l} - I) X q_l >= 0,    (2 D2 - I) h >= 0,

and conversely any blocks satisfying the two cone constraints are the output of a sub-network. The output is
linear in the blocks once both levels of patterns are fixed. With a group ``g`` per (``D2_g``, ``sigma_g``, slots
``(i_t, s_t)``) and one block ``q_t in R^d`` per slot, the program is::

    min_q  0.5 || sum_g sigma_g D2_g h_g - y ||^2 + beta R(q)
    s.t.   (2 D1_{i_t} - I) X q_t >= 0  for every block,   (2 D2_g - I) h_g >= 0  for every group,
    h_g = sum_{t in g} s_t D1_{i_t} X q_t,

with ``R(q) = sum_t ||q_t||_2`` for the ``"frobenius"`` network (``||W1_k||_F <= 1``, weight decay on ``w2, w3``):
a **group l1 over neurons**, exact and width-independent with the groups of :func:`~.groups.wide_groups` (every
level-2 pattern, every slot): merging neurons of one slot and sub-networks of one group never raises the penalty
(triangle inequality), and :func:`recover_network` attains the optimum. With ``R(q) = sum_g ||(q_t)_{t in g}||_2``
(``"path"``: the l2 path norm with a square root per sub-network, equal to unit-norm neurons with weight decay) the
program is exact for a **fixed** first-layer width ``m1`` with the groups of :func:`~.groups.width_groups`: only
sub-networks merge (Minkowski), and splitting a neuron lowers the norm, so its value falls as ``m1`` grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from cvxnn_core._cvx import CNN_SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_patterns,
    check_positive_number,
    check_X_y,
)
from cvxnn_core.three_layer._checks import check_groups
from cvxnn_core.three_layer.groups import Groups
from cvxnn_core.three_layer.networks import ParallelThreeLayerNet

PROGRAM_REGULARIZERS = ("frobenius", "path")
RECOVERY_RTOL = 1e-10  # blocks with ||q_t|| <= RECOVERY_RTOL * max ||q|| are left out of the recovered network


@dataclass(frozen=True)
class ThreeLayerResult:
    """A solution of the three-layer program: ``q`` ``(T, d)`` (one block per row), ``groups``, ``beta``,
    ``regularizer`` (``"frobenius"`` or ``"path"``), ``objective`` (the program's objective at ``q``), ``fit``
    ``(n,)`` (the program's predictions), ``status``, ``solve_time`` (s), ``solver``, ``violation`` (largest violation
    of a cone constraint, relative to ``max |X q_t|``)."""

    q: np.ndarray
    groups: Groups
    beta: float
    regularizer: str
    objective: float
    fit: np.ndarray = field(repr=False)
    status: str
    solve_time: float
    solver: str
    violation: float

    @property
    def group_norms(self) -> np.ndarray:
        """``||(q_t)_{t in g}||_F`` for every group, ``(G,)``."""
        return np.sqrt(
            np.bincount(self.groups.block_group, weights=np.sum(self.q**2, axis=1), minlength=self.groups.n_groups)
        )

    def active_groups(self, rtol: float = 1e-6) -> int:
        """Groups whose norm exceeds ``rtol`` times the largest."""
        rtol = check_positive_number(rtol, "rtol")
        gn = self.group_norms
        return int(np.sum(gn > rtol * gn.max())) if gn.size and gn.max() > 0 else 0


def _operators(X: np.ndarray, D1: np.ndarray, groups: Groups):
    """Sparse maps on ``vec(q)`` (block-major, ``q_t`` contiguous): ``H`` ``(G n, T d)`` pre-activations, ``C``
    ``(T n, T d)`` level-1 cone rows, ``S2 H`` level-2 cone rows and ``O H`` ``(n, T d)`` outputs."""
    n, d = X.shape
    T, G = groups.n_blocks, groups.n_groups
    Dt = D1[:, groups.block_pattern].T.astype(np.float64)  # (T, n)
    rows = np.arange(n)[:, None] * np.ones((1, d), dtype=np.int64)
    cols = np.arange(d)[None, :] * np.ones((n, 1), dtype=np.int64)
    t_idx = np.arange(T)[:, None, None]
    Hv = (groups.block_sign[:, None, None] * Dt[:, :, None] * X[None, :, :]).ravel()
    Hr = (groups.block_group[:, None, None] * n + rows[None]).ravel()
    Hc = (t_idx * d + cols[None]).ravel()
    H = sp.csr_matrix((Hv, (Hr, Hc)), shape=(G * n, T * d))
    Cv = ((2 * Dt - 1)[:, :, None] * X[None, :, :]).ravel()
    C = sp.csr_matrix((Cv, ((t_idx * n + rows[None]).ravel(), Hc)), shape=(T * n, T * d))
    H.eliminate_zeros()
    C.eliminate_zeros()
    s2 = (2.0 * groups.D2.T - 1.0).ravel()  # (G n,), group-major
    out = (groups.sigma[:, None] * groups.D2.T).ravel()
    O = sp.csr_matrix((out, (np.tile(np.arange(n), G), np.arange(G * n))), shape=(n, G * n))
    return H, C, sp.diags(s2) @ H, (O @ H).tocsr()


def _penalty_value(q: np.ndarray, groups: Groups, regularizer: str) -> float:
    if regularizer == "frobenius":
        return float(np.sum(np.linalg.norm(q, axis=1)))
    return float(
        np.sum(np.sqrt(np.bincount(groups.block_group, weights=np.sum(q**2, axis=1), minlength=groups.n_groups)))
    )


def beta_max(X: np.ndarray, y: np.ndarray, D1: np.ndarray, groups: Groups, *, regularizer: str = "frobenius") -> float:
    """The weight decay at and above which the zero network solves the three-layer program (cone-free dual test).

    With ``A_t`` ``(n, d)`` the output map of block ``t`` (``q -> sigma_g s_t D2_g D1_{i_t} X q``), the directional
    derivative of the objective at ``q = 0`` is ``-y^T sum_t A_t q_t + beta R(q)``; it is ``>= 0`` for every ``q``
    (cones dropped, so a sufficient test) when ``beta >= max_t ||A_t^T y||`` (``"frobenius"``, ``R = sum_t ||q_t||``)
    or ``beta >= max_g (sum_{t in g} ||A_t^T y||^2)^{1/2}`` (``"path"``, ``R = sum_g ||Q_g||_F``). Then zero is
    optimal and the optimum is ``0.5 ||y||^2``, as for the two-layer program.
    """
    X, y = check_X_y(X, y)
    D1 = check_patterns(D1, X.shape[0], "D1")
    groups = check_groups(groups, X.shape[0], D1.shape[1])
    regularizer = check_choice(regularizer, "regularizer", PROGRAM_REGULARIZERS)
    weights = groups.sigma[groups.block_group] * groups.block_sign  # (T,)
    active = D1[:, groups.block_pattern] & groups.D2[:, groups.block_group]  # (n, T)
    block_dual = np.linalg.norm((active * (weights * 1.0)[None, :] * y[:, None]).T @ X, axis=1)  # ||A_t^T y||
    if regularizer == "frobenius":
        return float(block_dual.max(initial=0.0))
    per_group = np.bincount(groups.block_group, weights=block_dual**2, minlength=groups.n_groups)
    return float(np.sqrt(per_group.max(initial=0.0)))


def solve_three_layer(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    D1: np.ndarray,
    groups: Groups,
    *,
    regularizer: str = "frobenius",
    solver: str | None = None,
) -> ThreeLayerResult:
    """Solve the three-layer program (module docstring) over the level-1 patterns ``D1`` ``(n, P1)`` and ``groups``.

    ``regularizer="frobenius"``: ``R = sum_t ||q_t||`` (weight decay with ``||W1_k||_F <= 1``); ``"path"``:
    ``R = sum_g ||Q_g||_F`` (square-root path norm). Clarabel by default; raises :class:`~cvxnn_core._cvx.SolverError`
    when the solver fails. At ``beta >= beta_max(...)`` (:func:`beta_max`) the zero network is returned without a
    solver (``solver`` then says so), exactly, instead of a solver's tiny non-zero blocks."""
    import cvxpy as cp

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    D1 = check_patterns(D1, X.shape[0], "D1")
    groups = check_groups(groups, X.shape[0], D1.shape[1])
    regularizer = check_choice(regularizer, "regularizer", PROGRAM_REGULARIZERS)
    solver = check_solver(solver)
    n, d = X.shape
    T = groups.n_blocks
    if beta >= beta_max(X, y, D1, groups, regularizer=regularizer):
        return _zero(X, y, groups, beta, regularizer, "optimal", 0.0,
                     "none: beta >= beta_max, the zero network is optimal")
    _, C, S2H, OH = _operators(X, D1, groups)
    q = cp.Variable(T * d)
    Q = cp.reshape(q, (d, T), order="F")  # column t is block t
    if regularizer == "frobenius":
        reg = cp.sum(cp.norm(Q, 2, axis=0))
    else:
        reg = 0
        sizes = groups.sizes
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        for size in np.unique(sizes):
            members = np.flatnonzero(sizes == size)
            idx = (starts[members][:, None] * d + np.arange(size * d)[None, :]).T  # (size d, G_size)
            block = q[idx.ravel(order="F")]
            reg = reg + cp.sum(cp.norm(cp.reshape(block, (size * d, members.size), order="F"), 2, axis=0))
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(OH @ q - y) + beta * reg), [C @ q >= 0, S2H @ q >= 0])
    status, elapsed = run_problem(problem, solver, CNN_SOLVER_OPTIONS.get(solver), what=" on the three-layer program")
    qv = np.asarray(q.value, dtype=np.float64)
    fit = OH @ qv
    scale = max(float(np.max(np.abs(C @ qv), initial=0.0)), 1e-300)
    violation = max(0.0, -float(np.min(C @ qv, initial=0.0)), -float(np.min(S2H @ qv, initial=0.0))) / scale
    qb = qv.reshape(T, d)
    obj = 0.5 * float(np.sum((fit - y) ** 2)) + beta * _penalty_value(qb, groups, regularizer)
    if 0.5 * float(y @ y) <= obj:  # the solver's point is no better than the zero network: return zero, exactly
        return _zero(X, y, groups, beta, regularizer, status, elapsed,
                     f"{solver}: no point better than the zero network")
    return ThreeLayerResult(qb, groups, beta, regularizer, obj, fit, status, elapsed, solver, violation)


def _check_result(result: object) -> None:
    if not isinstance(result, ThreeLayerResult):
        raise TypeError(f"result must be a three_layer.ThreeLayerResult (from solve_three_layer), got "
                        f"{type(result).__name__}; for a two-layer solution use recovery.relu_network")


def _zero(X, y, groups, beta, regularizer, status, elapsed, solver) -> ThreeLayerResult:
    return ThreeLayerResult(np.zeros((groups.n_blocks, X.shape[1])), groups, beta, regularizer, 0.5 * float(y @ y),
                            np.zeros(X.shape[0]), status, elapsed, solver, 0.0)


def recover_network(result: ThreeLayerResult, *, rtol: float = RECOVERY_RTOL) -> ParallelThreeLayerNet:
    """The parallel three-layer network of a program solution: one sub-network per group with a non-zero block.

    ``"frobenius"`` (``S_g = sum_t ||q_t||``): ``u_t = q_t / sqrt(||q_t|| S_g)``, ``w2_t = s_t sqrt(||q_t||)``,
    ``w3 = sigma_g sqrt(S_g)``, so ``||W1_g||_F = 1`` and the weight decay is ``beta S_g``.
    ``"path"`` (``R_g = ||Q_g||_F``): ``u_t = q_t / ||q_t||``, ``w2_t = s_t ||q_t|| / sqrt(R_g)``,
    ``w3 = sigma_g sqrt(R_g)``: unit neurons and path norm ``R_g``.
    Blocks with ``||q_t|| <= rtol * max ||q||`` are left out."""
    _check_result(result)
    rtol = check_positive_number(rtol, "rtol")
    q, groups = result.q, result.groups
    norms = np.linalg.norm(q, axis=1)
    keep = norms > rtol * max(float(norms.max(initial=0.0)), 1e-300)
    W1, w2, w3 = [], [], []
    for g in range(groups.n_groups):
        blocks = np.flatnonzero((groups.block_group == g) & keep)
        if blocks.size == 0:
            continue
        nb, signs = norms[blocks], groups.block_sign[blocks]
        if result.regularizer == "frobenius":
            S = nb.sum()
            W1.append(q[blocks] / np.sqrt(nb * S)[:, None])
            w2.append(signs * np.sqrt(nb))
            w3.append(groups.sigma[g] * np.sqrt(S))
        else:
            R = np.sqrt(np.sum(nb**2))
            W1.append(q[blocks] / nb[:, None])
            w2.append(signs * nb / np.sqrt(R))
            w3.append(groups.sigma[g] * np.sqrt(R))
    return ParallelThreeLayerNet(W1, w2, np.array(w3))


def resolve_active(
    X: np.ndarray,
    y: np.ndarray,
    D1: np.ndarray,
    result: ThreeLayerResult,
    *,
    rtol: float = 1e-3,
    solver: str | None = None,
) -> ThreeLayerResult:
    """Solve again on the blocks (``"frobenius"``) or groups (``"path"``) carrying mass (norm above ``rtol`` times the
    largest). Interior-point solvers stop near the middle of the optimal face, spreading mass over equivalent
    groups; the restricted program's value is ``>=`` the original one and equal (to solver accuracy) when the
    sparse point is optimal too. The result has far fewer sub-networks."""
    _check_result(result)
    rtol = check_positive_number(rtol, "rtol")
    if rtol >= 1:
        raise ValueError(f"rtol must be in (0, 1) (< 1 keeps at least the largest block), got {rtol}")
    X, y = check_X_y(X, y)
    if X.shape != (result.fit.shape[0], result.q.shape[1]):
        raise ValueError(f"X has shape {X.shape} but the result was solved on data with {result.fit.shape[0]} rows and "
                         f"{result.q.shape[1]} columns; pass the X, y and D1 of the solve")
    if not result.q.any():  # the zero network: nothing to re-solve
        return result
    groups = result.groups
    if result.regularizer == "path":
        gn = result.group_norms
        sub = groups.subset(gn > rtol * gn.max())
    else:
        norms = np.linalg.norm(result.q, axis=1)
        keep_block = norms > rtol * norms.max()
        keep_group = np.bincount(groups.block_group, weights=keep_block, minlength=groups.n_groups) > 0
        sub = Groups(
            groups.D2[:, keep_group],
            groups.sigma[keep_group],
            groups.block_pattern[keep_block],
            groups.block_sign[keep_block],
            (np.cumsum(keep_group) - 1)[groups.block_group[keep_block]],
        )
    return solve_three_layer(X, y, result.beta, D1, sub, regularizer=result.regularizer, solver=solver)

"""Recovery of a vector-output ReLU network from a solution of the convex programs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cvxnn_core._cvx import DEFAULT_SOLVER
from cvxnn_core._validation import (
    check_X,
)

if TYPE_CHECKING:
    pass

from cvxnn_core.vector_output.geometry import CP_TOL, _candidate_rays, _cone_rays, _triangulate, _unit_rows, cp_factor
from cvxnn_core.vector_output.networks import VectorNet, balance_network
from cvxnn_core.vector_output.programs import MAX_EXACT_RANK, Piece, VectorConvexResult

CONE_TOL = 1e-7  # relative cone violation below which a recovered neuron counts as inside its cone



# ----------------------------------------------------------------------------------------------------
# Recovery of a network from a convex solution
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VectorRecovery:
    """A network read off a convex solution.

    ``net``: balanced :class:`VectorNet`. ``max_violation``: the largest relative cone violation
    ``max(0, -min((2D_i - I) X u)) / ||X u||`` over the recovered neurons. ``in_cones``: every neuron lies in
    its cone (violation ``<= CONE_TOL``), so the network's predictions are the program's and its
    objective is at most the program's. ``factored``: how many blocks were split by a completely
    positive factorisation (the rest by an SVD / eigen-decomposition).
    """

    net: VectorNet
    max_violation: float
    in_cones: bool
    factored: int


def _violation(X: np.ndarray, pattern: np.ndarray, u: np.ndarray) -> float:
    z = X @ u
    scale = float(np.linalg.norm(z))
    if scale == 0.0:
        return 0.0
    return max(0.0, -float(np.min((2.0 * pattern - 1.0) * z))) / scale


def _svd_terms(X, pattern, Q, V) -> list[tuple[np.ndarray, np.ndarray]]:
    """Rank-one terms ``sigma a b^T`` of ``V`` (row-space coordinates), each signed to violate its cone least."""
    A, s, Bt = np.linalg.svd(V, full_matrices=False)
    terms = []
    for k in np.flatnonzero(s > CP_TOL * max(float(s[0]) if s.size else 0.0, 1e-300)):
        u = Q @ A[:, k]
        sign = 1.0 if _violation(X, pattern, u) <= _violation(X, pattern, -u) else -1.0
        terms.append((sign * s[k] * u, sign * Bt[k]))
    return terms


def _cone_factor(U: np.ndarray, cone_rays: np.ndarray, violation, scale: float) -> np.ndarray | None:
    """``B`` ``(r, m)`` with columns in the cone ``cone(cone_rays)`` and ``B B^T = U``, or ``None``.

    Tried in turn: a simplicial cone (``U = R M R^T`` with ``M = R^{-1} U R^{-T}`` factored by :func:`cp_factor`);
    the eigenvectors of ``U``, each in the cone up to sign; for ``r <= 4``, the decomposition
    ``U = sum_t R_t M_t R_t^T`` over a triangulation of the cone with ``M_t`` doubly non-negative (hence
    completely positive), found by a small least-squares SDP (accepted at relative residual ``<= 1e-7``).
    """
    r, k = cone_rays.shape
    if k == r:
        Rinv = np.linalg.inv(cone_rays)
        B = cp_factor(Rinv @ U @ Rinv.T, scale=scale * float(np.linalg.norm(Rinv, 2)) ** 2)
        return None if B is None else cone_rays @ B
    w, V = np.linalg.eigh(0.5 * (U + U.T))
    keep = w > CP_TOL * max(float(w[-1]), scale)
    cols = []
    for j in np.flatnonzero(keep):
        b = V[:, j] * np.sqrt(w[j])
        b = b if violation(b) <= violation(-b) else -b
        cols.append(b if violation(b) <= CONE_TOL else None)
    if all(col is not None for col in cols):
        return np.stack(cols, axis=1) if cols else np.zeros((r, 0))
    if r > MAX_EXACT_RANK:
        return None
    import cvxpy as cp

    simplices = [cone_rays[:, list(t)] for t in _triangulate(cone_rays)]
    Ms = [cp.Variable((r, r), PSD=True) for _ in simplices]
    fitted = cp.sum([R @ M @ R.T for R, M in zip(simplices, Ms, strict=True)])
    problem = cp.Problem(cp.Minimize(cp.norm(fitted - U, "fro")), [M >= 0 for M in Ms])
    try:
        problem.solve(solver=DEFAULT_SOLVER)
    except cp.error.SolverError:
        return None
    if problem.status != cp.OPTIMAL or problem.value > 1e-7 * max(float(np.linalg.norm(U)), scale):
        return None
    blocks = [cp_factor(np.asarray(M.value), scale=scale) for M in Ms]
    if any(B is None for B in blocks):
        return None
    return np.concatenate([R @ B for R, B in zip(simplices, blocks, strict=True)], axis=1)


def _lifted_terms(X, pattern, Q, piece: Piece, scale: float) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Rank-one terms ``(u, g)`` of a lifted block with every ``u`` in the cone, or ``None``."""
    k = piece.rays.shape[1]
    M, Phi = piece.gram[:k, :k], piece.gram[:k, k:]
    if piece.simplicial:
        B = cp_factor(M, scale=scale)
        rays = piece.rays
    elif piece.cone_rays is not None:
        B = _cone_factor(M, piece.cone_rays, lambda z: _violation(X, pattern, Q @ z), scale)
        rays = np.eye(k)
    else:
        return None
    if B is None:
        return None
    if B.shape[1] == 0:
        return []
    C = np.linalg.pinv(B, rcond=1e-10) @ Phi
    return [(Q @ rays @ B[:, j], C[j]) for j in range(B.shape[1])]


def _nuclear_lifting(piece: Piece) -> Piece:
    """The lifted form of a nuclear-norm block ``V``: ``[[U, V], [V^T, W]]`` with ``U = (V V^T)^{1/2}``."""
    V = piece.rays @ piece.coef
    A, s, Bt = np.linalg.svd(V, full_matrices=False)
    gram = np.block([[(A * s) @ A.T, V], [V.T, (Bt.T * s) @ Bt]])
    return Piece(piece.pattern, np.eye(V.shape[0]), V, gram, False, None)


class _ConeRays:
    """Extreme rays of the cone of each pattern (row-space coordinates), computed on demand; ``None`` when the
    pattern has no open chamber."""

    def __init__(self, Z: np.ndarray, patterns: np.ndarray) -> None:
        self.Zn, self.patterns, self.cache = _unit_rows(Z), patterns, {}
        self.candidates: np.ndarray | None = None

    def __call__(self, i: int) -> np.ndarray | None:
        if i not in self.cache:
            if self.candidates is None:
                self.candidates = _candidate_rays(self.Zn)
            R = _cone_rays(self.Zn, 2.0 * self.patterns[:, i] - 1.0, self.candidates)
            ok = R.shape[1] >= self.Zn.shape[1] and np.linalg.matrix_rank(R) == self.Zn.shape[1]
            self.cache[i] = R if ok else None
        return self.cache[i]


def recover_network(X: np.ndarray, result: VectorConvexResult) -> VectorRecovery:
    r"""Neurons ``(w1_j, w2_j)`` from a convex solution: factor each block into rank-one terms ``u g^T``.

    * Lifted blocks (``"exact"``, ``"dnn"``): ``M = B B^T`` with the columns of ``B`` in the cone (a completely
      positive factorisation, :func:`cp_factor`, in the ray coordinates of a simplicial cone; for the
      ``"dnn"`` blocks of other cones, an eigen-decomposition or a decomposition over a triangulation of the
      cone), then ``u_j = Q b_j`` and ``g_j = (B^+ Phi)_j``. The weight decay is
      ``0.5 (tr(B B^T) + tr(Phi^T M^+ Phi)) <= 0.5 (tr M + tr W)`` (Schur complement), so the network's
      objective is at most the program's.
    * ``"nuclear"`` blocks ``V`` (row-space coordinates): the same factorisation applied to the optimal lifting
      ``U = (V V^T)^{1/2}``, ``W = (V^T V)^{1/2}`` (``0.5 (tr U + tr W) = ||V||_*``): if ``U = B B^T`` with the
      columns of ``B`` in the cone, ``V = B (B^+ V)`` is a decomposition into neurons of total weight decay at
      most ``||V||_*``. This succeeds exactly when the relaxation's block is a ReLU block of the same cost.
    * Otherwise (no such factorisation: the relaxation is not exact on that block): the SVD of the block,
      each term signed to lie in its cone where possible; ``max_violation`` reports how far the terms are
      from their cones (the network then differs from the convex model).

    Each neuron is balanced (``||w1_j|| = ||w2_j||``), so its weight decay is ``||u_j|| ||g_j||``.
    """
    if not isinstance(result, VectorConvexResult):
        raise TypeError(f"result must be a vector_output.VectorConvexResult (from solve_vector_relu), got "
                        f"{type(result).__name__}")
    X = check_X(X)
    if X.shape[0] != result.patterns.shape[0] or X.shape[1] != result.Q.shape[0]:
        raise ValueError(
            f"X has shape {X.shape} but the solution was computed for n = {result.patterns.shape[0]} samples "
            f"and d = {result.Q.shape[0]} features"
        )
    Q = result.Q
    lifted = [_nuclear_lifting(p) if p.gram is None and not p.simplicial else p for p in result.pieces]
    scale = max((float(np.max(np.abs(p.gram))) for p in lifted if p.gram is not None), default=0.0)
    cone_rays = _ConeRays(X @ Q, result.patterns)
    W1, W2, worst, factored = [], [], 0.0, 0
    for piece in lifted:
        pattern = result.patterns[:, piece.pattern]
        terms = None
        if piece.gram is not None:
            if piece.cone_rays is None and not piece.simplicial:
                piece = Piece(piece.pattern, piece.rays, piece.coef, piece.gram, False, cone_rays(piece.pattern))
            terms = _lifted_terms(X, pattern, Q, piece, scale)
            factored += terms is not None
        elif piece.simplicial:
            terms = [(Q @ piece.rays[:, j], piece.coef[j]) for j in range(piece.rays.shape[1])]
        if terms is None:
            terms = _svd_terms(X, pattern, Q, piece.rays @ piece.coef)
        for u, g in terms:
            if np.linalg.norm(u) > 0 and np.linalg.norm(g) > 0:
                worst = max(worst, _violation(X, pattern, u))
                W1.append(u)
                W2.append(g)
    d, c = Q.shape[0], result.V.shape[2]
    net = VectorNet(W1=np.array(W1).reshape(-1, d), W2=np.array(W2).reshape(-1, c))
    return VectorRecovery(net=balance_network(net), max_violation=worst, in_cones=worst <= CONE_TOL, factored=factored)



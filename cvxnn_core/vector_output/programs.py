"""The convex programs of vector-output ReLU networks: exact copositive (small rank), DNN relaxation, nuclear norm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np

from cvxnn_core._cvx import SDP_SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._linalg import row_space_basis
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_patterns,
    check_X,
    check_X_Y,
)

if TYPE_CHECKING:
    pass

from cvxnn_core.vector_output.geometry import _facets, _Geometry, _geometry, _triangulate, _unit_rows

Method = Literal["exact", "dnn", "nuclear"]

METHODS: tuple[str, ...] = ("exact", "dnn", "nuclear")

MAX_EXACT_RANK = 4  # CP_r = DNN_r only for r <= 4

PIECE_ZERO_TOL = 1e-8  # blocks whose size (trace / nuclear norm) is below this times the largest are set to zero



# ----------------------------------------------------------------------------------------------------
# Convex programs
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One block of a convex solution, in the row-space coordinates ``u = Q @ rays @ lam``.

    ``pattern``: column of ``patterns``. ``rays`` ``(r, k)``: the coordinate directions of the block (the
    extreme rays of a simplicial cone for ``"exact"``, so that ``lam >= 0`` means ``u`` in the cone; the
    identity for ``"dnn"`` and ``"nuclear"``). ``coef`` ``(k, c)``: the block predicts
    ``D_i X Q rays coef``. ``gram`` ``(k + c, k + c)``: the psd matrix ``[[M, coef], [coef^T, W]]`` of the
    lifted formulation (``None`` for ``"nuclear"``). ``simplicial``: ``rays`` are cone rays.
    ``cone_rays``: the extreme rays ``(r, k_i)`` of the pattern's cone (used by the recovery of ``"dnn"``).
    """

    pattern: int
    rays: np.ndarray
    coef: np.ndarray
    gram: np.ndarray | None = None
    simplicial: bool = False
    cone_rays: np.ndarray | None = field(default=None, repr=False)


@dataclass(frozen=True)
class VectorConvexResult:
    """Solution of :func:`solve_vector_relu`.

    ``objective``: ``0.5 ||sum_i D_i X V_i - Y||^2 + beta * penalty`` evaluated in numpy at the returned
    variables (penalty: ``sum_i ||V_i||_*`` for ``"nuclear"``, ``sum 0.5 (<R^T R, M> + tr W)`` over the
    lifted blocks otherwise). ``V`` ``(P, d, c)``: the convex variables ``V_i``. ``Q`` ``(d, r)``: basis of
    the row space of ``X``. ``pieces``: the blocks (see :class:`Piece`). ``method``, ``status``, ``solver``,
    ``solve_time`` (s, the solver's own call), ``beta``, ``patterns`` ``(n, P)``.
    """

    objective: float
    V: np.ndarray
    patterns: np.ndarray
    method: str
    status: str
    solver: str
    solve_time: float
    beta: float
    Q: np.ndarray = field(repr=False)
    pieces: tuple[Piece, ...] = field(repr=False)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``sum_i D_i X V_i`` (on the training ``X`` the patterns belong to), shape ``(n, c)``."""
        X = check_X(X)
        if X.shape != (self.patterns.shape[0], self.V.shape[1]):
            raise ValueError(f"X has shape {X.shape} but the solution was computed for n = {self.patterns.shape[0]} "
                             f"samples and d = {self.V.shape[1]} features; predict works on the training X")
        return np.einsum("np,pdc,nd->nc", self.patterns.astype(float), self.V, X)


def _solve_problem(problem, solver: str) -> tuple[str, float]:
    import cvxpy as cp

    options = {"canon_backend": cp.SCIPY_CANON_BACKEND, **SDP_SOLVER_OPTIONS.get(solver, {})}
    return run_problem(problem, solver, options)


def _nuclear_norm(B: np.ndarray) -> float:
    return float(np.sum(np.linalg.svd(B, compute_uv=False))) if B.size else 0.0


def solve_vector_relu(
    X: np.ndarray,
    Y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    method: Method = "exact",
    solver: str | None = None,
) -> VectorConvexResult:
    r"""Solve the vector-output convex program over ``patterns``, exactly or relaxed (module docstring).

    ``min 0.5 ||sum_i D_i X V_i - Y||_F^2 + beta * sum_i ||V_i||_{*,K_i}`` with, by ``method``:

    * ``"exact"``: the cone-constrained nuclear norm itself, as an SDP over a triangulation of every cone
      (exact for ``rank X <= 4``), or the scalar program of :func:`cvxnn_core.programs.solve_relu` for
      ``c = 1`` and ``rank X > 4``;
    * ``"dnn"``: the doubly non-negative relaxation (lower bound);
    * ``"nuclear"``: the plain nuclear norm ``||V_i||_*`` (lower bound; gated ReLU for ``c = 1``).

    With ``patterns = enumerate_patterns(X)`` the exact value is the global optimum of the network
    problem and the relaxed values are lower bounds on the objective of every network.

    Args:
        X: data ``(n, d)`` (append a ones column for a bias).
        Y: targets ``(n, c)`` (or ``(n,)`` for ``c = 1``).
        beta: weight decay ``>= 0``.
        patterns: boolean ``(n, P)``; each column must be the pattern of an open chamber (as returned by
            ``enumerate_patterns`` or ``sample_patterns``) for ``"exact"`` and ``"dnn"``.
        method: ``"exact"``, ``"dnn"`` or ``"nuclear"``.
        solver: cvxpy solver with SDP support (``"CLARABEL"``, the default, or ``"SCS"``).

    Raises:
        ValueError: bad shapes, ``beta < 0``, ``X = 0``, a pattern without an open chamber, or
            ``method="exact"`` with ``rank X > 4`` and ``c > 1``.
        SolverError: the solver is missing or did not reach an optimal status.
    """
    X, Y = check_X_Y(X, Y)
    beta = check_beta(beta)
    patterns = check_patterns(patterns, X.shape[0])
    method = check_choice(method, "method", METHODS)  # type: ignore[assignment]
    solver = check_solver(solver)
    Q = row_space_basis(X)
    r, c = Q.shape[1], Y.shape[1]
    if r == 0:
        raise ValueError("X is the zero matrix: every network predicts 0 and there is nothing to solve")
    if method == "exact" and r > MAX_EXACT_RANK:
        if c == 1:
            return _exact_scalar(X, Y, beta, patterns, solver, Q)
        raise ValueError(
            f"method='exact' needs rank(X) <= {MAX_EXACT_RANK} when c > 1 (completely positive = doubly "
            f"non-negative only up to size 4); X has rank {r}. Use method='dnn' or 'nuclear' (lower bounds)"
        )
    if method == "nuclear":
        return _solve_nuclear(X, Y, beta, patterns, solver, Q)
    geometry = _geometry(X, patterns)
    if method == "dnn":
        return _solve_dnn(X, Y, beta, patterns, solver, geometry)
    return _solve_exact(X, Y, beta, patterns, solver, geometry)


def _drop_small(items: list, sizes: list[float]) -> list:
    """The items whose size is not negligible (solver noise): above ``PIECE_ZERO_TOL`` times the largest."""
    top = max(sizes, default=0.0)
    return [item for item, size in zip(items, sizes, strict=True) if size > PIECE_ZERO_TOL * top]


def _finish(X, Y, beta, patterns, method, status, solver, elapsed, Q, pieces, penalty) -> VectorConvexResult:
    d, c, P = X.shape[1], Y.shape[1], patterns.shape[1]
    V = np.zeros((P, d, c))
    for piece in pieces:
        V[piece.pattern] += Q @ piece.rays @ piece.coef
    result = VectorConvexResult(
        objective=0.0,
        V=V,
        patterns=patterns,
        method=method,
        status=status,
        solver=solver,
        solve_time=elapsed,
        beta=beta,
        Q=Q,
        pieces=tuple(pieces),
    )
    objective = 0.5 * float(np.sum((result.predict(X) - Y) ** 2)) + beta * penalty
    object.__setattr__(result, "objective", objective)
    return result


def _masked(Z: np.ndarray, pattern: np.ndarray) -> np.ndarray:
    return pattern[:, None] * Z


def _lifted_penalty(gram: np.ndarray, rays: np.ndarray) -> float:
    k = rays.shape[1]
    return 0.5 * float(np.sum((rays.T @ rays) * gram[:k, :k]) + np.trace(gram[k:, k:]))


def _solve_lifted(X, Y, beta, patterns, solver, Q, blocks, method) -> VectorConvexResult:
    """One batched SDP over all blocks ``t`` (``blocks``: ``(pattern, rays (r, k), H (n, k), F, cone_rays)``).

    Variables ``G_t = [[M_t, Phi_t], [Phi_t^T, W_t]]`` psd (a single ``(T, k + c, k + c)`` cvxpy variable, so
    that canonicalisation is vectorised). Prediction ``sum_t H_t Phi_t``; penalty
    ``sum_t 0.5 (<R_t^T R_t, M_t> + tr W_t)``; constraints ``M_t >= 0`` (``F = "nonneg"``), ``F M_t F^T >= 0``
    (``F`` an ``(h, k)`` array) or none (``F = None``, the nuclear norm).
    """
    import cvxpy as cp
    import scipy.sparse as sp

    n, c = Y.shape
    T, k = len(blocks), blocks[0][1].shape[1]
    size = k + c
    per = size * size

    def index(t, a, b):
        return t * per + a * size + b

    rows, cols, vals = [], [], []  # prediction: (n * c) x (T * per)
    pen = np.zeros(T * per)
    con_rows, con_cols, con_vals, n_con = [], [], [], 0
    for t, (_, rays, H, F, _) in enumerate(blocks):
        for j in range(c):
            for i in range(k):
                rows.extend(np.arange(n) * c + j)
                cols.extend([index(t, i, k + j)] * n)
                vals.extend(H[:, i])
            pen[index(t, k + j, k + j)] += 0.5
        gram = rays.T @ rays
        for i in range(k):
            for l in range(k):
                pen[index(t, i, l)] += 0.5 * gram[i, l]
        if isinstance(F, str):  # entrywise M_t >= 0
            for i in range(k):
                for l in range(i, k):
                    con_rows.append(n_con)
                    con_cols.append(index(t, i, l))
                    con_vals.append(1.0)
                    n_con += 1
        elif F is not None:  # F M_t F^T >= 0, i.e. sum_il F_ai F_bl M_il >= 0
            for a in range(F.shape[0]):
                for b in range(a, F.shape[0]):
                    coef = np.outer(F[a], F[b]).ravel()
                    con_rows.extend([n_con] * (k * k))
                    con_cols.extend(index(t, i, l) for i in range(k) for l in range(k))
                    con_vals.extend(coef)
                    n_con += 1
    A_pred = sp.csr_matrix((vals, (rows, cols)), shape=(n * c, T * per))
    G = cp.Variable((T, size, size), PSD=True)
    g = cp.reshape(G, (T * per,), order="C")
    pred = cp.reshape(A_pred @ g, (n, c), order="C")
    constraints = []
    if n_con:
        A_con = sp.csr_matrix((con_vals, (con_rows, con_cols)), shape=(n_con, T * per))
        constraints.append(A_con @ g >= 0)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(pred - Y) + beta * (pen @ g)), constraints)
    status, elapsed = _solve_problem(problem, solver)
    values = np.asarray(G.value)
    values = 0.5 * (values + values.transpose(0, 2, 1))
    pieces = []
    for (i, rays, _, F, cone_rays), gram in zip(blocks, values, strict=True):
        if method == "nuclear":
            pieces.append(Piece(pattern=i, rays=rays, coef=gram[:k, k:]))
        else:
            simplicial = isinstance(F, str)  # ray coordinates of a simplicial cone
            pieces.append(Piece(i, rays, gram[:k, k:], gram, simplicial, cone_rays))
    if method == "nuclear":
        sizes = [_nuclear_norm(p.coef) for p in pieces]
    else:
        sizes = [_lifted_penalty(p.gram, p.rays) for p in pieces]
    keep = _drop_small(list(range(len(pieces))), sizes)
    pieces = [pieces[j] for j in keep]
    penalty = sum(sizes[j] for j in keep)
    return _finish(X, Y, beta, patterns, method, status, solver, elapsed, Q, pieces, penalty)


def _solve_nuclear(X, Y, beta, patterns, solver, Q) -> VectorConvexResult:
    Z = X @ Q
    r = Z.shape[1]
    blocks = [(i, np.eye(r), _masked(Z, patterns[:, i]), None, None) for i in range(patterns.shape[1])]
    return _solve_lifted(X, Y, beta, patterns, solver, Q, blocks, "nuclear")


def _solve_dnn(X, Y, beta, patterns, solver, geometry: _Geometry) -> VectorConvexResult:
    Z, r = geometry.Z, geometry.Z.shape[1]
    Zn = _unit_rows(Z)
    blocks = []
    for i in range(patterns.shape[1]):
        R = geometry.rays[i]
        if R.shape[1] == r:  # simplicial cone: ray coordinates, M >= 0 (the same block as "exact", better scaled)
            blocks.append((i, R, _masked(Z @ R, patterns[:, i]), "nonneg", R))
        else:
            F = _facets(Zn, 2.0 * patterns[:, i] - 1.0, R)
            blocks.append((i, np.eye(r), _masked(Z, patterns[:, i]), F, R))
    return _solve_lifted(X, Y, beta, patterns, solver, geometry.Q, blocks, "dnn")


def _solve_exact(X, Y, beta, patterns, solver, geometry: _Geometry) -> VectorConvexResult:
    Z = geometry.Z
    blocks = []
    for i in range(patterns.shape[1]):
        R = geometry.rays[i]
        for simplex in _triangulate(R):
            Rt = R[:, list(simplex)]
            blocks.append((i, Rt, _masked(Z @ Rt, patterns[:, i]), "nonneg", R))
    return _solve_lifted(X, Y, beta, patterns, solver, geometry.Q, blocks, "exact")


def _exact_scalar(X, Y, beta, patterns, solver, Q) -> VectorConvexResult:
    """``c = 1``: the scalar program ``min 0.5||sum D_i X (v_i - w_i) - y||^2 + beta sum(||v_i|| + ||w_i||)``."""
    from cvxnn_core.programs import solve_relu

    res = solve_relu(X, Y[:, 0], beta, patterns, solver=solver)
    pieces = []
    for i in range(patterns.shape[1]):
        for block, sign in ((res.V[i], 1.0), (res.W[i], -1.0)):
            z = Q.T @ block
            norm = float(np.linalg.norm(z))
            if norm > 0:
                ray = (z / norm)[:, None]
                pieces.append(Piece(pattern=i, rays=ray, coef=np.array([[sign * norm]]), simplicial=True))
    penalty = sum(abs(float(p.coef[0, 0])) for p in pieces)
    return _finish(X, Y, beta, patterns, "exact", res.status, res.solver, res.solve_time, Q, pieces, penalty)



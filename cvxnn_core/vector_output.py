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

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING, Literal

import numpy as np

from cvxnn_core._cvx import DEFAULT_SOLVER, SDP_SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._linalg import WHITENED_ATOL, check_whitened, row_space_basis
from cvxnn_core._training import TrainResult, limit_threads
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_patterns,
    check_seed,
    check_torch_device,
    check_torch_dtype,
    check_vector_training,
    check_X,
    check_X_Y,
)

if TYPE_CHECKING:
    import torch

Method = Literal["exact", "dnn", "nuclear"]
Optimizer = Literal["adam", "sgd"]
METHODS: tuple[str, ...] = ("exact", "dnn", "nuclear")
MAX_EXACT_RANK = 4  # CP_r = DNN_r only for r <= 4
RAY_TOL = 1e-9  # |a^T z| below this (unit a, z) puts the ray z on the hyperplane a
CONE_TOL = 1e-7  # relative cone violation below which a recovered neuron counts as inside its cone
CP_TOL = 1e-8  # relative tolerance of the completely-positive factorisations
PIECE_ZERO_TOL = 1e-8  # blocks whose size (trace / nuclear norm) is below this times the largest are set to zero
WHITEN_ROWS_FIX = "Whiten the samples first with cvxnn_core.closed_form.whiten_rows(X)"
DEFAULT_LR = {"adam": 1e-2, "sgd": 1e-3}


# ----------------------------------------------------------------------------------------------------
# Inputs and networks
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VectorNet:
    """Two-layer ReLU network with vector output ``f(X) = (X W1^T)_+ W2``: ``W1`` ``(m, d)``, ``W2`` ``(m, c)``."""

    W1: np.ndarray
    W2: np.ndarray

    def __post_init__(self) -> None:
        W1 = np.asarray(self.W1, dtype=np.float64)
        W2 = np.asarray(self.W2, dtype=np.float64)
        if W1.ndim != 2 or W2.ndim != 2:
            raise ValueError(f"W1 must be (m, d) and W2 (m, c); got shapes {W1.shape} and {W2.shape}")
        if W1.shape[0] != W2.shape[0]:
            raise ValueError(f"W1 has {W1.shape[0]} neurons (rows) but W2 has {W2.shape[0]} rows")
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "W2", W2)

    @property
    def width(self) -> int:
        """Number of neurons ``m``."""
        return int(self.W1.shape[0])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(X W1^T)_+ W2``, shape ``(n, c)``."""
        X = check_X(X)
        if X.shape[1] != self.W1.shape[1]:
            raise ValueError(f"X has {X.shape[1]} columns but the network expects d = {self.W1.shape[1]}")
        return np.maximum(X @ self.W1.T, 0.0) @ self.W2

    def weight_decay(self) -> float:
        """``0.5 * (||W1||_F^2 + ||W2||_F^2)``."""
        return 0.5 * float(np.sum(self.W1**2) + np.sum(self.W2**2))


def vector_objective(X: np.ndarray, Y: np.ndarray, net: VectorNet, beta: float) -> float:
    """``0.5 ||(X W1^T)_+ W2 - Y||_F^2 + (beta/2)(||W1||_F^2 + ||W2||_F^2)``."""
    X, Y = check_X_Y(X, Y)
    beta = check_beta(beta)
    if net.W2.shape[1] != Y.shape[1]:
        raise ValueError(f"the network has c = {net.W2.shape[1]} outputs but Y has {Y.shape[1]} columns")
    return 0.5 * float(np.sum((net.predict(X) - Y) ** 2)) + beta * net.weight_decay()


def balance_network(net: VectorNet) -> VectorNet:
    """Rescale each neuron to ``||w1_j|| = ||w2_j||``: same predictions, weight decay ``sum_j ||w1_j|| ||w2_j||``."""
    a = np.linalg.norm(net.W1, axis=1)
    b = np.linalg.norm(net.W2, axis=1)
    keep = (a > 0) & (b > 0)
    s = np.sqrt(b[keep] / a[keep])
    return VectorNet(W1=net.W1[keep] * s[:, None], W2=net.W2[keep] / s[:, None])


# ----------------------------------------------------------------------------------------------------
# Geometry of the cones: row-space coordinates, extreme rays, triangulation, facets
# ----------------------------------------------------------------------------------------------------


def _unit_rows(Z: np.ndarray) -> np.ndarray:
    """Rows of ``Z`` scaled to unit norm (zero rows stay zero)."""
    norms = np.linalg.norm(Z, axis=1, keepdims=True)
    return np.divide(Z, norms, out=np.zeros_like(Z), where=norms > 0)


def _candidate_rays(Zn: np.ndarray) -> np.ndarray:
    """Unit directions ``(r, L)`` on ``r - 1`` independent hyperplanes ``a_j^T z = 0`` (both signs)."""
    r = Zn.shape[1]
    if r == 1:
        return np.array([[1.0, -1.0]])
    rows = Zn[np.linalg.norm(Zn, axis=1) > 0]
    canon = rows * np.sign(rows[np.arange(len(rows)), np.argmax(np.abs(rows), axis=1)])[:, None]
    hyper = np.unique(np.round(canon, 12), axis=0)
    subsets = np.array(list(combinations(range(hyper.shape[0]), r - 1)), dtype=np.intp)
    if subsets.size == 0:
        return np.zeros((r, 0))
    _, s, Vt = np.linalg.svd(hyper[subsets], full_matrices=True)
    ok = s[:, -1] > 1e-10 if r > 2 else np.ones(len(subsets), dtype=bool)
    rays = Vt[ok, -1, :]
    return np.concatenate([rays, -rays]).T


def _cone_rays(Zn: np.ndarray, signs: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Extreme rays ``(r, k)`` (unit columns) of ``{z : signs * (Zn z) >= 0}`` among ``candidates``."""
    A = signs[:, None] * Zn
    inside = np.all(A @ candidates >= -RAY_TOL, axis=0)
    rays = candidates[:, inside]
    if rays.shape[1] == 0:
        return rays
    _, first = np.unique(np.round(rays, 9), axis=1, return_index=True)
    return rays[:, np.sort(first)]


def _triangulate(R: np.ndarray) -> list[tuple[int, ...]]:
    """Simplicial cones (index tuples of ``r`` rays) covering the pointed cone spanned by the columns of ``R``.

    Pulling triangulation of the cross-section ``{z in cone : c^T z = 1}`` (``c`` the normalised sum of
    the rays, an interior direction): cone from ray 0 over every facet of the cross-section that does not
    contain it; simplices of zero volume are dropped.
    """
    r, k = R.shape
    if k == r:
        return [tuple(range(r))]
    from scipy.spatial import ConvexHull

    c = R.sum(axis=1)
    c /= np.linalg.norm(c)
    points = R / (c @ R)
    basis = np.linalg.svd(np.eye(r) - np.outer(c, c))[0][:, : r - 1]
    hull = ConvexHull((basis.T @ points).T)
    scale = abs(np.linalg.det(R[:, :r])) if k >= r else 1.0
    simplices = []
    for facet in hull.simplices:
        if 0 in facet:
            continue
        idx = (0, *sorted(int(f) for f in facet))
        if abs(np.linalg.det(R[:, idx])) > 1e-10 * max(scale, 1e-3):
            simplices.append(idx)
    return simplices


def _facets(Zn: np.ndarray, signs: np.ndarray, rays: np.ndarray) -> np.ndarray:
    """Facet normals ``(h, r)`` of the cone ``{z : signs * (Zn z) >= 0}`` with extreme rays ``rays``."""
    r = Zn.shape[1]
    A = _unit_rows(signs[:, None] * Zn)
    A = A[np.linalg.norm(A, axis=1) > 0]
    A = np.unique(np.round(A, 12), axis=0)
    on = np.abs(A @ rays) <= RAY_TOL
    keep = [j for j in range(A.shape[0]) if on[j].sum() >= r - 1 and np.linalg.matrix_rank(rays[:, on[j]]) == r - 1]
    return A[keep] if r > 1 else A


@dataclass(frozen=True)
class _Geometry:
    Q: np.ndarray  # (d, r)
    Z: np.ndarray  # X Q, (n, r)
    rays: list[np.ndarray]  # per pattern, (r, k_i)


def _geometry(X: np.ndarray, patterns: np.ndarray) -> _Geometry:
    Q = row_space_basis(X)
    Z = X @ Q
    Zn = _unit_rows(Z)
    candidates = _candidate_rays(Zn)
    rays = []
    for i in range(patterns.shape[1]):
        R = _cone_rays(Zn, 2.0 * patterns[:, i] - 1.0, candidates)
        if R.shape[1] < Z.shape[1] or np.linalg.matrix_rank(R) < Z.shape[1]:
            raise ValueError(
                f"pattern {i} is not the pattern of an open chamber of the arrangement (its cone "
                "{u : (2D - I) X u >= 0} has no interior); use enumerate_patterns(X) or sample_patterns(X, P)"
            )
        rays.append(R)
    return _Geometry(Q=Q, Z=Z, rays=rays)


# ----------------------------------------------------------------------------------------------------
# Completely positive factorisations (used by the recovery and by the closed form's certificate)
# ----------------------------------------------------------------------------------------------------


def cp_factor(M: np.ndarray, *, tol: float = CP_TOL, scale: float = 0.0) -> np.ndarray | None:
    r"""A factor ``B >= 0`` with ``B B^T = M`` (a completely positive factorisation), or ``None``.

    ``M`` is a symmetric ``(k, k)`` matrix. Eigenvalues below ``tol * max(lam_max, scale)`` are truncated and
    entries below ``tol * max(max |M|, scale)`` set to zero first (``scale``: the size of the largest block of
    a solution, so that solver noise in a tiny block is not mistaken for structure). The
    support graph ``{(j, l) : M_jl > 0}`` is split into connected components (``M`` is block diagonal
    over them) and each block is factored by the first rule that applies:

    1. rank one: ``M = lam v v^T`` with ``v`` of one sign, ``b = sqrt(lam) |v|``;
    2. eigenvectors of one sign each: ``B = V diag(sqrt(lam))`` with signs flipped;
    3. scaled diagonal dominance: if the comparison matrix (``M_jj`` on the diagonal, ``-M_jl`` off it)
       is a non-singular M-matrix, ``e = C^{-1} 1 > 0`` makes ``N = diag(e) M diag(e)`` diagonally dominant
       and ``N = sum_{j<l} N_jl (e_j + e_l)(e_j + e_l)^T + sum_j (N_jj - sum_l N_jl) e_j e_j^T``.
       Every doubly non-negative ``2 x 2`` matrix passes this test.

    ``None`` means no rule applied (``M`` may still be completely positive) or ``M`` has a negative
    entry beyond ``tol``. The result satisfies ``||B B^T - M|| <= ~tol ||M||``.
    """
    M = 0.5 * (np.asarray(M, dtype=float) + np.asarray(M, dtype=float).T)
    k = M.shape[0]
    w, V = np.linalg.eigh(M)
    top = max(float(w[-1]), 0.0)
    keep = w > tol * max(top, scale)
    if not np.any(keep):
        return np.zeros((k, 0))
    M = (V[:, keep] * w[keep]) @ V[:, keep].T
    scale = max(float(np.max(np.abs(M))), scale)
    if np.min(M) < -1e3 * tol * scale:
        return None
    M = np.where(M > tol * scale, M, 0.0)
    from scipy.sparse.csgraph import connected_components

    active = np.diag(M) > 0
    n_comp, labels = connected_components(M > 0, directed=False)
    columns = []
    for comp in range(n_comp):
        idx = np.flatnonzero((labels == comp) & active)
        if idx.size == 0:
            continue
        block = _cp_block(M[np.ix_(idx, idx)], tol)
        if block is None:
            return None
        full = np.zeros((k, block.shape[1]))
        full[idx] = block
        columns.append(full)
    return np.concatenate(columns, axis=1) if columns else np.zeros((k, 0))


def _one_sign(v: np.ndarray, tol: float) -> np.ndarray | None:
    big = float(np.max(np.abs(v)))
    if np.all(v >= -tol * big):
        return np.maximum(v, 0.0)
    if np.all(v <= tol * big):
        return np.maximum(-v, 0.0)
    return None


def _cp_block(M: np.ndarray, tol: float) -> np.ndarray | None:
    w, V = np.linalg.eigh(M)
    keep = w > 1e2 * tol * w[-1]
    cols = [_one_sign(V[:, j] * np.sqrt(w[j]), 1e2 * tol) for j in np.flatnonzero(keep)]
    if all(col is not None for col in cols):
        return np.stack(cols, axis=1)
    comparison = -M.copy()
    np.fill_diagonal(comparison, np.diag(M))
    try:
        e = np.linalg.solve(comparison, np.ones(M.shape[0]))
    except np.linalg.LinAlgError:
        return None
    if not np.all(e > 0):
        return None
    N = e[:, None] * M * e[None, :]
    k = M.shape[0]
    cols = []
    for j, l in combinations(range(k), 2):
        if N[j, l] > 0:
            col = np.zeros(k)
            col[[j, l]] = np.sqrt(N[j, l])
            cols.append(col)
    slack = np.diag(N) - (N.sum(axis=1) - np.diag(N))
    for j in range(k):
        if slack[j] > 0:
            col = np.zeros(k)
            col[j] = np.sqrt(slack[j])
            cols.append(col)
    return np.stack(cols, axis=1) / e[:, None]


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


# ----------------------------------------------------------------------------------------------------
# Spike-free data and the soft-thresholded SVD
# ----------------------------------------------------------------------------------------------------


def is_spike_free(X: np.ndarray, *, tol: float = 1e-10) -> bool:
    r"""Whether ``{(X u)_+ : ||u|| <= 1}`` is contained in ``{X u : ||u|| <= 1}``, for ``X`` of full row rank.

    Criterion (``n <= d``, ``rank X = n``): spike-free iff ``M = (X X^T)^{-1}`` has non-positive off-diagonal
    entries (``M`` is an M-matrix), checked as ``M_jl <= tol * max_j M_jj``.

    Proof. ``X`` is onto, so ``z = X u`` ranges over ``R^n`` and the shortest preimage of ``z`` has squared
    norm ``z^T M z``; spike-free means ``z_+^T M z_+ <= z^T M z`` for all ``z``. Write ``z = a - b`` with
    ``a, b >= 0`` of disjoint supports: ``z^T M z - a^T M a = b^T M b - 2 a^T M b``, which is ``>= 0`` when the
    off-diagonal entries are ``<= 0``. Conversely ``z = e_j - t e_l`` gives ``2 M_jl <= t M_ll`` for all
    ``t > 0``. Whitened data (``X X^T = I``) and, more generally, data with orthogonal rows are spike-free.

    Raises:
        ValueError: ``X`` does not have full row rank (the criterion above needs ``n <= d`` and rank ``n``).
    """
    X = check_X(X)
    n, d = X.shape
    s = np.linalg.svd(X, compute_uv=False)
    if n > d or s[-1] <= s[0] * max(n, d) * np.finfo(float).eps * 10:
        raise ValueError(
            f"is_spike_free decides spike-freeness for X of full row rank (n <= d, rank n); X has shape {X.shape} "
            f"and rank {int(np.sum(s > s[0] * max(n, d) * np.finfo(float).eps * 10))}"
        )
    M = np.linalg.inv(X @ X.T)
    off = M - np.diag(np.diag(M))
    return bool(np.max(off, initial=-np.inf) <= tol * float(np.max(np.diag(M))))


@dataclass(frozen=True)
class SpikeFreeSolution:
    """Result of :func:`soft_thresholded_svd`.

    ``objective``: the soft-thresholded SVD value ``sum_k h(sigma_k(Y))``, a lower bound on the optimum of every
    network. ``exact``: a completely positive factorisation of ``(F0 F0^T)^{1/2}`` was found, so the value is
    the optimum and ``net`` attains it (``net`` is ``None`` otherwise). ``fit``: ``F0 = SVT_beta(Y)``
    ``(n, c)``. ``singular_values``: ``sigma_k(Y)``.
    """

    objective: float
    exact: bool
    net: VectorNet | None
    fit: np.ndarray
    singular_values: np.ndarray


def svt_value(singular_values: np.ndarray, beta: float) -> float:
    """``sum_k h(sigma_k)`` with the Huber function ``h(t) = t^2/2`` for ``t <= beta``, ``beta t - beta^2/2`` above."""
    s = np.asarray(singular_values, dtype=float)
    return float(np.sum(np.where(s <= beta, 0.5 * s**2, beta * s - 0.5 * beta**2)))


def soft_thresholded_svd(
    X: np.ndarray, Y: np.ndarray, beta: float, *, atol: float = WHITENED_ATOL
) -> SpikeFreeSolution:
    r"""Closed-form optimum for whitened (hence spike-free) data ``X X^T = I_n`` (``n <= d``).

    Setting: ``X`` ``(n, d)`` with orthonormal rows, any ``Y`` ``(n, c)``, squared loss, weight decay ``beta``.

    1. Lower bound (needs only ``||X||_2 <= 1``): a network ``F = sum_j (X u_j)_+ g_j^T`` has
       ``||F||_* <= sum_j ||(X u_j)_+|| ||g_j|| <= sum_j ||u_j|| ||g_j||``, so its objective is at least
       ``min_F 0.5 ||F - Y||^2 + beta ||F||_*``, whose minimiser is the soft-thresholded SVD
       ``F0 = P (S - beta)_+ R^T`` of ``Y = P S R^T``, with value ``sum_k h(sigma_k)`` (:func:`svt_value`).
    2. Attainment (needs ``X X^T = I``): ``u = X^T a`` gives ``(X u)_+ = a`` for ``a >= 0`` with ``||u|| = ||a||``, so
       the network problem is ``min_F 0.5 ||F - Y||^2 + beta ||F||_{*,+}``, the nuclear norm with non-negative
       left factors. ``F0`` splits as ``sum_j b_j h_j^T`` with ``b_j >= 0`` and ``sum_j ||b_j|| ||h_j|| = ||F0||_*``
       iff ``G = (F0 F0^T)^{1/2} = P (S - beta)_+ P^T`` is completely positive: given ``G = B B^T`` with
       ``B >= 0``, take ``H^T = B^+ F0``; then ``||b_j|| = ||h_j||`` and ``sum_j ||b_j||^2 = tr G = ||F0||_*``.
       The neurons are ``w1_j = X^T b_j``, ``w2_j = h_j``. If ``G`` is not completely positive, the optimum is
       strictly above the bound (the nuclear-norm problem has the unique minimiser ``F0``).

    The condition holds, for example, for one-hot labels (the rows of ``Y`` are ``e_k^T``; ``G`` is block
    diagonal with non-negative rank-one blocks, one per class) and whenever the nonzero rows of ``F0`` are
    positive multiples of mutually orthogonal vectors. It fails for ``c = 1`` and targets of both signs,
    where the optimum splits ``y`` into ``y_+`` and ``y_-`` (:func:`cvxnn_core.closed_form.whitened_relu`).
    Complete positivity is certified constructively by :func:`cp_factor`; ``exact=False`` means no
    factorisation was found (for ``n <= 4`` this is a proof that none exists only up to :func:`cp_factor`'s rules).

    Raises:
        ValueError: ``max |X X^T - I| > atol`` (in particular ``n > d``), or bad ``Y`` / ``beta``.
    """
    X, Y = check_X_Y(X, Y)
    beta = check_beta(beta)
    n, d = X.shape
    check_whitened(X, atol, rows=True, who="soft_thresholded_svd", fix=WHITEN_ROWS_FIX)
    P, s, Rt = np.linalg.svd(Y, full_matrices=False)
    shrunk = np.maximum(s - beta, 0.0)
    fit = (P * shrunk) @ Rt
    objective = svt_value(s, beta)
    keep = shrunk > CP_TOL * max(float(s[0]), 1e-300)
    if not np.any(keep):
        return SpikeFreeSolution(objective, True, VectorNet(np.zeros((0, d)), np.zeros((0, Y.shape[1]))), fit, s)
    G = (P[:, keep] * shrunk[keep]) @ P[:, keep].T
    B = cp_factor(G)
    if B is None:
        return SpikeFreeSolution(objective, False, None, fit, s)
    H = (np.linalg.pinv(B, rcond=1e-12) @ fit).T  # (c, m)
    net = balance_network(VectorNet(W1=(X.T @ B).T, W2=H.T))
    return SpikeFreeSolution(objective, True, net, fit, s)


# ----------------------------------------------------------------------------------------------------
# Non-convex baseline: SGD / Adam on the weight-decay objective (torch)
# ----------------------------------------------------------------------------------------------------


def _torch_objectives(X, Y, W1, W2, beta, scale=1.0):
    """Per-network objectives ``(S,)`` for stacked weights ``W1`` ``(S, m, d)``, ``W2`` ``(S, m, c)`` and data
    ``X`` ``(S, b, d)`` or ``(b, d)``."""
    import torch

    f = torch.relu(X @ W1.transpose(1, 2)) @ W2
    return scale * 0.5 * torch.sum((f - Y) ** 2, dim=(1, 2)) + 0.5 * beta * (
        torch.sum(W1**2, dim=(1, 2)) + torch.sum(W2**2, dim=(1, 2))
    )


def _train(X, Y, width, beta, optimizer, lr, epochs, seeds, batch, init_scale, threads, dtype, device):
    """Train one network per seed, all at once: the objectives are independent, so the gradient of their sum
    is each network's own gradient and Adam / SGD (elementwise) update each exactly as if alone."""
    import torch

    n, d = X.shape
    c = Y.shape[1]
    dtype = torch.float64 if dtype is None else check_torch_dtype(dtype)
    device = check_torch_device(device)
    with limit_threads(threads):
        gens = [torch.Generator(device="cpu").manual_seed(s) for s in seeds]
        init1, init2 = [], []
        for gen in gens:  # same draws, in the same order, as a single run with that seed
            init1.append(torch.randn(width, d, generator=gen, dtype=dtype) * init_scale / np.sqrt(d))
            init2.append(torch.randn(width, c, generator=gen, dtype=dtype) * init_scale / np.sqrt(width))
        W1 = torch.stack(init1).to(device).requires_grad_()
        W2 = torch.stack(init2).to(device).requires_grad_()
        Xt = torch.as_tensor(X, dtype=dtype, device=device)
        Yt = torch.as_tensor(Y, dtype=dtype, device=device)
        opt = torch.optim.Adam([W1, W2], lr=lr) if optimizer == "adam" else torch.optim.SGD([W1, W2], lr=lr)
        with torch.no_grad():
            initial = _torch_objectives(Xt, Yt, W1, W2, beta).cpu().numpy()
        history = np.empty((len(seeds), epochs))
        full = batch == n
        start = time.perf_counter()
        for epoch in range(epochs):
            if full:  # the objective of this step is the full objective after the previous epoch
                opt.zero_grad()
                obj = _torch_objectives(Xt, Yt, W1, W2, beta)
                if epoch > 0:
                    history[:, epoch - 1] = obj.detach().cpu().numpy()
                obj.sum().backward()
                opt.step()
                continue
            orders = torch.stack([torch.randperm(n, generator=gen) for gen in gens]).to(device)
            for lo in range(0, n, batch):
                idx = orders[:, lo : lo + batch]
                opt.zero_grad()
                scale = n / idx.shape[1]
                _torch_objectives(Xt[idx], Yt[idx], W1, W2, beta, scale).sum().backward()
                opt.step()
            with torch.no_grad():
                history[:, epoch] = _torch_objectives(Xt, Yt, W1, W2, beta).cpu().numpy()
        if full:
            with torch.no_grad():
                history[:, -1] = _torch_objectives(Xt, Yt, W1, W2, beta).cpu().numpy()
        elapsed = time.perf_counter() - start
    if not np.all(np.isfinite(history)):
        raise FloatingPointError(f"{optimizer} diverged (objective became non-finite); lower lr (now {lr})")
    W1n, W2n = W1.detach().cpu().double().numpy(), W2.detach().cpu().double().numpy()
    return [
        TrainResult(VectorNet(W1n[k], W2n[k]), history[k], float(initial[k]), elapsed, optimizer, lr, int(s))
        for k, s in enumerate(seeds)
    ]


def train_vector_network(
    X: np.ndarray,
    Y: np.ndarray,
    width: int,
    beta: float,
    *,
    optimizer: Optimizer = "adam",
    lr: float | None = None,
    epochs: int = 1000,
    seed: int = 0,
    batch_size: int | None = None,
    init_scale: float = 1.0,
    threads: int | None = 1,
    dtype: torch.dtype | None = None,
    device: str = "cpu",
) -> TrainResult:
    r"""Train ``f(X) = (X W1^T)_+ W2`` (``W1`` ``(m, d)``, ``W2`` ``(m, c)``) on the weight-decay objective.

    Minimises ``0.5 ||f(X) - Y||_F^2 + (beta/2)(||W1||_F^2 + ||W2||_F^2)`` (weight decay inside the loss, as in
    :mod:`cvxnn_core.nonconvex`); with mini-batches of size ``b`` the loss term is scaled by ``n / b``. The
    recorded history is the full-batch objective after every epoch. Initialisation (seeded):
    ``W1 ~ N(0, init_scale^2 / d)``, ``W2 ~ N(0, init_scale^2 / m)``.

    Args:
        X, Y: data ``(n, d)`` and targets ``(n, c)``.
        width: number of neurons ``m``.
        beta: weight decay ``>= 0``.
        optimizer: ``"adam"`` or ``"sgd"``; ``lr`` defaults to 1e-2 (Adam) or 1e-3 (SGD).
        epochs: passes over the data (full batch unless ``batch_size``).
        seed: seeds the initialisation and the mini-batch order.
        threads: torch CPU threads while training (restored afterwards); ``None`` keeps torch's setting.
        dtype: torch dtype, default ``torch.float64``.
    """
    X, Y, width, beta, optimizer, lr, epochs, batch = check_vector_training(
        X, Y, width, beta, optimizer, lr, DEFAULT_LR, epochs, init_scale, batch_size
    )
    seed = check_seed(seed)
    (run,) = _train(X, Y, width, beta, optimizer, lr, epochs, [seed], batch, init_scale, threads, dtype, device)
    return run


def train_vector_sweep(
    X: np.ndarray,
    Y: np.ndarray,
    beta: float,
    *,
    widths: Sequence[int],
    seeds: Sequence[int],
    optimizers: Mapping[str, float],
    epochs: int,
    batch_size: int | None = None,
    init_scale: float = 1.0,
    threads: int | None = 1,
    dtype: torch.dtype | None = None,
    device: str = "cpu",
) -> list[TrainResult]:
    """One run per (optimizer, width, seed), equal to :func:`train_vector_network` with those arguments.

    ``optimizers`` maps ``"adam"``/``"sgd"`` to a step size. The seeds of one (optimizer, width) are trained
    together as a batch of independent networks (same initialisations, same updates, several times
    faster on small problems). Results are ordered by optimizer, width, seed.
    """
    seeds = [check_seed(s, "seeds") for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    out = []
    for opt, lr in optimizers.items():
        for m in widths:
            args = check_vector_training(X, Y, m, beta, opt, lr, DEFAULT_LR, epochs, init_scale, batch_size)
            Xc, Yc, width, b, opt_c, lr_c, ep, batch = args
            out.extend(_train(Xc, Yc, width, b, opt_c, lr_c, ep, seeds, batch, init_scale, threads, dtype, device))
    return out

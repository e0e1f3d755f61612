"""The geometry of the activation cones (row-space coordinates, extreme rays, triangulation, facets) and
completely positive factorisations."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np

from cvxnn_core._linalg import row_space_basis
from cvxnn_core._shapes import check_array
from cvxnn_core._validation import check_nonnegative_number, check_positive_number

if TYPE_CHECKING:
    pass


RAY_TOL = 1e-9  # |a^T z| below this (unit a, z) puts the ray z on the hyperplane a

CP_TOL = 1e-8  # relative tolerance of the completely-positive factorisations



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
    if np.ndim(M) != 2 or np.shape(M)[0] != np.shape(M)[1]:
        raise ValueError(f"M must be a square (k, k) matrix, got shape {np.shape(M)}")
    M = check_array(M, "M", (None, None), labels=("k", "k"))
    tol = check_positive_number(tol, "tol")
    scale = check_nonnegative_number(scale, "scale")
    M = 0.5 * (M + M.T)
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



r"""Activation patterns of a two-layer ReLU network: sampled and exactly enumerated.

A gate vector ``g`` in ``R^d`` splits the samples into active and inactive ones,
``D = diag(1[X g >= 0])``. Patterns are stored as one boolean array of shape ``(n, P)``,
column ``i`` holding the diagonal of ``D_i``. The set of all patterns is the set of chambers
of the central hyperplane arrangement ``{u : x_j^T u = 0}``, ``j = 1..n``; for ``X`` of rank
``r`` there are at most ``2 * sum_{k<r} C(n-1, k)`` of them (equality in general position),
polynomial in ``n`` for fixed ``r``.

The all-inactive pattern (``D = 0``) contributes nothing to any program (``D X v = 0``) and is
dropped everywhere in this module.
"""

from __future__ import annotations

import sys
from itertools import combinations
from math import comb

import numpy as np
from tqdm import tqdm

from cvxnn_core._linalg import row_space_coordinates
from cvxnn_core._shapes import MAX_ENTRIES, check_size
from cvxnn_core._validation import check_positive_int, check_seed, check_X

MAX_ENUMERATION_SUBSETS = 300_000
_ZERO_TOL = 1e-9


def unique_patterns(D: np.ndarray) -> np.ndarray:
    """Distinct, non-empty columns of a boolean ``(n, P)`` array, in order of first appearance."""
    D = np.asarray(D)
    if D.dtype != np.bool_ or D.ndim != 2:
        raise TypeError(f"D must be a boolean array (n, P), got dtype {D.dtype}, shape {D.shape}; compare instead, "
                        "e.g. X @ G >= 0")
    D = D[:, D.any(axis=0)]
    if D.shape[1] == 0:
        return D
    packed = np.packbits(D, axis=0)
    _, first = np.unique(packed, axis=1, return_index=True)
    return D[:, np.sort(first)]


def merge_patterns(*pattern_sets: np.ndarray) -> np.ndarray:
    """Union of several ``(n, P_k)`` pattern arrays, deduplicated, order of first appearance kept."""
    if not pattern_sets:
        raise ValueError("merge_patterns needs at least one pattern array (n, P)")
    sets = [np.asarray(D) for D in pattern_sets]
    for k, D in enumerate(sets):
        if D.dtype != np.bool_ or D.ndim != 2:
            raise TypeError(f"pattern set {k} must be a boolean array (n, P), got dtype {D.dtype}, shape {D.shape}")
    rows = {D.shape[0] for D in sets}
    if len(rows) > 1:
        raise ValueError(
            f"pattern sets have different numbers of rows {[D.shape[0] for D in sets]}; every set must come from "
            "the same X (n rows)"
        )
    return unique_patterns(np.concatenate(sets, axis=1))


def patterns_of_weights(X: np.ndarray, W1: np.ndarray) -> np.ndarray:
    """Patterns ``1[X w1_j >= 0]`` of the neurons ``W1`` (shape ``(m, d)``), deduplicated."""
    X = check_X(X)
    W1 = np.atleast_2d(np.asarray(W1, dtype=np.float64))
    if W1.ndim != 2 or W1.shape[1] != X.shape[1]:
        raise ValueError(f"W1 must have shape (m, {X.shape[1]}) to match X, got {W1.shape}")
    if not np.all(np.isfinite(W1)):
        raise ValueError("W1 contains NaN or inf")
    return unique_patterns(X @ W1.T >= 0)


def sample_gates(X: np.ndarray, n_patterns: int, *, seed: int = 0,
                 max_entries: int = MAX_ENTRIES) -> tuple[np.ndarray, np.ndarray]:
    """Sample Gaussian gates ``g_i ~ N(0, I_d)`` and return ``(D, G)``.

    ``D = 1[X G >= 0]`` restricted to distinct non-empty columns (so ``P <= n_patterns``) and ``G``
    of shape ``(d, P)`` holds the gate that produced each kept column. ``n_patterns (n + d)`` entries above
    ``max_entries`` are refused before sampling.
    """
    X = check_X(X)
    n_patterns = check_positive_int(n_patterns, "n_patterns")
    check_size(n_patterns * (X.shape[0] + X.shape[1]), check_positive_int(max_entries, "max_entries"),
               what=f"{n_patterns:,} gates and their patterns, entries", keyword="max_entries",
               alternative="sample fewer patterns (n_patterns)")
    rng = np.random.default_rng(check_seed(seed))
    G = rng.standard_normal((X.shape[1], n_patterns))
    D = X @ G >= 0
    keep = D.any(axis=0)
    D, G = D[:, keep], G[:, keep]
    if D.shape[1] == 0:
        raise ValueError(
            "every sampled gate left all samples inactive (X g < 0 for all gates); "
            "sample more patterns or add a bias column with cvxnn_core.datasets.add_intercept"
        )
    _, first = np.unique(np.packbits(D, axis=0), axis=1, return_index=True)
    first = np.sort(first)
    return D[:, first], G[:, first]


def sample_patterns(X: np.ndarray, n_patterns: int, *, seed: int = 0, max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """Sample activation patterns ``D_i = 1[X g_i >= 0]`` from Gaussian gates ``g_i ~ N(0, I_d)``.

    Returns a boolean ``(n, P)`` array of distinct, non-empty columns with ``P <= n_patterns``.
    """
    return sample_gates(X, n_patterns, seed=seed, max_entries=max_entries)[0]


def cone_projection(X: np.ndarray, pattern: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Euclidean projection of ``v`` onto the cone ``K = {u : (2D - I) X u >= 0}`` of one pattern.

    With ``A = (2D - I) X``, Moreau's decomposition gives ``Pi_K(v) = v + A^T mu*`` where
    ``mu* = argmin_{mu >= 0} ||A^T mu + v||`` (non-negative least squares). scipy's ``nnls`` is tried
    first; when its answer fails the KKT conditions (``mu >= 0``, ``A r >= 0``, ``mu_j (A r)_j = 0`` with
    ``r = A^T mu + v``, to a relative ``1e-9``) the bounded-variable solver ``lsq_linear(method="bvls")``
    is used instead (scipy 1.17's ``nnls`` occasionally stops early).
    """
    from scipy.optimize import lsq_linear, nnls

    X = check_X(X)
    pattern, v = np.asarray(pattern), np.asarray(v, dtype=np.float64)
    if pattern.shape != (X.shape[0],):
        raise ValueError(f"pattern must have shape (n,) = ({X.shape[0]},) like the rows of X, got {pattern.shape}")
    if pattern.dtype != np.bool_ and not np.all(np.isin(pattern, (0, 1))):
        raise ValueError("pattern must be boolean (True where the neuron is active), got values other than 0/1")
    if v.shape != (X.shape[1],):
        raise ValueError(f"v must have shape (d,) = ({X.shape[1]},) like the columns of X, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("v contains NaN or inf")
    if not np.any(v):
        return np.zeros_like(v)
    At = ((2.0 * pattern - 1.0)[:, None] * X).T
    mu, _ = nnls(At, -v, maxiter=50 * At.shape[1])
    if not _nnls_optimal(At, v, mu):
        mu = lsq_linear(At, -v, bounds=(0.0, np.inf), method="bvls", tol=1e-14).x
    return v + At @ mu


def _nnls_optimal(At: np.ndarray, v: np.ndarray, mu: np.ndarray, rtol: float = 1e-9) -> bool:
    """KKT check of ``mu = argmin_{mu >= 0} ||At mu + v||``: gradient ``At^T r`` is >= 0 and 0 on the support."""
    grad = At.T @ (At @ mu + v)
    scale = rtol * np.linalg.norm(At, axis=0) * max(np.linalg.norm(v), 1e-300)
    return bool(np.all(grad >= -scale) and np.all(np.abs(grad[mu > 0]) <= scale[mu > 0]))


def max_pattern_count(n: int, r: int) -> int:
    """Upper bound ``2 * sum_{k=0}^{r-1} C(n-1, k)`` on the chambers of ``n`` hyperplanes in rank ``r``
    (``n >= 0``, ``r >= 0``; terms with ``k >= n`` vanish, so ``r`` is capped at ``n``)."""
    for value, name in ((n, "n"), (r, "r")):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    n, r = int(n), int(r)
    if r <= 0 or n == 0:
        return 1
    return 2 * sum(comb(n - 1, k) for k in range(min(r, n)))


def _chambers(Z: np.ndarray, progress: bool = False) -> np.ndarray:
    """All strict sign patterns (as booleans, zero rows -> True) of the arrangement of rows of ``Z``.

    Recursion on the extreme rays: every chamber of an essential central arrangement of rank
    ``r >= 2`` is a pointed cone, hence has an extreme ray ``z`` spanned by ``r - 1`` independent
    rows. Near ``z`` the rows with ``x_j^T z != 0`` keep their sign and the rows with
    ``x_j^T z = 0`` form an arrangement of rank ``r - 1`` whose chambers give the local signs.
    """
    n = Z.shape[0]
    Z = row_space_coordinates(Z)
    r = Z.shape[1]
    norms = np.linalg.norm(Z, axis=1)
    active = norms > _ZERO_TOL * max(norms.max(initial=0.0), 1.0)
    if r == 0:
        return np.ones((n, 1), dtype=bool)
    Zn = np.zeros_like(Z)
    Zn[active] = Z[active] / norms[active, None]
    if r == 1:
        return np.stack([(Zn[:, 0] > 0) | ~active, (Zn[:, 0] < 0) | ~active], axis=1)

    # Distinct hyperplanes (a row and its negative define the same one).
    canon = Zn[active] * np.sign(Zn[active][np.arange(active.sum()), np.argmax(np.abs(Zn[active]), axis=1)])[:, None]
    hyper = np.unique(np.round(canon, 12), axis=0)
    n_sub = comb(hyper.shape[0], r - 1)
    if n_sub > MAX_ENUMERATION_SUBSETS:
        raise ValueError(
            f"enumerating the arrangement needs {n_sub} subsets of {r - 1} hyperplanes (limit "
            f"{MAX_ENUMERATION_SUBSETS}); the data have n = {n} and rank {r}. Use sample_patterns(X, n_patterns) "
            "instead, or reduce n or the rank of X"
        )
    subsets = np.array(list(combinations(range(hyper.shape[0]), r - 1)), dtype=np.intp)
    _, s, Vt = np.linalg.svd(hyper[subsets], full_matrices=True)
    rays = Vt[s[:, -1] > 1e-10, -1, :]
    rays = np.concatenate([rays, -rays])
    A = Zn @ rays.T  # (n, K)
    zero = np.abs(A) <= 1e-9
    base = A > 0
    # Group rays by their zero set: the local arrangement depends only on it.
    keys = np.packbits(np.concatenate([zero, base], axis=0), axis=0)
    _, first = np.unique(keys, axis=1, return_index=True)
    found = []
    local_cache: dict[bytes, np.ndarray] = {}
    # A progress bar on a terminal when the top-level enumeration is long (tqdm is silent elsewhere).
    show = progress and len(first) > PROGRESS_MIN_RAYS
    for k in tqdm(first, desc="enumerating patterns", unit="ray", file=sys.stderr, disable=None if show else True):
        zset = zero[:, k]
        key = np.packbits(zset).tobytes()
        if key not in local_cache:
            rows = Zn[zset]
            if np.linalg.matrix_rank(rows) == rows.shape[0]:
                # Independent rows: every sign combination is realised.
                m = rows.shape[0]
                grid = ((np.arange(2**m)[:, None] >> np.arange(m)[None, :]) & 1).astype(bool)
                local_cache[key] = grid.T
            else:
                local_cache[key] = _chambers(rows)
        local = local_cache[key]
        full = np.repeat(base[:, k : k + 1], local.shape[1], axis=1)
        full[zset] = local
        found.append(full)
    D = np.concatenate(found, axis=1)
    D[~active] = True
    return D


MAX_ENUMERATED_PATTERNS = 100_000
PROGRESS_MIN_RAYS = 5_000  # extreme rays above which enumerate_patterns shows a progress bar


def enumerate_patterns(X: np.ndarray, *, max_patterns: int = MAX_ENUMERATED_PATTERNS) -> np.ndarray:
    """Every activation pattern of the hyperplane arrangement of the rows of ``X``.

    Returns a boolean ``(n, P)`` array whose columns are ``1[X u >= 0]`` for ``u`` ranging over the
    interiors of all chambers (all-inactive column dropped). This is the complete set: for every
    ``u`` there is a column ``D_i`` with ``(X u)_+ = D_i X u`` and ``u`` in the closed cone
    ``{(2 D_i - I) X u >= 0}``. Exact (no sampling); practical for rank ``<= 4`` or small ``n``.

    The count is estimated first, in closed form (:func:`max_pattern_count`, exact for rows in general
    position): above ``max_patterns`` the call is refused at once with the estimate, instead of running for
    minutes. Raise ``max_patterns`` to enumerate anyway, or use :func:`sample_patterns`.
    """
    X = check_X(X)
    max_patterns = check_positive_int(max_patterns, "max_patterns")
    n, r = X.shape[0], int(np.linalg.matrix_rank(X))
    bound = max_pattern_count(n, r)
    if bound > max_patterns:
        raise ValueError(
            f"the arrangement of X (n = {n}, rank {r}) has up to {bound:,} patterns (max_patterns = "
            f"{max_patterns:,}); use sample_patterns(X, n_patterns) instead, or pass a larger max_patterns "
            "to enumerate them all"
        )
    return unique_patterns(_chambers(X, progress=True))

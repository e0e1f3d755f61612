"""Activation patterns: exact enumeration of the hyperplane arrangement and Gaussian sampling.

The enumeration is checked three ways: its size matches the chamber count ``2 sum_{k<r} C(n-1, k)``
in general position, it contains every pattern that dense Gaussian sampling finds (generic and
degenerate data), and every enumerated pattern is realised by the interior of a chamber (an LP).
"""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from scipy.optimize import linprog

from cvxnn_core.datasets import add_intercept
from cvxnn_core.patterns import (
    enumerate_patterns,
    max_pattern_count,
    merge_patterns,
    sample_gates,
    sample_patterns,
    unique_patterns,
)

DENSE_GATES = 100_000  # Gaussian gates used as the "ground truth" sampler
LP_MARGIN = 1.0  # realisability LP: s_j x_j^T u >= LP_MARGIN on every non-zero row (strict chamber interior)


def _chamber_count(n: int, r: int) -> int:
    """``2 * sum_{k<r} C(n-1, k)``: chambers of ``n`` central hyperplanes in general position in ``R^r``."""
    return 2 * sum(comb(n - 1, k) for k in range(r))


def _strictly_feasible(X: np.ndarray, signs: np.ndarray) -> bool:
    """Is there ``u`` with ``signs_j x_j^T u >= 1`` for every row ``j`` in ``signs != 0``?"""
    rows = signs != 0
    if not np.any(rows):
        return True
    A_ub = -(signs[rows, None] * X[rows])
    res = linprog(
        np.zeros(X.shape[1]),
        A_ub=A_ub,
        b_ub=-LP_MARGIN * np.ones(int(rows.sum())),
        bounds=[(None, None)] * X.shape[1],
        method="highs",
    )
    assert res.status in (0, 2), f"LP neither solved nor infeasible: {res.message}"
    return res.status == 0


def _columns(D: np.ndarray) -> set[bytes]:
    return {np.packbits(col).tobytes() for col in D.T}


def _general_position(n: int, d: int, intercept: bool, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if intercept:
        return add_intercept(rng.standard_normal((n, d - 1)))
    return rng.standard_normal((n, d))


def _degenerate(kind: str) -> np.ndarray:
    rng = np.random.default_rng(7)
    if kind == "duplicate_rows":
        Z = rng.standard_normal((8, 2))
        return add_intercept(np.vstack([Z, Z[:4], Z[:2]]))  # 14 rows, 6 duplicated
    if kind == "rank_deficient":
        A = rng.standard_normal((15, 3))
        return np.hstack([A, A[:, :1] + 2.0 * A[:, 1:2]])  # (15, 4) of rank 3
    if kind == "collinear_with_intercept":
        t = rng.uniform(-1.0, 1.0, 12)
        return add_intercept(np.column_stack([t, 0.5 * t - 0.3]))  # points on a line: rank 2
    if kind == "grid_with_intercept":
        g = np.arange(-2.0, 3.0)
        return add_intercept(np.array([(a, b) for a in g for b in g[:3]]))  # 15 grid points, many triples collinear
    if kind == "zero_and_opposite_rows":
        Z = rng.standard_normal((8, 3))
        # Antipodal rows share a hyperplane; zero rows are active in every pattern.
        return np.vstack([Z, -Z[:3], np.zeros((2, 3))])
    raise AssertionError(kind)


GENERAL_POSITION_CASES = [
    # (n, d, intercept)
    (6, 1, False),
    (10, 2, False),
    (10, 2, True),
    (12, 3, False),
    (20, 3, True),
    (9, 4, False),
    (12, 4, True),
    (30, 3, True),
]
DEGENERATE_CASES = [
    "duplicate_rows",
    "rank_deficient",
    "collinear_with_intercept",
    "grid_with_intercept",
    "zero_and_opposite_rows",
]


@pytest.mark.parametrize(("n", "d", "intercept"), GENERAL_POSITION_CASES)
def test_enumeration_count_equals_chamber_count_in_general_position(n, d, intercept):
    X = _general_position(n, d, intercept, seed=n * 10 + d)
    D = enumerate_patterns(X)
    # The all-inactive chamber exists iff some u has X u < 0 on every row (always, with an intercept).
    all_inactive_exists = _strictly_feasible(X, -np.ones(n))
    assert all_inactive_exists or not intercept
    expected = _chamber_count(n, d) - int(all_inactive_exists)
    assert D.shape == (n, expected), f"(n, d) = ({n}, {d}): {D.shape[1]} patterns, expected exactly {expected}"
    assert max_pattern_count(n, d) == _chamber_count(n, d)


@pytest.mark.parametrize(("n", "d", "intercept"), GENERAL_POSITION_CASES)
def test_enumeration_contains_every_densely_sampled_pattern_on_generic_data(n, d, intercept):
    X = _general_position(n, d, intercept, seed=n * 10 + d)
    D = enumerate_patterns(X)
    S = sample_patterns(X, DENSE_GATES, seed=1)
    missing = _columns(S) - _columns(D)
    assert not missing, f"{len(missing)} of {S.shape[1]} sampled patterns are missing from the enumeration"


@pytest.mark.parametrize("kind", DEGENERATE_CASES)
def test_enumeration_contains_every_densely_sampled_pattern_on_degenerate_data(kind):
    X = _degenerate(kind)
    D = enumerate_patterns(X)
    S = sample_patterns(X, DENSE_GATES, seed=2)
    missing = _columns(S) - _columns(D)
    assert not missing, f"{kind}: {len(missing)} of {S.shape[1]} sampled patterns are missing from the enumeration"
    assert D.shape[1] <= max_pattern_count(X.shape[0], np.linalg.matrix_rank(X))


@pytest.mark.parametrize("kind", DEGENERATE_CASES)
def test_every_enumerated_pattern_is_a_chamber_interior(kind):
    """Soundness: each column is ``1[X u >= 0]`` with ``x_j^T u != 0`` on every non-zero row."""
    X = _degenerate(kind)
    D = enumerate_patterns(X)
    zero_rows = np.linalg.norm(X, axis=1) == 0
    assert np.all(D[zero_rows]), "a zero row satisfies x^T u = 0 >= 0, so it is active in every pattern"
    for i in range(D.shape[1]):
        signs = np.where(D[:, i], 1.0, -1.0)
        signs[zero_rows] = 0.0
        assert _strictly_feasible(X, signs), f"{kind}: pattern {i} is not realised by any gate"


@pytest.mark.parametrize("kind", DEGENERATE_CASES)
def test_enumerated_patterns_are_distinct_and_non_empty(kind):
    D = enumerate_patterns(_degenerate(kind))
    assert D.dtype == np.bool_
    assert np.all(D.any(axis=0)), "the all-inactive pattern must be dropped"
    assert len(_columns(D)) == D.shape[1], "duplicate columns"


def test_enumeration_refuses_a_too_large_arrangement():
    X = np.random.default_rng(0).standard_normal((200, 4))  # C(200, 3) > MAX_ENUMERATION_SUBSETS
    with pytest.raises(ValueError, match="sample_patterns"):
        enumerate_patterns(X)


def test_sampled_patterns_are_distinct_non_empty_boolean_columns(regression):
    n_patterns = 500
    D = sample_patterns(regression.X, n_patterns, seed=3)
    assert D.dtype == np.bool_
    assert D.shape[0] == regression.X.shape[0]
    assert 1 <= D.shape[1] <= n_patterns
    assert np.all(D.any(axis=0)), "empty column"
    assert len(_columns(D)) == D.shape[1], "duplicate columns"
    np.testing.assert_array_equal(unique_patterns(D), D)


def test_sampled_patterns_are_deterministic_under_a_seed_and_differ_across_seeds(regression):
    a = sample_patterns(regression.X, 50, seed=11)
    b = sample_patterns(regression.X, 50, seed=11)
    c = sample_patterns(regression.X, 50, seed=12)
    np.testing.assert_array_equal(a, b)
    assert a.shape != c.shape or not np.array_equal(a, c), "seeds 11 and 12 gave identical patterns"


def test_sampled_patterns_are_a_subset_of_the_enumeration(regression, full_patterns):
    S = sample_patterns(regression.X, 2_000, seed=4)
    assert _columns(S) <= _columns(full_patterns)
    assert merge_patterns(full_patterns, S).shape == full_patterns.shape


def test_sample_gates_reproduce_their_patterns(regression):
    D, G = sample_gates(regression.X, 300, seed=5)
    assert G.shape == (regression.X.shape[1], D.shape[1])
    np.testing.assert_array_equal(regression.X @ G >= 0, D)
    np.testing.assert_array_equal(sample_patterns(regression.X, 300, seed=5), D)


def test_merge_patterns_is_the_deduplicated_union_in_order_of_first_appearance(regression):
    a = sample_patterns(regression.X, 30, seed=0)
    b = sample_patterns(regression.X, 30, seed=1)
    M = merge_patterns(a, b)
    np.testing.assert_array_equal(M[:, : a.shape[1]], a)
    assert _columns(M) == _columns(a) | _columns(b)
    assert len(_columns(M)) == M.shape[1]


def test_sampling_raises_when_every_gate_leaves_all_samples_inactive():
    X = np.ones((5, 1))
    # A seed whose single Gaussian gate is negative, so that X g < 0 on every row.
    seed = next(s for s in range(100) if np.random.default_rng(s).standard_normal((1, 1))[0, 0] < 0)
    with pytest.raises(ValueError, match="inactive"):
        sample_patterns(X, 1, seed=seed)


def test_enumerate_refuses_independent_rows_with_exponentially_many_patterns():
    # n independent rows have 2^n - 1 non-empty patterns: refused by the size bound, never allocated.
    X = np.random.default_rng(0).standard_normal((40, 65))
    with pytest.raises(ValueError, match="sample_patterns"):
        enumerate_patterns(X)


def test_cone_projection_is_the_exact_projection_where_nnls_stops_early():
    # Whitened 6 x 10 data where scipy 1.17's nnls alone returns a non-optimal multiplier.
    from cvxnn_core.patterns import cone_projection

    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.standard_normal((10, 6)))
    X = Q.T
    for pattern in enumerate_patterns(X).T[:20]:
        v = rng.standard_normal(10)
        p = cone_projection(X, pattern, v)
        A = (2.0 * pattern - 1.0)[:, None] * X
        assert np.all(A @ p >= -1e-10), "projection must lie in the cone"
        # Moreau: v - p is in the polar cone and orthogonal to p.
        assert abs((v - p) @ p) <= 1e-9 * max(1.0, np.linalg.norm(v) ** 2)

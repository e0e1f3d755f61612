r"""The low-rank approximate algorithm: solve the three-layer program on a rank-``r`` approximation of ``X``.

Our derivation (the paper's abstract only names the idea; checked numerically against an independent implementation):

1. ``X_r = U_r Sigma_r V_r^T``, the truncated SVD;
2. enumerate the level-1 patterns of ``X_r``: at most ``2 sum_{k<r} C(n-1, k) = O(n^(r-1))`` of them;
3. solve the program with ``X_r`` in place of ``X`` and recover the network ``theta_r``;
4. use ``theta_r`` on the true ``X``.

The optimal blocks lie in ``range(V_r)`` (a component orthogonal to it leaves ``X_r q`` unchanged and increases
``||q||``), so ``X q = X_r q`` and ``theta_r`` has the same outputs on ``X`` and ``X_r``: its objective on ``X``
equals the low-rank optimum ``p_r``, and the low-rank program is the original problem with first-layer weights
restricted to ``range(V_r)``, so ``p* <= p_r``. From ``|a_+ - b_+| <= |a - b|`` and ``beta R* <= p*``,
``a* <= sqrt(2 p*)``, the a-priori guarantee is ``p_r <= p* (1 + sigma_{r+1} sqrt(p*/2) / beta)^2``
(:func:`approximation_bound`). The level-1 count becomes polynomial in ``n``; the wide program still has
``2^n - 1`` level-2 patterns, so the algorithm is fully polynomial only together with a fixed width.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from cvxnn_core._validation import check_beta, check_nonnegative_number, check_positive_int, check_X, check_X_y
from cvxnn_core.patterns import enumerate_patterns, max_pattern_count
from cvxnn_core.three_layer._checks import MAX_PROGRAM_BLOCKS, check_program_blocks
from cvxnn_core.three_layer.groups import all_sign_patterns, wide_groups
from cvxnn_core.three_layer.networks import ParallelThreeLayerNet, objective
from cvxnn_core.three_layer.program import ThreeLayerResult, recover_network, solve_three_layer


@dataclass(frozen=True)
class LowRankResult:
    """Outcome of :func:`solve_low_rank`: ``rank``, ``n_patterns`` (level-1 patterns of ``X_r``), ``program``
    (the solution on ``X_r``), ``net`` (recovered), ``objective`` (of ``net`` on the true ``X``),
    ``sigma_next`` (``sigma_{r+1}(X)``, 0 at full rank), ``total_time`` (s, enumeration and solve)."""

    rank: int
    n_patterns: int
    program: ThreeLayerResult
    net: ParallelThreeLayerNet
    objective: float
    sigma_next: float
    total_time: float


def low_rank_approximation(X: np.ndarray, rank: int) -> tuple[np.ndarray, float]:
    """``(X_r, sigma_{r+1})``: the best rank-``r`` approximation of ``X`` (truncated SVD) and the first discarded
    singular value (0 when ``r >= rank X``)."""
    X = check_X(X)
    r = check_positive_int(rank, "rank")
    U, s, Vt = np.linalg.svd(X, full_matrices=False)
    r = min(r, s.size)
    return (U[:, :r] * s[:r]) @ Vt[:r], float(s[r]) if r < s.size else 0.0


def approximation_bound(p_star: float, sigma_next: float, beta: float) -> float:
    """``p* (1 + sigma_{r+1} sqrt(p*/2) / beta)^2``, the guaranteed upper bound on the low-rank objective ``p_r``."""
    beta = check_beta(beta)
    if beta == 0:
        raise ValueError("the low-rank guarantee needs beta > 0")
    p_star = check_nonnegative_number(p_star, "p_star")
    sigma_next = check_nonnegative_number(sigma_next, "sigma_next")
    return float(p_star * (1 + sigma_next * np.sqrt(p_star / 2) / beta) ** 2)


def solve_low_rank(X: np.ndarray, y: np.ndarray, beta: float, rank: int, *, solver: str | None = None,
                   max_blocks: int = MAX_PROGRAM_BLOCKS) -> LowRankResult:
    """Steps 1-4 of the module docstring with the width-independent (``"frobenius"``) program over every level-1
    pattern of ``X_r`` and every non-empty level-2 pattern: ``4 P1 (2^n - 1)`` blocks, refused above ``max_blocks``
    before the patterns are enumerated (``P1`` bounded by the arrangement count of rank ``r``)."""
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    r = min(check_positive_int(rank, "rank"), min(X.shape))
    check_program_blocks(4 * max_pattern_count(X.shape[0], r) * (2 ** X.shape[0] - 1), max_blocks,
                         "solve_low_rank")
    start = time.perf_counter()
    Xr, sigma_next = low_rank_approximation(X, rank)
    D1 = enumerate_patterns(Xr)
    result = solve_three_layer(Xr, y, beta, D1, wide_groups(D1, all_sign_patterns(X.shape[0]), max_blocks=max_blocks),
                               solver=solver)
    net = recover_network(result)
    elapsed = time.perf_counter() - start
    return LowRankResult(
        min(rank, min(X.shape)), D1.shape[1], result, net, objective(X, y, net, beta, "frobenius"), sigma_next, elapsed
    )

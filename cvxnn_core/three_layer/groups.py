r"""Two-level arrangements of a parallel three-layer ReLU network and the group structures of its programs.

A sub-network ``((X W1^T)_+ w2)_+ w3`` with first-layer neurons ``u_l`` has two levels of activation patterns:

* **level 1**, one per neuron: ``D1_i = diag(1[X u_l >= 0])`` (the chambers of the arrangement of the rows of
  ``X``, :func:`cvxnn_core.patterns.enumerate_patterns`);
* **level 2**, one per sub-network: ``D2_j = diag(1[h >= 0])`` with ``h = sum_l s_l D1_{i_l} X q_l`` the scaled
  pre-activation of its second-layer neuron (``s_l = sign(w2_l)``, ``q_l = |w2_l| |w3| u_l``).

The set of all such ``h`` is the range of ``M = [D1_1 X, ..., D1_P X]`` (each cone is full-dimensional), so the
level-2 patterns are the chambers of the arrangement of the rows of ``M``; when ``rank M = n`` every one of the
``2^n - 1`` non-empty sign patterns occurs (:func:`second_level_rank`). Using a superset of the realisable
patterns is harmless (every feasible point of the program is a network); a subset gives a restriction whose
optimum is an upper bound attained by a network.

A **group** is one sub-network of the program: a level-2 pattern ``D2_g``, an outer sign ``sigma_g`` and a list of
**slots** ``(i, s)`` (a level-1 pattern and an inner sign), each slot carrying its own block ``q in R^d``.
Blocks are stored group by group (the blocks of a group are contiguous).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations_with_replacement
from math import comb

import numpy as np

from cvxnn_core._shapes import MAX_ENTRIES, check_bool_array, check_size
from cvxnn_core._validation import check_patterns, check_positive_int, check_seed, check_X
from cvxnn_core.patterns import max_pattern_count, unique_patterns
from cvxnn_core.three_layer._checks import (
    MAX_PROGRAM_BLOCKS,
    check_D1,
    check_groups,
    check_net,
    check_program_blocks,
    check_structure,
)

MAX_SIGN_PATTERNS_N = 14  # all_sign_patterns(n) refuses larger n: 2^n - 1 patterns


@dataclass(frozen=True)
class Groups:
    """Group structure of a three-layer program.

    ``D2`` ``(n, G)`` bool: level-2 pattern of each group; ``sigma`` ``(G,)``: outer signs ``+-1``;
    ``block_pattern`` ``(T,)``: level-1 pattern index of each block; ``block_sign`` ``(T,)``: inner sign ``+-1``;
    ``block_group`` ``(T,)``: the group of each block, non-decreasing (a group's blocks are contiguous).
    """

    D2: np.ndarray
    sigma: np.ndarray
    block_pattern: np.ndarray
    block_sign: np.ndarray
    block_group: np.ndarray

    def __post_init__(self) -> None:
        check_structure(self.D2, self.sigma, self.block_pattern, self.block_sign, self.block_group)

    @property
    def n_groups(self) -> int:
        """``G``, the number of groups (sub-networks of the program)."""
        return int(self.D2.shape[1])

    @property
    def n_blocks(self) -> int:
        """``T``, the number of blocks (first-layer neurons of the program)."""
        return int(self.block_group.shape[0])

    @property
    def sizes(self) -> np.ndarray:
        """Blocks per group, ``(G,)``."""
        return np.bincount(self.block_group, minlength=self.n_groups)

    def subset(self, keep: np.ndarray) -> Groups:
        """The groups with ``keep[g]`` true (a boolean ``(G,)`` mask), blocks renumbered."""
        keep = check_bool_array(keep, "keep", (self.n_groups,), labels=("G",))
        new_index = np.cumsum(keep) - 1
        blocks = keep[self.block_group]
        return Groups(
            self.D2[:, keep],
            self.sigma[keep],
            self.block_pattern[blocks],
            self.block_sign[blocks],
            new_index[self.block_group[blocks]],
        )


def make_groups(D2: np.ndarray, sigma: np.ndarray, slots: list[np.ndarray], n_patterns: int) -> Groups:
    """Groups from level-2 patterns ``D2`` ``(n, G)``, outer signs ``sigma`` ``(G,)`` and, per group, an integer
    array of slots ``(B_g, 2)`` holding ``(pattern index, inner sign)``; ``n_patterns`` is ``P1`` (validation)."""
    D2 = check_bool_array(D2, "D2", (None, None), labels=("n", "G"))
    n_patterns = check_positive_int(n_patterns, "n_patterns")
    sigma = np.asarray(sigma, dtype=np.float64).reshape(-1)
    if len(slots) != D2.shape[1]:
        raise ValueError(
            f"slots has {len(slots)} entries but D2 has {D2.shape[1]} groups (columns); give one per group"
        )
    slot_arrays = []
    for g, s in enumerate(slots):
        s = np.asarray(s)
        if not np.issubdtype(s.dtype, np.integer) or s.size % 2 or s.size == 0:
            raise (TypeError if not np.issubdtype(s.dtype, np.integer) else ValueError)(
                f"slots[{g}] must be a non-empty integer array (B_g, 2) of (pattern index, inner sign) rows, got "
                f"dtype {s.dtype}, shape {s.shape}")
        slot_arrays.append(s.astype(np.int64).reshape(-1, 2))
    groups = Groups(
        D2,
        sigma,
        np.concatenate([s[:, 0] for s in slot_arrays]) if slot_arrays else np.zeros(0, np.int64),
        np.concatenate([s[:, 1] for s in slot_arrays]).astype(np.float64) if slot_arrays else np.zeros(0),
        np.repeat(np.arange(len(slot_arrays)), [len(s) for s in slot_arrays]),
    )
    return check_groups(groups, D2.shape[0], n_patterns)


def all_slots(n_patterns: int) -> np.ndarray:
    """Every slot ``(i, s)``, ``i < n_patterns``, ``s = +-1``: shape ``(2 P1, 2)``, the order ``(0,+), (0,-), ...``."""
    P = check_positive_int(n_patterns, "n_patterns")
    return np.stack([np.repeat(np.arange(P), 2), np.tile([1, -1], P)], axis=1)


def all_sign_patterns(n: int) -> np.ndarray:
    """All ``2^n - 1`` non-empty boolean patterns of length ``n``, as the columns of an ``(n, 2^n - 1)`` array."""
    n = check_positive_int(n, "n")
    if n > MAX_SIGN_PATTERNS_N:
        raise ValueError(
            f"all_sign_patterns(n) builds 2^n - 1 patterns; n = {n} is above {MAX_SIGN_PATTERNS_N}. Use "
            "sample_second_level(X, D1, ...) for larger data"
        )
    k = np.arange(1, 2**n)
    return ((k[None, :] >> np.arange(n)[:, None]) & 1).astype(bool)


def second_level_rank(X: np.ndarray, D1: np.ndarray) -> int:
    """``rank [D1_1 X, ..., D1_P X]``; when it equals ``n`` every non-empty level-2 pattern is realisable."""
    X = check_X(X)
    D1 = check_patterns(D1, X.shape[0], "D1")
    M = (D1.T[:, :, None] * X[None, :, :]).transpose(1, 0, 2).reshape(X.shape[0], -1)
    return int(np.linalg.matrix_rank(M))


def wide_groups(D1: np.ndarray, D2: np.ndarray, *, max_blocks: int = MAX_PROGRAM_BLOCKS) -> Groups:
    """The groups of the width-independent weight-decay program: one group per (level-2 pattern, outer sign), each
    with every slot (all ``2 P1`` blocks). Exact when ``D2`` holds every realisable level-2 pattern. A program of more
    than ``max_blocks`` blocks (``4 P1 P2``) is refused before it is built."""
    D1 = check_D1(D1)
    D2 = check_patterns(D2, D1.shape[0], "D2")
    check_program_blocks(4 * D1.shape[1] * D2.shape[1], max_blocks, "wide_groups")
    slots = all_slots(D1.shape[1])
    G = 2 * D2.shape[1]
    return make_groups(np.repeat(D2, 2, axis=1), np.tile([1.0, -1.0], D2.shape[1]), [slots] * G, D1.shape[1])


def width_groups(D1: np.ndarray, D2: np.ndarray, width: int, *, max_blocks: int = MAX_PROGRAM_BLOCKS) -> Groups:
    """The groups of the path-regularised program of first-layer width ``m1 = width``: every multiset of ``width``
    slots (repetition allowed), every level-2 pattern and both outer signs. ``C(2 P1 + m1 - 1, m1) * 2 P2`` groups
    of ``m1`` blocks; more than ``max_blocks`` blocks are refused before anything is built."""
    D1 = check_D1(D1)
    D2 = check_patterns(D2, D1.shape[0], "D2")
    width = check_positive_int(width, "width")
    check_program_blocks(width * comb(2 * D1.shape[1] + width - 1, width) * 2 * D2.shape[1], max_blocks,
                         "width_groups")
    slots = all_slots(D1.shape[1])
    multisets = [slots[list(c)] for c in combinations_with_replacement(range(len(slots)), width)]
    groups_D2, sig, blocks = [], [], []
    for j in range(D2.shape[1]):
        for s in (1.0, -1.0):
            for ms in multisets:
                groups_D2.append(D2[:, j])
                sig.append(s)
                blocks.append(ms)
    return make_groups(np.stack(groups_D2, axis=1), np.array(sig), blocks, D1.shape[1])


def one_neuron_groups(D1: np.ndarray) -> Groups:
    """One group per level-1 pattern and outer sign with the single slot ``(i, +1)`` and ``D2 = D1_i``: a one-neuron
    sub-network ``((X u)_+ w2)_+ w3 = (X u)_+ (w2)_+ w3`` is a two-layer neuron, so with these groups a three-layer
    program contains the two-layer one."""
    D1 = check_D1(D1)
    P = D1.shape[1]
    slots = [np.array([[i, 1]]) for i in range(P) for _ in (0, 1)]
    return make_groups(np.repeat(D1, 2, axis=1), np.tile([1.0, -1.0], P), slots, P)


def sample_groups(X: np.ndarray, D1: np.ndarray, n_groups: int, *, width: int = 8, seed: int = 0,
                  max_blocks: int = MAX_PROGRAM_BLOCKS) -> Groups:
    """Sampled groups for data too large to enumerate (a restriction: its optimum is an upper bound, attained).

    For each of ``n_groups`` draws, a random two-layer network with 4 Gaussian neurons ``h = (X U)_+ w`` gives the
    level-2 pattern ``1[h >= 0]``; the group's slots are the level-1 patterns of those neurons (when present in
    ``D1``) completed by random patterns to ``width`` patterns, each with both inner signs (``2 width`` blocks), and
    the group appears with both outer signs. More than ``max_blocks`` blocks (``4 n_groups width``) are refused.
    """
    X = check_X(X)
    D1 = check_patterns(D1, X.shape[0], "D1")
    n_groups = check_positive_int(n_groups, "n_groups")
    width = check_positive_int(width, "width")
    check_program_blocks(4 * n_groups * width, max_blocks, "sample_groups")
    rng = np.random.default_rng(check_seed(seed))
    P = D1.shape[1]
    if width > P:
        raise ValueError(f"width = {width} patterns per group but D1 has only {P}; sample more level-1 patterns")
    packed = {np.packbits(D1[:, i]).tobytes(): i for i in range(P)}
    D2, sig, blocks = [], [], []
    for _ in range(n_groups):
        U = rng.standard_normal((X.shape[1], 4))
        w = rng.standard_normal(4)
        H = X @ U >= 0
        own = [packed[key] for key in (np.packbits(H[:, k]).tobytes() for k in range(4)) if key in packed]
        extra = rng.choice(P, size=width, replace=False).tolist()
        idx = list(dict.fromkeys(own + extra))[:width]
        slots = np.array([[i, s] for i in idx for s in (1, -1)])
        h = np.maximum(X @ U, 0.0) @ w
        for s in (1.0, -1.0):
            D2.append(h >= 0)
            sig.append(s)
            blocks.append(slots)
    return make_groups(np.stack(D2, axis=1), np.array(sig), blocks, P)


def concat_groups(*parts: Groups) -> Groups:
    """The union of several group structures over the same data (groups of ``parts[0]`` first)."""
    if not parts:
        raise ValueError("concat_groups needs at least one Groups")
    for i, g in enumerate(parts):
        if not isinstance(g, Groups):
            raise TypeError(f"concat_groups takes Groups arguments (concat_groups(a, b), not a list); argument {i} is "
                            f"a {type(g).__name__}")
        if g.D2.shape[0] != parts[0].D2.shape[0]:
            raise ValueError(f"concat_groups: argument {i} has level-2 patterns over {g.D2.shape[0]} samples but "
                             f"argument 0 over {parts[0].D2.shape[0]}; build every part on the same X")
    offsets = np.cumsum([0] + [g.n_groups for g in parts[:-1]])
    return Groups(
        np.concatenate([g.D2 for g in parts], axis=1),
        np.concatenate([g.sigma for g in parts]),
        np.concatenate([g.block_pattern for g in parts]),
        np.concatenate([g.block_sign for g in parts]),
        np.concatenate([g.block_group + off for g, off in zip(parts, offsets, strict=True)]),
    )


def sample_second_level(X: np.ndarray, n_samples: int, *, neurons: int = 4, seed: int = 0,
                        max_entries: int = MAX_ENTRIES) -> np.ndarray:
    """Distinct level-2 patterns ``1[(X U)_+ w >= 0]`` of ``n_samples`` random two-layer networks (Gaussian ``U``
    ``(d, neurons)`` and ``w``), as a boolean ``(n, P2)`` array (empty pattern dropped). The draws take
    ``n_samples neurons (d + n)`` entries, refused above ``max_entries``."""
    X = check_X(X)
    n_samples = check_positive_int(n_samples, "n_samples")
    neurons = check_positive_int(neurons, "neurons")
    check_size(n_samples * neurons * (X.shape[1] + X.shape[0]), check_positive_int(max_entries, "max_entries"),
               what="random networks, entries", keyword="max_entries", alternative="sample fewer networks")
    rng = np.random.default_rng(check_seed(seed))
    U = rng.standard_normal((n_samples, X.shape[1], neurons))
    w = rng.standard_normal((n_samples, neurons))
    H = np.einsum("snm,sm->ns", np.maximum(np.einsum("nd,sdm->snm", X, U), 0.0), w)
    return unique_patterns(H >= 0)


def group_count_bound(n: int, rank: int, width: int) -> int:
    r"""Upper bound on the groups of the fixed-width program: ``C(2 P1 + m1 - 1, m1) * 2 sum_{k < m1 r} C(n-1, k) * 2``.

    ``P1 = 2 sum_{k<r} C(n-1, k) - 1`` non-empty level-1 patterns (rows in general position) give ``2 P1`` slots; a
    sub-network of width ``m1`` is a multiset of ``m1`` of them, its level-2 pattern is a chamber of the
    ``n x m1 d`` matrix ``[D1_{i_1} X, ...]`` of rank at most ``m1 r``, and the outer sign doubles the count.
    Polynomial in ``n`` for fixed ``m1`` and ``r`` (degree about ``m1 (r - 1) + m1 r - 1``).
    """
    n, rank, width = (check_positive_int(v, name) for v, name in ((n, "n"), (rank, "rank"), (width, "width")))
    slots = 2 * (max_pattern_count(n, rank) - 1)
    return comb(slots + width - 1, width) * max_pattern_count(n, width * rank) * 2


def network_groups(X: np.ndarray, D1: np.ndarray, net) -> tuple[np.ndarray, Groups]:
    """The patterns and groups of a trained network, so that a program over them contains it.

    Every neuron's pattern ``1[X u >= 0]`` is added to ``D1`` (kept first, so existing indices stay valid); every
    sub-network ``k`` becomes a group with the slots ``(pattern of u_kl, sign w2_kl)``, the level-2 pattern
    ``1[(X W1_k^T)_+ w2_k >= 0]`` and ``sigma = sign(w3_k)``. By the sub-network lemma the network is a feasible
    point of the program over these groups, so that program's optimum is at most the network's objective.
    Returns ``(D1_merged, groups)``; neurons with an empty pattern and sub-networks with ``w3 = 0`` are left out.
    """
    from cvxnn_core.patterns import merge_patterns

    X = check_X(X)
    D1 = check_patterns(D1, X.shape[0], "D1")
    check_net(net, X.shape[1])
    own = [X @ W.T >= 0 for W in net.W1]
    merged = merge_patterns(D1, *[P for P in own if P.size])
    index = {np.packbits(merged[:, i]).tobytes(): i for i in range(merged.shape[1])}
    D2, sig, blocks = [], [], []
    for W, w, c, P in zip(net.W1, net.w2, net.w3, own, strict=True):
        slots = [[index[np.packbits(P[:, l]).tobytes()], 1 if w[l] >= 0 else -1]
                 for l in range(W.shape[0]) if P[:, l].any() and w[l] != 0]
        if not slots or c == 0:
            continue
        D2.append(np.maximum(X @ W.T, 0.0) @ w >= 0)
        sig.append(1.0 if c > 0 else -1.0)
        blocks.append(np.array(slots))
    if not blocks:
        raise ValueError("the network has no active sub-network on X (every w3 = 0 or every neuron inactive)")
    return merged, make_groups(np.stack(D2, axis=1), np.array(sig), blocks, merged.shape[1])

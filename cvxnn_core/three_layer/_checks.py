"""Argument checks of the three-layer package: group structures, parallel networks, level-1 patterns, sizes."""

from __future__ import annotations

import numpy as np

from cvxnn_core._shapes import check_array, check_bool_array, check_size

MAX_PROGRAM_BLOCKS = 100_000  # default cap on the blocks of one program (cvxpy + Clarabel take ~1 KB per T n d entry)


def check_D1(D1: object, name: str = "D1") -> np.ndarray:
    """Level-1 patterns: a boolean ``(n, P1)`` array with ``P1 >= 1``."""
    arr = np.asarray(D1)
    if arr.ndim != 2:
        raise ValueError(f"{name} must have shape (n, P1) (one boolean column per level-1 pattern), got {arr.shape}")
    return check_bool_array(arr, name, (arr.shape[0], None), labels=("n", "P1"))


def check_program_blocks(blocks: int, max_blocks: object, what: str) -> None:
    """Refuse a program of more than ``max_blocks`` blocks before building it."""
    from cvxnn_core._validation import check_positive_int

    limit = check_positive_int(max_blocks, "max_blocks")
    check_size(blocks, limit, what=f"the program of {what}, blocks (first-layer neurons)", keyword="max_blocks",
               alternative="use fewer patterns or a smaller width, or sample groups (sample_groups)")


def check_groups(groups, n: int, n_patterns: int, name: str = "groups"):
    """A three-layer group structure (:class:`~cvxnn_core.three_layer.Groups`) that matches ``n`` samples and
    ``n_patterns`` level-1 patterns: boolean ``D2`` ``(n, G)``, signs ``+-1``, block indices in range, every group
    with at least one block and its blocks contiguous."""
    from cvxnn_core.three_layer.groups import Groups

    if not isinstance(groups, Groups):
        raise TypeError(f"{name} must be a three_layer.Groups (wide_groups, width_groups, sample_groups, ...), got "
                        f"{type(groups).__name__}")
    D2 = groups.D2
    if D2.shape[0] != n:
        raise ValueError(f"{name}.D2 must be a boolean array (n, G) = ({n}, G), got dtype {D2.dtype}, shape {D2.shape}")
    if D2.shape[1] == 0:
        raise ValueError(f"{name} has no groups; build them with wide_groups, width_groups or sample_groups")
    bp = groups.block_pattern
    if bp.size and bp.max() >= n_patterns:
        raise ValueError(
            f"{name} refers to level-1 pattern {int(bp.max())} but D1 has {n_patterns} patterns; build the groups from "
            "the same D1 that is passed to the program"
        )
    return groups


def check_structure(D2, sigma, block_pattern, block_sign, block_group) -> None:
    """The structural half of :func:`check_groups` (run when a :class:`Groups` is built)."""
    if not isinstance(D2, np.ndarray) or D2.dtype != np.bool_ or D2.ndim != 2:
        raise ValueError(f"D2 must be a boolean array (n, G), got {type(D2).__name__} of shape {np.shape(D2)}")
    G = D2.shape[1]
    if np.shape(sigma) != (G,) or not np.all(np.isin(sigma, (-1.0, 1.0))):
        raise ValueError(f"sigma must hold one outer sign +1 or -1 per group ({G}), got shape {np.shape(sigma)}")
    T = np.shape(block_group)[0] if np.ndim(block_group) == 1 else -1
    if T < 0 or np.shape(block_pattern) != (T,) or np.shape(block_sign) != (T,):
        raise ValueError("block_pattern, block_sign and block_group must be 1-D arrays of one length (one per block)")
    if not np.all(np.isin(block_sign, (-1.0, 1.0))):
        raise ValueError("block_sign must hold inner signs +1 or -1")
    if T and (not np.issubdtype(np.asarray(block_pattern).dtype, np.integer) or np.min(block_pattern) < 0):
        raise ValueError("block_pattern must hold level-1 pattern indices >= 0 (integers)")
    bg = np.asarray(block_group)
    if T and (not np.issubdtype(bg.dtype, np.integer) or bg.min() < 0):
        raise ValueError("block_group must hold group indices >= 0 (integers)")
    if np.any(np.diff(bg) < 0) or (bg.size and bg.max() >= G) or (G and np.any(np.bincount(bg, minlength=G) == 0)):
        raise ValueError("every group needs at least one block and its blocks must be contiguous (block_group "
                         "non-decreasing over 0..G-1)")


def check_net(net, d: int | None = None, name: str = "net"):
    """A :class:`~cvxnn_core.three_layer.ParallelThreeLayerNet` (whose sub-networks take ``d`` inputs, if given)."""
    from cvxnn_core.three_layer.networks import ParallelThreeLayerNet

    if not isinstance(net, ParallelThreeLayerNet):
        raise TypeError(f"{name} must be a three_layer.ParallelThreeLayerNet, got {type(net).__name__}"
                        + ("; a two-layer network belongs to recovery/nonconvex" if hasattr(net, "W1") else ""))
    if d is not None:
        for k, W1 in enumerate(net.W1):
            if W1.shape[1] != d:
                raise ValueError(
                    f"{name}: sub-network {k} has first-layer weights of shape {W1.shape}, expected (m, {d}) for X "
                    f"with {d} columns; append the same intercept column used in training"
                )
    return net


def check_weights(W1, w2, w3) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Lists of finite sub-network weights ``W1[k]`` ``(m_k, d)`` and ``w2[k]`` ``(m_k,)``, and ``w3`` ``(K,)``."""
    if not isinstance(W1, list | tuple) or not isinstance(w2, list | tuple):
        raise TypeError("W1 and w2 must be lists with one array per sub-network (W1[k] (m_k, d), w2[k] (m_k,)); wrap "
                        "a single sub-network as [W1]")
    w3 = check_array(np.ravel(w3), "w3", (len(W1),), labels=("K",), fix="one outer weight per sub-network")
    if len(w2) != len(W1):
        raise ValueError(f"W1, w2 and w3 must describe the same sub-networks, got {len(W1)}, {len(w2)}, {w3.shape[0]}")
    out1, out2 = [], []
    for k, (W, w) in enumerate(zip(W1, w2, strict=True)):
        W = check_array(np.atleast_2d(W) if np.ndim(W) == 1 else W, f"W1[{k}]", (None, out1[0].shape[1] if out1 else
                        None), labels=("m_k", "d"))
        out1.append(W)
        out2.append(check_array(np.ravel(w) if np.ndim(w) == 2 and 1 in np.shape(w) else w, f"w2[{k}]",
                                (W.shape[0],), labels=("m_k",)))
    return out1, out2, w3

"""Argument checks of the attention package: token arrays, head weights, lifted maps and their block shapes.

The lifted maps (:mod:`.heads`) are returned as :class:`BlockMap`, a float array that remembers the ``(p, q)`` block
shape it was built for, so a program given transposed block shapes refuses them instead of solving another model.
"""

from __future__ import annotations

import numpy as np

from cvxnn_core._shapes import check_array
from cvxnn_core._validation import _refuse_complex


class BlockMap(np.ndarray):
    """A dense lifted map ``A`` (``A @ Z.ravel()`` = the predictions) that records ``block_shape = (p, q)`` of ``Z``."""

    block_shape: tuple[int, int] | None

    def __new__(cls, array: np.ndarray, block_shape: tuple[int, int]) -> BlockMap:
        out = np.asarray(array, dtype=np.float64).view(cls)
        out.block_shape = block_shape
        return out

    def __array_finalize__(self, obj) -> None:
        self.block_shape = getattr(obj, "block_shape", None)


def check_tokens(Xs: object, name: str = "Xs") -> np.ndarray:
    """``Xs`` as a finite float array ``(n, s, d)`` of token features."""
    _refuse_complex(Xs, name)
    arr = np.asarray(Xs, dtype=np.float64)
    if arr.ndim != 3 or 0 in arr.shape:
        raise ValueError(f"{name} must have shape (n, s, d): n samples of s tokens with d features, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def check_heads(d: int, W1: object, W2: object, names: tuple[str, str] = ("W1", "W2"),
                first: tuple[str, ...] = ("m", "d", "d"), size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``W1`` ``(m, size, size)`` (``size`` defaults to ``d``) and ``W2`` ``(m, d, c)`` of ``m`` parallel heads."""
    size = d if size is None else size
    A = check_array(W1, names[0], (None, size, size), labels=first)
    B = check_array(W2, names[1], (A.shape[0], d, None), labels=("m", "d", "c"),
                    fix=f"one ({d}, c) block per head: {names[0]} has {A.shape[0]} head(s)")
    return A, B


def check_block_maps(maps: object, shapes: object, y: object, label: str = "shapes") -> np.ndarray:
    """Targets ``y`` flattened, after checking one finite ``(len(y), p q)`` map per block shape ``(p, q)``.

    A map built by :mod:`.heads` knows its block shape; a different shape with the same ``p q`` (a transposed block)
    is refused, since it would solve another model.
    """
    _refuse_complex(y, "y")
    y = np.asarray(y, dtype=np.float64).ravel()
    if not isinstance(maps, list | tuple) or not isinstance(shapes, list | tuple):
        raise TypeError(f"maps and {label} must be lists (one map per block), got {type(maps).__name__} and "
                        f"{type(shapes).__name__}")
    if len(maps) != len(shapes) or not maps:
        raise ValueError(f"give one shape per map: {len(maps)} maps, {len(shapes)} shapes")
    for g, (A, shape) in enumerate(zip(maps, shapes, strict=True)):
        if (not isinstance(shape, tuple | list) or len(shape) != 2
                or any(isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1 for k in shape)):
            raise ValueError(f"{label}[{g}] must be a pair of positive integers (p, q), got {shape!r}")
        p, q = (int(k) for k in shape)
        if np.shape(A) != (y.size, p * q):
            raise ValueError(f"map {g} has shape {np.shape(A)}, expected ({y.size}, {p * q}) for targets of {y.size} "
                             f"entries and a ({p}, {q}) block")
        recorded = getattr(A, "block_shape", None)
        if recorded is not None and recorded[0] * recorded[1] == p * q and (p, q) != tuple(recorded):
            raise ValueError(f"{label}[{g}] is {(p, q)} but map {g} was built for a {tuple(recorded)} block (Z is "
                             f"indexed row-major: rows (a, p), columns (q, k)); pass {tuple(recorded)}")
        if not np.all(np.isfinite(A)):
            raise ValueError(f"map {g} contains NaN or inf")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf")
    return y

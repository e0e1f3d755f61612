"""Input validation at the public boundary: shapes, finiteness, signs, patterns, seeds.

Every check raises ``ValueError``/``TypeError`` whose message names the argument and the fix.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

LOSSES = ("squared", "hinge", "logistic")


def check_X(X: object, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float64 array of shape ``(n, d)``."""
    try:
        arr = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n, d); got {type(X).__name__}") from exc
    if arr.ndim != 2:
        raise ValueError(
            f"{name} must have shape (n, d), got shape {arr.shape}; reshape a single feature with {name}.reshape(-1, 1)"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must have at least one row and one column, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; remove or impute those entries first")
    return arr


def check_y(y: object, n: int, name: str = "y", allow_2d: bool = False) -> np.ndarray:
    """Return ``y`` as a finite float64 array of shape ``(n,)`` (or ``(n, c)`` if ``allow_2d``)."""
    try:
        arr = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array; got {type(y).__name__}") from exc
    if arr.ndim == 2 and arr.shape[1] == 1 and not allow_2d:
        arr = arr[:, 0]
    if arr.ndim not in ((1, 2) if allow_2d else (1,)):
        shapes = "(n,) or (n, c)" if allow_2d else "(n,)"
        raise ValueError(f"{name} must have shape {shapes}, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(f"{name} has {arr.shape[0]} rows but X has {n}; X and {name} must describe the same samples")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; remove those samples first")
    return arr


def check_X_y(X: object, y: object, allow_2d: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``X`` ``(n, d)`` and ``y`` ``(n,)`` together."""
    Xa = check_X(X)
    return Xa, check_y(y, Xa.shape[0], allow_2d=allow_2d)


def check_beta(beta: object, name: str = "beta") -> float:
    """Return the regularisation strength as a float ``>= 0``."""
    if isinstance(beta, bool) or not isinstance(beta, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a non-negative number, got {beta!r}")
    b = float(beta)
    if not np.isfinite(b) or b < 0:
        raise ValueError(f"{name} must be a finite number >= 0 (the weight-decay strength), got {beta!r}")
    return b


def check_patterns(D: object, n: int, name: str = "patterns") -> np.ndarray:
    """Return activation patterns as a boolean array of shape ``(n, P)`` with ``P >= 1``."""
    arr = np.asarray(D)
    if arr.dtype != np.bool_:
        raise TypeError(
            f"{name} must be a boolean array of shape (n, P) (True where a neuron is active), got dtype "
            f"{arr.dtype}; build it with cvxnn_core.patterns.sample_patterns or compare, e.g. X @ G >= 0"
        )
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ValueError(f"{name} must have shape (n, P) = ({n}, P), got shape {arr.shape}")
    if arr.shape[1] == 0:
        raise ValueError(f"{name} is empty (P = 0); sample at least one pattern with sample_patterns(X, n_patterns)")
    return arr


def check_loss(loss: str) -> str:
    """Return ``loss`` if it is one of :data:`LOSSES`."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    return loss


def check_labels_pm1(y: np.ndarray, loss: str, name: str = "y") -> None:
    """Hinge and logistic losses need labels in ``{-1, +1}``."""
    if loss in ("hinge", "logistic") and not np.all(np.isin(y, (-1.0, 1.0))):
        bad = np.unique(y[~np.isin(y, (-1.0, 1.0))])[:5]
        raise ValueError(
            f"loss={loss!r} needs {name} in {{-1, +1}}; found values such as {bad.tolist()}. "
            f"Map binary labels with y = np.where(labels == positive, 1.0, -1.0)"
        )


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` as an ``int >= 1``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_seed(seed: object, name: str = "seed") -> int:
    """Return an integer seed ``>= 0`` (every random draw in this package takes one)."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return int(seed)


def check_choice(value: str, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value

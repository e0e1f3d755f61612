"""Input validation at the public boundary: shapes, finiteness, signs, patterns, seeds, options.

Every check raises ``ValueError``/``TypeError`` whose message names the argument and the fix. One rule for
targets everywhere: scalar targets are ``(n,)``; a single column ``(n, 1)`` is flattened to ``(n,)``; wider
``(n, c)`` targets are accepted only where a function says so. Complex input is refused, never cast.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

LOSSES = ("squared", "hinge", "logistic")


def _refuse_complex(value: object, name: str) -> None:
    if np.iscomplexobj(value):
        raise TypeError(f"{name} is complex; pass real numbers (e.g. {name}.real if the imaginary part is zero)")


def check_X(X: object, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite float64 array of shape ``(n, d)``."""
    _refuse_complex(X, name)
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
    """Return ``y`` as a finite float64 array of shape ``(n,)`` (or ``(n, c)`` if ``allow_2d``).

    A single column ``(n, 1)`` is flattened to ``(n,)`` unless ``allow_2d``.
    """
    _refuse_complex(y, name)
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


def _real(value: object, name: str, kind: str) -> float:
    """``value`` as a float; a ``TypeError`` saying ``name must be a <kind> number`` for anything not a real number."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a {kind} number, got {value!r}")
    return float(value)


def check_beta(beta: object, name: str = "beta") -> float:
    """Return the regularisation strength as a float ``>= 0``."""
    b = _real(beta, name, "non-negative")
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


def check_positive_number(value: object, name: str) -> float:
    """Return ``value`` as a finite float ``> 0`` (a step size, a tolerance, a scale)."""
    out = _real(value, name, "positive")
    if not np.isfinite(out) or out <= 0:
        raise ValueError(f"{name} must be a positive number (finite and > 0), got {value!r}")
    return out


def check_nonnegative_number(value: object, name: str) -> float:
    """Return ``value`` as a finite float ``>= 0`` (a noise level, a margin)."""
    out = _real(value, name, "non-negative")
    if not np.isfinite(out) or out < 0:
        raise ValueError(f"{name} must be a non-negative number (finite and >= 0), got {value!r}")
    return out


def check_same_targets(f: object, y: object, name: str = "f") -> tuple[np.ndarray, np.ndarray]:
    """Return predictions ``f`` and targets ``y`` of one shape: a single column of either is flattened first.

    Any other difference (length, number of outputs) is an error: nothing is broadcast.
    """
    fa, ya = np.asarray(f, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if fa.ndim == 2 and fa.shape[1] == 1:
        fa = fa[:, 0]
    if ya.ndim == 2 and ya.shape[1] == 1:
        ya = ya[:, 0]
    if fa.shape != ya.shape:
        raise ValueError(
            f"{name} has shape {np.shape(f)} but y has shape {np.shape(y)}; predictions and targets must describe "
            "the same samples and outputs"
        )
    return fa, ya


def check_torch_dtype(dtype: object, name: str = "dtype"):
    """Return a torch floating dtype: ``torch.float32``/``torch.float64`` or the names ``"float32"``/``"float64"``."""
    import torch

    table = {"float32": torch.float32, "float64": torch.float64, torch.float32: torch.float32,
             torch.float64: torch.float64}
    if dtype not in table:
        raise ValueError(f"{name} must be torch.float32, torch.float64, 'float32' or 'float64', got {dtype!r}")
    return table[dtype]


def check_torch_device(device: object, name: str = "device"):
    """Return a usable ``torch.device``: ``"cpu"``, or ``"cuda"``/``"cuda:<k>"`` when torch sees that device."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:<k>', got {device!r}") from exc
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"{name} must be 'cpu' or 'cuda', got {device!r}")
    if dev.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{name}={device!r}: CUDA is not available on this machine (torch sees no GPU); "
                             "available devices: 'cpu'")
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"{name}={device!r}: torch sees {count} CUDA device(s), 'cuda:0'..'cuda:{count - 1}'")
    return dev


def check_choice(value: str, name: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value

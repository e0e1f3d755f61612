"""Shape, size, range and sequence checks at the public boundary (the kernel's second half, beside ``_validation``).

* :func:`check_array`: a finite float array of an exact shape, where some axes are free (``None``) and others must
  equal the size another argument fixes; the message names the argument, the shape expected and the shape given.
* :func:`check_size`: refuse work whose estimated size (entries, blocks, bytes) exceeds a limit *before* allocating,
  with the estimate and the keyword that raises the limit, as :func:`cvxnn_core.patterns.enumerate_patterns` does.
* :func:`check_seeds`: a non-empty list of non-negative integer seeds.
* :func:`check_bool_array`: a boolean array of a given shape (patterns, masks).
* :func:`check_optional_positive`, :func:`check_growth`, :func:`check_fraction`: a cap that may be ``None``, a growth
  factor ``>= 1``, a fraction in ``(0, 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cvxnn_core._validation import _real, _refuse_complex, check_positive_number, check_seed

MAX_ENTRIES = 50_000_000  # default limit on the entries of one dense float64 array a function builds (400 MB)


def _shape_text(shape: Sequence[int | None], labels: Sequence[str] | None) -> str:
    if labels is None:
        return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    sizes = ", ".join(label if s is None else str(s) for s, label in zip(shape, labels, strict=True))
    comma = "," if len(shape) == 1 else ""
    return f"({', '.join(labels)}{comma}) = ({sizes}{comma})"


def check_array(
    value: object,
    name: str,
    shape: Sequence[int | None],
    *,
    labels: Sequence[str] | None = None,
    fix: str = "",
    finite: bool = True,
) -> np.ndarray:
    """``value`` as a float64 array with ``len(shape)`` axes; axis ``k`` has size ``shape[k]`` unless that is ``None``.

    ``labels`` name the axes in the message (``("k", "d")`` gives "W0 must have shape (k, d) = (k, 3)"); ``fix`` is
    appended to it. A free axis must still be non-empty. ``finite`` refuses NaN and inf.
    """
    _refuse_complex(value, name)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape {_shape_text(shape, labels)}; "
                        f"got {type(value).__name__}") from exc
    wrong = arr.ndim != len(shape) or any(
        (want is None and got == 0) or (want is not None and got != want)
        for got, want in zip(arr.shape, shape, strict=False)
    )
    if wrong:
        raise ValueError(f"{name} must have shape {_shape_text(shape, labels)}, got shape {arr.shape}"
                         + (f"; {fix}" if fix else ""))
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; pass finite values")
    return arr


def check_bool_array(value: object, name: str, shape: Sequence[int | None], *,
                     labels: Sequence[str] | None = None) -> np.ndarray:
    """``value`` as a boolean array of the given shape (free axes ``None``); integers and floats are refused."""
    arr = np.asarray(value)
    if arr.dtype != np.bool_:
        raise TypeError(f"{name} must be a boolean array of shape {_shape_text(shape, labels)}, got dtype "
                        f"{arr.dtype}; compare instead, e.g. X @ G >= 0")
    if arr.ndim != len(shape) or any((w is None and g == 0) or (w is not None and g != w)
                                     for g, w in zip(arr.shape, shape, strict=False)):
        raise ValueError(f"{name} must have shape {_shape_text(shape, labels)}, got shape {arr.shape}")
    return arr


def check_size(estimate: float, limit: int, *, what: str, keyword: str, alternative: str = "") -> None:
    """Refuse before allocating: ``estimate`` (of ``what``) above ``limit`` raises ``ValueError`` naming both.

    ``keyword`` is the argument that raises the limit; ``alternative`` says what else to do.
    """
    if estimate > limit:
        raise ValueError(
            f"this call would build {what}: about {estimate:,.0f} ({keyword} = {limit:,}); "
            + (f"{alternative}, or " if alternative else "")
            + f"pass a larger {keyword} to go ahead"
        )


def check_seeds(seeds: object, name: str = "seeds") -> list[int]:
    """A non-empty list of non-negative integer seeds (one run per seed)."""
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | np.ndarray | range):
        raise TypeError(f"{name} must be a list of non-negative integers (one run each), got {seeds!r}")
    out = [check_seed(s, f"{name}[{k}]") for k, s in enumerate(seeds)]
    if not out:
        raise ValueError(f"{name} is empty; pass at least one seed, e.g. {name}=[0]")
    return out


def check_optional_positive(value: object, name: str) -> float | None:
    """``None`` (no limit) or a finite number ``> 0`` (a time or size cap)."""
    if value is None:
        return None
    return check_positive_number(value, name)


def check_growth(value: object, name: str) -> float:
    """A finite factor ``>= 1`` (a step or penalty that grows between rounds)."""
    out = _real(value, name, "finite")
    if not (np.isfinite(out) and out >= 1):
        raise ValueError(f"{name} must be a finite number >= 1 (a growth factor), got {value!r}")
    return out


def check_fraction(value: object, name: str) -> float:
    """A number strictly between 0 and 1 (a share of the rows)."""
    out = _real(value, name, "finite")
    if not 0 < out < 1:
        raise ValueError(f"{name} must lie in (0, 1) (a fraction of the rows), got {value!r}")
    return out

"""Patches of signals and images, their intercept and their activation patterns."""

from __future__ import annotations

import numpy as np

from cvxnn_core._validation import (
    _refuse_complex,
    check_choice,
    check_int_pair,
    check_nonnegative_int,
    check_positive_int,
)
from cvxnn_core.patterns import MAX_ENUMERATED_PATTERNS, enumerate_patterns, sample_patterns

POOLINGS = ("average", "sum")



# --------------------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------------------


def extract_patches(
    images: np.ndarray,
    patch_size: int | tuple[int, int],
    stride: int | tuple[int, int] = 1,
    padding: int = 0,
) -> np.ndarray:
    """All ``patch_size`` patches of each image, shape ``(n, K, h)``.

    ``images`` is ``(n, H, W)`` (2-D; ``patch_size`` and ``stride`` an int or a pair, ``h = ph * pw``)
    or ``(n, L)`` (1-D signals; ints, ``h = patch_size``). ``padding`` zeros are added on every side.
    Patch positions are in row-major order; each patch is flattened row-major, so
    ``patches[j, k].reshape(ph, pw)`` is the image window.
    """
    _refuse_complex(images, "images")
    try:
        arr = np.asarray(images, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"images must be a numeric array (n, H, W) or (n, L); got {type(images).__name__}") from exc
    if arr.ndim not in (2, 3) or min(arr.shape) == 0:
        raise ValueError(f"images must have shape (n, H, W) (images) or (n, L) (signals), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("images contains NaN or inf; remove or impute those pixels first")
    padding = check_nonnegative_int(padding, "padding")
    if arr.ndim == 2:
        if isinstance(patch_size, tuple | list) or isinstance(stride, tuple | list):
            raise ValueError("for 1-D signals (n, L) patch_size and stride must be ints")
        arr = arr[:, None, :]
        ph, pw = 1, check_positive_int(patch_size, "patch_size")
        sh, sw = 1, check_positive_int(stride, "stride")
        pad = ((0, 0), (padding, padding))
    else:
        (ph, pw), (sh, sw) = check_int_pair(patch_size, "patch_size"), check_int_pair(stride, "stride")
        pad = ((padding,) * 2,) * 2
    arr = np.pad(arr, ((0, 0), *pad))
    n, H, W = arr.shape
    if ph > H or pw > W:
        raise ValueError(f"patch_size ({ph}, {pw}) is larger than the padded input ({H}, {W})")
    windows = np.lib.stride_tricks.sliding_window_view(arr, (ph, pw), axis=(1, 2))[:, ::sh, ::sw]
    return np.ascontiguousarray(windows.reshape(n, -1, ph * pw))


def check_patches(patches: object, name: str = "patches") -> np.ndarray:
    """Return ``patches`` as a finite float64 array of shape ``(n, K, h)``."""
    _refuse_complex(patches, name)
    try:
        arr = np.asarray(patches, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n, K, h); got {type(patches).__name__}") from exc
    if arr.ndim != 3 or min(arr.shape) == 0:
        raise ValueError(f"{name} must have shape (n, K, h) (see extract_patches), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf")
    return arr


def add_patch_intercept(patches: np.ndarray) -> np.ndarray:
    """Append a ones entry to every patch: ``(n, K, h + 1)``; the last filter weight is then its bias."""
    P = check_patches(patches)
    return np.concatenate([P, np.ones((*P.shape[:2], 1))], axis=2)


def stack_patches(patches: np.ndarray) -> np.ndarray:
    """The patch matrix ``Z`` of shape ``(n K, h)``: row ``j K + k`` is patch ``k`` of sample ``j``."""
    P = check_patches(patches)
    return P.reshape(-1, P.shape[2])


def sample_patch_patterns(patches: np.ndarray, n_patterns: int, *, seed: int = 0) -> np.ndarray:
    """Patterns ``1[Z g_i >= 0]`` of Gaussian gates over the stacked patches: boolean ``(n K, P)``."""
    return sample_patterns(stack_patches(patches), n_patterns, seed=seed)


def enumerate_patch_patterns(patches: np.ndarray, *, max_patterns: int = MAX_ENUMERATED_PATTERNS) -> np.ndarray:
    """The complete arrangement of the ``n K`` patch rows: every pattern a filter can produce, ``(n K, P)``.

    Practical for small filters (``h <= 3``) or few patches; refused with a ``ValueError`` (naming ``max_patterns``,
    which raises the limit) when the arrangement bound is larger.
    """
    return enumerate_patterns(stack_patches(patches), max_patterns=max_patterns)


def _scale(pooling: str, K: int) -> float:
    return 1.0 / K if check_choice(pooling, "pooling", POOLINGS) == "average" else 1.0



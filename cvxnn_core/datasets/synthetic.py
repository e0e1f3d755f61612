"""Seeded synthetic data: teachers, one- and two-dimensional sets, planted filters, whitened regressions, spirals,
token clusters (every draw takes a seed)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from cvxnn_core._validation import (
    check_nonnegative_number,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
)


def add_intercept(X: np.ndarray) -> np.ndarray:
    """Append a ones column: ``[X, 1]``, shape ``(n, d + 1)``. The bias is then an ordinary weight."""
    X = check_X(X)
    return np.hstack([X, np.ones((X.shape[0], 1))])


def teacher_regression(
    n: int, d: int, *, width: int = 3, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian inputs ``X ~ N(0, I_d)`` and targets from a random ReLU teacher plus noise.

    ``y = (X A^T)_+ b + noise * eps`` with ``A ~ N(0, I/d)`` of shape ``(width, d)``, ``b ~ N(0, 1/width)``
    and ``eps ~ N(0, I_n)``. Returns ``X`` ``(n, d)`` (no intercept column) and ``y`` ``(n,)``.
    """
    noise = check_nonnegative_number(noise, "noise")
    n, d, width = check_positive_int(n, "n"), check_positive_int(d, "d"), check_positive_int(width, "width")
    rng = np.random.default_rng(check_seed(seed))
    X = rng.standard_normal((n, d))
    A = rng.standard_normal((width, d)) / np.sqrt(d)
    b = rng.standard_normal(width) / np.sqrt(width)
    y = np.maximum(X @ A.T, 0.0) @ b + noise * rng.standard_normal(n)
    return X, y


def one_dimensional(
    n: int, *, kind: Literal["sine", "steps", "random"] = "sine", noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted 1-D inputs ``x`` in ``[-1, 1]`` (shape ``(n, 1)``) and targets ``(n,)``.

    ``sine``: ``y = sin(3x)``; ``steps``: ``y = sign(x)``-like plateaus ``floor(2x)/2``; ``random``: ``y ~ N(0, 1)``.
    ``noise`` adds ``N(0, noise^2)``.
    """
    noise = check_nonnegative_number(noise, "noise")
    n = check_positive_int(n, "n")
    rng = np.random.default_rng(check_seed(seed))
    x = np.sort(rng.uniform(-1.0, 1.0, n))
    if kind == "sine":
        y = np.sin(3.0 * x)
    elif kind == "steps":
        y = np.floor(2.0 * x) / 2.0
    elif kind == "random":
        y = rng.standard_normal(n)
    else:
        raise ValueError(f"kind must be 'sine', 'steps' or 'random', got {kind!r}")
    return x[:, None], y + noise * rng.standard_normal(n)


def two_dimensional(
    n: int, *, kind: Literal["moons", "circles", "spiral"] = "moons", noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """2-D binary classification data ``X`` ``(n, 2)`` with labels ``y`` in ``{-1, +1}``.

    ``moons`` and ``circles`` come from scikit-learn's generators; ``spiral`` is two interleaved arms
    ``r = t``, ``angle = 2.5 pi t + k pi`` (``k = 0, 1``, ``t`` uniform in ``[0.15, 1]``) plus noise.
    """
    noise = check_nonnegative_number(noise, "noise")
    from sklearn import datasets as skd

    n, seed = check_positive_int(n, "n"), check_seed(seed)
    if kind == "moons":
        X, labels = skd.make_moons(n, noise=noise, random_state=seed)
    elif kind == "circles":
        X, labels = skd.make_circles(n, noise=noise, factor=0.5, random_state=seed)
    elif kind == "spiral":
        rng = np.random.default_rng(seed)
        labels = np.arange(n) % 2
        t = rng.uniform(0.15, 1.0, n)
        angle = 2.5 * np.pi * t + np.pi * labels
        X = np.c_[t * np.cos(angle), t * np.sin(angle)] + noise * rng.standard_normal((n, 2))
    else:
        raise ValueError(f"kind must be 'moons', 'circles' or 'spiral', got {kind!r}")
    return np.asarray(X, dtype=float), np.where(labels == 1, 1.0, -1.0)


PLANTED_FILTERS = ("vertical", "horizontal", "diagonal", "anti_diagonal")


def planted_filters(patch_size: int, names: tuple[str, ...] | list[str] = ("vertical", "horizontal")) -> np.ndarray:
    """Unit-norm ``patch_size x patch_size`` line detectors, shape ``(len(names), p, p)``.

    Each filter is the indicator of its line (the middle column, the middle row, the diagonal or the
    anti-diagonal) minus its mean, scaled to unit Frobenius norm.
    """
    p = check_positive_int(patch_size, "patch_size")
    if p < 2:
        raise ValueError(f"patch_size must be at least 2 for a line detector, got {p}")
    if isinstance(names, str) or not isinstance(names, list | tuple):
        raise TypeError(f"names must be a list of filter names, got {names!r}; write [{names!r}]")
    if not names:
        raise ValueError(f"names must hold at least one filter name of {PLANTED_FILTERS}")
    out = []
    for name in names:
        line = np.zeros((p, p))
        if name == "vertical":
            line[:, p // 2] = 1.0
        elif name == "horizontal":
            line[p // 2, :] = 1.0
        elif name == "diagonal":
            line[np.arange(p), np.arange(p)] = 1.0
        elif name == "anti_diagonal":
            line[np.arange(p), p - 1 - np.arange(p)] = 1.0
        else:
            raise ValueError(f"filter names must be among {PLANTED_FILTERS}, got {name!r}")
        f = line - line.mean()
        out.append(f / np.linalg.norm(f))
    return np.stack(out)


def planted_filter_images(
    n: int,
    *,
    size: int = 8,
    patch_size: int = 3,
    stride: int = 1,
    names: tuple[str, ...] | list[str] = ("vertical", "horizontal"),
    noise: float = 0.05,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian images with targets from a two-layer CNN teacher whose filters are planted line detectors.

    ``images`` ``(n, size, size)`` have i.i.d. ``N(0, 1)`` pixels; with the planted filters ``u_j``
    (:func:`planted_filters`, unit norm) and alternating output weights ``a_j = +1, -1, +1, ...``,
    ``y = sum_j a_j * mean_k (x_k^T u_j)_+ + noise * eps`` over the ``K`` patches of size ``patch_size`` taken with
    ``stride`` (global average pooling). Returns ``images``, ``y`` ``(n,)`` and the filters ``(m, p, p)``.
    """
    noise = check_nonnegative_number(noise, "noise")
    n, size = check_positive_int(n, "n"), check_positive_int(size, "size")
    stride = check_positive_int(stride, "stride")
    rng = np.random.default_rng(check_seed(seed))
    filters = planted_filters(patch_size, names)
    p = filters.shape[1]
    if p > size:
        raise ValueError(f"patch_size = {p} is larger than the image size {size}")
    images = rng.standard_normal((n, size, size))
    windows = np.lib.stride_tricks.sliding_window_view(images, (p, p), axis=(1, 2))[:, ::stride, ::stride]
    patches = windows.reshape(n, -1, p * p)
    a = np.where(np.arange(len(filters)) % 2 == 0, 1.0, -1.0)
    y = np.maximum(patches @ filters.reshape(len(filters), -1).T, 0.0).mean(axis=1) @ a
    return images, y + noise * rng.standard_normal(n), filters


def whitened_linear_regression(
    n: int,
    singular_values: list[float] | np.ndarray,
    *,
    d: int | None = None,
    c: int | None = None,
    noise: float = 0.1,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Whitened inputs and multi-output targets whose cross-covariance ``X^T Y`` has prescribed singular values.

    ``X`` ``(n, d)`` has orthonormal columns (``X^T X = I_d``) and ``Y = X U diag(s) V^T + noise * P_perp E``
    ``(n, c)`` with random orthonormal ``U`` ``(d, k)``, ``V`` ``(c, k)`` (``k = len(singular_values)``; ``d`` and ``c``
    default to ``k``) and Gaussian noise ``E`` projected off the column space of ``X``. Hence ``X^T Y = U diag(s) V^T``
    exactly: the non-zero singular values of ``X^T Y`` are ``s``. Needs ``n >= d >= k`` and ``c >= k``.
    """
    noise = check_nonnegative_number(noise, "noise")
    try:
        s = np.sort(np.asarray(singular_values, dtype=np.float64).reshape(-1))[::-1]
    except (TypeError, ValueError):
        raise TypeError("singular_values must be a non-empty list of finite numbers >= 0, got "
                        f"{singular_values!r}") from None
    n = check_positive_int(n, "n")
    k = s.size
    if k == 0 or not np.all(np.isfinite(s)) or s[-1] < 0:
        raise ValueError(f"singular_values must be a non-empty list of finite numbers >= 0, got {singular_values!r}")
    d = k if d is None else check_positive_int(d, "d")
    c = k if c is None else check_positive_int(c, "c")
    if not (n >= d >= k and c >= k):
        raise ValueError(f"need n >= d >= k and c >= k for k = {k} singular values, got n = {n}, d = {d}, c = {c}")
    rng = np.random.default_rng(check_seed(seed))
    X = np.linalg.qr(rng.standard_normal((n, d)))[0]
    U = np.linalg.qr(rng.standard_normal((d, k)))[0]
    V = np.linalg.qr(rng.standard_normal((c, k)))[0]
    E = rng.standard_normal((n, c))
    Y = X @ (U * s) @ V.T + noise * (E - X @ (X.T @ E))
    return X, Y


def spectral_teacher_signals(
    n: int, d: int, *, n_frequencies: int = 2, noise: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian signals ``X`` ``(n, d)`` and targets ``y = X g + noise * eps`` of a linear model with a sparse spectrum.

    ``g`` (returned, ``(d,)``) is real with ``n_frequencies`` non-zero DFT frequencies in ``1 .. d//2 - 1`` (each with
    its conjugate partner), drawn without replacement, with complex amplitudes ``N(0, 1) + i N(0, 1)`` scaled by
    ``sqrt(d)``: the target of a linear circular CNN whose DFT-domain solution is sparse.
    """
    noise = check_nonnegative_number(noise, "noise")
    n, d = check_positive_int(n, "n"), check_positive_int(d, "d")
    n_frequencies = check_positive_int(n_frequencies, "n_frequencies")
    if d < 4 or n_frequencies > d // 2 - 1:
        raise ValueError(f"need d >= 4 and n_frequencies <= d // 2 - 1 = {d // 2 - 1}, got d = {d}, {n_frequencies}")
    rng = np.random.default_rng(check_seed(seed))
    freqs = rng.choice(np.arange(1, d // 2), n_frequencies, replace=False)
    spectrum = np.zeros(d, dtype=complex)
    amp = (rng.standard_normal(n_frequencies) + 1j * rng.standard_normal(n_frequencies)) * np.sqrt(d)
    spectrum[freqs] = amp
    spectrum[d - freqs] = np.conj(amp)
    g = np.real(np.fft.ifft(spectrum))
    X = rng.standard_normal((n, d))
    return X, X @ g + noise * rng.standard_normal(n), g


def multiclass_spiral(
    n_per_class: int, *, n_classes: int = 3, turns: float = 1.25, noise: float = 0.03, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A 2-D spiral with ``n_classes`` arms: ``X`` ``(n_classes * n_per_class, 2)`` and integer labels.

    Arm ``c`` is ``t (cos a, sin a)`` with ``a = 2 pi c / n_classes + 2 pi turns t``, ``t`` uniform in ``[0.15, 1]``,
    plus Gaussian noise of standard deviation ``noise`` (the multi-class spiral of the path-regularisation chapter).
    """
    n_per_class = check_positive_int(n_per_class, "n_per_class")
    n_classes = check_positive_int(n_classes, "n_classes")
    if n_classes < 2:
        raise ValueError(f"n_classes must be at least 2 (the arms of the spiral), got {n_classes}")
    turns = check_positive_number(turns, "turns")
    noise = check_nonnegative_number(noise, "noise")
    rng = np.random.default_rng(check_seed(seed))
    labels = np.repeat(np.arange(n_classes), n_per_class)
    t = rng.uniform(0.15, 1.0, labels.size)
    angle = 2 * np.pi * labels / n_classes + 2 * np.pi * float(turns) * t
    X = np.c_[t * np.cos(angle), t * np.sin(angle)] + noise * rng.standard_normal((labels.size, 2))
    return X, labels


def token_clusters(
    n: int, s: int, *, n_clusters: int = 3, c: int = 2, noise: float = 0.25, target_noise: float = 0.05, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples of ``s`` tokens in ``R^3`` drawn around ``n_clusters`` planted means on the unit circle (noise
    ``noise``), with token-level targets ``(n, s, c)`` from a ReLU attention teacher whose scores are the latent
    similarities ``x_t^T x_t'``: ``Y = (X X^T)_+ X W2* + target_noise * eps``. Returns ``(Xs, Y, labels)`` with
    ``Xs`` ``(n, s, 3)`` and cluster labels ``(n, s)``."""
    n, s = check_positive_int(n, "n"), check_positive_int(s, "s")
    k = check_positive_int(n_clusters, "n_clusters")
    c = check_positive_int(c, "c")
    noise = check_nonnegative_number(noise, "noise")
    target_noise = check_nonnegative_number(target_noise, "target_noise")
    rng = np.random.default_rng(check_seed(seed))
    angles = 2 * np.pi * np.arange(k) / k
    means = np.stack([np.cos(angles), np.sin(angles), np.zeros(k)], axis=1)
    labels = rng.integers(0, k, size=(n, s))
    Xs = means[labels] + noise * rng.standard_normal((n, s, 3))
    W2 = rng.standard_normal((3, c))
    scores = np.maximum(np.einsum("nta,nua->ntu", Xs, Xs), 0.0)
    Y = np.einsum("ntu,nuq,qk->ntk", scores, Xs, W2) + target_noise * rng.standard_normal((n, s, c))
    return Xs, Y, labels

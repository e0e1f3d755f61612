"""``datasets.load_digits_subset``: balanced, seeded, scaled to [0, 1], labels +-1 by digit group."""

from __future__ import annotations

import numpy as np
import pytest

from cvxnn_core.datasets import load_digits_subset


def test_digits_subset_shapes_scaling_and_labels():
    X, labels, y = load_digits_subset([3, 8, 1], 7, positive=[8], seed=2)
    assert X.shape == (21, 64) and labels.shape == y.shape == (21,)
    assert X.min() >= 0.0 and X.max() <= 1.0 and X.max() > 0.5
    assert [int(np.sum(labels == c)) for c in (3, 8, 1)] == [7, 7, 7]
    assert np.array_equal(y, np.where(labels == 8, 1.0, -1.0))
    assert np.array_equal(labels[:7], np.full(7, 3))  # grouped in the order of classes


def test_digits_subset_is_seeded():
    a = load_digits_subset([0, 1], 5, positive=[1], seed=0)[0]
    b = load_digits_subset([0, 1], 5, positive=[1], seed=0)[0]
    c = load_digits_subset([0, 1], 5, positive=[1], seed=1)[0]
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize(
    ("classes", "positive", "n", "match"),
    [([3], [3], 5, "at least two"), ([3, 3], [3], 5, "distinct"), ([3, 8], [3, 8], 5, "proper subset"),
     ([3, 8], [], 5, "proper subset"), ([3, 8], [8], 10_000, "exceeds")],
)
def test_digits_subset_bad_input(classes, positive, n, match):
    with pytest.raises(ValueError, match=match):
        load_digits_subset(classes, n, positive=positive)

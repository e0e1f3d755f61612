"""Seeded data sets and cached convex solutions shared by the ``tests/core`` unit tests.

Every fixture is deterministic: data come from ``numpy.random.default_rng(<fixed seed>)`` and the
solver (Clarabel) is deterministic for a fixed input. Expensive solves are session-scoped and
their results must be treated as read-only by the tests.

Import nothing from this file (another ``conftest`` module may shadow it); the weight decay to use
with each data set travels with it as ``Data.beta``.

* ``regression``: ``n = 20`` points uniform in ``[-1, 1]^2`` plus an intercept column (``X`` is
  ``(20, 3)``), targets ``y = sin(2 x_1) + x_2^2 + 0.1 * noise``.
* ``binary``: the same ``X`` with labels ``+-1``: the sign of ``y - median(y)`` (10 of each class).
* ``full_patterns``: :func:`~cvxnn_core.patterns.enumerate_patterns` of that ``X`` (the complete
  arrangement, 381 patterns in general position).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest

from cvxnn_core.datasets import add_intercept
from cvxnn_core.patterns import enumerate_patterns, sample_patterns
from cvxnn_core.programs import ConvexResult, solve_relu

N_SAMPLES = 20
DATA_SEED = 0
NOISE = 0.1
BETA_SQUARED = 0.01  # weight decay for the squared-loss fixtures
BETA_CLASSIFY = 0.1  # weight decay for the hinge / logistic fixtures
N_SAMPLED_GATES = 40  # gates drawn for the "sampled patterns" fixtures


class Data(NamedTuple):
    """Design matrix with intercept ``X`` ``(n, 3)``, targets ``y`` ``(n,)``, the raw 2-D inputs ``Z`` and
    the weight decay ``beta`` used with these data throughout the tests."""

    X: np.ndarray
    y: np.ndarray
    Z: np.ndarray
    beta: float


def _smooth_data(n: int = N_SAMPLES, seed: int = DATA_SEED) -> Data:
    rng = np.random.default_rng(seed)
    Z = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = np.sin(2.0 * Z[:, 0]) + Z[:, 1] ** 2 + NOISE * rng.standard_normal(n)
    return Data(X=add_intercept(Z), y=y, Z=Z, beta=BETA_SQUARED)


@pytest.fixture(scope="session", autouse=True)
def _single_torch_thread():
    """One intra-op thread for the tiny torch problems here (thread hand-offs dominate otherwise); restored after."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def regression() -> Data:
    """``(X, y, Z, beta = 0.01)``: 20 points in 2-D with an intercept column, smooth targets plus noise."""
    return _smooth_data()


@pytest.fixture(scope="session")
def binary(regression: Data) -> Data:
    """``beta = 0.1``; the regression inputs with labels ``+1`` above the median target and ``-1`` below."""
    y = np.where(regression.y > np.median(regression.y), 1.0, -1.0)
    return Data(X=regression.X, y=y, Z=regression.Z, beta=BETA_CLASSIFY)


@pytest.fixture(scope="session")
def full_patterns(regression: Data) -> np.ndarray:
    """Every activation pattern of the arrangement of the rows of ``regression.X``."""
    return enumerate_patterns(regression.X)


@pytest.fixture(scope="session")
def sampled_patterns(regression: Data) -> np.ndarray:
    """Patterns from 40 seeded Gaussian gates (a strict subset of ``full_patterns``)."""
    return sample_patterns(regression.X, N_SAMPLED_GATES, seed=0)


@pytest.fixture(scope="session")
def relu_squared_full(regression: Data, full_patterns: np.ndarray) -> ConvexResult:
    """Convex ReLU program, squared loss, complete arrangement (the global optimum of every width)."""
    return solve_relu(regression.X, regression.y, regression.beta, full_patterns, loss="squared")


@pytest.fixture(scope="session")
def relu_hinge_full(binary: Data, full_patterns: np.ndarray) -> ConvexResult:
    """Convex ReLU program, hinge loss, complete arrangement."""
    return solve_relu(binary.X, binary.y, binary.beta, full_patterns, loss="hinge")


@pytest.fixture(scope="session")
def relu_squared_sampled(regression: Data, sampled_patterns: np.ndarray) -> ConvexResult:
    """Convex ReLU program, squared loss, sampled patterns."""
    return solve_relu(regression.X, regression.y, regression.beta, sampled_patterns, loss="squared")

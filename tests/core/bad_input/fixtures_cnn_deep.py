"""Tiny seeded fixtures of the bad-input rows of cnn, deep and deep.gap.

Each is cheap to build; some are built on first use.
"""

from __future__ import annotations

import functools

import numpy as np
from bad_input_data import BETA, IMAGES, NAN_X, NET, RESULT, Y_PM, D, X, Y, Z  # noqa: F401

from cvxnn_core import cnn, deep
from cvxnn_core.deep import gap

# ---------------------------------------------------------------- fixtures of this group (cheap, < 0.1 s)
_CD_RNG = np.random.default_rng(7)
_CD_PT = cnn.extract_patches(IMAGES, 2, stride=3)  # (6, 4, 4) patches
_CD_PT_OTHER = cnn.extract_patches(IMAGES, 2)  # (6, 16, 4): other K
_CD_Y6 = Y[:6]
_CD_S = IMAGES[:, 0, :4]  # (6, 4) signals for the circular CNNs
_CD_DS = D[:6, :4]  # boolean (6, 4) patterns for solve_circular_relu
_CD_DP = cnn.sample_patch_patterns(_CD_PT, 4, seed=0)  # boolean (24, P) patch patterns
_CD_P = _CD_DP.shape[1]
_CD_TL = cnn.TwoLayerCNN(np.ones((2, 4)), np.ones(2))
_CD_CNET = cnn.CircularReLUNet(np.ones((2, 4)) / 2, np.ones((2, 4)), np.ones(2))
_CD_Y2 = np.c_[Y, -Y + 0.3 * Z[:, 0]]  # (12, 2) vector targets
_CD_XW = deep.whiten_columns(X)  # X^T X = I
_CD_LAB = np.arange(12) % 3
_CD_H = _CD_RNG.standard_normal((12, 4))
_CD_NAN = float("nan")
_CD_A, _CD_B = np.array([1.0, -0.5, 2.0, -1.0]), np.array([1.0, 2.0])  # X = a b^T for relu3_rank_one_values
_CD_Y4 = np.array([1.0, 0.5, -1.0, 0.3])


@functools.cache
def _cd_cnn_result():
    return cnn.solve_cnn_relu(_CD_PT, _CD_Y6, BETA, _CD_DP)


@functools.cache
def _cd_circular_result():
    return cnn.solve_circular_relu(_CD_S, _CD_Y6, BETA, _CD_DS)


def _cd_seeds_empty():
    return cnn.train_circular_relu(_CD_S, _CD_Y6, BETA, 2, seeds=[], epochs=2)

__all__ = [name for name in list(globals()) if not name.startswith("__")]  # private fixtures too

"""Tiny seeded fixtures of the bad-input rows of attention, wgan and optimal_set.

Each is cheap to build; some are built on first use.
"""

from __future__ import annotations

import functools

import numpy as np
from bad_input_data import BETA, NAN_X, NET, D, X, Y, Z

from cvxnn_core import attention, optimal_set, wgan
from cvxnn_core._cvx import SolverError
from cvxnn_core.recovery import TwoLayerNet

# ---- fixtures (all tiny, < 50 ms to build) -----------------------------------------------------------------------
_AWO_RNG = np.random.default_rng(1)
_AWO_XS = _AWO_RNG.standard_normal((6, 3, 2))  # tokens: n = 6 samples, s = 3 tokens, d = 2 features
_AWO_W1 = _AWO_RNG.standard_normal((2, 2, 2))  # 2 heads, (m, d, d)
_AWO_W2 = _AWO_RNG.standard_normal((2, 2, 1))  # (m, d, c), c = 1
_AWO_T = _AWO_RNG.standard_normal((2, 3, 3))  # Mixer (m, s, s)
_AWO_W = _AWO_RNG.standard_normal((2, 2, 1))  # Mixer (m, d, c)
_AWO_MAP = attention.linear_attention_map(_AWO_XS, 1)  # (18, 8): one (4, 2) block
_AWO_MIXMAP = attention.mixer_map(_AWO_XS, 1)  # (18, 18): one (9, 2) block
_AWO_Y = attention.attention_forward(_AWO_XS, _AWO_W1, _AWO_W2).ravel() + 0.1 * _AWO_RNG.standard_normal(18)
_AWO_YINT = _AWO_MAP @ _AWO_RNG.standard_normal(8)  # a target the map fits exactly (optimum 0 at beta = 0)
_AWO_LABELS = np.array([[0, 0, 1, 1]])
_AWO_SAME = (_AWO_LABELS[:, :, None] == _AWO_LABELS[:, None, :]).astype(float)
_AWO_F = np.random.default_rng(2).standard_normal((12, 3))  # ridge features
_AWO_YC = np.random.default_rng(3).standard_normal((12, 2))  # ridge targets (n, c)
_AWO_IMAGES = np.random.default_rng(4).random((10, 16))  # 4x4 images
_AWO_XC = Z - Z.mean(axis=0)  # centred data (12, 2) for the WGAN
_AWO_U = np.random.default_rng(5).standard_normal((4, 2))
_AWO_U /= np.linalg.norm(_AWO_U, axis=1, keepdims=True)  # S = 4 unit directions
_AWO_ZL = np.random.default_rng(6).standard_normal((8, 3))  # latent batch (m, k) = (8, 3)
_AWO_W0 = np.random.default_rng(7).standard_normal((3, 2))  # generator (k, d) = (3, 2)
_AWO_PAT = _AWO_ZL @ _AWO_W0 @ _AWO_U.T >= 0  # (8, 4) boolean
_AWO_NET_I = TwoLayerNet(np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.2]]), np.array([1.0, -0.5]))
_AWO_Y_I = _AWO_NET_I.predict(X)  # targets the network interpolates


@functools.cache
def _awo_sol(beta: float = 1.0) -> attention.BlockNuclearResult:
    return attention.solve_block_nuclear([_AWO_MAP], _AWO_Y, beta, [(4, 2)])


@functools.cache
def _awo_optset() -> optimal_set.OptimalSet:
    return optimal_set.optimal_set(X, Y, BETA, D)  # 6 tight blocks


def _awo_T() -> int:
    return _awo_optset().features.shape[1]


def _awo_t(arrays):
    import torch

    return [torch.as_tensor(a) for a in arrays]


def _awo_fwd():
    return attention.attention_torch_forward(_AWO_XS)


_AWO_SH = ((2, 2), (2, 1))
_AWO_BIG = np.zeros((200, 16, 48))  # the user's token array: never pass it to a *_map before the size check exists

_A, _W, _O = "attention", "wgan", "optimal_set"

__all__ = [name for name in list(globals()) if not name.startswith("__")]  # private fixtures too

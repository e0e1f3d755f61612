"""Tiny seeded fixtures of the bad-input rows of three_layer.

Each is cheap to build; some are built on first use.
"""

from __future__ import annotations

import numpy as np
from bad_input_data import *  # noqa: F403

from cvxnn_core import patterns as _tl_patterns
from cvxnn_core import three_layer as tl

# --- fixtures (all together ~0.1 s; no torch at import)
_TL_D1 = D[:, :3]  # 3 level-1 patterns of X (12, 3)
_TL_D2 = tl.sample_second_level(X, 3, seed=0)  # 3 level-2 patterns
_TL_GROUPS = tl.wide_groups(_TL_D1, _TL_D2)  # 6 groups, 36 blocks
_TL_GROUPS5 = tl.wide_groups(D[:5, :2], D[:5, :2])  # groups over 5 samples (another X)
_TL_RESULT = tl.solve_three_layer(X, Y, BETA, _TL_D1, _TL_GROUPS)
_TL_NET = tl.recover_network(_TL_RESULT)  # ParallelThreeLayerNet on 3 inputs
_TL_LABELS = np.arange(N) % 3
_TL_OVR = tl.fit_one_vs_rest(X, _TL_LABELS, BETA, _TL_D1, _TL_GROUPS, model="frobenius")
_TL_X6 = np.column_stack([np.linspace(-1, 1, 6), np.ones(6)])  # 1-D inputs with a bias, n = 6
_TL_Y6 = np.sin(3 * _TL_X6[:, 0])
_TL_D1_6 = _tl_patterns.enumerate_patterns(_TL_X6)  # P1 = 11


def _tl_runs():
    """Two (K, m1, TrainResult) triples (torch, ~1 s the first time): only called inside rows."""
    return tl.train_three_layer_sweep(X, Y, BETA, shapes=[(2, 2)], seeds=[0, 1], optimizers={"adam": 1e-2},
                                      epochs=2)


def _tl_nan_net():
    return tl.ParallelThreeLayerNet([np.full((2, 3), np.nan)], [np.ones(2)], np.ones(1))


_NET_TYPE = r"net must be a (three_layer\.)?ParallelThreeLayerNet"
_GROUPS_TYPE = r"groups must be a (three_layer\.)?Groups"

__all__ = [name for name in list(globals()) if not name.startswith("__")]  # private fixtures too

"""Tiny seeded fixtures of the bad-input rows of plotting.

Each is cheap to build; some are built on first use.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from bad_input_data import *  # noqa: E402,F403

from cvxnn_core import plotting  # noqa: E402
from cvxnn_core.recovery import TwoLayerNet  # noqa: E402

# ---- plotting fixtures: tiny valid tidy frames, one per figure helper (built in well under 1 s) ----

_PL_DF = pd.DataFrame


def _pl_mesh(k=3):
    u = np.linspace(-1, 1, k)
    x1, x2 = np.meshgrid(u, u)
    return x1.ravel(), x2.ravel()


_PL_X1, _PL_X2 = _pl_mesh()
_PL_CURVES = _PL_DF({"epoch": [1, 2, 3, 1, 2, 3], "objective": [3, 2, 1, 3, 2.5, 1.5], "seed": [0, 0, 0, 1, 1, 1],
                     "optimizer": "adam", "width": 4})
_PL_GRID = _PL_DF({"dataset": "a", "model": "m", "x1": _PL_X1, "x2": _PL_X2, "score": _PL_X1 - _PL_X2})
_PL_POINTS = _PL_DF({"dataset": "a", "x1": [0.5, -0.5], "x2": [-0.5, 0.5], "label": [1.0, -1.0]})
_PL_IMAGES = {"r": [("a", np.arange(64.0) - 10)]}
_PL_TRACES = _PL_DF({"time": [0.1, 0.2, 0.4, 1.0], "rel_gap": [1e-1, 1e-3, 1e-7, 1e-8], "problem": "p",
                     "method": ["gd", "gd", "gd", "ipm"]})
_PL_PROFILE = _PL_DF({"time": [0.1, 1.0, 0.2, 2.0], "fraction": [0.5, 1.0, 0.2, 0.8], "accuracy": "1e-3",
                      "method": ["a", "a", "b", "b"]})
_PL_SCALING = _PL_DF({"n": [10, 20, 10, 20], "wall_time": [0.1, 0.3, 0.2, 0.5], "method": ["a", "a", "b", "b"],
                      "failed": [False, False, False, True]})
_PL_PATH = _PL_DF({"beta_frac": [1.0, 0.1, 1.0, 0.1], "test": [0.5, 0.8, 0.6, 0.7], "method": ["a", "a", "b", "b"],
                   "dataset": "d"})


def _pl_ellipsoid():
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    U = np.stack([np.cos(t), np.sin(t)], axis=1)
    X = np.eye(2)
    Q = np.maximum(U @ X.T, 0.0)
    net = TwoLayerNet(W1=np.eye(2), w2=np.array([1.0, -1.0]))
    return {0: (X, Q, np.array([1.0, 0.5]), net)}, {0: np.array([1.0, -1.0])}


_PL_WTABLE = _PL_DF({"beta": [0.1, 0.5], "solver": [1.0, 0.8], "Adam (best)": [1.01, 0.81],
                     "solver vs closed form": [1e-9, 0.0], "Adam excess": [1e-2, 1e-3]})
_PL_WLINE = _PL_DF({"beta": [0.0, 0.5, 1.0], "closed form": [1.0, 0.8, 0.5]})
_PL_CFTABLE = _PL_DF({"beta": [0.1, 1.0], "closed form": [1.0, 0.5], "solver": [1.0, 0.5],
                      "relative difference": [1e-9, 0.0], "adam": [1.01, 0.52]})
_PL_SPL = _PL_DF({"x": [-1.0, 0.0, 1.0] * 4 + [-1.0, 0.0, 1.0],
                  "f": [0.0, 1.0, 0.0] * 5,
                  "model": ["data"] * 3 + ["convex (interior point)"] * 3 + ["ramp Lasso"] * 3 + ["trained"] * 6,
                  "optimizer": ["sgd"] * 12 + ["adam"] * 3, "width": [4] * 12 + [8] * 3, "seed": 0})
_PL_KINKS_XF = _PL_DF({"x": [0.0], "f": [1.0]})
_PL_LIMIT = _PL_DF({"beta": [1e-3, 1e-2, 1e-1], "ramp network": [1e-3, 1e-2, 1e-1],
                    "interior-point network": [2e-3, 2e-2, 2e-1]})
_PL_MNCURVES = _PL_DF({"x": [-1.0, 0.0, 1.0] * 3, "f": [0.0, 1.0, 0.0] * 3,
                       "model": ["data"] * 3 + ["min-norm interpolating spline"] * 3 + ["beta = 0.1"] * 3})
_PL_KCURVES = _PL_DF({"x": [-1.0, 0.0, 1.0] * 3, "f": [0.0, 1.0, 0.0] * 3,
                      "model": ["data"] * 3 + ["free"] * 3 + ["penalised"] * 3})
_PL_KKINKS = _PL_DF({"beta": [0.1, 0.1, 0.2], "bias": ["free", "penalised", "free"], "kink": [0.0, 0.1, 0.0]})
_PL_KSTYLES = {"free": {"color": "C1", "label": "free bias", "marker": "o"},
               "penalised": {"color": "C2", "label": "penalised bias", "marker": "x"}}
_PL_CLOSED = _PL_DF({"beta": [0.1, 1.0, 2.0], "rank": [2, 1, 0], "sv 1": [1.0, 0.5, 0.0], "sv 2": [0.5, 0.0, 0.0]})
_PL_TRAINED = _PL_DF({"beta": [0.1, 1.0], "trained rank": [2, 1], "trained sv 1": [1.0, 0.5],
                      "trained sv 2": [0.5, 0.0]})
_PL_HISTORY = _PL_DF({"epoch": [0, 10, 100], "nc1": [1.0, 0.1, 0.01], "nc3": [1.0, 0.2, 0.02],
                      "nc2_norm_spread": [0.5, 0.1, 0.01], "nc2_cos_std": [0.5, 0.1, 0.01],
                      "nc2_cos_max_dev": [0.5, 0.1, 0.01], "nc4": [0.5, 0.9, 1.0], "train_accuracy": [0.5, 0.9, 1.0]})
_PL_COSINES = _PL_DF({"stage": ["init", "init", "end", "end"], "cosine": [0.1, -0.2, -0.5, -0.49]})
_PL_LAZY = _PL_DF({"width": [10, 10, 100, 100], "seed": [0, 1, 0, 1], "to NTK predictor": [0.1, 0.12, 0.03, 0.04],
                   "to convex network": [0.5, 0.5, 0.4, 0.4], "relative movement": [0.1, 0.1, 0.03, 0.03]})
_PL_RICH = _PL_DF({"to convex network": [0.01, 0.02]})
_PL_SURF = _PL_DF({"x1": _PL_X1, "x2": _PL_X2, "a": _PL_X1 * _PL_X2})
_PL_SPOINTS = _PL_DF({"x1": [0.5, -0.5], "x2": [-0.5, 0.5], "y": [1.0, -1.0]})
_PL_ACC = _PL_DF({"data set": "d", "model": ["a", "a", "b", "b"], "split": ["train", "test"] * 2,
                  "accuracy": [0.9, 0.85, 0.95, 0.9]})
_PL_SPECTRA = _PL_DF({"data": "d1", "method": ["m1"] * 4 + ["m2"] * 4, "frequency": [0, 1, 2, 3] * 2,
                      "|Fg|": [1.0, 0.5, 0.2, 0.1] * 2})
_PL_OBJ = _PL_DF({"problem": "p", "width": [2, 2, 4, 4], "optimizer": ["sgd", "adam"] * 2,
                  "objective": [1.2, 1.1, 1.05, 1.0], "optimum": 1.0})
_PL_TT = _PL_DF({"model": ["a", "b"], "seed": [0, 0], "train": [0.9, 0.95], "test": [0.85, 0.9]})
_PL_CONF = _PL_DF([[5, 1], [2, 4]])
_PL_FILT = _PL_DF({"model": "m", "objective": 1.0, "strength": [1.0, 0.5], "sign": [1, -1],
                   "best cosine to planted": [0.9, 0.8], "u0": [1.0, 0.0], "u1": [0.0, 1.0], "u2": [0.5, 0.5],
                   "u3": [0.1, 0.2]})
_PL_PLANTED = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 1.0, 0.0]])
_PL_DEPTH = _PL_DF({"L": [2, 3, 2, 3], "network": ["closed form"] * 2 + ["trained"] * 2, "gap": [0.0, 0.1, 0.0, 0.12]})
_PL_SVS = _PL_DF({"L": 2, "beta": [0.1, 1.0, 0.1, 1.0, 0.1], "index": [1, 1, 2, 2, 1],
                  "singular value": [1.0, 0.5, 0.4, 0.0, 0.98],
                  "source": ["closed form"] * 4 + ["trained"]})
_PL_OSCURVES = _PL_DF({"network": ["n1"] * 3 + ["n2"] * 3, "x": [-1.0, 0.0, 1.0] * 2, "f": [0.0, 1.0, 0.0] * 2})
_PL_OSPOINTS = _PL_DF({"x": [-1.0, 0.0, 1.0], "y": [0.0, 1.0, 0.0]})
_PL_OSWEIGHTS = _PL_DF({"network": ["n1", "n1", "n2", "n2"], "neuron": ["a", "b", "a", "b"],
                        "alpha": [1.0, 0.0, 0.5, 0.5]})
_PL_STAT = _PL_DF({"width": [2, 2, 4], "relative excess": [0.1, 0.0, 1e-9],
                   "at subsampled optimum": [True, False, True]})
_PL_RANKS = _PL_DF({"block": ["b"] * 3, "beta / beta_max": [0.01, 0.1, 1.0], "rank": [3, 2, 0]})
_PL_CLUST = _PL_DF({"source": ["a", "a", "b"], "balanced accuracy": [0.9, 0.8, 0.5]})
_PL_HEADS = _PL_DF({"split": [0, 1, 0, 1], "head": ["h1", "h1", "h2", "h2"], "test accuracy": [0.8, 0.85, 0.9, 0.95]})
_PL_EIG = _PL_DF({"beta": ["data"] * 3 + ["0.1"] * 3, "index": [1, 2, 3] * 2,
                  "eigenvalue": [3.0, 1.0, 0.0, 2.0, 0.5, 0.0]})
_PL_GDA = _PL_DF({"run": ["ReLU a"] * 3 + ["lin b"] * 3, "step": [1, 10, 100] * 2,
                  "generator value": [1.0, 0.8, 0.7] * 2, "advantage": [0.5, 0.1, 0.01] * 2})
_PL_GDAREF = {"ReLU": (0.7, 0.1), "linear": (0.6, 0.1)}
_PL_COUNTS = _PL_DF({"n": [2, 3, 4] * 2, "quantity": ["a"] * 3 + ["b"] * 3, "count": [2, 4, 8, 3, 9, 27]})
_PL_MCGRID = _PL_DF({"model": "m", "x1": _PL_X1, "x2": _PL_X2,
                     "label": (_PL_X1 > 0).astype(int) + (_PL_X2 > 0).astype(int)})
_PL_MCPOINTS = _PL_DF({"x1": [0.5, -0.5, 0.9], "x2": [-0.5, 0.5, 0.9], "label": [1, 0, 2]})
_PL_LOWRANK = _PL_DF({"n": [4, 8, 4, 8], "rank": [1, 1, 2, 2], "ratio": [1.1, 1.2, 1.0, 1.01],
                      "patterns": [4, 8, 6, 12], "time": [0.1, 0.3, 0.2, 0.5]})
_PL_BLOCKS = _PL_DF({"block": [0, 0, 1, 1], "frequency": [0, 1, 0, 1], "magnitude": [1.0, 0.5, 0.7, 0.2],
                     "program": "p"})
_PL_TIMING = _PL_DF({"sweep": ["n", "n", "rank", "rank"], "method": "m", "n": [10, 20, 10, 10], "rank": [2, 2, 1, 2],
                     "patterns": [20, 40, 5, 20], "solve time (s)": [0.1, 0.4, 0.05, 0.1]})
_PL_COST = _PL_DF({"sweep": ["n", "n", "h", "h"], "n": [4, 8, 4, 4], "h": [2, 2, 2, 3], "patterns": [4, 8, 4, 6],
                   "solve_time": [0.1, 0.2, 0.1, 0.3]})
_PL_BOUNDS = _PL_DF({"method": ["gd"] * 3 + ["cutting plane: upper bound"] * 3, "seed": 0, "time": [0.1, 1.0, 10.0] * 2,
                     "objective": [2.0, 1.5, 1.1, 3.0, 1.5, 1.0],
                     "distance to optimum": [1.0, 0.5, 0.1, 2.0, 0.5, 1e-3]})


_PL_CASES, _PL_TARGETS = _pl_ellipsoid()
_PL_Y2 = np.array([1.0, -1.0])


def _pl_drop(df, col):
    return df.drop(columns=[col])


def _pl_with(df, **kw):
    return df.assign(**kw)


def _pl_empty(df):
    return df.iloc[:0]


def _pl_fig():
    return plt.subplots()[0]


def _pl_case(**kw):
    """The ellipsoid instance of seed 0 with some of (X, Q, lam, net) replaced."""
    X, Q, lam, net = _PL_CASES[0]
    parts = {"X": X, "Q": Q, "lam": lam, "net": net, **kw}
    return {0: (parts["X"], parts["Q"], parts["lam"], parts["net"])}


_PL = "plotting."
_MISSING = r"lacks column\(s\) "

__all__ = [name for name in list(globals()) if not name.startswith("__")]  # private fixtures too

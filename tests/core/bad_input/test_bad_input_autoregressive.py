"""Bad input gets a clear error: convex autoregressive models and the binarised digits.

Rows as described in ``bad_input_data``."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from cvxnn_core import autoregressive as ar
from cvxnn_core import datasets, patterns, plotting

_IMAGES = (np.random.default_rng(0).random((3, 4, 4)) > 0.5).astype(int)
_C, _T = ar.causal_contexts(_IMAGES, ["left", "up"])
_TABLE = ar.context_table(_C, _T)
_D = patterns.enumerate_patterns(_TABLE.U)


@functools.cache
def _fit() -> ar.AutoregressiveFit:
    return ar.solve_autoregressive(_TABLE, 0.5, _D, relaxation="gated")


CASES = [
    ("autoregressive.causal_contexts: images 2-D",
     lambda: ar.causal_contexts(_IMAGES[0]), ValueError, r"images must have shape \(N, height, width\)"),
    ("autoregressive.causal_contexts: images not binary",
     lambda: ar.causal_contexts(_IMAGES * 16), ValueError, r"images must be binary"),
    ("autoregressive.causal_contexts: unknown neighbour",
     lambda: ar.causal_contexts(_IMAGES, ["left", "down"]), ValueError, r"neighbours must be distinct names"),
    ("autoregressive.causal_contexts: neighbour twice",
     lambda: ar.causal_contexts(_IMAGES, ["up", "up"]), ValueError, r"neighbours must be distinct names"),
    ("autoregressive.causal_contexts: neighbours a string",
     lambda: ar.causal_contexts(_IMAGES, "left"), ValueError, r"neighbours must be distinct names"),
    ("autoregressive.context_table: targets wrong length",
     lambda: ar.context_table(_C, _T[:5]), ValueError, r"targets must have shape \(48,\)"),
    ("autoregressive.context_table: contexts not binary",
     lambda: ar.context_table(_C + 0.5, _T), ValueError, r"contexts and targets must be binary"),
    ("autoregressive.context_table: too many context bits",
     lambda: ar.context_table(np.zeros((4, 13)), np.zeros(4)), ValueError, r"1 <= r <= 12"),
    ("autoregressive.ContextTable.index: wrong width",
     lambda: _TABLE.index(np.zeros((2, 3))), ValueError, r"contexts must be a binary array of shape \(m, 2\)"),
    ("autoregressive.solve_autoregressive: table not a ContextTable",
     lambda: ar.solve_autoregressive((_C, _T), 0.5, _D), TypeError, r"table must be an autoregressive.ContextTable"),
    ("autoregressive.solve_autoregressive: beta -1",
     lambda: ar.solve_autoregressive(_TABLE, -1.0, _D), ValueError, r"beta must be a finite number >= 0"),
    ("autoregressive.solve_autoregressive: unknown relaxation",
     lambda: ar.solve_autoregressive(_TABLE, 0.5, _D, relaxation="dropped"), ValueError,
     r"relaxation must be one of \('exact', 'gated', 'hinge'\)"),
    ("autoregressive.solve_autoregressive: rho 0",
     lambda: ar.solve_autoregressive(_TABLE, 0.5, _D, relaxation="hinge", rho=0.0), ValueError,
     r"rho must be a positive number"),
    ("autoregressive.solve_autoregressive: patterns over the pixels, not the contexts",
     lambda: ar.solve_autoregressive(_TABLE, 0.5, np.ones((48, 3), dtype=bool)), ValueError,
     r"patterns must have shape \(n, P\) = \(4, P\)"),
    ("autoregressive.AutoregressiveFit.network: relaxed fit",
     lambda: _fit().network(), ValueError, r"network\(\) needs the exact program"),
    ("autoregressive.AutoregressiveFit.logits: non-binary contexts",
     lambda: _fit().logits(np.full((2, 2), 0.5)), ValueError, r"contexts must be a binary array"),
    ("autoregressive.image_nll: logits wrong length",
     lambda: ar.image_nll(np.zeros(5), _IMAGES), ValueError, r"logits must be a finite array of shape \(48,\)"),
    ("autoregressive.image_nll: logits NaN",
     lambda: ar.image_nll(np.full(48, np.nan), _IMAGES), ValueError, r"logits must be a finite array"),
    ("datasets.load_binary_digits: n_train all digits",
     lambda: datasets.load_binary_digits(1797), ValueError, r"n_train must leave test images"),
    ("datasets.load_binary_digits: n_train 0",
     lambda: datasets.load_binary_digits(0), ValueError, r"n_train must be a positive integer"),
    ("datasets.load_binary_digits: threshold 16",
     lambda: datasets.load_binary_digits(10, threshold=16), ValueError, r"threshold must be an integer in \[0, 15\]"),
    ("datasets.load_binary_digits: seed -1",
     lambda: datasets.load_binary_digits(10, seed=-1), ValueError, r"seed must be a non-negative integer"),
    ("plotting.nll_time_plot: time 0 on a log axis",
     lambda: plotting.nll_time_plot(pd.DataFrame({"model": ["a"], "time (s)": [0.0], "test NLL": [3.0]})),
     ValueError, r"summary\['time \(s\)'\] must be > 0"),
    ("plotting.nll_time_plot: missing column",
     lambda: plotting.nll_time_plot(pd.DataFrame({"model": ["a"], "time (s)": [1.0]})), ValueError,
     r"summary lacks column\(s\) \['test NLL'\]"),
]


@pytest.mark.parametrize(("case", "call", "exc", "match"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_raises_a_clear_error(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()

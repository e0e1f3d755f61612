"""Bad input gets a clear error: pruning, selections, the optimal set's selections and their figures.

Rows as described in ``bad_input_data``."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest
from bad_input_data import BETA, NAN_X, NET, D, X, Y, Z

from cvxnn_core import optimal_set, plotting, programs, pruning, selections
from cvxnn_core.recovery import TwoLayerNet


@functools.cache
def _optset() -> optimal_set.OptimalSet:
    return optimal_set.optimal_set(X, Y, BETA, D)


@functools.cache
def _result() -> programs.ConvexResult:
    return programs.solve_relu(X, Y, BETA, D)


_DEAD = TwoLayerNet(np.zeros((2, 3)), np.ones(2))
_FREE = TwoLayerNet(NET.W1, NET.w2, free_bias=True)
_LABELS = np.sign(Y)
_BARS = pd.DataFrame({"network": ["a", "a"], "stage": ["before", "after"], "width": [4, 2], "rank": [2, 2]})
_ACC = pd.DataFrame({"data set": ["pima", "pima"], "rule": ["certified", "certified"],
                     "criterion": ["min_l2", "min_error_test"], "test accuracy": [0.7, 0.7]})

CASES = [
    ("pruning.neuron_masses: net not a TwoLayerNet",
     lambda: pruning.neuron_masses(X, (1, 2)), TypeError, r"net must be a recovery.TwoLayerNet"),
    ("pruning.neuron_masses: X NaN",
     lambda: pruning.neuron_masses(NAN_X, NET), ValueError, r"X contains NaN"),
    ("pruning.neuron_masses: net wrong input dim",
     lambda: pruning.neuron_masses(Z, NET), ValueError, r"net expects 3 input columns, X has 2"),
    ("pruning.prune_network: free_bias net",
     lambda: pruning.prune_network(X, _FREE), ValueError, r"free_bias"),
    ("pruning.prune_network: dead network",
     lambda: pruning.prune_network(X, _DEAD), ValueError, r"every neuron of net is dead"),
    ("pruning.prune_network: rtol 0",
     lambda: pruning.prune_network(X, NET, rtol=0.0), ValueError, r"rtol must be a positive number"),
    ("pruning.prune_network: rtol too large",
     lambda: pruning.prune_network(X, NET, rtol=0.5), ValueError, r"rtol must be below 1e-2"),
    ("pruning.magnitude_prune: width 0",
     lambda: pruning.magnitude_prune(X, NET, 0), ValueError, r"width must be an integer in \[1, 4\]"),
    ("pruning.magnitude_prune: width above the network's",
     lambda: pruning.magnitude_prune(X, NET, 9), ValueError, r"width must be an integer in \[1, 4\]"),
    ("pruning.magnitude_prune: width float",
     lambda: pruning.magnitude_prune(X, NET, 2.5), ValueError, r"width must be an integer"),
    ("pruning.removal_increase: beta 0",
     lambda: pruning.removal_increase(X, Y, 0.0, NET), ValueError, r"removal_increase needs beta > 0"),
    ("pruning.removal_increase: beta -1",
     lambda: pruning.removal_increase(X, Y, -1.0, NET), ValueError, r"beta must be a finite number >= 0"),
    ("pruning.removal_increase: y wrong length",
     lambda: pruning.removal_increase(X, Y[:5], BETA, NET), ValueError, r"y has 5 rows but X has 12"),
    ("pruning.removal_increase: dead network",
     lambda: pruning.removal_increase(X, Y, BETA, _DEAD), ValueError, r"every neuron of net is dead"),
    ("optimal_set.OptimalSet.select: unknown criterion",
     lambda: _optset().select("max_l1"), ValueError, r"criterion must be one of \('min_l2', 'min_error'\)"),
    ("optimal_set.OptimalSet.select: min_error without data",
     lambda: _optset().select("min_error"), ValueError, r"'min_error' needs X_eval and y_eval"),
    ("optimal_set.OptimalSet.select: min_l2 with data",
     lambda: _optset().select("min_l2", X, Y), ValueError, r"'min_l2' takes no X_eval"),
    ("optimal_set.OptimalSet.select: y_eval wrong length",
     lambda: _optset().select("min_error", X, Y[:4]), ValueError, r"y_eval has 4 rows but X has 12"),
    ("optimal_set.OptimalSet.eval_features: X_eval wrong width",
     lambda: _optset().eval_features(Z), ValueError, r"X_eval has 2 columns, the training X 3"),
    ("optimal_set.OptimalSet.eval_features: X_eval NaN",
     lambda: _optset().eval_features(NAN_X), ValueError, r"X_eval contains NaN"),
    ("optimal_set.OptimalSet.membership_residual: net not a TwoLayerNet",
     lambda: _optset().membership_residual("net"), TypeError, r"net must be a recovery.TwoLayerNet"),
    ("optimal_set.OptimalSet.membership_residual: net wrong input dim",
     lambda: _optset().membership_residual(TwoLayerNet(np.ones((2, 2)), np.ones(2))), ValueError,
     r"net expects 2 input columns, X has 3"),
    ("programs.solve_relu: zero_blocks not a bool",
     lambda: programs.solve_relu(X, Y, BETA, D, zero_blocks="no"), ValueError, r"zero_blocks must be True or False"),
    ("programs.solve_relu: zero_blocks False with a first-order solver",
     lambda: programs.solve_relu(X, Y, BETA, D, solver="active_set", zero_blocks=False), ValueError,
     r"False only with a cvxpy solver"),
    ("selections.scaled_support: result not a ConvexResult",
     lambda: selections.scaled_support("result", X, "min_l2"), TypeError, r"result must be a programs.ConvexResult"),
    ("selections.scaled_support: X of other data",
     lambda: selections.scaled_support(_result(), X[:6], "min_l2"), ValueError, r"solved on"),
    ("selections.scaled_support: unknown criterion",
     lambda: selections.scaled_support(_result(), X, "max_l1"), ValueError, r"criterion must be one of"),
    ("selections.scaled_support: min_error without data",
     lambda: selections.scaled_support(_result(), X, "min_error"), ValueError, r"'min_error' needs X_eval and y_eval"),
    ("selections.scaled_support: min_l2 with data",
     lambda: selections.scaled_support(_result(), X, "min_l2", X, Y), ValueError, r"takes no X_eval"),
    ("selections.scaled_support: X_eval wrong width",
     lambda: selections.scaled_support(_result(), X, "min_error", Z, Y), ValueError, r"X_eval has 2 columns, X 3"),
    ("selections.scaled_support: rtol 1",
     lambda: selections.scaled_support(_result(), X, "min_l2", rtol=1.0), ValueError, r"rtol must be in \(0, 1\)"),
    ("selections.scaled_support: gated result",
     lambda: selections.scaled_support(programs.solve_gated_relu(X, Y, BETA, D), X, "min_l2"), ValueError,
     r"needs a scalar-output ReLU result"),
    ("selections.compare_selections: X_val wrong width",
     lambda: selections.compare_selections(X, _LABELS, Z, _LABELS, X, _LABELS, BETA, D), ValueError,
     r"X_val has 2 columns, X 3"),
    ("selections.compare_selections: y_test wrong length",
     lambda: selections.compare_selections(X, _LABELS, X, _LABELS, X, _LABELS[:3], BETA, D), ValueError,
     r"y has 3 rows but X has 12"),
    ("selections.compare_selections: beta -1",
     lambda: selections.compare_selections(X, _LABELS, X, _LABELS, X, _LABELS, -1.0, D), ValueError,
     r"beta must be a finite number >= 0"),
    ("selections.compare_selections: patterns float",
     lambda: selections.compare_selections(X, _LABELS, X, _LABELS, X, _LABELS, BETA, D.astype(float)), TypeError,
     r"patterns must be a boolean array"),
    ("plotting.pruning_plot: not a DataFrame",
     lambda: plotting.pruning_plot({"network": ["a"]}), TypeError, r"table must be a pandas DataFrame"),
    ("plotting.pruning_plot: missing width",
     lambda: plotting.pruning_plot(_BARS.drop(columns="width")), ValueError, r"table lacks column\(s\) \['width'\]"),
    ("plotting.pruning_plot: rank NaN",
     lambda: plotting.pruning_plot(_BARS.assign(rank=np.nan)), ValueError, r"table\['rank'\] contains NaN"),
    ("plotting.selection_accuracy_plot: accuracy above 1",
     lambda: plotting.selection_accuracy_plot(_ACC.assign(**{"test accuracy": 70.0})), ValueError,
     r"table\['test accuracy'\] must lie in \[0, 1\]"),
    ("plotting.selection_accuracy_plot: empty",
     lambda: plotting.selection_accuracy_plot(_ACC.iloc[:0]), ValueError, r"table is empty"),
]


@pytest.mark.parametrize(("case", "call", "exc", "match"), CASES, ids=[case[0] for case in CASES])
def test_bad_input_raises_a_clear_error(case, call, exc, match):
    with pytest.raises(exc, match=match):
        call()

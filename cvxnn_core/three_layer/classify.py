"""One-vs-rest classification with globally optimised two- and three-layer networks (the spiral comparison).

One scalar network per class is fitted to targets ``+1`` (the class) and ``-1`` (the rest) by its convex program;
the predicted class is the argmax of the ``C`` outputs. The three models of the path-regularisation figure:

* ``"two_layer"``: two-layer weight-decay program over the level-1 patterns (:func:`cvxnn_core.programs.solve_relu`);
* ``"frobenius"``: the three-layer weight-decay program (``||W1_k||_F <= 1``), group l1 over neurons;
* ``"path"``: the three-layer square-root path-norm program, group l2 over sub-networks.

With sampled groups the three-layer programs are restrictions (upper bounds attained by the recovered networks);
given the same groups, ``"frobenius"`` and ``"path"`` differ only in the norm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from cvxnn_core._validation import check_beta, check_choice, check_class_labels, check_patterns, check_X
from cvxnn_core.three_layer.groups import Groups
from cvxnn_core.three_layer.program import recover_network, solve_three_layer

MODELS = ("two_layer", "frobenius", "path")


@dataclass(frozen=True)
class OneVsRest:
    """Fitted one-vs-rest model: ``model``, ``nets`` (one per class: a :class:`~cvxnn_core.recovery.TwoLayerNet` or a
    :class:`~cvxnn_core.three_layer.ParallelThreeLayerNet`), ``objective`` (sum of the per-class optima),
    ``active`` (active blocks or groups per class)."""

    model: str
    nets: list[Any]
    objective: float
    active: list[int]

    def __post_init__(self) -> None:
        check_choice(self.model, "model", MODELS)
        if not isinstance(self.nets, list | tuple) or len(self.nets) < 2:
            raise ValueError(f"nets must hold one network per class (C >= 2), got {self.nets!r:.80}")

    def scores(self, X: np.ndarray) -> np.ndarray:
        """The ``C`` network outputs, ``(n, C)``."""
        X = check_X(X)
        return np.stack([net.predict(X) for net in self.nets], axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class (argmax of the scores), ``(n,)``."""
        return np.argmax(self.scores(X), axis=1)

    def accuracy(self, X: np.ndarray, labels: np.ndarray) -> float:
        """Fraction of correctly classified rows; ``labels`` are class indices ``0..C-1`` ``(n,)``."""
        X = check_X(X)
        arr = np.asarray(labels)
        if arr.ndim != 1 or arr.shape[0] != X.shape[0]:
            raise ValueError(f"labels must have shape (n,) = ({X.shape[0]},), got shape {arr.shape}")
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"labels must be integer class indices 0..C-1, got dtype {arr.dtype}")
        C = len(self.nets)
        if arr.min() < 0 or arr.max() >= C:
            raise ValueError(f"labels must be class indices in 0..{C - 1} (the model has C = {C} classes), got "
                             f"{np.unique(arr)[:5].tolist()}")
        return float(np.mean(self.predict(X) == arr))


def fit_one_vs_rest(
    X: np.ndarray,
    labels: np.ndarray,
    beta: float,
    D1: np.ndarray,
    groups: Groups | None,
    *,
    model: str,
    solver: str | None = None,
) -> OneVsRest:
    """Fit one network per class with the convex program of ``model`` (module docstring); ``groups`` is ignored by
    ``"two_layer"``. Labels are integers ``0..C-1``."""
    from cvxnn_core.programs import solve_relu
    from cvxnn_core.recovery import relu_network

    X = check_X(X)
    labels, C = check_class_labels(labels, X.shape[0])
    beta = check_beta(beta)
    D1 = check_patterns(D1, X.shape[0], "D1")
    model = check_choice(model, "model", MODELS)
    if model != "two_layer" and groups is None:
        raise ValueError(
            f"model={model!r} needs groups (e.g. concat_groups(sample_groups(...), one_neuron_groups(D1)))"
        )
    nets, total, active = [], 0.0, []
    for c in range(C):
        y = np.where(labels == c, 1.0, -1.0)
        if model == "two_layer":
            res = solve_relu(X, y, beta, D1, solver=solver)
            nets.append(relu_network(res))
            total += res.objective
            norms = np.concatenate([np.linalg.norm(res.V, axis=1), np.linalg.norm(res.W, axis=1)])
            active.append(int(np.sum(norms > 1e-6 * norms.max())))
        else:
            res = solve_three_layer(X, y, beta, D1, groups, regularizer=model, solver=solver)
            nets.append(recover_network(res))
            total += res.objective
            active.append(res.active_groups())
    return OneVsRest(model, nets, float(total), active)

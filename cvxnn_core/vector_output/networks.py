"""Vector-output two-layer ReLU networks ``f(X) = (X W1^T)_+ W2`` in numpy: objective and balancing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cvxnn_core._validation import (
    check_beta,
    check_X,
    check_X_Y,
)

if TYPE_CHECKING:
    pass




# ----------------------------------------------------------------------------------------------------
# Inputs and networks
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VectorNet:
    """Two-layer ReLU network with vector output ``f(X) = (X W1^T)_+ W2``: ``W1`` ``(m, d)``, ``W2`` ``(m, c)``."""

    W1: np.ndarray
    W2: np.ndarray

    def __post_init__(self) -> None:
        W1 = np.asarray(self.W1, dtype=np.float64)
        W2 = np.asarray(self.W2, dtype=np.float64)
        if W1.ndim != 2 or W2.ndim != 2:
            raise ValueError(f"W1 must be (m, d) and W2 (m, c); got shapes {W1.shape} and {W2.shape}")
        if W1.shape[0] != W2.shape[0]:
            raise ValueError(f"W1 has {W1.shape[0]} neurons (rows) but W2 has {W2.shape[0]} rows")
        if not (np.all(np.isfinite(W1)) and np.all(np.isfinite(W2))):
            raise ValueError("W1 and W2 contain NaN or inf; pass finite weights")
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "W2", W2)

    @property
    def width(self) -> int:
        """Number of neurons ``m``."""
        return int(self.W1.shape[0])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(X W1^T)_+ W2``, shape ``(n, c)``."""
        X = check_X(X)
        if X.shape[1] != self.W1.shape[1]:
            raise ValueError(f"X has {X.shape[1]} columns but the network expects d = {self.W1.shape[1]}")
        return np.maximum(X @ self.W1.T, 0.0) @ self.W2

    def weight_decay(self) -> float:
        """``0.5 * (||W1||_F^2 + ||W2||_F^2)``."""
        return 0.5 * float(np.sum(self.W1**2) + np.sum(self.W2**2))


def vector_objective(X: np.ndarray, Y: np.ndarray, net: VectorNet, beta: float) -> float:
    """``0.5 ||(X W1^T)_+ W2 - Y||_F^2 + (beta/2)(||W1||_F^2 + ||W2||_F^2)``."""
    _check_vector_net(net)
    X, Y = check_X_Y(X, Y)
    beta = check_beta(beta)
    if net.W2.shape[1] != Y.shape[1]:
        raise ValueError(f"the network has c = {net.W2.shape[1]} outputs but Y has {Y.shape[1]} columns")
    return 0.5 * float(np.sum((net.predict(X) - Y) ** 2)) + beta * net.weight_decay()


def balance_network(net: VectorNet) -> VectorNet:
    """Rescale each neuron to ``||w1_j|| = ||w2_j||``: same predictions, weight decay ``sum_j ||w1_j|| ||w2_j||``."""
    _check_vector_net(net)
    a = np.linalg.norm(net.W1, axis=1)
    b = np.linalg.norm(net.W2, axis=1)
    keep = (a > 0) & (b > 0)
    s = np.sqrt(b[keep] / a[keep])
    return VectorNet(W1=net.W1[keep] * s[:, None], W2=net.W2[keep] / s[:, None])


def _check_vector_net(net: object) -> None:
    if not isinstance(net, VectorNet):
        raise TypeError(f"net must be a vector_output.VectorNet, got {type(net).__name__}")

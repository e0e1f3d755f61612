r"""Parallel three-layer ReLU networks, their regularisers, and the networks read off a convex solution.

A network is a sum of ``K`` sub-networks ``f(X) = sum_k ((X W1_k^T)_+ w2_k)_+ w3_k`` with ``W1_k`` ``(m_k, d)``
(one row per first-layer neuron ``u_kl``), ``w2_k`` ``(m_k,)`` and a scalar ``w3_k``. No second-layer or output
bias; a first-layer bias is a ones column of ``X``.

Regularisers (minimised over the rescalings ``(w2, w3) -> (a w2, w3 / a)``, which leave ``f`` unchanged):

* ``"frobenius"``: ``||W1_k||_F <= 1`` and weight decay ``(beta/2) sum_k (||w2_k||^2 + w3_k^2)``; with
  ``q_l = |w2_l| |w3| u_l`` its value is ``>= beta sum_l ||q_l||`` (Cauchy-Schwarz, equality for balanced weights):
  a group l1 over neurons, the same for every width. This is the normalisation under which the three-layer
  program is exact and width-independent (:mod:`cvxnn_core.three_layer.program`).
* ``"columns"``: unit-norm neurons ``||u_kl|| <= 1`` and the same weight decay: ``beta sqrt(sum_l ||q_l||^2)``,
  which copying neurons lowers (no width-independent program: :func:`duplicate_neurons`).
* ``"path"``: the l2 path norm with a square root per sub-network,
  ``beta sum_k sqrt(sum_{a,l} W1_k[l, a]^2 w2_k[l]^2 w3_k^2) = beta sum_k sqrt(sum_l ||q_l||^2)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from cvxnn_core._shapes import MAX_ENTRIES, check_size
from cvxnn_core._validation import check_beta, check_positive_int, check_X, check_X_y
from cvxnn_core.three_layer._checks import check_net, check_weights

Regularizer = Literal["frobenius", "columns", "path"]
REGULARIZERS = ("frobenius", "columns", "path")
NORM_ATOL = 1e-6  # relative slack accepted on ||W1_k||_F <= 1 or ||u_kl|| <= 1


@dataclass(frozen=True)
class ParallelThreeLayerNet:
    """``f(X) = sum_k ((X W1[k]^T)_+ w2[k])_+ w3[k]``: ``W1`` a list of ``(m_k, d)`` arrays, ``w2`` a list of
    ``(m_k,)`` arrays, ``w3`` ``(K,)``."""

    W1: list[np.ndarray]
    w2: list[np.ndarray]
    w3: np.ndarray

    def __post_init__(self) -> None:
        W1, w2, w3 = check_weights(self.W1, self.w2, self.w3)
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "w2", w2)
        object.__setattr__(self, "w3", w3)

    @property
    def n_subnets(self) -> int:
        """``K``."""
        return int(self.w3.shape[0])

    @property
    def widths(self) -> list[int]:
        """First-layer width ``m_k`` of every sub-network."""
        return [int(w.shape[0]) for w in self.w2]

    @property
    def width(self) -> int:
        """Total number of first-layer neurons ``sum_k m_k``."""
        return int(sum(self.widths))

    def subnet_outputs(self, X: np.ndarray) -> np.ndarray:
        """Outputs ``((X W1_k^T)_+ w2_k)_+ w3_k`` of every sub-network, ``(n, K)``."""
        X = check_X(X)
        check_net(self, X.shape[1])
        cols = [
            np.maximum(np.maximum(X @ W.T, 0.0) @ w, 0.0) * c for W, w, c in zip(self.W1, self.w2, self.w3, strict=True)
        ]
        return np.stack(cols, axis=1) if cols else np.zeros((X.shape[0], 0))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``f(X)``, shape ``(n,)``."""
        return self.subnet_outputs(X).sum(axis=1)


def penalty(net: ParallelThreeLayerNet, regularizer: Regularizer) -> float:
    """The regulariser's value without ``beta``: ``0.5 sum_k (||w2_k||^2 + w3_k^2)`` (``"frobenius"``,
    ``"columns"``) or ``sum_k sqrt(sum_l ||u_kl||^2 w2_kl^2 w3_k^2)`` (``"path"``). The norm constraint of
    ``"frobenius"``/``"columns"`` is checked: a violated one raises ``ValueError``."""
    check_net(net)
    if regularizer not in REGULARIZERS:
        raise ValueError(f"regularizer must be one of {REGULARIZERS}, got {regularizer!r}")
    if regularizer == "path":
        return float(
            sum(
                np.sqrt(np.sum((np.linalg.norm(W, axis=1) * w * c) ** 2))
                for W, w, c in zip(net.W1, net.w2, net.w3, strict=True)
            )
        )
    for k, W in enumerate(net.W1):
        norms = np.array([np.linalg.norm(W)]) if regularizer == "frobenius" else np.linalg.norm(W, axis=1)
        if np.any(norms > 1 + NORM_ATOL):
            what = "||W1_k||_F" if regularizer == "frobenius" else "||u_kl||"
            raise ValueError(
                f"sub-network {k} has {what} = {norms.max():.6g} > 1, outside the {regularizer!r} model; rescale its "
                "first layer (and w2 inversely) or use regularizer='path'"
            )
    return float(0.5 * sum(np.sum(w**2) + c**2 for w, c in zip(net.w2, net.w3, strict=True)))


def objective(X: np.ndarray, y: np.ndarray, net: ParallelThreeLayerNet, beta: float, regularizer: Regularizer) -> float:
    """``0.5 ||f(X) - y||^2 + beta * penalty(net, regularizer)``."""
    X, y = check_X_y(X, y)
    check_net(net, X.shape[1])
    return float(0.5 * np.sum((net.predict(X) - y) ** 2) + check_beta(beta) * penalty(net, regularizer))


def balance(net: ParallelThreeLayerNet) -> ParallelThreeLayerNet:
    """Rescale ``(w2_k, w3_k) -> (a w2_k, w3_k / a)`` with ``a = sqrt(|w3_k| / ||w2_k||)``: same outputs, and the
    weight decay ``0.5 (||w2||^2 + w3^2)`` drops to its minimum ``||w2|| |w3|`` over these rescalings."""
    check_net(net)
    w2, w3 = [], []
    for w, c in zip(net.w2, net.w3, strict=True):
        nw = np.linalg.norm(w)
        a = np.sqrt(abs(c) / nw) if nw > 0 and c != 0 else 1.0
        w2.append(w * a)
        w3.append(c / a)
    return ParallelThreeLayerNet(net.W1, w2, np.array(w3))


def duplicate_neurons(net: ParallelThreeLayerNet, copies: int, *,
                      max_entries: int = MAX_ENTRIES) -> ParallelThreeLayerNet:
    """Every first-layer neuron copied ``copies`` times with ``w2 / copies`` on each copy, then :func:`balance`.

    The outputs are unchanged. Under ``"columns"`` (unit neurons) and ``"path"`` the penalty falls by ``copies^(-1/2)``
    (``sqrt(sum_l ||q_l||^2)`` over ``M`` copies of ``q / M``). Under ``"frobenius"`` the copies raise
    ``||W1_k||_F`` by ``sqrt(copies)``; :func:`rescale_frobenius` makes the copied network feasible again, with the
    original objective (the group l1 ``sum_l ||q_l||`` is invariant under splitting a neuron). The copies hold
    ``copies * width * (d + 1)`` entries, refused above ``max_entries``."""
    check_net(net)
    M = check_positive_int(copies, "copies")
    d = net.W1[0].shape[1] if net.W1 else 0
    check_size(M * net.width * (d + 1), check_positive_int(max_entries, "max_entries"), what="copied weights, entries",
               keyword="max_entries", alternative="use fewer copies")
    W1, w2 = [], []
    for W, w in zip(net.W1, net.w2, strict=True):
        W1.append(np.repeat(W, M, axis=0))
        w2.append(np.repeat(w, M) / M)
    return balance(ParallelThreeLayerNet(W1, w2, net.w3))


def rescale_frobenius(net: ParallelThreeLayerNet) -> ParallelThreeLayerNet:
    """Move each ``||W1_k||_F`` into ``w2_k`` (``W1_k / ||W1_k||_F``, ``w2_k ||W1_k||_F``), then :func:`balance`: the
    same function, feasible for ``"frobenius"``."""
    check_net(net)
    W1, w2 = [], []
    for W, w in zip(net.W1, net.w2, strict=True):
        s = np.linalg.norm(W)
        W1.append(W / s if s > 0 else W)
        w2.append(w * s)
    return balance(ParallelThreeLayerNet(W1, w2, net.w3))


def rescale_columns(net: ParallelThreeLayerNet) -> ParallelThreeLayerNet:
    """Move every neuron's norm into ``w2`` (``u / ||u||``, ``w2_l ||u_l||``), then :func:`balance`: the same function,
    feasible for ``"columns"`` (unit-norm neurons)."""
    check_net(net)
    W1, w2 = [], []
    for W, w in zip(net.W1, net.w2, strict=True):
        s = np.linalg.norm(W, axis=1)
        W1.append(W / np.where(s > 0, s, 1.0)[:, None])
        w2.append(w * s)
    return balance(ParallelThreeLayerNet(W1, w2, net.w3))

r"""From a convex solution to network weights, the non-convex objective, and neuron pruning.

Recovery (Pilanci & Ergen 2020): every non-zero block gives one neuron,

    v_i != 0:  w1 = v_i / sqrt(||v_i||),  w2 = +sqrt(||v_i||)
    w_i != 0:  w1 = w_i / sqrt(||w_i||),  w2 = -sqrt(||w_i||)

so that ``(X w1)_+ w2 = +-(X v_i)_+ = +-D_i X v_i`` (by the cone constraint) and
``(beta/2)(||w1||^2 + w2^2) = beta ||v_i||``: the network's weight-decay objective equals the convex
objective.

Pruning (the Caratheodory argument of the paper's proof): write the network as
``f = sum_j c_j s_j (X u_j)_+`` with unit ``u_j``, signs ``s_j`` and ``c_j = ||w1_j|| |w2_j| > 0``;
the balanced network has penalty ``beta * sum_j c_j``. The lifted vectors ``z_j = (s_j (X u_j)_+, 1)``
live in ``R^{n+1}``; while they are linearly dependent, move ``c`` along a null vector ``delta``
(``sum_j delta_j z_j = 0``) until a coefficient reaches zero. Predictions and penalty are unchanged,
and at the end at most ``rank <= n + 1`` neurons remain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_loss,
    check_nonnegative_number,
    check_penalised_bias,
    check_X,
    check_X_y,
)
from cvxnn_core.losses import Loss, loss_value
from cvxnn_core.programs import ConvexResult, convex_predictions


@dataclass(frozen=True)
class TwoLayerNet:
    """Two-layer ReLU network ``f(X) = (X W1^T)_+ w2 + b2`` with ``W1`` ``(m, d)`` and ``w2`` ``(m,)``.

    By default every first-layer weight is penalised (a bias is a ones column of ``X`` like any
    other) and ``b2 = 0``. With ``free_bias=True`` the last column of ``X`` is the ones column, the
    last column of ``W1`` (the first-layer biases) and the output bias ``b2`` are not penalised:
    ``weight_decay = 0.5 * (||W1[:, :-1]||_F^2 + ||w2||^2)``.
    """

    W1: np.ndarray
    w2: np.ndarray
    b2: float = 0.0
    free_bias: bool = False

    def __post_init__(self) -> None:
        try:
            W1 = np.atleast_2d(np.asarray(self.W1, dtype=np.float64))
            w2 = np.asarray(self.w2, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError("W1 (m, d) and w2 (m,) must be numeric arrays") from exc
        if W1.ndim != 2:
            raise ValueError(f"W1 must have shape (m, d), got shape {W1.shape}")
        if w2.ndim == 2 and w2.shape[1] == 1:
            w2 = w2[:, 0]
        if w2.ndim > 1:
            raise ValueError(f"w2 must have shape (m,), got shape {w2.shape}")
        w2 = w2.reshape(-1)
        if not (np.all(np.isfinite(W1)) and np.all(np.isfinite(w2))):
            raise ValueError("W1 and w2 contain NaN or inf; pass finite weights")
        if isinstance(self.b2, bool) or not isinstance(self.b2, int | float | np.integer | np.floating) \
                or not np.isfinite(self.b2):
            raise TypeError(f"b2 must be a finite number, got {self.b2!r}")
        if W1.shape[0] != w2.shape[0]:
            raise ValueError(f"W1 has {W1.shape[0]} neurons (rows) but w2 has {w2.shape[0]} entries")
        if self.b2 != 0 and not self.free_bias:
            raise ValueError("an output bias b2 is only part of the model with free_bias=True")
        object.__setattr__(self, "W1", W1)
        object.__setattr__(self, "w2", w2)
        object.__setattr__(self, "b2", float(self.b2))

    @property
    def width(self) -> int:
        """Number of neurons ``m``."""
        return int(self.w2.shape[0])

    def hidden(self, X: np.ndarray) -> np.ndarray:
        """Hidden activations ``(X W1^T)_+``, shape ``(n, m)``."""
        X = check_X(X)
        if X.shape[1] != self.W1.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} columns but the network expects {self.W1.shape[1]}; "
                "append the same intercept column used in training"
            )
        return np.maximum(X @ self.W1.T, 0.0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``(X W1^T)_+ w2 + b2``, shape ``(n,)``."""
        return self.hidden(X) @ self.w2 + self.b2

    def penalized_W1(self) -> np.ndarray:
        """The penalised part of ``W1``: all of it, or all but the bias column when ``free_bias``."""
        return self.W1[:, :-1] if self.free_bias else self.W1

    def weight_decay(self) -> float:
        """``0.5 * (||W1||_F^2 + ||w2||^2)`` (bias column of ``W1`` and ``b2`` excluded when ``free_bias``)."""
        return 0.5 * float(np.sum(self.penalized_W1() ** 2) + np.sum(self.w2**2))


@dataclass(frozen=True)
class GatedNet:
    """Gated-ReLU model ``f(X) = sum_i 1[X g_i >= 0] * (X u_i)`` with gates ``G`` ``(d, P)``, ``U`` ``(P, d)``.

    For vector outputs ``U`` is ``(P, d, c)`` and ``f(X)`` is ``(n, c)``.
    """

    G: np.ndarray
    U: np.ndarray

    def __post_init__(self) -> None:
        G = check_array(self.G, "G", (None, None), labels=("d", "P"))
        U = check_array(self.U, "U", (G.shape[1], G.shape[0]) + ((None,) if np.ndim(self.U) == 3 else ()),
                        labels=("P", "d", "c")[: max(np.ndim(self.U), 2)], fix="one block per gate")
        object.__setattr__(self, "G", G)
        object.__setattr__(self, "U", U)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``sum_i 1[X g_i >= 0] * X u_i``, shape ``(n,)`` (or ``(n, c)``)."""
        X = check_X(X)
        if X.shape[1] != self.G.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} columns but the gates expect {self.G.shape[0]}; "
                "append the same intercept column used in training"
            )
        return convex_predictions(X, X @ self.G >= 0, self.U)


def nonconvex_objective(X: np.ndarray, y: np.ndarray, net: TwoLayerNet, beta: float, loss: Loss = "squared") -> float:
    """``l(f(X), y) + (beta/2) * (||W1||_F^2 + ||w2||^2)``, the weight-decay training objective."""
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a recovery.TwoLayerNet, got {type(net).__name__}")
    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    loss = check_loss(loss)
    return loss_value(net.predict(X), y, loss) + beta * net.weight_decay()


def relu_network(result: ConvexResult) -> TwoLayerNet:
    """The ReLU network of a convex ReLU solution: one neuron per non-zero block (see module docstring)."""
    _check_result(result)
    if result.kind != "relu":
        raise ValueError(f"relu_network needs a ReLU solution; got kind={result.kind!r}, use gated_network")
    return _blocks_network(result.V, result.W, result.free_bias)


def block_network(V: np.ndarray, W: np.ndarray) -> TwoLayerNet:
    """The ReLU network ``sum_i (X v_i)_+ - (X w_i)_+`` of blocks ``V``, ``W`` (each ``(P, d)``), balanced.

    One neuron per non-zero block: ``w1 = v_i / sqrt(||v_i||)``, ``w2 = +sqrt(||v_i||)`` (``-`` for ``w_i``),
    so that its weight decay is ``sum_i ||v_i|| + ||w_i||``. Its predictions equal ``sum_i D_i X (v_i - w_i)``
    exactly when every ``v_i``, ``w_i`` lies in its cone ``K_i`` (as for :func:`cvxnn_core.solvers.cone_decomposition`).
    """
    V = check_array(V, "V", (None, None), labels=("P", "d"))
    W = check_array(W, "W", V.shape, labels=("P", "d"), fix="one block w_i per block v_i")
    return _blocks_network(V, W, free_bias=False)


def _blocks_network(V: np.ndarray, W: np.ndarray, free_bias: bool) -> TwoLayerNet:
    blocks = np.concatenate([V, W])
    signs = np.concatenate([np.ones(len(V)), -np.ones(len(W))])
    norms = np.linalg.norm(blocks[:, :-1] if free_bias else blocks, axis=1)
    keep = norms > 0
    scale = np.sqrt(norms[keep])
    b2 = 0.0
    if free_bias:
        # A block with only a bias entry is a constant neuron: (b)_+ on its active samples. It is active on
        # every sample (the cone forces D = all ones when the bias is positive), so it is an output bias.
        const = ~keep & np.any(blocks != 0, axis=1)
        b2 = float(np.sum(signs[const] * np.maximum(blocks[const, -1], 0.0)))
    return TwoLayerNet(W1=blocks[keep] / scale[:, None], w2=signs[keep] * scale, b2=b2, free_bias=free_bias)


def gated_network(result: ConvexResult, gates: np.ndarray | None = None) -> GatedNet:
    """The gated-ReLU model of a gated solution; ``gates`` ``(d, P)`` default to ``result.gates``."""
    _check_result(result)
    if result.kind != "gated_relu":
        raise ValueError(f"gated_network needs a gated-ReLU solution; got kind={result.kind!r}")
    G = result.gates if gates is None else check_array(gates, "gates", (result.V.shape[1], result.V.shape[0]),
                                                       labels=("d", "P"))
    if G is None:
        raise ValueError("the gates are unknown: pass gates=G from sample_gates(X, n_patterns) or solve with gates=G")
    return GatedNet(G=G, U=result.V)


def balance(net: TwoLayerNet) -> TwoLayerNet:
    """Rescale each neuron to ``||w1_j|| = |w2_j|``: same predictions, minimal weight decay."""
    _check_net(net)
    check_penalised_bias(net, "balance")
    norms = np.linalg.norm(net.W1, axis=1)
    c = norms * np.abs(net.w2)
    keep = c > 0
    unit = net.W1[keep] / norms[keep, None]
    root = np.sqrt(c[keep])
    return TwoLayerNet(W1=unit * root[:, None], w2=np.sign(net.w2[keep]) * root)


def prune_neurons(X: np.ndarray, net: TwoLayerNet, *, rtol: float = 1e-10) -> TwoLayerNet:
    """Caratheodory reduction: a balanced network with the same predictions on ``X``, the same
    ``sum_j ||w1_j|| |w2_j|`` and at most ``rank([ (X U)_+ S ; 1^T ]) <= n + 1`` neurons.

    Rows whose lifted vectors are linearly dependent (relative singular value below ``rtol``)
    are removed one at a time by moving along a null vector (see the module docstring). The
    weight decay of the result is ``beta * sum_j c_j``, never more than that of ``net``.
    """
    X = check_X(X)
    _check_net(net)
    rtol = check_nonnegative_number(rtol, "rtol")
    if rtol >= 1:
        raise ValueError(f"rtol must lie in [0, 1) (a relative singular value), got {rtol!r}")
    check_penalised_bias(net, "prune_neurons")
    if X.shape[1] != net.W1.shape[1]:
        raise ValueError(
            f"X has {X.shape[1]} columns but the network's W1 has {net.W1.shape[1]}; pass the data the network "
            "was trained on (with the same intercept column)"
        )
    net = balance(net)
    norms = np.linalg.norm(net.W1, axis=1)
    U = net.W1 / norms[:, None]
    s = np.sign(net.w2)
    c = norms * np.abs(net.w2)
    Z = np.vstack([np.maximum(X @ U.T, 0.0) * s, np.ones(len(c))])  # (n + 1, m)
    while c.size > 1:
        _, sv, Vt = np.linalg.svd(Z, full_matrices=True)
        rank = int(np.sum(sv > rtol * sv[0]))
        if rank == c.size:
            break
        delta = Vt[-1]
        if not np.any(delta < 0):
            delta = -delta
        neg = delta < 0
        t = np.min(c[neg] / -delta[neg])
        c = c + t * delta
        drop = np.argmin(np.where(neg, c, np.inf))
        keep = np.ones(c.size, dtype=bool)
        keep[drop] = False
        keep &= c > rtol * c.max()
        c, U, s, Z = c[keep], U[keep], s[keep], Z[:, keep]
    root = np.sqrt(c)
    return TwoLayerNet(W1=U * root[:, None], w2=s * root)


def _check_net(net: object) -> None:
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a recovery.TwoLayerNet, got {type(net).__name__}")


def _check_result(result: object) -> None:
    if not isinstance(result, ConvexResult):
        raise TypeError(f"result must be a programs.ConvexResult (from solve_relu / solve_gated_relu), got "
                        f"{type(result).__name__}")

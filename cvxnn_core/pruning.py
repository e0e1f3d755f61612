r"""Optimal pruning of two-layer ReLU networks, and a test that a network is minimal (Mishkin & Pilanci, ICML 2023).

Write a network with penalised weights as neurons ``k`` of direction ``rho_k = u_k / ||u_k||``, sign
``s_k = sign(w2_k)`` and mass ``c_k = ||u_k|| |w2_k|``: on the training data it predicts ``F c`` with the feature
matrix ``F[:, k] = s_k (X rho_k)_+``, and its balanced version (neurons ``sqrt(c_k) rho_k``, output weights
``s_k sqrt(c_k)``) has the weight decay ``beta sum_k c_k``, never more than the original's.

**Pruning.** While the columns of ``M = [F_S; 1^T]`` over the support ``S = {k: c_k > 0}`` are linearly dependent,
take ``delta`` with ``M delta = 0`` (a right singular vector of a zero singular value; it has entries of both signs
because ``1^T delta = 0``) and move ``c_S <- c_S - t delta`` with ``t = min_{delta_k > 0} c_k / delta_k``: the fit
``F c`` and the penalty ``beta 1^T c`` do not change and one neuron reaches zero mass. At most ``m`` steps end with
independent columns. The pruned network has the same objective as the balanced original; started from an optimal
network it is optimal, with at most ``rank(F) <= n`` neurons (Caratheodory).

**Minimality.** The optimal set of the convex program is a polytope whose points are non-negative masses on the
tight neurons (:mod:`cvxnn_core.optimal_set`). A network is *minimal* when no neuron can be dropped while the rest,
re-weighted, stay optimal: :func:`removal_increase` solves, for each neuron ``k``, the non-negative lasso
``min_{c >= 0, c_k = 0} 0.5 ||F c - y||^2 + beta 1^T c`` and reports its relative increase over the same program
with every neuron. An optimal network with linearly independent features is minimal in this sense: the
features of the other neurons cannot reproduce its fit (the fit of every optimum is the same).

Our implementation, from the abstract's statement and the derivation above; the paper's text was not at hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._validation import check_beta, check_penalised_bias, check_positive_number, check_X, check_X_y
from cvxnn_core.recovery import TwoLayerNet

TIE_RTOL = 1e-12  # after a step, masses below this fraction of the largest are zero

__all__ = ["PrunedNetwork", "magnitude_prune", "neuron_masses", "prune_network", "removal_increase"]


def _check_net(X: np.ndarray, net: object, who: str) -> TwoLayerNet:
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a recovery.TwoLayerNet, got {type(net).__name__}")
    check_penalised_bias(net, who)
    if net.W1.shape[1] != X.shape[1]:
        raise ValueError(f"net expects {net.W1.shape[1]} input columns, X has {X.shape[1]}; pass the data it was "
                         "trained on (with the same bias column)")
    return net


def neuron_masses(X: np.ndarray, net: TwoLayerNet) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(F, c, rho, s)``: the feature matrix ``F`` ``(n, m)`` with columns ``s_k (X rho_k)_+``, the masses
    ``c_k = ||u_k|| |w2_k|`` ``(m,)``, the unit directions ``rho`` ``(m, d)`` and the signs ``s`` ``(m,)``. Dead
    neurons (``u_k = 0`` or ``w2_k = 0``) get mass 0 and direction 0."""
    X = check_X(X)
    net = _check_net(X, net, "neuron_masses")
    norms = np.linalg.norm(net.W1, axis=1)
    live = (norms > 0) & (net.w2 != 0)
    rho = np.zeros_like(net.W1)
    rho[live] = net.W1[live] / norms[live, None]
    s = np.where(net.w2 >= 0, 1.0, -1.0)
    c = np.where(live, norms * np.abs(net.w2), 0.0)
    return np.maximum(X @ rho.T, 0.0) * s[None, :], c, rho, s


@dataclass(frozen=True)
class PrunedNetwork:
    """Result of :func:`prune_network`: the balanced pruned ``net``, the ``kept`` neuron indices of the input
    network, the number of ``steps`` taken and the relative change of the fit on ``X`` (``fit_change``, ``~1e-15``)."""

    net: TwoLayerNet
    kept: np.ndarray
    steps: int
    fit_change: float

    @property
    def width(self) -> int:
        return int(self.kept.size)


def _balanced(c: np.ndarray, rho: np.ndarray, s: np.ndarray) -> TwoLayerNet:
    root = np.sqrt(c)
    return TwoLayerNet(rho * root[:, None], s * root)


def prune_network(X: np.ndarray, net: TwoLayerNet, *, rtol: float = 1e-9) -> PrunedNetwork:
    """Prune ``net`` to neurons with linearly independent features, keeping its fit on ``X`` and its weight decay
    (module docstring). ``rtol``: a singular value below ``rtol`` times the largest counts as zero."""
    X = check_X(X)
    rtol = check_positive_number(rtol, "rtol")
    if rtol >= 1e-2:
        raise ValueError(f"rtol must be below 1e-2 (a relative singular-value tolerance), got {rtol!r}")
    F, c, rho, s = neuron_masses(X, net)
    if not np.any(c > 0):
        raise ValueError("every neuron of net is dead (zero input or output weight); there is nothing to prune")
    fit0 = F @ c
    c = c.copy()
    steps = 0
    while True:
        S = np.flatnonzero(c > 0)
        M = np.vstack([F[:, S], np.ones((1, S.size))])
        _, sv, Vt = np.linalg.svd(M, full_matrices=True)
        top = sv[0] if sv.size else 0.0
        if S.size <= sv.size and sv[-1] > rtol * top:
            break
        delta = Vt[-1]
        if not np.any(delta > 0):
            delta = -delta
        pos = delta > 0
        ratios = np.full(S.size, np.inf)
        ratios[pos] = c[S][pos] / delta[pos]
        j = int(np.argmin(ratios))
        c[S] = np.maximum(c[S] - ratios[j] * delta, 0.0)
        c[S[j]] = 0.0
        c[c <= TIE_RTOL * c.max()] = 0.0  # masses that reach zero together (ties) end at rounding size: drop them
        steps += 1
    kept = np.flatnonzero(c > 0)
    fit = F[:, kept] @ c[kept]
    change = float(np.linalg.norm(fit - fit0) / max(float(np.linalg.norm(fit0)), 1e-300))
    return PrunedNetwork(_balanced(c[kept], rho[kept], s[kept]), kept, steps, change)


def magnitude_prune(X: np.ndarray, net: TwoLayerNet, width: int) -> TwoLayerNet:
    """The usual heuristic, for comparison: keep the ``width`` neurons of largest mass ``||u_k|| |w2_k|`` (balanced),
    drop the others, no re-fitting."""
    F, c, rho, s = neuron_masses(X, net)
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or not 1 <= width <= c.size:
        raise ValueError(f"width must be an integer in [1, {c.size}] (the neurons to keep), got {width!r}")
    keep = np.sort(np.argsort(-c, kind="stable")[: int(width)])
    return _balanced(c[keep], rho[keep], s[keep])


def removal_increase(X: np.ndarray, y: np.ndarray, beta: float, net: TwoLayerNet) -> np.ndarray:
    """For each neuron ``k`` of ``net``, the relative increase ``(p_{-k} - p) / p`` of the best objective over
    non-negative re-weightings of its neurons when neuron ``k`` is removed (``p``: with all of them). ``> 0`` for
    every neuron of a minimal optimal network; ``~0`` for a neuron that an optimal network can do without."""
    from cvxnn_core.optimal_set import _nonnegative_lasso as nonnegative_lasso

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    if beta == 0:
        raise ValueError("removal_increase needs beta > 0 (at beta = 0 the re-weighted optimum is not unique in value)")
    F, c, _, _ = neuron_masses(X, net)
    live = np.flatnonzero(c > 0)
    if live.size == 0:
        raise ValueError("every neuron of net is dead (zero input or output weight); nothing to remove")
    F = F[:, live]
    _, p = nonnegative_lasso(F, y, beta)
    out = np.empty(live.size)
    for k in range(live.size):
        _, pk = nonnegative_lasso(np.delete(F, k, axis=1), y, beta) if live.size > 1 else (None, 0.5 * float(y @ y))
        out[k] = (pk - p) / p
    return out

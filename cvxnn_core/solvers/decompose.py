"""The cone decomposition of a gated-ReLU solution into a ReLU network with the same predictions (Mishkin, Sahiner &
Pilanci, ICML 2022): the minimum-norm split by least-distance programming, and the split along the sampling gates
that scales to large ``n``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._cvx import block_norms
from cvxnn_core._shapes import check_array
from cvxnn_core._validation import check_patterns, check_X
from cvxnn_core.patterns import cone_projection
from cvxnn_core.programs import convex_predictions
from cvxnn_core.recovery import TwoLayerNet, block_network
from cvxnn_core.solvers.fista import BLOCK_ZERO_TOL


def least_distance(G: np.ndarray, h: np.ndarray) -> np.ndarray:
    """``argmin ||x||_2 s.t. G x >= h`` (least-distance programming) through one NNLS (Lawson & Hanson, ch. 23).

    With ``E = [G^T; h^T]`` and ``f = (0, ..., 0, 1)``, solve ``u = argmin_{u >= 0} ||E u - f||`` and set
    ``r = E u - f``; then ``x = -r[:-1] / r[-1]``. Raises ``ValueError`` when the constraints are infeasible.
    """
    from scipy.optimize import nnls

    G = check_X(G, "G")
    h = check_array(h, "h", (G.shape[0],), labels=("m",), fix="one right-hand side per row of G")
    if not np.any(h > 0):
        return np.zeros(G.shape[1])
    E = np.vstack([G.T, h[None, :]])
    f = np.zeros(E.shape[0])
    f[-1] = 1.0
    u, _ = nnls(E, f, maxiter=50 * E.shape[1])
    r = E @ u - f
    if abs(r[-1]) < 1e-14:
        raise ValueError("the constraints G x >= h are infeasible (least-distance program)")
    return -r[:-1] / r[-1]


def cone_decomposition(X: np.ndarray, patterns: np.ndarray, U: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split gated blocks ``u_i = v_i - w_i`` with ``v_i, w_i`` in the cone ``K_i = {(2 D_i - I) X x >= 0}``.

    Minimum-norm split: ``v = u/2 + e``, ``w = e - u/2`` with ``e = argmin ||e|| s.t. (2 D_i - I) X e >= |X u|/2``
    (:func:`least_distance`), which minimises ``||v||^2 + ||w||^2``. Predictions are unchanged:
    ``D_i X (v_i - w_i) = D_i X u_i``. Returns ``(V, W)``, each ``(P, d)``; every block is then projected
    exactly onto its cone (removing NNLS rounding), and ``v_i = u_i, w_i = 0`` (or the reverse) when ``u_i``
    already lies in ``K_i`` (or ``-K_i``).
    """
    X = check_X(X)
    patterns = check_patterns(patterns, X.shape[0])
    U = check_array(U, "U", (patterns.shape[1], X.shape[1]), labels=("P", "d"))
    V = np.zeros_like(U)
    W = np.zeros_like(U)
    scale = float(np.max(block_norms(U), initial=0.0))
    for i in np.flatnonzero(block_norms(U) > BLOCK_ZERO_TOL * scale):
        s = 2.0 * patterns[:, i] - 1.0
        xu = X @ U[i]
        tol = 1e-12 * max(np.max(np.abs(xu)), 1e-300)
        if np.all(s * xu >= -tol):
            V[i] = U[i]
            continue
        if np.all(s * xu <= tol):
            W[i] = -U[i]
            continue
        e = least_distance(s[:, None] * X, 0.5 * np.abs(xu))
        V[i] = cone_projection(X, patterns[:, i], 0.5 * U[i] + e)
        W[i] = V[i] - U[i]
    return V, W


def gate_split(X: np.ndarray, pattern: np.ndarray, gate: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Split ``u = v - w`` with ``v, w`` in ``K = {x : (2D - I) X x >= 0}`` along the gate ``g`` that sampled ``D``.

    With signs ``s = 2D - 1``, margins ``m = s * X g`` (all ``> 0``: ``g`` is interior to ``K``) and ``a = s * X u``,
    take ``v = alpha u + t g`` and ``w = (alpha - 1) u + t g``: ``v`` is in ``K`` iff ``t m >= -alpha a`` and ``w``
    iff ``t m >= (1 - alpha) a``. With ``A = max_{a_k > 0} a_k / m_k`` and ``B = max_{a_k < 0} -a_k / m_k`` the
    least ``t`` is ``t = A B / (A + B)`` at ``alpha = A / (A + B)`` (``u`` in ``K``: ``v = u, w = 0``; in ``-K``:
    ``v = 0, w = -u``). ``O(n d)``, against the least-distance program of :func:`cone_decomposition`, whose split has
    the least norm; this one can be much longer where points lie close to the gate's hyperplane. Raises
    ``ValueError`` when ``g`` did not sample ``D`` from inside ``K`` (a margin ``m_k < 0``, or ``m_k = 0`` with
    ``a_k != 0``).
    """
    X = check_X(X)
    n, d = X.shape
    if np.ndim(pattern) != 1:
        raise ValueError(f"pattern must have shape (n,) = ({n},) (one column of the patterns), got shape "
                         f"{np.shape(pattern)}")
    pattern = check_patterns(np.asarray(pattern).reshape(-1, 1), n, name="pattern")[:, 0]
    gate = check_array(gate, "gate", (d,), labels=("d",), fix="the gate g with D = 1[X g >= 0] (patterns.sample_gates)")
    u = check_array(u, "u", (d,), labels=("d",), fix="one block of a gated solution")
    s = 2.0 * pattern - 1.0
    m, a = s * (X @ gate), s * (X @ u)
    if np.any(m < 0) or np.any((m == 0) & (a != 0)):
        raise ValueError("gate does not sample pattern from inside its cone (a margin s_k x_k g is negative, or zero "
                         "where X u is not): pass the gate that sampled this pattern, or split by least distance "
                         "(decompose_gated without gates)")
    pos, neg = a > 0, a < 0
    A = float(np.max(a[pos] / m[pos], initial=0.0))
    B = float(np.max(-a[neg] / m[neg], initial=0.0))
    if B == 0.0:
        return u.copy(), np.zeros_like(u)
    if A == 0.0:
        return np.zeros_like(u), -u
    alpha, t = A / (A + B), A * B / (A + B)
    return alpha * u + t * gate, (alpha - 1.0) * u + t * gate


@dataclass(frozen=True)
class GatedDecomposition:
    """A gated-ReLU model written as a ReLU network by :func:`cone_decomposition`, with what that cost.

    The split is :func:`cone_decomposition`'s (least norm) or, given the gates, :func:`gate_split`'s. ``net`` is the
    ReLU network ``sum_i (X v_i)_+ - (X w_i)_+`` (``None`` when some block has no split);
    ``no_split`` lists the gates whose block ``u_i`` cannot be written ``v_i - w_i`` with ``v_i, w_i`` in ``K_i``
    (a gate that no hyperplane realises has ``K_i - K_i != R^d``); ``prediction_error`` is
    ``max_k |f_relu(x_k) - f_gated(x_k)| / max_k |f_gated(x_k)|`` on the training rows (``inf`` when a block has
    no split); ``penalty_ratio`` is ``sum_i (||v_i|| + ||w_i||) / sum_i ||u_i||`` (``>= 1``: the ReLU network's
    group penalty relative to the gated model's; ``inf`` when a block has no split).
    """

    net: TwoLayerNet | None
    no_split: tuple[int, ...]
    prediction_error: float
    penalty_ratio: float


def decompose_gated(
    X: np.ndarray, patterns: np.ndarray, U: np.ndarray, *, gates: np.ndarray | None = None
) -> GatedDecomposition:
    """Cone-decompose every block of a gated solution ``U`` ``(P, d)`` and measure the ReLU network it gives.

    Mishkin, Sahiner & Pilanci (ICML 2022): when every gate is an arrangement pattern whose cone
    ``K_i = {x : (2 D_i - I) X x >= 0}`` has an interior, ``K_i - K_i = R^d`` and each ``u_i = v_i - w_i`` with
    ``v_i, w_i in K_i``; then ``(X v_i)_+ - (X w_i)_+ = D_i X u_i`` and the ReLU network has exactly the gated
    model's predictions. Blocks are split one at a time (:func:`cone_decomposition`), so every gate without a
    split is reported (``no_split``) instead of stopping at the first; blocks below ``BLOCK_ZERO_TOL`` times the
    largest are solver residue and stay zero, as in :func:`cone_decomposition`.

    ``gates``: the ``(d, P)`` gates that sampled ``patterns`` (:func:`cvxnn_core.patterns.sample_gates`); given, each
    block is split along its gate (:func:`gate_split`, ``O(n d)`` a block) instead of by the minimum-norm
    least-distance program (one NNLS over ``n`` constraints a block, too slow beyond a few thousand rows). The
    predictions are the same either way; the penalty ratio is larger along the gates.
    """
    X = check_X(X)
    patterns = check_patterns(patterns, X.shape[0])
    U = check_array(U, "U", (patterns.shape[1], X.shape[1]), labels=("P", "d"),
                    fix="pass the V of a gated solution (programs.solve_gated_relu or solvers.fista_gated)")
    if gates is not None:
        gates = check_array(gates, "gates", (X.shape[1], patterns.shape[1]), labels=("d", "P"),
                            fix="pass the G of patterns.sample_gates(X, ...) that sampled these patterns")
    V = np.zeros_like(U)
    W = np.zeros_like(U)
    no_split = []
    norms = block_norms(U)
    for i in np.flatnonzero(norms > BLOCK_ZERO_TOL * np.max(norms, initial=0.0)):  # solver residue stays zero
        try:
            if gates is None:
                Vi, Wi = cone_decomposition(X, patterns[:, [i]], U[[i]])
                V[i], W[i] = Vi[0], Wi[0]
            else:
                V[i], W[i] = gate_split(X, patterns[:, i], gates[:, i], U[i])
        except ValueError:
            no_split.append(i)
    if no_split:
        return GatedDecomposition(net=None, no_split=tuple(no_split), prediction_error=np.inf, penalty_ratio=np.inf)
    net = block_network(V, W)
    gated = convex_predictions(X, patterns, U)
    error = float(np.max(np.abs(net.predict(X) - gated), initial=0.0) / max(np.max(np.abs(gated), initial=0.0), 1e-300))
    penalty = float(np.sum(block_norms(U)))
    ratio = float(np.sum(block_norms(V)) + np.sum(block_norms(W))) / penalty if penalty > 0 else 1.0
    return GatedDecomposition(net=net, no_split=(), prediction_error=error, penalty_ratio=ratio)

r"""Convex neural autoregressive models of binary images (Gupta, Bartan, Ergen & Pilanci, ICASSP 2021).

An autoregressive model factorises ``p(x) = prod_k p(x_k | c_k)`` over the pixels in raster order. Here, as in the
paper's public code, one conditional is shared by every position and reads a fixed causal *context* ``c_k`` (the
code uses the previous 10 values; we use the four causal neighbours: left, up-left, up, up-right, zero outside the
image). The conditional is a one-hidden-layer ReLU network ``p(x_k = 1 | c) = sigmoid(f(c))``,
``f(c) = ([c, 1] W1^T)_+ w2``, trained on the negative log-likelihood with weight decay, which is the logistic loss

    sum_k log(1 + exp(-s_k f(c_k))) + (beta/2) (||W1||_F^2 + ||w2||^2),   s_k = 2 x_k - 1.

A context takes at most ``2^r`` values, so the loss is a weighted sum over the table of all contexts (counts of ones
and zeros after each, :func:`context_table`), and the training problem is the convex ReLU program with that loss
(the paper's "constrained, regularised logistic regression"):

    min  sum_u [ n1_u softplus(-f_u) + n0_u softplus(f_u) ] + beta sum_i (||v_i|| + ||w_i||),
    f = sum_i D_i U (v_i - w_i),  (2 D_i - I) U v_i >= 0,  (2 D_i - I) U w_i >= 0,

exact over the complete arrangement of the ``2^r`` contexts ``U`` (enumerable for ``r <= 4``). The relaxations of the
paper: ``"gated"`` drops the cone constraints (a gated-ReLU model with gates fixed by the patterns) and ``"hinge"``
replaces them by the penalty ``rho sum_i 1^T [(-(2D_i - I) U v_i)_+ + (-(2D_i - I) U w_i)_+]``.

Our implementation of the programs stated in the paper's abstract and public code (the paper's text was not at hand).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_patterns,
    check_positive_number,
)
from cvxnn_core.recovery import TwoLayerNet

__all__ = ["AutoregressiveFit", "ContextTable", "causal_contexts", "context_table", "image_nll",
           "solve_autoregressive"]

RELAXATIONS = ("exact", "gated", "hinge")
MAX_CONTEXT_BITS = 12  # a table of 2^12 contexts is the largest accepted
# Clarabel reaches 1e-10 on the programs of squared loss; with the exponential cones of the logistic loss over
# thousands of pixels it stalls near 1e-10 and reports "inaccurate": 1e-8 (of the per-pixel loss) is what it attains.
CLARABEL_OPTIONS = {"tol_gap_abs": 1e-8, "tol_gap_rel": 1e-8, "tol_feas": 1e-8, "max_iter": 500}


def _check_images(images: object) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise ValueError(f"images must have shape (N, height, width), got shape {arr.shape}")
    if not np.all(np.isin(arr, (0, 1))):
        raise ValueError("images must be binary (0/1 pixels); binarise them first, e.g. (digits > 7)")
    return arr.astype(np.int8)


NEIGHBOURS = ("left", "up_left", "up", "up_right")


def causal_contexts(
    images: np.ndarray, neighbours: tuple[str, ...] | list[str] = NEIGHBOURS,
) -> tuple[np.ndarray, np.ndarray]:
    """``(contexts, targets)`` of every pixel of binary ``images`` ``(N, h, w)`` in raster order: its causal
    ``neighbours`` (a subset of :data:`NEIGHBOURS`, in that order; ``0`` outside the image) ``(N h w, r)`` and the
    pixel ``(N h w,)``."""
    imgs = _check_images(images)
    if isinstance(neighbours, str) or not isinstance(neighbours, tuple | list) or not neighbours \
            or not set(neighbours) <= set(NEIGHBOURS) or len(set(neighbours)) != len(neighbours):
        raise ValueError(f"neighbours must be distinct names among {NEIGHBOURS}, got {neighbours!r}")
    padded = np.pad(imgs, ((0, 0), (1, 0), (1, 1)))
    h, w = imgs.shape[1:]
    left = padded[:, 1:, :w]
    up_left = padded[:, :h, :w]
    up = padded[:, :h, 1 : w + 1]
    up_right = padded[:, :h, 2 : w + 2]
    planes = {"left": left, "up_left": up_left, "up": up, "up_right": up_right}
    contexts = np.stack([planes[k] for k in NEIGHBOURS if k in neighbours], axis=-1).reshape(-1, len(neighbours))
    return contexts.astype(np.float64), imgs.reshape(-1).astype(np.float64)


@dataclass(frozen=True)
class ContextTable:
    """All ``2^r`` binary contexts ``U`` ``(2^r, r + 1)`` (row ``u`` is the binary expansion of ``u``, then a ones
    column: the bias) with the counts ``ones`` and ``zeros`` of the pixels that follow each in the data."""

    U: np.ndarray = field(repr=False)
    ones: np.ndarray = field(repr=False)
    zeros: np.ndarray = field(repr=False)

    @property
    def bits(self) -> int:
        return int(self.U.shape[1] - 1)

    def index(self, contexts: np.ndarray) -> np.ndarray:
        """Row of ``U`` of each binary context ``(m, r)``."""
        C = np.asarray(contexts, dtype=np.float64)
        if C.ndim != 2 or C.shape[1] != self.bits or not np.all(np.isin(C, (0.0, 1.0))):
            raise ValueError(f"contexts must be a binary array of shape (m, {self.bits}), got shape {C.shape}")
        return (C.astype(np.int64) * (1 << np.arange(self.bits - 1, -1, -1))).sum(axis=1)


def context_table(contexts: np.ndarray, targets: np.ndarray) -> ContextTable:
    """Count, for every one of the ``2^r`` binary contexts, the ones and zeros that follow it."""
    C = np.asarray(contexts, dtype=np.float64)
    t = np.asarray(targets, dtype=np.float64)
    if C.ndim != 2 or not 1 <= C.shape[1] <= MAX_CONTEXT_BITS:
        raise ValueError(f"contexts must have shape (m, r) with 1 <= r <= {MAX_CONTEXT_BITS}, got shape {C.shape}")
    if t.shape != (C.shape[0],):
        raise ValueError(f"targets must have shape ({C.shape[0]},), one pixel per context, got shape {t.shape}")
    if not (np.all(np.isin(C, (0.0, 1.0))) and np.all(np.isin(t, (0.0, 1.0)))):
        raise ValueError("contexts and targets must be binary (0/1)")
    r = C.shape[1]
    U = np.array([[(u >> (r - 1 - b)) & 1 for b in range(r)] for u in range(1 << r)], dtype=np.float64)
    table = ContextTable(np.hstack([U, np.ones((1 << r, 1))]), np.zeros(1 << r), np.zeros(1 << r))
    idx = table.index(C)
    np.add.at(table.ones, idx, t)
    np.add.at(table.zeros, idx, 1.0 - t)
    return table


@dataclass(frozen=True)
class AutoregressiveFit:
    """Solution of :func:`solve_autoregressive`: blocks ``V``, ``W`` ``(P, r + 1)``, ``patterns`` ``(2^r, P)`` over
    the table's contexts, ``objective``, ``beta``, ``relaxation``, ``solve_time`` (s) and the fitted logits on every
    context ``logits_table`` ``(2^r,)``; ``cone_violation`` is ``max_i ||((2D_i - I) U b_i)_-||_inf`` (0 for
    ``"exact"``)."""

    V: np.ndarray = field(repr=False)
    W: np.ndarray = field(repr=False)
    patterns: np.ndarray = field(repr=False)
    table: ContextTable = field(repr=False)
    objective: float
    beta: float
    relaxation: str
    solve_time: float
    cone_violation: float

    @property
    def logits_table(self) -> np.ndarray:
        D = self.patterns.astype(np.float64)
        return np.einsum("up,up->u", D, self.table.U @ (self.V - self.W).T)

    def logits(self, contexts: np.ndarray) -> np.ndarray:
        """``f(c)`` of each binary context ``(m, r)`` (the model's logit of ``p(x = 1 | c)``)."""
        return self.logits_table[self.table.index(contexts)]

    def network(self) -> TwoLayerNet:
        """The ReLU network of an ``"exact"`` fit: neuron ``v_i / sqrt||v_i||`` with output ``+sqrt||v_i||`` (and
        ``-`` for ``w_i``); on the contexts it computes :attr:`logits_table`, with weight decay ``beta sum ||b_i||``."""
        if self.relaxation != "exact":
            raise ValueError(f"network() needs the exact program; the {self.relaxation!r} relaxation is a gated model "
                             "(use logits)")
        B = np.vstack([self.V, self.W])
        s = np.r_[np.ones(len(self.V)), -np.ones(len(self.W))]
        norms = np.linalg.norm(B, axis=1)
        keep = norms > 0
        return TwoLayerNet(B[keep] / np.sqrt(norms[keep])[:, None], s[keep] * np.sqrt(norms[keep]))


def _softplus(f: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, f)


def solve_autoregressive(
    table: ContextTable, beta: float, patterns: np.ndarray, *, relaxation: str = "exact", rho: float = 1.0,
) -> AutoregressiveFit:
    """Fit the shared conditional by the convex program (module docstring) over ``patterns`` (boolean
    ``(2^r, P)`` over ``table.U``: :func:`cvxnn_core.patterns.enumerate_patterns` of ``table.U`` for the exact
    equivalence, or sampled), with Clarabel. ``relaxation``: ``"exact"``, ``"gated"`` or ``"hinge"`` (penalty
    weight ``rho``). ``objective`` is the program's own objective at the solution (for ``"hinge"`` with its
    penalty)."""
    import cvxpy as cp

    from cvxnn_core._cvx import block_norms, run_problem

    if not isinstance(table, ContextTable):
        raise TypeError(f"table must be an autoregressive.ContextTable (context_table), got {type(table).__name__}")
    beta = check_beta(beta)
    relaxation = check_choice(relaxation, "relaxation", RELAXATIONS)
    rho = check_positive_number(rho, "rho")
    D = check_patterns(patterns, table.U.shape[0]).astype(np.float64)
    U, P = table.U, D.shape[1]
    V, W = cp.Variable((P, U.shape[1])), cp.Variable((P, U.shape[1]))
    f = cp.sum(cp.multiply(D, U @ (V - W).T), axis=1)
    loss = table.ones @ cp.logistic(-f) + table.zeros @ cp.logistic(f)
    penalty = beta * (cp.sum(cp.norm(V, 2, axis=1)) + cp.sum(cp.norm(W, 2, axis=1)))
    S = 2 * D - 1
    cones = [cp.multiply(S, U @ V.T), cp.multiply(S, U @ W.T)]
    objective = loss + penalty
    if relaxation == "hinge":
        objective = objective + rho * sum(cp.sum(cp.pos(-c)) for c in cones)
    scale = 1.0 / max(float(table.ones.sum() + table.zeros.sum()), 1.0)  # per pixel: counts in the thousands
    problem = cp.Problem(cp.Minimize(scale * objective), [c >= 0 for c in cones] if relaxation == "exact" else [])
    start = time.perf_counter()
    run_problem(problem, "CLARABEL", CLARABEL_OPTIONS, what=f" on the {relaxation} autoregressive program")
    elapsed = time.perf_counter() - start
    Vv, Wv = np.asarray(V.value, dtype=np.float64), np.asarray(W.value, dtype=np.float64)
    fv = np.einsum("up,up->u", D, U @ (Vv - Wv).T)
    violation = max(float(np.max(np.maximum(-S * (U @ B.T), 0.0))) for B in (Vv, Wv))
    obj = float(table.ones @ _softplus(-fv) + table.zeros @ _softplus(fv)
                + beta * (block_norms(Vv).sum() + block_norms(Wv).sum()))
    if relaxation == "hinge":
        obj += rho * sum(float(np.maximum(-S * (U @ B.T), 0.0).sum()) for B in (Vv, Wv))
    return AutoregressiveFit(Vv, Wv, D > 0, table, obj, beta, relaxation, elapsed,
                             0.0 if relaxation == "exact" else violation)


def image_nll(logits: np.ndarray, images: np.ndarray) -> float:
    """Mean negative log-likelihood per image, in nats: ``logits`` ``(N h w,)`` of every pixel of ``images``
    ``(N, h, w)`` in raster order (the model's ``f(c_k)``, e.g. ``fit.logits(causal_contexts(images)[0])``)."""
    _, targets = causal_contexts(images)
    f = np.asarray(logits, dtype=np.float64)
    if f.shape != targets.shape or not np.all(np.isfinite(f)):
        raise ValueError(f"logits must be a finite array of shape {targets.shape} (one per pixel), got {f.shape}")
    s = 2.0 * targets - 1.0
    return float(_softplus(-s * f).sum() / np.asarray(images).shape[0])


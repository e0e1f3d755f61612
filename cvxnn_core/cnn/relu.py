"""The two-layer ReLU CNN: its convex program, recovery of the filters, and objectives."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from cvxnn_core._cvx import CNN_SOLVER_OPTIONS, check_solver, clean_blocks, project_blocks, solve_linked
from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_labels_pm1,
    check_loss,
    check_patterns,
    check_positive_int,
    check_y,
)
from cvxnn_core.cnn.patches import (
    POOLINGS,
    _scale,
    check_patches,
    enumerate_patch_patterns,
    extract_patches,
)
from cvxnn_core.losses import Loss, loss_value, negative_gradient

Pooling = Literal["average", "sum"]



# --------------------------------------------------------------------------------------------------
# Two-layer ReLU CNN: convex program, recovery, objective
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvexCNNResult:
    """Solution of :func:`solve_cnn_relu`.

    ``objective`` (at the returned variables), ``V``, ``W`` (``(P, h)``), ``patterns`` (``(n K, P)``),
    ``n_patches`` (``K``), ``pooling``, ``status``, ``solver``, ``solve_time`` (s), ``beta``, ``loss``,
    ``dual`` (``(n,)``, the multiplier of the predictions, ``= -grad l(f)`` at the optimum).
    """

    objective: float
    V: np.ndarray
    W: np.ndarray
    patterns: np.ndarray
    n_patches: int
    pooling: str
    status: str
    solver: str
    solve_time: float
    beta: float
    loss: str
    dual: np.ndarray | None = field(default=None, repr=False)

    @property
    def n_active_blocks(self) -> int:
        """Number of non-zero blocks (= filters of the recovered CNN)."""
        return int(np.sum(np.any(self.V != 0, axis=1)) + np.sum(np.any(self.W != 0, axis=1)))

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """``s * sum_i sum_k D_i^k X_k (v_i - w_i)`` on the training patches the patterns were built from."""
        P = check_patches(patches)
        if P.shape[0] * P.shape[1] != self.patterns.shape[0] or P.shape[2] != self.V.shape[1]:
            raise ValueError(f"patches give n K = {P.shape[0] * P.shape[1]} patch rows of h = {P.shape[2]} but the "
                             f"result's patterns have {self.patterns.shape[0]} rows of h = {self.V.shape[1]}; predict "
                             "works on the training patches only: use cnn_network(result).predict for new data")
        return convex_cnn_predictions(patches, self.patterns, self.V - self.W, self.pooling)


def convex_cnn_predictions(patches: np.ndarray, patterns: np.ndarray, U: np.ndarray, pooling: Pooling) -> np.ndarray:
    """``s * sum_k sum_i D_i^k X_k u_i`` for ``U`` of shape ``(P, h)``; shape ``(n,)``."""
    P = check_patches(patches)
    n, K, h = P.shape
    check_choice(pooling, "pooling", POOLINGS)
    patterns = check_patterns(patterns, n * K)
    U = check_array(U, "U", (patterns.shape[1], h), labels=("P", "h"))
    Z = P.reshape(n * K, h)
    rows = np.sum(patterns * (Z @ U.T), axis=1)
    return _scale(pooling, K) * rows.reshape(n, K).sum(axis=1)


def convex_cnn_objective(
    patches: np.ndarray,
    y: np.ndarray,
    patterns: np.ndarray,
    V: np.ndarray,
    W: np.ndarray,
    beta: float,
    loss: Loss = "squared",
    pooling: Pooling = "average",
) -> float:
    """``l(s sum_i sum_k D_i^k X_k (v_i - w_i)) + beta sum_i (||v_i|| + ||w_i||)`` (cones not checked)."""
    P, y, beta, patterns, loss = _prepare_cnn(patches, y, beta, patterns, loss, pooling)
    shape = (patterns.shape[1], P.shape[2])
    V = check_array(V, "V", shape, labels=("P", "h"))
    W = check_array(W, "W", shape, labels=("P", "h"))
    f = convex_cnn_predictions(P, patterns, V - W, pooling)
    return loss_value(f, y, loss) + beta * float(np.sum(np.linalg.norm(V, axis=1)) + np.sum(np.linalg.norm(W, axis=1)))


def _prepare_cnn(patches, y, beta, patterns, loss, pooling):
    P = check_patches(patches)
    n, K, _ = P.shape
    y = check_y(y, n)
    beta = check_beta(beta)
    loss = check_loss(loss)
    check_labels_pm1(y, loss)
    check_choice(pooling, "pooling", POOLINGS)
    patterns = check_patterns(patterns, n * K)
    return P, y, beta, patterns, loss


def _solve_program(penalty, f, y: np.ndarray, loss: str, constraints: list, solver: str):
    """:func:`cvxnn_core._cvx.solve_linked` with :data:`~cvxnn_core._cvx.CNN_SOLVER_OPTIONS` (package defaults for
    logistic)."""
    options = dict(CNN_SOLVER_OPTIONS[solver]) if solver in CNN_SOLVER_OPTIONS and loss != "logistic" else None
    return solve_linked(penalty, f, y, loss, constraints, solver, options, stacklevel=5)


def _distinct_cone_rows(Z: np.ndarray, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct non-zero rows of ``Z`` with their sign rows ``2 D - 1`` (duplicates and zero rows removed)."""
    keep = np.any(Z != 0, axis=1)
    joint = np.concatenate([Z[keep], patterns[keep].astype(float)], axis=1)
    if joint.shape[0] == 0:
        return Z[:0], np.zeros((0, patterns.shape[1]))
    uniq = np.unique(joint, axis=0)
    h = Z.shape[1]
    return uniq[:, :h], 2.0 * uniq[:, h:] - 1.0


def solve_cnn_relu(
    patches: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    loss: Loss = "squared",
    pooling: Pooling = "average",
    solver: str | None = None,
) -> ConvexCNNResult:
    r"""Solve the convex program of the two-layer ReLU CNN over the given patch patterns.

    ``min l(s sum_i sum_k D_i^k X_k (v_i - w_i)) + beta sum_i (||v_i|| + ||w_i||)`` s.t.
    ``(2 D_i - I) Z v_i >= 0``, ``(2 D_i - I) Z w_i >= 0`` (module docstring).

    Args:
        patches: ``(n, K, h)`` from :func:`extract_patches` (optionally :func:`add_patch_intercept`).
        y: targets ``(n,)``; labels ``+-1`` for the hinge and logistic losses.
        beta: weight decay ``>= 0``.
        patterns: boolean ``(n K, P)`` (:func:`sample_patch_patterns` or :func:`enumerate_patch_patterns`).
        loss: ``"squared"``, ``"hinge"`` or ``"logistic"``.
        pooling: ``"average"`` (``s = 1/K``) or ``"sum"`` (``s = 1``).
        solver: a cvxpy solver name; ``None`` means Clarabel.

    Raises:
        SolverError: the solver is not installed or did not reach an optimal status.
    """
    import cvxpy as cp
    import scipy.sparse as sp

    P, y, beta, patterns, loss = _prepare_cnn(patches, y, beta, patterns, loss, pooling)
    solver = check_solver(solver)
    n, K, h = P.shape
    Z = P.reshape(n * K, h)
    n_pat = patterns.shape[1]
    lam = negative_gradient(np.zeros_like(y), y, loss)  # the dual point at f = 0
    G = Z.T @ (patterns * (np.repeat(lam, K) * _scale(pooling, K))[:, None])  # (h, P): column i is X^T D_i lam
    if float(np.max(np.linalg.norm(G, axis=0), initial=0.0)) <= beta:  # zero is optimal (the two-layer rule)
        return _zero_cnn(P, y, beta, patterns, loss, pooling, solver="none: beta >= beta_max, the zero network is "
                         "optimal", status="optimal", elapsed=0.0, dual=lam)
    Dm = patterns.astype(float)
    pool = sp.kron(sp.eye(n, format="csr"), np.full((1, K), _scale(pooling, K)), format="csr")
    V = cp.Variable((h, n_pat))
    W = cp.Variable((h, n_pat))
    f = pool @ cp.sum(cp.multiply(Dm, Z @ (V - W)), axis=1)
    penalty = cp.sum(cp.norm(V, 2, axis=0)) + cp.sum(cp.norm(W, 2, axis=0))
    # One cone row per distinct (patch, pattern row): duplicate patches (blank image regions) repeat the same
    # constraint, and all-zero patches give 0 >= 0; both only degrade the interior-point method.
    Zc, Sc = _distinct_cone_rows(Z, patterns)
    cones = [cp.multiply(Sc, Zc @ V) >= 0, cp.multiply(Sc, Zc @ W) >= 0]
    status, elapsed, dual = _solve_program(beta * penalty, f, y, loss, cones, solver)
    Dc = Sc > 0
    Vh, Wh, objective = clean_blocks(
        np.asarray(V.value).T,
        np.asarray(W.value).T,
        lambda A, B: convex_cnn_objective(P, y, patterns, A, B, beta, loss, pooling),
        lambda B: project_blocks(Zc, Dc, B),
    )
    if loss_value(np.zeros_like(y), y, loss) <= objective:  # no better than zero: the exact zero network
        return _zero_cnn(P, y, beta, patterns, loss, pooling, solver=f"{solver}: no point better than the zero network",
                         status=status, elapsed=elapsed, dual=dual)
    return ConvexCNNResult(
        objective=objective,
        V=Vh,
        W=Wh,
        patterns=patterns,
        n_patches=K,
        pooling=pooling,
        status=status,
        solver=solver,
        solve_time=elapsed,
        beta=beta,
        loss=loss,
        dual=dual,
    )


def _zero_cnn(P, y, beta, patterns, loss, pooling, *, solver, status, elapsed, dual) -> ConvexCNNResult:
    zero = np.zeros((patterns.shape[1], P.shape[2]))
    return ConvexCNNResult(objective=loss_value(np.zeros_like(y), y, loss), V=zero, W=zero, patterns=patterns,
                           n_patches=P.shape[1], pooling=pooling, status=status, solver=solver, solve_time=elapsed,
                           beta=beta, loss=loss, dual=dual)


@dataclass(frozen=True)
class TwoLayerCNN:
    """``f(x) = sum_j w2_j * s * sum_k (x_k^T u_j)_+`` with ``filters`` ``(m, h)`` (rows ``u_j``), ``w2`` ``(m,)``."""

    filters: np.ndarray
    w2: np.ndarray
    pooling: str = "average"

    def __post_init__(self) -> None:
        try:
            U = np.atleast_2d(np.asarray(self.filters, dtype=np.float64))
            w2 = np.asarray(self.w2, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise TypeError("filters (m, h) and w2 (m,) must be numeric arrays") from exc
        if U.ndim != 2:
            raise ValueError(f"filters must have shape (m, h) (one row per filter), got shape {U.shape}")
        for value, label in ((U, "filters"), (w2, "w2")):
            if not np.all(np.isfinite(value)):
                raise ValueError(f"{label} contains NaN or inf")
        if U.shape[0] != w2.shape[0]:
            raise ValueError(f"filters has {U.shape[0]} rows (filters) but w2 has {w2.shape[0]} entries")
        check_choice(self.pooling, "pooling", POOLINGS)
        object.__setattr__(self, "filters", U)
        object.__setattr__(self, "w2", w2)

    @property
    def width(self) -> int:
        """Number of filters ``m``."""
        return int(self.w2.shape[0])

    def hidden(self, patches: np.ndarray) -> np.ndarray:
        """Pooled activations ``s * sum_k (X_k U^T)_+``, shape ``(n, m)``."""
        P = check_patches(patches)
        if P.shape[2] != self.filters.shape[1]:
            raise ValueError(
                f"patches have h = {P.shape[2]} entries but the filters have {self.filters.shape[1]}; "
                "extract the patches (and the intercept) as in training"
            )
        return _scale(self.pooling, P.shape[1]) * np.maximum(P @ self.filters.T, 0.0).sum(axis=1)

    def predict(self, patches: np.ndarray) -> np.ndarray:
        """Network output, shape ``(n,)``."""
        return self.hidden(patches) @ self.w2

    def weight_decay(self) -> float:
        """``0.5 * (||filters||_F^2 + ||w2||^2)``."""
        return 0.5 * float(np.sum(self.filters**2) + np.sum(self.w2**2))

    def filter_strengths(self) -> np.ndarray:
        """``||u_j|| |w2_j|``: each filter's share of the (balanced) penalty, shape ``(m,)``."""
        return np.linalg.norm(self.filters, axis=1) * np.abs(self.w2)


def strongest_filters(net: TwoLayerCNN, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` filters with the largest strength ``||u_j|| |w2_j|``: unit-norm filters ``(k', h)``, their strengths
    and the signs of their output weights (``k' = min(k, m)``), strongest first."""
    _check_cnn(net)
    k = check_positive_int(k, "k")
    strength = net.filter_strengths()
    order = np.argsort(-strength, kind="stable")[:k]
    norms = np.linalg.norm(net.filters[order], axis=1)
    unit = net.filters[order] / np.where(norms > 0, norms, 1.0)[:, None]
    return unit, strength[order], np.sign(net.w2[order])


def filter_alignment(net: TwoLayerCNN, planted: np.ndarray, k: int) -> pd.DataFrame:
    """The ``k`` strongest filters of ``net`` (:func:`strongest_filters`) and how well each matches a planted one.

    One row per filter, strongest first: ``rank``, ``strength`` ``||u_j|| |w2_j|``, ``sign`` of ``w2_j``,
    ``best cosine to planted`` ``max_p <u_j / ||u_j||, planted_p / ||planted_p||>`` over the planted filters
    ``(q, ...)`` (flattened to the filter size ``h``), and the unit filter's entries ``u0 .. u{h-1}``.
    """
    unit, strength, sign = strongest_filters(net, k)
    flat = np.asarray(planted, dtype=np.float64)
    if flat.ndim == 0 or flat.shape[0] == 0:
        raise ValueError("planted must hold at least one filter, shape (q, ...)")
    flat = flat.reshape(flat.shape[0], -1)
    if not np.all(np.isfinite(flat)):
        raise ValueError("planted contains NaN or inf")
    if not np.all(np.any(flat != 0, axis=1)):
        raise ValueError(f"planted filter {int(np.argmin(np.any(flat != 0, axis=1)))} is zero; every planted filter "
                         "needs a direction")
    if flat.shape[1] != unit.shape[1]:
        raise ValueError(f"planted filters have {flat.shape[1]} entries but the network's filters {unit.shape[1]}")
    cos = unit @ (flat / np.linalg.norm(flat, axis=1, keepdims=True)).T
    return pd.DataFrame([{"rank": i, "strength": c, "sign": sg, "best cosine to planted": cos[i].max(),
                          **{f"u{p}": v for p, v in enumerate(unit[i])}}
                         for i, (c, sg) in enumerate(zip(strength, sign, strict=True))])


def complete_program_cost(signals: np.ndarray, y: np.ndarray, beta: float, filter_size: int, *,
                          max_patterns: int = 5000) -> dict[str, float]:
    """Enumerate the complete patch arrangement of 1-D ``signals`` ``(n, L)`` and solve the CNN program over it.

    Returns ``n``, ``K``, ``h``, ``rows`` (``n K``), ``patterns`` (``P``), ``bound`` (the chamber bound
    ``2 sum_{k<h} C(nK - 1, k)``), ``enumerate_time`` and ``solve_time`` (s, cvxpy compilation + Clarabel) and
    ``objective``: the cost of exact training as a function of ``n`` and the filter size ``h``. An arrangement of
    more than ``max_patterns`` patterns is refused before it is enumerated.
    """
    from cvxnn_core.patterns import max_pattern_count

    if np.ndim(signals) != 2:
        raise ValueError(f"signals must have shape (n, L) (1-D signals), got shape {np.shape(signals)}")
    filter_size = check_positive_int(filter_size, "filter_size")
    patches = extract_patches(signals, filter_size)
    n, K, h = patches.shape
    start = time.perf_counter()
    D = enumerate_patch_patterns(patches, max_patterns=max_patterns)
    enumerate_time = time.perf_counter() - start
    result = solve_cnn_relu(patches, y, beta, D)
    return {
        "n": n,
        "K": K,
        "h": h,
        "rows": n * K,
        "patterns": D.shape[1],
        "bound": max_pattern_count(n * K, h),
        "enumerate_time": enumerate_time,
        "solve_time": result.solve_time,
        "objective": result.objective,
    }


def cnn_network(result: ConvexCNNResult) -> TwoLayerCNN:
    """The CNN of a convex solution: one filter per non-zero block, ``u = v/sqrt(||v||)``, ``w2 = +-sqrt(||v||)``."""
    if not isinstance(result, ConvexCNNResult):
        raise TypeError(f"result must be a cnn.ConvexCNNResult (from solve_cnn_relu), got {type(result).__name__}")
    blocks = np.concatenate([result.V, result.W])
    signs = np.concatenate([np.ones(len(result.V)), -np.ones(len(result.W))])
    norms = np.linalg.norm(blocks, axis=1)
    keep = norms > 0
    scale = np.sqrt(norms[keep])
    return TwoLayerCNN(filters=blocks[keep] / scale[:, None], w2=signs[keep] * scale, pooling=result.pooling)


def cnn_objective(patches: np.ndarray, y: np.ndarray, net: TwoLayerCNN, beta: float, loss: Loss = "squared") -> float:
    """``l(f(X), y) + (beta/2)(||filters||_F^2 + ||w2||^2)``: the CNN's weight-decay training objective."""
    _check_cnn(net)
    P = check_patches(patches)
    y = check_y(y, P.shape[0])
    return loss_value(net.predict(P), y, check_loss(loss)) + check_beta(beta) * net.weight_decay()


def _check_cnn(net: object) -> None:
    if not isinstance(net, TwoLayerCNN):
        raise TypeError(f"net must be a cnn.TwoLayerCNN, got {type(net).__name__}")



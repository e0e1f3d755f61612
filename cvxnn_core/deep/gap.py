r"""Duality gaps of deep networks: standard versus parallel architectures (Wang, Ergen & Pilanci, arXiv 2110.06482).

Our derivation from the paper's abstract (checked numerically against an independent implementation); the paper may
normalise differently. Conventions: ``X`` ``(n, d)``, ``Y`` ``(n, c)``, loss ``0.5 ||f(X) - Y||_F^2``, no biases.

Deep linear networks, product form
----------------------------------
A depth-``L`` branch ``X W_1 ... W_L`` carries the penalty ``beta prod_l ||W_l||_F``; the smooth form
``(beta/L) sum_l ||W_l||_F^L`` has the same minimum over layer rescalings (AM-GM) and is what gradient methods train.
Since ``min {prod_l ||W_l||_F : W_1 ... W_L = W} = ||W||_{S_{2/L}} = (sum_i sigma_i(W)^(2/L))^(L/2)`` (Hoelder for
Schatten quasi-norms; attained by the balanced factorisation), the **standard** network solves

    P_L = min_W 0.5 ||X W - Y||^2 + beta ||W||_{S_{2/L}}.

Dualising ``Z = X W_1 ... W_L`` with ``max_{||W_l||_F <= 1} ||A W_1 ... W_{L-1}||_F = ||A||_2`` gives the dual

    D = max_Lam <Lam, Y> - 0.5 ||Lam||^2  s.t.  ||X^T Lam||_2 <= beta         (an SDP, independent of L)

whose dual is the nuclear-norm program ``min_W 0.5 ||X W - Y||^2 + beta ||W||_*``: the ``L = 2`` primal. Since
``||W||_{S_{2/L}} >= ||W||_*`` with equality iff ``rank W <= 1``, ``P_L >= D``, and for ``L >= 3`` the gap is
non-zero whenever the nuclear-norm solution has rank ``>= 2``. A **parallel** network ``sum_k X W_1k ... W_Lk`` with
penalty ``beta sum_k prod_l ||W_lk||_F`` reaches ``D`` for every ``L`` (one rank-one branch per singular triple),
so its gap is zero and its convex program is the nuclear-norm program. For whitened ``X`` (``X^T X = I``) both sides
reduce to the singular values ``a = sigma(X^T Y)``: ``D = const + sum_i [0.5 (a_i - (a_i - beta)_+)^2 + beta (a_i -
beta)_+]`` and ``P_L = const + min_{s >= 0} 0.5 ||s - a||^2 + beta ||s||_{2/L}`` (:func:`quasinorm_penalised_min`).

Three-layer ReLU networks (scalar output)
-----------------------------------------
``f = ((X W_1)_+ W_2)_+ w_3`` with penalty ``beta ||W_1||_F ||W_2||_F ||w_3||``, standard or parallel. On rank-one data
``X = a b^T`` every layer-2 feature is ``alpha a_+ + gamma a_-`` (``alpha, gamma >= 0``, ``alpha + gamma <= ||b||``):
the parallel network (and the bidual) is ``min 0.5 ||u a_+ + v a_- - y||^2 + (beta/||b||)(|u| + |v|)``, the standard
one replaces ``|u| + |v|`` by ``(|u|^(2/3) + |v|^(2/3))^(3/2)`` when ``u v < 0``: a gap exactly when the convex
solution uses ``a_+`` and ``a_-`` with opposite signs. On whitened square ``X`` the features are all non-negative
unit vectors: ``D = h(||y_+||) + h(||y_-||)`` (``h`` the Huber function at ``beta``) while the standard network
needs ``min_{s,t >= 0} 0.5 (s - ||y_+||)^2 + 0.5 (t - ||y_-||)^2 + beta ||(s, t)||_{2/3}``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from cvxnn_core._cvx import SDP_SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._shapes import check_array, check_size
from cvxnn_core._training import limit_threads
from cvxnn_core._validation import (
    check_beta,
    check_choice,
    check_int_pair,
    check_layers,
    check_n_layers,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X,
    check_X_y,
    check_Y,
)

MAX_SUPPORT_SIZE = 10  # quasinorm_penalised_min enumerates the 2^r supports of r singular values
MAX_LBFGS_RUNS = 6000  # default cap on quasinorm_penalised_min's local runs (starts x supports)
MAX_PARAMETERS = 1_000_000  # default cap on the weights of the L-BFGS-B fits (L-BFGS-B keeps ~60 vectors of them)


def schatten(W: np.ndarray, p: float) -> float:
    """``||W||_{S_p} = (sum_i sigma_i(W)^p)^(1/p)`` (a quasi-norm for ``p < 1``; ``p = inf`` is the largest singular
    value)."""
    W = check_X(np.atleast_2d(W) if np.ndim(W) == 1 else W, "W")
    if isinstance(p, int | float | np.integer | np.floating) and not isinstance(p, bool) and p == np.inf:
        return float(np.linalg.svd(W, compute_uv=False).max())
    p = check_positive_number(p, "p")
    s = np.linalg.svd(W, compute_uv=False)
    return float(np.sum(s**p) ** (1.0 / p))


def nuclear_dual(X: np.ndarray, Y: np.ndarray, beta: float, *, solver: str | None = None) -> tuple[float, np.ndarray]:
    """``D = max <Lam, Y> - 0.5 ||Lam||^2  s.t.  ||X^T Lam||_2 <= beta`` (cvxpy SDP); returns ``(D, Lam)``."""
    import cvxpy as cp

    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    beta = check_beta(beta)
    solver = check_solver(solver)
    Lam = cp.Variable(Y.shape)
    problem = cp.Problem(cp.Maximize(cp.sum(cp.multiply(Lam, Y)) - 0.5 * cp.sum_squares(Lam)),
                         [cp.sigma_max(X.T @ Lam) <= beta])
    run_problem(problem, solver, SDP_SOLVER_OPTIONS.get(solver), what=" on the deep linear dual")
    return float(problem.value), np.asarray(Lam.value)


def nuclear_program(
    X: np.ndarray, Y: np.ndarray, beta: float, *, solver: str | None = None
) -> tuple[float, np.ndarray]:
    """The bidual ``min_W 0.5 ||X W - Y||^2 + beta ||W||_*`` (cvxpy); returns ``(value, W)``. It is the optimum of the
    parallel network of every depth and of the standard network of depth 2."""
    import cvxpy as cp

    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    beta = check_beta(beta)
    solver = check_solver(solver)
    W = cp.Variable((X.shape[1], Y.shape[1]))
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(X @ W - Y) + beta * cp.normNuc(W)))
    run_problem(problem, solver, SDP_SOLVER_OPTIONS.get(solver), what=" on the nuclear-norm program")
    return float(problem.value), np.asarray(W.value)


def quasinorm_penalised_min(a: np.ndarray, beta: float, p: float, *, starts: int = 20, seed: int = 0,
                            max_runs: int = MAX_LBFGS_RUNS) -> tuple[float, np.ndarray]:
    """``min_{s >= 0} 0.5 ||s - a||^2 + beta (sum_i s_i^p)^(1/p)`` for ``0 < p <= 1``; returns ``(value, s)``.

    The objective is not convex for ``p < 1``. Every support ``S`` of ``s`` is tried (``2^r`` of them): on it the
    objective is smooth and ``starts`` seeded L-BFGS-B runs from ``a_S`` times ``U(0.2, 1.2)`` are taken; ``s = 0`` is
    a candidate too. Exact up to the local solver on each support for the small ``r`` used in the book. The
    ``starts (2^r - 1)`` local runs are refused above ``max_runs`` (``r = 10`` with 20 starts takes 40 s)."""
    import scipy.optimize as so

    a = check_array(np.ravel(a) if np.ndim(a) == 2 and 1 in np.shape(a) else a, "a", (None,), labels=("r",))
    beta = check_beta(beta)
    p = check_positive_number(p, "p")
    if not 0 < p <= 1:
        raise ValueError(f"p must be in (0, 1], got {p!r}")
    starts = check_positive_int(starts, "starts")
    if a.size > MAX_SUPPORT_SIZE:
        raise ValueError(f"a has {a.size} entries; the support enumeration is limited to {MAX_SUPPORT_SIZE}")
    check_size(starts * (2**a.size - 1), check_positive_int(max_runs, "max_runs"),
               what="L-BFGS-B runs (starts x supports), runs", keyword="max_runs", alternative="use fewer starts")
    rng = np.random.default_rng(check_seed(seed))
    best_value, best_s = 0.5 * float(np.sum(a**2)), np.zeros_like(a)
    for size in range(1, a.size + 1):
        for S in itertools.combinations(range(a.size), size):
            aS = a[list(S)]
            rest = 0.5 * float(np.sum(a**2) - np.sum(aS**2))

            def f(x, aS=aS):
                x = np.maximum(x, 1e-300)
                q = np.sum(x**p)
                return (0.5 * np.sum((x - aS) ** 2) + beta * q ** (1 / p),
                        (x - aS) + beta * q ** (1 / p - 1) * x ** (p - 1))

            for _ in range(starts):
                x0 = np.abs(aS) * rng.uniform(0.2, 1.2, size) + 1e-3
                res = so.minimize(f, x0, jac=True, method="L-BFGS-B", bounds=[(1e-12, None)] * size,
                                  options={"ftol": 1e-15, "gtol": 1e-12})
                if rest + res.fun < best_value:
                    best_value = rest + float(res.fun)
                    best_s = np.zeros_like(a)
                    best_s[list(S)] = res.x
    return best_value, best_s


@dataclass(frozen=True)
class WhitenedGap:
    """Primal and dual values of the deep linear problem on whitened data: ``dual`` (``D``, every depth, and the
    parallel optimum), ``primal`` (``P_L`` of the standard network), ``singular_values`` of the standard optimum and
    ``nuclear_singular_values`` of the convex one (soft thresholding), ``n_layers``, ``beta``."""

    dual: float
    primal: float
    singular_values: np.ndarray
    nuclear_singular_values: np.ndarray
    n_layers: int
    beta: float

    @property
    def gap(self) -> float:
        """``P_L - D >= 0``."""
        return self.primal - self.dual


def whitened_gap(X: np.ndarray, Y: np.ndarray, beta: float, n_layers: int) -> WhitenedGap:
    """``P_L`` and ``D`` in closed form for ``X^T X = I`` (module docstring)."""
    from cvxnn_core._linalg import WHITENED_ATOL
    from cvxnn_core._validation import check_whitened
    from cvxnn_core.deep.linear import WHITEN_COLUMNS_FIX

    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    beta = check_beta(beta)
    L = check_n_layers(n_layers)
    check_whitened(X, WHITENED_ATOL, rows=False, who="whitened_gap", fix=WHITEN_COLUMNS_FIX)
    if min(X.shape[1], Y.shape[1]) > MAX_SUPPORT_SIZE:
        raise ValueError(f"whitened_gap enumerates the supports of the min(d, c) = {min(X.shape[1], Y.shape[1])} "
                         f"singular values of X^T Y; at most {MAX_SUPPORT_SIZE} are supported")
    a = np.linalg.svd(X.T @ Y, compute_uv=False)
    const = 0.5 * float(np.sum(Y**2) - np.sum(a**2))
    soft = np.maximum(a - beta, 0.0)
    dual = const + float(np.sum(0.5 * (a - soft) ** 2 + beta * soft))
    primal, s = quasinorm_penalised_min(a, beta, 2.0 / L)
    return WhitenedGap(dual, const + primal, s, soft, L, beta)


def linear_product_objective(X: np.ndarray, Y: np.ndarray, beta: float, branches: list[list[np.ndarray]]) -> float:
    """``0.5 ||sum_k X W_1k ... W_Lk - Y||^2 + beta sum_k prod_l ||W_lk||_F`` (the product-form objective)."""
    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    if not isinstance(branches, list | tuple) or not branches:
        raise ValueError("branches must be a non-empty list of branches, each a list of layers [W_1, ..., W_L]")
    branches = [check_layers(layers, f"branches[{k}]") for k, layers in enumerate(branches)]
    for k, layers in enumerate(branches):
        if layers[0].shape[0] != X.shape[1] or layers[-1].shape[1] != Y.shape[1]:
            raise ValueError(f"branches[{k}] maps {layers[0].shape[0]} inputs to {layers[-1].shape[1]} outputs, but "
                             f"X has {X.shape[1]} columns and Y has {Y.shape[1]}")
    out = np.zeros_like(Y)
    reg = 0.0
    for layers in branches:
        H = X
        for W in layers:
            H = H @ W
        out += H.reshape(Y.shape)
        reg += float(np.prod([np.linalg.norm(W) for W in layers]))
    return 0.5 * float(np.sum((out - Y) ** 2)) + check_beta(beta) * reg


def _check_init_scales(init_scales: object) -> tuple[float, ...]:
    if isinstance(init_scales, str) or not isinstance(init_scales, list | tuple | np.ndarray) or len(init_scales) == 0:
        raise (ValueError if isinstance(init_scales, list | tuple | np.ndarray) else TypeError)(
            f"init_scales must be a non-empty sequence of positive numbers, got {init_scales!r}")
    return tuple(check_positive_number(s, f"init_scales[{i}]") for i, s in enumerate(init_scales))


def _check_parameters(shapes, max_parameters: object) -> None:
    check_size(sum(int(np.prod(s)) for s in shapes), check_positive_int(max_parameters, "max_parameters"),
               what="an L-BFGS-B problem, parameters", keyword="max_parameters",
               alternative="use a smaller width or fewer branches")


def _lbfgs_starts(objective, shapes, *, starts, seed, init_scales, maxiter, threads):
    """L-BFGS-B (scipy, torch gradients) from ``starts`` seeded Gaussian points; sorted list of ``(value, arrays)``."""
    import scipy.optimize as so
    import torch

    sizes = [int(np.prod(s)) for s in shapes]
    offsets = np.cumsum([0, *sizes])
    rng = np.random.default_rng(check_seed(seed))

    def unflat(t):
        return [t[offsets[i]:offsets[i + 1]].reshape(shapes[i]) for i in range(len(shapes))]

    def value_and_grad(x):
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        v = objective(unflat(t))
        v.backward()
        return float(v.item()), t.grad.numpy().copy()

    out = []
    with limit_threads(threads):
        for i in range(starts):
            x0 = rng.standard_normal(offsets[-1]) * init_scales[i % len(init_scales)]
            res = so.minimize(value_and_grad, x0, jac=True, method="L-BFGS-B",
                              options={"maxiter": maxiter, "maxfun": 4 * maxiter, "ftol": 1e-15, "gtol": 1e-11,
                                       "maxcor": 30})
            out.append((float(res.fun), [np.asarray(a) for a in unflat(res.x)]))
    out.sort(key=lambda z: z[0])
    return out


def fit_deep_linear_product(
    X: np.ndarray, Y: np.ndarray, beta: float, n_layers: int, *, n_branches: int = 1, width: int | None = None,
    starts: int = 8, seed: int = 0, init_scales: tuple[float, ...] = (0.9, 0.4, 0.15), maxiter: int = 20000,
    penalty: str = "product", threads: int | None = 1, max_parameters: int = MAX_PARAMETERS,
) -> list[tuple[float, list[list[np.ndarray]]]]:
    """Train the standard (``n_branches = 1``) or parallel deep linear network by L-BFGS-B from ``starts`` seeded
    points (scales cycling through ``init_scales``). ``penalty="product"``: the smooth product form
    ``0.5 ||sum_k X W_1k ... W_Lk - Y||^2 + (beta/L) sum_k sum_l ||W_lk||_F^L``, whose optimum equals that of
    :func:`linear_product_objective`; ``"weight_decay"``: ``(beta/2) sum_k sum_l ||W_lk||_F^2``. Returns
    ``(objective, branches)`` sorted by objective. More than ``max_parameters`` weights are refused."""
    import torch

    X = check_X(X)
    Y = check_Y(Y, X.shape[0])
    beta = check_beta(beta)
    L = check_n_layers(n_layers)
    K = check_positive_int(n_branches, "n_branches")
    m = min(X.shape[1], Y.shape[1]) if width is None else check_positive_int(width, "width")
    starts = check_positive_int(starts, "starts")
    maxiter = check_positive_int(maxiter, "maxiter")
    penalty = check_choice(penalty, "penalty", ("product", "weight_decay"))
    init_scales = _check_init_scales(init_scales)
    dims = [X.shape[1]] + [m] * (L - 1) + [Y.shape[1]]
    shapes = [(dims[i], dims[i + 1]) for i in range(L)] * K
    _check_parameters(shapes, max_parameters)
    Xt, Yt = torch.as_tensor(X), torch.as_tensor(Y)

    def objective(Ws):
        total = torch.zeros_like(Yt)
        reg = 0.0
        for k in range(K):
            H = Xt
            for W in Ws[k * L:(k + 1) * L]:
                H = H @ W
                reg = reg + ((W * W).sum() ** (L / 2) / L if penalty == "product" else (W * W).sum() / 2)
            total = total + H
        return 0.5 * ((total - Yt) ** 2).sum() + beta * reg

    runs = _lbfgs_starts(objective, shapes, starts=starts, seed=seed, init_scales=init_scales, maxiter=maxiter,
                         threads=threads)
    return [(v, [Ws[k * L:(k + 1) * L] for k in range(K)]) for v, Ws in runs]


def relu3_rank_one_values(a: np.ndarray, b: np.ndarray, y: np.ndarray, beta: float) -> tuple[float, float]:
    """``(D, P)`` of the three-layer ReLU network on ``X = a b^T``: the bidual (= parallel optimum)
    ``min 0.5 ||u a_+ + v a_- - y||^2 + (beta/||b||)(|u| + |v|)`` and the standard network's
    ``min ... + (beta/||b||) g(u, v)``, ``g = (|u|^(2/3) + |v|^(2/3))^(3/2)`` when ``u v < 0``. Each quadrant is
    solved separately: ``u v >= 0`` is a convex problem (grid start, then Nelder-Mead), ``u v < 0`` is
    :func:`quasinorm_penalised_min` after a change of variables."""
    import scipy.optimize as so

    a = check_array(a, "a", (None,), labels=("n",))
    b = check_array(b, "b", (None,), labels=("d",))
    if not np.any(b):
        raise ValueError("b must be non-zero (X = a b^T)")
    y = check_array(np.ravel(y) if np.ndim(y) == 2 and np.shape(y)[1] == 1 else y, "y", a.shape, labels=("n",),
                    fix="one target per entry of a")
    beta = check_beta(beta) / float(np.linalg.norm(b))
    ap, am = np.maximum(a, 0.0), np.maximum(-a, 0.0)

    def fit(u, v):
        return 0.5 * float(np.sum((u * ap + v * am - y) ** 2))

    # D: a two-variable lasso, solved by coordinate-wise soft thresholding (ap and am have disjoint supports)
    def soft(x, t):
        return np.sign(x) * max(abs(x) - t, 0.0)

    u_star = soft(ap @ y, beta) / (ap @ ap) if ap @ ap > 0 else 0.0
    v_star = soft(am @ y, beta) / (am @ am) if am @ am > 0 else 0.0
    dual = fit(u_star, v_star) + beta * (abs(u_star) + abs(v_star))
    primal = dual if u_star * v_star >= 0 else np.inf
    # opposite-sign quadrants u = s x, v = -s z with x, z >= 0: a two-variable non-convex problem (grid, then
    # Nelder-Mead from the best grid point and its two axis projections)
    scale = 2 * max(abs(ap @ y) / max(ap @ ap, 1e-300), abs(am @ y) / max(am @ am, 1e-300), 1e-3)
    grid = np.linspace(0.0, scale, 201)
    for sign in (1.0, -1.0):

        def obj(w, sign=sign):
            x, z = max(w[0], 0.0), max(w[1], 0.0)
            return fit(sign * x, -sign * z) + beta * (x ** (2 / 3) + z ** (2 / 3)) ** 1.5

        vals = np.array([[obj((x, z)) for z in grid] for x in grid])
        i, j = np.unravel_index(int(np.argmin(vals)), vals.shape)
        for x0 in ((grid[i], grid[j]), (grid[i], 0.0), (0.0, grid[j])):
            res = so.minimize(obj, x0, method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-15, "maxiter": 20000})
            primal = min(primal, float(res.fun), obj(x0))
    # same-sign quadrants equal the convex problem restricted to u v >= 0: the better of the two one-sided lassos
    for u, v in ((u_star, 0.0), (0.0, v_star)):
        primal = min(primal, fit(u, v) + beta * (abs(u) + abs(v)))
    return float(dual), float(primal)


def relu3_whitened_values(y: np.ndarray, beta: float) -> tuple[float, float]:
    """``(D, P)`` of the three-layer ReLU network on square orthogonal ``X``: ``D = h(||y_+||) + h(||y_-||)`` with
    ``h(t) = t^2/2`` for ``t <= beta`` and ``beta t - beta^2/2`` otherwise, and
    ``P = min_{s,t >= 0} 0.5 (s - ||y_+||)^2 + 0.5 (t - ||y_-||)^2 + beta ||(s, t)||_{2/3}``."""
    y = check_array(np.ravel(y) if np.ndim(y) == 2 and np.shape(y)[1] == 1 else y, "y", (None,), labels=("n",))
    beta = check_beta(beta)
    norms = np.array([np.linalg.norm(np.maximum(y, 0.0)), np.linalg.norm(np.maximum(-y, 0.0))])
    dual = float(sum(0.5 * t**2 if t <= beta else beta * t - 0.5 * beta**2 for t in norms))
    primal, _ = quasinorm_penalised_min(norms, beta, 2.0 / 3.0)
    return dual, float(primal)


def fit_relu3_product(
    X: np.ndarray, y: np.ndarray, beta: float, *, n_branches: int = 1, widths: tuple[int, int] = (4, 4),
    starts: int = 8, seed: int = 0, init_scales: tuple[float, ...] = (0.8, 0.4), maxiter: int = 4000,
    threads: int | None = 1, max_parameters: int = MAX_PARAMETERS,
) -> list[float]:
    """Train the standard (``n_branches = 1``) or parallel three-layer ReLU network ``sum_k ((X W_1k)_+ W_2k)_+ w_3k``
    on the smooth product form ``0.5 ||f - y||^2 + (beta/3) sum_k (||W_1k||^3 + ||W_2k||^3 + ||w_3k||^3)`` by L-BFGS-B
    from ``starts`` seeded points; returns the final objectives, sorted."""
    import torch

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    K = check_positive_int(n_branches, "n_branches")
    m1, m2 = check_int_pair(widths, "widths")
    maxiter = check_positive_int(maxiter, "maxiter")
    init_scales = _check_init_scales(init_scales)
    shapes = [(X.shape[1], m1), (m1, m2), (m2,)] * K
    _check_parameters(shapes, max_parameters)
    Xt, yt = torch.as_tensor(X), torch.as_tensor(y)

    def objective(Ws):
        f = torch.zeros_like(yt)
        reg = 0.0
        for k in range(K):
            W1, W2, w3 = Ws[3 * k:3 * k + 3]
            f = f + torch.relu(torch.relu(Xt @ W1) @ W2) @ w3
            reg = reg + sum((W * W).sum() ** 1.5 for W in (W1, W2, w3))
        return 0.5 * ((f - yt) ** 2).sum() + beta / 3 * reg

    runs = _lbfgs_starts(objective, shapes, starts=check_positive_int(starts, "starts"), seed=seed,
                         init_scales=init_scales, maxiter=maxiter, threads=threads)
    return [v for v, _ in runs]

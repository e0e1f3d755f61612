r"""One-dimensional data: two-layer ReLU networks with weight decay are linear splines (Ergen & Pilanci, JMLR 2021).

The convex program over the complete arrangement of ``X = [x, 1]`` is a Lasso over ramps at the data points
(:func:`ramp_lasso`, derivation below); its solutions are linear splines with kinks at data points
(:func:`kink_positions`), and as ``beta -> 0`` the optimum tends to the minimum-norm interpolating spline
(:func:`min_norm_spline`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._linalg import whiten_rows as whiten_rows  # re-exported: the input whitened_relu expects
from cvxnn_core._validation import check_beta, check_y
from cvxnn_core.recovery import TwoLayerNet

# ---------------------------------------------------------------------------------------------------------------
# One-dimensional data: two-layer ReLU networks are linear splines (Ergen & Pilanci, JMLR 2021, Sec. on 1-D data)
# ---------------------------------------------------------------------------------------------------------------
#
# Setting: inputs x in R, the network f(x) = sum_j w2_j (w1_j x + b_j)_+ + b2 evaluated on X = [x, 1]
# (datasets.add_intercept), with first-layer biases b_j and output bias b2 *not* penalised (TwoLayerNet with
# free_bias=True). A balanced neuron is c_j (s_j (x - t_j))_+ with kink t_j = -b_j / w1_j, sign s_j = sign(w1_j)
# and weight-decay cost beta |c_j| = beta |w1_j| |w2_j| (beta times its change of slope).
#
# Ramp dictionary. On sorted distinct data points t_1 < ... < t_K, a ramp (x - t)_+ with t in [t_k, t_{k+1}]
# equals lambda (x - t_k)_+ + (1 - lambda)(x - t_{k+1})_+ on every data point (t = lambda t_k + (1-lambda) t_{k+1}),
# with the same cost 1 = lambda + (1 - lambda); a ramp with t < t_1 equals (x - t_1)_+ + (t_1 - t) (a unit ramp
# plus a constant); a ramp with t > t_K is zero on the data. The same holds for (t - x)_+. Hence, *on the data*,
# the functions of finite networks and their costs are exactly those of
#
#     f = a + sum_{k<K} r_k (x - t_k)_+ + sum_{k>1} l_k (t_k - x)_+ ,   cost beta * (||r||_1 + ||l||_1),
#
# with a free offset a (the output bias; a constant neuron costs nothing) and no free linear term (a linear
# function on the data is one ramp with its kink at or left of t_1: it costs |slope|). The convex program over
# the complete arrangement with free_bias=True is therefore this Lasso.

_RAMP_ZERO_RTOL = 1e-9  # ramp coefficients below this fraction of the largest one are set to zero
_RAMP_KKT_RTOL = 1e-9  # off-support ramps may exceed beta by this relative amount after polishing
_RAMP_SUPPORT_RTOLS = (1e-8, 1e-6, 1e-4)  # supports tried by the polishing step (relative to max |coefficient|)


def _one_dimensional_x(x: object, name: str = "x") -> np.ndarray:
    """Inputs as a finite float array of shape ``(n,)``; accepts ``(n,)`` or ``(n, 1)``."""
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array of shape (n,) or (n, 1); got {type(x).__name__}") from exc
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1 or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must hold one-dimensional inputs, shape (n,) or (n, 1), got shape {arr.shape}; "
            "do not pass the intercept column"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf; remove those samples first")
    return arr


def _ramp_features(x: np.ndarray, knots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``R[i, k] = (x_i - t_k)_+`` for ``k < K`` and ``L[i, k] = (t_k - x_i)_+`` for ``k > 1``."""
    return np.maximum(x[:, None] - knots[None, :-1], 0.0), np.maximum(knots[None, 1:] - x[:, None], 0.0)


def _ramp_neurons(knots: np.ndarray, right: np.ndarray, left: np.ndarray, weights: np.ndarray) -> tuple:
    """Balanced neurons ``r (x - t)_+`` and ``l (t - x)_+``: rows ``(w, b)`` of ``W1`` and entries of ``w2``.

    A coefficient ``c`` at kink ``t`` with cost weight ``omega`` (``1``, or ``sqrt(1 + t^2)`` when the bias is
    penalised) becomes ``w1 = sqrt(|c| omega) (s, -s t) / omega``, ``w2 = sign(c) sqrt(|c| omega)``: then
    ``w2 (w1 . (x, 1))_+ = c (s (x - t))_+`` and the penalised half-norm is ``|c| omega``. The kink ``-b / w``
    is ``t`` up to one rounding.
    """
    rows, outs = [], []
    for coef, side in ((right, 1.0), (left, -1.0)):
        for t, c, omega in zip(knots, coef, weights, strict=True):
            if c == 0.0:
                continue
            root = np.sqrt(abs(c) * omega)
            rows.append(root / omega * np.array([side, -side * t]))
            outs.append(np.sign(c) * root)
    return np.reshape(rows, (-1, 2)), np.asarray(outs, dtype=float)


@dataclass(frozen=True)
class RampLassoResult:
    """Solution of :func:`ramp_lasso`.

    ``objective``: ``0.5 ||f - y||^2 + beta * penalty`` at the returned coefficients (equal to the weight-decay
    objective of ``net``). ``knots``: the distinct data points ``t_1 < ... < t_K``. ``right`` / ``left``
    (``(K,)``): coefficients of ``(x - t_k)_+`` / ``(t_k - x)_+`` (``right[-1] = left[0] = 0``: those ramps vanish
    on the data). ``offset``: the free constant (0 when the bias is penalised). ``linear``: ``(2, 2)``, rows
    ``v, w`` of the two all-active neurons ``(x v_0 + v_1)_+ - (x w_0 + w_1)_+`` of the penalised-bias program
    (zero when ``free_bias``). ``net``: the network, kinks at the knots up to one rounding (plus, when the bias
    is penalised, the all-active neurons); evaluate it on ``add_intercept(x)``. ``polished``: the interior-point
    solution was replaced by the exact solution of the KKT system on its support (see :func:`ramp_lasso`).
    """

    objective: float
    knots: np.ndarray
    right: np.ndarray
    left: np.ndarray
    offset: float
    linear: np.ndarray
    net: TwoLayerNet
    beta: float
    free_bias: bool
    status: str
    solver: str
    polished: bool

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The fitted function at 1-D inputs ``x`` (``(n,)`` or ``(n, 1)``)."""
        x = _one_dimensional_x(x)
        return self.net.predict(np.column_stack([x, np.ones_like(x)]))


def _polish_ramp_lasso(M: np.ndarray, y: np.ndarray, beta: float, coef: np.ndarray) -> np.ndarray | None:
    """Exact minimiser of ``0.5 ||a + M c - y||^2 + beta ||c||_1`` from an approximate one, ``coef``.

    The ramps are linearly dependent (together with the constant they span only the ``K``-dimensional space of
    linear splines on the data), so the solver's support is first reduced to independent columns: along a null
    vector ``(n_0, n_S)`` of ``[1, M_S]`` the fit does not change and ``||c||_1`` changes by ``s^T n_S`` (zero at
    an optimum), so moving until a coefficient reaches zero removes a column (Caratheodory). On the reduced
    support the normal equations of ``[1, M_S]`` with right-hand side ``[1, M_S]^T y - beta [0, s]`` are solved;
    the result is kept when the signs are unchanged and every column satisfies ``|m_j^T r| <= beta (1 + 1e-9)``
    plus a rounding allowance ``64 eps ||M||_F ||y||`` (then all KKT conditions hold to rounding). Supports
    ``|c_j| > rho max |c|`` are tried for ``rho = 1e-8, 1e-6, 1e-4``; ``None`` if none passes.
    """
    scale = float(np.max(np.abs(coef), initial=0.0))
    for support_rtol in _RAMP_SUPPORT_RTOLS:
        z = np.where(np.abs(coef) > support_rtol * scale, coef, 0.0)
        exact = _ramp_kkt_solve(M, y, beta, _ramp_independent_support(M, z))
        if exact is not None:
            return exact
    return None


def _ramp_independent_support(M: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Move ``z`` along null vectors of ``[1, M_S]`` (not increasing ``||z||_1``) until its support is independent."""
    z = z.copy()
    while True:
        S = np.flatnonzero(z)
        B = np.column_stack([np.ones(M.shape[0]), M[:, S]])
        _, sv, Vt = np.linalg.svd(B, full_matrices=True)
        rank = int(np.sum(sv > 1e-10 * sv[0]))
        if rank == B.shape[1]:
            return z
        d = Vt[-1, 1:]
        if np.sign(z[S]) @ d > 0:
            d = -d
        shrinking = np.sign(z[S]) * d < 0
        if not np.any(shrinking):
            d, shrinking = -d, np.sign(z[S]) * -d < 0
        steps = np.abs(z[S][shrinking] / d[shrinking])
        drop = np.flatnonzero(shrinking)[np.argmin(steps)]
        z[S] = z[S] + steps.min() * d
        z[S[drop]] = 0.0


def _ramp_kkt_solve(M: np.ndarray, y: np.ndarray, beta: float, z: np.ndarray) -> np.ndarray | None:
    S = z != 0
    s = np.sign(z[S])
    B = np.column_stack([np.ones(M.shape[0]), M[:, S]])
    # Normal equations B^T B z = B^T y - beta [0, s], solved through B = QR (no squared condition number).
    # The residual y - B z = (I - QQ^T) y + beta Q R^{-T} [0, s] is formed from its two parts, not by cancellation.
    Q, Rf = np.linalg.qr(B)
    try:
        shift = np.linalg.solve(Rf.T, np.concatenate([[0.0], s]))
        sol = np.linalg.solve(Rf, Q.T @ y - beta * shift)
    except np.linalg.LinAlgError:
        return None
    if np.any(np.sign(sol[1:]) != s):
        return None
    residual = (y - Q @ (Q.T @ y)) + beta * (Q @ shift)
    rounding = 64 * np.finfo(float).eps * float(np.linalg.norm(M) * np.linalg.norm(y))
    if np.max(np.abs(M.T @ residual), initial=0.0) > beta * (1 + _RAMP_KKT_RTOL) + rounding:
        return None
    out = np.zeros(M.shape[1] + 1)
    out[0] = sol[0]
    out[1:][S] = sol[1:]
    return out


def ramp_lasso(
    x: np.ndarray, y: np.ndarray, beta: float, *, free_bias: bool = True, solver: str | None = None
) -> RampLassoResult:
    r"""Optimal two-layer ReLU network on 1-D data as a Lasso over ramps with kinks at the data points.

    With ``free_bias=True`` (biases not penalised; the setting of Ergen & Pilanci's 1-D results) this solves::

        min_{a, r, l}  0.5 || a + sum_{k<K} r_k (x - t_k)_+ + sum_{k>1} l_k (t_k - x)_+ - y ||^2
                       + beta * (||r||_1 + ||l||_1)

    over the distinct data points ``t_1 < ... < t_K`` (see the comment block above this function): its optimum
    *equals* the optimum of the weight-decay objective over networks of any width with free biases, i.e. of
    :func:`cvxnn_core.programs.solve_relu` over the complete arrangement with ``free_bias=True``. The
    interior-point solution (Clarabel, tolerances 1e-10) is then polished: the KKT system on its support and
    signs is solved exactly and kept if the KKT conditions hold (``polished`` in the result).

    With ``free_bias=False`` (every weight penalised, the ``add_intercept`` convention of the book) a neuron with
    kink ``t`` costs ``sqrt(1 + t^2)`` per unit slope, and the same program with ramp weights ``sqrt(1 + t_k^2)``,
    no free offset, plus two all-active neurons ``(X v)_+ - (X w)_+`` (``X v >= 0``, ``X w >= 0``, cost
    ``||v|| + ||w||``; these carry the linear part and kinks outside the data) is the best network **whose kinks
    inside the data range all lie on data points**. It is then only an upper bound on the penalised optimum:
    ``sqrt(1 + t^2)`` is strictly convex, so merging two kinks into one between them is cheaper.

    Args:
        x: inputs, shape ``(n,)`` or ``(n, 1)`` (no intercept column), at least two distinct values.
        y: targets ``(n,)``.
        beta: weight decay ``>= 0``.
        free_bias: biases unpenalised (exact program) or penalised (restriction, see above).
        solver: a cvxpy solver name; ``None`` means Clarabel.

    Raises:
        SolverError: the solver did not reach an optimal status.
    """

    import cvxpy as cp

    from cvxnn_core._cvx import SOLVER_OPTIONS, check_solver, run_problem
    from cvxnn_core.patterns import cone_projection

    x = _one_dimensional_x(x)
    y = check_y(y, x.shape[0])
    beta = check_beta(beta)
    knots = np.unique(x)
    if knots.size < 2:
        raise ValueError("x must contain at least two distinct values (a single point is fitted by a constant)")
    name = check_solver(solver)
    R, L = _ramp_features(x, knots)
    M = np.hstack([R, L])
    weights = np.ones(knots.size) if free_bias else np.sqrt(1.0 + knots**2)
    omega = np.concatenate([weights[:-1], weights[1:]])
    X = np.column_stack([x, np.ones_like(x)])
    coef = cp.Variable(M.shape[1])
    f = M @ coef
    penalty = cp.sum(cp.multiply(omega, cp.abs(coef)))
    constraints = []
    if free_bias:
        a = cp.Variable()
        f = f + a
    else:
        V = cp.Variable((2, 2))
        f = f + X @ V[0] - X @ V[1]
        penalty = penalty + cp.norm(V[0], 2) + cp.norm(V[1], 2)
        constraints = [X @ V[0] >= 0, X @ V[1] >= 0]
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(f - y) + beta * penalty), constraints)
    run_problem(problem, name, SOLVER_OPTIONS.get(name, {}), what=" on the ramp Lasso")
    c = np.asarray(coef.value, dtype=float)
    polished = False
    if free_bias:
        exact = _polish_ramp_lasso(M, y, beta, c)
        if exact is not None:
            offset, c, polished = float(exact[0]), exact[1:], True
        else:
            offset = float(a.value)
        linear = np.zeros((2, 2))
    else:
        offset = 0.0
        linear = np.asarray(V.value, dtype=float)
        ones = np.ones(x.shape[0], dtype=bool)
        big = max(float(np.max(np.abs(c), initial=0.0)), float(np.max(np.linalg.norm(linear, axis=1))))
        linear = np.array(
            [cone_projection(X, ones, v) if np.linalg.norm(v) > _RAMP_ZERO_RTOL * big else np.zeros(2) for v in linear]
        )
    c = np.where(np.abs(c) > _RAMP_ZERO_RTOL * float(np.max(np.abs(c), initial=0.0)), c, 0.0)
    K = knots.size
    right = np.concatenate([c[: K - 1], [0.0]])
    left = np.concatenate([[0.0], c[K - 1 :]])
    W1, w2 = _ramp_neurons(knots, right, left, weights)
    if not free_bias:
        norms = np.linalg.norm(linear, axis=1)
        keep = norms > 0
        W1 = np.vstack([W1, linear[keep] / np.sqrt(norms[keep, None])])
        w2 = np.concatenate([w2, np.array([1.0, -1.0])[keep] * np.sqrt(norms[keep])])
    net = TwoLayerNet(W1=W1, w2=w2, b2=offset, free_bias=free_bias)
    objective = 0.5 * float(np.sum((net.predict(X) - y) ** 2)) + beta * net.weight_decay()
    return RampLassoResult(
        objective=objective,
        knots=knots,
        right=right,
        left=left,
        offset=offset,
        linear=linear,
        net=net,
        beta=beta,
        free_bias=free_bias,
        status=str(problem.status),
        solver=name,
        polished=polished,
    )


def kink_positions(net: TwoLayerNet, *, rtol: float = 1e-6) -> np.ndarray:
    """Sorted kinks ``t_j = -b_j / w_j`` of a network on 1-D data with an intercept column (``W1`` is ``(m, 2)``).

    Neuron ``j`` is ``w2_j (w_j x + b_j)_+`` with ``(w_j, b_j) = W1[j]``; its kink is where ``w_j x + b_j = 0``.
    Neurons whose change of slope ``|w_j w2_j|`` is at most ``rtol`` times the largest one (including flat
    neurons, ``w_j = 0``, which have no kink) are left out.
    """
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a cvxnn_core.recovery.TwoLayerNet, got {type(net).__name__}")
    if net.W1.shape[1] != 2:
        raise ValueError(
            f"kink_positions needs a network on 1-D inputs with an intercept column (W1 of shape (m, 2)), "
            f"got W1 of shape {net.W1.shape}"
        )
    if isinstance(rtol, bool) or not isinstance(rtol, int | float | np.integer | np.floating) \
            or not (np.isfinite(rtol) and 0 <= rtol < 1):
        raise ValueError(f"rtol must be a number in [0, 1), got {rtol!r}")
    slope_change = np.abs(net.W1[:, 0] * net.w2)
    keep = (slope_change > rtol * float(np.max(slope_change, initial=0.0))) & (net.W1[:, 0] != 0)
    return np.sort(-net.W1[keep, 1] / net.W1[keep, 0])


def min_norm_spline(x: np.ndarray, y: np.ndarray) -> TwoLayerNet:
    r"""The ``beta -> 0`` limit of the free-bias program: a minimum-path-norm interpolating network, in closed form.

    Among networks with free biases that interpolate the data, ``f(x_k) = y_k``, minimise the path norm
    ``sum_j |w1_j| |w2_j|`` (the weight decay of a balanced network). With distinct sorted ``x_1 < ... < x_K``,
    secant slopes ``s_k = (y_{k+1} - y_k) / (x_{k+1} - x_k)`` (``k = 1..K-1``), slope jumps
    ``Delta_k = s_k - s_{k-1}`` at the interior points and ``TV = sum_{k=2}^{K-1} |Delta_k|``:

    * a network ``f`` has path norm at least ``max(int |f''|, |f'(-inf) + f'(+inf)|)`` (each neuron
      ``c (s (x - t))_+`` adds ``|c|`` to both), and an interpolant has ``int |f''| >= TV + |s_1 - f'(-inf)| +
      |f'(+inf) - s_{K-1}|`` (mean-value theorem on every interval). Minimising over the end slopes gives the
      optimal value

          R* = max(TV, (TV + |s_1 + s_{K-1}|) / 2);

    * on ``[x_1, x_K]`` every minimiser with kinks on data points (in particular the ``beta -> 0`` limit of
      :func:`ramp_lasso`) is the **piecewise-linear interpolant** of the data;
    * outside ``[x_1, x_K]`` the minimiser is not unique. Returned here: the one whose end slopes are closest to
      linear extrapolation, ``f'(-inf) = s_1 - sigma e``, ``f'(+inf) = s_{K-1} - sigma e`` with
      ``sigma = sign(s_1 + s_{K-1})`` and ``e = max(0, |s_1 + s_{K-1}| - TV) / 4``: plain linear extrapolation
      when ``|s_1 + s_{K-1}| <= TV``, otherwise both end slopes bent by ``e`` towards zero at ``x_1`` and ``x_K``.

    The network has one neuron per non-zero kink (at most ``K``); its path norm is ``R*`` up to rounding.
    Returns a :class:`~cvxnn_core.recovery.TwoLayerNet` with ``free_bias=True``; evaluate it on
    ``add_intercept(x)``. Repeated ``x`` must have equal ``y``.
    """
    x = _one_dimensional_x(x)
    y = check_y(y, x.shape[0])
    knots, inverse = np.unique(x, return_inverse=True)
    if knots.size < 2:
        raise ValueError("x must contain at least two distinct values to define an interpolating spline")
    values = np.zeros(knots.size)
    values[inverse] = y
    if not np.allclose(values[inverse], y, rtol=0.0, atol=1e-12 * max(1.0, float(np.abs(y).max()))):
        raise ValueError("y differs between repeated values of x: no function interpolates the data")
    s = np.diff(values) / np.diff(knots)
    jumps = np.diff(s)  # at knots[1:-1]
    tv = float(np.sum(np.abs(jumps)))
    ends = s[0] + s[-1]
    e = max(0.0, abs(ends) - tv) / 4.0
    left_slope = s[0] - np.sign(ends) * e
    right_slope = s[-1] - np.sign(ends) * e
    J = np.concatenate([[s[0] - left_slope], jumps, [right_slope - s[-1]]])  # slope change at every knot
    # Split every jump J_k into a right ramp r_k (x - t_k)_+ and a left ramp l_k (t_k - x)_+ with r_k + l_k = J_k
    # and r_k, l_k of the sign of J_k (cost |J_k|), such that the left ramps give the slope at -inf:
    # -sum l_k = left_slope. The fraction theta of the positive (or negative) jumps given to l is chosen for that.
    pos, neg = float(np.sum(J[J > 0])), float(np.sum(J[J < 0]))
    target = -left_slope  # = sum_k l_k, which lies in [neg, pos] at the optimum
    theta_pos = min(max(target / pos, 0.0), 1.0) if pos > 0 else 0.0
    theta_neg = min(max((target - theta_pos * pos) / neg, 0.0), 1.0) if neg < 0 else 0.0
    left = np.where(J > 0, theta_pos * J, theta_neg * J)
    right = J - left
    W1, w2 = _ramp_neurons(knots, np.where(np.abs(right) > 0, right, 0.0), left, np.ones(knots.size))
    partial = TwoLayerNet(W1=W1, w2=w2, free_bias=True)
    b2 = values[0] - float(partial.predict(np.array([[knots[0], 1.0]]))[0])
    return TwoLayerNet(W1=W1, w2=w2, b2=b2, free_bias=True)



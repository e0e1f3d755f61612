r"""The set of all optimal two-layer ReLU networks and a test of stationary points (Wang, Lacotte & Pilanci, 2022).

Our derivation (the paper's text was not available; the statement is that every global optimum of the two-layer
problem comes from the solution set of one convex program). For the squared loss the optimal predictions
``f* = sum_i D_i X (v_i - w_i)`` of the convex program are unique (the loss is strictly convex in ``f``), so the dual
point ``lambda = y - f*`` is unique too. Strong duality gives ``beta sum_j ||b_j|| = lambda^T f*`` at every optimum,
while dual feasibility gives ``lambda^T s_j D_j X b_j <= beta ||b_j||`` for every block ``b_j`` in its cone ``K_j``
(``s_j = +1`` for ``v``, ``-1`` for ``w``). Hence every non-zero block of every optimal solution attains equality:
its direction maximises ``s_j lambda^T D_j X u`` over ``u in K_j``, ``||u|| <= 1``, and that maximiser is unique,
``rho_j = Pi_{K_j}(g_j) / ||Pi_{K_j}(g_j)||`` with ``g_j = s_j X^T D_j lambda`` (the projection onto a closed convex
cone). Only **tight** blocks (``||Pi_{K_j}(g_j)|| = beta``) can be non-zero, so the optimal set of the program is

    { b_j = alpha_j rho_j :  alpha >= 0,  sum_j alpha_j s_j D_j X rho_j = f*,  sum_j alpha_j = t* }  (a polytope),

with ``t* = lambda^T f* / beta`` the optimal penalty level,

and every optimal network is, up to permutation and splitting of neurons, the network of one point of it: neurons
``sqrt(alpha_j) rho_j`` with output weights ``s_j sqrt(alpha_j)`` (objective ``0.5 ||f* - y||^2 + beta sum alpha``,
constant on the polytope). The optimum is unique iff the polytope is a point; its vertices have at most
``rank`` non-zero entries, and the narrowest optimal network is its sparsest point.

A network trained by a local method ends at (approximately) a stationary point; with its activation patterns ``D``
the convex program restricted to ``D`` (a *subsampled* program) has the network as a feasible point, and the paper
states that stationary points are global optima of their subsampled programs (:func:`stationary_point_check`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from cvxnn_core._shapes import check_array
from cvxnn_core._validation import (
    check_beta,
    check_patterns,
    check_penalised_bias,
    check_positive_int,
    check_positive_number,
    check_seed,
    check_X_y,
)
from cvxnn_core.duality import gap_on_scale
from cvxnn_core.patterns import cone_projection
from cvxnn_core.recovery import TwoLayerNet

TIGHT_RTOL = 1e-4  # candidate tight blocks: cone support within this relative distance of beta (then refined)
SAME_DIRECTION_ATOL = 1e-6  # tight directions closer than this are the same neuron
ACTIVE_TOL = 1e-9  # alpha_j above this (relative to max alpha) counts as non-zero
MAX_SUBSETS = 200_000  # minimal_width enumerates supports up to this many subsets


@dataclass(frozen=True)
class OptimalSet:
    """The optimal set of the two-layer program over ``patterns`` (module docstring).

    ``predictions`` ``f*`` ``(n,)``; ``dual`` ``lambda = y - f*``; ``objective`` ``p*``; ``beta``; for the ``T`` tight
    blocks: ``pattern_index`` ``(T,)``, ``signs`` ``(T,)``, ``directions`` ``rho`` ``(T, d)``, ``features`` ``A``
    ``(n, T)`` (columns ``s_j D_j X rho_j``), ``can_be_active`` ``(T,)`` (non-zero in some optimal solution),
    ``solver_alpha`` ``(T,)`` (one optimal point: the solution of the program restricted to the tight directions)."""

    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    beta: float
    predictions: np.ndarray = field(repr=False)
    dual: np.ndarray = field(repr=False)
    objective: float
    pattern_index: np.ndarray
    signs: np.ndarray
    directions: np.ndarray = field(repr=False)
    features: np.ndarray = field(repr=False)
    can_be_active: np.ndarray
    solver_alpha: np.ndarray = field(repr=False)

    @property
    def dimension(self) -> int:
        """Dimension of the polytope: (blocks that can be non-zero) minus the rank of their equality constraints."""
        A = self._equalities()[0][:, self.can_be_active]
        return int(A.shape[1] - np.linalg.matrix_rank(A)) if A.shape[1] else 0

    @property
    def penalty_level(self) -> float:
        """``t* = sum_j alpha_j``, the same at every optimum."""
        return float(np.sum(self.solver_alpha))

    def _equalities(self) -> tuple[np.ndarray, np.ndarray]:
        A = np.vstack([self.features, np.ones((1, self.features.shape[1]))])
        return A, np.r_[self.predictions, self.penalty_level]

    @property
    def unique(self) -> bool:
        """Whether the optimal network is unique (up to permutation and splitting of neurons)."""
        return self.dimension == 0

    def objective_of(self, alpha: np.ndarray) -> float:
        """``0.5 ||A alpha - y||^2 + beta sum alpha`` (equal to ``p*`` for every point of the polytope)."""
        alpha = self._check_alpha(alpha)
        return float(0.5 * np.sum((self.features @ alpha - self.y) ** 2) + self.beta * np.sum(alpha))

    def _check_alpha(self, alpha: object) -> np.ndarray:
        T = self.features.shape[1]
        alpha = check_array(np.ravel(alpha) if np.ndim(alpha) == 2 and np.shape(alpha)[1] == 1 else alpha, "alpha",
                            (T,), labels=("T",), fix="one mass per tight block (see the set's directions)")
        if np.any(alpha < 0):
            raise ValueError(f"alpha must be >= 0 (the mass of each tight block), got min {alpha.min():.3g}")
        return alpha

    def vertex(self, cost: np.ndarray) -> np.ndarray:
        """The point of the polytope minimising ``cost^T alpha`` ``(T,)`` (a vertex; linear programming, HiGHS)."""
        from scipy.optimize import linprog

        T = self.features.shape[1]
        cost = check_array(np.ravel(cost) if np.ndim(cost) == 2 and np.shape(cost)[1] == 1 else cost, "cost", (T,),
                           labels=("T",), fix="one cost per tight block")
        A, b = self._equalities()
        res = linprog(cost, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
        if res.status != 0:
            raise RuntimeError(f"linear program over the optimal set failed: {res.message}")
        return np.maximum(res.x, 0.0)

    def random_vertices(self, count: int, *, seed: int = 0) -> list[np.ndarray]:
        """Distinct vertices for ``count`` seeded Gaussian cost vectors (duplicates removed)."""
        rng = np.random.default_rng(check_seed(seed))
        out: list[np.ndarray] = []
        for _ in range(check_positive_int(count, "count")):
            v = self.vertex(rng.standard_normal(self.features.shape[1]))
            if not any(np.allclose(v, w, atol=1e-9 * max(1.0, v.max())) for w in out):
                out.append(v)
        return out

    def network(self, alpha: np.ndarray) -> TwoLayerNet:
        """The balanced network of ``alpha``: neurons ``sqrt(alpha_j) rho_j``, output weights ``s_j sqrt(alpha_j)``
        (zero entries dropped)."""
        alpha = self._check_alpha(alpha)
        keep = alpha > ACTIVE_TOL * max(float(alpha.max(initial=0.0)), 1e-300)
        root = np.sqrt(alpha[keep])
        return TwoLayerNet(self.directions[keep] * root[:, None], self.signs[keep] * root)

    def minimal_width(self) -> np.ndarray:
        """A sparsest point of the polytope (the narrowest optimal network): supports of increasing size among the
        blocks that can be non-zero are tried until one fits ``f*`` with ``alpha >= 0`` (non-negative least squares,
        residual ``<= 1e-9 ||f*||``). Raises when more than :data:`MAX_SUBSETS` subsets would be needed."""
        from scipy.optimize import nnls

        idx = np.flatnonzero(self.can_be_active)
        A, target = self._equalities()
        tol = 1e-8 * max(float(np.linalg.norm(target)), 1e-300)
        count = 0
        for k in range(1, idx.size + 1):
            for S in combinations(idx, k):
                count += 1
                if count > MAX_SUBSETS:
                    raise ValueError(f"minimal_width would try more than {MAX_SUBSETS} supports; use vertex() instead")
                a, res = nnls(A[:, S], target)
                if res <= tol and np.all(a > 0):
                    alpha = np.zeros(self.features.shape[1])
                    alpha[list(S)] = a
                    return alpha
        raise RuntimeError("no support reproduces the optimal predictions; the tight set is inconsistent")

    def membership_residual(self, net: TwoLayerNet) -> float:
        """How far a network is from the optimal set (``0`` for every optimal network, up to its accuracy): the
        largest of ``1 - cos`` between each live neuron and the nearest tight direction of its output sign, the
        relative residual ``||F c - f*|| / ||f*||`` of its fit on ``X`` and ``|sum c - t*| / t*`` of its penalty
        level (``F``, ``c``: :func:`cvxnn_core.pruning.neuron_masses`)."""
        from cvxnn_core.pruning import neuron_masses

        F, c, rho, s = neuron_masses(self.X, net)
        live = c > 0
        if not np.any(live):
            return 1.0
        angle = 0.0
        for k in np.flatnonzero(live):
            same = self.signs == s[k]
            best = float(np.max(self.directions[same] @ rho[k])) if np.any(same) else -1.0
            angle = max(angle, 1.0 - best)
        fit = float(np.linalg.norm(F @ c - self.predictions) / max(float(np.linalg.norm(self.predictions)), 1e-300))
        level = abs(float(c.sum()) - self.penalty_level) / self.penalty_level
        return max(angle, fit, level)

    def eval_features(self, X_eval: np.ndarray) -> np.ndarray:
        """``(m, T)`` features of the tight neurons on other data: ``s_j (X_eval rho_j)_+``."""
        from cvxnn_core._validation import check_X

        X_eval = check_X(X_eval, "X_eval")
        if X_eval.shape[1] != self.X.shape[1]:
            raise ValueError(f"X_eval has {X_eval.shape[1]} columns, the training X {self.X.shape[1]}; prepare it the "
                             "same way (standardisation, bias column)")
        return np.maximum(X_eval @ self.directions.T, 0.0) * self.signs[None, :]

    def select(self, criterion: str, X_eval: np.ndarray | None = None, y_eval: np.ndarray | None = None) -> np.ndarray:
        """One point of the polytope chosen by ``criterion`` (Table 1 of Mishkin & Pilanci, 2023, over the certified
        set): ``"min_l2"`` minimises ``||alpha||_2``; ``"min_error"`` minimises ``||Phi alpha - y_eval||^2`` with
        ``Phi`` the features on ``X_eval`` (:meth:`eval_features`; validation data, or test data as the paper's
        oracle). ``max sum alpha`` is not offered: ``sum alpha = t*`` on the whole set.
        A quadratic program (Clarabel)."""
        import cvxpy as cp

        from cvxnn_core._cvx import SOLVER_OPTIONS, run_problem
        from cvxnn_core._validation import check_choice, check_y

        criterion = check_choice(criterion, "criterion", ("min_l2", "min_error"))
        a = cp.Variable(self.features.shape[1], nonneg=True)
        A, b = self._equalities()
        if criterion == "min_l2":
            if X_eval is not None or y_eval is not None:
                raise ValueError("criterion 'min_l2' takes no X_eval / y_eval (they are for 'min_error')")
            cost = cp.sum_squares(a)
        else:
            if X_eval is None or y_eval is None:
                raise ValueError("criterion 'min_error' needs X_eval and y_eval (held-out data to fit)")
            Phi = self.eval_features(X_eval)
            y_eval = check_y(y_eval, Phi.shape[0], "y_eval")
            cost = cp.sum_squares(Phi @ a - y_eval)
        scale = max(float(np.abs(b).max()), 1e-300)
        problem = cp.Problem(cp.Minimize(cost), [(A / scale) @ a == b / scale, a <= b[-1]])
        run_problem(problem, "CLARABEL", SOLVER_OPTIONS["CLARABEL"], what=f" selecting {criterion} in the optimal set")
        return np.maximum(np.asarray(a.value, dtype=np.float64), 0.0)


def optimal_set(
    X: np.ndarray, y: np.ndarray, beta: float, patterns: np.ndarray, *, tight_rtol: float = TIGHT_RTOL,
    solver: str | None = None,
) -> OptimalSet:
    """Solve the two-layer program over ``patterns`` and describe its whole optimal set (squared loss, ``beta > 0``).

    With the complete arrangement (:func:`cvxnn_core.patterns.enumerate_patterns`) this is the set of all optimal
    networks of every width. Blocks whose cone support (at the solver's ``lambda``) is within ``tight_rtol`` of
    ``beta`` are candidates; the program restricted to their directions (a small non-negative lasso) is solved again
    to get ``f*``, ``t*`` and ``p*`` accurately, and a ``RuntimeError`` is raised when it does not reach the full
    program's optimum (a tight block was missed). A candidate that is not really tight cannot carry mass: the
    constraint ``sum alpha = t*`` excludes it."""
    from scipy.optimize import linprog

    from cvxnn_core.programs import solve_relu

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    if beta == 0:
        raise ValueError("optimal_set needs beta > 0 (at beta = 0 the optimal set is unbounded)")
    D = check_patterns(patterns, X.shape[0])
    tight_rtol = check_positive_number(tight_rtol, "tight_rtol")
    if tight_rtol >= 1:
        raise ValueError(f"tight_rtol must be in (0, 1) (a fraction of beta), got {tight_rtol!r}")
    res = solve_relu(X, y, beta, D, solver=solver)
    f = res.predict(X)
    lam = y - f
    G = (D * lam[:, None]).T @ X  # (P, d): X^T D_i lambda
    idx, sgn, dirs = [], [], []
    for i in range(D.shape[1]):
        for s in (1.0, -1.0):
            p = cone_projection(X, D[:, i], s * G[i])
            c = float(np.linalg.norm(p))
            if c >= beta * (1 - tight_rtol):
                idx.append(i)
                sgn.append(s)
                dirs.append(p / c)
    if not idx:
        raise ValueError(f"beta = {beta:g} is at or above the largest useful beta: no block is tight and the optimum "
                         "is the zero network (the optimal set is {0}); lower beta")
    idx, sgn, dirs = np.array(idx), np.array(sgn), np.array(dirs)
    # a maximiser on the boundary of several cones (a kink exactly at a data point) is one neuron: keep it once
    keep = []
    for j in range(idx.size):
        if not any(sgn[k] == sgn[j] and np.linalg.norm(dirs[k] - dirs[j]) <= SAME_DIRECTION_ATOL for k in keep):
            keep.append(j)
    idx, sgn, dirs = idx[keep], sgn[keep], dirs[keep]
    A = sgn[None, :] * D[:, idx] * (X @ dirs.T)
    # the program restricted to the candidate directions (a non-negative lasso): accurate f*, alpha and p*
    alpha0, objective = _nonnegative_lasso(A, y, beta)
    if objective > res.objective * (1 + 1e-6) + 1e-12:
        raise RuntimeError(
            f"the tight directions reach {objective:.10g}, above the optimum {res.objective:.10g}; raise tight_rtol "
            f"(now {tight_rtol}) or solve more accurately"
        )
    f_star = A @ alpha0
    Aeq, beq = np.vstack([A, np.ones((1, idx.size))]), np.r_[f_star, alpha0.sum()]
    active = np.zeros(idx.size, dtype=bool)
    for j in range(idx.size):
        if active[j]:
            continue
        cost = np.zeros(idx.size)
        cost[j] = -1.0
        out = linprog(cost, A_eq=Aeq, b_eq=beq, bounds=(0, None), method="highs")
        if out.status == 0:
            active |= out.x > ACTIVE_TOL * max(float(out.x.max()), 1e-300)
    return OptimalSet(X, y, beta, f_star, y - f_star, objective, idx, sgn, dirs, A, active, alpha0)


def _nonnegative_lasso(A: np.ndarray, y: np.ndarray, beta: float) -> tuple[np.ndarray, float]:
    """``min_{alpha >= 0} 0.5 ||A alpha - y||^2 + beta sum alpha`` (Clarabel, tight tolerances); ``(alpha, value)``."""
    import cvxpy as cp

    from cvxnn_core._cvx import SOLVER_OPTIONS, run_problem

    a = cp.Variable(A.shape[1], nonneg=True)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(A @ a - y) + beta * cp.sum(a)))
    run_problem(problem, "CLARABEL", SOLVER_OPTIONS["CLARABEL"], what=" on the tight directions")
    alpha = np.maximum(np.asarray(a.value, dtype=np.float64), 0.0)
    return alpha, float(0.5 * np.sum((A @ alpha - y) ** 2) + beta * np.sum(alpha))


@dataclass(frozen=True)
class StationaryCheck:
    """A trained network against the program restricted to its own (activation pattern, output sign) pairs:
    ``objective`` (of the network), ``subsampled_optimum``, ``n_blocks`` (distinct pairs), ``zero_value``
    (``0.5 ||y||^2``, the zero network's objective) and ``relative_gap`` ``(objective - subsampled) / scale``
    (``>= 0`` up to solver accuracy; ``~0`` at a stationary point): ``scale`` is the subsampled optimum, or
    ``zero_value`` when that optimum is zero (an interpolating network at ``beta = 0``; see
    :func:`~cvxnn_core.duality.gap_on_scale`)."""

    objective: float
    subsampled_optimum: float
    n_blocks: int
    zero_value: float = 0.0

    @property
    def relative_gap(self) -> float:
        return -gap_on_scale(self.subsampled_optimum, self.objective, self.zero_value)


def stationary_point_check(X: np.ndarray, y: np.ndarray, beta: float, net: TwoLayerNet) -> StationaryCheck:
    """Solve the convex program restricted to the blocks of ``net``: one block per distinct pair (activation pattern
    ``1[X u_j >= 0]``, sign of ``w2_j``) of its live neurons, in that pattern's cone, with that sign. The network is
    a feasible point (``b_j = |w2_j| u_j``), so the gap is ``>= 0``. At a stationary point whose neurons lie inside
    their cones, ``w2_j X^T D_j lambda = beta u_j`` for every neuron (balanced weights), which are the optimality
    conditions of this program: the gap is ``0`` (the paper's characterisation of stationary points)."""
    import cvxpy as cp

    from cvxnn_core._cvx import SOLVER_OPTIONS, run_problem
    from cvxnn_core.recovery import nonconvex_objective

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    if not isinstance(net, TwoLayerNet):
        raise TypeError(f"net must be a recovery.TwoLayerNet, got {type(net).__name__}")
    if not (np.all(np.isfinite(net.W1)) and np.all(np.isfinite(net.w2))):
        raise ValueError("net has NaN or inf weights; check the training run that produced it")
    check_penalised_bias(net, "stationary_point_check")
    if net.W1.shape[1] != X.shape[1]:
        raise ValueError(f"the network expects {net.W1.shape[1]} columns, X has {X.shape[1]}")
    D_all = X @ net.W1.T >= 0
    live = D_all.any(axis=0) & (net.w2 != 0) & np.any(net.W1 != 0, axis=1)
    if not live.any():
        raise ValueError("every neuron of the network is inactive on X or has w2 = 0; nothing to check")
    pairs = {}
    for j in np.flatnonzero(live):
        pairs.setdefault((np.packbits(D_all[:, j]).tobytes(), float(np.sign(net.w2[j]))), j)
    cols = list(pairs.values())
    D = D_all[:, cols].astype(np.float64)
    signs = np.sign(net.w2[cols])
    B = cp.Variable((len(cols), X.shape[1]))
    f = cp.sum(cp.multiply(D * signs[None, :], X @ B.T), axis=1)
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(f - y) + beta * cp.sum(cp.norm(B, 2, axis=1))),
                         [cp.multiply(2 * D - 1, X @ B.T) >= 0])
    run_problem(problem, "CLARABEL", SOLVER_OPTIONS["CLARABEL"], what=" on the subsampled program")
    return StationaryCheck(nonconvex_objective(X, y, net, beta), float(problem.value), len(cols), 0.5 * float(y @ y))

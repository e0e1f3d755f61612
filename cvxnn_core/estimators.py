"""scikit-learn estimators over the convex programs: ``fit`` / ``predict`` / ``score``.

``ConvexReLURegressor`` and ``ConvexReLUClassifier`` sample ``n_patterns`` activation patterns from Gaussian gates
(seeded by ``random_state``), solve a convex program over them and keep the network it gives. Learned attributes end
in ``_``: ``net_`` (:class:`~cvxnn_core.recovery.TwoLayerNet`), ``result_``, ``patterns_``, ``gates_``,
``objective_``, ``gap_``, ``route_``, ``n_features_in_``. With ``fit_intercept=True`` a ones column is appended to
``X`` (the bias is penalised like every weight).

Two routes (``route_``):

* ``"relu"``: the ReLU program :func:`cvxnn_core.programs.solve_relu` by ``solver`` (a cvxpy solver name,
  ``"al"`` or ``"active_set"``); the network is recovered from its blocks and ``objective_`` is the program's
  optimum, which is the network's non-convex objective. ``gap_`` is the first-order solvers' certified relative
  gap (``None`` for cvxpy, which reports a status).
* ``"gated"`` (``solver="gated"``; Mishkin, Sahiner & Pilanci, ICML 2022): the gated program
  ``min l(sum_i D_i X u_i) + beta sum_i ||u_i||`` by :func:`cvxnn_core.solvers.fista_gated` (``O(n d P)`` an
  iteration; certified relative gap ``gap_``, stopped at ``tol`` or ``max_time``), then each block is split along its
  sampling gate into ``u_i = v_i - w_i`` with ``v_i, w_i`` in the cone ``K_i`` (:func:`cvxnn_core.solvers.gate_split`),
  which gives a ReLU network with exactly the gated predictions. ``decompositions_`` records, per program, the
  largest relative prediction difference (rounding only) and the penalty ratio ``sum ||v_i|| + ||w_i|| /
  sum ||u_i||`` (``>= 1``: the ReLU network is a feasible point of the ReLU program, not its optimum); ``objective_``
  is the gated optimum, a lower bound on the ReLU program over the same patterns.

``solver=None`` picks the ReLU program by Clarabel while ``n d P <= AUTO_CVXPY_SIZE`` and the gated route above
(interior-point methods factor systems that grow with ``n d P``: 5,000 MNIST images and 50 patterns gave no answer in
15 minutes). ``max_time`` caps the first-order solves (seconds, over all programs; an interior-point solve runs to its
status, and on the ReLU route the augmented Lagrangian's warm start and certificates, one NNLS over all rows per
block, are not interrupted: above ``AUTO_CVXPY_SIZE`` such a fit can run well past ``max_time``);
``solver_options`` go to the first-order solver (``tol``, ``dtype``, ``device``, ``threads``, ...); the gated route
solves in float32 unless ``tol < 1e-5`` (the certificate is always recomputed in float64).

Multi-class classification is one-vs-rest over one shared pattern set: for each class ``k`` the convex
program is solved with labels ``+1`` for ``k`` and ``-1`` otherwise, on the same patterns; ``nets_``,
``results_`` and ``objectives_`` hold one entry per class, ``decision_function`` returns ``(n, K)`` scores and
``predict`` the class of the largest. (Two classes use a single program: ``(n,)`` scores.) This is the same as a
network whose hidden layer is the union of the K networks' neurons with a block-diagonal output layer; it is
not the vector-output program of :mod:`cvxnn_core.vector_output`, whose neurons are shared by all outputs.

Input validation follows scikit-learn (``validate_data``): sparse input is refused with a ``TypeError``,
complex, NaN and empty input with a ``ValueError``, a 2-D column ``y`` is flattened with a
``DataConversionWarning``. Both estimators pass every check of ``sklearn.utils.estimator_checks.check_estimator``
(none is declared as an expected failure; the array-API check is skipped, as for any numpy-only estimator).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from cvxnn_core._shapes import check_optional_positive
from cvxnn_core._training import progress_bar
from cvxnn_core._validation import check_beta, check_choice, check_positive_int
from cvxnn_core.datasets import add_intercept
from cvxnn_core.patterns import sample_gates
from cvxnn_core.programs import RELU_SCALE_LIMIT, solve_relu
from cvxnn_core.recovery import relu_network
from cvxnn_core.solvers import decompose_gated, fista_gated, gated_operator_norm

AUTO_CVXPY_SIZE = RELU_SCALE_LIMIT  # solver=None: the ReLU program by Clarabel up to this n d P, the gated route above
GATED_TOL = 1e-4  # default certified relative gap of the gated route


class _ConvexReLUBase(BaseEstimator):
    def __init__(
        self,
        beta: float = 1e-3,
        n_patterns: int = 100,
        solver: str | None = None,
        random_state: int | np.random.RandomState | None = 0,
        fit_intercept: bool = True,
        loss: str = "squared",
        max_time: float | None = None,
        solver_options: Mapping[str, Any] | None = None,
        progress: bool | None = None,
    ) -> None:
        self.beta = beta
        self.n_patterns = n_patterns
        self.solver = solver
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.loss = loss
        self.max_time = max_time
        self.solver_options = solver_options
        self.progress = progress

    def _design(self, X: np.ndarray) -> np.ndarray:
        return add_intercept(X) if self.fit_intercept else X

    def _sample(self, Xd: np.ndarray) -> None:
        """Patterns of ``n_patterns`` Gaussian gates, seeded by ``random_state`` (an int is used as the seed)."""
        n_patterns = check_positive_int(self.n_patterns, "n_patterns")
        if isinstance(self.random_state, int | np.integer) and not isinstance(self.random_state, bool):
            if self.random_state < 0:
                raise ValueError(f"random_state must be a non-negative integer, a RandomState or None, got "
                                 f"{self.random_state!r}")
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        self.patterns_, self.gates_ = sample_gates(Xd, n_patterns, seed=seed)

    def _route(self, Xd: np.ndarray) -> str:
        """``"gated"`` or ``"relu"`` (module docstring), after checking the options of the fit."""
        check_optional_positive(self.max_time, "max_time")
        if self.solver_options is not None and not isinstance(self.solver_options, Mapping):
            raise TypeError(f"solver_options must be a mapping of keyword arguments or None, got "
                            f"{type(self.solver_options).__name__}")
        if self.progress is not None and not isinstance(self.progress, bool | np.bool_):
            raise TypeError(f"progress must be True, False or None (tqdm's default), got {self.progress!r}")
        if self.solver == "gated":
            return "gated"
        if self.solver is None:
            n, d = Xd.shape
            return "relu" if n * d * self.patterns_.shape[1] <= AUTO_CVXPY_SIZE else "gated"
        return "relu"

    def _fit_programs(self, Xd: np.ndarray, targets: list[np.ndarray]) -> None:
        """Solve one program per target column on the shared patterns; sets the learned attributes."""
        beta = check_beta(self.beta)
        self.route_ = self._route(Xd)
        options = dict(self.solver_options or {})
        for key in ("max_time", "lipschitz", "progress"):
            if key in options:
                raise ValueError(f"solver_options must not set {key!r}: the estimator sets it (use the estimator's "
                                 "max_time and progress parameters)")
        if self.route_ == "gated":
            if self.loss not in ("squared", "logistic"):
                raise ValueError(f"loss={self.loss!r} is not available on the gated route (solver='gated', or "
                                 "solver=None on large data): use 'squared' or 'logistic', or name a cvxpy solver")
            fitted = self._fit_gated(Xd, targets, beta, options)
        else:
            first_order = self.solver in ("al", "active_set")
            if options and not first_order:
                chosen = (f"solver={self.solver!r}" if self.solver is not None else
                          f"solver=None, which chose the ReLU program by Clarabel (n d P <= {AUTO_CVXPY_SIZE:.0e})")
                raise ValueError(f"solver_options apply to the first-order solvers ('gated', 'al', 'active_set'), not "
                                 f"to {chosen}; name one of those solvers or drop solver_options")
            if first_order:
                options["progress"] = self.progress
                if self.max_time is not None:
                    options["max_time"] = self.max_time
            fitted = [self._fit_relu(Xd, y, beta, options if first_order else None) for y in targets]
        self.results_ = [result for result, _, _ in fitted]
        self.nets_ = [net for _, net, _ in fitted]
        self.decompositions_ = [split for _, _, split in fitted] if self.route_ == "gated" else None
        self.objectives_ = [float(result.objective) for result in self.results_]
        gaps = [result.gap for result in self.results_]
        self.gap_ = None if any(g is None for g in gaps) else float(max(gaps))
        self.result_, self.net_, self.objective_ = self.results_[0], self.nets_[0], self.objectives_[0]

    def _fit_relu(self, Xd: np.ndarray, y: np.ndarray, beta: float, options: dict | None):
        first_order = options is not None
        result = solve_relu(Xd, y, beta, self.patterns_, loss=self.loss, solver=self.solver, solver_options=options,
                            on_unconverged="warn" if first_order and self.max_time is not None else "raise")
        if first_order and not result.converged:
            warnings.warn(f"the ReLU program stopped before its tolerance (max_time or the iteration cap) with a "
                          f"certified relative gap of {result.gap:.2e}", ConvergenceWarning, stacklevel=4)
        return result, relu_network(result), None

    def _fit_gated(self, Xd: np.ndarray, targets: list[np.ndarray], beta: float, options: dict):
        """The gated route: FISTA per target (one operator norm shared), then the split along the gates."""
        tol = options.pop("tol", GATED_TOL)
        options.setdefault("dtype", "float32" if tol >= 1e-5 else "float64")
        start, fitted = time.perf_counter(), []  # max_time counts the operator norm too
        lipschitz = gated_operator_norm(Xd, self.patterns_, dtype=options["dtype"], device=options.get("device", "cpu"),
                                        threads=options.get("threads"))
        bar = progress_bar(self.progress, total=len(targets), desc="gated programs")
        for k, y in enumerate(targets):
            budget = None
            if self.max_time is not None:
                budget = max((self.max_time - (time.perf_counter() - start)) / (len(targets) - k), 1e-3)
            result = fista_gated(Xd, y, beta, self.patterns_, loss=self.loss, tol=tol, max_time=budget,
                                 lipschitz=max(lipschitz, 1e-300), progress=self.progress, **options)
            split = decompose_gated(Xd, self.patterns_, result.V, gates=self.gates_)
            if split.net is None:  # a sampled gate with a point on its hyperplane (X g = 0 exactly)
                raise ValueError(f"the gated solution has blocks {list(split.no_split)} that cannot be split along "
                                 "their gates (a training point lies on a gate's hyperplane); change random_state")
            fitted.append((result, split.net, split))
            bar.update(1)
            bar.set_postfix(gap=f"{result.gap:.1e}")
        bar.close()
        unconverged = [r.gap for r, _, _ in fitted if not r.converged]
        if unconverged:
            warnings.warn(f"{len(unconverged)} of {len(fitted)} gated programs stopped before tol={tol:g} (max_time "
                          f"or the iteration cap); the largest certified relative gap is {max(unconverged):.2e}",
                          ConvergenceWarning, stacklevel=4)
        return fitted

    def _outputs(self, X: np.ndarray, nets) -> np.ndarray:
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Xd = self._design(X)
        return np.column_stack([net.predict(Xd) for net in nets])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class ConvexReLURegressor(RegressorMixin, _ConvexReLUBase):
    """Two-layer ReLU regression through the convex program (squared loss): the ReLU program's global optimum over
    the sampled patterns, or on the gated route a ReLU network with the gated optimum's predictions."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> ConvexReLURegressor:
        """Solve the convex program on ``(X, y)`` and recover the network. Returns ``self``."""
        check_choice(self.loss, "loss", ("squared",))
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        Xd = self._design(X)
        self._sample(Xd)
        self._fit_programs(Xd, [y])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted targets ``(X W1^T)_+ w2`` (with the intercept column if ``fit_intercept``), shape ``(n,)``."""
        check_is_fitted(self, "nets_")
        return self._outputs(X, [self.net_])[:, 0]


class ConvexReLUClassifier(ClassifierMixin, _ConvexReLUBase):
    """Two-layer ReLU classifier trained through the convex program: binary, or one-vs-rest (module docstring).

    Binary labels map to ``-1`` (``classes_[0]``) and ``+1`` (``classes_[1]``); ``loss`` is ``"squared"``,
    ``"hinge"`` or ``"logistic"``; ``predict`` thresholds the output at 0 (binary) or takes the largest score.
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> ConvexReLUClassifier:
        """Solve the convex program(s) on ``(X, y)`` and recover the network(s). Returns ``self``."""
        check_choice(self.loss, "loss", ("squared", "hinge", "logistic"))
        X, y = validate_data(self, X, y, dtype=np.float64)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if self.classes_.shape[0] < 2:
            raise ValueError(
                f"ConvexReLUClassifier needs at least two classes (binary or multi-class); y has one class "
                f"{self.classes_.tolist()}"
            )
        Xd = self._design(X)
        self._sample(Xd)
        positives = self.classes_[1:] if self.classes_.shape[0] == 2 else self.classes_
        self._fit_programs(Xd, [np.where(y == k, 1.0, -1.0) for k in positives])
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Network outputs: ``(n,)`` for two classes (positive means ``classes_[1]``), else ``(n, K)``."""
        check_is_fitted(self, "nets_")
        scores = self._outputs(X, self.nets_)
        return scores[:, 0] if len(self.nets_) == 1 else scores

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class labels, shape ``(n,)``."""
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores >= 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]

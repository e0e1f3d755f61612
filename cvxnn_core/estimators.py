"""scikit-learn estimators over the convex programs: ``fit`` / ``predict`` / ``score``.

``ConvexReLURegressor`` and ``ConvexReLUClassifier`` sample ``n_patterns`` activation patterns (seeded by
``random_state``), solve :func:`cvxnn_core.programs.solve_relu` and keep the recovered network. Learned
attributes end in ``_``: ``net_`` (:class:`~cvxnn_core.recovery.TwoLayerNet`), ``result_``
(:class:`~cvxnn_core.programs.ConvexResult`), ``patterns_``, ``objective_``, ``n_features_in_``. With
``fit_intercept=True`` a ones column is appended to ``X`` (the bias is penalised like every weight).

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

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from cvxnn_core._validation import check_beta, check_choice, check_positive_int
from cvxnn_core.datasets import add_intercept
from cvxnn_core.patterns import sample_patterns
from cvxnn_core.programs import solve_relu
from cvxnn_core.recovery import relu_network


class _ConvexReLUBase(BaseEstimator):
    def __init__(
        self,
        beta: float = 1e-3,
        n_patterns: int = 100,
        solver: str | None = None,
        random_state: int | np.random.RandomState | None = 0,
        fit_intercept: bool = True,
        loss: str = "squared",
    ) -> None:
        self.beta = beta
        self.n_patterns = n_patterns
        self.solver = solver
        self.random_state = random_state
        self.fit_intercept = fit_intercept
        self.loss = loss

    def _design(self, X: np.ndarray) -> np.ndarray:
        return add_intercept(X) if self.fit_intercept else X

    def _sample(self, Xd: np.ndarray) -> np.ndarray:
        """Patterns of ``n_patterns`` Gaussian gates, seeded by ``random_state`` (an int is used as the seed)."""
        n_patterns = check_positive_int(self.n_patterns, "n_patterns")
        if isinstance(self.random_state, int | np.integer) and not isinstance(self.random_state, bool):
            if self.random_state < 0:
                raise ValueError(f"random_state must be a non-negative integer, a RandomState or None, got "
                                 f"{self.random_state!r}")
            seed = int(self.random_state)
        else:
            seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        return sample_patterns(Xd, n_patterns, seed=seed)

    def _solve(self, Xd: np.ndarray, y: np.ndarray):
        result = solve_relu(Xd, y, check_beta(self.beta), self.patterns_, loss=self.loss, solver=self.solver)
        return result, relu_network(result)

    def _outputs(self, X: np.ndarray, nets) -> np.ndarray:
        X = validate_data(self, X, reset=False, dtype=np.float64)
        Xd = self._design(X)
        return np.column_stack([net.predict(Xd) for net in nets])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


class ConvexReLURegressor(RegressorMixin, _ConvexReLUBase):
    """Two-layer ReLU regression trained globally through the convex program (squared loss)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> ConvexReLURegressor:
        """Solve the convex program on ``(X, y)`` and recover the network. Returns ``self``."""
        check_choice(self.loss, "loss", ("squared",))
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        Xd = self._design(X)
        self.patterns_ = self._sample(Xd)
        self.result_, self.net_ = self._solve(Xd, y)
        self.objective_ = self.result_.objective
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted targets ``(X W1^T)_+ w2`` (with the intercept column if ``fit_intercept``), shape ``(n,)``."""
        check_is_fitted(self, "net_")
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
        self.patterns_ = self._sample(Xd)
        positives = self.classes_[1:] if self.classes_.shape[0] == 2 else self.classes_
        fitted = [self._solve(Xd, np.where(y == k, 1.0, -1.0)) for k in positives]
        self.results_ = [result for result, _ in fitted]
        self.nets_ = [net for _, net in fitted]
        self.objectives_ = [result.objective for result in self.results_]
        self.result_, self.net_, self.objective_ = self.results_[0], self.nets_[0], self.objectives_[0]
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

"""scikit-learn estimators over the convex programs: ``fit`` / ``predict`` / ``score``.

``ConvexReLURegressor`` and ``ConvexReLUClassifier`` sample ``n_patterns`` activation patterns
(seeded by ``seed``), solve :func:`cvxnn_core.programs.solve_relu` and keep the recovered network.
Learned attributes end in ``_``: ``net_`` (:class:`~cvxnn_core.recovery.TwoLayerNet`), ``result_``
(:class:`~cvxnn_core.programs.ConvexResult`), ``patterns_``, ``objective_``. With
``fit_intercept=True`` a ones column is appended to ``X`` (the bias is penalised like every weight).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from cvxnn_core._validation import check_beta, check_choice, check_positive_int, check_seed, check_X, check_X_y
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
        seed: int = 0,
        fit_intercept: bool = True,
        loss: str = "squared",
    ) -> None:
        self.beta = beta
        self.n_patterns = n_patterns
        self.solver = solver
        self.seed = seed
        self.fit_intercept = fit_intercept
        self.loss = loss

    def _design(self, X: np.ndarray) -> np.ndarray:
        X = check_X(X)
        return add_intercept(X) if self.fit_intercept else X

    def _fit_targets(self, X: np.ndarray, y: np.ndarray):
        Xd = self._design(X)
        self.patterns_ = sample_patterns(
            Xd, check_positive_int(self.n_patterns, "n_patterns"), seed=check_seed(self.seed)
        )
        self.result_ = solve_relu(Xd, y, check_beta(self.beta), self.patterns_, loss=self.loss, solver=self.solver)
        self.net_ = relu_network(self.result_)
        self.objective_ = self.result_.objective
        self.n_features_in_ = X.shape[1]
        return self

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Network output ``(X W1^T)_+ w2`` (with the intercept column if ``fit_intercept``)."""
        check_is_fitted(self, "net_")
        X = check_X(X)
        if X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but the model was fitted with {self.n_features_in_}")
        return self.net_.predict(self._design(X))


class ConvexReLURegressor(RegressorMixin, _ConvexReLUBase):
    """Two-layer ReLU regression trained globally through the convex program (squared loss)."""

    def fit(self, X: np.ndarray, y: np.ndarray) -> ConvexReLURegressor:
        """Solve the convex program on ``(X, y)`` and recover the network. Returns ``self``."""
        X, y = check_X_y(X, y)
        check_choice(self.loss, "loss", ("squared",))
        return self._fit_targets(X, y)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted targets, shape ``(n,)``."""
        return self.decision_function(X)


class ConvexReLUClassifier(ClassifierMixin, _ConvexReLUBase):
    """Binary two-layer ReLU classifier trained through the convex program.

    Labels are mapped to ``-1`` (``classes_[0]``) and ``+1`` (``classes_[1]``); ``loss`` is
    ``"squared"``, ``"hinge"`` or ``"logistic"``; ``predict`` thresholds the output at 0.
    """

    def fit(self, X: np.ndarray, y: np.ndarray) -> ConvexReLUClassifier:
        """Solve the convex program on ``(X, y)`` (two classes) and recover the network. Returns ``self``."""
        X = check_X(X)
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(f"y must have shape ({X.shape[0]},), got {y.shape}")
        check_choice(self.loss, "loss", ("squared", "hinge", "logistic"))
        self.classes_ = np.unique(y)
        if self.classes_.shape[0] != 2:
            raise ValueError(
                f"ConvexReLUClassifier is binary; y has {self.classes_.shape[0]} classes {self.classes_[:5].tolist()}"
            )
        return self._fit_targets(X, np.where(y == self.classes_[1], 1.0, -1.0))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class labels, shape ``(n,)``."""
        scores = self.decision_function(X)
        return self.classes_[(scores >= 0).astype(int)]

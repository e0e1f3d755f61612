"""Threshold networks of any depth: ``1[h W_l^T >= 0]`` at every hidden layer, a ones column appended to the input of
every layer after the first (its bias), amplitudes and output weights on the last."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._validation import check_beta, check_X, check_X_y


@dataclass(frozen=True)
class ThresholdNet:
    """``f(X) = 1[h_{L-1} W_L^T >= 0] (s * alpha)`` with ``h_0 = X`` and ``h_l = [1[h_{l-1} W_l^T >= 0], 1]``.

    ``hidden``: the weight matrices ``W_1`` ``(m_1, d)``, ``W_l`` ``(m_l, m_{l-1} + 1)``; ``amplitude`` ``s`` and
    ``output`` ``alpha``, both ``(m_L,)``. Its training objective is ``0.5 ||f(X) - y||^2 + (beta/2) (||s||^2 +
    ||alpha||^2)``: the hidden weights feed thresholds, so their weight decay can be scaled to zero."""

    hidden: tuple[np.ndarray, ...]
    amplitude: np.ndarray
    output: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.hidden, tuple | list) or not self.hidden:
            raise TypeError("hidden must be a non-empty tuple of weights: W_1 (m_1, d), W_2 (m_2, m_1 + 1), ...")
        hidden = tuple(np.asarray(W, dtype=np.float64) for W in self.hidden)
        for i, W in enumerate(hidden):
            if W.ndim != 2 or not np.all(np.isfinite(W)):
                raise ValueError(f"hidden[{i}] must be a finite 2-D array (m_{i + 1}, inputs), got shape {W.shape}")
            if i and W.shape[1] != hidden[i - 1].shape[0] + 1:
                raise ValueError(f"hidden[{i}] must have {hidden[i - 1].shape[0] + 1} columns (the previous layer's "
                                 f"{hidden[i - 1].shape[0]} outputs and a bias), got {W.shape[1]}")
        m = hidden[-1].shape[0]
        s = np.asarray(self.amplitude, dtype=np.float64).reshape(-1)
        a = np.asarray(self.output, dtype=np.float64).reshape(-1)
        if s.shape != (m,) or a.shape != (m,) or not (np.all(np.isfinite(s)) and np.all(np.isfinite(a))):
            raise ValueError(f"amplitude and output must be finite arrays of shape ({m},), one per last hidden neuron; "
                             f"got {s.shape} and {a.shape}")
        object.__setattr__(self, "hidden", hidden)
        object.__setattr__(self, "amplitude", s)
        object.__setattr__(self, "output", a)

    @property
    def width(self) -> int:
        return int(self.hidden[-1].shape[0])

    def features(self, X: np.ndarray) -> np.ndarray:
        """The last hidden layer's outputs ``1[h_{L-1} W_L^T >= 0]``, boolean ``(n, m_L)``."""
        h = check_X(X)
        if h.shape[1] != self.hidden[0].shape[1]:
            raise ValueError(f"X has {h.shape[1]} columns, the network expects {self.hidden[0].shape[1]}")
        for W in self.hidden[:-1]:
            h = np.hstack([(h @ W.T >= 0).astype(np.float64), np.ones((h.shape[0], 1))])
        return h @ self.hidden[-1].T >= 0

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.features(X) @ (self.amplitude * self.output)

    def objective(self, X: np.ndarray, y: np.ndarray, beta: float) -> float:
        """``0.5 ||f(X) - y||^2 + (beta/2) (||s||^2 + ||alpha||^2)``."""
        X, y = check_X_y(X, y)
        beta = check_beta(beta)
        r = self.predict(X) - y
        return float(0.5 * r @ r + 0.5 * beta * (self.amplitude @ self.amplitude + self.output @ self.output))

r"""Three-layer circular CNNs with one ReLU layer: a two-layer program with an l1 norm in the DFT domain.

The network (signals ``x_i`` are the rows of ``X`` ``(n, d)``, no bias): a circular convolution
``C(u) x = u * x`` with ``C(u)[t, s] = u[(t - s) mod d]``, an inner product with ``w2``, a ReLU, and a scalar ``w3``::

    f(X) = sum_j (X C(u_j)^T w2_j)_+ w3_j,    min 0.5 ||f(X) - y||^2 + (beta/2) sum_j (||w2_j||^2 + w3_j^2)
    s.t. ||u_j||_2 <= 1.

Derivation (ours, checked numerically against an independent implementation; the paper's abstract states
an l1-regularised program in the spectral domain). With ``F`` the unitary DFT,
``min {||w2|| : C(u)^T w2 = z, ||u|| <= 1} = ||F z||_1 / sqrt(d)`` (Cauchy-Schwarz on
``F C(u)^T w2 = conj(lambda) o F w2`` with ``lambda = sqrt(d) F u``; equality for
``lambda_k = sqrt(d) (|z^_k| / ||z^||_1)^(1/2)``, real and even, so ``u`` is real). Each neuron is then a two-layer
neuron with effective weight ``z w3`` and penalty ``beta N(z w3)``, ``N(z) = ||F z||_1 / sqrt(d)``, so training is the
two-layer program with ``N`` in place of the Euclidean norm::

    min 0.5 ||sum_i D_i X (v_i - w_i) - y||^2 + (beta / sqrt(d)) sum_i (||F v_i||_1 + ||F w_i||_1)
    s.t. (2 D_i - I) X v_i >= 0, (2 D_i - I) X w_i >= 0,

exact over the complete arrangement (merge same-pattern neurons by the triangle inequality for ``N``; recover with
:func:`circular_relu_network`). Since ``N(z) <= ||z||_2``, its optimum is at most the fully connected one. Weight
decay on all three layers gives a concave ``(.)^(2/3)`` penalty instead, and more than one circular layer gives a
quasi-norm: neither is convex, and neither is built here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cvxnn_core._cvx import SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._shapes import MAX_ENTRIES, check_array, check_seeds, check_size
from cvxnn_core._training import TrainResult, descend_batched, limit_threads, seeded_draws
from cvxnn_core._validation import (
    check_beta,
    check_patterns,
    check_positive_int,
    check_positive_number,
    check_X_y,
)
from cvxnn_core.cnn.circular import circular_convolve

UNIT_ATOL = 1e-6  # slack accepted on ||u_j|| <= 1


def dft_l1(v: np.ndarray) -> np.ndarray:
    """``N(v) = ||F v||_1 / sqrt(d)`` (unitary DFT) of every row of ``v`` ``(P, d)``, or of one ``(d,)`` vector."""
    if np.ndim(v) not in (1, 2):
        raise ValueError(f"v must have shape (d,) or (P, d), got shape {np.shape(v)}")
    v = check_array(v, "v", (None,) * np.ndim(v), labels=("d",) if np.ndim(v) == 1 else ("P", "d"))
    return np.sum(np.abs(np.fft.fft(v, axis=-1, norm="ortho")), axis=-1) / np.sqrt(v.shape[-1])


@dataclass(frozen=True)
class CircularReLUNet:
    """``f(X) = sum_j (X C(u_j)^T w2_j)_+ w3_j``: filters ``U`` ``(m, d)`` (unit norm), ``W2`` ``(m, d)``, ``w3``
    ``(m,)``."""

    U: np.ndarray
    W2: np.ndarray
    w3: np.ndarray

    def __post_init__(self) -> None:
        try:
            U, W2 = np.atleast_2d(np.asarray(self.U, float)), np.atleast_2d(np.asarray(self.W2, float))
            w3 = np.asarray(self.w3, float).reshape(-1)
        except (TypeError, ValueError) as exc:
            raise TypeError("U, W2 (m, d) and w3 (m,) must be numeric arrays") from exc
        if U.ndim != 2 or U.shape != W2.shape or w3.shape != (U.shape[0],):
            raise ValueError(f"U and W2 must be (m, d) and w3 (m,), got {U.shape}, {W2.shape}, {w3.shape}")
        if not (np.all(np.isfinite(U)) and np.all(np.isfinite(W2)) and np.all(np.isfinite(w3))):
            raise ValueError("U, W2 and w3 contain NaN or inf; pass finite weights")
        object.__setattr__(self, "U", U)
        object.__setattr__(self, "W2", W2)
        object.__setattr__(self, "w3", w3)

    @property
    def width(self) -> int:
        """Number of channels ``m``."""
        return int(self.w3.shape[0])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """``f(X)``, shape ``(n,)``."""
        X, _ = check_X_y(X, np.zeros(np.asarray(X).shape[0]))
        if X.shape[1] != self.U.shape[1]:
            raise ValueError(f"X has signals of length {X.shape[1]} but the filters have length {self.U.shape[1]}")
        if self.width == 0:
            return np.zeros(X.shape[0])
        return sum(
            np.maximum(circular_convolve(u, X) @ w, 0.0) * c for u, w, c in zip(self.U, self.W2, self.w3, strict=True)
        )


def circular_relu_objective(X: np.ndarray, y: np.ndarray, net: CircularReLUNet, beta: float) -> float:
    """``0.5 ||f(X) - y||^2 + (beta/2)(||W2||_F^2 + ||w3||^2)``; raises when a filter has ``||u_j|| > 1``."""
    if not isinstance(net, CircularReLUNet):
        raise TypeError(f"net must be a cnn.CircularReLUNet, got {type(net).__name__}")
    X, y = check_X_y(X, y)
    norms = np.linalg.norm(net.U, axis=1)
    if np.any(norms > 1 + UNIT_ATOL):
        raise ValueError(f"filter {int(np.argmax(norms))} has norm {norms.max():.6g} > 1; the model needs ||u_j|| <= 1")
    return float(
        0.5 * np.sum((net.predict(X) - y) ** 2) + 0.5 * check_beta(beta) * (np.sum(net.W2**2) + np.sum(net.w3**2))
    )


@dataclass(frozen=True)
class CircularReLUResult:
    """A solution of the DFT-l1 program: blocks ``V``, ``W`` ``(P, d)``, ``patterns``, ``objective``, ``status``,
    ``solve_time`` (s), ``solver``."""

    V: np.ndarray
    W: np.ndarray
    patterns: np.ndarray = field(repr=False)
    objective: float
    status: str
    solve_time: float
    solver: str

    def active_spectra(self, rtol: float = 1e-6) -> np.ndarray:
        """``|F b|`` (unitary DFT) of the blocks with ``N(b)`` above ``rtol`` times the largest, ``(k, d)``."""
        rtol = check_positive_number(rtol, "rtol")
        B = np.concatenate([self.V, self.W])
        norms = dft_l1(B)
        return np.abs(np.fft.fft(B[norms > rtol * norms.max()], axis=1, norm="ortho"))


def circular_beta_max(X: np.ndarray, y: np.ndarray, patterns: np.ndarray) -> float:
    """The weight decay at and above which the zero network solves the DFT-l1 program (cone-free dual test).

    The dual norm of ``N(v) = ||F v||_1 / sqrt(d)`` is ``N*(g) = sqrt(d) ||F g||_inf`` (attained by real ``v`` with
    ``F v`` on one frequency and its conjugate), so zero is optimal when ``beta >= max_i sqrt(d) ||F X^T D_i y||_inf``:
    the two-layer rule with ``N`` in place of the Euclidean norm.
    """
    X, y = check_X_y(X, y)
    D = check_patterns(patterns, X.shape[0])
    G = X.T @ (D * y[:, None])  # (d, P): column i is X^T D_i y
    spectra = np.abs(np.fft.fft(G, axis=0, norm="ortho"))
    return float(np.sqrt(X.shape[1]) * spectra.max(initial=0.0))


def solve_circular_relu(
    X: np.ndarray, y: np.ndarray, beta: float, patterns: np.ndarray, *, solver: str | None = None
) -> CircularReLUResult:
    """Solve the DFT-l1 two-layer program of the module docstring over ``patterns`` ``(n, P)`` (squared loss).

    At ``beta >= circular_beta_max(X, y, patterns)`` the zero network is returned without a solver (``solver`` says
    so); a solver's point no better than zero is replaced by the exact zero network."""
    import cvxpy as cp

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    D = check_patterns(patterns, X.shape[0])
    solver = check_solver(solver)
    d, P = X.shape[1], D.shape[1]
    zero = np.zeros((P, d))
    if beta >= circular_beta_max(X, y, D):
        return CircularReLUResult(zero, zero, D, 0.5 * float(y @ y), "optimal", 0.0,
                                  "none: beta >= beta_max, the zero network is optimal")
    F = np.fft.fft(np.eye(d), axis=0, norm="ortho")
    Fr, Fi = F.real, F.imag
    V, W = cp.Variable((d, P)), cp.Variable((d, P))
    Dm = D.astype(np.float64)
    fit = cp.sum(cp.multiply(Dm, X @ (V - W)), axis=1)
    S = 2 * Dm - 1
    reg = 0
    for Z in (V, W):
        for k in range(d):
            reg = reg + cp.sum(cp.norm(cp.vstack([Fr[k] @ Z, Fi[k] @ Z]), 2, axis=0))
    problem = cp.Problem(
        cp.Minimize(0.5 * cp.sum_squares(fit - y) + beta / np.sqrt(d) * reg),
        [cp.multiply(S, X @ V) >= 0, cp.multiply(S, X @ W) >= 0],
    )
    status, elapsed = run_problem(problem, solver, SOLVER_OPTIONS.get(solver), what=" on the circular ReLU CNN program")
    Vv, Wv = np.asarray(V.value).T, np.asarray(W.value).T
    f = np.sum(D * (X @ (Vv - Wv).T), axis=1)
    obj = 0.5 * float(np.sum((f - y) ** 2)) + beta * float(np.sum(dft_l1(Vv)) + np.sum(dft_l1(Wv)))
    if 0.5 * float(y @ y) <= obj:
        return CircularReLUResult(zero, zero, D, 0.5 * float(y @ y), status, elapsed,
                                  f"{solver}: no point better than the zero network")
    return CircularReLUResult(Vv, Wv, D, obj, status, elapsed, solver)


def _channel(v: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(u, w2, a)`` with ``||u|| = 1``, ``C(u)^T w2 = v / a`` and ``||w2|| = a = sqrt(N(v))`` (balanced)."""
    d = v.shape[0]
    s = float(dft_l1(v))
    a = np.sqrt(s)
    z_hat = np.fft.fft(v / a, norm="ortho")
    lam = np.sqrt(d) * np.sqrt(np.abs(z_hat) / np.sum(np.abs(z_hat)))  # real and even
    u = np.real(np.fft.ifft(lam, norm="ortho")) / np.sqrt(d)
    w2_hat = np.where(lam > 0, z_hat / np.where(lam > 0, lam, 1.0), 0.0)
    return u, np.real(np.fft.ifft(w2_hat, norm="ortho")), a


def circular_relu_network(result: CircularReLUResult, *, rtol: float = 1e-10) -> CircularReLUNet:
    """The CNN of a program solution: one channel per block ``b`` with ``N(b) > rtol * max N``: unit filter ``u``,
    ``w2`` with ``C(u)^T w2 = b / sqrt(N(b))`` and ``w3 = +-sqrt(N(b))`` (``+`` for ``V``, ``-`` for ``W``); its weight
    decay is ``beta N(b)``, so the CNN attains the program's objective."""
    if not isinstance(result, CircularReLUResult):
        raise TypeError(f"result must be a cnn.CircularReLUResult (from solve_circular_relu), got "
                        f"{type(result).__name__}")
    rtol = check_positive_number(rtol, "rtol")
    blocks = np.concatenate([result.V, result.W])
    signs = np.r_[np.ones(len(result.V)), -np.ones(len(result.W))]
    norms = dft_l1(blocks)
    U, W2, w3 = [], [], []
    for b, s in zip(blocks[norms > rtol * norms.max()], signs[norms > rtol * norms.max()], strict=True):
        u, w2, a = _channel(b)
        U.append(u)
        W2.append(w2)
        w3.append(s * a)
    d = blocks.shape[1]
    return CircularReLUNet(np.array(U).reshape(-1, d), np.array(W2).reshape(-1, d), np.array(w3))


def train_circular_relu(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    width: int,
    *,
    seeds: tuple[int, ...] | list[int] = (0,),
    lr: float = 1e-2,
    lr_end: float = 1e-4,
    epochs: int = 5000,
    threads: int | None = 1,
    max_entries: int = MAX_ENTRIES,
) -> list[TrainResult]:
    """Adam on the circular CNN (filters ``u = v / ||v||``), all ``seeds`` batched, step decaying from ``lr`` to
    ``lr_end``; one :class:`TrainResult` per seed with the exact objective after every epoch. The batched
    convolution tensor has ``S m d^2`` entries (``S`` seeds), refused above ``max_entries``."""
    import torch

    X, y = check_X_y(X, y)
    beta = check_beta(beta)
    m = check_positive_int(width, "width")
    epochs = check_positive_int(epochs, "epochs")
    lr, lr_end = check_positive_number(lr, "lr"), check_positive_number(lr_end, "lr_end")
    if lr_end > lr:
        raise ValueError(f"lr_end must be <= lr (the step decays from lr to lr_end), got lr={lr}, lr_end={lr_end}")
    seeds = check_seeds(seeds)
    n, d = X.shape
    check_size(len(seeds) * m * d * d, check_positive_int(max_entries, "max_entries"),
               what="batched convolution tensors, entries", keyword="max_entries",
               alternative="train fewer seeds or channels at once")
    idx = torch.as_tensor((np.arange(d)[:, None] - np.arange(d)[None, :]) % d)
    with limit_threads(threads):
        Xt, yt = torch.as_tensor(X), torch.as_tensor(y)
        V, W2, w3 = seeded_draws(seeds, [(m, d), (m, d), (m,)], [1.0, 0.5, 0.5])

        def objectives() -> torch.Tensor:
            U = V / V.norm(dim=2, keepdim=True)
            z = torch.einsum("smtc,smt->smc", U[:, :, idx], W2)  # C(u)^T w2
            f = torch.einsum("smn,sm->sn", torch.relu(torch.einsum("nd,smd->smn", Xt, z)), w3)
            return 0.5 * ((f - yt) ** 2).sum(1) + 0.5 * beta * (W2.pow(2).sum((1, 2)) + w3.pow(2).sum(1))

        initial, history, elapsed = descend_batched([V, W2, w3], objectives, optimizer="adam", lr=lr,
                                                    lr_end=lr_end, epochs=epochs)
        with torch.no_grad():
            U = (V / V.norm(dim=2, keepdim=True)).numpy().copy()
    return [
        TrainResult(
            CircularReLUNet(U[r], W2.detach().numpy()[r].copy(), w3.detach().numpy()[r].copy()),
            history[r].copy(),
            float(initial[r]),
            elapsed / len(seeds),
            "adam",
            lr,
            s,
        )
        for r, s in enumerate(seeds)
    ]

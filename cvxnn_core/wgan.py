r"""Wasserstein GANs with two-layer discriminators: a closed form for quadratic activations, a convex program for ReLU.

Our derivation from the abstract of Sahiner et al. (ICLR 2022, arXiv 2107.05680); the paper's normalisations may differ.

Quadratic discriminator
-----------------------
Data ``X`` ``(n, d)`` (centred by the caller), a linear generator ``g = W^T z`` with ``z ~ N(0, I_k)``, and a
discriminator ``D(x) = sum_j alpha_j (u_j^T x)^2 = x^T S x`` with unit ``u_j`` and penalty ``beta sum_j |alpha_j|``,
whose least value over the representations of ``S`` is ``beta ||S||_*``. The WGAN objective is

    min_W (1/2) ||W||_F^2 + max_S <S, Sigma_x - W^T W> - beta ||S||_*,       Sigma_x = X^T X / n,

and the inner maximum is ``0`` when ``||Sigma_x - W^T W||_2 <= beta`` and ``+inf`` otherwise (the dual of the nuclear
norm is the spectral norm). So the generator solves ``min tr(M) / 2`` over ``M = W^T W >= 0`` with
``||Sigma_x - M||_2 <= beta`` (an SDP, :func:`quadratic_wgan_program`). By Weyl's inequality every feasible ``M`` has
``lambda_i(M) >= (lambda_i(Sigma_x) - beta)_+``, and the **soft-thresholded eigen-decomposition**
``M* = V diag((lambda - beta)_+) V^T`` attains it (:func:`quadratic_wgan_closed_form`): the generator keeps the
data's leading eigen-directions, each shrunk by ``beta``, and needs latent dimension ``k >= #{lambda_i > beta}``.

ReLU discriminator (sampled directions)
---------------------------------------
With ``D(x) = sum_s alpha_s (u_s^T x)_+`` over fixed unit directions ``u_s`` (sampled) and penalty
``beta sum |alpha_s|``, the game is linear in ``alpha``: the generator must satisfy
``|c_s - g_s(W)| <= beta`` for every direction, with ``c_s = mean_i (u_s^T x_i)_+`` and
``g_s(W) = mean_j (u_s^T W^T z_j)_+`` over a fixed latent batch ``Z`` ``(m, k)``. Fixing the activation pattern
``P_s = 1[Z W u_s >= 0]`` of the generated samples makes ``g_s`` linear and the problem convex
(:func:`relu_wgan_program`): a restriction whose solution satisfies every sampled constraint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cvxnn_core._cvx import SDP_SOLVER_OPTIONS, SOLVER_OPTIONS, check_solver, run_problem
from cvxnn_core._shapes import check_array, check_bool_array
from cvxnn_core._training import limit_threads
from cvxnn_core._validation import check_beta, check_positive_int, check_positive_number, check_seed, check_X


def second_moment(X: np.ndarray) -> np.ndarray:
    """``X^T X / n``."""
    X = check_X(X)
    return X.T @ X / X.shape[0]


@dataclass(frozen=True)
class QuadraticWGAN:
    """The closed-form generator: ``W`` ``(k, d)``, ``M = W^T W``, ``eigenvalues`` of ``Sigma_x`` (descending),
    ``generator_eigenvalues`` ``(lambda - beta)_+``, ``value`` ``(1/2) ||W||_F^2``, ``beta``."""

    W: np.ndarray
    M: np.ndarray
    eigenvalues: np.ndarray
    generator_eigenvalues: np.ndarray
    value: float
    beta: float

    def sample(self, m: int, *, seed: int = 0) -> np.ndarray:
        """``m`` generated samples ``Z W`` with ``Z ~ N(0, I_k)``, shape ``(m, d)``."""
        rng = np.random.default_rng(check_seed(seed))
        return rng.standard_normal((check_positive_int(m, "m"), self.W.shape[0])) @ self.W


def quadratic_wgan_closed_form(X: np.ndarray, beta: float, *, latent_dim: int | None = None) -> QuadraticWGAN:
    """Soft-threshold the eigenvalues of ``Sigma_x`` (module docstring). ``latent_dim`` ``k`` (default: the number of
    eigenvalues above ``beta``) must be at least that number, else the constraint cannot be met: ``ValueError``."""
    X = check_X(X)
    beta = check_beta(beta)
    lam, V = np.linalg.eigh(second_moment(X))
    lam, V = lam[::-1], V[:, ::-1]
    t = np.maximum(lam - beta, 0.0)
    r = int(np.sum(t > 0))
    k = max(r, 1) if latent_dim is None else check_positive_int(latent_dim, "latent_dim")
    if k < r:
        raise ValueError(f"latent_dim = {k} is below the {r} eigenvalues of Sigma_x above beta; the discriminator wins "
                         f"against every generator of that size. Use latent_dim >= {r} or a larger beta")
    W = np.zeros((k, X.shape[1]))
    W[:r] = np.sqrt(t[:r])[:, None] * V[:, :r].T
    return QuadraticWGAN(W, W.T @ W, lam, t, 0.5 * float(np.sum(t)), beta)


def quadratic_wgan_program(X: np.ndarray, beta: float, *, solver: str | None = None) -> tuple[float, np.ndarray]:
    """The generator's SDP ``min tr(M) / 2  s.t.  M >= 0, ||Sigma_x - M||_2 <= beta`` (cvxpy); ``(value, M)``."""
    import cvxpy as cp

    X = check_X(X)
    beta = check_beta(beta)
    solver = check_solver(solver)
    d = X.shape[1]
    M = cp.Variable((d, d), PSD=True)
    E = second_moment(X) - M
    problem = cp.Problem(cp.Minimize(0.5 * cp.trace(M)),
                         [E - beta * np.eye(d) << 0, E + beta * np.eye(d) >> 0])
    run_problem(problem, solver, SDP_SOLVER_OPTIONS.get(solver), what=" on the quadratic WGAN program")
    return float(problem.value), np.asarray(M.value)


def discriminator_advantage(X: np.ndarray, M: np.ndarray) -> float:
    """``||Sigma_x - M||_2`` for a generated second moment ``M = W^T W`` ``(d, d)`` (symmetric): the generator is
    optimal for the inner game iff this is at most ``beta``."""
    X = check_X(X)
    d = X.shape[1]
    M = check_array(M, "M", (d, d), labels=("d", "d"))
    if not np.allclose(M, M.T, rtol=1e-10, atol=1e-12 * max(1.0, float(np.abs(M).max()))):
        raise ValueError("M must be symmetric (the generator's second moment M = W.T @ W); did you pass W itself?")
    return float(np.linalg.norm(second_moment(X) - M, 2))


def gda_quadratic(
    X: np.ndarray, beta: float, latent_dim: int, *, discriminator_width: int = 8, steps: int = 3000,
    lr_generator: float = 0.01, lr_discriminator: float = 0.01, init_scale: float = 0.1, seed: int = 0,
    W0: np.ndarray | None = None, threads: int | None = 1,
) -> dict[str, np.ndarray]:
    """Simultaneous gradient descent-ascent on the non-convex game of the module docstring: generator ``W``
    ``(k, d)``, discriminator ``alpha_j (u_j^T x)^2`` with ``u_j = v_j / ||v_j||``; the generated second moment is the
    exact expectation ``W^T W``. The generator starts at ``W0`` if given (else ``init_scale * N(0, 1)``), the
    discriminator at random unit directions with ``alpha = 0``. A run that diverges stops there (the rest of its
    arrays is NaN). Returns per-step arrays ``objective`` (``||W||^2/2 + <S, Sigma_x - W^T W> - beta ||alpha||_1``),
    ``generator_value`` (``||W||^2 / 2``) and ``advantage`` (``||Sigma_x - W^T W||_2``), and ``M_average`` ``(d, d)``:
    the mean generated second moment ``W^T W`` over the second half of the steps (the ergodic average of a
    primal-dual method, which can settle where the iterates oscillate; over the finite steps of that half if the run
    diverged in it, NaN if it diverged before)."""
    import torch

    X = check_X(X)
    beta = check_beta(beta)
    k = check_positive_int(latent_dim, "latent_dim")
    m = check_positive_int(discriminator_width, "discriminator_width")
    steps = check_positive_int(steps, "steps")
    lr_g = check_positive_number(lr_generator, "lr_generator")
    lr_d = check_positive_number(lr_discriminator, "lr_discriminator")
    init_scale = check_positive_number(init_scale, "init_scale")
    d = X.shape[1]
    if W0 is not None:
        W0 = check_array(W0, "W0", (k, d), labels=("k", "d"), fix="latent_dim rows, one column per feature of X")
    out = {key: np.empty(steps) for key in ("objective", "generator_value", "advantage")}
    M_sum, averaged = np.zeros((d, d)), 0
    with limit_threads(threads):
        gen = torch.Generator().manual_seed(check_seed(seed))
        Sx = torch.as_tensor(second_moment(X))
        W = (init_scale * torch.randn(k, d, generator=gen, dtype=torch.float64)).requires_grad_()
        if W0 is not None:
            W = torch.as_tensor(W0).clone().requires_grad_()
        V = torch.randn(m, d, generator=gen, dtype=torch.float64).requires_grad_()
        alpha = torch.zeros(m, dtype=torch.float64, requires_grad=True)
        for step in range(steps):
            U = V / V.norm(dim=1, keepdim=True)
            S = (U.T * alpha) @ U
            M = W.T @ W
            game = (S * (Sx - M)).sum() - beta * alpha.abs().sum()
            objective = 0.5 * (W**2).sum() + game
            if not bool(torch.isfinite(objective)):
                for key in out:
                    out[key][step:] = np.nan
                break
            gW, gV, ga = torch.autograd.grad(objective, (W, V, alpha))
            with torch.no_grad():
                W -= lr_g * gW
                V += lr_d * gV
                alpha += lr_d * ga
                out["objective"][step] = float(objective)
                out["generator_value"][step] = float(0.5 * (W**2).sum())
                M_now = W.T @ W
                out["advantage"][step] = float(torch.linalg.matrix_norm(Sx - M_now, ord=2))
                if step >= steps // 2:
                    M_sum += M_now.numpy()
                    averaged += 1
    out["M_average"] = M_sum / averaged if averaged else np.full((d, d), np.nan)
    return out


def relu_direction_means(X: np.ndarray, U: np.ndarray) -> np.ndarray:
    """``c_s = mean_i (u_s^T x_i)_+`` for every direction (rows of ``U`` ``(S, d)``), ``(S,)``."""
    X = check_X(X)
    return np.maximum(X @ _check_directions(U, X.shape[1]).T, 0.0).mean(axis=0)


def _check_directions(U: object, d: int) -> np.ndarray:
    return check_array(U, "U", (None, d), labels=("S", "d"), fix="one direction per row, in the data's dimension")


@dataclass(frozen=True)
class ReLUWGAN:
    """Solution of :func:`relu_wgan_program`: ``W`` ``(k, d)``, ``value`` ``(1/2) ||W||^2``, ``advantage``
    ``max_s |c_s - g_s(W)|`` (at most ``beta`` up to solver accuracy), ``status``, ``solve_time`` (s)."""

    W: np.ndarray
    value: float
    advantage: float
    status: str
    solve_time: float


def relu_wgan_program(X: np.ndarray, Z: np.ndarray, U: np.ndarray, beta: float, patterns: np.ndarray, *,
                      solver: str | None = None) -> ReLUWGAN:
    """``min (1/2) ||W||^2`` over linear generators ``G = Z W`` whose generated samples keep the activation
    ``patterns`` ``(m, S)`` on the directions ``U`` ``(S, d)`` (``(2 P - 1) o (Z W U^T) >= 0``) and satisfy every
    sampled discriminator constraint ``|c_s - mean_j P[j, s] (Z W u_s)_j| <= beta`` (cvxpy)."""
    import cvxpy as cp

    X = check_X(X)
    Z = check_X(Z, "Z")
    U = _check_directions(U, X.shape[1])
    beta = check_beta(beta)
    P = check_bool_array(patterns, "patterns", (Z.shape[0], U.shape[0]), labels=("m", "S")).astype(np.float64)
    solver = check_solver(solver)
    c = relu_direction_means(X, U)
    W = cp.Variable((Z.shape[1], X.shape[1]))
    H = Z @ W @ U.T
    g = cp.sum(cp.multiply(P, H), axis=0) / Z.shape[0]
    problem = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(W)),
                         [cp.multiply(2 * P - 1, H) >= 0, cp.abs(c - g) <= beta])
    status, elapsed = run_problem(problem, solver, SOLVER_OPTIONS.get(solver), what=" on the ReLU WGAN program")
    Wv = np.asarray(W.value)
    adv = float(np.max(np.abs(c - np.maximum(Z @ Wv @ U.T, 0.0).mean(axis=0))))
    return ReLUWGAN(Wv, 0.5 * float(np.sum(Wv**2)), adv, status, elapsed)


def gda_relu(
    X: np.ndarray, Z: np.ndarray, U: np.ndarray, beta: float, W0: np.ndarray, *, steps: int = 3000,
    lr_generator: float = 0.01, lr_discriminator: float = 0.01, threads: int | None = 1,
) -> dict[str, np.ndarray]:
    """Simultaneous GDA on ``(1/2)||W||^2 + sum_s alpha_s (c_s - g_s(W)) - beta ||alpha||_1`` from ``W0`` and
    ``alpha = 0``; returns per-step ``objective``, ``generator_value`` and ``advantage`` (``max_s |c_s - g_s(W)|``),
    NaN after a divergence, and ``W``, the last finite generator."""
    import torch

    X, Z = check_X(X), check_X(Z, "Z")
    U = _check_directions(U, X.shape[1])
    W0 = check_array(W0, "W0", (Z.shape[1], X.shape[1]), labels=("k", "d"),
                     fix="one row per latent coordinate of Z, one column per feature of X")
    beta = check_beta(beta)
    steps = check_positive_int(steps, "steps")
    lr_g = check_positive_number(lr_generator, "lr_generator")
    lr_d = check_positive_number(lr_discriminator, "lr_discriminator")
    out = {key: np.empty(steps) for key in ("objective", "generator_value", "advantage")}
    with limit_threads(threads):
        c = torch.as_tensor(relu_direction_means(X, U))
        Zt, Ut = torch.as_tensor(Z), torch.as_tensor(U)
        W = torch.as_tensor(W0).clone().requires_grad_()
        last = W.detach().numpy().copy()
        alpha = torch.zeros(U.shape[0], dtype=torch.float64, requires_grad=True)
        for step in range(steps):
            g = torch.relu(Zt @ W @ Ut.T).mean(dim=0)
            objective = 0.5 * (W**2).sum() + (alpha * (c - g)).sum() - beta * alpha.abs().sum()
            if not bool(torch.isfinite(objective)):
                for key in out:
                    out[key][step:] = np.nan
                break
            gW, ga = torch.autograd.grad(objective, (W, alpha))
            with torch.no_grad():
                W -= lr_g * gW
                alpha += lr_d * ga
                out["objective"][step] = float(objective)
                out["generator_value"][step] = float(0.5 * (W**2).sum())
                out["advantage"][step] = float((c - torch.relu(Zt @ W @ Ut.T).mean(dim=0)).abs().max())
                last = W.detach().numpy().copy()
    out["W"] = last
    return out

r"""The ReLU program by ADMM with Nystrom-preconditioned conjugate gradients (CRONOS: Feng, Frangella & Pilanci,
NeurIPS 2024), with the package's certified stopping rule.

Blocks ``u = [v_1..v_P, w_1..w_P]`` ``(2P, d)``, the fit ``F u = sum_i D_i X (v_i - w_i)`` and the cone map
``G u = [(2 D_i - I) X u_i]_i`` ``(n, 2P)``. The program ``min 0.5 ||F u - y||^2 + beta sum_i ||u_i||`` s.t.
``G u >= 0`` is split as ``u = z`` (group-sparse copy) and ``G u = s >= 0``; with scaled duals ``lambda``, ``nu``
and penalty ``rho`` one iteration is (the public code's ``cronos_step``)::

    u <- solve (I + F^T F / rho + G^T G) u = F^T y / rho + z - lambda + G^T (s - nu)      (PCG)
    z <- group soft-threshold(u + lambda, beta / rho)
    s <- max(G u + nu, 0)
    lambda <- lambda + u - z,   nu <- nu + G u - s

``G^T G`` is block diagonal with the same ``X^T X`` in every block (``(2D_i - I)^2 = I``). The linear system is
solved inexactly by conjugate gradients, with tolerance ``(1 + k)^{-1.2}`` times the right-hand side's norm at
iteration ``k`` (summable, as in the public code), preconditioned by a randomized Nystrom approximation of rank ``r``
of ``K = F^T F / rho + G^T G`` (Frangella, Tropp & Udell 2023): ``K ~ U diag(l) U^T`` from ``K Omega`` with an
orthonormal Gaussian ``Omega`` ``(2Pd, r)``, applied as ``P^{-1} = (l_r + 1) U (diag(l) + I)^{-1} U^T +
(I - U U^T)``.

Every ``certify_every`` iterations the copy ``z`` is made feasible (violating blocks projected onto their cones)
and certified as in :func:`cvxnn_core.solvers.al_relu`: the residual ``y - F z`` with the cone multipliers
``mu = (-rho nu)_+`` gives a Lagrangian lower bound, and the solve stops when the relative gap is ``<= tol``.
Squared loss; the public code's early stopping on validation accuracy is left to the caller (``max_iters``).
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch

from cvxnn_core._shapes import check_optional_positive
from cvxnn_core._training import limit_threads, progress_bar
from cvxnn_core._validation import check_positive_int, check_positive_number, check_torch_device, check_torch_dtype
from cvxnn_core.duality import relative_gap
from cvxnn_core.solvers.fista import FirstOrderResult, _power_iteration, _prepare
from cvxnn_core.solvers.operators import gated_adjoint, gated_forward
from cvxnn_core.solvers.relu_al import _append, _relative_violation, feasible_point, relu_certificate

PCG_TOL_DECAY = 1.2  # PCG tolerance (1 + k)^-1.2 relative to the right-hand side at ADMM iteration k
DEFAULT_RHO_FRACTION = 0.1  # default rho: this fraction of ||F^T F|| (the loss curvature)


class _Operators:
    """``F``, ``F^T``, ``G``, ``G^T`` and the system ``A = I + F^T F / rho + G^T G`` on ``(2P, d)`` tensors."""

    def __init__(self, X: torch.Tensor, D: torch.Tensor, rho: float):
        self.X, self.D, self.rho = X, D, rho
        self.P = D.shape[1]
        self.scale = 1.0 / float(torch.linalg.matrix_norm(X, ord=2))  # G scaled to norm 1, like the copy u = z
        self.S2 = torch.cat([2.0 * D - 1.0, 2.0 * D - 1.0], dim=1) * self.scale
        self.XtX = (X.T @ X) * self.scale**2

    def F(self, Z: torch.Tensor) -> torch.Tensor:
        return gated_forward(self.X, self.D, Z[: self.P] - Z[self.P :])

    def Ft(self, r: torch.Tensor) -> torch.Tensor:
        g = gated_adjoint(self.X, self.D, r)
        return torch.cat([g, -g])

    def G(self, Z: torch.Tensor) -> torch.Tensor:
        return self.S2 * (self.X @ Z.T)

    def Gt(self, M: torch.Tensor) -> torch.Tensor:
        return (self.S2 * M).T @ self.X

    def FtF(self, Z: torch.Tensor) -> torch.Tensor:
        return self.Ft(self.F(Z))

    def K(self, Z: torch.Tensor) -> torch.Tensor:
        return self.FtF(Z) / self.rho + Z @ self.XtX

    def A(self, Z: torch.Tensor) -> torch.Tensor:
        return Z + self.K(Z)


def _nystrom(ops: _Operators, shape: tuple[int, int], rank: int, gen: torch.Generator, like: torch.Tensor):
    """``(U (N, r), l (r,))`` with ``K ~ U diag(l) U^T`` from ``Y = K Omega`` for an orthonormal Gaussian ``Omega``
    ``(N, r)`` (with a small shift for stability)."""
    N = shape[0] * shape[1]
    Omega = torch.randn(N, rank, generator=gen, dtype=torch.float64).to(dtype=like.dtype, device=like.device)
    Omega, _ = torch.linalg.qr(Omega)
    Y = torch.stack([ops.K(Omega[:, j].reshape(shape)).reshape(-1) for j in range(rank)], dim=1)
    shift = math.sqrt(N) * torch.finfo(Y.dtype).eps * float(torch.linalg.matrix_norm(Y))
    Y = Y + shift * Omega
    C = torch.linalg.cholesky(Omega.T @ Y)
    B = torch.linalg.solve_triangular(C, Y.T, upper=False).T  # Y C^{-T}
    U, sv, _ = torch.linalg.svd(B, full_matrices=False)
    return U, torch.clamp(sv**2 - shift, min=0.0)


def _pcg(ops: _Operators, b: torch.Tensor, x0: torch.Tensor, precond, tol: float, max_iters: int):
    """Preconditioned conjugate gradients on ``A x = b`` from ``x0``; stops at ``||r|| <= tol``."""
    x = x0.clone()
    r = b - ops.A(x)
    z = precond(r)
    p = z.clone()
    rz = torch.sum(r * z)
    for _ in range(max_iters):
        if float(torch.linalg.vector_norm(r)) <= tol:
            break
        Ap = ops.A(p)
        alpha = rz / torch.sum(p * Ap)
        x = x + alpha * p
        r = r - alpha * Ap
        z = precond(r)
        rz_new = torch.sum(r * z)
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x


def admm_relu(
    X: np.ndarray,
    y: np.ndarray,
    beta: float,
    patterns: np.ndarray,
    *,
    rho: float | None = None,
    rank: int = 10,
    pcg_iters: int = 20,
    tol: float = 1e-6,
    max_iters: int = 2000,
    max_time: float | None = None,
    certify_every: int = 50,
    device: str = "cpu",
    dtype: torch.dtype | str = torch.float64,
    seed: int = 0,
    threads: int | None = None,
    progress: bool | None = None,
) -> FirstOrderResult:
    """Solve the cone-constrained ReLU program (squared loss) by CRONOS's ADMM (module docstring).

    Args:
        X, y, beta, patterns: the program (scalar targets).
        rho: ADMM penalty (fixed, as in CRONOS); default a tenth of ``||F^T F||`` (power iteration). The cone map is
            scaled by ``1 / ||X||_2`` so that both copies are on the scale of ``u`` (residual balancing of ``rho``
            made convergence worse in our tests and is not used).
        rank: rank of the Nystrom preconditioner; pcg_iters: cap on conjugate-gradient steps per ADMM iteration.
        tol: target relative duality gap of the returned feasible point; max_iters: cap on ADMM iterations;
            max_time: wall-clock cap in seconds (checked every iteration); certify_every: iterations between
            certificates.
        device, dtype, seed, threads, progress: as in :func:`fista_gated` (``seed`` draws the Nystrom sketch).
    """
    X, y, beta, patterns, loss, tol, max_iters, seed = _prepare(
        X, y, beta, patterns, "squared", tol, max_iters, seed, allow_2d=False
    )
    if rho is not None:
        rho = check_positive_number(rho, "rho")
    rank = check_positive_int(rank, "rank")
    pcg_iters = check_positive_int(pcg_iters, "pcg_iters")
    certify_every = check_positive_int(certify_every, "certify_every")
    max_time = check_optional_positive(max_time, "max_time")
    dev, dt = check_torch_device(device), check_torch_dtype(dtype)
    n, d = X.shape
    P = patterns.shape[1]
    if rank > 2 * P * d:
        raise ValueError(f"rank = {rank} exceeds the 2 P d = {2 * P * d} variables; use a rank below it")
    start = time.perf_counter()
    history: dict[str, list[float]] = {k: [] for k in ("time", "iteration", "objective", "lower_bound", "gap",
                                                       "violation")}
    best, best_dual = (math.inf, np.zeros((2 * P, d))), (-math.inf, np.zeros(n))
    with limit_threads(threads):
        Xt = torch.as_tensor(X, dtype=dt, device=dev)
        ops = _Operators(Xt, torch.as_tensor(patterns, device=dev).to(dt), 1.0)
        if rho is None:
            rho = _power_iteration(ops.FtF, (2 * P, d), iters=20, seed=seed, like=Xt) * DEFAULT_RHO_FRACTION
        ops.rho = float(rho)
        U, lam_hat = _nystrom(ops, (2 * P, d), rank, torch.Generator(device="cpu").manual_seed(seed), Xt)
        yt = torch.as_tensor(y, dtype=dt, device=dev)
        Fty = ops.Ft(yt)
        u = torch.zeros((2 * P, d), dtype=dt, device=dev)
        z, lam = u.clone(), u.clone()
        s = torch.zeros((n, 2 * P), dtype=dt, device=dev)
        nu = s.clone()
        converged, k = False, 0
        bar = progress_bar(progress, total=max_iters, desc="ADMM (ReLU)")
        floor = float(lam_hat[-1])

        def precond(R: torch.Tensor) -> torch.Tensor:
            r = R.reshape(-1)
            coef = U.T @ r
            return (r - U @ coef + (floor + 1.0) * (U @ (coef / (lam_hat + 1.0)))).reshape(R.shape)

        while k < max_iters and not converged:
            if max_time is not None and time.perf_counter() - start > max_time and np.isfinite(best[0]):
                break
            k += 1

            rhs = Fty / ops.rho + z - lam + ops.Gt(s - nu)
            u = _pcg(ops, rhs, u, precond, float(torch.linalg.vector_norm(rhs)) * (1.0 + k) ** -PCG_TOL_DECAY,
                     pcg_iters)
            q = u + lam
            norms = torch.linalg.vector_norm(q, dim=1, keepdim=True)
            z = torch.clamp(1.0 - (beta / ops.rho) / torch.clamp(norms, min=1e-300), min=0.0) * q
            Gu = ops.G(u)
            s = torch.clamp(Gu + nu, min=0.0)
            lam = lam + u - z
            nu = nu + Gu - s
            bar.update(1)
            last = k == max_iters or (max_time is not None and time.perf_counter() - start > max_time)
            if k % certify_every == 0 or last:
                Z = z.detach().cpu().double().numpy()
                Zf = feasible_point(X, patterns, Z)
                mu = torch.clamp(-ops.rho * ops.scale * nu, min=0.0).detach().cpu().double().numpy()
                primal, lower, dual = relu_certificate(X, y, patterns, Zf[:P], Zf[P:], beta, loss, multipliers=mu)
                if primal < best[0]:
                    best = (primal, Zf)
                if lower > best_dual[0]:
                    best_dual = (lower, dual)
                _append(history, time.perf_counter() - start, k, best[0], best_dual[0],
                        _relative_violation(X, patterns, Z))
                gap = relative_gap(best[0], best_dual[0])
                bar.set_postfix(gap=f"{gap:.2e}", rho=f"{ops.rho:.3g}")
                converged = gap <= tol
        bar.close()
    (primal, Zf), (lower, dual) = best, best_dual
    return FirstOrderResult(
        kind="relu", V=Zf[:P], W=Zf[P:], objective=primal, lower_bound=lower, gap=relative_gap(primal, lower),
        violation=_relative_violation(X, patterns, Zf), iterations=k, outer_iterations=k,
        solve_time=time.perf_counter() - start, converged=converged, solver="ADMM", device=str(dev),
        dtype=str(dt).replace("torch.", ""), dual=dual, history={key: np.asarray(v) for key, v in history.items()},
    )
